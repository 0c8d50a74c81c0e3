// One interface for every way a node sends datagrams: real UDP (udp.ts) and the simulated
// network (memory.ts). The node never knows which one it has.
import type { TransportStats } from './stats';

export interface Endpoint {
  host: string;
  port: number;
}

export type MessageHandler = (data: Uint8Array, from: Endpoint) => void;

export interface Transport {
  /** Binds the socket. port 0 picks a free port; the bound address is returned and kept in `address`. */
  bind(): Promise<Endpoint>;
  /** Fire and forget. Never throws for a bad destination; failures are counted by the transport. */
  send(data: Uint8Array, to: Endpoint): void;
  /** One handler; set before bind(). */
  onMessage(handler: MessageHandler): void;
  /** Idempotent: frees the socket and every timer it owns. */
  close(): Promise<void>;
  /** The bound address; throws before bind(). */
  readonly address: Endpoint;
  /** 'udp4' | 'udp6' | 'memory', for display. */
  readonly kind: string;
  /** The OS socket layer under a UDP transport ('kadscope-native', 'udx-native' or 'node:dgram'); absent on the memory network. */
  readonly socketLayer?: string;
  /** Datagram and error counters (transport/stats.ts); both built-in transports keep them. */
  readonly stats?: TransportStats;
  /**
   * A new, unbound socket on this one's host, on a free port (the caller binds and closes it): a
   * reachability probe sends from it, so that its answers can reach the first socket only if the
   * network reaches that one unasked. Absent where a transport cannot make one.
   */
  sibling?(): Transport;
}

/** `host:port`, with IPv6 hosts in brackets: the canonical Map key for an address (ARCHITECTURE.md, habit 7). */
export function endpointKey(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.host === b.host;
}
