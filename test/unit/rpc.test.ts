// The RPC layer over the memory transport under fake time: transaction ids, source checks,
// timeout and retry, the in-flight window, abort, and the counters.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { DhtError, WIRE_ERROR, isDhtError } from '../../core/errors';
import { bytesToHex, hexToBytes, seededRandomBytes } from '../../core/id';
import { Rpc, RPC_TIMEOUT_MS, TidTable, type RpcOptions } from '../../core/rpc/rpc';
import { MemoryNetwork, type MemoryTransport } from '../../core/transport/memory';
import type { Endpoint } from '../../core/transport/types';
import { decodeMessage, encodeMessage } from '../../core/wire/codec';
import type { Message, RequestMessage } from '../../core/wire/types';

/** One-way latency on the simulated wire: every datagram takes exactly this long. */
const LATENCY_MS = 10;

const CLIENT_ID = hexToBytes('aa'.repeat(32));
const SERVER_ID = hexToBytes('bb'.repeat(32));
const OTHER_ID = hexToBytes('cc'.repeat(32));

interface World {
  clock: FakeClock;
  net: MemoryNetwork;
  /** A transport for a client Rpc. */
  bind(host: string, port: number): Promise<MemoryTransport>;
}

const worlds: MemoryNetwork[] = [];
afterEach(() => {
  for (const n of worlds.splice(0)) n.destroy();
});

function world(): World {
  const clock = new FakeClock(0);
  const net = new MemoryNetwork({ clock }, { seed: 1, latencyMs: { min: LATENCY_MS, max: LATENCY_MS } });
  worlds.push(net);
  return {
    clock,
    net,
    async bind(host, port) {
      const t = net.createTransport({ host, port });
      await t.bind();
      return t;
    },
  };
}

async function client(w: World, options: RpcOptions = {}, seed = 1): Promise<{ rpc: Rpc; transport: MemoryTransport }> {
  const transport = await w.bind('10.0.0.1', 1000);
  const rpc = new Rpc({ transport, clock: w.clock, randomBytes: seededRandomBytes(seed), selfId: CLIENT_ID }, options);
  return { rpc, transport };
}

/** A well-behaved Rpc server at 10.0.0.2:2000 that answers PING. */
async function server(w: World): Promise<{ rpc: Rpc; transport: MemoryTransport; address: Endpoint }> {
  const transport = await w.bind('10.0.0.2', 2000);
  const rpc = new Rpc({ transport, clock: w.clock, randomBytes: seededRandomBytes(99), selfId: SERVER_ID });
  rpc.setHandler((req) => (req.method === 'PING' ? {} : DhtError.refusal('INVALID_TOKEN', 'no token')));
  return { rpc, transport, address: transport.address };
}

/** A raw peer: records the requests it receives and answers only when the test says so. */
async function rawPeer(w: World, host: string, port: number): Promise<{ transport: MemoryTransport; requests: Array<{ req: RequestMessage; from: Endpoint }> }> {
  const transport = await w.bind(host, port);
  const requests: Array<{ req: RequestMessage; from: Endpoint }> = [];
  transport.onMessage((data, from) => {
    const d = decodeMessage(data);
    if (d.ok && d.message.kind === 'request') requests.push({ req: d.message, from });
  });
  return { transport, requests };
}

function pingResponse(tid: number, id = SERVER_ID, observed: Endpoint = { host: '10.0.0.1', port: 1000 }): Uint8Array {
  const m: Message = { kind: 'response', tid, id, observed };
  return encodeMessage(m);
}

/** Settles a promise into a value we can inspect without awaiting it inside fake time. */
function track<T>(p: Promise<T>): { settled: () => boolean; value: () => T | undefined; error: () => unknown } {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  p.then(
    (v) => { done = true; value = v; },
    (e: unknown) => { done = true; error = e; },
  );
  return { settled: () => done, value: () => value, error: () => error };
}

