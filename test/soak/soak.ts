// The soak: a live node on 127.0.0.1 (real UDP, system clock) receives a stream of random and
// mutated datagrams from several attacker sockets; afterwards it must still answer PING, its heap
// (after GC) must be where it started, and its counters must account for every datagram:
//
//   received by the node      = sent by the attackers + sent by the probing friend
//   received                  = dropped (by reason) + requests handled + responses/errors consumed
//   answers sent by the node  = requests handled + unknown requests refused with an answer (each exactly once)
//   answers the attackers got = answers sent to them
//
// Run by `npm run soak` (test/soak/run.ts: a million datagrams, at most 10 minutes) and, 20,000
// datagrams long, by test/integration/hardening-soak.test.ts.
import { createSocket, type Socket } from 'node:dgram';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { seededRandom, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import type { UdpTransport } from '../../core/transport/udp';
import type { Counters } from '../../core/types';
import { decodeMessage } from '../../core/wire/codec';
import { hostileDatagram, validCorpus } from './datagrams';

export interface SoakOptions {
  datagrams: number;
  /** Wall-clock bound; the soak stops early (and says so) when it is reached. */
  maxMs: number;
  seed: number;
  /** Attacker sockets (source addresses). */
  senders?: number;
  /** Datagrams sent ahead of what the node has read; keeps the kernel's buffers from overflowing. */
  window?: number;
  /** Run the node with its default rate limits (off by default: every datagram should reach the handlers). */
  rateLimit?: boolean;
  /** Datagrams before the heap baseline is taken (JIT, caches and pools warm up first). */
  warmup?: number;
  /** Called about every `progressEvery` datagrams. */
  onProgress?: (p: SoakProgress) => void;
  progressEvery?: number;
}

export interface SoakProgress {
  sent: number;
  total: number;
  elapsedMs: number;
  perSecond: number;
  heapUsedBytes: number;
  dropped: number;
  handled: number;
}

export interface SoakCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SoakResult {
  datagrams: number;
  sent: number;
  /** False when maxMs stopped the soak before `datagrams` were sent. */
  complete: boolean;
  durationMs: number;
  perSecond: number;
  senders: number;
  rateLimit: boolean;
  node: {
    rxPackets: number;
    txPackets: number;
    dropped: Record<string, number>;
    requestsHandled: number;
    answersConsumed: number;
    ownRequests: number;
    handlerErrors: number;
    amplification: { held: number; capped: number; verifications: number } | null;
  };
  attackers: { answersReceived: number; verificationPingsReceived: number; undecodable: number };
  heap: { baselineBytes: number; endBytes: number; growthBytes: number; limitBytes: number; gc: boolean };
  pingAfter: { ok: boolean; rttMs: number | null; error: string | null };
  /** PINGs from the friend during the soak that were answered / sent. */
  probes: { answered: number; sent: number };
  checks: SoakCheck[];
  ok: boolean;
}

const DEFAULT_SENDERS = 8;
const DEFAULT_WINDOW = 64;
/** Heap growth (after GC) allowed between the warm-up baseline and the end. */
export const SOAK_HEAP_LIMIT_BYTES = 8 * 1024 * 1024;
/** How long we wait for the node to read what was sent before giving up on that datagram. */
const READ_STALL_MS = 2_000;
/** How long we wait at the end for verification PINGs and held answers to finish. */
const QUIESCE_MS = 5_000;
/** A friend's PING every this many datagrams shows the node kept serving during the soak. */
const PROBE_EVERY = 10_000;

/** global.gc when node runs with --expose-gc; otherwise the same function fetched through V8's flag. */
function getGc(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

function heapAfterGc(gc: (() => void) | null): number {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function sum(values: Iterable<number | undefined>): number {
  let s = 0;
  for (const v of values) s += v ?? 0;
  return s;
}

function totals(c: Counters): { dropped: number; handled: number; consumed: number; own: number } {
  let handled = 0;
  let consumed = 0;
  let own = 0;
  for (const m of Object.values(c.rpc)) {
    handled += m.received;
    consumed += m.responses + m.errors;
    own += m.sent;
  }
  return { dropped: sum(Object.values(c.dropped)), handled, consumed, own };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const total = options.datagrams;
  const senders = options.senders ?? DEFAULT_SENDERS;
  const window = options.window ?? DEFAULT_WINDOW;
  const rateLimit = options.rateLimit ?? false;
  const warmup = Math.min(options.warmup ?? Math.min(20_000, Math.floor(total / 10)), total);
  const progressEvery = options.progressEvery ?? Math.max(1, Math.floor(total / 20));
  const gc = getGc();
  const started = performance.now();

  // No peers but the friend, no maintenance: every datagram the node sends is an answer or a verification PING.
  const quiet = { maintenanceIntervalMs: 24 * 3_600_000, refreshOnBootstrap: false };
  const victim = DhtNode.create({ host: '127.0.0.1', port: 0, ...quiet, ...(rateLimit ? {} : { rateLimit: false }) });
  const friend = DhtNode.create({ host: '127.0.0.1', port: 0, ...quiet });
  const sockets: Socket[] = [];
  const attackers = { answersReceived: 0, verificationPingsReceived: 0, undecodable: 0 };
  try {
    await victim.start();
    await friend.start();
    const to = victim.address;
    for (let i = 0; i < senders; i++) {
      const s = createSocket('udp4');
      s.on('message', (msg) => {
        const d = decodeMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
        if (!d.ok) attackers.undecodable++;
        else if (d.message.kind === 'request') attackers.verificationPingsReceived++;
        else attackers.answersReceived++;
      });
      await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
      sockets.push(s);
    }
    const pick = seededRandom(options.seed);
    const rand = seededRandomBytes(options.seed + 1);
    const corpus = validCorpus(rand);

    const counters = (): Counters => victim.snapshot().counters;
    const friendTx = (): number => friend.snapshot().counters.txPackets;
    const rx0 = counters().rxPackets;
    const friendTx0 = friendTx();
    const probes = { answered: 0, sent: 0 };
    let sent = 0;
    let baseline = 0;
    let complete = true;

    /** Waits until the node has read everything sent, minus `slack`; false if it stalled. */
    const caughtUp = async (slack: number): Promise<boolean> => {
      const deadline = performance.now() + READ_STALL_MS;
      for (;;) {
        const expected = rx0 + sent + (friendTx() - friendTx0);
        if (counters().rxPackets >= expected - slack) return true;
        if (performance.now() > deadline) return false;
        await turn();
      }
    };

    const probe = async (): Promise<void> => {
      probes.sent++;
      const ok = await friend.ping(to).then(
        () => true,
        () => false,
      );
      if (ok) probes.answered++;
    };

    while (sent < total) {
      if (performance.now() - started > options.maxMs) {
        complete = false;
        break;
      }
      const batch = Math.min(window, total - sent);
      for (let i = 0; i < batch; i++) {
        const d = hostileDatagram(pick, rand, corpus);
        sockets[(sent + i) % senders].send(d, to.port, to.host);
      }
      sent += batch;
      await caughtUp(0);
      if (sent === warmup) baseline = heapAfterGc(gc);
      if (sent % PROBE_EVERY < batch) await probe();
      if (options.onProgress && sent % progressEvery < batch) {
        const t = totals(counters());
        const elapsedMs = performance.now() - started;
        options.onProgress({ sent, total, elapsedMs, perSecond: Math.round(sent / (elapsedMs / 1000)), heapUsedBytes: process.memoryUsage().heapUsed, dropped: t.dropped, handled: t.handled });
      }
    }
    if (baseline === 0) baseline = heapAfterGc(gc);

    // Let verification PINGs time out and held answers go, then let the attackers read the last answers.
    const quiesceBy = performance.now() + QUIESCE_MS;
    while (performance.now() < quiesceBy && ((victim.amplification?.holding ?? 0) > 0 || counters().inFlight > 0)) await new Promise((r) => setTimeout(r, 20));
    await caughtUp(0);
    for (let i = 0; i < 50; i++) await turn();

    const pingAfter = await friend.ping(to).then(
      (r) => ({ ok: true, rttMs: r.rttMs, error: null }),
      (e: unknown) => ({ ok: false, rttMs: null, error: e instanceof Error ? e.message : String(e) }),
    );
    const endBytes = heapAfterGc(gc);
    const c = counters();
    const t = totals(c);
    const friendSent = friendTx() - friendTx0;
    const friendCounters = friend.snapshot().counters;
    const answersToFriend = sum(Object.values(friendCounters.rpc).map((m) => m.responses + m.errors));
    const answered = c.txPackets - t.own; // the node's own requests are single-attempt verification PINGs
    const handlerErrors = (victim.transport as UdpTransport).stats.handlerErrors;
    const durationMs = performance.now() - started;

    const checks: SoakCheck[] = [
      { name: 'every datagram reached the node', ok: c.rxPackets - rx0 === sent + friendSent, detail: `node received ${c.rxPackets - rx0}; attackers sent ${sent}, friend ${friendSent}` },
      {
        name: 'every datagram is accounted for',
        ok: c.rxPackets === t.dropped + t.handled + t.consumed,
        detail: `${c.rxPackets} received = ${t.dropped} dropped + ${t.handled} requests handled + ${t.consumed} answers consumed`,
      },
      {
        name: 'every handled request was answered once',
        ok: answered === t.handled + (c.refusalsAnswered ?? 0),
        detail: `${answered} answers sent for ${t.handled} requests handled + ${c.refusalsAnswered ?? 0} unknown requests refused with an answer`,
      },
      {
        name: 'the attackers got every answer sent to them',
        ok: attackers.answersReceived === answered - answersToFriend,
        detail: `${attackers.answersReceived} received of ${answered - answersToFriend}`,
      },
      { name: 'no handler threw', ok: handlerErrors === 0, detail: `${handlerErrors} handler errors` },
      { name: 'it still answers PING', ok: pingAfter.ok, detail: pingAfter.ok ? `rtt ${pingAfter.rttMs} ms` : String(pingAfter.error) },
      { name: 'it answered every PING during the soak', ok: probes.answered === probes.sent, detail: `${probes.answered} of ${probes.sent}` },
      {
        name: 'its heap is flat',
        ok: !gc || endBytes - baseline <= SOAK_HEAP_LIMIT_BYTES,
        detail: gc ? `${fmtMb(baseline)} after warm-up, ${fmtMb(endBytes)} at the end (limit +${fmtMb(SOAK_HEAP_LIMIT_BYTES)})` : 'gc not available: not measured',
      },
    ];
    return {
      datagrams: total,
      sent,
      complete,
      durationMs: Math.round(durationMs),
      perSecond: Math.round(sent / (durationMs / 1000)),
      senders,
      rateLimit,
      node: {
        rxPackets: c.rxPackets - rx0,
        txPackets: c.txPackets,
        dropped: Object.fromEntries(Object.entries(c.dropped).map(([k, v]) => [k, v ?? 0])),
        requestsHandled: t.handled,
        answersConsumed: t.consumed,
        ownRequests: t.own,
        handlerErrors,
        amplification: victim.amplification ? { held: victim.amplification.stats.held, capped: victim.amplification.stats.capped, verifications: victim.amplification.stats.verifications } : null,
      },
      attackers,
      heap: { baselineBytes: baseline, endBytes, growthBytes: endBytes - baseline, limitBytes: SOAK_HEAP_LIMIT_BYTES, gc: gc !== null },
      pingAfter,
      probes,
      checks,
      ok: checks.every((x) => x.ok),
    };
  } finally {
    for (const s of sockets) await new Promise<void>((r) => s.close(() => r()));
    await victim.stop();
    await friend.stop();
  }
}

export function fmtMb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
