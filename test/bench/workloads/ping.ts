// Ping throughput: two nodes of each system on 127.0.0.1; node 1 pings node 0 with a fixed number
// of requests kept in flight, through the system's own ping RPC and its own in-flight limits
// (dht-rpc's congestion window, k-rpc's concurrency cap queue the excess). Rounds rotate the order.
// Each round also measures each system's socket floor (socket-floor.ts: the same bursts over its bare
// UDP layer, no protocol), so the table shows what the protocol itself costs per ping.
import type { BenchNetwork, Figure, Summary, SystemDriver, WorkloadResult } from '../harness';
import { rotation, summarize } from '../harness';
import { SocketFloor, type SocketLayer } from '../socket-floor';
import { availableSystems, resultShell } from './common';

export interface PingWorkloadOptions {
  /** Pings per round. */
  pings: number;
  /** Pings the caller keeps outstanding at once. */
  inFlight: number;
  rounds: number;
  warmup: number;
}

export const PING_DEFAULTS: PingWorkloadOptions = { pings: 2000, inFlight: 64, rounds: 30, warmup: 200 };

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
  const floors = new Map<SocketLayer, SocketFloor>();
  /** Round trips/s of each layer's floor, one per round. */
  const floorRates = new Map<SocketLayer, number[]>();
  /** Per system and round: microseconds per ping above its layer's floor in that round. */
  const overheads = new Map<string, number[]>();
  const floorErrors = new Map<SocketLayer, string>();
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
    for (const layer of new Set(running.map((d) => d.socketLayer))) {
      try {
        const floor = await SocketFloor.open(layer);
        floors.set(layer, floor);
        floorRates.set(layer, []);
        await floor.burst(opts.warmup, opts.inFlight);
      } catch (err) {
        floorErrors.set(layer, (err as Error).message);
      }
    }
    for (const d of running) await burst(nets.get(d.name)!, opts.warmup, opts.inFlight);
    // Systems and socket floors take turns in one rotation, so drift hits them alike.
    type Turn = { system: SystemDriver } | { layer: SocketLayer };
    const turns: Turn[] = [...running.map((system) => ({ system })), ...[...floors.keys()].map((layer) => ({ layer }))];
    for (let round = 0; round < opts.rounds; round++) {
      const roundRate = new Map<string, number>();
      const roundFloor = new Map<SocketLayer, number>();
      for (const turn of rotation(turns, round)) {
        if ('layer' in turn) {
          try {
            roundFloor.set(turn.layer, await floors.get(turn.layer)!.burst(opts.pings, opts.inFlight));
          } catch (err) {
            if (!floorErrors.has(turn.layer)) floorErrors.set(turn.layer, (err as Error).message);
          }
          continue;
        }
        const d = turn.system;
        const b = await burst(nets.get(d.name)!, opts.pings, opts.inFlight);
        const rate = ((opts.pings - b.failures) / b.ms) * 1000;
        rates.get(d.name)!.push(rate);
        roundRate.set(d.name, rate);
        failures.set(d.name, failures.get(d.name)! + b.failures);
        if (b.firstError && !errors.has(d.name)) errors.set(d.name, b.firstError);
      }
      for (const [layer, rate] of roundFloor) floorRates.get(layer)!.push(rate);
      for (const d of running) {
        const rate = roundRate.get(d.name);
        const floor = roundFloor.get(d.socketLayer);
        if (rate === undefined || floor === undefined || rate <= 0) continue;
        const list = overheads.get(d.name) ?? [];
        list.push(1e6 / rate - 1e6 / floor);
        overheads.set(d.name, list);
      }
    }
  } finally {
    for (const net of nets.values()) await net.destroy();
    for (const floor of floors.values()) await floor.close();
  }

  const r = await resultShell('ping', command, startedAt, drivers, status, { ...opts, host: '127.0.0.1' });
  const per = (f: (name: string) => Summary | null): Record<string, Summary | null> =>
    Object.fromEntries(drivers.map((d) => [d.name, rates.get(d.name)?.length ? f(d.name) : null]));
  const figures: Figure[] = [
    { metric: 'ping throughput', unit: 'pings/s', better: 'higher', show: 'median', values: per((n) => summarize(rates.get(n)!)) },
    { metric: 'failed pings', unit: 'pings', better: 'lower', show: 'median', values: per((n) => summarize([failures.get(n)!])) },
    {
      metric: 'socket floor: bare round trips over its UDP layer',
      unit: 'round trips/s',
      better: 'higher',
      show: 'median',
      values: Object.fromEntries(
        drivers.map((d) => {
          const list = floorRates.get(d.socketLayer);
          return [d.name, rates.has(d.name) && list?.length ? summarize(list) : null];
        }),
      ),
    },
    {
      metric: 'protocol cost per ping above the floor',
      unit: 'µs',
      better: 'lower',
      show: 'median',
      values: Object.fromEntries(drivers.map((d) => [d.name, overheads.get(d.name)?.length ? summarize(overheads.get(d.name)!) : null])),
    },
  ];
  r.figures = figures;
  for (const d of drivers) if (errors.has(d.name)) r.diagnostics[d.name] = { firstError: errors.get(d.name) };
  for (const [layer, message] of floorErrors) r.diagnostics[`socket floor ${layer}`] = { firstError: message };
  r.notes.push(
    `Throughput per round = answered pings / wall time, ${opts.pings} pings with ${opts.inFlight} outstanding; median [IQR] over ${opts.rounds} rounds.`,
    'Each system limits its own requests in flight as it does in production (dht-rpc congestion window 80, k-rpc concurrency 16); the excess waits in its queue.',
    `Socket floor: the same bursts (same count, same number in flight) of a 60-byte datagram echoed between two bare sockets of the system's UDP layer on 127.0.0.1, no protocol: ${drivers.map((d) => `${d.socketLayer} for ${d.name}`).join(', ')} (bittorrent-dht through k-rpc-socket). Protocol cost per ping = 1e6/ping rate - 1e6/floor rate, in the same round; median [IQR] over rounds.`,
    "kadscope's per-address rate limit on incoming requests (200/s, burst 400, on by default) is turned off here (rateLimit: false): with it, this measures the limit, not the RPC path. The peers have no such limit.",
  );
  return r;
}
