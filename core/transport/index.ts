// The transport layer: one Transport interface, two implementations (real UDP over kadscope's native binding, udx-native or node:dgram, simulated memory network).
export { endpointKey, sameEndpoint, type Endpoint, type MessageHandler, type Transport } from './types';
export { DualStackTransport, reachesFamily, type DualStackOptions } from './dual';
export { newTransportStats, type TransportStats } from './stats';
export {
  dgramLayer,
  selectSocketLayer,
  socketLayerName,
  SOCKET_LAYER_CHOICES,
  type SocketLayer,
  type SocketLayerChoice,
  type SocketLayerName,
} from './socket-layer';
export { loadUdxLayer, UDX_MAX_RECEIVE_BYTES, type UdxLoader } from './udx';
export {
  UdpTransport,
  UDP_DEFAULT_HOST,
  UDP_RECV_BUFFER_BYTES,
  UDP_SEND_BUFFER_BYTES,
  type UdpKind,
  type UdpTransportDeps,
  type UdpTransportOptions,
  type UdpTransportStats,
} from './udp';
export {
  MemoryNetwork,
  MemoryTransport,
  MEMORY_DEFAULT_SEED,
  MEMORY_LATENCY_MS,
  MEMORY_MAX_IN_FLIGHT,
  MEMORY_MTU_BYTES,
  type LatencyRange,
  type MemoryNetworkDeps,
  type MemoryNetworkOptions,
  type MemoryNetworkStats,
  type MemoryTransportOptions,
} from './memory';
