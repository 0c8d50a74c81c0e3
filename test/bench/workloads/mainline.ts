// kadscope's Mainline client against bittorrent-dht's own, inside one network of real bittorrent-dht
// nodes on 127.0.0.1 (explicit loopback bootstrap: never the public routers). Both clients join
// through the same bootstrap; rounds alternate which one goes first. Per lookup: wall time, queries
// sent, recall of the 8 true closest. Then BEP 44 immutable put and get: each client reads back
// what it stored. KADSCOPE_BENCH_MAINLINE_SIZE sets a smaller network while developing.
import { performance } from 'node:perf_hooks';
import DHT from 'bittorrent-dht';
import { bytesToHex, compareDistance, hexToBytes, seededRandomBytes } from '../../../core/id';
import { DhtNode } from '../../../core/node';
import { createReferenceNetwork, referenceNode } from '../../integration/mainline-reference';
import { summarize, type Figure, type SystemStatus, type WorkloadResult } from '../harness';
import { workloadResult } from './common';

export const MAINLINE_DEFAULTS = { size: Number(process.env.KADSCOPE_BENCH_MAINLINE_SIZE ?? 500), lookups: 50, putGets: 20, seed: 0xb7e5, k: 8 };

type Sys = 'kadscope' | 'bittorrent-dht';
const SYSTEMS: Sys[] = ['kadscope', 'bittorrent-dht'];
/** One reference operation may take this long before the round counts as failed. */
const REF_WAIT_MS = 30_000;