describe('Rpc: transaction ids', () => {
  it('draws each tid from the injected random source: unpredictable, not a counter', async () => {
    const w = world();
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const { rpc } = await client(w, {}, 1234);
    for (let i = 0; i < 8; i++) void rpc.request(peer.transport.address, { method: 'PING' }).catch(() => undefined);
    w.clock.advance(LATENCY_MS);
    const tids = peer.requests.map((r) => r.req.tid);
    expect(tids).toHaveLength(8);
    // Exactly the seeded source's draws (4 bytes, big-endian), in order.
    const rand = seededRandomBytes(1234);
    const expected = tids.map(() => {
      const b = rand(4);
      return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    });
    expect(tids).toEqual(expected);
    expect(new Set(tids).size).toBe(8);
    // Not sequential: no tid is its predecessor plus one.
    for (let i = 1; i < tids.length; i++) expect(tids[i]).not.toBe((tids[i - 1] + 1) >>> 0);
    rpc.close();

    // Another seed, other tids.
    const w2 = world();
    const peer2 = await rawPeer(w2, '10.0.0.9', 9000);
    const { rpc: rpc2 } = await client(w2, {}, 4321);
    for (let i = 0; i < 8; i++) void rpc2.request(peer2.transport.address, { method: 'PING' }).catch(() => undefined);
    w2.clock.advance(LATENCY_MS);
    const tids2 = peer2.requests.map((r) => r.req.tid);
    expect(tids2.filter((t) => tids.includes(t))).toEqual([]);
    rpc2.close();
  });

  it('drops a response whose tid matches no request as unexpected-response; the request still completes', async () => {
    const w = world();
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const { rpc } = await client(w);
    const r = track(rpc.request(peer.transport.address, { method: 'PING' }));
    w.clock.advance(LATENCY_MS);
    const { req, from } = peer.requests[0];
    // A guessed tid (off by one) from the right address.
    peer.transport.send(pingResponse((req.tid + 1) >>> 0), from);
    await w.clock.tickAsync(LATENCY_MS);
    expect(rpc.counters.dropped['unexpected-response']).toBe(1);
    expect(r.settled()).toBe(false);
    expect(rpc.inFlight).toBe(1);
    peer.transport.send(pingResponse(req.tid), from);
    await w.clock.tickAsync(LATENCY_MS);
    expect(r.settled()).toBe(true);
    expect(bytesToHex(r.value()!.response.id)).toBe(bytesToHex(SERVER_ID));
    expect(r.value()!.rttMs).toBe(3 * LATENCY_MS);
    // A late duplicate of the real answer is unexpected too: the tid is no longer pending.
    peer.transport.send(pingResponse(req.tid), from);
    await w.clock.tickAsync(LATENCY_MS);
    expect(rpc.counters.dropped['unexpected-response']).toBe(2);
    rpc.close();
  });
});

describe('Rpc: responses count only from the address we asked', () => {
  it('ignores a response with the right tid from another address, then accepts the real one', async () => {
    const w = world();
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const spoofer = await rawPeer(w, '10.0.0.66', 6666);
    const samePortOtherHost = await rawPeer(w, '10.0.0.10', 9000);
    const sameHostOtherPort = await rawPeer(w, '10.0.0.9', 9001);
    const { rpc } = await client(w);
    const r = track(rpc.request(peer.transport.address, { method: 'PING' }));
    w.clock.advance(LATENCY_MS);
    const { req, from } = peer.requests[0];
    // The spoofers somehow learned the tid; each forges the answer, claiming the asked node's id.
    spoofer.transport.send(pingResponse(req.tid), from);
    samePortOtherHost.transport.send(pingResponse(req.tid), from);
    sameHostOtherPort.transport.send(pingResponse(req.tid), from);
    await w.clock.tickAsync(LATENCY_MS);
    expect(rpc.counters.dropped['wrong-source']).toBe(3);
    expect(r.settled()).toBe(false);
    expect(rpc.counters.rpc.PING.responses).toBe(0);
    // The real answer still counts.
    peer.transport.send(pingResponse(req.tid, SERVER_ID, { host: '1.2.3.4', port: 5 }), from);
    await w.clock.tickAsync(LATENCY_MS);
    expect(r.settled()).toBe(true);
    expect(r.value()!.response.observed).toEqual({ host: '1.2.3.4', port: 5 });
    expect(rpc.counters.rpc.PING.responses).toBe(1);
    rpc.close();
  });

  it('tells onResponse about accepted responses only', async () => {
    const w = world();
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const spoofer = await rawPeer(w, '10.0.0.66', 6666);
    const { rpc } = await client(w);
    const seen: string[] = [];
    rpc.onResponse = (res, from, rtt) => seen.push(`${bytesToHex(res.id).slice(0, 2)} ${from.host}:${from.port} ${rtt}`);
    const r = track(rpc.request(peer.transport.address, { method: 'PING' }));
    w.clock.advance(LATENCY_MS);
    const { req, from } = peer.requests[0];
    spoofer.transport.send(pingResponse(req.tid, OTHER_ID), from);
    peer.transport.send(pingResponse(req.tid), from);
    await w.clock.tickAsync(LATENCY_MS);
    expect(r.settled()).toBe(true);
    expect(seen).toEqual([`bb 10.0.0.9:9000 ${2 * LATENCY_MS}`]);
    rpc.close();
  });
});

