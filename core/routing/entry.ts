// The shapes the routing table stores and hands out, and their conversion to the public DTOs.
import type { BucketInfo, Contact, PeerInfo } from '../types';
import { healthState, type HealthOptions, type PeerHealthRecord } from '../health/health';
import { endpointKey } from '../transport/types';

/**
 * A peer in the routing table. The entry is its own health record (so health functions work on it
 * directly); lastSeen is never null here because a peer only enters after we heard from it.
 */
export interface MutableRoutingEntry extends PeerHealthRecord {
  /** Lowercase hex. */
  readonly id: string;
  readonly idBytes: Uint8Array;
  host: string;
  port: number;
  /** Shared-prefix length with our id (0..255). */
  readonly bucket: number;
  /** Clock ms when it entered the table. */
  readonly addedAt: number;
  lastSeen: number;
}

/** What callers get: owned and updated by the table, read-only outside it. */
export type RoutingEntry = Readonly<MutableRoutingEntry>;

/**
 * The id, its bytes and the address of a peer, shared by every routing table in the process that
 * holds this peer at this address (see sharedContact). Immutable: a peer that moves gets another.
 */
export class SharedContact {
  /**
   * The id's first 6 bytes as two 24-bit integers: closest() orders entries by these without
   * following idBytes to its buffer (in a busy process that is a cache miss or two per entry, and
   * closest() runs for every FIND_NODE answered). Kept here, once per contact, not in each of the
   * ~100 tables' entries that share it.
   */
  readonly idHigh: number;
  readonly idLow: number;

  constructor(
    readonly id: string,
    readonly idBytes: Uint8Array,
    readonly host: string,
    readonly port: number,
    /** endpointKey({ host, port }), made once. */
    readonly addressKey: string,
  ) {
    this.idHigh = (idBytes[0] << 16) | (idBytes[1] << 8) | idBytes[2];
    this.idLow = (idBytes[3] << 16) | (idBytes[4] << 8) | idBytes[5];
  }
}

/** 32-byte ids per slab chunk: one ArrayBuffer serves this many ids. */
const ID_SLAB_IDS = 64;

/**
 * Copies of ids, carved out of shared chunks: an id kept costs a 32-byte view instead of a view, an
 * ArrayBuffer and a separate allocation of its own. Slots are never reused (an evicted entry handed
 * to a caller keeps its bytes); a chunk is freed when none of its views is left.
 */
export class IdSlab {
  private chunk = new Uint8Array(0);
  private used = 0;

  constructor(private readonly idBytes: number) {}

  copy(id: Uint8Array): Uint8Array {
    if (this.used + this.idBytes > this.chunk.length) {
      this.chunk = new Uint8Array(this.idBytes * ID_SLAB_IDS);
      this.used = 0;
    }
    const out = this.chunk.subarray(this.used, this.used + this.idBytes);
    out.set(id);
    this.used += this.idBytes;
    return out;
  }
}

/*
 * One SharedContact per (id, address) held anywhere in the process. A peer sits in the tables of
 * many nodes of one process (each of a 100,000-node memory network's ids is in ~150 tables, a
 * 500-node UDP testnet's in ~110), and a table that kept its own hex string, id bytes and address
 * key per entry spent most of a node's heap on copies. The registry holds each contact weakly and
 * forgets it once no table (entry or replacement) holds it, so it is bounded by what the tables
 * hold: a lone node pays one WeakRef per peer.
 */
const contactsById = new Map<string, WeakRef<SharedContact>>();
const forget = new FinalizationRegistry<string>((id) => {
  if (contactsById.get(id)?.deref() === undefined) contactsById.delete(id);
});
const slabs = new Map<number, IdSlab>();

