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
