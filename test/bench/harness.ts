// The benchmark harness: one driver interface that every system (kadscope and its peers) implements,
// so all of them run exactly the same workload, measured the same way, in the same process and run.
// Statistics, correctness against the whole network's ids, memory, interleaving and result output
// live here; the workloads (workloads/*.ts) and drivers (drivers/*.ts) build on it.

import { splitmix32 } from '../../core/id';
import type { SocketLayer } from './socket-floor';

/** A contact as a system's own lookup returns it: its id in that system's id space, as hex. */
export interface FoundNode {
  id: string;
}

/** What a driver's lookup hands back; the harness times it and counts its datagrams itself. */
export interface DriverLookupResult {
  /** The nodes the lookup ended with (the nodes that answered, closest first), ids as hex. */
  closest: FoundNode[];
  /** Rounds / path length, where the system reports one; null where it does not. */
  hops: number | null;
  /** The message count the system itself reports, kept only as a cross-check; null if none. */
  selfReportedMessages: number | null;
}

/** A running network of one system: nodes index-aligned with their ids. */
export interface BenchNetwork {
  readonly size: number;
  /** Every node's id as lowercase hex, in the system's own id space (see SystemDriver.idBytes). */
  readonly ids: readonly string[];
  /** The local UDP ports node `index` sends from; the datagram tap counts sends on these ports. */
  portsOf(index: number): number[];
  /** Runs the system's own iterative closest-nodes lookup from node `fromIndex`. */
  lookup(fromIndex: number, targetHex: string): Promise<DriverLookupResult>;
  /** One ping RPC (the system's own) from node `fromIndex` to node `toIndex`; rejects on failure. */
  ping(fromIndex: number, toIndex: number): Promise<void>;
  /** Stops every node and frees every socket and timer. */
  destroy(): Promise<void>;
  /** Immutable values, where the system can store them (see RecordOps); absent where it cannot. */
  readonly records?: RecordOps;
}

/**
 * Storing an immutable value and fetching it from another node, through the system's own storage
 * API (kadscope put/get, bittorrent-dht BEP 44 put/get) or, for a system with none, the smallest
 * equivalent its documentation prescribes (dht-rpc: a command handler, as hyperdht's immutable
 * put/get are built).
 */
export interface RecordOps {
  /** The key the system stores `value` under, as lowercase hex. */
  keyOf(value: Uint8Array): string;
  /** Stores `value` from node `fromIndex`; resolves to the number of nodes that acknowledged it. */
  put(fromIndex: number, value: Uint8Array): Promise<{ acknowledged: number }>;
  /** Fetches the value stored under `keyHex` from node `fromIndex`; null when the system found none. */
  get(fromIndex: number, keyHex: string): Promise<Uint8Array | null>;
  /** Whether node `index` holds a value under `keyHex` right now (in its store, not a cache of ours). */
  holds(index: number, keyHex: string): boolean;
}

/** How a workload wants a network built; each driver maps these onto its own settings. */
export interface NetworkOptions {
  /**
   * Turn off admission limits on incoming requests that would cap a single-peer flood (kadscope's
   * per-address rate limit). Only the ping-throughput workload asks for it; peers have no such limit.
   */
  unthrottled?: boolean;
}

/** One wire message of a system, encoded and decoded by that system's own codec. */
export interface CodecCase {
  /** One of CODEC_CASE_NAMES, so the same message is compared across systems. */
  name: CodecCaseName;
  encode(): Uint8Array;
  /** Must do all the work the system does before acting on a datagram (parse contacts, validate). */
  decode(bytes: Uint8Array): unknown;
}

export interface DatagramClass {
  request: boolean;
  /** The request's method in the system's own naming; 'response' / 'error' / 'unreadable' otherwise. */
  method: string;
}

export const CODEC_CASE_NAMES = ['ping request', 'find_node request', 'find_node response (20 contacts)'] as const;
export type CodecCaseName = (typeof CODEC_CASE_NAMES)[number];

export interface SystemDriver {
  readonly name: string;
  /** Length of this system's node ids: kadscope and dht-rpc 32, bittorrent-dht 20 (SHA-1). */
  readonly idBytes: number;
  /** null when the system can run here, otherwise why not (printed, and the system is skipped). */
  unavailableReason(): Promise<string | null>;
  /** Builds a settled network of `size` nodes on 127.0.0.1. */
  createNetwork(size: number, options?: NetworkOptions): Promise<BenchNetwork>;
  /**
   * Reads one datagram this system sent: whether it is a request (as opposed to a response or an
   * error) and its method, e.g. { request: true, method: 'FIND_NODE' }, for the per-method counts.
   */
  classifyDatagram(bytes: Uint8Array): DatagramClass;
  /** The system's typical messages through its own codec, for the codec workload. */
  codecCases(): Promise<CodecCase[]>;
  /** The UDP layer under the system's RPC, for the ping workload's socket floor (socket-floor.ts). */
  /** The UDP layer its sockets run on (kadscope's default is resolved by unavailableReason(): the native binding unless it cannot load). */
  socketLayer: SocketLayer;
}

