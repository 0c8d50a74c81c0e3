// No amplification (core/rpc/amplification.ts), on the memory network under fake time: whatever an
// unverified address asks, the node sends it at most 3x the bytes it received from it (answers and
// our verification PING together); an address that answers the verification PING gets the full
// answer one round trip later; a known peer gets it at once; a flood of forged requests keeps the
// waiting answers bounded; and a fresh node still joins and finds the true closest nodes.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { bytesToHex, compareDistance, seededRandom, seededRandomBytes, type RandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { AMPLIFICATION_FACTOR, MAX_HELD_ANSWERS, MAX_VERIFYING, capAnswer, answerBytes } from '../../core/rpc/amplification';
import { Rpc } from '../../core/rpc/rpc';
import { immutableKey } from '../../core/records/signing';
import { createTestnet, type Testnet } from '../../core/testnet';
import { MemoryNetwork, type MemoryTransport } from '../../core/transport/memory';
import { decodeMessage, encodeMessage } from '../../core/wire/codec';
import type { RequestArgs } from '../../core/wire/types';

const LATENCY_MS = 1;
const RTT_MS = 2 * LATENCY_MS;
const VICTIM_ID = '80'.repeat(32);
const TABLE_PEERS = 40;

interface World {
  clock: FakeClock;
  net: MemoryNetwork;
  victim: DhtNode;
  rand: RandomBytes;
  key: Uint8Array;
  topic: Uint8Array;
}

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A bare wire v1 speaker; with `answerPings` it answers PINGs as every node does. */
async function rawRpc(w: World, host: string, answerPings: boolean): Promise<{ rpc: Rpc; transport: MemoryTransport; id: Uint8Array }> {
  const transport = w.net.createTransport({ host, port: 4000 });
  const id = w.rand(32);
  const rpc = new Rpc({ transport, clock: w.clock, randomBytes: w.rand, selfId: id });
  if (answerPings) rpc.setHandler((req) => (req.method === 'PING' ? {} : null));
  await transport.bind();
  cleanups.push(async () => {
    rpc.close();
    await transport.close();
  });
  return { rpc, transport, id };
}

/** A victim with a routing table of TABLE_PEERS peers, a 1,000-byte record and an announced peer. */
async function world(): Promise<World> {
  const clock = new FakeClock();
  const net = new MemoryNetwork({ clock }, { seed: 3, latencyMs: { min: LATENCY_MS, max: LATENCY_MS } });
  const rand = seededRandomBytes(0xa3f);
  const victim = DhtNode.create({ id: VICTIM_ID, transport: net.createTransport({ host: '10.0.0.1', port: 4000 }), clock, randomBytes: seededRandomBytes(1), maintenanceIntervalMs: 24 * 3_600_000 });
  await victim.start();
  cleanups.push(async () => {
    await victim.stop();
    net.destroy();
  });
  for (let i = 0; i < TABLE_PEERS; i++) victim.table.observe({ id: bytesToHex(rand(32)), host: `10.1.${i}.1`, port: 4000 }, clock.now(), { rttMs: 5 });
  const w: World = { clock, net, victim, rand, key: new Uint8Array(32), topic: rand(32) };
  // A well-behaved client stores a large record and announces itself, with tokens from the victim.
  const client = await rawRpc(w, '10.0.0.2', true);
  const value = rand(1000);
  w.key = immutableKey(value);
  const first = await clock.run(client.rpc.request(victim.address, { method: 'FIND_VALUE', key: w.key }));
  const token = first.response.token!;
  await clock.run(client.rpc.request(victim.address, { method: 'STORE', key: w.key, record: { type: 'immutable', value }, token }));
  await clock.run(client.rpc.request(victim.address, { method: 'ANNOUNCE', topic: w.topic, port: 6881, token }));
  return w;
}

/** The smallest valid request of each method (tid 0 encodes in one byte). */
function smallest(w: World): Record<string, RequestArgs> {
  return {
    PING: { method: 'PING' },
    FIND_NODE: { method: 'FIND_NODE', target: w.rand(32) },
    FIND_VALUE: { method: 'FIND_VALUE', key: w.key },
    GET_PEERS: { method: 'GET_PEERS', topic: w.topic },
    STORE: { method: 'STORE', key: w.key, record: { type: 'immutable', value: new Uint8Array(0) }, token: new Uint8Array(1) },
    ANNOUNCE: { method: 'ANNOUNCE', topic: w.topic, port: 1, token: new Uint8Array(1) },
  };
}

