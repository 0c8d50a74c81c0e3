// Ping throughput: two nodes of each system on 127.0.0.1; node 1 pings node 0 with a fixed number
// of requests kept in flight, through the system's own ping RPC and its own in-flight limits
// (dht-rpc's congestion window, k-rpc's concurrency cap queue the excess). Rounds rotate the order.
import type { BenchNetwork, Figure, Summary, SystemDriver, WorkloadResult } from '../harness';
import { rotation, summarize } from '../harness';
import { availableSystems, resultShell } from './common';

export interface PingWorkloadOptions {
  /** Pings per round. */
  pings: number;
  /** Pings the caller keeps outstanding at once. */
  inFlight: number;
  rounds: number;
  warmup: number;
}

export const PING_DEFAULTS: PingWorkloadOptions = { pings: 2000, inFlight: 64, rounds: 5, warmup: 200 };

async function burst(net: BenchNetwork, count: number, inFlight: number): Promise<{ ms: number; failures: number; firstError: string | null }> {
  let started = 0;
  let failures = 0;
  let firstError: string | null = null;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      try {
        await net.ping(1, 0);
      } catch (err) {
        failures++;
        firstError ??= (err as Error).message;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return { ms: performance.now() - t0, failures, firstError };
}

export async function runPingWorkload(drivers: SystemDriver[], opts: PingWorkloadOptions, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const { ok, status } = await availableSystems(drivers);
  const nets = new Map<string, BenchNetwork>();
  const rates = new Map<string, number[]>();
  const failures = new Map<string, number>();
  const errors = new Map<string, string>();
  try {
    for (const d of ok) {
      try {
        nets.set(d.name, await d.createNetwork(2, { unthrottled: true }));
        rates.set(d.name, []);
        failures.set(d.name, 0);
      } catch (err) {
        status[d.name] = { status: 'failed', reason: (err as Error).message };
      }
    }
    const running = ok.filter((d) => nets.has(d.name));
    for (const d of running) await burst(nets.get(d.name)!, opts.warmup, opts.inFlight);
    for (let round = 0; round < opts.rounds; round++) {
      for (const d of rotation(running, round)) {
        const b = await burst(nets.get(d.name)!, opts.pings, opts.inFlight);
        rates.get(d.name)!.push(((opts.pings - b.failures) / b.ms) * 1000);
        failures.set(d.name, failures.get(d.name)! + b.failures);
        if (b.firstError && !errors.has(d.name)) errors.set(d.name, b.firstError);
      }
    }
  } finally {
    for (const net of nets.values()) await net.destroy();
  }

  const r = await resultShell('ping', command, startedAt, drivers, status, { ...opts, host: '127.0.0.1' });
  const per = (f: (name: string) => Summary | null): Record<string, Summary | null> =>
    Object.fromEntries(drivers.map((d) => [d.name, rates.get(d.name)?.length ? f(d.name) : null]));
  const figures: Figure[] = [
    { metric: 'ping throughput', unit: 'pings/s', better: 'higher', show: 'median', values: per((n) => summarize(rates.get(n)!)) },
    { metric: 'failed pings', unit: 'pings', better: 'lower', show: 'median', values: per((n) => summarize([failures.get(n)!])) },
  ];
  r.figures = figures;
  for (const d of drivers) if (errors.has(d.name)) r.diagnostics[d.name] = { firstError: errors.get(d.name) };
  r.notes.push(
    `Throughput per round = answered pings / wall time, ${opts.pings} pings with ${opts.inFlight} outstanding; median [IQR] over ${opts.rounds} rounds.`,
    'Each system limits its own requests in flight as it does in production (dht-rpc congestion window 80, k-rpc concurrency 16); the excess waits in its queue.',
    "kadscope's per-address rate limit on incoming requests (200/s, burst 400, on by default) is turned off here (rateLimit: false): with it, this measures the limit, not the RPC path. The peers have no such limit.",
  );
  return r;
}
