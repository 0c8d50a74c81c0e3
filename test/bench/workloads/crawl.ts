// Crawl rate and memory: the crawler (core/crawl) mapping a kadscope UDP testnet on 127.0.0.1 and a
// large network on the simulated transport under fake time. Rate = nodes crawled per second of wall
// time (on the memory network that is CPU-bound: fake time costs nothing); memory = heap above the
// built network's while the crawl runs (sampled at every progress event), and the heap its result
// keeps. KADSCOPE_CRAWL_BENCH_MEMORY_SIZE sets the memory network's size.
import { FakeClock } from '../../../core/clock';
import { crawl, kadscopeCrawlClient, type CrawlResult } from '../../../core/crawl';
import { seededRandomBytes } from '../../../core/id';
import { DhtNode } from '../../../core/node';
import { createTestnet, type Testnet } from '../../../core/testnet';
import type { Figure, WorkloadResult } from '../harness';
import { summarize } from '../harness';
import { workloadResult } from './common';

export interface CrawlBenchOptions {
  udpSize: number;
  memorySize: number;
  /** Crawls of each network (the figures are their median). */
  rounds: number;
}

export const CRAWL_BENCH_DEFAULTS: CrawlBenchOptions = {
  udpSize: 1000,
  memorySize: Number(process.env.KADSCOPE_CRAWL_BENCH_MEMORY_SIZE ?? 10_000),
  rounds: Number(process.env.KADSCOPE_CRAWL_BENCH_ROUNDS ?? 3),
};

const MB = 1024 * 1024;

function heap(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

interface Round {
  rate: number;
  wallMs: number;
  peakMb: number;
  keptMb: number;
  foundPct: number;
  reachablePct: number;
  requestsPerNode: number;
  fakeMs: number;
}

async function measure(net: Testnet, crawler: DhtNode, clock: FakeClock | null, seed: number): Promise<Round> {
  const base = heap();
  let peak = base;
  const t0 = performance.now();
  const p = crawl(kadscopeCrawlClient(crawler), {
    bootstrap: [net.bootstrap[0]],
    randomBytes: seededRandomBytes(seed),
    concurrency: 64,
    ...(clock ? { clock } : {}),
    onProgress: () => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    },
  });
  const r: CrawlResult = await (clock ? clock.run(p) : p);
  const wallMs = performance.now() - t0;
  const kept = heap() - base;
  const live = new Set(net.live().map((n) => n.id));
  const found = r.nodes.filter((n) => n.id !== null && live.has(n.id)).length;
  const reachable = r.nodes.filter((n) => n.status === 'reachable' && live.has(n.id!)).length;
  return {
    rate: (r.found * 1000) / wallMs,
    wallMs,
    peakMb: (peak - base) / MB,
    keptMb: kept / MB,
    foundPct: found / live.size,
    reachablePct: reachable / live.size,
    requestsPerNode: r.requests / r.found,
    fakeMs: r.durationMs,
  };
}

export async function runCrawlWorkload(opts: CrawlBenchOptions, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const rounds: Record<'udp' | 'memory', Round[]> = { udp: [], memory: [] };
  const builds: Record<string, number> = {};

  {
    const t = performance.now();
    const net = await createTestnet({ size: opts.udpSize, transport: 'udp', seed: 0xbe1, node: { refreshOnBootstrap: false } });
    builds.udp = performance.now() - t;
    const crawler = DhtNode.create({ host: '127.0.0.1' });
    await crawler.start();
    for (let i = 0; i < opts.rounds; i++) {
      rounds.udp.push(await measure(net, crawler, null, i + 1));
      console.log(`  udp ${opts.udpSize}: ${rounds.udp.at(-1)!.rate.toFixed(0)} nodes/s, ${(100 * rounds.udp.at(-1)!.foundPct).toFixed(1)}% found`);
    }
    await crawler.stop();
    await net.destroy();
  }
  {
    const clock = new FakeClock();
    const t = performance.now();
    const net = await createTestnet({ size: opts.memorySize, transport: 'memory', seed: 0xbe2, clock, node: { refreshOnBootstrap: false } });
    builds.memory = performance.now() - t;
    const crawler = DhtNode.create({ transport: net.network!.createTransport({}), clock, randomBytes: seededRandomBytes(5), diversity: false });
    await net.run(crawler.start());
    for (let i = 0; i < opts.rounds; i++) {
      rounds.memory.push(await measure(net, crawler, clock, i + 1));
      console.log(`  memory ${opts.memorySize}: ${rounds.memory.at(-1)!.rate.toFixed(0)} nodes/s, ${(100 * rounds.memory.at(-1)!.foundPct).toFixed(1)}% found`);
    }
    await crawler.stop();
    await net.destroy();
  }

  const fig = (metric: string, unit: string, better: Figure['better'], values: number[]): Figure => ({ metric, unit, better, show: 'median', values: { kadscope: summarize(values) } });
  const figures: Figure[] = [];
  for (const [kind, size] of [['udp', opts.udpSize], ['memory', opts.memorySize]] as const) {
    const rs = rounds[kind];
    const label = kind === 'udp' ? `${size}-node UDP testnet` : `${size}-node memory network (fake time)`;
    figures.push(
      fig(`crawl rate, ${label}`, 'nodes/s', 'higher', rs.map((r) => r.rate)),
      fig(`crawl duration, ${label}`, 'ms', 'lower', rs.map((r) => r.wallMs)),
      fig(`heap above the network's while crawling, ${label}`, 'MB', 'lower', rs.map((r) => r.peakMb)),
      fig(`heap the crawl result keeps, ${label}`, 'MB', 'lower', rs.map((r) => r.keptMb)),
      fig(`nodes found, ${label}`, '%', 'higher', rs.map((r) => r.foundPct)),
      fig(`nodes reachable, ${label}`, '%', 'higher', rs.map((r) => r.reachablePct)),
      fig(`requests per node, ${label}`, '', 'lower', rs.map((r) => r.requestsPerNode)),
    );
  }
  const diagnostics = { kadscope: { udpBuildMs: Math.round(builds.udp), memoryBuildMs: Math.round(builds.memory), memoryFakeMs: rounds.memory.map((r) => r.fakeMs) } };
  const notes = [
    `One crawling node (a fresh DhtNode, 64 nodes crawled at once, default timeout 2 s + 1 retry, 20 requests/s per address) from one bootstrap address; ${opts.rounds} crawls of each network, the same network each time.`,
    'Rate = nodes found / wall time of the crawl. On the memory network fake time moves only as far as the datagrams need, so the rate is the CPU cost of crawler + network simulation together.',
    'Heap: with --expose-gc, heapUsed after a GC before the crawl is the base; "while crawling" is the highest heapUsed seen at progress events minus the base (garbage included); "keeps" is after a GC with the result still referenced.',
  ];
  return workloadResult('crawl', command, startedAt, { ...opts }, { figures, diagnostics, notes });
}