describe('Rpc: timeouts', () => {
  it('times out, retries exactly once with the same tid, then rejects with TIMEOUT', async () => {
    const w = world();
    const silent = await rawPeer(w, '10.0.0.9', 9000);
    const { rpc } = await client(w);
    const timedOut: string[] = [];
    rpc.onTimeout = (to, method) => timedOut.push(`${method} ${to.host}`);
    const r = track(rpc.request(silent.transport.address, { method: 'PING' }));
    await w.clock.tickAsync(RPC_TIMEOUT_MS - 1);
    expect(silent.requests).toHaveLength(1);
    await w.clock.tickAsync(1 + LATENCY_MS); // the first attempt's timer fires: one retry goes out
    expect(silent.requests).toHaveLength(2);
    expect(silent.requests[1].req.tid).toBe(silent.requests[0].req.tid);
    expect(r.settled()).toBe(false);
    await w.clock.tickAsync(RPC_TIMEOUT_MS);
    expect(r.settled()).toBe(true);
    expect(isDhtError(r.error(), 'TIMEOUT')).toBe(true);
    expect((r.error() as Error).message).toMatch(/PING to 10\.0\.0\.9:9000 timed out after 4000 ms/);
    // No third attempt, ever.
    await w.clock.tickAsync(10 * RPC_TIMEOUT_MS);
    expect(silent.requests).toHaveLength(2);
    expect(rpc.counters.rpc.PING).toMatchObject({ sent: 1, timeouts: 1, responses: 0 });
    expect(rpc.counters.txPackets).toBe(2);
    expect(timedOut).toEqual(['PING 10.0.0.9']);
    expect(rpc.inFlight).toBe(0);
    expect(w.clock.pendingTimers).toBe(0);
    rpc.close();
  });

  it('accepts an answer to the retry, and reports two attempts', async () => {
    const w = world();
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const { rpc } = await client(w);
    const r = track(rpc.request(peer.transport.address, { method: 'PING' }));
    await w.clock.tickAsync(RPC_TIMEOUT_MS + LATENCY_MS);
    expect(peer.requests).toHaveLength(2);
    peer.transport.send(pingResponse(peer.requests[1].req.tid), peer.requests[1].from);
    await w.clock.tickAsync(LATENCY_MS);
    expect(r.settled()).toBe(true);
    expect(r.value()!.attempts).toBe(2);
    // RTT is measured from the attempt that was answered.
    expect(r.value()!.rttMs).toBe(2 * LATENCY_MS);
    rpc.close();
  });

  it('honours per-request timeout and retries', async () => {
    const w = world();
    const silent = await rawPeer(w, '10.0.0.9', 9000);
    const { rpc } = await client(w);
    const r = track(rpc.request(silent.transport.address, { method: 'PING' }, { timeoutMs: 100, retries: 0 }));
    await w.clock.tickAsync(100);
    expect(isDhtError(r.error(), 'TIMEOUT')).toBe(true);
    expect(silent.requests).toHaveLength(1);
    rpc.close();
  });

  it('asks retriesNow when the attempts run out: goes on to what it says, never fewer than given', async () => {
    const w = world();
    const silent = await rawPeer(w, '10.0.0.9', 9000);
    const { rpc } = await client(w);
    // What the caller would give a new request, as its loss estimate rises while this one waits.
    let now = 1;
    const asked: number[] = [];
    const retriesNow = (): number => {
      asked.push(silent.requests.length);
      return now;
    };
    const r = track(rpc.request(silent.transport.address, { method: 'PING' }, { timeoutMs: 100, retries: 1, retriesNow }));
    await w.clock.tickAsync(100 + LATENCY_MS);
    expect(silent.requests).toHaveLength(2);
    expect(asked).toEqual([]); // not asked while attempts remain
    now = 3; // by the time the second attempt goes unanswered, the loss calls for 3 retries
    await w.clock.tickAsync(100);
    expect(asked).toEqual([2]);
    expect(silent.requests).toHaveLength(3);
    now = 0; // a lower answer later does not cut the request short
    await w.clock.tickAsync(200);
    expect(silent.requests).toHaveLength(4);
    expect(r.settled()).toBe(true);
    expect((r.error() as Error).message).toMatch(/timed out after 400 ms/);
    expect(asked).toEqual([2, 4]);
    expect(silent.requests.every((q) => q.req.tid === silent.requests[0].req.tid)).toBe(true);
    rpc.close();
  });
});

