// A node under a flood of garbage: seeded random bytes and mutated valid messages. It keeps
// answering PING, nothing throws or logs, strangers do not get into its table, and its counters
// account for every datagram: dropped (by reason), or handled as a request or an answer.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../core/clock';
import { hexToBytes, seededRandom, seededRandomBytes, type RandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { MemoryNetwork } from '../../core/transport/memory';
import type { UdpTransport } from '../../core/transport/udp';
import type { Counters } from '../../core/types';
import { encodeMessage } from '../../core/wire/codec';
import { MAX_DATAGRAM_BYTES, type Message } from '../../core/wire/types';

const HOSTILE_RANDOM = 5_000;
const HOSTILE_MUTATED = 5_000;
const BATCH = 100;
const SEED = 0xbad5eed;

const VICTIM_ID = '5a'.repeat(32);
const FRIEND_ID = 'a5'.repeat(32);

/** Every datagram the node received, as its counters explain it. */
function accounted(c: Counters): { rx: number; dropped: number; requests: number; answers: number } {
  const dropped = Object.values(c.dropped).reduce((a, b) => a + (b ?? 0), 0);
  let requests = 0;
  let answers = 0;
  for (const m of Object.values(c.rpc)) {
    requests += m.received;
    answers += m.responses + m.errors;
  }
  return { rx: c.rxPackets, dropped, requests, answers };
}

/** Valid messages of every kind and method, to mutate. */
function validMessages(rand: RandomBytes): Uint8Array[] {
  const id = rand(32);
  const tid = 0x01020304;
  const contacts = Array.from({ length: 8 }, (_, i) => ({ id: rand(32), host: `10.9.0.${i + 1}`, port: 4000 + i }));
  const msgs: Message[] = [
    { kind: 'request', tid, id, method: 'PING' },
    { kind: 'request', tid, id, method: 'FIND_NODE', target: rand(32) },
    { kind: 'request', tid, id, method: 'FIND_VALUE', key: rand(32), seq: 3 },
    { kind: 'request', tid, id, method: 'STORE', key: rand(32), record: { type: 'immutable', value: rand(40) }, token: rand(8) },
    { kind: 'request', tid, id, method: 'ANNOUNCE', topic: rand(32), port: 6881, token: rand(8) },
    { kind: 'request', tid, id, method: 'GET_PEERS', topic: rand(32) },
    { kind: 'response', tid, id, observed: { host: '10.0.0.1', port: 4000 }, nodes: contacts, token: rand(8) },
    { kind: 'response', tid, id, observed: { host: '10.0.0.1', port: 4000 }, peers: [{ host: '10.9.9.9', port: 1 }] },
    { kind: 'error', tid, id, code: 10, message: 'bad token' },
  ];
  return msgs.map((m) => encodeMessage(m));
}

/** A seeded corruption of a valid datagram: flipped bytes, truncation, trailing junk, or a spliced range. */
function mutate(base: Uint8Array, pick: () => number, rand: RandomBytes): Uint8Array {
  const out = new Uint8Array(base);
  switch (Math.floor(pick() * 4)) {
    case 0: {
      const flips = 1 + Math.floor(pick() * 3);
      for (let i = 0; i < flips; i++) out[Math.floor(pick() * out.length)] ^= 1 + Math.floor(pick() * 255);
      return out;
    }
    case 1:
      return out.slice(0, Math.floor(pick() * out.length));
    case 2:
      return new Uint8Array([...out, ...rand(1 + Math.floor(pick() * 16))]);
    default: {
      const at = Math.floor(pick() * out.length);
      out.set(rand(Math.min(8, out.length - at)), at);
      return out;
    }
  }
}

/** Random bytes of a random length, mostly short, sometimes empty, sometimes over the datagram limit. */
function garbage(pick: () => number, rand: RandomBytes): Uint8Array {
  const r = pick();
  const len = r < 0.02 ? 0 : r < 0.06 ? MAX_DATAGRAM_BYTES + 1 + Math.floor(pick() * 600) : 1 + Math.floor(pick() * 300);
  const out = rand(len);
  // A quarter start like a CBOR map, so the decoder gets past the first byte and into the fields.
  if (len > 0 && pick() < 0.25) out[0] = 0xa0 | Math.floor(pick() * 8);
  return out;
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
  vi.restoreAllMocks();
});

