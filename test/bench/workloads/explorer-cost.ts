// What the explorer costs the node it shows: process CPU of one kadscope node doing a steady load of
// lookups on a UDP testnet, in windows where it runs bare (a DhtNode, nobody listening) and windows
// where it runs as the app runs it (ExplorerService: its listeners, traces, event batcher, the tick
// snapshot) with a subscriber that serialises every batch as the headless host does before its
// WebSocket send. The testnet runs in a child process, so this process's CPU is the node's own
// (and, in the windows with it, the explorer's). Windows alternate, so load from elsewhere on the
// machine falls on both.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DhtNode } from '../../../core/node';
import { bytesToHex, randomId } from '../../../core/id';
import { batchMessage } from '../../../electron/host/batch-codec';
import { ExplorerService } from '../../../electron/host/service';
import { EXPLORER_STAGES_DEFAULTS, measureExplorerStages, STAGE_NAMES, type ExplorerStages } from '../explorer-stages';
import type { Figure, WorkloadResult } from '../harness';
import { summarize } from '../harness';
import { workloadResult } from './common';

export interface ExplorerCostOptions {
  testnetSize: number;
  /** Lookups the node starts per second, all windows alike. */
  lookupsPerSecond: number;
  /** Seconds per measured window (after a warm-up second). */
  windowS: number;
  /** Window pairs (bare, explorer), alternating which comes first. */
  rounds: number;
}

export const EXPLORER_COST_DEFAULTS: ExplorerCostOptions = { testnetSize: 50, lookupsPerSecond: 20, windowS: 6, rounds: 5 };

