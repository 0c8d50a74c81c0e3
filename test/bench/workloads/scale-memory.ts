// Scale on the simulated network: kadscope networks of 10,000 and 50,000 nodes in this one process,
// on the memory transport (core/transport/memory.ts) under a FakeClock, built by the product's own
// createTestnet (every node joins through real protocol traffic: PINGs, then a lookup of its id).
// Measured: wall-clock time to build, heap per node, and lookups from seeded askers to seeded
// targets checked against all ids (true closest found, recall of the k closest), with messages,
// hops and simulated time per lookup. The peers have no simulated transport (only real sockets),
// so their columns say so.
//
// Joins skip the refresh of the farther buckets (refreshOnBootstrap: false), as the 5,000-node
// integration test does: that refresh is ~40% of a join's requests at 500 nodes (it was ~80% before a
// join refreshed only the buckets its self-lookup left below k) and lookups are as correct
// without it, because later joiners' queries fill the earlier nodes' far buckets. And the periodic
// bucket refresh is held off for the build (refreshIntervalMs: a day): the testnet joins
// JOIN_CONCURRENCY (8) nodes at a time, so simulated build time grows with size (18 simulated
// minutes at 10,000 nodes, ~90 at 50,000) and early joiners would run their 15-minute refreshes
// all along, which makes the build's traffic grow with the square of the size (measured at 10,000:
// 204 datagrams per node to build with refreshes, about half that without). The figures say so.
import type { Figure, Summary, SystemDriver, SystemStatus, WorkloadResult } from '../harness';
import { seededRng, summarize } from '../harness';
import { workloadResult } from './common';

export interface ScaleMemoryOptions {
  sizes: number[];
  /** Measured lookups per size. */
  lookups: number;
  k: number;
  seed: number;
  /** Simulated one-way latency range, ms (the testnet default). */
  latencyMs: { min: number; max: number };
}

/** KADSCOPE_SCALE_SIZES="2000,10000" picks other sizes (small ones while developing). */
function sizesFromEnv(): number[] | null {
  const raw = process.env.KADSCOPE_SCALE_SIZES;
  if (!raw) return null;
  const sizes = raw.split(',').map((x) => Number(x.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 100 || n > 100_000)) throw new Error(`KADSCOPE_SCALE_SIZES: integers 100-100000, comma-separated; got ${JSON.stringify(raw)}`);
  return sizes;
}

export const SCALE_MEMORY_DEFAULTS: ScaleMemoryOptions = { sizes: sizesFromEnv() ?? [10_000, 100_000], lookups: 200, k: 20, seed: 0x5ca1e, latencyMs: { min: 5, max: 40 } };

const CORE_INDEX_URL = new URL('../../../core/index.ts', import.meta.url).href;
const CORE_CRAWL_URL = new URL('../../../core/crawl/index.ts', import.meta.url).href;
const NO_SIMULATED_TRANSPORT = 'n/a: no simulated transport (real UDP sockets only)';
/**
 * Fake time let pass after the build before memory is read. FakeClock.clearTimeout leaves a cleared
 * timer's callback in its heap until the timer's due time, so every finished lookup (its candidates,
 * tokens and the datagrams they are views into) stays reachable for LOOKUP_TIMEOUT_MS (60 s) of
 * fake time; past that, the heap holds what the nodes hold.
 */
const DRAIN_FAKE_MS = 61_000;
/**
 * Nodes joined per createTestnet / addNodes call. Each call drives fake time for its joins with
 * FakeClock.run, which gives up after an hour of fake time; joining JOIN_CONCURRENCY (8) at a time,
 * 50,000 nodes need ~90 simulated minutes, so the network is grown in steps of this many.
 */
const BUILD_STEP_NODES = 10_000;
/** Bucket refresh interval during the benchmark: longer than any build, so no refresh runs. */
const REFRESH_HELD_OFF_MS = 24 * 60 * 60_000;

interface Core {
  createTestnet(o: {
    size: number;
    transport: 'memory';
    seed: number;
    clock: FakeClockLike;
    latencyMs: { min: number; max: number };
    node: { refreshOnBootstrap: boolean; refreshIntervalMs: number };
  }): Promise<Testnet>;
  FakeClock: new () => FakeClockLike;
  DhtNode: { create(o: { transport: unknown; clock: FakeClockLike; randomBytes: unknown; diversity: false }): { start(): Promise<void>; stop(): Promise<void> } };
  seededRandomBytes(seed: number): unknown;
}

interface CoreCrawl {
  kadscopeCrawlClient(node: unknown): unknown;
  crawl(client: unknown, o: { bootstrap: string[]; randomBytes: unknown; concurrency: number; clock: FakeClockLike }): Promise<{ nodes: { id: string | null; status: string }[]; requests: number; durationMs: number }>;
}