/** The process's shared contact for this id at this address (made if there is none). */
export function sharedContact(id: string, idBytes: Uint8Array, host: string, port: number): SharedContact {
  const known = contactsById.get(id)?.deref();
  if (known !== undefined && known.port === port && known.host === host) return known;
  let slab = slabs.get(idBytes.length);
  if (slab === undefined) slabs.set(idBytes.length, (slab = new IdSlab(idBytes.length)));
  const host0 = known !== undefined && known.host === host ? known.host : host;
  const c = new SharedContact(id, slab.copy(idBytes), host0, port, endpointKey({ host, port }));
  // The first address keeps the slot; a peer seen at two addresses at once shares only the first.
  if (known === undefined) {
    contactsById.set(id, new WeakRef(c));
    forget.register(c, id);
  }
  return c;
}

/** endpointKey of this peer's address, the shared copy when a table holds the peer there. */
export function sharedAddressKey(id: string, host: string, port: number): string {
  const known = contactsById.get(id)?.deref();
  return known !== undefined && known.port === port && known.host === host ? known.addressKey : endpointKey({ host, port });
}

/** Something that holds a shared contact and reads its id and address through it. */
abstract class HoldsContact {
  constructor(public contact: SharedContact) {}

  get id(): string {
    return this.contact.id;
  }

  get idBytes(): Uint8Array {
    return this.contact.idBytes;
  }

  get host(): string {
    return this.contact.host;
  }

  get port(): number {
    return this.contact.port;
  }
}

/*
 * Times and round trips kept as small integers. A field holding a fractional or large number points
 * to a 16-byte heap box of its own (clock ms since 1970 are both), while a small integer sits in the
 * field itself. A peer sits in ~94 tables of a 500-node process, so entries and cached candidates
 * keep whole ms since the process's first entry (timeBase) and round trips as rttCode (below), and
 * read back as ms.
 * Exact for a clock that counts whole ms (FakeClock); a real clock's sub-ms part is dropped (floor:
 * a time read back is never later than the time stored). Past ~12 days of process uptime the
 * offsets outgrow small integers and are boxed again: the same values, only larger.
 */
let timeBase: number | null = null;

export function packTime(ms: number): number {
  timeBase ??= Math.floor(ms);
  return Math.floor(ms - timeBase);
}

export function unpackTime(packed: number): number {
  return (timeBase ?? 0) + packed;
}

/*
 * Health packed into two fields: a field is 8 bytes whatever it holds (a small integer sits in it,
 * any int32 on Node's V8), and a peer sits in ~94 tables of a 500-node process. One field holds the
 * round trip as a 16-bit code (below), the bucket index (9 bits: ids are at most 64 bytes, 512
 * buckets) and the consecutive failures (7 bits, saturating at FAILURES_MAX: far above any
 * threshold worth setting, and the table refuses a higher badFailures). The other holds answered
 * and queried, 15 bits each; both halve when either would pass COUNT_MAX, so the answer ratio stays
 * and the counts become a window on the last ~32,000 requests to the peer.
 *
 * The round trip code: whole microseconds below 4,096 (exact), and above that 12 significant bits
 * and an exponent, like a small float: 1 part in 4,096 (a 50 ms round trip to within ~6 us), up to
 * RTT_MAX_US (35 minutes); a round trip is an average of noisy samples, and finer would change no
 * timeout and no figure shown.
 */
const RTT_BITS = 16;
const RTT_MASK = (1 << RTT_BITS) - 1;
const NO_RTT_CODE = RTT_MASK;
const MANTISSA_BITS = 12;
const MANTISSA_MAX = (1 << MANTISSA_BITS) - 1;
/** Round trips are kept up to this many microseconds (2^31 - 1, ~35.8 minutes). */
const RTT_MAX_US = 0x7fff_ffff;
const BUCKET_SHIFT = RTT_BITS;
const BUCKET_BITS = 9;
const BUCKET_MASK = (1 << BUCKET_BITS) - 1;
const FAILURES_SHIFT = BUCKET_SHIFT + BUCKET_BITS;
export const FAILURES_MAX = (1 << (32 - FAILURES_SHIFT)) - 1;
const COUNT_BITS = 15;
export const COUNT_MAX = (1 << COUNT_BITS) - 1;

