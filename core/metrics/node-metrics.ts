// What a node exposes to metrics exporters (electron/metrics): references to the counters its parts
// already keep, read at scrape time. Nothing here is counted a second time.
import type { RecordStoreStats } from '../records/store';
import type { DhtErrorCode } from '../errors';
import type { TransportStats } from '../transport/stats';
import type { Counters, HealthState } from '../types';
import type { Method } from '../wire/types';
import type { Histogram } from './histogram';
import type { LookupStats } from './lookup-stats';

export interface NodeMetrics {
  /** The wire protocol the node speaks ('kadscope' for wire v1). */
  protocol: string;
  id: string;
  running: boolean;
  /** Since start(), ms on the node's clock (0 before). */
  uptimeMs: number;
  k: number;
  peersByHealth: Record<HealthState, number>;
  /** Entries per non-empty bucket. */
  buckets: Array<{ index: number; peers: number }>;
  /** The RPC layer's live counters (datagrams, bytes, drops by reason, requests by method). */
  counters: Readonly<Omit<Counters, 'inFlight'>>;
  inFlight: number;
  /** Round trips of answered requests by method, ms. */
  rpcLatencyMs: Readonly<Record<Method, Histogram>>;
  /** Finished lookups by kind, read once per metrics() call (LookupStats.byKind builds the record). */
  lookups: Pick<LookupStats, 'byKind'>;
  records: RecordStoreStats;
  /** STOREs and ANNOUNCEs refused, by refusal code. */
  refusals: Readonly<Record<'STORE' | 'ANNOUNCE', Partial<Record<DhtErrorCode, number>>>>;
  /** Transport errors (send refused, handler threw); null for a transport without counters. */
  transport: Readonly<TransportStats> | null;
  /** From the density of ids near ours. */
  estimatedNetworkSize: number;
}
