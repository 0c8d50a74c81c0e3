// A local HyperDHT network of kadscope nodes over UDP (product code, like core/testnet.ts): the
// first node knows its own address (dht-rpc's bootstrapper), the others join through it and turn
// persistent as soon as replies tell them their address. Loopback only unless the caller binds
// elsewhere; nothing here names a public node.
import { UdpTransport } from '../../transport/udp';
import { endpointKey, type Endpoint } from '../../transport/types';
import { HyperDhtNode } from './node';

export const HYPER_TESTNET_MAX_NODES = 2_000;

export interface HyperTestnet {
  nodes: HyperDhtNode[];
  /** host:port of the first node. */
  bootstrap: string[];
  destroy(): Promise<void>;
}

export async function createHyperTestnet(size: number, options: { host?: string } = {}): Promise<HyperTestnet> {
  if (!Number.isInteger(size) || size < 1 || size > HYPER_TESTNET_MAX_NODES) throw new RangeError(`a hyperdht testnet has 1-${HYPER_TESTNET_MAX_NODES} nodes; got ${size}`);
  const host = options.host ?? '127.0.0.1';
  const nodes: HyperDhtNode[] = [];
  const destroy = async (): Promise<void> => {
    for (const n of nodes.splice(0).reverse()) await n.stop();
  };
  try {
    const firstTransport = new UdpTransport({}, { host, port: 0 });
    const bound = await firstTransport.bind();
    const first = new HyperDhtNode({ transport: firstTransport }, { bootstrap: [], knownAddress: bound, ephemeral: false });
    nodes.push(first);
    await first.start();
    const bootstrap: Endpoint[] = [bound];
    while (nodes.length < size) {
      const n = new HyperDhtNode({ transport: new UdpTransport({}, { host, port: 0 }) }, { bootstrap, ephemeral: false });
      nodes.push(n);
      await n.start();
    }
    return { nodes, bootstrap: bootstrap.map(endpointKey), destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}
