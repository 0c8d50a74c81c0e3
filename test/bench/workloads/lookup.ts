// Lookups on a settled network: every system builds a network of the same size on 127.0.0.1, then
// runs the same sequence of lookups (same asking-node indices, same random targets cut to its id
// length), one at a time, in rounds that rotate the order of the systems.
import { datagramTap } from '../datagram-tap';
import type { BenchNetwork, Figure, Summary, SystemDriver, SystemStatus, WorkloadResult } from '../harness';
import { IdSpace, correctness, rotation, seededRng, sortByDistance, summarize } from '../harness';
import { probeMemory, type ProbeResult } from '../memory-probe';
import { workloadResult } from './common';

export interface LookupWorkloadOptions {
  size: number;
  /** Measured lookups per system. */
  lookups: number;
  /** Rounds the lookups are split into; the system order rotates every round. */
  rounds: number;
  /** Unmeasured lookups per system first, so every system runs warm (JIT, caches). */
  warmup: number;
  k: number;
  seed: number;
  /**
   * Builds per system in fresh child processes (memory-probe.ts), interleaved across systems; the
   * memory and build-and-settle figures are their medians. One build is too few: on a two-core
   * machine one system's build time moves by 20-40% between runs.
   */
  probes: number;
  /** Per-system extra facts about a built network (routing-table fill, ...). */
  diagnostics?: (system: string, net: BenchNetwork) => Record<string, unknown>;
}

export const LOOKUP_DEFAULTS = { lookups: 200, rounds: 10, warmup: 10, k: 20, seed: 0x6b61_6473, probes: 3 } as const;

interface Sample {
  durationMs: number;
  requests: number;
  datagrams: number;
  hops: number | null;
  selfReported: number | null;
  trueClosest: boolean;
  recall: number;
}

interface SystemRun {
  driver: SystemDriver;
  net: BenchNetwork;
  ids: IdSpace;
  samples: Sample[];
  failures: string[];
  /** Datagrams the asking nodes sent during measured lookups, by method ('(response)' for replies). */
  sentByMethod: Map<string, number>;
  /** Builds alone in fresh processes (memory-probe.ts): memory and build time; empty if every probe failed. */
  probes: ProbeResult[];
}

/** What the workload will ask: the asking node and a 32-byte target per lookup (cut per system). */
function plan(size: number, count: number, seed: number): { from: number; target: string }[] {
  const rng = seededRng(seed);
  return Array.from({ length: count }, () => ({ from: rng.int(size), target: rng.hex(32) }));
}