/** The 16-bit code of a round trip in ms (NO_RTT_CODE for none). */
export function rttCode(ms: number | null): number {
  if (ms === null) return NO_RTT_CODE;
  const us = ms > 0 ? Math.min(RTT_MAX_US, Math.round(ms * 1000)) : 0;
  if (us <= MANTISSA_MAX) return us;
  // us has more than 12 significant bits: keep the top 12, rounded, and how far they were shifted.
  // Rounded up to 4,096, the mantissa spills into the exponent and the code still reads back as it.
  const e = 31 - Math.clz32(us) - (MANTISSA_BITS - 1);
  return (e << (MANTISSA_BITS - 1)) + Math.round(us / 2 ** e);
}

/** The round trip in ms a code stands for. */
export function rttFromCode(code: number): number | null {
  if (code === NO_RTT_CODE) return null;
  if (code <= MANTISSA_MAX) return code / 1000;
  const e = (code >>> (MANTISSA_BITS - 1)) - 1;
  const m = (1 << (MANTISSA_BITS - 1)) + (code & ((1 << (MANTISSA_BITS - 1)) - 1));
  return (m * 2 ** e) / 1000;
}

function clampFailures(n: number): number {
  return n <= 0 ? 0 : n >= FAILURES_MAX ? FAILURES_MAX : Math.floor(n);
}

/**
 * The table's entries are instances of one class, so every entry has the same shape with all its
 * fields in the object itself (a literal built from spreads grows a separate property array):
 * smaller and faster to read, which matters at tens of thousands of nodes in one process. The id
 * and address live in the shared contact; five fields, 64 bytes on a 64-bit V8 without pointer
 * compression (Node's).
 */
export class TableEntry extends HoldsContact implements MutableRoutingEntry {
  private seenAt: number;
  private readonly addedAtPacked: number;
  /** rtt code | bucket << BUCKET_SHIFT | failures << FAILURES_SHIFT (an int32) */
  private packed: number;
  /** answered | queried << COUNT_BITS */
  private counts: number;

  constructor(
    contact: SharedContact,
    bucket: number,
    addedAt: number,
    health: { rttMs: number | null; lastSeen: number; failures: number; answered: number; queried: number },
  ) {
    super(contact);
    this.addedAtPacked = packTime(addedAt);
    this.seenAt = packTime(health.lastSeen);
    this.packed = rttCode(health.rttMs) | ((bucket & BUCKET_MASK) << BUCKET_SHIFT) | (clampFailures(health.failures) << FAILURES_SHIFT);
    this.counts = 0;
    this.setCounts(health.answered, health.queried);
  }

  get bucket(): number {
    return (this.packed >>> BUCKET_SHIFT) & BUCKET_MASK;
  }

  get failures(): number {
    return this.packed >>> FAILURES_SHIFT;
  }

  set failures(n: number) {
    const f = n >= 0 && n <= FAILURES_MAX && (n | 0) === n ? n : clampFailures(n);
    this.packed = (this.packed & ~(FAILURES_MAX << FAILURES_SHIFT)) | (f << FAILURES_SHIFT);
  }

  get answered(): number {
    return this.counts & COUNT_MAX;
  }

  set answered(n: number) {
    // The common case (a count stepped by one, still in range) without the general path's checks.
    if (n >= 0 && n <= COUNT_MAX && (n | 0) === n) this.counts = (this.counts & ~COUNT_MAX) | n;
    else this.setCounts(n, this.queried);
  }

  get queried(): number {
    return this.counts >>> COUNT_BITS;
  }

  set queried(n: number) {
    if (n >= 0 && n <= COUNT_MAX && (n | 0) === n) this.counts = (this.counts & COUNT_MAX) | (n << COUNT_BITS);
    else this.setCounts(this.answered, n);
  }