describe('a node under a flood of hostile datagrams (memory network)', () => {
  it(`keeps answering PING through ${HOSTILE_RANDOM + HOSTILE_MUTATED} random and mutated datagrams, and counts every one`, async () => {
    const errors = vi.spyOn(console, 'error');
    const clock = new FakeClock();
    // A generous MTU so oversize datagrams reach the node's own limit instead of the network's.
    const net = new MemoryNetwork({ clock }, { seed: 1, latencyMs: { min: 1, max: 1 }, mtuBytes: 4 * MAX_DATAGRAM_BYTES });
    const victim = DhtNode.create({ id: VICTIM_ID, transport: net.createTransport({ host: '10.0.0.1', port: 4000 }), clock, randomBytes: seededRandomBytes(1) });
    const friend = DhtNode.create({ id: FRIEND_ID, transport: net.createTransport({ host: '10.0.0.2', port: 4000 }), clock, randomBytes: seededRandomBytes(2) });
    const attacker = net.createTransport({ host: '10.6.6.6', port: 6666 });
    cleanup.push(async () => {
      await victim.stop();
      await friend.stop();
      net.destroy();
    });
    await victim.start();
    await friend.start();
    await attacker.bind();
    expect((await clock.run(friend.ping(victim.address))).id).toBe(VICTIM_ID);

    const pick = seededRandom(SEED);
    const rand = seededRandomBytes(SEED + 1);
    /** After how many hostile datagrams the friend's PING was answered (one PING per 1,000). */
    const pingsAnswered: number[] = [];
    let hostile = 0;
    const flood = async (n: number, make: () => Uint8Array): Promise<void> => {
      for (let sent = 0; sent < n; sent += BATCH) {
        for (let i = 0; i < BATCH; i++) attacker.send(make(), victim.address);
        hostile += BATCH;
        await clock.tickAsync(2);
        if (hostile % 1_000 === 0) {
          const r = await clock.run(friend.ping(victim.address));
          if (r.id === VICTIM_ID) pingsAnswered.push(hostile);
        }
      }
    };

    // The friend talks only to the victim: its datagrams are the victim's legitimate traffic.
    const friendTx = (): number => friend.snapshot().counters.txPackets;

    // Phase 1: pure garbage. Every one of them is dropped.
    await clock.tickAsync(100);
    const before = accounted(victim.snapshot().counters);
    const friendBefore = friendTx();
    await flood(HOSTILE_RANDOM, () => garbage(pick, rand));
    const afterRandom = accounted(victim.snapshot().counters);
    const friendMid = friendTx();
    expect(afterRandom.rx - before.rx).toBe(HOSTILE_RANDOM + (friendMid - friendBefore));
    expect(afterRandom.dropped - before.dropped).toBe(HOSTILE_RANDOM);

    // Phase 2: valid messages of every kind, corrupted. Most are dropped; the few that still decode
    // are handled like any request (answered) or answer (unexpected: no such transaction).
    const bases = validMessages(rand);
    await flood(HOSTILE_MUTATED, () => mutate(bases[Math.floor(pick() * bases.length)], pick, rand));
    await clock.tickAsync(10_000); // let verification PINGs to the attacker time out
    const c = victim.snapshot().counters;
    const end = accounted(c);
    expect(end.rx - afterRandom.rx).toBe(HOSTILE_MUTATED + (friendTx() - friendMid));
    // Every datagram the node ever received is accounted for.
    expect(end.dropped + end.requests + end.answers).toBe(end.rx);
    // The bulk of the mutated ones were dropped, not handled.
    expect(end.dropped - afterRandom.dropped).toBeGreaterThan(HOSTILE_MUTATED * 0.8);

    // Dropped by many distinct reasons, each counted.
    const reasons = Object.keys(c.dropped).sort();
    console.log(`hostile flood: dropped ${JSON.stringify(c.dropped)}; handled ${end.requests} requests, ${end.answers} answers`);
    for (const r of ['empty', 'oversize', 'not-cbor', 'not-a-map', 'bad-header', 'unexpected-response']) expect(reasons).toContain(r);
    expect(reasons.length).toBeGreaterThanOrEqual(8);

    // It kept answering, the attacker's ids never entered its table, and nothing was logged.
    expect(pingsAnswered).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => i * 1_000));
    expect(victim.table.entries().map((e) => e.id)).toEqual([FRIEND_ID]);
    expect(victim.running).toBe(true);
    expect(errors).not.toHaveBeenCalled();
    expect((await clock.run(friend.ping(victim.address))).id).toBe(VICTIM_ID);
    expect(hexToBytes(VICTIM_ID)).toEqual(victim.idBytes);
  }, 60_000);
});

