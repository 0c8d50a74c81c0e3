// Spoofing and routing-table poisoning, against live nodes on the memory network under fake time.
// (The RPC layer's own wrong-source rule is unit-tested in rpc.test.ts and the table's rules in
// routing.test.ts; these tests show the node wires them so an attacker gets nowhere.)
//  - an observer that sees our requests (and so knows their tids) but cannot forge its source
//    address cannot answer for the node we asked: its referrals never reach the lookup or the table;
//  - one address claiming many ids gets one slot;
//  - with diversity limits on (public addresses), one IP gets one id and one /24 at most
//    MAX_PER_SUBNET_TOTAL slots (MAX_PER_SUBNET_PER_BUCKET per bucket); off on private networks,
//    and the snapshot says which.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { bytesToHex, hexToBytes, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { MAX_IDS_PER_ADDRESS, MAX_PER_SUBNET_PER_BUCKET, MAX_PER_SUBNET_TOTAL, subnetKey } from '../../core/routing/diversity';
import { MemoryNetwork, type MemoryTransport } from '../../core/transport/memory';
import { endpointKey, type Endpoint } from '../../core/transport/types';
import { decodeMessage, encodeMessage } from '../../core/wire/codec';
import { Topology, hid, ofType } from './topology';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('answers from an address other than the one asked', () => {
  // T = 0000...: A asks B, B refers C, C refers D. The attacker offers ids right next to T.
  const T = hid('');
  const IDS = {
    A: hid('f0'), // 1111 0000  the asker
    B: hid('80'), // 1000 0000
    C: hid('40'), // 0100 0000
    D: hid('20'), // 0010 0000  the closest real node
  };

  it('are ignored: an observer racing every FIND_NODE with forged referrals changes nothing', async () => {
    const t = await Topology.create({ ids: IDS, knows: { A: ['B'], B: ['C'], C: ['D'] } });
    cleanups.push(() => t.destroy());
    const a = t.node('A');
    const x = t.net.createTransport({ host: '10.6.6.6', port: 6666 });
    await x.bind();
    const poison = Array.from({ length: 8 }, (_, i) => ({ id: hexToBytes(hid('00', i + 1)), host: `10.6.6.${i + 10}`, port: 6666 }));
    const nameAt = new Map([...t.nodes.entries()].map(([name, n]) => [endpointKey(n.address), name]));
    // The observer sees each datagram A sends (tid included) and answers first, from its own address.
    const tr = a.transport as MemoryTransport;
    const send = tr.send.bind(tr);
    let forged = 0;
    tr.send = (data: Uint8Array, to: Endpoint) => {
      send(data, to);
      const m = decodeMessage(data);
      const asked = nameAt.get(endpointKey(to));
      if (!m.ok || m.message.kind !== 'request' || m.message.method !== 'FIND_NODE' || !asked) return;
      forged++;
      x.send(encodeMessage({ kind: 'response', tid: m.message.tid, id: t.node(asked).idBytes, observed: a.address, nodes: poison }), a.address);
    };

    const events = await t.collect('A', T);
    const done = ofType(events, 'done')[0];
    expect(done.closest.map((c) => t.name(c.id))).toEqual(['D', 'C', 'B']);
    const poisonIds = new Set(poison.map((p) => bytesToHex(p.id)));
    const mentioned = events.flatMap((e) => (e.type === 'response' ? e.nodes.map((n) => n.id) : e.type === 'query' ? [e.peer.id] : []));
    expect(mentioned.filter((id) => poisonIds.has(id))).toEqual([]);
    expect(a.table.entries().map((e) => t.name(e.id)).sort()).toEqual(['B', 'C', 'D']);
    expect(forged).toBe(3);
    expect(a.snapshot().counters.dropped['wrong-source']).toBe(forged);
  });
});

/** A raw endpoint that sends PINGs under any id it likes and answers PINGs with the id it last claimed. */
async function impostor(net: MemoryNetwork, host: string, port: number): Promise<{ t: MemoryTransport; claim(id: Uint8Array, to: Endpoint): void }> {
  const t = net.createTransport({ host, port });
  let current: Uint8Array = new Uint8Array(32);
  t.onMessage((data, from) => {
    const m = decodeMessage(data);
    if (m.ok && m.message.kind === 'request' && m.message.method === 'PING') {
      t.send(encodeMessage({ kind: 'response', tid: m.message.tid, id: current, observed: from }), from);
    }
  });
  await t.bind();
  return {
    t,
    claim(id, to) {
      current = id;
      t.send(encodeMessage({ kind: 'request', tid: 1, id, method: 'PING' }), to);
    },
  };
}