  /** Each count as given; when either passes COUNT_MAX, both halve (until it fits). */
  private setCounts(answered: number, queried: number): void {
    let a = answered > 0 ? Math.floor(answered) : 0;
    let q = queried > 0 ? Math.floor(queried) : 0;
    while (a > COUNT_MAX || q > COUNT_MAX) {
      a >>>= 1;
      q >>>= 1;
    }
    this.counts = a | (q << COUNT_BITS);
  }

  get addedAt(): number {
    return unpackTime(this.addedAtPacked);
  }

  get rttMs(): number | null {
    return rttFromCode(this.packed & RTT_MASK);
  }

  set rttMs(ms: number | null) {
    this.packed = (this.packed & ~RTT_MASK) | rttCode(ms);
  }

  get lastSeen(): number {
    return unpackTime(this.seenAt);
  }

  set lastSeen(ms: number) {
    this.seenAt = packTime(ms);
  }

  /** The peer moved: the entry now points at its new address. */
  moveTo(host: string, port: number): void {
    this.contact = sharedContact(this.contact.id, this.contact.idBytes, host, port);
  }
}

/** A contact waiting in a bucket's replacement cache for a slot. */
export interface Replacement {
  readonly id: string;
  readonly idBytes: Uint8Array;
  readonly host: string;
  readonly port: number;
  /** Clock ms we last heard from it. */
  lastSeen: number;
  /** Smoothed RTT if it answered us while cached; null otherwise. */
  rttMs: number | null;
  /** Answers it gave us while cached (carried into its health record on promotion). */
  answered: number;
}

/** A replacement as a bucket keeps it: its shared contact and what we saw of it while cached. */
export class CachedCandidate extends HoldsContact implements Replacement {
  private seenAt: number;
  /** rttCode of the round trip. */
  private rtt: number;

  constructor(
    contact: SharedContact,
    lastSeen: number,
    rttMs: number | null,
    public answered: number,
  ) {
    super(contact);
    this.seenAt = packTime(lastSeen);
    this.rtt = rttCode(rttMs);
  }

  get lastSeen(): number {
    return unpackTime(this.seenAt);
  }

  set lastSeen(ms: number) {
    this.seenAt = packTime(ms);
  }

  get rttMs(): number | null {
    return rttFromCode(this.rtt);
  }

  set rttMs(ms: number | null) {
    this.rtt = rttCode(ms);
  }
}

export function toContact(c: { id: string; host: string; port: number }): Contact {
  return { id: c.id, host: c.host, port: c.port };
}

/** The PeerInfo DTO (core/types.ts) for an entry at time `now`. */
export function toPeerInfo(entry: RoutingEntry, now: number, opts: HealthOptions = {}): PeerInfo {
  // toPeerHealth's fields written out, in its order: spreading its object would make two objects
  // and take V8's slow path, for every peer-health event and every peer of a snapshot.
  return {
    id: entry.id,
    host: entry.host,
    port: entry.port,
    state: healthState(entry, now, opts),
    rttMs: entry.rttMs,
    lastSeen: entry.lastSeen,
    failures: entry.failures,
    answered: entry.answered,
    queried: entry.queried,
    bucket: entry.bucket,
    addedAt: entry.addedAt,
  };
}

/** A read-only view of one bucket, as RoutingTable.buckets() returns it. */
export interface BucketView {
  index: number;
  /** Least recently seen first. */
  entries: RoutingEntry[];
  /** Newest last. */
  replacements: Readonly<Replacement>[];
  lastRefresh: number;
}

export function toBucketInfo(b: BucketView, now: number, opts: HealthOptions = {}): BucketInfo {
  return {
    index: b.index,
    peers: b.entries.map((e) => toPeerInfo(e, now, opts)),
    replacements: b.replacements.map(toContact),
    lastRefresh: b.lastRefresh,
  };
}