async function measureOne(run: SystemRun, from: number, target32: string, k: number): Promise<Sample> {
  const target = target32.slice(0, run.driver.idBytes * 2);
  const window = datagramTap.open(run.net.portsOf(from));
  const t0 = performance.now();
  const outcome = await run.net.lookup(from, target).then(
    (r) => ({ ok: true as const, r }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  const durationMs = performance.now() - t0;
  const sent = window.close();
  if (!outcome.ok) throw outcome.err;
  const result = outcome.r;
  // A lookup that asked peers but left no datagram on the tap ran on a socket layer the tap does not
  // wrap: its message count would read 0, a "win" that is only a blind spot.
  if (sent.total === 0 && (result.selfReportedMessages ?? 0) > 0) {
    throw new Error(`the datagram tap saw none of the ${result.selfReportedMessages} messages ${run.driver.name}'s lookup sent: its UDP socket layer is not tapped (test/bench/datagram-tap.ts)`);
  }
  // Classified after the clock stopped, so the classifier costs no system anything.
  let requests = sent.total - sent.datagrams.length; // beyond the capture cap: counted as requests
  for (const d of sent.datagrams) {
    const kind = run.driver.classifyDatagram(d);
    if (kind.request) requests++;
    const key = kind.request ? kind.method : `(${kind.method})`;
    run.sentByMethod.set(key, (run.sentByMethod.get(key) ?? 0) + 1);
  }
  const found = sortByDistance(target, result.closest.map((c) => c.id));
  const c = correctness(found, run.ids.trueClosest(target, k, from), k);
  return {
    durationMs,
    requests,
    datagrams: sent.total,
    hops: result.hops,
    selfReported: result.selfReportedMessages,
    trueClosest: c.trueClosestFound,
    recall: c.recall,
  };
}

function one(x: number): Summary {
  return summarize([x]);
}

export async function runLookupWorkload(name: string, drivers: SystemDriver[], opts: LookupWorkloadOptions, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const status: Record<string, SystemStatus> = {};
  const diagnostics: Record<string, Record<string, unknown>> = {};
  const runs: SystemRun[] = [];
  datagramTap.install();

  const available: SystemDriver[] = [];
  for (const driver of drivers) {
    const reason = await driver.unavailableReason();
    if (reason) {
      status[driver.name] = { status: 'skipped', reason };
      console.log(`  ${driver.name}: skipped — ${reason}`);
    } else available.push(driver);
  }
  // Memory and build time first, each build in a process of its own while this one is idle, the
  // systems' order rotating from one probe round to the next.
  const probes = new Map<string, ProbeResult[]>(available.map((d) => [d.name, []]));
  const probeErrors = new Map<string, string>();
  for (let round = 0; round < opts.probes; round++) {
    for (const driver of rotation(available, round)) {
      try {
        const p = await probeMemory(driver.name, opts.size);
        probes.get(driver.name)!.push(p);
        console.log(`  ${driver.name}: probe ${round + 1}/${opts.probes}: ${opts.size} nodes built and settled alone in ${(p.buildMs / 1000).toFixed(1)} s`);
      } catch (err) {
        probeErrors.set(driver.name, (err as Error).message);
        console.log(`  ${driver.name}: probe ${round + 1}/${opts.probes} failed — ${(err as Error).message}`);
      }
    }
  }

  for (const driver of available) {
    try {
      const own = probes.get(driver.name)!;
      const t0 = performance.now();
      const net = await driver.createNetwork(opts.size);
      const buildMs = performance.now() - t0;
      if (net.size !== opts.size) throw new Error(`built ${net.size} nodes, wanted ${opts.size}`);
      runs.push({
        driver,
        net,
        ids: new IdSpace(net.ids),
        samples: [],
        failures: [],
        sentByMethod: new Map(),
        probes: own,
      });
      status[driver.name] = { status: 'ok' };
      diagnostics[driver.name] = {
        // The build in this process (the network the lookups run on): the build figure of runs
        // before the probes timed builds, kept for comparison.
        inProcessBuildMs: buildMs,
        memoryProbes: own,
        ...(probeErrors.has(driver.name) ? { probeError: probeErrors.get(driver.name) } : {}),
        ...(opts.diagnostics?.(driver.name, net) ?? {}),
      };
      console.log(`  ${driver.name}: ${opts.size} nodes built and settled in this process in ${(buildMs / 1000).toFixed(1)} s`);
    } catch (err) {
      status[driver.name] = { status: 'failed', reason: (err as Error).message };
      console.log(`  ${driver.name}: failed to build — ${(err as Error).message}`);
    }
  }

  try {
    const warm = plan(opts.size, opts.warmup, opts.seed ^ 0x5757);
    for (const run of runs) for (const w of warm) await measureOne(run, w.from, w.target, opts.k).catch(() => undefined);

    const lookups = plan(opts.size, opts.lookups, opts.seed);
    const perRound = Math.ceil(opts.lookups / opts.rounds);
    for (let round = 0; round < opts.rounds; round++) {
      const slice = lookups.slice(round * perRound, (round + 1) * perRound);
      for (const run of rotation(runs, round)) {
        for (const l of slice) {
          try {
            run.samples.push(await measureOne(run, l.from, l.target, opts.k));
          } catch (err) {
            run.failures.push((err as Error).message);
          }
        }
      }
    }
  } finally {
    for (const run of runs) await run.net.destroy();
  }

  const systems = drivers.map((d) => d.name);
  const per = (f: (r: SystemRun) => Summary | null): Record<string, Summary | null> =>
    Object.fromEntries(systems.map((s) => {
      const run = runs.find((r) => r.driver.name === s);
      return [s, run && run.samples.length ? f(run) : null];
    }));
  // Over a system's probes: `all` keeps the spread (build time), `median` shows one figure (memory).
  const ofProbes = (r: SystemRun, f: (p: ProbeResult) => number, all = false): Summary | null => {
    if (r.probes.length === 0) return null;
    const s = summarize(r.probes.map(f));
    return all ? s : one(s.median);
  };
  const hopsOf = (r: SystemRun): Summary | null => {
    const h = r.samples.map((s) => s.hops).filter((x): x is number => x !== null);
    return h.length ? summarize(h) : null;
  };
  const figures: Figure[] = [
    { metric: 'lookup latency median', unit: 'ms', better: 'lower', show: 'median', values: per((r) => summarize(r.samples.map((s) => s.durationMs))) },
    { metric: 'lookup latency p95', unit: 'ms', better: 'lower', show: 'median', values: per((r) => one(summarize(r.samples.map((s) => s.durationMs)).p95)) },
    { metric: 'messages per lookup', unit: 'requests', better: 'lower', show: 'median', values: per((r) => summarize(r.samples.map((s) => s.requests))) },
    { metric: 'datagrams sent per lookup', unit: 'datagrams', better: 'lower', show: 'median', values: per((r) => summarize(r.samples.map((s) => s.datagrams))) },
    { metric: 'hops', unit: 'hops', better: 'lower', show: 'median', values: per(hopsOf) },
    { metric: 'true closest found', unit: '%', better: 'higher', show: 'mean', values: per((r) => summarize(r.samples.map((s) => (s.trueClosest ? 1 : 0)))) },
    { metric: `recall@${opts.k}`, unit: '%', better: 'higher', show: 'mean', values: per((r) => summarize(r.samples.map((s) => s.recall))) },
    { metric: 'memory per node (heap)', unit: 'KiB', better: 'lower', show: 'median', values: per((r) => ofProbes(r, (p) => p.heapUsedBytes / opts.size / 1024)) },
    { metric: 'memory per node (rss)', unit: 'KiB', better: 'lower', show: 'median', values: per((r) => ofProbes(r, (p) => p.rssBytes / opts.size / 1024)) },
    { metric: 'network build and settle', unit: 's', better: 'lower', show: 'median', values: per((r) => ofProbes(r, (p) => p.buildMs / 1000, true)) },
  ];
  for (const run of runs) {
    const self = run.samples.map((s) => s.selfReported).filter((x): x is number => x !== null);
    Object.assign(diagnostics[run.driver.name], {
      lookupsMeasured: run.samples.length,
      lookupsFailed: run.failures.length,
      firstFailures: run.failures.slice(0, 3),
      selfReportedMessagesMedian: self.length ? summarize(self).median : null,
      sentByMethodPerLookup: Object.fromEntries([...run.sentByMethod].sort((a, b) => b[1] - a[1]).map(([m, n]) => [m, n / Math.max(1, run.samples.length)])),
    });
    if (run.failures.length) status[run.driver.name] = { status: 'ok', reason: `${run.failures.length} lookups failed` };
  }

  const notes = [
    'All systems run in one process on 127.0.0.1 with their own default lookup parallelism (kadscope alpha 3, dht-rpc concurrency 10, bittorrent-dht/k-rpc 16) and k = 20.',
    'messages per lookup = request datagrams that left the asking node\'s sockets while its lookup ran (retransmissions included), counted by the same datagram tap for every system.',
    'Correctness is computed in each system\'s own id space (bittorrent-dht 160-bit, the others 256-bit) against all node ids but the asker\'s.',
    'Latency and messages: median [interquartile range] over all lookups; rates: mean.',
    `Memory per node and network build and settle: ${opts.probes} builds per system, each in a fresh child process warmed by a 4-node network (systems interleaved, order rotating); heap and RSS growth after a forced GC, and the build's wall time; medians [interquartile range]. The build in this process that the lookups then run on (systems in turn, each beside the networks built before it; cold, with the datagram tap installed) is in the diagnostics as inProcessBuildMs: the figure of runs before the probes timed builds.`,
  ];
  return workloadResult(name, command, startedAt, { size: opts.size, lookups: opts.lookups, rounds: opts.rounds, warmup: opts.warmup, k: opts.k, seed: opts.seed, host: '127.0.0.1', datagramTapOnUdx: datagramTap.udxTapped }, { systems, status, figures, diagnostics, notes });
}
