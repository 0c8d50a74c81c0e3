// Rpc details that keep the per-datagram path cheap without changing behaviour: requests share
// one 'abort' listener per signal, and an answer that cannot be encoded still gets an answer.
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../core/clock';
import { DhtError } from '../../core/errors';
import { hexToBytes, seededRandomBytes } from '../../core/id';
import { Rpc, RPC_TIMEOUT_MS } from '../../core/rpc/rpc';
import { MemoryNetwork, type MemoryTransport } from '../../core/transport/memory';
import type { Endpoint } from '../../core/transport/types';
import { decodeMessage, encodeMessage } from '../../core/wire/codec';
import type { RequestMessage } from '../../core/wire/types';

const LATENCY_MS = 10;
const CLIENT_ID = hexToBytes('aa'.repeat(32));
const SERVER_ID = hexToBytes('bb'.repeat(32));

const nets: MemoryNetwork[] = [];
afterEach(() => {
  for (const n of nets.splice(0)) n.destroy();
  vi.restoreAllMocks();
});

async function setup(): Promise<{ clock: FakeClock; rpc: Rpc; peer: MemoryTransport; requests: Array<{ req: RequestMessage; from: Endpoint }> }> {
  const clock = new FakeClock(0);
  const net = new MemoryNetwork({ clock }, { seed: 1, latencyMs: { min: LATENCY_MS, max: LATENCY_MS } });
  nets.push(net);
  const transport = net.createTransport({ host: '10.0.0.1', port: 1000 });
  await transport.bind();
  const rpc = new Rpc({ transport, clock, randomBytes: seededRandomBytes(7), selfId: CLIENT_ID });
  const peer = net.createTransport({ host: '10.0.0.9', port: 9000 });
  await peer.bind();
  const requests: Array<{ req: RequestMessage; from: Endpoint }> = [];
  peer.onMessage((data, from) => {
    const d = decodeMessage(data);
    if (d.ok && d.message.kind === 'request') requests.push({ req: d.message, from });
  });
  return { clock, rpc, peer, requests };
}

function answer(peer: MemoryTransport, tid: number, to: Endpoint): void {
  peer.send(encodeMessage({ kind: 'response', tid, id: SERVER_ID, observed: to }), to);
}

describe('Rpc: requests under one AbortSignal', () => {
  it('share one abort listener, removed once none is in flight', async () => {
    const { clock, rpc, peer, requests } = await setup();
    const ac = new AbortController();
    const results = Array.from({ length: 10 }, () => rpc.request(peer.address, { method: 'PING' }, { signal: ac.signal }));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    clock.advance(LATENCY_MS);
    for (const r of requests.slice(0, 9)) answer(peer, r.req.tid, r.from);
    await clock.tickAsync(LATENCY_MS);
    expect(rpc.inFlight).toBe(1);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    answer(peer, requests[9].req.tid, requests[9].from);
    await clock.tickAsync(LATENCY_MS);
    await Promise.all(results);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    rpc.close();
  });

  it('aborting it rejects every request under it with ABORTED and frees their slots and timers; others go on', async () => {
    const { clock, rpc, peer, requests } = await setup();
    const timersAtStart = clock.pendingTimers;
    const ac = new AbortController();
    const other = new AbortController();
    const doomed = Array.from({ length: 5 }, () => rpc.request(peer.address, { method: 'PING' }, { signal: ac.signal }).catch((e: unknown) => e));
    const kept = rpc.request(peer.address, { method: 'PING' }, { signal: other.signal });
    const plain = rpc.request(peer.address, { method: 'PING' });
    ac.abort('user');
    for (const e of await Promise.all(doomed)) expect(e).toMatchObject({ code: 'ABORTED' });
    expect(rpc.inFlight).toBe(2);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    clock.advance(LATENCY_MS);
    for (const r of requests.slice(5)) answer(peer, r.req.tid, r.from);
    await clock.tickAsync(LATENCY_MS);
    await expect(kept).resolves.toMatchObject({ attempts: 1 });
    await expect(plain).resolves.toMatchObject({ attempts: 1 });
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
    // The aborted ones are never sent again, and by their timeout no timer of theirs is left.
    await clock.tickAsync(2 * RPC_TIMEOUT_MS);
    expect(requests).toHaveLength(7);
    expect(clock.pendingTimers).toBe(timersAtStart);
    rpc.close();
  });

  it('a request started with a signal that is aborted meanwhile (queued behind the window) is refused', async () => {
    const { rpc, peer } = await setup();
    const small = new Rpc({ transport: peer, clock: new FakeClock(0), randomBytes: seededRandomBytes(8), selfId: CLIENT_ID }, { maxInFlight: 1 });
    const ac = new AbortController();
    const first = small.request({ host: '10.0.0.1', port: 1000 }, { method: 'PING' }, { signal: ac.signal }).catch((e: unknown) => e);
    const second = small.request({ host: '10.0.0.1', port: 1000 }, { method: 'PING' }, { signal: ac.signal }).catch((e: unknown) => e);
    await Promise.resolve();
    expect(small.queued).toBe(1);
    ac.abort();
    expect(await first).toMatchObject({ code: 'ABORTED' });
    expect(await second).toMatchObject({ code: 'ABORTED' });
    expect([small.inFlight, small.queued]).toEqual([0, 0]);
    small.close();
    rpc.close();
  });
});

describe('Rpc: an answer that cannot be encoded', () => {
  it('is replaced by the generic internal error, so the requester does not wait for its timeout', async () => {
    const { clock, rpc, peer } = await setup();
    const server = new Rpc({ transport: peer, clock, randomBytes: seededRandomBytes(9), selfId: SERVER_ID });
    // A contact with a 3-byte id: the encoder refuses the whole answer.
    server.setHandler(() => ({ nodes: [{ id: new Uint8Array(3), host: '10.0.0.5', port: 5 }] }));
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const r = rpc.request(peer.address, { method: 'FIND_NODE', target: new Uint8Array(32) }).catch((e: unknown) => e);
    await clock.tickAsync(2 * LATENCY_MS);
    const e = await r;
    expect(e).toBeInstanceOf(DhtError);
    expect(e).toMatchObject({ message: 'internal error' }); // what a handler that throws answers, too
    expect(logged).toHaveBeenCalledTimes(1);
    expect(server.counters.txPackets).toBe(1);
    server.close();
    rpc.close();
  });
});