// ---------------------------------------------------------------- statistics

export interface Summary {
  n: number;
  median: number;
  mean: number;
  p25: number;
  p75: number;
  p95: number;
  min: number;
  max: number;
}

/** Quantile q (0..1) of an ascending array, with linear interpolation between ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.length === 0 ? Number.NaN : s.reduce((a, b) => a + b, 0) / s.length;
  return {
    n: s.length,
    median: quantile(s, 0.5),
    mean,
    p25: quantile(s, 0.25),
    p75: quantile(s, 0.75),
    p95: quantile(s, 0.95),
    min: s.length ? s[0] : Number.NaN,
    max: s.length ? s[s.length - 1] : Number.NaN,
  };
}

// ---------------------------------------------------------------- correctness

/** The ids of a network as bytes, computed once, for the true-closest computations. */
export class IdSpace {
  private readonly bytes: Buffer[];

  constructor(readonly ids: readonly string[]) {
    this.bytes = ids.map((h) => Buffer.from(h, 'hex'));
    const len = this.bytes[0]?.length ?? 0;
    if (this.bytes.some((b) => b.length !== len)) throw new Error('ids of one network differ in length');
  }

  /** The k ids closest to target by XOR distance, nearest first, leaving out node `excludeIndex`. */
  trueClosest(targetHex: string, k: number, excludeIndex: number): string[] {
    const target = Buffer.from(targetHex, 'hex');
    const scored: { i: number; d: Buffer }[] = [];
    for (let i = 0; i < this.bytes.length; i++) {
      if (i === excludeIndex) continue;
      scored.push({ i, d: xor(this.bytes[i], target) });
    }
    scored.sort((a, b) => Buffer.compare(a.d, b.d));
    return scored.slice(0, k).map((s) => this.ids[s.i]);
  }
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** Sorts hex ids by XOR distance to target, nearest first (so every system's result is ordered alike). */
export function sortByDistance(targetHex: string, ids: readonly string[]): string[] {
  const target = Buffer.from(targetHex, 'hex');
  return ids
    .map((id) => ({ id, d: xor(Buffer.from(id, 'hex'), target) }))
    .sort((a, b) => Buffer.compare(a.d, b.d))
    .map((x) => x.id);
}

export interface Correctness {
  /** The true closest node (over all ids in the network but the asker) is in the result. */
  trueClosestFound: boolean;
  /** |result's k closest ∩ true k closest| / k. */
  recall: number;
}

export function correctness(found: readonly string[], truth: readonly string[], k: number): Correctness {
  const top = new Set(found.slice(0, k));
  const want = truth.slice(0, k);
  let hit = 0;
  for (const id of want) if (top.has(id)) hit++;
  return { trueClosestFound: want.length > 0 && found.includes(want[0]), recall: want.length ? hit / want.length : 1 };
}

// ---------------------------------------------------------------- memory

export interface MemoryDelta {
  heapUsedBytes: number;
  rssBytes: number;
  /** false when the process was started without --expose-gc: the deltas then include garbage. */
  gcExposed: boolean;
}

async function collectGarbage(): Promise<boolean> {
  const gc = globalThis.gc;
  if (!gc) return false;
  // Two passes with a turn of the event loop between them, so finalizers and weak callbacks run.
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  return true;
}

/** Runs `build` and measures how much heap and RSS it left behind (after a GC, when exposed). */
export async function measureMemory<T>(build: () => Promise<T>): Promise<{ value: T; delta: MemoryDelta }> {
  const gcExposed = await collectGarbage();
  const before = process.memoryUsage();
  const value = await build();
  await collectGarbage();
  const after = process.memoryUsage();
  return { value, delta: { heapUsedBytes: after.heapUsed - before.heapUsed, rssBytes: after.rss - before.rss, gcExposed } };
}

// ---------------------------------------------------------------- interleaving and randomness

/** The order systems run in during round `round`: A B C, then B C A, then C A B, ... */
export function rotation<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const r = round % items.length;
  return [...items.slice(r), ...items.slice(0, r)];
}

/** A seeded generator (splitmix32), so every system gets the same sequence of picks. */
export function seededRng(seed: number): { float(): number; int(n: number): number; hex(bytes: number): string } {
  const next = splitmix32(seed);
  return {
    float: () => next() / 0x1_0000_0000,
    int: (n) => Math.floor((next() / 0x1_0000_0000) * n),
    hex: (bytes) => {
      let out = '';
      while (out.length < bytes * 2) out += next().toString(16).padStart(8, '0');
      return out.slice(0, bytes * 2);
    },
  };
}

/** Rejects after `ms` with a message naming what timed out; the timer never keeps the process alive. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- results

/** One row of a results table: a metric with a value per system. */
export interface Figure {
  metric: string;
  unit: string;
  better: 'lower' | 'higher';
  /** Which statistic the table shows and the ratio uses: the median, or the mean (for rates). */
  show: 'median' | 'mean';
  /** Per system; null when the system was skipped or has no such figure (e.g. hops). */
  values: Record<string, Summary | null>;
}

export interface SystemStatus {
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
}

export interface WorkloadResult {
  workload: string;
  startedAt: string;
  finishedAt: string;
  /** The command line that produced these figures. */
  command: string;
  machine: MachineInfo;
  /** Workload parameters (sizes, counts, seeds, in-flight window, ...). */
  settings: Record<string, unknown>;
  /** Systems in table order; kadscope first when present. */
  systems: string[];
  status: Record<string, SystemStatus>;
  figures: Figure[];
  /** Per-system extra facts that are not compared (routing-table sizes, build times, notes). */
  diagnostics: Record<string, Record<string, unknown>>;
  notes: string[];
}

export interface MachineInfo {
  node: string;
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  totalMemoryBytes: number;
  gcExposed: boolean;
  /** os.loadavg() when the workload's result was made: 1, 5 and 15 minutes (other work on the machine). */
  loadAverage: number[];
  /** V8's heap limit (--max-old-space-size), bytes. */
  heapLimitBytes: number;
}

export async function machineInfo(): Promise<MachineInfo> {
  const os = await import('node:os');
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryBytes: os.totalmem(),
    gcExposed: typeof globalThis.gc === 'function',
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    heapLimitBytes: (await import('node:v8')).getHeapStatistics().heap_size_limit,
  };
}

