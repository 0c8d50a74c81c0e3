// kadscope's HyperDHT client against hyperdht's own, inside one network of real hyperdht nodes
// (hyperdht/testnet on 127.0.0.1). kadscope's client is DhtNode on the protocol seam
// (hyperdhtProtocol({ ephemeral: true }): the engine every protocol shares). Both clients are
// ephemeral (client mode) and join through the same bootstrap; rounds alternate which one goes
// first. Per lookup: wall time, datagrams sent (requests and their resends; hyperdht: its dht-rpc
// stats), recall of the 20 true closest persistent nodes. Then immutable put and get: each client
// reads back what it stored (kadscope from the network, not its own copy).
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { compareDistance, seededRandomBytes } from '../../../core/id';
import { hyperNodeId } from '../../../core/protocols/hyperdht/crypto';
import { DhtNode } from '../../../core/node';
import { hyperdhtProtocol } from '../../../core/protocols/hyperdht/protocol';
import type { Endpoint } from '../../../core/transport/types';
import { summarize, type Figure, type SystemStatus, type WorkloadResult } from '../harness';
import { workloadResult } from './common';

export const HYPERDHT_DEFAULTS = { size: Number(process.env.KADSCOPE_BENCH_HYPERDHT_SIZE ?? 500), lookups: 50, putGets: 20, seed: 0x4d7, alpha: Number(process.env.KADSCOPE_BENCH_HYPERDHT_ALPHA ?? 3) };

const require = createRequire(import.meta.url);

