// The record store: what this node holds for the network (records and topic announcements).
// Pure data structure (ARCHITECTURE.md, habit 1): no I/O, no timers; every call that depends on time takes
// `now` (clock ms) explicitly, so the node decides when to expire and tests decide what time it is.
// Everything is bounded: records by a global cap and a per-publisher-address share of it, topics
// by a cap, peers per topic by a cap with oldest-first eviction.
//
// A refused put changes nothing observable: the stored record, its expiry and every count stay as
// they were (the only side effect is that already-expired entries may be swept early into the
// expire() backlog, which readers could not see anyway).
import { DhtError } from '../errors';
import { bytesToHex, hexToBytes, ID_BYTES, isIdHex } from '../id';
import { endpointKey, type Endpoint } from '../transport/types';
import type { RecordInfo } from '../types';
import { MAX_LOCAL_ADDRESSES, MAX_PEER_LOCALS_PER_RESPONSE, MAX_PEERS_PER_RESPONSE, type WirePeer, type WireRecord } from '../wire/types';
import { KADSCOPE_RECORDS, type RecordModel } from './model';
import { copyRecord, sameRecord, validateRecord } from './validate';
import { LazyMap } from '../lazy-map';

export const RECORD_TTL_MS = 2 * 60 * 60_000;
export const ANNOUNCE_TTL_MS = 20 * 60_000;
export const MAX_RECORDS = 10_000;
/** One publisher address may hold at most this fraction of maxRecords... */
export const MAX_PER_ADDRESS_FRACTION = 0.1;
/** ...but never fewer than this many records (small stores in tests and testnets). */
export const MIN_PER_ADDRESS_RECORDS = 16;
export const MAX_TOPICS = 1_000;
export const MAX_PEERS_PER_TOPIC = 64;

export interface StoredRecord {
  /** Hex of the 32-byte key. */
  readonly key: string;
  readonly record: WireRecord;
  /** Clock ms when the current content (this seq) was stored; a refresh keeps it. */
  readonly storedAt: number;
  /** Clock ms after which the record is gone unless refreshed (republished). */
  readonly expiresAt: number;
  /** The address that first stored this key here; absent for our own puts without an address. */
  readonly publisher?: Endpoint;
  /** We published it (the node republishes these). */
  readonly local: boolean;
}

export type PutOptions = { now: number; cas?: number } & (
  | { from: Endpoint; local?: false }
  /** Our own record: exempt from the per-address share (the global cap still applies). */
  | { from?: Endpoint; local: true }
);

export type PutOutcome = 'created' | 'replaced' | 'refreshed';

export type PutResult =
  | {
      ok: true;
      stored: StoredRecord;
      /** The key held other content before (a lower seq), now superseded. */
      replaced: boolean;
      outcome: PutOutcome;
    }
  | { ok: false; error: DhtError };

export type RestoreResult = 'restored' | 'expired' | DhtError;

export type AnnounceResult = { ok: true; refreshed: boolean } | { ok: false; error: DhtError };

export interface RecordStoreOptions {
  maxRecords?: number;
  /** Share of maxRecords one publisher address may hold, 0 < f <= 1. */
  maxPerAddressFraction?: number;
  maxTopics?: number;
  maxPeersPerTopic?: number;
  /** Bytes of a topic key: the protocol's id length (default 32; Mainline 20). */
  keyBytes?: number;
  /** What a valid record is (keys, signatures, limits): the protocol's (default kadscope's). */
  model?: RecordModel;
  recordTtlMs?: number;
  announceTtlMs?: number;
}

export interface RecordStoreStats {
  records: number;
  topics: number;
  announcements: number;
  maxRecords: number;
  maxPerAddress: number;
  /** Value bytes of the records held (expired ones not yet removed included, as in `records`). */
  valueBytes: number;
}

interface Entry {
  stored: StoredRecord;
  /** endpointKey of the address whose share this record counts against; null for local puts. */
  owner: string | null;
}

interface Announcement {
  peer: WirePeer;
  /** The announcer's local hosts (wire v3), for requesters at its public host. */
  locals?: string[];
  announcedAt: number;
  expiresAt: number;
}

export type KeyInput = Uint8Array | string;