describe('Rpc: in-flight window', () => {
  it('queues beyond maxInFlight, refuses beyond the queue with TOO_MANY_IN_FLIGHT, and drains the queue as answers come', async () => {
    const w = world();
    const { rpc } = await client(w, { maxInFlight: 2, maxQueued: 2 });
    const srv = await server(w);
    const rs = Array.from({ length: 5 }, () => track(rpc.request(srv.address, { method: 'PING' })));
    await Promise.resolve();
    expect(rpc.inFlight).toBe(2);
    expect(rpc.queued).toBe(2);
    expect(rpc.counters.txPackets).toBe(2); // queued requests have not gone out
    await w.clock.tickAsync(0);
    expect(rs[4].settled()).toBe(true);
    expect(isDhtError(rs[4].error(), 'TOO_MANY_IN_FLIGHT')).toBe(true);
    expect((rs[4].error() as Error).message).toBe('2 requests in flight and 2 queued; refusing more');
    // The first two are answered after one round trip; their slots go to the queued two.
    await w.clock.tickAsync(2 * LATENCY_MS);
    expect(rs.slice(0, 2).every((r) => r.value() !== undefined)).toBe(true);
    expect(rpc.inFlight).toBe(2);
    expect(rpc.queued).toBe(0);
    await w.clock.tickAsync(2 * LATENCY_MS);
    expect(rs.slice(0, 4).every((r) => r.value() !== undefined)).toBe(true);
    expect(srv.rpc.counters.rpc.PING.received).toBe(4);
    expect(rpc.inFlight).toBe(0);
    rpc.close();
    srv.rpc.close();
  });
});

describe('Rpc: timers', () => {
  it('keeps one timer per timeout while requests are in flight, and none once nothing is', async () => {
    const w = world();
    const silent = await rawPeer(w, '10.0.0.9', 9000);
    const { rpc } = await client(w);
    const idle = w.clock.pendingTimers;
    const rs = [1, 2, 3].map(() => track(rpc.request(silent.transport.address, { method: 'PING' })));
    rs.push(track(rpc.request(silent.transport.address, { method: 'PING' }, { timeoutMs: 500 })));
    // Four requests, two timeouts: two timers (the datagrams in flight are the network's own).
    w.clock.advance(LATENCY_MS);
    expect(w.clock.pendingTimers).toBe(idle + 2);
    for (const r of silent.requests.slice(0, 3)) silent.transport.send(pingResponse(r.req.tid), r.from);
    await w.clock.tickAsync(LATENCY_MS);
    expect(rs.slice(0, 3).every((r) => r.settled())).toBe(true);
    // The 2 s requests are answered; the one 500 ms request still waits: its list's timer, and the
    // emptied 2 s list's, which stays until it fires.
    expect(rpc.inFlight).toBe(1);
    expect(w.clock.pendingTimers).toBe(idle + 2);
    silent.transport.send(pingResponse(silent.requests[3].req.tid), silent.requests[3].from);
    await w.clock.tickAsync(LATENCY_MS);
    expect(rs[3].settled()).toBe(true);
    // Nothing in flight: no timer left at once, not only after the timeouts would have fired.
    expect(w.clock.pendingTimers).toBe(idle);
    rpc.close();
  });
});

