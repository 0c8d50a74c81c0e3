// What the explorer costs the node it shows: CPU of a kadscope node doing a steady load of lookups on
// a UDP testnet, in windows where it runs bare (a DhtNode, nobody listening) and windows where it
// runs as the app runs it, with the explorer's event stream serialised as the headless host sends
// it (explorer-cost-subject.ts). The testnet runs in a child process, and the nodes measured in two
// more: in each round one subject process measures a bare window while the other measures an
// explorer window over the same seconds, and the next round swaps them. So load from elsewhere on
// the machine falls on both kinds of window at once, and a difference between the two processes
// falls on both kinds in turn. Each process's CPU is its nodes' own (and the explorer's).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EXPLORER_STAGES_DEFAULTS, lookupsPerBatch, measureExplorerStages, STAGE_NAMES, type ExplorerStages } from '../explorer-stages';
import type { Figure, WorkloadResult } from '../harness';
import { summarize } from '../harness';
import { workloadResult } from './common';
import type { SubjectCommand, SubjectMessage, Window } from './explorer-cost-subject';

export interface ExplorerCostOptions {
  testnetSize: number;
  /** Lookups the node starts per second, all windows alike. */
  lookupsPerSecond: number;
  /** Seconds per measured window (after a warm-up second). */
  windowS: number;
  /** Rounds of two simultaneous windows (one bare, one with the explorer), the subject processes swapping kinds each round. */
  rounds: number;
  /**
   * For profiling, not for the figures: process a runs every explorer window and b every bare one
   * (no swapping), and their pids are printed, so a system-wide profile can be split by process
   * (test/bench/perf-split.ts). A difference between the two processes then falls on one kind.
   */
  fixedRoles?: boolean;
}

export const EXPLORER_COST_DEFAULTS: ExplorerCostOptions = { testnetSize: 50, lookupsPerSecond: 20, windowS: 6, rounds: 10 };

const TESTNET_URL = new URL('../../../core/testnet.ts', import.meta.url).href;
const SUBJECT_URL = new URL('./explorer-cost-subject.ts', import.meta.url).href;
const READY_TIMEOUT_MS = 120_000;
/** A window that has not answered in this long (its seconds, the warm-up and this margin) fails the workload. */
const WINDOW_MARGIN_MS = 30_000;
/** Node flags for the children: the same as this process's (the tsx loader), less its heap limit. */
const childArgs = (code: string): string[] => [...process.execArgv.filter((a) => !a.startsWith('--max-old-space')), '--input-type=module', '-e', code];
const REPO_DIR = fileURLToPath(new URL('../../..', import.meta.url));