async function victimAt(host: string, diversity: boolean | undefined) {
  const clock = new FakeClock();
  const net = new MemoryNetwork({ clock }, { seed: 4, latencyMs: { min: 1, max: 1 } });
  const victim = DhtNode.create({ id: hid('00'), transport: net.createTransport({ host, port: 4000 }), clock, randomBytes: seededRandomBytes(1), diversity });
  await victim.start();
  cleanups.push(async () => {
    await victim.stop();
    net.destroy();
  });
  return { clock, net, victim };
}

describe('one address, many ids', () => {
  it('an address that claims 100 ids (and answers our verification PING under each) holds one slot', async () => {
    const { clock, net, victim } = await victimAt('10.0.0.1', undefined);
    const rand = seededRandomBytes(8);
    const x = await impostor(net, '10.6.6.6', 6666);
    for (let i = 0; i < 100; i++) {
      x.claim(rand(32), victim.address);
      await clock.tickAsync(10);
    }
    const held = victim.table.entries().filter((e) => e.host === '10.6.6.6');
    expect(held).toHaveLength(1);
    expect(victim.table.size).toBe(1);
  });
});

describe('IP diversity limits', () => {
  /** Nodes at the given hosts (and ports) that each PING the victim, which verifies them into its table. */
  async function crowd(clock: FakeClock, net: MemoryNetwork, victim: DhtNode, at: Array<{ host: string; port: number }>): Promise<void> {
    const rand = seededRandomBytes(99);
    for (const { host, port } of at) {
      const n = DhtNode.create({ id: bytesToHex(rand(32)), transport: net.createTransport({ host, port }), clock, randomBytes: rand, diversity: false });
      await n.start();
      cleanups.push(() => n.stop());
      await clock.run(n.ping(victim.address));
    }
    await clock.tickAsync(100);
  }

  it('on for a public address: one id per IP, at most 10 per /24 and 2 per /24 in a bucket; the snapshot says so', async () => {
    const { clock, net, victim } = await victimAt('198.51.100.1', true);
    expect(victim.snapshot().diversityLimits).toBe(true);
    // 20 ports on one IP, then 60 hosts in one /24 (203.0.113.0/24 is not private).
    const onePort = Array.from({ length: 20 }, (_, i) => ({ host: '192.0.2.7', port: 5000 + i }));
    const oneSubnet = Array.from({ length: 60 }, (_, i) => ({ host: `203.0.113.${i + 1}`, port: 4000 }));
    await crowd(clock, net, victim, [...onePort, ...oneSubnet]);
    const entries = victim.table.entries();
    expect(entries.filter((e) => e.host === '192.0.2.7')).toHaveLength(MAX_IDS_PER_ADDRESS);
    const inSubnet = entries.filter((e) => subnetKey(e.host) === '203.0.113.0/24');
    expect(inSubnet.length).toBeLessThanOrEqual(MAX_PER_SUBNET_TOTAL);
    expect(inSubnet.length).toBeGreaterThan(MAX_PER_SUBNET_PER_BUCKET); // the limit is per bucket, not one for all
    const perBucket = new Map<number, number>();
    for (const e of inSubnet) perBucket.set(e.bucket, (perBucket.get(e.bucket) ?? 0) + 1);
    expect(Math.max(...perBucket.values())).toBeLessThanOrEqual(MAX_PER_SUBNET_PER_BUCKET);
  });

  it('off on a private or loopback network, where every node shares a subnet or an IP; the snapshot says so', async () => {
    const { clock, net, victim } = await victimAt('10.0.0.1', undefined);
    expect(victim.snapshot().diversityLimits).toBe(false);
    const sameSubnet = Array.from({ length: 30 }, (_, i) => ({ host: `10.0.0.${i + 2}`, port: 4000 }));
    const sameIp = Array.from({ length: 5 }, (_, i) => ({ host: '10.0.1.1', port: 5000 + i }));
    await crowd(clock, net, victim, [...sameSubnet, ...sameIp]);
    // Everyone the buckets have room for gets in (ids are random: most land in the top buckets).
    expect(victim.table.size).toBeGreaterThan(MAX_PER_SUBNET_TOTAL);
    expect(victim.table.entries().filter((e) => e.host === '10.0.1.1').length).toBeGreaterThan(MAX_IDS_PER_ADDRESS);
  });

  it('a UDP node decides by the address it binds: off on loopback and private, on for a public or wildcard one', () => {
    expect(DhtNode.create({ host: '127.0.0.1' }).snapshot().diversityLimits).toBe(false);
    expect(DhtNode.create({ host: '192.168.1.20' }).snapshot().diversityLimits).toBe(false);
    expect(DhtNode.create({ host: '0.0.0.0' }).snapshot().diversityLimits).toBe(true);
    expect(DhtNode.create({ host: '127.0.0.1', diversity: true }).snapshot().diversityLimits).toBe(true);
  });
});
