// A memory network under fake time with nodes and raw sockets on it, for the wire tests of padded
// requests (v4) and verification by echo (v5). Everything made is stopped by the caller's cleanups,
// which it runs after each test.
import { FakeClock } from '../../core/clock';
import { seededRandomBytes } from '../../core/id';
import { DhtNode, type DhtNodeOptions } from '../../core/node';
import { MemoryNetwork } from '../../core/transport/memory';
import type { Transport } from '../../core/transport/types';

/** One-way latency of every datagram, ms. */
export const LATENCY_MS = 1;
export const RTT_MS = 2 * LATENCY_MS;

export interface MemoryWorld {
  clock: FakeClock;
  net: MemoryNetwork;
  /** A started node at host:4000 (no maintenance, no IP diversity limits), with options over those. */
  node: (host: string, options?: Partial<DhtNodeOptions>) => Promise<DhtNode>;
  /** A bound socket at host:4000 that keeps every datagram it receives. */
  raw: (host: string) => Promise<{ transport: Transport; received: Array<{ data: Uint8Array; from: string }> }>;
}

export async function memoryWorld(cleanups: Array<() => Promise<void>>): Promise<MemoryWorld> {
  const clock = new FakeClock();
  const net = new MemoryNetwork({ clock }, { seed: 5, latencyMs: { min: LATENCY_MS, max: LATENCY_MS } });
  cleanups.push(async () => net.destroy());
  let seed = 1;
  const node = async (host: string, options: Partial<DhtNodeOptions> = {}): Promise<DhtNode> => {
    const n = DhtNode.create({
      transport: net.createTransport({ host, port: 4000 }),
      clock,
      randomBytes: seededRandomBytes(seed++),
      maintenanceIntervalMs: 24 * 3_600_000,
      diversity: false,
      ...options,
    });
    await n.start();
    cleanups.push(() => n.stop());
    return n;
  };
  const raw = async (host: string): Promise<{ transport: Transport; received: Array<{ data: Uint8Array; from: string }> }> => {
    const transport = net.createTransport({ host, port: 4000 });
    const received: Array<{ data: Uint8Array; from: string }> = [];
    transport.onMessage((data, from) => received.push({ data: data.slice(), from: `${from.host}:${from.port}` }));
    await transport.bind();
    cleanups.push(() => transport.close());
    return { transport, received };
  };
  return { clock, net, node, raw };
}
