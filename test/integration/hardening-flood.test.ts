// A flood over real UDP on 127.0.0.1: one address sends a node 20,000 PINGs a second for 3 seconds
// (from a worker thread, so the flood does not share the node's event loop), while five other peers
// keep pinging it. The node's per-address token bucket (core/rpc/rate-limit.ts) drops the flood
// beyond its burst, so the peers are still answered (>= 95%). Real time is the point here (a
// throughput property); every wait is bounded, and nothing asserts a duration.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { DhtNode } from '../../core/node';
import { RATE_LIMIT_BURST, RATE_LIMIT_REQUESTS_PER_SECOND } from '../../core/rpc/rate-limit';
import { encodeMessage } from '../../core/wire/codec';

const FLOOD_PER_SECOND = 20_000;
const FLOOD_MS = 3_000;
const PEERS = 5;
/** Each peer pings, waits for the answer (or the RPC's timeout and retry), and pings again after this pause. */
const PEER_PAUSE_MS = 10;

/** The flooder: plain JS in a worker thread, pacing its sends by elapsed time. */
const FLOODER = `
const { workerData, parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const { port, perSecond, durationMs, datagram } = workerData;
const s = dgram.createSocket('udp4');
let sent = 0, answers = 0, sendErrors = 0;
s.on('message', () => answers++);
s.bind(0, '127.0.0.1', () => {
  const start = performance.now();
  const tick = () => {
    const elapsed = performance.now() - start;
    const due = Math.floor(Math.min(elapsed, durationMs) * perSecond / 1000);
    while (sent < due) { sent++; s.send(datagram, port, '127.0.0.1', (e) => { if (e) sendErrors++; }); }
    if (elapsed < durationMs) setTimeout(tick, 1);
    else setTimeout(() => { parentPort.postMessage({ sent, answers, sendErrors, ms: performance.now() - start }); s.close(); }, 200);
  };
  parentPort.postMessage({ started: true });
  tick();
});
`;

interface FloodReport {
  sent: number;
  answers: number;
  sendErrors: number;
  ms: number;
}

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('a flood from one address (real UDP)', () => {
  it(`at ${FLOOD_PER_SECOND.toLocaleString('en')} requests/s for ${FLOOD_MS / 1000} s: other peers' PINGs are still answered >= 95% of the time`, async () => {
    const victim = DhtNode.create({ host: '127.0.0.1', port: 0 });
    const peers = Array.from({ length: PEERS }, () => DhtNode.create({ host: '127.0.0.1', port: 0, rpcTimeoutMs: 500 }));
    cleanups.push(async () => {
      await victim.stop();
      await Promise.all(peers.map((p) => p.stop()));
    });
    await victim.start();
    await Promise.all(peers.map((p) => p.start()));

    const datagram = encodeMessage({ kind: 'request', tid: 7, id: new Uint8Array(32).fill(0xf1), method: 'PING' });
    const worker = new Worker(FLOODER, { eval: true, workerData: { port: victim.address.port, perSecond: FLOOD_PER_SECOND, durationMs: FLOOD_MS, datagram } });
    cleanups.push(async () => {
      await worker.terminate();
    });
    const reports: Array<FloodReport | { started: true }> = [];
    let onReport: () => void = () => undefined;
    worker.on('message', (m: FloodReport | { started: true }) => {
      reports.push(m);
      onReport();
    });
    const next = (): Promise<void> => new Promise((r) => (onReport = r));
    await next(); // the flood has started

    let floodDone = false;
    const finished = next().then(() => (floodDone = true));
    const tally = { sent: 0, answered: 0 };
    await Promise.all(
      peers.map(async (p) => {
        while (!floodDone) {
          tally.sent++;
          const ok = await p.ping(victim.address).then(
            () => true,
            () => false,
          );
          if (ok) tally.answered++;
          await new Promise((r) => setTimeout(r, PEER_PAUSE_MS));
        }
      }),
    );
    await finished;
    const flood = reports[1] as FloodReport;
    const c = victim.snapshot().counters;
    const limited = c.dropped['rate-limited'] ?? 0;
    console.log(
      `flood: ${flood.sent} PINGs in ${Math.round(flood.ms)} ms from one address; ${flood.answers} answered, ${limited} dropped as rate-limited; ` +
        `peers: ${tally.answered}/${tally.sent} PINGs answered (${((100 * tally.answered) / tally.sent).toFixed(1)}%)`,
    );

    expect(flood.sent).toBe((FLOOD_PER_SECOND * FLOOD_MS) / 1000);
    expect(tally.sent).toBeGreaterThan(PEERS * 10);
    expect(tally.answered / tally.sent).toBeGreaterThanOrEqual(0.95);
    // The flooder got its burst and its rate, no more (plus one verification PING from the node).
    const allowance = RATE_LIMIT_BURST + (RATE_LIMIT_REQUESTS_PER_SECOND * (flood.ms + 1_000)) / 1000;
    expect(flood.answers).toBeLessThanOrEqual(allowance + 1);
    expect(limited).toBeGreaterThan(flood.sent / 2);
    // And it is still fine afterwards.
    expect((await peers[0].ping(victim.address)).id).toBe(victim.id);
  }, 30_000);
});