/** A UDP testnet in a child process (same Node flags, so the tsx loader); resolves with its bootstrap addresses. */
function startTestnetChild(size: number): Promise<{ child: ChildProcess; bootstrap: string[] }> {
  const code = `import(${JSON.stringify(TESTNET_URL)}).then(async (m) => { const t = await m.createTestnet({ size: ${size}, transport: 'udp', host: '127.0.0.1' }); console.log('ready ' + JSON.stringify(t.bootstrap)); process.on('SIGTERM', () => { t.destroy().then(() => process.exit(0)); }); });`;
  const child = spawn(process.execPath, childArgs(code), { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO_DIR });
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

/** A subject process (explorer-cost-subject.ts), talked to over its IPC channel one command at a time. */
class Subject {
  private waiting: { resolve: (m: SubjectMessage) => void; reject: (e: Error) => void } | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: SubjectMessage) => {
      const w = this.waiting;
      this.waiting = null;
      w?.resolve(m);
    });
    child.once('exit', (code) => {
      const w = this.waiting;
      this.waiting = null;
      w?.reject(new Error(`an explorer-cost subject process exited with code ${code}`));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(bootstrap: string[]): Promise<Subject> {
    const code = `import(${JSON.stringify(SUBJECT_URL)}).then((m) => m.serveSubject(${JSON.stringify(bootstrap)}));`;
    const subject = new Subject(spawn(process.execPath, childArgs(code), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: REPO_DIR }));
    const m = await subject.next(READY_TIMEOUT_MS);
    if (m.type !== 'ready') throw new Error(`an explorer-cost subject did not start: ${m.type === 'error' ? m.message : m.type}`);
    return subject;
  }

  async window(explorer: boolean, opts: ExplorerCostOptions): Promise<Window> {
    const command: SubjectCommand = { cmd: 'window', explorer, lookupsPerSecond: opts.lookupsPerSecond, windowS: opts.windowS };
    const answer = this.next(opts.windowS * 1000 + WINDOW_MARGIN_MS);
    this.child.send(command);
    const m = await answer;
    if (m.type !== 'window') throw new Error(`an explorer-cost subject failed a window: ${m.type === 'error' ? m.message : m.type}`);
    return m.window;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    if (this.child.connected) this.child.send({ cmd: 'stop' } satisfies SubjectCommand);
    else this.child.kill('SIGTERM');
    await exited;
  }

  /** The next message, or an error after timeoutMs (the process is then killed). */
  private next(timeoutMs: number): Promise<SubjectMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.child.kill('SIGKILL');
        reject(new Error(`an explorer-cost subject did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiting = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
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
  const subjects: Subject[] = [];
  try {
    for (let i = 0; i < 2; i++) subjects.push(await Subject.start(bootstrap));
    const [a, b] = subjects;
    if (opts.fixedRoles) console.log(`  fixed roles: the explorer in process ${a.pid}, bare in process ${b.pid}`);
    /** Both kinds at once: `a` with the explorer or bare, `b` the other. */
    const round = (aExplorer: boolean, o: ExplorerCostOptions): Promise<[Window, Window]> => Promise.all([a.window(aExplorer, o), b.window(!aExplorer, o)]);
    // Warm-up: code, JIT, every node's table.
    await round(true, { ...opts, windowS: 1 });
    await round(false, { ...opts, windowS: 1 });
    for (let r = 0; r < opts.rounds; r++) {
      const aExplorer = opts.fixedRoles === true || r % 2 === 0;
      const [wa, wb] = await round(aExplorer, opts);
      const [x, y] = aExplorer ? [wa, wb] : [wb, wa];
      withExplorer.push(x);
      bare.push(y);
      const split = (w: Window): string =>
        w.mainThreadPct === null ? '' : ` (main thread ${w.mainThreadPct.toFixed(1)}, others ${w.otherThreadsPct!.toFixed(1)}; GC pauses ${w.gcMsPerS.toFixed(1)} ms/s)`;
      const kb = (w: Window): string => `${(w.allocatedBytes / 1000 / Math.max(1, w.lookups)).toFixed(1)} kB/lookup`;
      console.log(`  round ${r + 1}/${opts.rounds}: bare ${y.cpuPct.toFixed(1)}%${split(y)}, ${kb(y)}; with the explorer ${x.cpuPct.toFixed(1)}%${split(x)}, ${kb(x)} (explorer in process ${aExplorer ? 'a' : 'b'})`);
    }
  } finally {
    await Promise.all(subjects.map((s) => s.stop()));
    await stopChild(child);
  }
  // After the windows, with the testnet gone: the explorer's host stages alone (explorer-stages.ts).
  const stages = await measureExplorerStages(EXPLORER_STAGES_DEFAULTS);
  console.log(`  host stages per lookup (hot loops): ${STAGE_NAMES.map((n) => `${n} ${stages.stages[n].median.toFixed(1)} us`).join(', ')}; ${stages.bytesPerLookup.toFixed(0)} bytes of JSON`);
  const fig = (metric: string, unit: string, values: number[], better: Figure['better'] = 'lower'): Figure => ({ metric, unit, better, show: 'median', values: { kadscope: summarize(values) } });
  const ratio = withExplorer.map((w, i) => w.cpuPct / bare[i].cpuPct);
  const perBatch = lookupsPerBatch(EXPLORER_STAGES_DEFAULTS.lookupsPerTick);
  const threads = threadFigures(bare, withExplorer, opts.lookupsPerSecond);
  const figures: Figure[] = [
    fig(`node CPU, bare, ${opts.lookupsPerSecond} lookups/s`, '% of a core', bare.map((w) => w.cpuPct)),
    fig('node CPU, same work, explorer and event stream attached', '% of a core', withExplorer.map((w) => w.cpuPct)),
    fig('explorer CPU / bare CPU (paired by round)', '×', ratio),
    ...threads,
    fig('GC pauses on the main thread, bare', 'ms/s', bare.map((w) => w.gcMsPerS)),
    fig('GC pauses on the main thread, explorer attached', 'ms/s', withExplorer.map((w) => w.gcMsPerS)),
    fig('heap allocated per lookup, bare', 'kB', bare.map((w) => w.allocatedBytes / 1000 / w.lookups)),
    fig('heap allocated per lookup, explorer attached', 'kB', withExplorer.map((w) => w.allocatedBytes / 1000 / w.lookups)),
    ...stageFigures(stages),
    fig('lookups per window, bare', 'lookups', bare.map((w) => w.lookups), 'higher'),
    fig('lookups per window, with the explorer', 'lookups', withExplorer.map((w) => w.lookups), 'higher'),
    fig('event batches delivered per second', 'batches/s', withExplorer.map((w) => w.batches / opts.windowS), 'higher'),
    fig('event stream, serialised', 'kB/s', withExplorer.map((w) => w.batchBytes / 1000 / opts.windowS)),
  ];
  const diagnostics = { kadscope: { bare, withExplorer, eventsPerLookup: stages.eventsPerLookup, stageBytesPerLookup: stages.bytesPerLookup } };
  const notes = [
    `A ${opts.testnetSize}-node UDP testnet on 127.0.0.1 in a child process, and two subject processes (explorer-cost-subject.ts), each with two nodes joined once and live throughout. Bare: DhtNode.create({ host, port: 0, bootstrap }), nothing listening. With the explorer: the node ExplorerService started (the app's host service: node listeners, traces, the event batcher, the once-a-second tick), and one subscriber, attached for that window only, JSON-serialises every batch as the headless host does before its WebSocket send. A window's load: ${opts.lookupsPerSecond} find-node lookups of random ids per second on one of the two nodes (node.findNode in both kinds of window, so the work is the same).`,
    `${opts.rounds} rounds; in each, one subject process measures a bare window while the other measures an explorer window over the same ${opts.windowS} s (after 1 s of the same load unmeasured), and the next round swaps them, so each process runs each kind in alternate rounds. CPU = process.cpuUsage() user + system over wall time of the subject process: its nodes and, with it, the explorer. A round's ratio is its explorer window over its bare window. Goal: at most 1.05, read (report.ts) as the worst of the median of the rounds' ratios, the ratio of the two medians and the main thread's ratio of medians.`,
    ...(threads.length > 0
      ? ['Main thread and other threads: the same windows split by thread from /proc/self/task/<tid>/schedstat (time on a CPU): the main thread runs the node and the explorer; the others are V8\'s garbage collector and compiler helpers and libuv\'s pool, whose work the main thread\'s allocations and new code cause.']
      : []),
    'GC pauses: the main thread\'s garbage collection pauses in each window, summed from node:perf_hooks \'gc\' entries (scavenges and the main thread\'s part of mark-compact).',
    'Heap allocated per lookup: what the subject process allocated on V8\'s heap in the window (the used heap\'s growth between collections, from node:v8 GCProfiler\'s before and after sizes), over the lookups the window finished. The whole process counts (both nodes, the explorer, the measuring); it is what the garbage collector has to deal with.',
    `Host stages: each of the explorer's host-side stages alone, in hot loops over the events the service publishes for ${EXPLORER_STAGES_DEFAULTS.lookups} find-node lookups, recorded from a seeded ${EXPLORER_STAGES_DEFAULTS.testnetSize}-node memory testnet with peer-health passed on as the service does (changes at once, a good peer's refreshes once a tick) (${Object.entries(stages.eventsPerLookup).map(([k, v]) => `${v.toFixed(1)} ${k}`).join(', ')} events per lookup), ${EXPLORER_STAGES_DEFAULTS.reps} timed passes each (test/bench/explorer-stages.ts): the trace recorder's ingest, the batcher (a batch per ${perBatch} lookup${perBatch === 1 ? '' : 's'}, as the flush interval groups them at this rate), the wire encoding (batchMessage) and JSON.stringify (${stages.bytesPerLookup.toFixed(0)} bytes per lookup). CPU microseconds per lookup; at ${opts.lookupsPerSecond} lookups/s, ${(1000 / opts.lookupsPerSecond).toFixed(0)} us per lookup is 0.1% of a core.`,
  ];
  return workloadResult('explorer-cost', command, startedAt, { ...opts }, { figures, diagnostics, notes });
}
