// The public API of kadscope's core: the hosts, the benchmarks and outside scripts use these names.
export { DhtNode, KADSCOPE_CAPABILITIES, K, ALPHA, BUCKET_REFRESH_MS, REJOIN_PEERS, type DhtNodeOptions, type BootstrapResult, type LookupOptions, type StartResult, type PeerHealthFeed } from './node';
export { REPUBLISH_INTERVAL_MS, REPLICATE_INTERVAL_MS, ANNOUNCE_REFRESH_MS, type RecordOptions, type RecordCallOptions } from './records/config';
export { topicKey, RecordClient, type GetSource, type PutMutableInput, type PutMutableResult, type GetResult, type AnnounceResult, type LookupPeersResult } from './records/client';
export { DEFAULT_KEY_PAIR, KeyPairRegistry } from './records/keys';
export type { StoreResult, StoreFailure } from './records/publish';
export {
  generateKeyPair,
  keyPairFromSecretKey,
  saveKeyPair,
  loadKeyPair,
  signMutable,
  verifyMutable,
  mutableKey,
  immutableKey,
  encodeSignable,
  type KeyPair,
  type MutableRecord,
} from './records/signing';
export { validateRecord } from './records/validate';
export { namespaceOf, StorePolicies, MAX_VALIDATORS, type StoreCandidate, type StorePolicy, type RecordValidator } from './records/policy';
export { RecordStore, RECORD_TTL_MS, ANNOUNCE_TTL_MS, MAX_RECORDS, toRecordInfo, type StoredRecord } from './records/store';
export { TokenManager, TOKEN_ROTATE_MS } from './records/tokens';
export { NodeStateStore, type LoadResult } from './persist/state';
export {
  CustomMethods,
  MAX_CUSTOM_METHODS,
  checkMethodName,
  encodeCallValue,
  decodeCallValue,
  type ArgSchema,
  type CallContext,
  type CallResult,
  type CustomMethod,
  type CustomMethodInfo,
} from './extensions/methods';
export {
  BROADCAST_HOP_LIMIT,
  BROADCAST_MAX_RECENT,
  BROADCAST_SEEN_MAX,
  BROADCAST_SEEN_TTL_MS,
  type BroadcastInfo,
  type BroadcastOptions,
  type BroadcastResult,
  type BroadcastStats,
} from './extensions/broadcast';
export { createTestnet, type Testnet, type TestnetOptions } from './testnet';
export { Lookup } from './lookup/lookup';
export { DhtError, WIRE_ERROR, isDhtError, type DhtErrorCode } from './errors';
export { FakeClock, systemClock, type Clock } from './clock';
export { formatMultiaddr, parseAddress, parseAddressList } from './address';
export {
  bucketIndex,
  bytesToHex,
  compareDistance,
  hexToBytes,
  idFromHex,
  isIdHex,
  randomId,
  randomIdInBucket,
  seededRandomBytes,
  sha256,
  sha256Hex,
  xorDistance,
} from './id';
export { UdpTransport } from './transport/udp';
export { MemoryNetwork } from './transport/memory';
export { endpointKey, type Endpoint, type Transport } from './transport/types';
export { encodeMessage, decodeMessage } from './wire/codec';
export * from './types';
export { KADSCOPE_PROTOCOL, PROTOCOL_NAMES, type DhtProtocol, type ProtocolName, type WireCodec } from './protocols/protocol';
export { mainlineProtocol, type MainlineCodecOptions } from './protocols/mainline/protocol';
export { bep42Status, generateBep42Id, isBep42Exempt, type Bep42Status } from './protocols/mainline/bep42';
