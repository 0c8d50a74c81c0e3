// Put then get from another node: every system builds a settled network of the same size on
// 127.0.0.1, then for the same seeded sequence of (putter, getter, value) stores the value at the
// putter and fetches it at another node, one item at a time, in rounds that rotate the order of the
// systems. Each system uses its own storage API (see RecordOps in harness.ts and the drivers).
//
// The getter is the seeded pick, or the next node after it that holds no copy: a node among the
// storers would answer from its own store, which measures nothing of the network. Which nodes
// store a value depends on each system's ids, so the getters can differ; the distances cannot.
import { datagramTap } from '../datagram-tap';
import type { BenchNetwork, Figure, RecordOps, Summary, SystemDriver, WorkloadResult } from '../harness';
import { rotation, seededRng, summarize } from '../harness';
import { availableSystems, resultShell } from './common';

export interface PutGetWorkloadOptions {
  size: number;
  /** Measured put-then-get items per system. */
  items: number;
  rounds: number;
  /** Unmeasured items per system first, so every system runs warm. */
  warmup: number;
  /** Bytes per value (under every system's 1,000-byte limit). */
  valueBytes: number;
  seed: number;
  /** Per-system extra facts about a built network (routing-table fill, ...). */
  diagnostics?: (system: string, net: BenchNetwork) => Record<string, unknown>;
}

export const PUT_GET_DEFAULTS = { size: 200, items: 100, rounds: 5, warmup: 5, valueBytes: 100, seed: 0x7075_7467 } as const;

interface Item {
  putter: number;
  getter: number;
  value: Uint8Array;
}

interface Sample {
  putOk: boolean;
  putMs: number;
  putRequests: number;
  acknowledged: number;
  /** Nodes other than the putter holding the value right after the put. */
  holders: number;
  getOk: boolean;
  getMs: number;
  getRequests: number;
  error: string | null;
}

interface SystemRun {
  driver: SystemDriver;
  net: BenchNetwork;
  records: RecordOps;
  samples: Sample[];
  buildMs: number;
}

function plan(size: number, count: number, valueBytes: number, seed: number): Item[] {
  const rng = seededRng(seed);
  return Array.from({ length: count }, () => {
    const putter = rng.int(size);
    const getter = (putter + 1 + rng.int(size - 1)) % size; // never the putter (moved past holders later)
    return { putter, getter, value: Buffer.from(rng.hex(valueBytes), 'hex') };
  });
}

/** Runs op while counting the request datagrams node `index` sends. */
async function counted<T>(run: SystemRun, index: number, op: () => Promise<T>): Promise<{ ms: number; requests: number; outcome: { ok: true; value: T } | { ok: false; err: Error } }> {
  const window = datagramTap.open(run.net.portsOf(index));
  const t0 = performance.now();
  const outcome = await op().then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err: err instanceof Error ? err : new Error(String(err)) }),
  );
  const ms = performance.now() - t0;
  const sent = window.close();
  let requests = sent.total - sent.datagrams.length;
  for (const d of sent.datagrams) if (run.driver.classifyDatagram(d).request) requests++;
  return { ms, requests, outcome };
}

async function measureOne(run: SystemRun, item: Item): Promise<Sample> {
  const key = run.records.keyOf(item.value);
  const put = await counted(run, item.putter, () => run.records.put(item.putter, item.value));
  let holders = 0;
  for (let i = 0; i < run.net.size; i++) if (i !== item.putter && run.records.holds(i, key)) holders++;
  // Other nodes hold the value, so the put sent them something: none on the tap means the putter's
  // UDP socket layer is not tapped, and "0 messages" would be a blind spot, not a figure.
  if (holders > 0 && put.requests === 0) {
    throw new Error(`the datagram tap saw none of ${run.driver.name}'s put requests though ${holders} nodes hold the value: its UDP socket layer is not tapped (test/bench/datagram-tap.ts)`);
  }
  let getter = item.getter;
  for (let tries = 0; tries < run.net.size && (getter === item.putter || run.records.holds(getter, key)); tries++) getter = (getter + 1) % run.net.size;
  const get = await counted(run, getter, () => run.records.get(getter, key));
  const got = get.outcome.ok ? get.outcome.value : null;
  const getOk = got !== null && Buffer.from(got).equals(Buffer.from(item.value));
  const error = !put.outcome.ok ? `put: ${put.outcome.err.message}` : !get.outcome.ok ? `get: ${get.outcome.err.message}` : getOk ? null : 'get: not found';
  return {
    putOk: put.outcome.ok && put.outcome.value.acknowledged > 0,
    putMs: put.ms,
    putRequests: put.requests,
    acknowledged: put.outcome.ok ? put.outcome.value.acknowledged : 0,
    holders,
    getOk,
    getMs: get.ms,
    getRequests: get.requests,
    error,
  };
}

