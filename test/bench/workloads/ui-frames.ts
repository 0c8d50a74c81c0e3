// ui-frames: the graph view with 2,000 peers while 500 events a second arrive. Headless Chromium
// (Debian's /usr/bin/chromium) opens the real renderer (out/renderer) served by the real web host;
// behind it, instead of a DHT node, a synthetic ContractHandler publishes a seeded stream of peer
// health changes, churn and lookups in batches as often as the service's batcher sends them
// (every FLUSH_INTERVAL_MS). Frame time is sampled in the page with
// requestAnimationFrame. Target: p95 under 50 ms (a frame budget that keeps the UI smooth).
//
//   node --import tsx test/bench/workloads/ui-frames.ts          (standalone)
//   or runUiFramesWorkload(...) from run.ts as the `ui-frames` workload
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Figure, WorkloadResult } from '../harness';
import { machineInfo, markdownTable, summarize, writeResult } from '../harness';
import { bucketIndex, bytesToHex, randomIdInBucket, seededRandom, seededRandomBytes } from '../../../core/id';
import type { BatchSink, ContractHandler } from '../../../electron/host/client';
import {
  CONTRACT_VERSION,
  DEFAULT_SETTINGS,
  err,
  ok,
  type Counters,
  type EventBatch,
  type ExplorerEvent,
  type LookupEvent,
  type PeerInfo,
  type Result,
  type SnapshotDto,
} from '../../../electron/host/contract';
import { FLUSH_INTERVAL_MS } from '../../../electron/host/batcher';
import { startWebHost } from '../../../electron/host/web-host';

export interface UiFramesOptions {
  peers: number;
  eventsPerSecond: number;
  /** Batches a second, as the service's batcher sends them. */
  batchesPerSecond: number;
  /** Frame sampling window after the graph is drawn. */
  sampleMs: number;
  /** Settle time before sampling (graph built, first fit done). */
  warmupMs: number;
  seed: number;
}

export const UI_FRAMES_DEFAULTS: UiFramesOptions = { peers: 2000, eventsPerSecond: 500, batchesPerSecond: Math.round(1000 / FLUSH_INTERVAL_MS), sampleMs: 10_000, warmupMs: 2000, seed: 7 };

export const FRAME_P95_TARGET_MS = 50;
const CHROMIUM = process.env.KADSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GRAPH_READY_TIMEOUT_MS = 60_000;
const RING_BUCKETS = 16;
const STATES: PeerInfo['state'][] = ['good', 'good', 'good', 'questionable', 'bad', 'unknown'];
const METHOD = { sent: 0, responses: 0, timeouts: 0, errors: 0, received: 0 };
const ALPHA = 3;
/** Events per synthetic lookup: about half queries, half answers and timeouts. */
const LOOKUP_STEPS = 80;

/** The synthetic host: a fixed table of peers and a seeded event stream. */
class SyntheticHost implements ContractHandler {
  readonly self: string;
  private readonly peers = new Map<string, PeerInfo>();
  private readonly ids: string[] = [];
  private readonly rand: () => number;
  private readonly randBytes: (n: number) => Uint8Array;
  private readonly selfBytes: Uint8Array;
  private timer: ReturnType<typeof setInterval> | null = null;
  private sinks = new Set<{ sink: BatchSink; seq: number }>();
  private lookupSeq = 0;
  private lookup: { id: string; target: string; step: number; waiting: PeerInfo[] } | null = null;
  private carry = 0;
  private tickAt = 0;
  published = 0;
  private readonly startedAt = Date.now();

  constructor(private readonly opts: UiFramesOptions) {
    this.randBytes = seededRandomBytes(opts.seed);
    this.rand = seededRandom(opts.seed + 1);
    this.selfBytes = this.randBytes(32);
    this.self = bytesToHex(this.selfBytes);
    for (let i = 0; i < opts.peers; i++) this.addPeer();
  }

  private newPeer(): PeerInfo {
    // Spread over the first RING_BUCKETS buckets, so every ring of the graph has nodes.
    const b = Math.floor(this.rand() * RING_BUCKETS);
    const idBytes = randomIdInBucket(this.selfBytes, b, this.randBytes);
    const id = bytesToHex(idBytes);
    const now = Date.now();
    return { id, host: '127.0.0.1', port: 10_000 + Math.floor(this.rand() * 50_000), bucket: bucketIndex(this.selfBytes, idBytes), addedAt: now, state: 'good', rttMs: 1 + this.rand() * 20, lastSeen: now, failures: 0, answered: 1, queried: 1 };
  }

  private addPeer(): PeerInfo {
    const p = this.newPeer();
    this.peers.set(p.id, p);
    this.ids.push(p.id);
    return p;
  }

  private randomPeer(): PeerInfo {
    return this.peers.get(this.ids[Math.floor(this.rand() * this.ids.length)])!;
  }

