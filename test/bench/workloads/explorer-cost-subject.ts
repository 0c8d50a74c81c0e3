// One subject process of the explorer-cost workload (explorer-cost.ts): two kadscope nodes joined
// to the workload's UDP testnet, one bare (a DhtNode, nobody listening) and one as the app runs it
// (ExplorerService: its listeners, traces, event batcher, the once-a-second tick). On each command from
// the workload it puts a steady load of lookups on one of them for one window and answers with
// that window's CPU: the process's, its main thread's and its other threads', and its GC pauses.
// With the explorer, one subscriber, attached for that window only, serialises every batch as the
// headless host does before its WebSocket send.
//
// The workload runs two of these side by side, one measuring a bare window while the other
// measures an explorer window over the same seconds, and swaps them each round: whatever else the
// machine does in those seconds falls on both kinds alike.
import { readdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { bytesToHex, randomId } from '../../../core/id';
import { DhtNode } from '../../../core/node';
import { batchMessage } from '../../../electron/host/batch-codec';
import { ExplorerService } from '../../../electron/host/service';

export interface WindowOptions {
  /** Lookups the node starts per second. */
  lookupsPerSecond: number;
  /** Seconds measured (after a second of the same load unmeasured). */
  windowS: number;
}

/** What the workload sends a subject: measure one window, or stop. */
export type SubjectCommand = ({ cmd: 'window'; explorer: boolean } & WindowOptions) | { cmd: 'stop' };
/** What a subject answers: 'ready' once both nodes joined, then one answer per window. */
export type SubjectMessage = { type: 'ready' } | { type: 'window'; window: Window } | { type: 'error'; message: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Window {
  cpuPct: number;
  /** This process's main thread (the node's JavaScript and the explorer's) alone; null where /proc has no schedstat. */
  mainThreadPct: number | null;
  /** Every other thread of this process: V8's GC and compiler threads, libuv's pool. */
  otherThreadsPct: number | null;
  /** Time the main thread stood in garbage collection pauses (node:perf_hooks 'gc' entries), ms per second. */
  gcMsPerS: number;
  /** Bytes the process allocated on V8's heap in the window (HeapAllocation). */
  allocatedBytes: number;
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
 * Bytes allocated on V8's heap between start() and stop(): what the used heap grew by between
 * garbage collections (node:v8 GCProfiler reports the used size before and after each), plus what
 * it grew by after the last one. What the allocating code causes the collector to do follows from
 * this; unlike CPU time, it hardly depends on what else the machine runs.
 */
class HeapAllocation {
  private readonly profiler = new GCProfiler();
  private readonly startUsed: number;

  constructor() {
    this.startUsed = getHeapStatistics().used_heap_size;
    this.profiler.start();
  }

  stop(): number {
    const endUsed = getHeapStatistics().used_heap_size;
    const stats = this.profiler.stop()?.statistics ?? [];
    let bytes = 0;
    let after = this.startUsed;
    for (const s of stats) {
      bytes += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - after);
      after = s.afterGC.heapStatistics.usedHeapSize;
    }
    return bytes + Math.max(0, endUsed - after);
  }
}

/**
 * Both nodes live throughout (a node started per window would leave a departed node in the
 * testnet's tables each time, and later windows' lookups would wait on it): the bare one, and the
 * explorer's. Each window puts the load on one of them; the explorer's subscriber is attached only
 * in its own windows (without one the service builds no tick figures and delivers nothing).
 */
interface Subjects {
  bare: DhtNode;
  service: ExplorerService;
  gc: GcPauses;
}

async function runWindow(explorer: boolean, subjects: Subjects, opts: WindowOptions): Promise<Window> {
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
    const heap = new HeapAllocation();
    const t0 = performance.now();
    await sleep(opts.windowS * 1000);
    const cpu = process.cpuUsage(c0);
    const th1 = threadTimes();
    const t1 = performance.now();
    const allocatedBytes = heap.stop();
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
      allocatedBytes,
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

/** The child's side: joins both nodes through `bootstrap`, says 'ready', then measures a window per command until 'stop'. */
export async function serveSubject(bootstrap: string[]): Promise<void> {
  const send = (m: SubjectMessage): void => void process.send!(m);
  const service = new ExplorerService(
    { createNode: (o) => DhtNode.create({ ...o, host: '127.0.0.1', port: 0 }) },
    { host: 'web', appVersion: 'bench', dataDir: null, bootstrap, testnetSize: 0 },
  );
  const subjects: Subjects = { bare: DhtNode.create({ host: '127.0.0.1', port: 0, bootstrap }), service, gc: new GcPauses() };
  let stopping: Promise<void> | null = null;
  /** Once, whichever comes first: 'stop', the channel closing, a failed start. */
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      subjects.gc.stop();
      await service.stop();
      await subjects.bare.stop();
    })());
  try {
    await subjects.bare.start();
    await service.start();
  } catch (e) {
    send({ type: 'error', message: (e as Error).message });
    await stop();
    process.exit(1);
  }
  // Commands come one at a time: the workload waits for each answer.
  process.on('message', (m: SubjectCommand) => {
    if (m.cmd === 'stop') {
      void stop().then(() => process.exit(0));
      return;
    }
    runWindow(m.explorer, subjects, m).then(
      (window) => send({ type: 'window', window }),
      (e: Error) => send({ type: 'error', message: e.message }),
    );
  });
  // The workload gone (its IPC channel closed) ends this process too.
  process.on('disconnect', () => void stop().then(() => process.exit(0)));
  send({ type: 'ready' });
}