/** A victim and a friend node on real UDP (127.0.0.1) on one socket layer, and a raw socket to attack from; stopped after the test. */
async function udpVictim(socketLayer: 'native' | 'udx' | 'dgram'): Promise<{ victim: DhtNode; friend: DhtNode; sock: Socket }> {
  const victim = DhtNode.create({ id: VICTIM_ID, host: '127.0.0.1', port: 0, socketLayer });
  const friend = DhtNode.create({ id: FRIEND_ID, host: '127.0.0.1', port: 0, socketLayer });
  const sock = createSocket('udp4');
  cleanup.push(async () => {
    await victim.stop();
    await friend.stop();
    await new Promise<void>((r) => sock.close(() => r()));
  });
  await victim.start();
  await friend.start();
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { victim, friend, sock };
}

for (const socketLayer of ['native', 'udx', 'dgram'] as const) {
describe(`a node under hostile datagrams (real UDP on 127.0.0.1, ${socketLayer})`, () => {
  it('drops random datagrams from a raw socket and keeps answering PING', async () => {
    const { victim, friend, sock } = await udpVictim(socketLayer);
    const pick = seededRandom(SEED + 2);
    const rand = seededRandomBytes(SEED + 3);
    const TOTAL = 2_000;
    const UDP_BATCH = 50;
    const rx0 = victim.snapshot().counters.rxPackets;
    for (let sent = 0; sent < TOTAL; sent += UDP_BATCH) {
      // Small batches, each awaited until the node has read it: the test never overruns the kernel's buffer.
      for (let i = 0; i < UDP_BATCH; i++) {
        const d = garbage(pick, rand).subarray(0, MAX_DATAGRAM_BYTES); // oversize ones were seen above
        if (d.length > 0) sock.send(d, victim.address.port, '127.0.0.1');
        else sock.send(new Uint8Array([0xff]), victim.address.port, '127.0.0.1');
      }
      for (let turn = 0; turn < 10_000 && victim.snapshot().counters.rxPackets < rx0 + sent + UDP_BATCH; turn++) {
        await new Promise((r) => setImmediate(r));
      }
    }
    const c = victim.snapshot().counters;
    expect(c.rxPackets - rx0).toBe(TOTAL);
    expect(Object.values(c.dropped).reduce((a, b) => a + (b ?? 0), 0)).toBe(TOTAL);
    const r = await friend.ping(victim.address);
    expect(r.id).toBe(VICTIM_ID);
  }, 60_000);

  it('drops oversize datagrams (over the protocol limit, over the socket layer\'s read size) and keeps answering PING', async () => {
    const { victim, friend, sock } = await udpVictim(socketLayer);
    const transport = victim.transport as UdpTransport;
    expect(transport.socketLayer).toBe({ native: 'kadscope-native', udx: 'udx-native', dgram: 'node:dgram' }[socketLayer]);
    // A valid PING padded past the limit, and plain junk of every size around the limits.
    const ping = encodeMessage({ kind: 'request', tid: 7, id: hexToBytes(FRIEND_ID), method: 'PING' });
    const sizes = [MAX_DATAGRAM_BYTES + 1, 2_047, 2_048, 2_049, 9_000, 65_507];
    const c0 = victim.snapshot().counters;
    for (const size of sizes) {
      const d = new Uint8Array(size).fill(0xa1);
      d.set(ping);
      sock.send(d, victim.address.port, '127.0.0.1');
    }
    for (let turn = 0; turn < 10_000 && victim.snapshot().counters.rxPackets < c0.rxPackets + sizes.length; turn++) {
      await new Promise((r) => setImmediate(r));
    }
    const c = victim.snapshot().counters;
    // Every one seen and dropped as oversize, whether the decoder saw it or the socket layer's read
    // size cut it first (udx-native: the transport's `truncated`, folded into the node's counters).
    expect(c.rxPackets - c0.rxPackets).toBe(sizes.length);
    expect((c.dropped.oversize ?? 0) - (c0.dropped.oversize ?? 0)).toBe(sizes.length);
    const dropped = (x: typeof c): number => Object.values(x.dropped).reduce((a, b) => a + (b ?? 0), 0);
    expect(dropped(c) - dropped(c0)).toBe(sizes.length);
    expect(c.rpc.PING?.received ?? 0).toBe(c0.rpc.PING?.received ?? 0);
    expect(transport.stats.truncated).toBe(socketLayer === 'udx' ? 4 : 0); // 2,048 bytes and more
    expect(transport.stats.handlerErrors).toBe(0);
    const r = await friend.ping(victim.address);
    expect(r.id).toBe(VICTIM_ID);
  }, 60_000);
});
}
