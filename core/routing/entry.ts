// The shapes the routing table stores and hands out, and their conversion to the public DTOs.
import type { BucketInfo, Contact, PeerInfo } from '../types';
import { toPeerHealth, type HealthOptions, type PeerHealthRecord } from '../health/health';

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
 * The table's entries are instances of one class, so every entry has the same shape with all its
 * fields in the object itself (a literal built from spreads grows a separate property array):
 * smaller and faster to read, which matters at tens of thousands of nodes in one process.
 */
export class TableEntry implements MutableRoutingEntry {
  rttMs: number | null;
  lastSeen: number;
  failures: number;
  answered: number;
  queried: number;
  /**
   * The id's first 6 bytes as two 24-bit integers, kept in the entry itself: closest() orders
   * entries by these without following idBytes to its buffer (in a busy process that is a cache
   * miss or two per entry, and closest() runs for every FIND_NODE answered).
   */
  readonly idHigh: number;
  readonly idLow: number;

  constructor(
    readonly id: string,
    readonly idBytes: Uint8Array,
    public host: string,
    public port: number,
    readonly bucket: number,
    readonly addedAt: number,
    health: { rttMs: number | null; lastSeen: number; failures: number; answered: number; queried: number },
  ) {
    this.rttMs = health.rttMs;
    this.lastSeen = health.lastSeen;
    this.failures = health.failures;
    this.answered = health.answered;
    this.queried = health.queried;
    this.idHigh = (idBytes[0] << 16) | (idBytes[1] << 8) | idBytes[2];
    this.idLow = (idBytes[3] << 16) | (idBytes[4] << 8) | idBytes[5];
  }
}

/** 32-byte ids per slab chunk: one ArrayBuffer serves this many ids. */
const ID_SLAB_IDS = 64;

/**
 * Copies of ids, carved out of shared chunks: an id the table keeps costs a 32-byte view instead of
 * a view, an ArrayBuffer and a separate allocation of its own. Slots are never reused (an evicted
 * entry handed to a caller keeps its bytes); a chunk is freed when none of its views is left.
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

export function toContact(c: { id: string; host: string; port: number }): Contact {
  return { id: c.id, host: c.host, port: c.port };
}

/** The PeerInfo DTO (core/types.ts) for an entry at time `now`. */
export function toPeerInfo(entry: RoutingEntry, now: number, opts: HealthOptions = {}): PeerInfo {
  return {
    id: entry.id,
    host: entry.host,
    port: entry.port,
    ...toPeerHealth(entry, now, opts),
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