  private counters(): Counters {
    const n = this.published;
    return {
      rxPackets: n,
      txPackets: n,
      rxBytes: n * 120,
      txBytes: n * 90,
      dropped: {},
      rpc: { PING: { ...METHOD, sent: n }, FIND_NODE: METHOD, FIND_VALUE: METHOD, STORE: METHOD, ANNOUNCE: METHOD, GET_PEERS: METHOD, CALL: METHOD, BROADCAST: METHOD },
      inFlight: 0,
    };
  }

  snapshot(): SnapshotDto {
    const peers = [...this.peers.values()];
    return {
      node: {
        id: this.self,
        address: { host: '127.0.0.1', port: 4000 },
        observedAddress: null,
        startedAt: this.startedAt,
        now: Date.now(),
        k: 20,
        alpha: 3,
        buckets: [],
        peers,
        counters: this.counters(),
        estimatedNetworkSize: this.opts.peers,
        diversityLimits: false,
      },
      testnet: { running: false, transport: null, alive: 0, stopped: 0, bootstrap: [], inWorker: false, startedAt: null },
      records: [],
    };
  }

  async invoke(method: string): Promise<Result<unknown>> {
    switch (method) {
      case 'snapshot':
        return ok(this.snapshot());
      case 'settingsGet':
        return ok(DEFAULT_SETTINGS);
      case 'info':
        return ok({ contractVersion: CONTRACT_VERSION, appVersion: 'bench', host: 'web', dataDir: '-', mode: 'standalone' });
      case 'tracesList':
        return ok([]);
      default:
        return err('UNAVAILABLE', `${method} is not part of the ui-frames benchmark`);
    }
  }

  subscribe(sink: BatchSink): () => void {
    const s = { sink, seq: 0 };
    this.sinks.add(s);
    return () => this.sinks.delete(s);
  }

