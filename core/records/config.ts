// What the records parts share: their options and lifetime defaults, and what the node hands them
// (RecordLayerDeps). The parts themselves: server.ts answers, client.ts asks, maintenance.ts keeps
// records alive, keys.ts keeps key pairs, persistence.ts keeps all of it on disk; layer.ts builds them.
import type { Clock } from '../clock';
import { DhtError } from '../errors';
import type { RandomBytes } from '../id';
import type { Lookup, LookupPeer, RecordVerdict } from '../lookup/lookup';
import type { PersistedPeer } from '../persist/state';
import type { RpcResult } from '../rpc/rpc';
import type { RoutingEntry } from '../routing';
import type { Endpoint } from '../transport/types';
import type { LookupKind, NodeEvents } from '../types';
import type { Message, RequestArgs, WireContact, WirePeer, WireRecord } from '../wire/types';
import type { RecordModel } from './model';
import { ANNOUNCE_TTL_MS, RECORD_TTL_MS } from './store';

/** The publisher stores its records again this often (1 h by default). */
export const REPUBLISH_INTERVAL_MS = 60 * 60_000;
/** Storers pass on the records they accepted since the last pass this often. */
export const REPLICATE_INTERVAL_MS = 10 * 60_000;
/** Our own announcements are sent again this often (announcements live ANNOUNCE_TTL_MS). */
export const ANNOUNCE_REFRESH_MS = ANNOUNCE_TTL_MS / 2;
/** How often expiry, republishing and re-announcing are checked. */
export const RECORD_TICK_MS = 60_000;
/** A republish may land this much later than the interval (lookups take time) and still count as live. */
export const PASS_ON_GRACE_MS = 5 * 60_000;

export interface RecordOptions {
  /** Keep identity, key pairs, records and routing-table peers here (created if missing). */
  dataDir?: string;
  /** How long a stored record lives unless refreshed (default: the protocol's, else RECORD_TTL_MS, 2 h). */
  recordTtlMs?: number;
  /** How long an announcement lives (default ANNOUNCE_TTL_MS, 20 min). */
  announceTtlMs?: number;
  /** How often we republish our own records (default 1 h); 0 never republishes. Must be below recordTtlMs. */
  republishIntervalMs?: number;
  /** How often storers pass on newly accepted records (default 10 min); 0 disables replication. */
  replicateIntervalMs?: number;
  /** How often our announcements are refreshed (default 10 min); 0 never refreshes them. */
  announceRefreshMs?: number;
  /** Cap on records held (default 10,000); one address may hold a share of it (maxPerAddressFraction). */
  maxRecords?: number;
  maxPerAddressFraction?: number;
  maxTopics?: number;
  /** Write-token secret rotation (default 5 min; a token is good for one to two periods). */
  tokenRotateMs?: number;
  /** Debounce of state saves in dataDir (default 1 s). */
  saveDebounceMs?: number;
  /** Period of the expiry / republish check (default 1 min). */
  recordTickMs?: number;
}

export type LifetimeOptions = ReturnType<typeof resolveLifetimes>;