function within<T>(what: string, run: (done: (err: Error | null, v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not done within ${REF_WAIT_MS} ms`)), REF_WAIT_MS);
    run((err, v) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(v);
    });
  });
}

export async function runMainlineWorkload(opts: typeof MAINLINE_DEFAULTS, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const rand = seededRandomBytes(opts.seed);
  const t0 = performance.now();
  const net = await createReferenceNetwork(opts.size);
  const buildMs = performance.now() - t0;
  const ours = DhtNode.create({ protocol: 'mainline', host: '127.0.0.1', bootstrap: [net.bootstrap], randomBytes: seededRandomBytes(opts.seed + 1), rateLimit: false });
  const theirs: DHT = referenceNode([net.bootstrap]);
  // At once, as the reference network does: bittorrent-dht binds a random port itself otherwise.
  const listening = new Promise<void>((resolve) => theirs.listen(0, '127.0.0.1', () => resolve()));
  // Queries bittorrent-dht sends (its k-rpc socket's query calls; its own resends are not seen).
  let theirQueries = 0;
  const socket = (theirs._rpc as unknown as { socket: { query: (...a: unknown[]) => unknown } }).socket;
  const query = socket.query.bind(socket);
  socket.query = (...a: unknown[]) => {
    theirQueries++;
    return query(...a);
  };
  const m = (): Record<Sys, number[]> => ({ kadscope: [], 'bittorrent-dht': [] });
  const lat = m();
  const msgs = m();
  const recall = m();
  const putMs = m();
  const getMs = m();
  const misses: Record<Sys, number> = { kadscope: 0, 'bittorrent-dht': 0 };
  try {
    await ours.start();
    await listening;
    await within<void>('bittorrent-dht client join', (done) => {
      if (theirs.ready) done(null, undefined);
      else theirs.once('ready', () => done(null, undefined));
    });
    // The true closest for each client: every node of the network but the client itself. The two
    // clients are nodes of the network too (both answer queries and sit in others' tables), so each
    // may rightly return the other; leaving them out counted that as a miss (mainline-recall-probe.ts).
    const members = net.nodes.map((d) => new Uint8Array(d.nodeId));
    const truthFor = (target: Uint8Array, other: Uint8Array): Set<string> =>
      new Set([...members, other].sort((a, b) => compareDistance(target, a, b)).slice(0, opts.k).map(bytesToHex));
    const truth = (target: Uint8Array): Record<Sys, Set<string>> => ({
      kadscope: truthFor(target, new Uint8Array(theirs.nodeId)),
      'bittorrent-dht': truthFor(target, hexToBytes(ours.id)),
    });

    const runOurs = async (target: Uint8Array, want: Set<string>): Promise<void> => {
      const s = performance.now();
      const r = await ours.findNode(bytesToHex(target));
      lat.kadscope.push(performance.now() - s);
      msgs.kadscope.push(r.messages);
      recall.kadscope.push(r.closest.slice(0, opts.k).filter((c) => want.has(c.id)).length / opts.k);
    };
    const runTheirs = async (target: Uint8Array, want: Set<string>): Promise<void> => {
      const before = theirQueries;
      const answered: Uint8Array[] = [];
      const t = Buffer.from(target);
      const s = performance.now();
      await within<void>('bittorrent-dht lookup', (done) =>
        theirs._rpc.closest(t, { q: 'find_node', a: { id: theirs.nodeId, target: t } }, (res) => {
          if (res.r?.id instanceof Uint8Array && res.r.id.length === 20) answered.push(new Uint8Array(res.r.id));
        }, (err) => done(err, undefined)),
      );
      lat['bittorrent-dht'].push(performance.now() - s);
      msgs['bittorrent-dht'].push(theirQueries - before);
      // Its result: the k closest nodes that answered (what its get and put write to).
      const closest = answered.sort((a, b) => compareDistance(target, a, b)).slice(0, opts.k).map(bytesToHex);
      recall['bittorrent-dht'].push(closest.filter((id) => want.has(id)).length / opts.k);
    };
    await runOurs(rand(20), new Set());
    await runTheirs(rand(20), new Set());
    for (const list of [...Object.values(lat), ...Object.values(msgs), ...Object.values(recall)]) list.length = 0;

    for (let i = 0; i < opts.lookups; i++) {
      const target = rand(20);
      const want = truth(target);
      if (i % 2 === 0) {
        await runOurs(target, want.kadscope);
        await runTheirs(target, want['bittorrent-dht']);
      } else {
        await runTheirs(target, want['bittorrent-dht']);
        await runOurs(target, want.kadscope);
      }
    }
    for (let i = 0; i < opts.putGets; i++) {
      const v1 = Buffer.from(rand(100)).toString('hex');
      let s = performance.now();
      const p = await ours.records.put(v1);
      putMs.kadscope.push(performance.now() - s);
      s = performance.now();
      const g = await ours.records.get(p.key, { source: 'network' }).catch(() => null);
      getMs.kadscope.push(performance.now() - s);
      if (g === null || Buffer.from(g.value).toString() !== v1) misses.kadscope++;

      const v2 = Buffer.from(Buffer.from(rand(100)).toString('hex'));
      s = performance.now();
      const key = await within<Buffer>('bittorrent-dht put', (done) => theirs.put({ v: v2 }, (err, k) => done(err, k)));
      putMs['bittorrent-dht'].push(performance.now() - s);
      s = performance.now();
      const got = await within<{ v: Buffer } | null>('bittorrent-dht get', (done) => theirs.get(key, { cache: false }, done));
      getMs['bittorrent-dht'].push(performance.now() - s);
      if (!got || !got.v.equals(v2)) misses['bittorrent-dht']++;
    }
  } finally {
    await ours.stop();
    await new Promise<void>((resolve) => theirs.destroy(() => resolve()));
    await net.close();
  }
  const per = (x: Record<Sys, number[]>) => Object.fromEntries(SYSTEMS.map((s) => [s, x[s].length ? summarize(x[s]) : null]));
  const figures: Figure[] = [
    { metric: `lookup latency (${opts.size} bittorrent-dht nodes)`, unit: 'ms', better: 'lower', show: 'median', values: per(lat) },
    { metric: 'queries sent per lookup', unit: 'messages', better: 'lower', show: 'median', values: per(msgs) },
    { metric: `recall of the ${opts.k} closest`, unit: '%', better: 'higher', show: 'mean', values: per(recall) },
    { metric: 'BEP 44 immutable put', unit: 'ms', better: 'lower', show: 'median', values: per(putMs) },
    { metric: 'BEP 44 immutable get of what it put', unit: 'ms', better: 'lower', show: 'median', values: per(getMs) },
  ];
  const status: Record<string, SystemStatus> = { kadscope: { status: 'ok' }, 'bittorrent-dht': { status: 'ok' } };
  const diagnostics = { network: { buildMs: Math.round(buildMs), nodes: net.nodes.length }, kadscope: { getMisses: misses.kadscope }, 'bittorrent-dht': { getMisses: misses['bittorrent-dht'] } };
  const notes = [
    `One network of ${opts.size} bittorrent-dht nodes on 127.0.0.1 (the first with bootstrap: false, the rest through it); both clients join through the same node and alternate who goes first. kadscope: alpha 3 with stall handling, k 8; bittorrent-dht: k-rpc's concurrency 16, k 20 by default.`,
    "Messages: kadscope counts its lookup's requests (with resends); bittorrent-dht its k-rpc socket's query calls during the lookup (its socket's own resends not seen).",
    "Recall: the share of the 8 nodes closest to the target in the result, among every node of the network but the client itself (so the other client counts: both answer queries); bittorrent-dht's result is the 8 closest of the nodes that answered its lookup (what its put and get write to).",
  ];
  return workloadResult(`mainline-${opts.size}`, command, startedAt, { ...opts, host: '127.0.0.1' }, { systems: SYSTEMS, status, figures, diagnostics, notes });
}
