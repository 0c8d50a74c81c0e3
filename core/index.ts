// The public API of kadscope's core: the hosts, the benchmarks and outside scripts use these names.
export { DhtNode, K, ALPHA, BUCKET_REFRESH_MS, type DhtNodeOptions, type BootstrapResult, type LookupOptions } from './node';
export { createTestnet, type Testnet, type TestnetOptions } from './testnet';
export { Lookup } from './lookup/lookup';
export { DhtError, WIRE_ERROR, isDhtError, type DhtErrorCode } from './errors';
export { FakeClock, systemClock, type Clock } from './clock';
export { parseAddress, parseAddressList } from './address';
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