describe('Rpc: abort and close', () => {
  it('aborts an in-flight request: ABORTED, slot freed, timer gone by its due time, late answer unexpected', async () => {
    const w = world();
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const { rpc } = await client(w);
    const ac = new AbortController();
    const timersBefore = w.clock.pendingTimers;
    const r = track(rpc.request(peer.transport.address, { method: 'PING' }, { signal: ac.signal }));
    w.clock.advance(LATENCY_MS);
    expect(w.clock.pendingTimers).toBe(timersBefore + 1);
    ac.abort('user');
    await Promise.resolve();
    expect(isDhtError(r.error(), 'ABORTED')).toBe(true);
    expect(rpc.inFlight).toBe(0);
    peer.transport.send(pingResponse(peer.requests[0].req.tid), peer.requests[0].from);
    await w.clock.tickAsync(LATENCY_MS);
    expect(rpc.counters.dropped['unexpected-response']).toBe(1);
    // Never retried after the abort. The timeouts' timer (one per timeout, rpc/deadlines.ts) stays
    // until the time it was armed for, then goes: nothing is left armed.
    await w.clock.tickAsync(3 * RPC_TIMEOUT_MS);
    expect(peer.requests).toHaveLength(1);
    expect(w.clock.pendingTimers).toBe(timersBefore);
    rpc.close();
  });

  it('rejects at once with an already-aborted signal, and removes an aborted request from the queue', async () => {
    const w = world();
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const { rpc } = await client(w, { maxInFlight: 1, maxQueued: 4 });
    await expect(rpc.request(peer.transport.address, { method: 'PING' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    const first = track(rpc.request(peer.transport.address, { method: 'PING' }));
    const ac = new AbortController();
    const queued = track(rpc.request(peer.transport.address, { method: 'PING' }, { signal: ac.signal }));
    await Promise.resolve();
    expect(rpc.queued).toBe(1);
    ac.abort();
    await Promise.resolve();
    expect(isDhtError(queued.error(), 'ABORTED')).toBe(true);
    expect(rpc.queued).toBe(0);
    expect(first.settled()).toBe(false);
    rpc.close();
  });

  it('close() rejects pending and queued requests with STOPPED, clears timers, and refuses new ones', async () => {
    const w = world();
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const { rpc } = await client(w, { maxInFlight: 1 });
    const a = track(rpc.request(peer.transport.address, { method: 'PING' }));
    const b = track(rpc.request(peer.transport.address, { method: 'PING' }));
    await Promise.resolve();
    rpc.close();
    rpc.close(); // idempotent
    await Promise.resolve();
    expect(isDhtError(a.error(), 'STOPPED')).toBe(true);
    expect(isDhtError(b.error(), 'STOPPED')).toBe(true);
    expect(rpc.inFlight).toBe(0);
    await expect(rpc.request(peer.transport.address, { method: 'PING' })).rejects.toMatchObject({ code: 'STOPPED' });
    w.net.destroy();
    expect(w.clock.pendingTimers).toBe(0);
  });
});

describe('Rpc: the table of requests in flight', () => {
  it('TidTable agrees with a Map through random adds and deletes, colliding tids, growth and shrinking', () => {
    const rand = seededRandomBytes(42);
    const u32 = (): number => {
      const b = rand(4);
      return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    };
    // Some tids share the first slot at every capacity (low 16 bits of t ^ t >>> 16 all zero), some
    // the last (all ones: their runs wrap around the end), the rest are random; the extremes too.
    const first = (i: number): number => ((i << 16) | i) >>> 0;
    const last = (i: number): number => ((i << 16) | (i ^ 0xffff)) >>> 0;
    const pool = [
      0,
      0xffff_ffff,
      ...Array.from({ length: 150 }, (_, i) => first(i + 1)),
      ...Array.from({ length: 150 }, (_, i) => last(i + 1)),
      ...Array.from({ length: 300 }, u32),
    ];
    const table = new TidTable<{ tid: number }>();
    const ref = new Map<number, { tid: number }>();
    const check = (): void => {
      expect(table.size).toBe(ref.size);
      for (const tid of pool) {
        expect(table.has(tid)).toBe(ref.has(tid));
        expect(table.get(tid)).toBe(ref.get(tid));
      }
      expect(table.list().map((v) => v.tid).sort((a, b) => a - b)).toEqual([...ref.keys()].sort((a, b) => a - b));
    };
    // Fill up (grows well past its first capacity), churn, then drain (shrinks), checking as we go.
    let largest = 0;
    for (let step = 0; step < 8_000; step++) {
      const phase = step < 2_000 ? 0.8 : step < 4_000 ? 0.5 : 0.05; // chance of an add
      const tid = pool[u32() % pool.length];
      if (u32() / 0x1_0000_0000 < phase) {
        if (!ref.has(tid)) {
          const v = { tid };
          table.add(v);
          ref.set(tid, v);
        }
      } else {
        table.delete(tid);
        ref.delete(tid);
      }
      largest = Math.max(largest, ref.size);
      if (step % 97 === 0) check();
    }
    check();
    expect(largest).toBeGreaterThan(300);
    expect(ref.size).toBeLessThan(40); // from over 300: the table has shrunk from 1,024 slots on the way
  });

  it('matches answers for any tid, the extremes included, and close() settles requests in the order they were made', async () => {
    const w = world();
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const transport = await w.bind('10.0.0.1', 1000);
    // tids 0xffffffff, 0, 5, 2^31; then 7, 0 (free again by then) and 9.
    const draws = [[0xff, 0xff, 0xff, 0xff], [0, 0, 0, 0], [0, 0, 0, 5], [0x80, 0, 0, 0], [0, 0, 0, 7], [0, 0, 0, 0], [0, 0, 0, 9]];
    const randomBytes = (n: number): Uint8Array => {
      const next = draws.shift();
      if (n !== 4 || next === undefined) throw new Error(`unexpected draw of ${n} bytes`);
      return Uint8Array.from(next);
    };
    const rpc = new Rpc({ transport, clock: w.clock, randomBytes, selfId: CLIENT_ID });
    const to = peer.transport.address;
    const settled: string[] = [];
    const ask = (name: string): void => {
      rpc.request(to, { method: 'PING' }).then(
        () => settled.push(`${name} answered`),
        (e: unknown) => settled.push(`${name} ${isDhtError(e) ? e.code : 'other'}`),
      );
    };
    for (const name of ['a', 'b', 'c', 'd']) ask(name);
    w.clock.advance(LATENCY_MS);
    expect(peer.requests.map((r) => r.req.tid)).toEqual([0xffff_ffff, 0, 5, 0x8000_0000]);
    expect(rpc.inFlight).toBe(4);
    // Answered out of order: each answer settles its own request.
    for (const tid of [0, 0x8000_0000, 0xffff_ffff]) peer.transport.send(pingResponse(tid, SERVER_ID), { host: '10.0.0.1', port: 1000 });
    w.clock.advance(LATENCY_MS);
    await Promise.resolve();
    expect(settled).toEqual(['b answered', 'd answered', 'a answered']);
    expect(rpc.inFlight).toBe(1);
    for (const name of ['e', 'f', 'g']) ask(name);
    w.clock.advance(LATENCY_MS);
    expect(peer.requests.slice(4).map((r) => r.req.tid)).toEqual([7, 0, 9]);
    // c (tid 5) was made first, then e (7), f (0), g (9): close() rejects them in that order.
    settled.length = 0;
    rpc.close();
    await Promise.resolve();
    expect(settled).toEqual(['c STOPPED', 'e STOPPED', 'f STOPPED', 'g STOPPED']);
    expect(rpc.inFlight).toBe(0);
  });

  it('an aborted signal settles its requests in the order they were made, after others under it were answered', async () => {
    const w = world();
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const other = await rawPeer(w, '10.0.0.9', 9001);
    const { rpc } = await client(w);
    const ctl = new AbortController();
    const settled: string[] = [];
    const ask = (name: string, to: Endpoint, signal?: AbortSignal): void => {
      rpc.request(to, { method: 'PING' }, { signal }).then(
        () => settled.push(`${name} answered`),
        (e: unknown) => settled.push(`${name} ${isDhtError(e) ? e.code : 'other'}`),
      );
    };
    for (const name of ['a', 'b', 'c', 'd', 'e']) ask(name, peer.transport.address, ctl.signal);
    ask('x', other.transport.address); // no signal: not affected
    w.clock.advance(LATENCY_MS);
    const tids = peer.requests.map((r) => r.req.tid);
    // Answer a and c: the list of b, d and e is reshuffled by their removal.
    for (const i of [0, 2]) peer.transport.send(pingResponse(tids[i]), { host: '10.0.0.1', port: 1000 });
    w.clock.advance(LATENCY_MS);
    await Promise.resolve();
    expect(rpc.hasPendingTo(peer.transport.address)).toBe(true);
    expect(rpc.hasPendingTo(other.transport.address)).toBe(true);
    ctl.abort();
    await Promise.resolve();
    expect(settled).toEqual(['a answered', 'c answered', 'b ABORTED', 'd ABORTED', 'e ABORTED']);
    expect(rpc.hasPendingTo(peer.transport.address)).toBe(false);
    expect(rpc.hasPendingTo(other.transport.address)).toBe(true);
    expect(rpc.inFlight).toBe(1);
    rpc.close();
  });
});

describe('Rpc: requests in flight per address', () => {
  it('knows which addresses it awaits an answer from, through retries, answers, timeouts and aborts', async () => {
    const w = world();
    const { rpc } = await client(w);
    const srv = await server(w);
    const silent = await rawPeer(w, '10.0.0.9', 9000);
    const other = { host: '10.0.0.9', port: 9001 };
    expect(rpc.hasPendingTo(srv.address)).toBe(false);
    const a = track(rpc.request(srv.address, { method: 'PING' }));
    const b = track(rpc.request(srv.address, { method: 'PING' }));
    const ac = new AbortController();
    const c = track(rpc.request(silent.transport.address, { method: 'PING' }, { signal: ac.signal }));
    const d = track(rpc.request(silent.transport.address, { method: 'PING' }));
    expect(rpc.hasPendingTo(srv.address)).toBe(true);
    expect(rpc.hasPendingTo(silent.transport.address)).toBe(true);
    expect(rpc.hasPendingTo(other)).toBe(false);
    await w.clock.tickAsync(2 * LATENCY_MS);
    expect(a.settled() && b.settled()).toBe(true);
    expect(rpc.hasPendingTo(srv.address)).toBe(false);
    ac.abort();
    await Promise.resolve();
    expect(c.settled()).toBe(true);
    expect(rpc.hasPendingTo(silent.transport.address)).toBe(true); // d is still waiting, retry included
    await w.clock.tickAsync(RPC_TIMEOUT_MS + LATENCY_MS);
    expect(rpc.hasPendingTo(silent.transport.address)).toBe(true);
    await w.clock.tickAsync(RPC_TIMEOUT_MS);
    expect(isDhtError(d.error(), 'TIMEOUT')).toBe(true);
    expect(rpc.hasPendingTo(silent.transport.address)).toBe(false);
    rpc.close();
    srv.rpc.close();
  });
});

describe('Rpc: answering, errors and counters', () => {
  it('counts packets, bytes and per-method requests on both sides', async () => {
    const w = world();
    const { rpc, transport } = await client(w);
    const srv = await server(w);
    const r = await w.clock.run(rpc.request(srv.address, { method: 'PING' }));
    expect(r.attempts).toBe(1);
    expect(r.bytesSent).toBe(transport.stats.bytesSent);
    expect(r.bytesReceived).toBe(transport.stats.bytesReceived);
    const c = rpc.snapshotCounters();
    expect(c).toMatchObject({ txPackets: 1, rxPackets: 1, txBytes: transport.stats.bytesSent, rxBytes: transport.stats.bytesReceived, inFlight: 0, dropped: {} });
    expect(c.rpc.PING).toEqual({ sent: 1, responses: 1, timeouts: 0, errors: 0, received: 0 });
    const s = srv.rpc.snapshotCounters();
    expect(s).toMatchObject({ txPackets: 1, rxPackets: 1, txBytes: srv.transport.stats.bytesSent, rxBytes: srv.transport.stats.bytesReceived });
    expect(s.rpc.PING).toEqual({ sent: 0, responses: 0, timeouts: 0, errors: 0, received: 1 });
    // The server tells us the address it saw us at.
    expect(r.response.observed).toEqual({ host: '10.0.0.1', port: 1000 });
    // A snapshot is a copy.
    c.rpc.PING.sent = 99;
    expect(rpc.counters.rpc.PING.sent).toBe(1);
    rpc.close();
    srv.rpc.close();
  });

  it('turns a refusal into an ERROR datagram and the requester into a DhtError with the wire code', async () => {
    const w = world();
    const { rpc } = await client(w);
    const srv = await server(w);
    const err = await w.clock
      .run(rpc.request(srv.address, { method: 'ANNOUNCE', topic: new Uint8Array(32), port: 80, token: new Uint8Array(4) }))
      .catch((e: unknown) => e);
    expect(isDhtError(err, 'INVALID_TOKEN')).toBe(true);
    expect((err as DhtError).wireCode).toBe(WIRE_ERROR.INVALID_TOKEN);
    expect((err as DhtError).message).toBe('no token');
    expect(rpc.counters.rpc.ANNOUNCE).toMatchObject({ sent: 1, errors: 1, responses: 0 });
    expect(srv.rpc.counters.rpc.ANNOUNCE.received).toBe(1);
    rpc.close();
    srv.rpc.close();
  });

  it('drops undecodable datagrams by reason without answering, and drops requests admission refuses', async () => {
    const w = world();
    const transport = await w.bind('10.0.0.2', 2000);
    let admit = true;
    const srv = new Rpc({ transport, clock: w.clock, randomBytes: seededRandomBytes(5), selfId: SERVER_ID }, { admit: () => admit });
    srv.setHandler(() => ({}));
    const peer = await rawPeer(w, '10.0.0.9', 9000);
    const answers: Uint8Array[] = [];
    peer.transport.onMessage((d) => answers.push(d));
    peer.transport.send(new Uint8Array(0), transport.address);
    peer.transport.send(new Uint8Array([0xff, 0x00, 0x13]), transport.address);
    peer.transport.send(encodeMessage({ kind: 'request', tid: 1, id: OTHER_ID, method: 'PING' }).slice(0, 20), transport.address);
    admit = false;
    peer.transport.send(encodeMessage({ kind: 'request', tid: 2, id: OTHER_ID, method: 'PING' }), transport.address);
    await w.clock.tickAsync(3 * LATENCY_MS);
    const dropped = srv.counters.dropped;
    expect(dropped['rate-limited']).toBe(1);
    const total = Object.values(dropped).reduce((a, b) => a + (b ?? 0), 0);
    expect(total).toBe(4);
    expect(srv.counters.rxPackets).toBe(4);
    expect(srv.counters.rpc.PING.received).toBe(0);
    expect(answers).toHaveLength(0);
    srv.close();
  });

  it('answers an ERROR when a handler throws, and keeps serving', async () => {
    const w = world();
    const { rpc } = await client(w);
    const transport = await w.bind('10.0.0.2', 2000);
    const srv = new Rpc({ transport, clock: w.clock, randomBytes: seededRandomBytes(5), selfId: SERVER_ID });
    let fail = true;
    srv.setHandler(() => {
      if (fail) throw new DhtError('INVALID_ARGUMENT', 'bad request');
      return {};
    });
    await expect(w.clock.run(rpc.request(transport.address, { method: 'PING' }))).rejects.toMatchObject({ code: 'REMOTE_ERROR', message: 'bad request' });
    fail = false;
    await expect(w.clock.run(rpc.request(transport.address, { method: 'PING' }))).resolves.toMatchObject({ attempts: 1 });
    rpc.close();
    srv.close();
  });
});
