// One node on IPv4 and IPv6 at once: two UDP sockets behind the one Transport interface. A datagram
// goes out on the socket of its destination's family; both sockets feed the one handler, so the
// node, its routing table and its RPC layer see a single transport holding peers of both families.
import { isIP } from '../address';
import { DhtError } from '../errors';
import { newTransportStats, type TransportStats } from './stats';
import type { Endpoint, MessageHandler, Transport } from './types';
import { selectSocketLayer, type SocketLayerChoice } from './socket-layer';
import { UdpTransport, type UdpTransportDeps } from './udp';

export interface DualStackOptions {
  /** IPv4 address to bind (default 127.0.0.1). */
  host4?: string;
  /** IPv6 address to bind (default ::1). */
  host6?: string;
  /** UDP port for both sockets; 0 (default) lets each pick a free one. */
  port?: number;
  /** 'native', 'udx' or 'dgram' for both sockets (socket-layer.ts); default the first that loads, in that order. */
  socketLayer?: SocketLayerChoice;
  /** The longest datagram peers may send (DhtProtocol.peerDatagramBytes): see selectSocketLayer. */
  peerDatagramBytes?: number;
}

export class DualStackTransport implements Transport {
  readonly kind = 'udp4+udp6';
  readonly v4: UdpTransport;
  readonly v6: UdpTransport;

  constructor(deps: UdpTransportDeps = {}, options: DualStackOptions = {}) {
    const host4 = options.host4 ?? '127.0.0.1';
    const host6 = options.host6 ?? '::1';
    if (isIP(host4) !== 4) throw DhtError.invalidArgument(`dual stack: "${host4.slice(0, 60)}" is not an IPv4 address`);
    if (isIP(host6) !== 6) throw DhtError.invalidArgument(`dual stack: "${host6.slice(0, 60)}" is not an IPv6 address`);
    const layer = deps.layer ?? selectSocketLayer(options.socketLayer, {}, options.peerDatagramBytes);
    this.v4 = new UdpTransport({ layer }, { host: host4, port: options.port ?? 0 });
    this.v6 = new UdpTransport({ layer }, { host: host6, port: options.port ?? 0 });
  }

  /** Both sockets run on the same layer. */
  get socketLayer(): string {
    return this.v4.socketLayer;
  }

  /** A second IPv4 socket (dht-rpc, whose reachability probe needs one, is IPv4 only). */
  sibling(): UdpTransport {
    return this.v4.sibling();
  }

  /** Both bound addresses, IPv4 first. */
  get addresses(): Endpoint[] {
    return [this.v4.address, this.v6.address];
  }

  /** The IPv4 address: the one a single-address view (the node's snapshot, endpointKey(node.address)) shows. */
  get address(): Endpoint {
    return this.v4.address;
  }

  /** Both sockets' counters, summed. */
  get stats(): TransportStats {
    const sum = newTransportStats();
    for (const s of [this.v4.stats, this.v6.stats]) {
      for (const k of Object.keys(sum) as Array<keyof TransportStats>) sum[k] += s[k];
    }
    return sum;
  }

  onMessage(handler: MessageHandler): void {
    this.v4.onMessage(handler);
    this.v6.onMessage(handler);
  }

  async bind(): Promise<Endpoint> {
    try {
      await Promise.all([this.v4.bind(), this.v6.bind()]);
    } catch (err) {
      await this.close();
      throw err;
    }
    return this.v4.address;
  }

  send(data: Uint8Array, to: Endpoint): void {
    if (isIP(to.host) === 6) this.v6.send(data, to);
    else this.v4.send(data, to);
  }

  async close(): Promise<void> {
    await Promise.all([this.v4.close(), this.v6.close()]);
  }
}

/** Whether a transport can reach a host of this IP family (6 or 4). */
export function reachesFamily(t: Transport, family: 4 | 6): boolean {
  switch (t.kind) {
    case 'memory':
    case 'udp4+udp6':
      return true;
    case 'udp6':
      return family === 6;
    default:
      return family === 4;
  }
}