/** Bytes exchanged with one address, as that address saw them. */
function tap(t: MemoryTransport): { received: Uint8Array[] } {
  const seen = { received: [] as Uint8Array[] };
  t.onMessage((d) => seen.received.push(d));
  return seen;
}

describe('no amplification: an unverified address gets at most 3x what it sent', () => {
  it('for every request type, counting the answer and our verification PING', async () => {
    const w = await world();
    const factors: Record<string, number> = {};
    const verifiedSizes: Record<string, number> = {};
    let i = 10;
    for (const [method, args] of Object.entries(smallest(w))) {
      // A fresh source address per method, that never answers anything (a forged source).
      const x = w.net.createTransport({ host: `10.6.6.${i++}`, port: 6666 });
      const seen = tap(x);
      await x.bind();
      const request = encodeMessage({ kind: 'request', tid: 0, id: w.rand(32), ...args } as never);
      x.send(request, w.victim.address);
      await w.clock.tickAsync(5_000); // verification times out; any held answer goes out capped
      const sentToX = seen.received.reduce((a, d) => a + d.length, 0);
      factors[method] = sentToX / request.length;
      expect(seen.received.length).toBeGreaterThanOrEqual(1); // it was answered
      expect(factors[method], `${method}: ${sentToX} bytes for a ${request.length}-byte request`).toBeLessThanOrEqual(AMPLIFICATION_FACTOR);
      await x.close();

      // What a requester that answers our verification PING gets for the same request, for comparison.
      const known = await rawRpc(w, `10.7.7.${i++}`, true);
      const answer = await w.clock.run(known.rpc.request(w.victim.address, args).then((r) => r.bytesReceived, () => 0));
      verifiedSizes[method] = answer / request.length;
    }
    console.log(`amplification, unverified: ${JSON.stringify(factors, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`);
    console.log(`answer/request once verified: ${JSON.stringify(verifiedSizes, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`);
    // Without the rule these would have been far above 3x.
    expect(verifiedSizes.FIND_NODE).toBeGreaterThan(8);
    expect(verifiedSizes.FIND_VALUE).toBeGreaterThan(10);
  });

  it('cuts the record first, then contacts from the farthest, then peers, and keeps an error\'s code', () => {
    const self = new Uint8Array(32).fill(1);
    const observed = { host: '10.0.0.9', port: 9 };
    const nodes = Array.from({ length: 20 }, (_, i) => ({ id: new Uint8Array(32).fill(i), host: `10.2.0.${i + 1}`, port: 4000 }));
    const body = { nodes, token: new Uint8Array(16), record: { type: 'immutable' as const, value: new Uint8Array(900) } };
    const capped = capAnswer(body, 300, self, observed);
    expect(capped).not.toHaveProperty('record');
    if (capped instanceof Error) throw capped;
    expect(capped.nodes).toEqual(nodes.slice(0, capped.nodes!.length)); // nearest first, kept in order
    expect(capped.nodes!.length).toBeGreaterThan(2);
    expect(answerBytes(capped, self, observed)).toBeLessThanOrEqual(300);
    const tiny = capAnswer(body, 1, self, observed);
    expect(tiny).toEqual({ nodes: [] });
  });
});

