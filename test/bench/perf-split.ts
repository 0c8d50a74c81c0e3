// Splits a system-wide CPU profile between two processes and says where the first one's extra goes:
// `node --import tsx test/bench/perf-split.ts <perf script output> <pid A> <pid B> [--from S] [--top N]`.
//
// The input is `perf script -F pid,tid,time,ip,sym` of a `perf record -g -a` run whose Node
// processes had --perf-basic-prof (so JS frames have names). Each sample is put in one category,
// by its call chain: garbage collection (scavenge, marking, sweeping, evacuation, other), a page
// fault outside the collector (touching freshly allocated memory), the optimizing compiler, else
// the innermost JS function of this repository or its node_modules (`core/rpc/rpc.ts:receive`:
// its own time and the builtins it calls), else the kernel, else the native leaf symbol. Samples of
// the process's main thread and of its other threads (the collector's and compiler's helpers,
// libuv's pool) are kept apart. `--from S` drops the first S seconds of the profile (start-up and
// warm-up, when the two processes compile and load alike).
//
// Printed per category: samples of A, of B, A − B, and A − B as a share of the whole difference.
// With explorer-cost-probe.ts --fixed, A is the process running every explorer window and B the
// bare one, so the rows say what the explorer adds and where (README, the explorer-cost goal).
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const USAGE = 'usage: node --import tsx test/bench/perf-split.ts <perf script output> <pid A> <pid B> [--from seconds] [--top rows]';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const GC = /Scaveng|Marking|Sweep|Evacuat|MarkCompact|Heap::|GCTracer|Compactor|MemoryAllocator|ArrayBufferSweeper|MemoryReducer/;
const JS_FRAME = /^(?:JS|LazyCompile|Function):[*~^+-]?(\S*) (?:file:\/\/)?\S*?\/((?:core|electron|renderer|test|node_modules)\/\S+?):\d+(?::\d+)?$/;
const KERNEL_ADDRESS = /^ffffffff/;

/** One sample's category from its frames, innermost first (each "address symbol"). */
export function categorize(frames: readonly string[], mainThread: boolean): string {
  const thread = mainThread ? 'main' : 'threads';
  const symbols = frames.map((f) => f.slice(f.indexOf(' ') + 1));
  const chain = symbols.join(' | ');
  if (GC.test(chain)) {
    const kind = /Scaveng/.test(chain) ? 'scavenge' : /Marking/.test(chain) ? 'marking' : /Sweep/.test(chain) ? 'sweeping' : /Evacuat|Compactor|MarkCompact/.test(chain) ? 'evacuation' : 'other';
    return `${thread} gc: ${kind}`;
  }
  if (chain.includes('exc_page_fault')) return `${thread} page faults`;
  if (chain.includes('compiler::') || /\bCompile/.test(chain)) return `${thread} compiler`;
  for (const s of symbols) {
    const m = JS_FRAME.exec(s);
    if (m) return `${thread} js ${m[2]}:${m[1] || '(anonymous)'}`;
  }
  if (frames.length > 0 && KERNEL_ADDRESS.test(frames[0])) return `${thread} kernel`;
  return `${thread} native ${symbols[0] ?? '?'}`;
}

export interface Split {
  counts: Map<string, Map<string, number>>;
  totals: Map<string, number>;
}