  start(): void {
    const intervalMs = 1000 / this.opts.batchesPerSecond;
    this.timer = setInterval(() => this.flush(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private lookupEvent(): LookupEvent {
    const now = Date.now();
    if (!this.lookup || this.lookup.step > LOOKUP_STEPS) {
      const target = bytesToHex(this.randBytes(32));
      this.lookup = { id: `bench-${++this.lookupSeq}`, target, step: 0, waiting: [] };
      return { lookupId: this.lookup.id, at: now, type: 'started', kind: 'find-node', target, self: this.self, k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [] };
    }
    const l = this.lookup;
    l.step++;
    // Queries go to random peers, up to ALPHA at once; answers and timeouts come from those, in order.
    const asking = l.waiting.length < ALPHA && l.step < LOOKUP_STEPS;
    const p = asking ? this.randomPeer() : (l.waiting.shift() ?? this.randomPeer());
    const peer = { id: p.id, host: p.host, port: p.port };
    if (l.step >= LOOKUP_STEPS && l.waiting.length === 0) {
      l.step = LOOKUP_STEPS + 1;
      return { lookupId: l.id, at: now, type: 'done', reason: 'converged', closest: [peer], hops: 3, messages: LOOKUP_STEPS / 2, durationMs: 2000, timeToClosestMs: 1500 };
    }
    if (asking) {
      l.waiting.push(p);
      return { lookupId: l.id, at: now, type: 'query', peer, hop: 1 + (l.step >> 4), bytes: 60 };
    }
    if (this.rand() < 0.15) return { lookupId: l.id, at: now, type: 'timeout', peer, hop: 1, afterMs: 2000 };
    const nodes = Array.from({ length: 8 }, () => {
      const q = this.randomPeer();
      return { id: q.id, host: q.host, port: q.port };
    });
    return { lookupId: l.id, at: now, type: 'response', peer, hop: 1, rttMs: p.rttMs ?? 5, bytes: 600, nodes };
  }

  /** One event, or two for churn (a peer leaves and another joins, so the table keeps its size). */
  private nextEvents(out: ExplorerEvent[]): void {
    const r = this.rand();
    if (r < 0.6) {
      const p = this.randomPeer();
      const state = STATES[Math.floor(this.rand() * STATES.length)];
      const next: PeerInfo = { ...p, state, failures: state === 'bad' ? 3 : state === 'questionable' ? 1 : 0, rttMs: 1 + this.rand() * 30, lastSeen: Date.now() };
      this.peers.set(p.id, next);
      out.push({ type: 'peer-health', peer: next });
    } else if (r < 0.9) {
      out.push({ type: 'lookup', event: this.lookupEvent() });
    } else {
      const gone = this.randomPeer();
      this.peers.delete(gone.id);
      const fresh = this.newPeer();
      this.peers.set(fresh.id, fresh);
      this.ids[this.ids.indexOf(gone.id)] = fresh.id;
      out.push({ type: 'peer-removed', id: gone.id, host: gone.host, port: gone.port, reason: 'failed' }, { type: 'peer-added', peer: fresh });
    }
  }

  private flush(): void {
    this.carry += this.opts.eventsPerSecond / this.opts.batchesPerSecond;
    const n = Math.floor(this.carry);
    this.carry -= n;
    const events: ExplorerEvent[] = [];
    while (events.length < n) this.nextEvents(events);
    const now = Date.now();
    if (now - this.tickAt >= 1000) {
      this.tickAt = now;
      events.push({ type: 'tick', at: now, counters: this.counters(), peers: this.peers.size, estimatedNetworkSize: this.opts.peers, observedAddress: null });
    }
    this.published += events.length;
    for (const s of this.sinks) {
      const batch: EventBatch = { seq: ++s.seq, events, resync: false };
      s.sink.deliver(batch);
    }
  }
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

const HOT_FUNCTIONS = 25;

function printHotFunctions(profile: CpuProfile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)?.callFrame;
    if (!f) return;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  for (const [k, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, HOT_FUNCTIONS)) console.log(`${ms.toFixed(0).padStart(7)} ms  ${k}`);
}

function ensureRendererBuilt(): void {
  if (existsSync(`${ROOT}out/renderer/index.html`) && process.env.KADSCOPE_BENCH_REBUILD !== '1') return;
  execFileSync(process.execPath, [`${ROOT}node_modules/vite/bin/vite.js`, 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}

export async function runUiFramesWorkload(opts: UiFramesOptions, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const result: WorkloadResult = {
    workload: 'ui-frames',
    startedAt,
    finishedAt: startedAt,
    command,
    machine: await machineInfo(),
    settings: { ...opts, browser: CHROMIUM, viewport: '1440x900', targetP95Ms: FRAME_P95_TARGET_MS },
    systems: ['kadscope'],
    status: {},
    figures: [],
    diagnostics: {},
    notes: [],
  };
  if (!existsSync(CHROMIUM)) {
    result.status.kadscope = { status: 'skipped', reason: `no Chromium at ${CHROMIUM} (apt-get install chromium)` };
    console.log(`  ui-frames: skipped — ${result.status.kadscope.reason}`);
    return result;
  }
  ensureRendererBuilt();
  const host = new SyntheticHost(opts);
  const web = await startWebHost(host, { port: 0 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${web.url}#/graph`);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="graph-peer-count"]')?.getAttribute('data-count')) >= n, opts.peers, { timeout: GRAPH_READY_TIMEOUT_MS });
    host.start();
    await page.waitForTimeout(opts.warmupMs); // a benchmark's settle time, not a test's wait
    const before = host.published;
    // KADSCOPE_BENCH_PROFILE=1 prints the page's hottest functions (CPU profile of the sample window).
    const cdp = process.env.KADSCOPE_BENCH_PROFILE === '1' ? await page.context().newCDPSession(page) : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.start');
    }
    // A string, not a function: tsx's transform adds helpers (__name) that do not exist in the page.
    const deltas = (await page.evaluate(`new Promise((resolve) => {
      const out = [];
      let last = performance.now();
      const end = last + ${opts.sampleMs};
      const frame = (t) => {
        out.push(t - last);
        last = t;
        if (t < end) requestAnimationFrame(frame);
        else resolve(out);
      };
      requestAnimationFrame(frame);
    })`)) as number[];
    const events = host.published - before;
    if (cdp) printHotFunctions(((await cdp.send('Profiler.stop')) as { profile: CpuProfile }).profile);
    host.stop();
    const all = summarize(deltas);
    // p95 of each second, so one stall does not hide in a long run (and vice versa).
    const perSecond: number[] = [];
    let acc: number[] = [];
    let t = 0;
    for (const d of deltas) {
      acc.push(d);
      t += d;
      if (t >= 1000) {
        perSecond.push(summarize(acc).p95);
        acc = [];
        t = 0;
      }
    }
    const figures: Figure[] = [
      { metric: 'frame time', unit: 'ms', better: 'lower', show: 'median', values: { kadscope: all } },
      { metric: 'frame time p95, per second', unit: 'ms', better: 'lower', show: 'median', values: { kadscope: summarize(perSecond) } },
      { metric: 'events applied', unit: '/s', better: 'higher', show: 'mean', values: { kadscope: summarize([(events / opts.sampleMs) * 1000]) } },
    ];
    result.figures = figures;
    result.status.kadscope = { status: 'ok' };
    result.diagnostics.kadscope = { frames: deltas.length, p95Ms: all.p95, maxMs: all.max, drawnPeers: opts.peers };
    result.notes.push(`frame time p95 over the whole run: ${all.p95.toFixed(1)} ms (target < ${FRAME_P95_TARGET_MS} ms): ${all.p95 < FRAME_P95_TARGET_MS ? 'met' : 'NOT met'}`);
  } catch (e) {
    result.status.kadscope = { status: 'failed', reason: (e as Error).message };
  } finally {
    host.stop();
    await browser.close();
    await web.close();
  }
  result.finishedAt = new Date().toISOString();
  return result;
}

// Standalone: node --import tsx test/bench/workloads/ui-frames.ts
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await runUiFramesWorkload(UI_FRAMES_DEFAULTS, `node --import tsx test/bench/workloads/ui-frames.ts`);
  console.log(markdownTable(r));
  for (const n of r.notes) console.log(n);
  if (r.status.kadscope?.status !== 'ok') console.log(`ui-frames: ${r.status.kadscope?.status}: ${r.status.kadscope?.reason ?? ''}`);
  const { file } = await writeResult(r);
  console.log(`wrote ${file}`);
}