describe('verified addresses', () => {
  it('an address that answers our verification PING gets the full answer, one round trip later; then at once', async () => {
    const w = await world();
    const c = await rawRpc(w, '10.0.0.3', true);
    const first = await w.clock.run(c.rpc.request(w.victim.address, { method: 'FIND_VALUE', key: w.key }));
    expect(first.response.record?.value.length).toBe(1000);
    // request, our PING, its answer, our answer: two round trips.
    expect(first.rttMs).toBe(2 * RTT_MS);
    const again = await w.clock.run(c.rpc.request(w.victim.address, { method: 'FIND_NODE', target: w.rand(32) }));
    expect(again.response.nodes).toHaveLength(20);
    expect(again.rttMs).toBe(RTT_MS);
    expect(w.victim.amplification!.stats).toMatchObject({ held: 2, capped: 0 }); // the world's client and this one
  });

  it('a peer in our routing table, or one that answered one of our requests, is answered in full at once', async () => {
    const w = await world();
    const c = await rawRpc(w, '10.0.0.4', false); // it would never answer a verification PING
    w.victim.table.observe({ id: bytesToHex(c.id), host: '10.0.0.4', port: 4000 }, w.clock.now(), { rttMs: 5 });
    const r = await w.clock.run(c.rpc.request(w.victim.address, { method: 'FIND_NODE', target: w.rand(32) }));
    expect([r.response.nodes?.length, r.rttMs]).toEqual([20, RTT_MS]);

    const d = await rawRpc(w, '10.0.0.5', true);
    await w.clock.run(w.victim.ping(d.transport.address)); // it answered us
    const s = await w.clock.run(d.rpc.request(w.victim.address, { method: 'FIND_VALUE', key: w.key }));
    expect([s.response.record?.value.length, s.rttMs]).toEqual([1000, RTT_MS]);
  });

  it('under a flood of forged large requests from many addresses, waiting answers and PINGs stay bounded and every address gets <= 3x', async () => {
    const w = await world();
    const SOURCES = 3 * MAX_HELD_ANSWERS;
    const sources: Array<{ t: MemoryTransport; seen: { received: Uint8Array[] }; sent: number }> = [];
    for (let i = 0; i < SOURCES; i++) {
      const t = w.net.createTransport({ host: `10.8.${Math.floor(i / 254)}.${(i % 254) + 1}`, port: 5000 }); // hosts .1-.254, all valid
      const seen = tap(t);
      await t.bind();
      sources.push({ t, seen, sent: 0 });
    }
    for (const s of sources) {
      const d = encodeMessage({ kind: 'request', tid: 1, id: w.rand(32), method: 'FIND_NODE', target: w.rand(32) });
      s.t.send(d, w.victim.address);
      s.sent += d.length;
    }
    await w.clock.tickAsync(LATENCY_MS);
    expect(w.victim.amplification!.holding).toBeLessThanOrEqual(MAX_HELD_ANSWERS);
    expect(w.victim.snapshot().counters.inFlight).toBeLessThanOrEqual(MAX_VERIFYING);
    await w.clock.tickAsync(5_000);
    expect(w.victim.amplification!.holding).toBe(0);
    for (const s of sources) {
      const got = s.seen.received.reduce((a, d) => a + d.length, 0);
      expect(s.seen.received.filter((d) => decodeMessage(d).ok && (decodeMessage(d) as { message: { kind: string } }).message.kind !== 'request')).toHaveLength(1);
      expect(got / s.sent).toBeLessThanOrEqual(AMPLIFICATION_FACTOR);
    }
    const friend = await rawRpc(w, '10.0.0.6', true);
    expect((await w.clock.run(friend.rpc.request(w.victim.address, { method: 'PING' }))).response.id).toEqual(w.victim.idBytes);
  });
});

describe('joining with the rule on', () => {
  let tn: Testnet | null = null;
  afterEach(async () => {
    await tn?.destroy();
    tn = null;
  });

  it('a fresh node joins through nodes that never heard of it, and its lookups find the true closest', async () => {
    tn = await createTestnet({ size: 40, transport: 'memory', seed: 0x10a, latencyMs: { min: 5, max: 40 } });
    const fresh = DhtNode.create({ transport: tn.network!.createTransport({}), clock: tn.clock, randomBytes: seededRandomBytes(77), diversity: false });
    await tn.run(fresh.start());
    cleanups.push(() => fresh.stop());
    const join = await tn.run(fresh.bootstrap(tn.bootstrap));
    expect(join.reached).toHaveLength(3);
    expect(join.peers).toBeGreaterThanOrEqual(20);
    const pick = seededRandom(5);
    let top1 = 0;
    let recall = 0;
    const LOOKUPS = 20;
    for (let i = 0; i < LOOKUPS; i++) {
      const target = seededRandomBytes(1000 + Math.floor(pick() * 1e6))(32);
      const r = await tn.run(fresh.findNode(bytesToHex(target)));
      const truth = tn.nodes.map((n) => n).sort((a, b) => compareDistance(target, a.idBytes, b.idBytes)).slice(0, 20).map((n) => n.id);
      if (r.closest[0]?.id === truth[0]) top1++;
      recall += truth.filter((id) => r.closest.some((c) => c.id === id)).length / 20;
    }
    expect(top1).toBe(LOOKUPS);
    expect(recall / LOOKUPS).toBeGreaterThanOrEqual(0.95);
    // Everyone answered the verification PINGs, so nobody needed a capped answer.
    const capped = tn.nodes.reduce((a, n) => a + (n.amplification?.stats.capped ?? 0), 0);
    expect(capped).toBe(0);
  });
});