/** Each of `pids`' samples from `fromS` seconds after the profile's first sample on, counted by category. */
export async function split(file: string, pids: readonly string[], fromS: number): Promise<Split> {
  const counts = new Map(pids.map((p) => [p, new Map<string, number>()]));
  const totals = new Map(pids.map((p) => [p, 0]));
  let pid = '';
  let tid = '';
  let t = 0;
  let t0: number | null = null;
  let frames: string[] = [];
  let headers = 0;
  const flush = (): void => {
    const c = counts.get(pid);
    if (c === undefined || t0 === null || t - t0 < fromS) return;
    const key = categorize(frames, pid === tid);
    c.set(key, (c.get(key) ?? 0) + 1);
    totals.set(pid, totals.get(pid)! + 1);
  };
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    // A sample's header is indented too when its pid is shorter than perf's column ("  8033/8033  53068.25:"), so it is
    // told from a frame by its form, and frames by their tab.
    const m = line.startsWith('\t') ? null : /^\s*(?:\S+\s+)?(\d+)\/(\d+)\s+([\d.]+):/.exec(line);
    if (!m) {
      const f = line.trim();
      if (f && headers > 0) frames.push(f);
      continue;
    }
    if (headers > 0) flush();
    headers++;
    [, pid, tid] = m;
    t = Number(m[3]);
    t0 ??= t;
    frames = [];
  }
  if (headers > 0) flush();
  if (headers === 0) fail(`${file} has no samples in the form of "perf script -F pid,tid,time,ip,sym"`);
  return { counts, totals };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    if (i < 0) return fallback;
    const v = Number(args[i + 1]);
    if (!Number.isFinite(v) || v < 0) fail(`${name} takes a number of at least 0, got ${args[i + 1]}`);
    args.splice(i, 2);
    return v;
  };
  const fromS = option('--from', 0);
  const top = option('--top', 40);
  const [file, a, b] = args;
  if (file === undefined || a === undefined || b === undefined) fail('a perf script file and two pids are needed');
  if (!existsSync(file)) fail(`${file} does not exist`);
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b) || a === b) fail(`two different pids are needed, got ${a} and ${b}`);
  const { counts, totals } = await split(file, [a, b], fromS);
  const ca = counts.get(a)!;
  const cb = counts.get(b)!;
  const ta = totals.get(a)!;
  const tb = totals.get(b)!;
  if (ta === 0 || tb === 0) fail(`no samples of process ${ta === 0 ? a : b} after ${fromS} s`);
  const diff = ta - tb;
  const pct = (x: number): string => (diff === 0 ? '' : `${((100 * x) / diff).toFixed(0)}%`);
  const row = (k: string, x: number, y: number): string => `${String(x).padStart(7)} ${String(y).padStart(7)} ${String(x - y).padStart(7)} ${pct(x - y).padStart(5)}  ${k}`;
  console.log(`samples from ${fromS} s on: ${a} ${ta}, ${b} ${tb}, difference ${diff} (${((100 * diff) / tb).toFixed(0)}% of ${b}'s)`);
  // The groups first, then the rows that differ most.
  const groups = new Map<string, [number, number]>();
  const group = (k: string): string => {
    const [thread, kind, rest] = k.split(' ', 3);
    if (kind === 'js') {
      const path = rest.slice(0, rest.lastIndexOf(':'));
      return `${thread} js ${path.startsWith('node_modules/') ? path.split('/').slice(0, 2).join('/') : path}`;
    }
    if (kind === 'gc:') return `${thread} gc`;
    if (kind === 'native') return `${thread} native (V8, Node, libc; JS outside this repository)`;
    return k;
  };
  for (const k of new Set([...ca.keys(), ...cb.keys()])) {
    const g = groups.get(group(k)) ?? [0, 0];
    g[0] += ca.get(k) ?? 0;
    g[1] += cb.get(k) ?? 0;
    groups.set(group(k), g);
  }
  console.log(`\n${'A'.padStart(7)} ${'B'.padStart(7)} ${'A − B'.padStart(7)} share  group`);
  for (const [k, [x, y]] of [...groups].sort((p, q) => q[1][0] - q[1][1] - (p[1][0] - p[1][1]))) if (x - y !== 0) console.log(row(k, x, y));
  console.log(`\n${'A'.padStart(7)} ${'B'.padStart(7)} ${'A − B'.padStart(7)} share  category`);
  const keys = [...new Set([...ca.keys(), ...cb.keys()])].sort((p, q) => (ca.get(q) ?? 0) - (cb.get(q) ?? 0) - ((ca.get(p) ?? 0) - (cb.get(p) ?? 0)));
  for (const k of keys.slice(0, top)) console.log(row(k, ca.get(k) ?? 0, cb.get(k) ?? 0));
}

// Run as a script; imported (the unit test of categorize), it does nothing.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
