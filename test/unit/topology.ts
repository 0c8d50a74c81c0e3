// Declarative topologies for algorithm tests (ARCHITECTURE.md, habit 10): named nodes with fixed ids whose bit
// prefixes the test comments, on the simulated network under fake time, and who knows whom.
// "A knows B" puts B in A's routing table as a peer that has answered (what a real exchange leaves
// behind), without sending anything, so the test starts from exactly the declared state.
import { FakeClock } from '../../core/clock';
import { compareDistance, hexToBytes, seededRandomBytes } from '../../core/id';
import { DhtNode, type DhtNodeOptions } from '../../core/node';
import { MemoryNetwork } from '../../core/transport/memory';
import type { LookupEvent } from '../../core/types';

/** One-way latency of every datagram, so round trips (and event times) are exact. */
export const LATENCY_MS = 10;
export const RTT_MS = 2 * LATENCY_MS;

/** A 64-hex-digit id: `prefix` (hex), zeros, and `tail` in the last byte to tell ids apart. */
export function hid(prefix: string, tail = 0): string {
  return prefix + '0'.repeat(64 - prefix.length - 2) + tail.toString(16).padStart(2, '0');
}

export interface TopologySpec {
  /** name -> 64-hex id */
  ids: Record<string, string>;
  /** name -> names it has in its routing table at the start */
  knows?: Record<string, string[]>;
  node?: Partial<DhtNodeOptions>;
  /** Fake time at the start (default 1_700_000_000_000). */
  startMs?: number;
}

export class Topology {
  readonly clock: FakeClock;
  readonly net: MemoryNetwork;
  readonly nodes = new Map<string, DhtNode>();
  private readonly names = new Map<string, string>();

  private constructor(clock: FakeClock, net: MemoryNetwork) {
    this.clock = clock;
    this.net = net;
  }

  static async create(spec: TopologySpec): Promise<Topology> {
    const clock = new FakeClock(spec.startMs);
    const net = new MemoryNetwork({ clock }, { seed: 1, latencyMs: { min: LATENCY_MS, max: LATENCY_MS } });
    const topo = new Topology(clock, net);
    let i = 0;
    for (const [name, id] of Object.entries(spec.ids)) {
      i++;
      // Readable addresses: node number i lives at 10.0.0.i:4000.
      const transport = net.createTransport({ host: `10.0.0.${i}`, port: 4000 });
      const node = DhtNode.create({ rpcTimeoutMs: 2_000, ...spec.node, id, transport, clock, randomBytes: seededRandomBytes(i) });
      await node.start();
      topo.nodes.set(name, node);
      topo.names.set(id, name);
    }
    for (const [name, peers] of Object.entries(spec.knows ?? {})) {
      for (const p of peers) topo.introduce(name, p);
    }
    return topo;
  }

  node(name: string): DhtNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node named ${name}`);
    return n;
  }

  /** The name of the node with this id (or the id itself if it is not one of ours). */
  name(id: string): string {
    return this.names.get(id) ?? id;
  }

  id(name: string): string {
    return this.node(name).id;
  }

  /** Puts `peer` in `who`'s routing table as a peer that answered one round trip ago. */
  introduce(who: string, peer: string): void {
    const p = this.node(peer);
    const r = this.node(who).table.observe({ id: p.id, host: p.address.host, port: p.address.port }, this.clock.now(), { rttMs: RTT_MS });
    if (r.kind !== 'added' && r.kind !== 'updated') throw new Error(`${who} could not take ${peer}: ${r.kind}`);
  }

  /** Names of the n nodes nearest `target` among all (optionally excluding some), nearest first. */
  trueClosest(target: string, n: number, exclude: string[] = []): string[] {
    const t = hexToBytes(target);
    return [...this.nodes.entries()]
      .filter(([name]) => !exclude.includes(name))
      .sort(([, a], [, b]) => compareDistance(t, a.idBytes, b.idBytes))
      .slice(0, n)
      .map(([name]) => name);
  }

  /** Runs a lookup to the end under fake time and returns all its events. */
  async collect(who: string, target: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<LookupEvent[]> {
    const lookup = this.node(who).lookup(target, options);
    const events: LookupEvent[] = [];
    const done = (async () => {
      for await (const e of lookup) events.push(e);
    })();
    await this.clock.run(done);
    return events;
  }

  run<T>(p: Promise<T>): Promise<T> {
    return this.clock.run(p);
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
    this.net.destroy();
  }
}

/** Events of one type, narrowed. */
export function ofType<T extends LookupEvent['type']>(events: LookupEvent[], type: T): Array<Extract<LookupEvent, { type: T }>> {
  return events.filter((e): e is Extract<LookupEvent, { type: T }> => e.type === type);
}

export function doneOf(events: LookupEvent[]): Extract<LookupEvent, { type: 'done' }> {
  const d = ofType(events, 'done');
  if (d.length !== 1) throw new Error(`expected one done event, got ${d.length}`);
  return d[0];
}