interface FakeClockLike {
  now(): number;
  tickAsync(ms: number): Promise<void>;
}

interface Node {
  readonly id: string;
  readonly idBytes: Uint8Array;
  findNode(targetHex: string): Promise<{ closest: { id: string }[]; hops: number; messages: number; durationMs: number }>;
  readonly table: { size: number };
}

interface Testnet {
  nodes: Node[];
  bootstrap: string[];
  network: { stats: { sent: number; delivered: number; lost: number }; createTransport(o: object): unknown } | null;
  run<T>(p: Promise<T>): Promise<T>;
  addNodes(n: number): Promise<Node[]>;
  destroy(): Promise<void>;
}

interface CrawlRun {
  found: number;
  reachable: number;
  requests: number;
  wallMs: number;
  fakeMs: number;
}

/**
 * The crawler (core/crawl) maps the built network under the same fake time: a fresh node on the
 * memory transport, one bootstrap address, 64 nodes at once. Every node should be found and reached.
 */
async function crawlNetwork(core: Core, net: Testnet, clock: FakeClockLike): Promise<CrawlRun> {
  const crawling = (await import(CORE_CRAWL_URL)) as unknown as CoreCrawl;
  const crawler = core.DhtNode.create({ transport: net.network!.createTransport({}), clock, randomBytes: core.seededRandomBytes(5), diversity: false });
  await net.run(crawler.start());
  try {
    const t0 = performance.now();
    const r = await net.run(crawling.crawl(crawling.kadscopeCrawlClient(crawler), { bootstrap: [net.bootstrap[0]], randomBytes: core.seededRandomBytes(7), concurrency: 64, clock }));
    const wallMs = performance.now() - t0;
    const live = new Set(net.nodes.map((n) => n.id));
    let found = 0;
    let reachable = 0;
    for (const n of r.nodes) {
      if (n.id === null || !live.has(n.id)) continue;
      found++;
      if (n.status === 'reachable') reachable++;
    }
    return { found, reachable, requests: r.requests, wallMs, fakeMs: r.durationMs };
  } finally {
    await net.run(crawler.stop());
  }
}

interface SizeRun {
  size: number;
  buildWallMs: number;
  buildFakeMs: number;
  buildDatagrams: number;
  heapPerNode: number;
  rssPerNode: number;
  tableSize: Summary;
  crawl: CrawlRun | null;
  wallPerLookupMs: number[];
  fakePerLookupMs: number[];
  messages: number[];
  datagrams: number[];
  hops: number[];
  trueClosest: number[];
  recall: number[];
  failures: string[];
}

async function collectGarbage(): Promise<void> {
  const gc = globalThis.gc;
  if (!gc) return;
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
}

/**
 * The k ids nearest `target` among `ids` (all but `exclude`), nearest first: a scan that keeps the
 * best k, comparing 48-bit distance prefixes and the full ids on a tie (no sort of 50,000 ids).
 */
function trueClosest(ids: readonly Uint8Array[], hex: readonly string[], target: Uint8Array, k: number, exclude: number): string[] {
  const best: { i: number; key: number }[] = [];
  const key = (id: Uint8Array): number =>
    (id[0] ^ target[0]) * 2 ** 40 + (id[1] ^ target[1]) * 2 ** 32 + (id[2] ^ target[2]) * 2 ** 24 + (((id[3] ^ target[3]) << 16) | ((id[4] ^ target[4]) << 8) | (id[5] ^ target[5]));
  const closer = (a: { i: number; key: number }, b: { i: number; key: number }): boolean => {
    if (a.key !== b.key) return a.key < b.key;
    for (let j = 6; j < target.length; j++) {
      const da = ids[a.i][j] ^ target[j];
      const db = ids[b.i][j] ^ target[j];
      if (da !== db) return da < db;
    }
    return false;
  };
  for (let i = 0; i < ids.length; i++) {
    if (i === exclude) continue;
    const c = { i, key: key(ids[i]) };
    if (best.length === k && !closer(c, best[k - 1])) continue;
    let at = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push(c);
    while (at > 0 && closer(c, best[at - 1])) {
      best[at] = best[at - 1];
      at--;
    }
    best[at] = c;
  }
  return best.map((b) => hex[b.i]);
}