/** The system all ratios are taken from. */
export const SUBJECT = 'kadscope';

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function central(s: Summary, show: Figure['show']): number {
  return show === 'median' ? s.median : s.mean;
}

function cell(s: Summary | null, f: Figure): string {
  if (!s || s.n === 0) return '–';
  if (f.unit === '%') return `${fmt(central(s, f.show) * 100)}%`;
  const c = fmt(central(s, f.show));
  // A single observation (memory, build time) has no spread to show.
  if (s.n === 1 || f.show === 'mean') return c;
  return `${c} [${fmt(s.p25)}–${fmt(s.p75)}]`;
}

/**
 * A markdown table: one row per figure, one column per system (median with its interquartile range
 * in brackets, or the mean for rates), then the ratio kadscope / peer for each peer.
 */
export function markdownTable(r: WorkloadResult): string {
  const peers = r.systems.filter((s) => s !== SUBJECT);
  const hasSubject = r.systems.includes(SUBJECT);
  const head = ['metric', ...r.systems, ...(hasSubject ? peers.map((p) => `${SUBJECT}/${p}`) : [])];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const f of r.figures) {
    const unit = f.unit && f.unit !== '%' ? ` (${f.unit})` : '';
    const row = [`${f.metric}${unit}${f.better === 'lower' ? ' ↓' : ' ↑'}`];
    for (const s of r.systems) row.push(r.status[s]?.status === 'ok' ? cell(f.values[s] ?? null, f) : r.status[s]?.status ?? '–');
    if (hasSubject) {
      const mine = f.values[SUBJECT];
      for (const p of peers) {
        const theirs = f.values[p];
        const ratio = mine && theirs ? central(mine, f.show) / central(theirs, f.show) : Number.NaN;
        row.push(Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–');
      }
    }
    lines.push(`| ${row.join(' | ')} |`);
  }
  const skipped = r.systems.filter((s) => r.status[s]?.status !== 'ok');
  for (const s of skipped) lines.push(`\n_${s}: ${r.status[s]?.status}${r.status[s]?.reason ? ` — ${r.status[s]?.reason}` : ''}_`);
  return lines.join('\n');
}

export const RESULTS_DIR = new URL('./results/', import.meta.url);

/**
 * Writes `<workload>-<YYYY-MM-DD>.json` and merges the workload into `latest.json`
 * ({ [workload]: WorkloadResult }), so latest.json always holds the newest run of every workload.
 */
export async function writeResult(r: WorkloadResult): Promise<{ file: string; latest: string }> {
  const fs = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const dir = fileURLToPath(RESULTS_DIR);
  await fs.mkdir(dir, { recursive: true });
  const date = r.startedAt.slice(0, 10);
  const file = `${dir}${r.workload}-${date}.json`;
  await fs.writeFile(file, `${JSON.stringify(r, jsonNumbers, 2)}\n`);
  const latest = `${dir}latest.json`;
  let merged: Record<string, WorkloadResult> = {};
  try {
    merged = JSON.parse(await fs.readFile(latest, 'utf8')) as Record<string, WorkloadResult>;
  } catch {
    // no latest.json yet, or an unreadable one: start afresh
  }
  merged[r.workload] = r;
  await fs.writeFile(latest, `${JSON.stringify(merged, jsonNumbers, 2)}\n`);
  return { file, latest };
}

/** JSON has no NaN or Infinity; write them as null, and round long fractions for readable diffs. */
function jsonNumbers(_key: string, v: unknown): unknown {
  if (typeof v !== 'number') return v;
  if (!Number.isFinite(v)) return null;
  return Number.isInteger(v) ? v : Number(v.toPrecision(6));
}