function keyHex(key: KeyInput): string {
  return typeof key === 'string' ? key.toLowerCase() : bytesToHex(key);
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw DhtError.invalidArgument(`${name} must be a positive integer; got ${v}`);
  return v;
}

export class RecordStore {
  readonly maxRecords: number;
  /** Records one publisher address may hold. */
  readonly maxPerAddress: number;
  readonly maxTopics: number;
  readonly keyBytes: number;
  readonly model: RecordModel;
  readonly maxPeersPerTopic: number;
  readonly recordTtlMs: number;
  readonly announceTtlMs: number;

  private readonly records = new LazyMap<string, Entry>();
  private readonly perAddress = new LazyMap<string, number>();
  /** Expired records swept early (to make room); handed out by the next expire(). At most maxRecords. */
  private expiredBacklog: StoredRecord[] = [];
  /** A lower bound on the earliest expiresAt held: before it, no sweep can find anything. */
  private recordSweepHint = Infinity;
  /** topic hex -> (peer endpointKey -> announcement), in announcement order (oldest first). */
  private readonly topics = new LazyMap<string, Map<string, Announcement>>();

  constructor(options: RecordStoreOptions = {}) {
    this.maxRecords = positiveInt('maxRecords', options.maxRecords ?? MAX_RECORDS);
    const fraction = options.maxPerAddressFraction ?? MAX_PER_ADDRESS_FRACTION;
    if (!(fraction > 0 && fraction <= 1)) throw DhtError.invalidArgument(`maxPerAddressFraction must be in (0, 1]; got ${fraction}`);
    this.maxPerAddress = Math.min(this.maxRecords, Math.max(MIN_PER_ADDRESS_RECORDS, Math.ceil(this.maxRecords * fraction)));
    this.maxTopics = positiveInt('maxTopics', options.maxTopics ?? MAX_TOPICS);
    this.keyBytes = positiveInt('keyBytes', options.keyBytes ?? ID_BYTES);
    this.model = options.model ?? KADSCOPE_RECORDS;
    this.maxPeersPerTopic = positiveInt('maxPeersPerTopic', options.maxPeersPerTopic ?? MAX_PEERS_PER_TOPIC);
    this.recordTtlMs = positiveInt('recordTtlMs', options.recordTtlMs ?? RECORD_TTL_MS);
    this.announceTtlMs = positiveInt('announceTtlMs', options.announceTtlMs ?? ANNOUNCE_TTL_MS);
  }

  /** Entries held, including expired ones not yet removed by expire(). */
  get size(): number {
    return this.records.size;
  }