async function runSize(core: Core, size: number, opts: ScaleMemoryOptions): Promise<SizeRun> {
  await collectGarbage();
  const before = process.memoryUsage();
  const clock = new core.FakeClock();
  const fake0 = clock.now();
  const t0 = performance.now();
  const first = Math.min(size, BUILD_STEP_NODES);
  const net = await core.createTestnet({ size: first, transport: 'memory', seed: opts.seed, clock, latencyMs: opts.latencyMs, node: { refreshOnBootstrap: false, refreshIntervalMs: REFRESH_HELD_OFF_MS } });
  try {
    for (let built = first; built < size; built += BUILD_STEP_NODES) {
      await net.addNodes(Math.min(BUILD_STEP_NODES, size - built));
      console.log(`  kadscope: ${net.nodes.length} of ${size} nodes joined (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  } catch (err) {
    await net.destroy();
    throw err;
  }
  const buildWallMs = performance.now() - t0;
  const buildFakeMs = clock.now() - fake0;
  const buildDatagrams = net.network?.stats.sent ?? 0;
  console.log(`  kadscope: ${size} nodes built in ${(buildWallMs / 1000).toFixed(1)} s wall (${(buildFakeMs / 1000).toFixed(0)} s simulated, ${buildDatagrams} datagrams)`);
  try {
    await clock.tickAsync(DRAIN_FAKE_MS);
    await collectGarbage();
    const after = process.memoryUsage();
    const run: SizeRun = {
      size,
      buildWallMs,
      buildFakeMs,
      buildDatagrams,
      heapPerNode: (after.heapUsed - before.heapUsed) / size,
      rssPerNode: (after.rss - before.rss) / size,
      tableSize: summarize(net.nodes.map((n) => n.table.size)),
      crawl: null,
      wallPerLookupMs: [],
      fakePerLookupMs: [],
      messages: [],
      datagrams: [],
      hops: [],
      trueClosest: [],
      recall: [],
      failures: [],
    };
    console.log(`  kadscope: ${size} nodes: ${(run.heapPerNode / 1024).toFixed(1)} KiB heap per node, routing tables median ${run.tableSize.median} peers`);

    const ids = net.nodes.map((n) => n.idBytes);
    const hex = net.nodes.map((n) => n.id);
    const rng = seededRng(opts.seed ^ size);
    for (let q = 0; q < opts.lookups; q++) {
      const from = rng.int(size);
      const targetHex = rng.hex(32);
      const target = Buffer.from(targetHex, 'hex');
      const sent0 = net.network?.stats.sent ?? 0;
      const w0 = performance.now();
      try {
        const r = await net.run(net.nodes[from].findNode(targetHex));
        run.wallPerLookupMs.push(performance.now() - w0);
        run.fakePerLookupMs.push(r.durationMs);
        run.messages.push(r.messages);
        run.datagrams.push((net.network?.stats.sent ?? 0) - sent0);
        run.hops.push(r.hops);
        const truth = trueClosest(ids, hex, target, opts.k, from);
        const found = new Set(r.closest.slice(0, opts.k).map((c) => c.id));
        run.trueClosest.push(r.closest.some((c) => c.id === truth[0]) ? 1 : 0);
        run.recall.push(truth.filter((id) => found.has(id)).length / truth.length);
      } catch (err) {
        run.failures.push((err as Error).message);
      }
    }
    run.crawl = await crawlNetwork(core, net, clock);
    console.log(`  kadscope: crawl of ${size} nodes: ${run.crawl.found} found, ${run.crawl.reachable} reachable, ${(run.crawl.wallMs / 1000).toFixed(1)} s wall, ${run.crawl.requests} requests`);
    return run;
  } finally {
    await net.destroy();
  }
}

export async function runScaleMemoryWorkload(drivers: SystemDriver[], opts: ScaleMemoryOptions, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const systems = drivers.map((d) => d.name);
  const status: Record<string, SystemStatus> = Object.fromEntries(systems.map((s) => [s, { status: 'skipped', reason: NO_SIMULATED_TRANSPORT } as SystemStatus]));
  const runs: SizeRun[] = [];
  const diagnostics: Record<string, Record<string, unknown>> = {};
  try {
    const core = (await import(CORE_INDEX_URL)) as unknown as Core;
    for (const size of opts.sizes) {
      try {
        runs.push(await runSize(core, size, opts));
      } catch (err) {
        diagnostics.kadscope = { ...diagnostics.kadscope, [`failed-${size}`]: (err as Error).message };
        console.log(`  kadscope: ${size} nodes failed — ${(err as Error).message}`);
      }
      await collectGarbage();
    }
    status.kadscope = runs.length === opts.sizes.length ? { status: 'ok' } : runs.length ? { status: 'ok', reason: 'some sizes failed' } : { status: 'failed', reason: 'no size completed' };
  } catch (err) {
    status.kadscope = { status: 'failed', reason: (err as Error).message };
  }

  const only = (s: Summary | null): Record<string, Summary | null> => Object.fromEntries(systems.map((name) => [name, name === 'kadscope' ? s : null]));
  const one = (x: number): Summary => summarize([x]);
  const figures: Figure[] = [];
  for (const r of runs) {
    const label = `${r.size.toLocaleString('en-US')} nodes`;
    figures.push(
      { metric: `${label}: build time (wall clock)`, unit: 's', better: 'lower', show: 'median', values: only(one(r.buildWallMs / 1000)) },
      { metric: `${label}: heap per node`, unit: 'KiB', better: 'lower', show: 'median', values: only(one(r.heapPerNode / 1024)) },
      { metric: `${label}: true closest found`, unit: '%', better: 'higher', show: 'mean', values: only(r.trueClosest.length ? summarize(r.trueClosest) : null) },
      { metric: `${label}: recall@${opts.k}`, unit: '%', better: 'higher', show: 'mean', values: only(r.recall.length ? summarize(r.recall) : null) },
      { metric: `${label}: messages per lookup`, unit: 'requests', better: 'lower', show: 'median', values: only(r.messages.length ? summarize(r.messages) : null) },
      { metric: `${label}: hops`, unit: 'hops', better: 'lower', show: 'median', values: only(r.hops.length ? summarize(r.hops) : null) },
      { metric: `${label}: lookup time (simulated)`, unit: 'ms', better: 'lower', show: 'median', values: only(r.fakePerLookupMs.length ? summarize(r.fakePerLookupMs) : null) },
      { metric: `${label}: lookup wall time`, unit: 'ms', better: 'lower', show: 'median', values: only(r.wallPerLookupMs.length ? summarize(r.wallPerLookupMs) : null) },
    );
    if (r.crawl) {
      figures.push(
        { metric: `${label}: crawled under fake time, nodes found`, unit: '%', better: 'higher', show: 'mean', values: only(one(r.crawl.found / r.size)) },
        { metric: `${label}: crawled, nodes reachable`, unit: '%', better: 'higher', show: 'mean', values: only(one(r.crawl.reachable / r.size)) },
        { metric: `${label}: crawl rate (wall clock)`, unit: 'nodes/s', better: 'higher', show: 'median', values: only(one((r.crawl.found * 1000) / r.crawl.wallMs)) },
      );
    }
    diagnostics.kadscope = {
      ...diagnostics.kadscope,
      [String(r.size)]: {
        buildWallMs: r.buildWallMs,
        buildSimulatedMs: r.buildFakeMs,
        buildDatagrams: r.buildDatagrams,
        datagramsPerNodeToBuild: r.buildDatagrams / r.size,
        heapPerNodeBytes: r.heapPerNode,
        rssPerNodeBytes: r.rssPerNode,
        routingTableSize: { median: r.tableSize.median, min: r.tableSize.min, max: r.tableSize.max },
        lookupsMeasured: r.messages.length,
        lookupsFailed: r.failures.length,
        firstFailures: r.failures.slice(0, 3),
        networkDatagramsPerLookupMedian: r.datagrams.length ? summarize(r.datagrams).median : null,
        crawl: r.crawl,
      },
    };
  }

  const notes = [
    `kadscope only: createTestnet({ size, transport: "memory", seed, node: { refreshOnBootstrap: false, refreshIntervalMs } }) in this process under a FakeClock, grown with testnet.addNodes() in steps of ${BUILD_STEP_NODES} nodes (each step's fake time is driven by FakeClock.run, which stops at one simulated hour); every node joins through real protocol traffic (PING its bootstrap nodes, then a lookup of its own id), 8 at a time. dht-rpc and bittorrent-dht have no simulated transport, only real sockets.`,
    "refreshOnBootstrap: false skips the refresh of farther buckets after each join (~40% of a join's requests at 500 nodes); lookups are as correct without it because later joiners fill earlier nodes' far buckets (see test/integration/memory-network.test.ts).",
    'refreshIntervalMs: 24 h holds the periodic bucket refresh off: the testnet joins 8 nodes at a time, so the build spans many simulated minutes (see settings and diagnostics) in which early joiners would otherwise refresh every 15 minutes, making build traffic grow with the square of the size.',
    `heap per node: heapUsed growth over the build after a forced GC, measured after ${DRAIN_FAKE_MS / 1000} s of idle fake time (FakeClock keeps cleared timers' callbacks, and so every finished lookup, until their due time).`,
    'Crawl: after the lookups, a fresh node on the same memory network crawls it with core/crawl (one bootstrap address, 64 nodes at once, the default timeout and retry) under the same fake time; found and reachable count the network\'s nodes.',
    `${opts.lookups} lookups per size from seeded askers to seeded random targets, one at a time; correctness against all ids but the asker's; messages = the lookup's own request count; lookup time is simulated (one-way latency ${opts.latencyMs.min}-${opts.latencyMs.max} ms).`,
  ];
  return workloadResult('scale-memory', command, startedAt, { ...opts, transport: 'memory', clock: 'FakeClock', refreshOnBootstrap: false, refreshIntervalMs: REFRESH_HELD_OFF_MS, drainFakeMs: DRAIN_FAKE_MS }, { systems, status, figures, diagnostics, notes });
}
