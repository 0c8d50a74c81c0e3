// The routing table: pure data structures, no I/O (ARCHITECTURE.md, habit 1). The node owns pinging.
export {
  RoutingTable,
  DEFAULT_K,
  MAX_K,
  BUCKET_COUNT,
  distanceFraction,
  type RoutingTableOptions,
  type ObserveResult,
  type ObserveOptions,
  type RejectReason,
  type Eviction,
  type ClosestOptions,
} from './table';
export { Bucket } from './bucket';
export {
  toPeerInfo,
  toBucketInfo,
  toContact,
  sharedAddressKey,
  type RoutingEntry,
  type MutableRoutingEntry,
  type Replacement,
  type BucketView,
} from './entry';
export {
  isLoopbackOrPrivate,
  diversityForHost,
  resolveDiversity,
  subnetKey,
  ipKey,
  parseIPv4,
  parseIPv6,
  MAX_PER_SUBNET_PER_BUCKET,
  MAX_PER_SUBNET_TOTAL,
  MAX_IDS_PER_ADDRESS,
  type DiversityOptions,
  type ResolvedDiversity,
} from './diversity';