  /**
   * Stores a record if it is valid and allowed. Mutable records keep the highest seq: a lower seq
   * is SEQ_TOO_LOW, the same seq with other content SEQ_REUSED, the same record again is a refresh
   * that extends the expiry. `cas` (mutable only; ignored for immutable records) must equal the
   * stored seq, and a cas on a key we do not hold is CAS_MISMATCH. A named record's new value
   * replaces the held one (the last write wins). A new key in a full store, or
   * beyond the sender's per-address share, is STORE_FULL; updating a held key is always allowed.
   */
  put(key: Uint8Array, record: WireRecord, options: PutOptions): PutResult {
    const { now } = options;
    const invalid = validateRecord(key, record, this.model);
    if (invalid) return { ok: false, error: invalid };
    const hex = bytesToHex(key);
    const existing = this.live(hex, now);

    if (record.type === 'mutable' && options.cas !== undefined) {
      if (!existing) return refuse('CAS_MISMATCH', `compare-and-swap expected seq ${options.cas}, but no record is stored under this key`);
      const held = existing.stored.record;
      if (held.type !== 'mutable' || held.seq !== options.cas) {
        return refuse('CAS_MISMATCH', `compare-and-swap expected seq ${options.cas}, but the stored seq is ${held.type === 'mutable' ? held.seq : 'none (immutable)'}`);
      }
    }

    if (existing) {
      const held = existing.stored.record;
      if (held.type !== record.type) return refuse('HASH_MISMATCH', `the key already holds a ${held.type} record`);
      let outcome: PutOutcome = 'refreshed';
      if (record.type === 'mutable' && held.type === 'mutable') {
        if (record.seq < held.seq) return refuse('SEQ_TOO_LOW', `seq ${record.seq} is lower than the stored seq ${held.seq}`);
        if (record.seq === held.seq && !sameRecord(record, held)) {
          return refuse('SEQ_REUSED', `seq ${record.seq} is already stored with a different value; publish with a higher seq`);
        }
        if (record.seq > held.seq) outcome = 'replaced';
      } else if (record.type === 'named' && !sameRecord(record, held)) {
        // Named keys: the last write wins (README, "Named keys").
        outcome = 'replaced';
      }
      const prev = existing.stored;
      const stored: StoredRecord = {
        key: hex,
        record: outcome === 'replaced' ? copyRecord(record) : prev.record,
        storedAt: outcome === 'replaced' ? now : prev.storedAt,
        expiresAt: Math.max(prev.expiresAt, now + this.recordTtlMs),
        ...(prev.publisher ? { publisher: prev.publisher } : {}),
        // A named value another node wrote over ours is theirs now: we stop republishing it.
        local: record.type === 'named' && outcome === 'replaced' ? options.local === true : prev.local || options.local === true,
      };
      existing.stored = stored;
      return { ok: true, stored, replaced: outcome === 'replaced', outcome };
    }

    // A new key: room globally and within the sender's share?
    const owner = options.local === true || !options.from ? null : endpointKey(options.from);
    const needsRoom = this.heldCount(hex) >= this.maxRecords || (owner !== null && (this.perAddress.get(owner) ?? 0) >= this.maxPerAddress);
    if (needsRoom) this.sweepRecords(now);
    if (this.heldCount(hex) >= this.maxRecords) {
      return refuse('STORE_FULL', `the store is full (${this.maxRecords} records); try other nodes close to the key`);
    }
    if (owner !== null && (this.perAddress.get(owner) ?? 0) >= this.maxPerAddress) {
      return refuse('STORE_FULL', `${owner} already holds ${this.maxPerAddress} records here, its share of the store (${this.maxRecords} records)`);
    }

    this.dropExpiredEntry(hex);
    const stored: StoredRecord = {
      key: hex,
      record: copyRecord(record),
      storedAt: now,
      expiresAt: now + this.recordTtlMs,
      ...(options.from ? { publisher: { host: options.from.host, port: options.from.port } } : {}),
      local: options.local === true,
    };
    this.insert(hex, stored, owner);
    return { ok: true, stored, replaced: false, outcome: 'created' };
  }

  /**
   * Puts back a record loaded from disk, keeping its storedAt and expiresAt. It is validated again
   * (files can be edited) and counts against the caps like any other. Expired records are skipped.
   */
  restore(stored: StoredRecord, now: number): RestoreResult {
    if (stored.expiresAt <= now) return 'expired';
    let key: Uint8Array;
    try {
      key = hexToBytes(stored.key);
    } catch {
      return DhtError.invalidArgument(`record key ${stored.key.slice(0, 16)}... is not hex`);
    }
    const invalid = validateRecord(key, stored.record, this.model);
    if (invalid) return invalid;
    const existing = this.live(stored.key, now);
    if (existing) {
      const a = existing.stored.record;
      const b = stored.record;
      // Keep the newer of two copies (a log may hold several versions of one key).
      if (a.type === 'mutable' && b.type === 'mutable' && b.seq < a.seq) return 'restored';
      existing.stored = { ...stored, record: copyRecord(stored.record) };
      return 'restored';
    }
    const owner = stored.local || !stored.publisher ? null : endpointKey(stored.publisher);
    if (this.heldCount(stored.key) >= this.maxRecords) this.sweepRecords(now);
    if (this.heldCount(stored.key) >= this.maxRecords) return DhtError.refusal('STORE_FULL', `the store is full (${this.maxRecords} records)`);
    if (owner !== null && (this.perAddress.get(owner) ?? 0) >= this.maxPerAddress) {
      return DhtError.refusal('STORE_FULL', `${owner} already holds ${this.maxPerAddress} records here, its share of the store`);
    }
    this.dropExpiredEntry(stored.key);
    this.insert(stored.key, { ...stored, record: copyRecord(stored.record) }, owner);
    return 'restored';
  }

  /** The live record under key, or undefined (an expired record is absent). */
  get(key: KeyInput, now: number): StoredRecord | undefined {
    return this.live(keyHex(key), now)?.stored;
  }