export interface RefQuery {
  finished(): Promise<void>;
  closestNodes: Array<Endpoint & { id: Buffer }>;
  /** Each reply as it comes (dht-rpc's query is a readable stream). */
  on(event: 'data', listener: (reply: { from: Endpoint; closerNodes: Endpoint[] }) => void): unknown;
}
export interface RefNode {
  id: Buffer | null;
  address(): Endpoint;
  stats: { requests: { total: number; retries: number } };
  fullyBootstrapped(): Promise<void>;
  findNode(target: Uint8Array): RefQuery;
  immutablePut(value: Uint8Array): Promise<{ hash: Buffer }>;
  immutableGet(key: Uint8Array): Promise<{ value: Buffer } | null>;
}
export interface RefTestnet {
  nodes: RefNode[];
  bootstrap: Endpoint[];
  createNode(opts?: Record<string, unknown>): RefNode;
  destroy(): Promise<void>;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export async function runHyperdhtWorkload(opts: typeof HYPERDHT_DEFAULTS, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const rand = seededRandomBytes(opts.seed);
  const createTestnet = require('hyperdht/testnet') as (n: number, o: { host: string }) => Promise<RefTestnet>;
  const t0 = performance.now();
  const net = await createTestnet(opts.size, { host: '127.0.0.1' });
  const buildMs = performance.now() - t0;
  const ours = DhtNode.create({ protocol: hyperdhtProtocol({ ephemeral: true }), host: '127.0.0.1', port: 0, bootstrap: net.bootstrap, alpha: opts.alpha, rpcTimeoutMs: 1_000 });
  const theirs = net.createNode();
  const lat: Record<string, number[]> = { kadscope: [], hyperdht: [] };
  const msgs: Record<string, number[]> = { kadscope: [], hyperdht: [] };
  const recall: Record<string, number[]> = { kadscope: [], hyperdht: [] };
  const putMs: Record<string, number[]> = { kadscope: [], hyperdht: [] };
  const getMs: Record<string, number[]> = { kadscope: [], hyperdht: [] };
  const getMisses = { kadscope: 0, hyperdht: 0 };
  try {
    await ours.start();
    await theirs.fullyBootstrapped();
    const members = net.nodes.filter((n) => n.id !== null).map((n) => hyperNodeId(n.address())!);
    const truth = (target: Uint8Array): Set<string> => new Set([...members].sort((a, b) => compareDistance(target, a, b)).slice(0, 20).map(hex));

    const runOurs = async (target: Uint8Array, want: Set<string>): Promise<void> => {
      const s = performance.now();
      const r = await ours.findNode(hex(target));
      lat.kadscope.push(performance.now() - s);
      msgs.kadscope.push(r.messages);
      recall.kadscope.push(r.closest.filter((c) => want.has(c.id)).length / 20);
    };
    const runTheirs = async (target: Uint8Array, want: Set<string>): Promise<void> => {
      const before = theirs.stats.requests.total + theirs.stats.requests.retries;
      const s = performance.now();
      const q = theirs.findNode(target);
      await q.finished();
      lat.hyperdht.push(performance.now() - s);
      msgs.hyperdht.push(theirs.stats.requests.total + theirs.stats.requests.retries - before);
      recall.hyperdht.push(q.closestNodes.filter((n) => want.has(hex(n.id))).length / 20);
    };
    // Warm-up, not counted.
    await runOurs(rand(32), new Set());
    await runTheirs(rand(32), new Set());
    for (const list of [...Object.values(lat), ...Object.values(msgs), ...Object.values(recall)]) list.length = 0;

    for (let i = 0; i < opts.lookups; i++) {
      const target = rand(32);
      const want = truth(target);
      if (i % 2 === 0) {
        await runOurs(target, want);
        await runTheirs(target, want);
      } else {
        await runTheirs(target, want);
        await runOurs(target, want);
      }
    }
    for (let i = 0; i < opts.putGets; i++) {
      const v1 = rand(100);
      let s = performance.now();
      const p = await ours.records.put(v1);
      putMs.kadscope.push(performance.now() - s);
      s = performance.now();
      const g = await ours.records.get(p.key, { source: 'network' }).catch(() => null);
      getMs.kadscope.push(performance.now() - s);
      if (!g) getMisses.kadscope++;

      const v2 = rand(100);
      s = performance.now();
      const { hash } = await theirs.immutablePut(v2);
      putMs.hyperdht.push(performance.now() - s);
      s = performance.now();
      const got = await theirs.immutableGet(hash);
      getMs.hyperdht.push(performance.now() - s);
      if (!got) getMisses.hyperdht++;
    }
  } finally {
    await ours.stop();
    await net.destroy();
  }
  const systems = ['kadscope', 'hyperdht'];
  const per = (m: Record<string, number[]>) => Object.fromEntries(systems.map((s) => [s, m[s]?.length ? summarize(m[s]) : null]));
  const figures: Figure[] = [
    { metric: `lookup latency (${opts.size} hyperdht nodes)`, unit: 'ms', better: 'lower', show: 'median', values: per(lat) },
    { metric: 'datagrams sent per lookup', unit: 'datagrams', better: 'lower', show: 'median', values: per(msgs) },
    { metric: 'recall of the 20 closest', unit: '%', better: 'higher', show: 'mean', values: per(recall) },
    { metric: 'immutable put', unit: 'ms', better: 'lower', show: 'median', values: per(putMs) },
    { metric: 'immutable get of what it put', unit: 'ms', better: 'lower', show: 'median', values: per(getMs) },
  ];
  const status: Record<string, SystemStatus> = { kadscope: { status: 'ok' }, hyperdht: { status: 'ok' } };
  const diagnostics = { network: { buildMs: Math.round(buildMs), persistentNodes: net.nodes.length - 1 }, kadscope: { getMisses: getMisses.kadscope }, hyperdht: { getMisses: getMisses.hyperdht } };
  const notes = [
    `One hyperdht/testnet of ${opts.size} nodes on 127.0.0.1; both clients ephemeral, same bootstrap, alternating who goes first. kadscope: alpha ${opts.alpha} with stall handling; hyperdht: dht-rpc's concurrency 10.`,
    'Datagrams: kadscope counts its lookup\'s sends (with resends); hyperdht the delta of its dht-rpc requests.total + retries over the lookup (its background ticks, if any fall inside, are included).',
    'kadscope: DhtNode({ protocol: hyperdhtProtocol({ ephemeral: true }) }), the engine every protocol shares (the app\'s and the CLI\'s); put is node.records.put, get node.records.get(key, { source: \'network\' }).',
    'Recall: the share of the 20 persistent nodes closest to the target (BLAKE2b ids of their addresses) in the result; the testnet\'s first node stays ephemeral and is in no table.',
  ];
  return workloadResult(`hyperdht-${opts.size}`, command, startedAt, { ...opts, host: '127.0.0.1' }, { systems, status, figures, diagnostics, notes });
}
