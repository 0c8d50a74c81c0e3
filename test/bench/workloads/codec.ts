// Codec rates: the same three messages (ping request, find_node request, find_node response with
// 20 IPv4 contacts) through each system's own wire codec, in time-boxed samples, rounds rotating.
import type { CodecCase, Figure, Summary, SystemDriver, WorkloadResult } from '../harness';
import { CODEC_CASE_NAMES, rotation, summarize } from '../harness';
import { availableSystems, resultShell } from './common';

export interface CodecWorkloadOptions {
  rounds: number;
  /** Wall time of one sample of one operation. */
  sampleMs: number;
}

export const CODEC_DEFAULTS: CodecWorkloadOptions = { rounds: 8, sampleMs: 100 };

/** Iterations between clock reads, so reading the clock is not what we measure. */
const CLOCK_STRIDE = 256;

/** Kept alive so the optimizer cannot drop the work it measures. */
let sink = 0;

function opsPerSecond(op: () => unknown, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < CLOCK_STRIDE; i++) sink ^= op() === undefined ? 1 : 0;
    n += CLOCK_STRIDE;
    t = performance.now();
  }
  return (n / (t - t0)) * 1000;
}

export async function runCodecWorkload(drivers: SystemDriver[], opts: CodecWorkloadOptions, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const { ok, status } = await availableSystems(drivers);
  const cases = new Map<string, CodecCase[]>();
  for (const d of ok) {
    try {
      cases.set(d.name, await d.codecCases());
    } catch (err) {
      status[d.name] = { status: 'failed', reason: (err as Error).message };
    }
  }
  const running = ok.filter((d) => cases.has(d.name));
  // samples[system][case][op] = ops/s per round
  const samples = new Map<string, Map<string, { encode: number[]; decode: number[]; bytes: number }>>();
  for (const d of running) {
    const m = new Map<string, { encode: number[]; decode: number[]; bytes: number }>();
    for (const c of cases.get(d.name)!) m.set(c.name, { encode: [], decode: [], bytes: c.encode().byteLength });
    samples.set(d.name, m);
  }
  // Warm every path once before measuring.
  for (const d of running) for (const c of cases.get(d.name)!) {
    const bytes = c.encode();
    opsPerSecond(() => c.encode(), opts.sampleMs / 3);
    opsPerSecond(() => c.decode(bytes), opts.sampleMs / 3);
  }
  for (let round = 0; round < opts.rounds; round++) {
    for (const d of rotation(running, round)) {
      for (const c of cases.get(d.name)!) {
        const s = samples.get(d.name)!.get(c.name)!;
        const bytes = c.encode();
        s.encode.push(opsPerSecond(() => c.encode(), opts.sampleMs));
        s.decode.push(opsPerSecond(() => c.decode(bytes), opts.sampleMs));
      }
    }
  }

  const r = await resultShell('codec', command, startedAt, drivers, status, { ...opts });
  const per = (f: (s: { encode: number[]; decode: number[]; bytes: number }) => Summary, name: string): Record<string, Summary | null> =>
    Object.fromEntries(drivers.map((d) => {
      const s = samples.get(d.name)?.get(name);
      return [d.name, s ? f(s) : null];
    }));
  const figures: Figure[] = [];
  for (const name of CODEC_CASE_NAMES) {
    figures.push(
      { metric: `${name}: encode`, unit: 'ops/s', better: 'higher', show: 'median', values: per((s) => summarize(s.encode), name) },
      { metric: `${name}: decode`, unit: 'ops/s', better: 'higher', show: 'median', values: per((s) => summarize(s.decode), name) },
      { metric: `${name}: size`, unit: 'bytes', better: 'lower', show: 'median', values: per((s) => summarize([s.bytes]), name) },
    );
  }
  r.figures = figures;
  // Recorded so the measured results are observably used (and the optimizer cannot drop the work).
  r.settings.checksum = sink;
  r.notes.push(
    'Each system through its own codec: kadscope core/wire/codec.ts (cbor-x), dht-rpc lib/io.js layout over compact-encoding (mirrored; it is module-private), bittorrent-dht via k-rpc-socket\'s bencode 2.x plus k-rpc\'s compact nodes (mirrored).',
    'Decode includes what the system does before it can act on the message: dht-rpc checks the sender id (blake2b), k-rpc parses the compact nodes, kadscope validates the whole message.',
    `ops/s: median [IQR] over ${opts.rounds} samples of ${opts.sampleMs} ms each.`,
  );
  return r;
}