const TESTNET_URL = new URL('../../../core/testnet.ts', import.meta.url).href;
const READY_TIMEOUT_MS = 120_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A UDP testnet in a child process (same Node flags, so the tsx loader); resolves with its bootstrap addresses. */
function startTestnetChild(size: number): Promise<{ child: ChildProcess; bootstrap: string[] }> {
  const code = `import(${JSON.stringify(TESTNET_URL)}).then(async (m) => { const t = await m.createTestnet({ size: ${size}, transport: 'udp', host: '127.0.0.1' }); console.log('ready ' + JSON.stringify(t.bootstrap)); process.on('SIGTERM', () => { t.destroy().then(() => process.exit(0)); }); });`;
  const child = spawn(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--max-old-space')), '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the ${size}-node testnet child did not start within ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready '));
      if (!line) return;
      clearTimeout(timer);
      resolve({ child, bootstrap: JSON.parse(line.slice('ready '.length)) as string[] });
    });
    child.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`the testnet child exited with code ${c}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}

interface Window {
  cpuPct: number;
  /** This process's main thread (the node's JavaScript and the explorer's) alone; null where /proc has no schedstat. */
  mainThreadPct: number | null;
  /** Every other thread of this process: V8's GC and compiler threads, libuv's pool. */
  otherThreadsPct: number | null;
  /** Time the main thread stood in garbage collection pauses (node:perf_hooks 'gc' entries), ms per second. */
  gcMsPerS: number;
  lookups: number;
  batches: number;
  batchBytes: number;
}

/**
 * Nanoseconds each thread of this process has run, from /proc/self/task/<tid>/schedstat (Linux;
 * its first field is the time on a CPU): the main thread (tid = pid) and the rest summed. null
 * where there is no such file, and the figures built from it are then left out.
 */
function threadTimes(): { main: number; others: number } | null {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      let ns: number;
      try {
        ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        continue; // the thread ended meanwhile
      }
      if (Number(tid) === process.pid) main += ns;
      else others += ns;
    }
    return { main, others };
  } catch {
    return null;
  }
}

/**
 * The main thread's garbage collection pauses, as V8 reports them (perf_hooks 'gc' entries: start
 * and duration on the performance timeline). Entries arrive after the pause, so a window reads
 * its own after it ends; entries older than the last reading are dropped, so the list is bounded.
 */
class GcPauses {
  private entries: Array<{ start: number; ms: number }> = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.entries.push({ start: e.startTime, ms: e.duration });
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Milliseconds of pauses that started in [from, to) (performance.now() times); forgets everything before `to`. */
  take(from: number, to: number): number {
    let ms = 0;
    for (const e of this.entries) if (e.start >= from && e.start < to) ms += e.ms;
    this.entries = this.entries.filter((e) => e.start >= to);
    return ms;
  }

  stop(): void {
    this.observer.disconnect();
  }
}

/**
 * Both nodes live throughout (a node started per window would leave a departed node in the
 * testnet's tables each time, and later windows' lookups would wait on it): the bare one, and the
 * explorer's. Each window puts the load on one of them; the explorer's subscriber is attached only
 * in its own windows (without one the service builds no tick snapshots and delivers nothing).
 */
interface Subjects {
  bare: DhtNode;
  service: ExplorerService;
  gc: GcPauses;
}

async function runWindow(explorer: boolean, subjects: Subjects, opts: ExplorerCostOptions): Promise<Window> {
  const node = explorer ? subjects.service.node : subjects.bare;
  let batches = 0;
  let batchBytes = 0;
  const unsubscribe = explorer
    ? subjects.service.subscribe({
        deliver: (batch) => {
          batches++;
          batchBytes += JSON.stringify(batchMessage(batch)).length;
        },
        congested: () => false,
      })
    : null;
  let stop = false;
  let lookups = 0;
  let failed = 0;
  let firstError: string | null = null;
  const load = (async () => {
    while (!stop) {
      const t = performance.now();
      void node.findNode(bytesToHex(randomId())).then(
        () => lookups++,
        (e: Error) => {
          failed++;
          firstError ??= e.message;
        },
      );
      await sleep(Math.max(0, 1000 / opts.lookupsPerSecond - (performance.now() - t)));
    }
  })();
  try {
    await sleep(1000);
    const l0 = lookups;
    const b0 = batches;
    const bytes0 = batchBytes;
    const c0 = process.cpuUsage();
    const th0 = threadTimes();
    const t0 = performance.now();
    await sleep(opts.windowS * 1000);
    const cpu = process.cpuUsage(c0);
    const th1 = threadTimes();
    const t1 = performance.now();
    const wall = t1 - t0;
    await sleep(20); // the window's last 'gc' entries are delivered after it
    const gcMs = subjects.gc.take(t0, t1);
    // Threads that ended inside the window drop out of the second reading; a negative share is that, not work.
    const share = (a: number, b: number): number => Math.max(0, (b - a) / 1e6 / wall) * 100;
    if (firstError !== null) console.log(`  ${failed} lookups failed, the first: ${firstError}`);
    return {
      cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
      mainThreadPct: th0 && th1 ? share(th0.main, th1.main) : null,
      otherThreadsPct: th0 && th1 ? share(th0.others, th1.others) : null,
      gcMsPerS: gcMs / (wall / 1000),
      lookups: lookups - l0,
      batches: batches - b0,
      batchBytes: batchBytes - bytes0,
    };
  } finally {
    stop = true;
    await load;
    await sleep(500); // let the window's last lookups finish before the next window
    unsubscribe?.();
  }
}

/** The host stages' CPU per lookup, one row each. */
function stageFigures(stages: ExplorerStages): Figure[] {
  const label: Record<(typeof STAGE_NAMES)[number], string> = {
    traces: 'trace recorder',
    batcher: 'event batcher',
    encode: 'wire encoding',
    stringify: 'JSON.stringify',
  };
  return STAGE_NAMES.map((n) => ({ metric: `host stage alone, per lookup: ${label[n]}`, unit: 'µs', better: 'lower', show: 'median', values: { kadscope: stages.stages[n] } }));
}

/** The bare and explorer windows split into main thread and other threads (Linux); none where /proc gave no split. */
function threadFigures(bare: Window[], withExplorer: Window[], lookupsPerSecond: number): Figure[] {
  if (!bare.every((w) => w.mainThreadPct !== null) || !withExplorer.every((w) => w.mainThreadPct !== null)) return [];
  const fig = (metric: string, values: number[]): Figure => ({ metric, unit: '% of a core', better: 'lower', show: 'median', values: { kadscope: summarize(values) } });
  return [
    fig(`main thread, bare, ${lookupsPerSecond} lookups/s`, bare.map((w) => w.mainThreadPct!)),
    fig('main thread, explorer attached', withExplorer.map((w) => w.mainThreadPct!)),
    fig('other threads (GC, compiler, libuv pool), bare', bare.map((w) => w.otherThreadsPct!)),
    fig('other threads, explorer attached', withExplorer.map((w) => w.otherThreadsPct!)),
  ];
}

export async function runExplorerCostWorkload(opts: ExplorerCostOptions, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const { child, bootstrap } = await startTestnetChild(opts.testnetSize);
  const bare: Window[] = [];
  const withExplorer: Window[] = [];
  const service = new ExplorerService(
    { createNode: (o) => DhtNode.create({ ...o, host: '127.0.0.1', port: 0 }) },
    { host: 'web', appVersion: 'bench', dataDir: null, bootstrap, testnetSize: 0 },
  );
  const subjects: Subjects = { bare: DhtNode.create({ host: '127.0.0.1', port: 0, bootstrap }), service, gc: new GcPauses() };
  try {
    await subjects.bare.start();
    await service.start();
    // Warm-up: code, JIT, both tables.
    await runWindow(false, subjects, { ...opts, windowS: 1 });
    await runWindow(true, subjects, { ...opts, windowS: 1 });
    for (let r = 0; r < opts.rounds; r++) {
      const order = r % 2 === 0 ? [false, true] : [true, false];
      for (const explorer of order) (explorer ? withExplorer : bare).push(await runWindow(explorer, subjects, opts));
      const b = bare.at(-1)!;
      const w = withExplorer.at(-1)!;
      const split = (x: Window): string =>
        (x.mainThreadPct === null ? '' : ` (main thread ${x.mainThreadPct.toFixed(1)}, others ${x.otherThreadsPct!.toFixed(1)}; GC pauses ${x.gcMsPerS.toFixed(1)} ms/s)`);
      console.log(`  round ${r + 1}/${opts.rounds}: bare ${b.cpuPct.toFixed(1)}%${split(b)}, with the explorer ${w.cpuPct.toFixed(1)}%${split(w)} of a core`);
    }
  } finally {
    subjects.gc.stop();
    await service.stop();
    await subjects.bare.stop();
    await stopChild(child);
  }
  // After the windows, with the testnet gone: the explorer's host stages alone (explorer-stages.ts).
  const stages = await measureExplorerStages(EXPLORER_STAGES_DEFAULTS);
  console.log(`  host stages per lookup (hot loops): ${STAGE_NAMES.map((n) => `${n} ${stages.stages[n].median.toFixed(1)} us`).join(', ')}; ${stages.bytesPerLookup.toFixed(0)} bytes of JSON`);
  const fig = (metric: string, unit: string, values: number[], better: Figure['better'] = 'lower'): Figure => ({ metric, unit, better, show: 'median', values: { kadscope: summarize(values) } });
  const ratio = withExplorer.map((w, i) => w.cpuPct / bare[i].cpuPct);
  const threads = threadFigures(bare, withExplorer, opts.lookupsPerSecond);
  const figures: Figure[] = [
    fig(`node CPU, bare, ${opts.lookupsPerSecond} lookups/s`, '% of a core', bare.map((w) => w.cpuPct)),
    fig('node CPU, same work, explorer and event stream attached', '% of a core', withExplorer.map((w) => w.cpuPct)),
    fig('explorer CPU / bare CPU (paired by round)', '×', ratio),
    ...threads,
    fig('GC pauses on the main thread, bare', 'ms/s', bare.map((w) => w.gcMsPerS)),
    fig('GC pauses on the main thread, explorer attached', 'ms/s', withExplorer.map((w) => w.gcMsPerS)),
    ...stageFigures(stages),
    fig('lookups per window, bare', 'lookups', bare.map((w) => w.lookups), 'higher'),
    fig('lookups per window, with the explorer', 'lookups', withExplorer.map((w) => w.lookups), 'higher'),
    fig('event batches delivered per second', 'batches/s', withExplorer.map((w) => w.batches / opts.windowS), 'higher'),
    fig('event stream, serialised', 'kB/s', withExplorer.map((w) => w.batchBytes / 1000 / opts.windowS)),
  ];
  const diagnostics = { kadscope: { bare, withExplorer, eventsPerLookup: stages.eventsPerLookup, stageBytesPerLookup: stages.bytesPerLookup } };
  const notes = [
    `A ${opts.testnetSize}-node UDP testnet on 127.0.0.1 in a child process; in this process one node that starts ${opts.lookupsPerSecond} find-node lookups of random ids per second (node.findNode in both kinds of window, so the work is the same).`,
    'Two nodes joined once and live throughout. Bare: DhtNode.create({ host, port: 0, bootstrap }), nothing listening. With the explorer: the node ExplorerService started (the app\'s host service: node listeners, traces, the event batcher, the tick snapshot), and one subscriber, attached for that window only, JSON-serialises every batch as the headless host does before its WebSocket send.',
    `${opts.rounds} rounds of two ${opts.windowS} s windows (the load on one node or the other, after 1 s of the same load unmeasured), alternating which comes first. CPU = process.cpuUsage() user + system over wall time: only this process, so only the node and the explorer. Goal: at most 1.05, read (report.ts) as the worst of the paired ratio, the ratio of the two medians and the main thread's ratio of medians.`,
    ...(threads.length > 0
      ? ['Main thread and other threads: the same windows split by thread from /proc/self/task/<tid>/schedstat (time on a CPU): the main thread runs the node and the explorer; the others are V8\'s garbage collector and compiler helpers and libuv\'s pool, whose work the main thread\'s allocations and new code cause.']
      : []),
    'GC pauses: the main thread\'s garbage collection pauses in each window, summed from node:perf_hooks \'gc\' entries (scavenges and the main thread\'s part of mark-compact).',
    `Host stages: each of the explorer's host-side stages alone, in hot loops over the events the service publishes for ${EXPLORER_STAGES_DEFAULTS.lookups} find-node lookups, recorded from a seeded ${EXPLORER_STAGES_DEFAULTS.testnetSize}-node memory testnet with peer-health passed on as the service does (changes at once, a good peer's refreshes once a tick) (${Object.entries(stages.eventsPerLookup).map(([k, v]) => `${v.toFixed(1)} ${k}`).join(', ')} events per lookup), ${EXPLORER_STAGES_DEFAULTS.reps} timed passes each (test/bench/explorer-stages.ts): the trace recorder's ingest, the batcher (one batch per lookup), the wire encoding (batchMessage) and JSON.stringify (${stages.bytesPerLookup.toFixed(0)} bytes per lookup). CPU microseconds per lookup; at ${opts.lookupsPerSecond} lookups/s, ${(1000 / opts.lookupsPerSecond).toFixed(0)} us per lookup is 0.1% of a core.`,
  ];
  return workloadResult('explorer-cost', command, startedAt, { ...opts }, { figures, diagnostics, notes });
}
