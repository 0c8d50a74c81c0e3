// The explorer's host-side stages, one at a time, in hot loops: what each costs per lookup when
// nothing else runs. The explorer-cost workload's windows give the whole cost on a real node, where
// the machine's noise is larger than the goal's margin; this gives the direct work of each stage
// with little noise, so the two together say how much of the whole is work the explorer does and
// how much comes from elsewhere (garbage collection, code and caches gone cold between events).
//
// The events are recorded once from a seeded memory testnet (FakeClock: the same lookups, answers
// and events every run): every event the service publishes for these lookups, grouped by lookup.
// That is the lookups' own events, and peer-health updates as the service passes them on
// (health-coalescer.ts: changes at once, a good peer's refreshes once a tick, here once every
// `lookupsPerTick` lookups). Each stage then runs over all of them, `reps` times:
// - traces: TraceRecorder.ingest of every lookup event (the service's recorder, the Traces view)
// - batcher: EventBatcher.publish of every event, a batch per lookupsPerBatch() lookups (the
//   lookups a second times the batcher's flush interval: at 20 a second and 100 ms, two)
// - encode: batchMessage() of each batch (the wire form both hosts send)
// - stringify: JSON.stringify of each encoded batch (the web host's WebSocket send)
import { FakeClock } from '../../core/clock';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { createTestnet } from '../../core/testnet';
import { batchMessage } from '../../electron/host/batch-codec';
import { EventBatcher, FLUSH_INTERVAL_MS } from '../../electron/host/batcher';
import { HealthCoalescer } from '../../electron/host/health-coalescer';
import type { EventBatch, ExplorerEvent } from '../../electron/host/contract';
import { TraceRecorder } from '../../electron/host/trace-recorder';
import { summarize, type Summary } from './harness';

export interface ExplorerStagesOptions {
  testnetSize: number;
  lookups: number;
  /** Timed passes over all recorded lookups, per stage (after three untimed ones). */
  reps: number;
  seed: number;
  /** Lookups per service tick (1 s), when held peer-health refreshes go out: the explorer-cost workload's lookups per second. */
  lookupsPerTick: number;
}

export const EXPLORER_STAGES_DEFAULTS: ExplorerStagesOptions = { testnetSize: 50, lookups: 100, reps: 40, seed: 7, lookupsPerTick: 20 };

/** Lookups whose events go out in one batch at `lookupsPerSecond`: as the explorer-cost workload's subscriber gets them. */
export function lookupsPerBatch(lookupsPerSecond: number): number {
  return Math.max(1, Math.round((lookupsPerSecond * FLUSH_INTERVAL_MS) / 1000));
}

export const STAGE_NAMES = ['traces', 'batcher', 'encode', 'stringify'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface ExplorerStages {
  /** Events per lookup by kind ('peer-health', and the lookup's own: 'started', 'query', ...). */
  eventsPerLookup: Record<string, number>;
  /** Microseconds of CPU per lookup, one value per timed pass. */
  stages: Record<StageName, Summary>;
  /** JSON bytes per lookup on the wire. */
  bytesPerLookup: number;
}

/** Records the explorer-visible events of `lookups` find-node lookups from node 0 of a seeded memory testnet. */
async function recordEvents(opts: ExplorerStagesOptions): Promise<ExplorerEvent[][]> {
  const clock = new FakeClock();
  const net = await createTestnet({ size: opts.testnetSize, transport: 'memory', seed: opts.seed, clock });
  try {
    const node = net.nodes[0];
    const rand = seededRandomBytes(opts.seed ^ 0x7a7);
    const perLookup: ExplorerEvent[][] = [];
    let current: ExplorerEvent[] = [];
    // What the service publishes for a lookup (service.ts attach()): its events, and peer health as the service passes it on.
    const health = new HealthCoalescer(
      (peer) => current.push({ type: 'peer-health', peer }),
      (id) => node.peerInfo(id),
    );
    const unsubs = [
      node.on('lookup', (event) => current.push({ type: 'lookup', event })),
      node.subscribePeerHealth((id, state, failures) => health.update(id, state, failures)),
      node.on('peer-removed', (p) => health.removed(p.id)),
    ];
    try {
      for (let i = 0; i < opts.lookups; i++) {
        current = [];
        await clock.run(node.findNode(bytesToHex(rand(node.idBytes.length))));
        if ((i + 1) % opts.lookupsPerTick === 0) health.flush();
        perLookup.push(current);
      }
    } finally {
      for (const u of unsubs) u();
    }
    return perLookup;
  } finally {
    await net.destroy();
  }
}

/**
 * CPU microseconds per lookup of each of `reps` passes of fn over all lookups, hot: code compiled,
 * caches warm, garbage collected when V8 chooses (a full collection before each pass made the
 * passes 2-6x slower and their spread wider: the young generation starts small again each time).
 */
function timePasses(lookups: number, reps: number, fn: () => void): Summary {
  for (let i = 0; i < 3; i++) fn();
  const us: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t);
    us.push((d.user + d.system) / lookups);
  }
  return summarize(us);
}

export async function measureExplorerStages(opts: ExplorerStagesOptions = EXPLORER_STAGES_DEFAULTS): Promise<ExplorerStages> {
  const perLookup = await recordEvents(opts);
  const n = perLookup.length;
  const counts: Record<string, number> = {};
  for (const events of perLookup) {
    for (const e of events) {
      const kind = e.type === 'lookup' ? e.event.type : e.type;
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
  }
  const eventsPerLookup = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / n]));

  const traces = timePasses(n, opts.reps, () => {
    const recorder = new TraceRecorder();
    for (const events of perLookup) for (const e of events) if (e.type === 'lookup') recorder.ingest(e.event);
  });
  let batches: EventBatch[] = [];
  const batcher = timePasses(n, opts.reps, () => {
    const out: EventBatch[] = [];
    const perBatch = lookupsPerBatch(opts.lookupsPerTick);
    const b = new EventBatcher({ clock: new FakeClock() });
    b.subscribe({ deliver: (batch) => void out.push(batch), congested: () => false });
    for (let i = 0; i < perLookup.length; i++) {
      for (const e of perLookup[i]) b.publish(e);
      if ((i + 1) % perBatch === 0 || i === perLookup.length - 1) b.flushAll();
    }
    b.stop();
    batches = out;
  });
  const encode = timePasses(n, opts.reps, () => {
    for (const batch of batches) batchMessage(batch);
  });
  const messages = batches.map((batch) => batchMessage(batch));
  let bytes = 0;
  const stringify = timePasses(n, opts.reps, () => {
    bytes = 0;
    for (const m of messages) bytes += JSON.stringify(m).length;
  });
  return { eventsPerLookup, stages: { traces, batcher, encode, stringify }, bytesPerLookup: bytes / n };
}