/** The record lifetimes of a node: its options, else its protocol's (`defaultRecordTtlMs`), else kadscope's. */
export function resolveLifetimes(o: RecordOptions, defaultRecordTtlMs: number = RECORD_TTL_MS) {
  const nonNegative = (name: string, v: number | undefined, fallback: number): number => {
    const x = v ?? fallback;
    if (!Number.isSafeInteger(x) || x < 0) throw DhtError.invalidArgument(`${name} must be a non-negative whole number of ms; got ${x}`);
    return x;
  };
  const recordTtlMs = nonNegative('recordTtlMs', o.recordTtlMs, defaultRecordTtlMs);
  const republishIntervalMs = nonNegative('republishIntervalMs', o.republishIntervalMs, REPUBLISH_INTERVAL_MS);
  if (republishIntervalMs >= recordTtlMs) {
    throw DhtError.invalidArgument(`republishIntervalMs (${republishIntervalMs}) must be shorter than recordTtlMs (${recordTtlMs}), or records expire between republishes; use 0 to never republish`);
  }
  const tickMs = nonNegative('recordTickMs', o.recordTickMs, RECORD_TICK_MS);
  if (tickMs === 0) throw DhtError.invalidArgument('recordTickMs must be positive');
  return {
    recordTtlMs,
    republishIntervalMs,
    replicateIntervalMs: nonNegative('replicateIntervalMs', o.replicateIntervalMs, REPLICATE_INTERVAL_MS),
    announceRefreshMs: nonNegative('announceRefreshMs', o.announceRefreshMs, ANNOUNCE_REFRESH_MS),
    tickMs,
    /** A record refreshed within this long still has a publisher: worth handing to newcomers. */
    passOnWindowMs: (republishIntervalMs > 0 ? republishIntervalMs : Math.floor(recordTtlMs / 2)) + PASS_ON_GRACE_MS,
  };
}

export type RecordEventName = 'record-stored' | 'record-expired' | 'record-refused';

export interface RecordLookupOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  onRecord?: (record: WireRecord, from: LookupPeer) => RecordVerdict;
  onPeers?: (peers: WirePeer[], from: LookupPeer) => void;
}

/** What the node gives the records parts: its network, its table and its events, nothing more. */
export interface RecordLayerDeps {
  clock: Clock;
  randomBytes: RandomBytes;
  selfId: Uint8Array;
  k: number;
  request(to: Endpoint, args: RequestArgs, options: { signal: AbortSignal }): Promise<RpcResult>;
  /** An iterative lookup whose queries send `args(peer)`; its events are the node's 'lookup' events. */
  lookup(target: Uint8Array, kind: LookupKind, args: (peer: LookupPeer) => RequestArgs, options: RecordLookupOptions): Lookup;
  /** Routing-table entries nearest target, nearest first. */
  closest(target: Uint8Array, n: number): readonly RoutingEntry[];
  /** families: only contacts of these address families (BEP 32 `want`); absent: any. */
  closestWire(target: Uint8Array, families?: ReadonlyArray<4 | 6>): WireContact[];
  peersToSave(): PersistedPeer[];
  emit<K extends RecordEventName>(event: K, payload: NodeEvents[K]): void;
  /** A node did not answer us at all (its routing-table health should know). */
  peerFailed(id: string): void;
  /** Our bound address (announce's default port). */
  address(): Endpoint;
  /** signal combined with the node's lifetime (aborted on stop). */
  signal(signal?: AbortSignal): AbortSignal;
  /** Throws unless the node is running (the client's operations need the network). */
  assertRunning(): void;
  /** The protocol's encoder, which sizes answers (default kadscope's wire v1). */
  encode?: (msg: Message) => Uint8Array;
  /** The largest answer the protocol sends (default wire v1's MAX_DATAGRAM_BYTES). */
  maxAnswerBytes?: number;
  /** A text topic's key: the protocol's hash (default SHA-256; Mainline SHA-1). */
  hashTopic?: (text: string) => Uint8Array;
  /** The protocol's records: keys, signed bytes, limits, where tokens come from (default kadscope's). */
  model?: RecordModel;
  /** false when the protocol has no named records (Mainline); putNamed refuses then. */
  namedKeys?: boolean;
  /**
   * Our local hosts to announce beside our public address (private or loopback IPv4, at most
   * MAX_LOCAL_ADDRESSES, our public host left out); absent or empty where the protocol has no room.
   */
  localHosts?: () => string[];
  /** The address peers see us at (the node's majority vote), null until an answer said. */
  observedAddress?: () => Endpoint | null;
}

export interface RecordCallOptions {
  signal?: AbortSignal;
  /** Whole-lookup deadline (default LOOKUP_TIMEOUT_MS). */
  timeoutMs?: number;
}