export async function runPutGetWorkload(drivers: SystemDriver[], opts: PutGetWorkloadOptions, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const { ok, status } = await availableSystems(drivers);
  const diagnostics: Record<string, Record<string, unknown>> = {};
  const runs: SystemRun[] = [];
  datagramTap.install();

  try {
    for (const driver of ok) {
      try {
        const t0 = performance.now();
        const net = await driver.createNetwork(opts.size);
        const buildMs = performance.now() - t0;
        if (!net.records) {
          await net.destroy();
          status[driver.name] = { status: 'skipped', reason: 'no storage API' };
          continue;
        }
        runs.push({ driver, net, records: net.records, samples: [], buildMs });
        diagnostics[driver.name] = { buildMs, ...(opts.diagnostics?.(driver.name, net) ?? {}) };
        console.log(`  ${driver.name}: ${opts.size} nodes built and settled in ${(buildMs / 1000).toFixed(1)} s`);
      } catch (err) {
        status[driver.name] = { status: 'failed', reason: (err as Error).message };
        console.log(`  ${driver.name}: failed to build — ${(err as Error).message}`);
      }
    }

    // Warm-up items use values of their own, so the measured values are new to every network.
    const warm = plan(opts.size, opts.warmup, opts.valueBytes, opts.seed ^ 0x5757);
    for (const run of runs) for (const w of warm) await measureOne(run, w);

    const items = plan(opts.size, opts.items, opts.valueBytes, opts.seed);
    const perRound = Math.ceil(opts.items / opts.rounds);
    for (let round = 0; round < opts.rounds; round++) {
      const slice = items.slice(round * perRound, (round + 1) * perRound);
      for (const run of rotation(runs, round)) for (const item of slice) run.samples.push(await measureOne(run, item));
    }
  } finally {
    for (const run of runs) await run.net.destroy();
  }

  const r = await resultShell('put-get', command, startedAt, drivers, status, {
    size: opts.size,
    items: opts.items,
    rounds: opts.rounds,
    warmup: opts.warmup,
    valueBytes: opts.valueBytes,
    seed: opts.seed,
    host: '127.0.0.1',
  });
  const per = (f: (run: SystemRun) => Summary | null): Record<string, Summary | null> =>
    Object.fromEntries(
      drivers.map((d) => {
        const run = runs.find((x) => x.driver.name === d.name);
        return [d.name, run && run.samples.length ? f(run) : null];
      }),
    );
  const okOnly = (run: SystemRun, pick: (s: Sample) => number, when: (s: Sample) => boolean): Summary | null => {
    const xs = run.samples.filter(when).map(pick);
    return xs.length ? summarize(xs) : null;
  };
  const figures: Figure[] = [
    { metric: 'put succeeded', unit: '%', better: 'higher', show: 'mean', values: per((x) => summarize(x.samples.map((s) => (s.putOk ? 1 : 0)))) },
    { metric: 'get from another node succeeded', unit: '%', better: 'higher', show: 'mean', values: per((x) => summarize(x.samples.map((s) => (s.getOk ? 1 : 0)))) },
    { metric: 'put latency', unit: 'ms', better: 'lower', show: 'median', values: per((x) => okOnly(x, (s) => s.putMs, (s) => s.putOk)) },
    { metric: 'put latency p95', unit: 'ms', better: 'lower', show: 'median', values: per((x) => { const s = okOnly(x, (y) => y.putMs, (y) => y.putOk); return s ? summarize([s.p95]) : null; }) },
    { metric: 'get latency', unit: 'ms', better: 'lower', show: 'median', values: per((x) => okOnly(x, (s) => s.getMs, (s) => s.getOk)) },
    { metric: 'get latency p95', unit: 'ms', better: 'lower', show: 'median', values: per((x) => { const s = okOnly(x, (y) => y.getMs, (y) => y.getOk); return s ? summarize([s.p95]) : null; }) },
    { metric: 'nodes acknowledging a put', unit: 'nodes', better: 'higher', show: 'median', values: per((x) => summarize(x.samples.map((s) => s.acknowledged))) },
    { metric: 'nodes holding each value', unit: 'nodes', better: 'higher', show: 'median', values: per((x) => summarize(x.samples.map((s) => s.holders))) },
    { metric: 'messages per put', unit: 'requests', better: 'lower', show: 'median', values: per((x) => summarize(x.samples.map((s) => s.putRequests))) },
    { metric: 'messages per get', unit: 'requests', better: 'lower', show: 'median', values: per((x) => summarize(x.samples.map((s) => s.getRequests))) },
  ];
  r.figures = figures;
  for (const run of runs) {
    const errors = run.samples.map((s) => s.error).filter((e): e is string => e !== null);
    Object.assign(diagnostics[run.driver.name], {
      itemsMeasured: run.samples.length,
      itemsFailed: errors.length,
      firstErrors: errors.slice(0, 3),
    });
  }
  r.diagnostics = diagnostics;
  r.notes.push(
    `${opts.items} items of ${opts.valueBytes} random bytes; each is put at one node and got at another (seeded picks, the same for every system); median [IQR] over items, rates are means.`,
    'kadscope: node.put / node.get (immutable, key SHA-256(value)). bittorrent-dht: BEP 44 dht.put({ v }) / dht.get (key SHA-1(bencode(v))). dht-rpc has no storage API: the benchmark adds the one its README prescribes (as hyperdht does): user commands GET and PUT on every node, a put = query with GET then commit PUT with round-trip tokens to the k closest, a get = query with GET until a reply hashes to the key.',
    'The getter is a node that holds no copy (the seeded pick, or the next such node after it), so every get crosses the network. Latency: from the call to its result, successful operations only.',
    'nodes holding each value: nodes other than the putter that hold it right after the put returns (replication later may add more). messages: request datagrams the putting / getting node sent, counted by the datagram tap.',
  );
  return r;
}