  has(key: KeyInput, now: number): boolean {
    return this.get(key, now) !== undefined;
  }

  /** Removes a record; true if one was held (even if expired). */
  delete(key: KeyInput): boolean {
    const hex = keyHex(key);
    const e = this.records.get(hex);
    if (!e) return false;
    this.remove(hex, e);
    return true;
  }

  /** Removes expired records (returned, for 'record-expired' events) and expired announcements. */
  expire(now: number): StoredRecord[] {
    this.sweepRecords(now);
    this.sweepTopics(now);
    const out = this.expiredBacklog;
    this.expiredBacklog = [];
    return out;
  }

  /** A snapshot of the records held; with `now`, only the live ones. Safe to modify the store while using it. */
  entries(now?: number): StoredRecord[] {
    const out: StoredRecord[] = [];
    for (const e of this.records.values()) if (now === undefined || e.stored.expiresAt > now) out.push(e.stored);
    return out;
  }

  /** How many records an address holds here (its use of the per-address share). */
  countFor(address: Endpoint): number {
    return this.perAddress.get(endpointKey(address)) ?? 0;
  }

  /**
   * Records (or refreshes) that `peer` announced itself under `topic` (a 32-byte key). A full topic
   * drops its oldest announcement; a new topic when maxTopics are held is STORE_FULL. A peer with a
   * public key (HyperDHT) is that key: its announcements replace each other whatever the address.
   */
  announce(topic: KeyInput, peer: WirePeer, now: number, locals?: readonly string[]): AnnounceResult {
    const t = keyHex(topic);
    if (!isIdHex(t, this.keyBytes)) return { ok: false, error: DhtError.invalidArgument(`a topic is a ${this.keyBytes}-byte key`) };
    const pk = peer.publicKey ? `key:${bytesToHex(peer.publicKey)}` : endpointKey(peer);
    let peers = this.topics.get(t);
    if (!peers) {
      if (this.topics.size >= this.maxTopics) this.sweepTopics(now);
      if (this.topics.size >= this.maxTopics) {
        return { ok: false, error: DhtError.refusal('STORE_FULL', `too many topics (${this.maxTopics}); announce to other nodes close to the topic`) };
      }
      peers = new Map();
      this.topics.set(t, peers);
    }
    const refreshed = peers.delete(pk);
    if (!refreshed && peers.size >= this.maxPeersPerTopic) {
      for (const [k, a] of peers) if (a.expiresAt <= now) peers.delete(k);
      // Still full: the least recently announced peer makes way (Map order is announcement order).
      while (peers.size >= this.maxPeersPerTopic) peers.delete(peers.keys().next().value as string);
    }
    // Its public host is no local address; the codec has bounded and checked the rest.
    const kept = locals?.filter((h) => h !== peer.host).slice(0, MAX_LOCAL_ADDRESSES);
    peers.set(pk, { peer: copyPeer(peer), ...(kept && kept.length > 0 ? { locals: kept } : {}), announcedAt: now, expiresAt: now + this.announceTtlMs });
    return { ok: true, refreshed };
  }

  /**
   * Live announced peers for topic, most recent first, at most `max`. A peer announced from
   * `localsFor` (the requester's public host: both behind one NAT) comes with its local hosts, at
   * most MAX_PEER_LOCALS_PER_RESPONSE in all; nobody else learns them.
   */
  peers(topic: KeyInput, now: number, max = MAX_PEERS_PER_RESPONSE, localsFor?: string): WirePeer[] {
    const peers = this.topics.get(keyHex(topic));
    if (!peers) return [];
    const out: WirePeer[] = [];
    let localCount = 0;
    const all = [...peers.values()];
    for (let i = all.length - 1; i >= 0 && out.length < max; i--) {
      const a = all[i];
      if (a.expiresAt <= now) continue;
      const p = copyPeer(a.peer);
      if (a.locals && a.peer.host === localsFor && localCount + a.locals.length <= MAX_PEER_LOCALS_PER_RESPONSE) {
        p.locals = [...a.locals];
        localCount += a.locals.length;
      }
      out.push(p);
    }
    return out;
  }

