// The contract's shapes the renderer uses, re-exported in one place. core/types.ts shapes reach the
// renderer only through electron/host/contract.ts (lint keeps renderer/ off core/).
import type { NodeSnapshot } from '../../electron/host/contract';

export type {
  BroadcastDto,
  CallInfo,
  Contact,
  CrawlComparisonDto,
  CrawlDetailDto,
  CrawlNodeDto,
  CrawlProgressDto,
  CrawlStatus,
  CrawlSummaryDto,
  Counters,
  Endpoint,
  EventBatch,
  ExplorerEvent,
  GetDto,
  KeyPairInfo,
  LookupEvent,
  LookupKind,
  PeerInfo,
  PutDto,
  PutMutableDto,
  RecordInfo,
  Settings,
  SnapshotDto,
  TestnetStatus,
  Trace,
  TraceEvent,
  TraceListItem,
} from '../../electron/host/contract';

export type BucketInfo = NodeSnapshot['buckets'][number];
export type HealthState = NodeSnapshot['peers'][number]['state'];
export const HEALTH_STATES: readonly HealthState[] = ['good', 'questionable', 'bad', 'unknown'];