  /** Topic keys (hex) with at least one live announcement. */
  topicKeys(now: number): string[] {
    const out: string[] = [];
    for (const [t, peers] of this.topics) {
      for (const a of peers.values()) {
        if (a.expiresAt > now) {
          out.push(t);
          break;
        }
      }
    }
    return out;
  }

  stats(): RecordStoreStats {
    let announcements = 0;
    for (const p of this.topics.values()) announcements += p.size;
    let valueBytes = 0;
    for (const e of this.records.values()) valueBytes += e.stored.record.value.length;
    return { records: this.records.size, topics: this.topics.size, announcements, maxRecords: this.maxRecords, maxPerAddress: this.maxPerAddress, valueBytes };
  }

  private live(hex: string, now: number): Entry | undefined {
    const e = this.records.get(hex);
    return e && e.stored.expiresAt > now ? e : undefined;
  }

  /** Records that occupy a slot, not counting an expired entry under `hex` that a new put would replace. */
  private heldCount(hex: string): number {
    return this.records.size - (this.records.has(hex) ? 1 : 0);
  }

  private insert(hex: string, stored: StoredRecord, owner: string | null): void {
    this.records.set(hex, { stored, owner });
    if (owner !== null) this.perAddress.set(owner, (this.perAddress.get(owner) ?? 0) + 1);
    if (stored.expiresAt < this.recordSweepHint) this.recordSweepHint = stored.expiresAt;
  }

  private remove(hex: string, e: Entry): void {
    this.records.delete(hex);
    if (e.owner !== null) {
      const n = (this.perAddress.get(e.owner) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(e.owner);
      else this.perAddress.set(e.owner, n);
    }
  }

  /** An expired entry under hex, about to be replaced by a new put, goes to the backlog. */
  private dropExpiredEntry(hex: string): void {
    const e = this.records.get(hex);
    if (!e) return;
    this.remove(hex, e);
    this.toBacklog(e.stored);
  }

  private toBacklog(stored: StoredRecord): void {
    // Bounded even if the node never calls expire(): the oldest reports are the ones to lose.
    if (this.expiredBacklog.length >= this.maxRecords) this.expiredBacklog.splice(0, this.expiredBacklog.length - this.maxRecords + 1);
    this.expiredBacklog.push(stored);
  }

  private sweepRecords(now: number): void {
    if (now < this.recordSweepHint) return;
    let next = Infinity;
    for (const [hex, e] of this.records) {
      if (e.stored.expiresAt <= now) {
        this.remove(hex, e);
        this.toBacklog(e.stored);
      } else if (e.stored.expiresAt < next) {
        next = e.stored.expiresAt;
      }
    }
    this.recordSweepHint = next;
  }

  private sweepTopics(now: number): void {
    for (const [t, peers] of this.topics) {
      for (const [k, a] of peers) if (a.expiresAt <= now) peers.delete(k);
      if (peers.size === 0) this.topics.delete(t);
    }
  }
}

function refuse(code: 'CAS_MISMATCH' | 'HASH_MISMATCH' | 'SEQ_TOO_LOW' | 'SEQ_REUSED' | 'STORE_FULL', message: string): PutResult {
  return { ok: false, error: DhtError.refusal(code, message) };
}

/** A stored record as the UI shows it: plain data, hex strings, time left rather than a clock reading. */
export function toRecordInfo(stored: StoredRecord, now: number): RecordInfo {
  const r = stored.record;
  return {
    key: stored.key,
    type: r.type,
    size: r.value.length,
    ...(r.type === 'mutable' ? { seq: r.seq, publicKey: bytesToHex(r.publicKey), salt: bytesToHex(r.salt) } : {}),
    ...(r.type === 'named' ? { name: r.name } : {}),
    storedAt: stored.storedAt,
    expiresInMs: Math.max(0, stored.expiresAt - now),
    ...(stored.publisher ? { publisher: endpointKey(stored.publisher) } : {}),
    local: stored.local,
  };
}

/** Our own copy of an announced peer (address, and a HyperDHT peer's key and relays). */
function copyPeer(p: WirePeer): WirePeer {
  const out: WirePeer = { host: p.host, port: p.port };
  if (p.publicKey) out.publicKey = p.publicKey.slice();
  if (p.relayAddresses) out.relayAddresses = p.relayAddresses.map((a) => ({ host: a.host, port: a.port }));
  return out;
}
