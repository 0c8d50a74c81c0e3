// One node on UDP over IPv4 and IPv6 at once (DhtNode's host6 option, transport/dual.ts), reached
// over both families on loopback: a node on 127.0.0.1 and a node on ::1 each join through it, and
// its one routing table holds both; lookups from it reach both.
import { afterEach, describe, expect, it } from 'vitest';
import { DhtNode } from '../../core/node';
import { DualStackTransport } from '../../core/transport/dual';
import { endpointKey } from '../../core/transport/types';
import { hasIpv6Loopback } from './ipv6-loopback';

const IPV6 = await hasIpv6Loopback();

let nodes: DhtNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});

describe.skipIf(!IPV6)('dual stack (skipped where the machine has no ::1)', () => {
  it('a node bound to 127.0.0.1 and ::1 is reached over both families, and holds peers of both in one table', async () => {
    const dual = DhtNode.create({ host: '127.0.0.1', host6: '::1' });
    nodes.push(dual);
    await dual.start();
    const t = dual.transport as DualStackTransport;
    expect(t.kind).toBe('udp4+udp6');
    const [a4, a6] = t.addresses;
    expect(a4.host).toBe('127.0.0.1');
    expect(a6.host).toBe('::1');
    // The snapshot (what the Overview shows) lists both; a single-family node lists none.
    expect(dual.snapshot().addresses).toEqual([a4, a6]);

    // A joins over IPv4, B over IPv6, each given the multiaddr of the family it speaks.
    const a = DhtNode.create({ host: '127.0.0.1', bootstrap: [`/ip4/127.0.0.1/udp/${a4.port}`] });
    const b = DhtNode.create({ host: '::1', bootstrap: [`/ip6/::1/udp/${a6.port}`] });
    nodes.push(a, b);
    const [ja, jb] = await Promise.all([a.start(), b.start()]);
    expect(ja.join?.reached.map((c) => c.id)).toEqual([dual.id]);
    expect(jb.join?.reached.map((c) => c.id)).toEqual([dual.id]);
    // Each saw us on its own family.
    expect((await a.ping(a4)).id).toBe(dual.id);
    expect((await b.ping(a6)).id).toBe(dual.id);

    // Both entered the dual node's table (after answering its verification PINGs), each at its own family's address.
    const lookup = await dual.findNode(dual.id);
    const peers = new Map(dual.snapshot().peers.map((p) => [p.id, endpointKey(p)]));
    expect(peers.get(a.id)).toBe(endpointKey(a.address));
    expect(peers.get(b.id)).toBe(endpointKey(b.address));
    expect(b.address.host).toBe('::1');
    expect(new Set(lookup.closest.map((c) => c.id))).toEqual(new Set([a.id, b.id]));

    // Single-family nodes keep what they can reach: A gets B only as an unusable IPv6 referral.
    const fromA = await a.findNode(b.id);
    expect(fromA.closest.map((c) => c.id)).not.toContain(b.id);
    const fromB = await b.findNode(a.id);
    expect(fromB.closest.map((c) => c.id)).not.toContain(a.id);
  });

  it('refuses a host6 that is not an IPv6 address, and counts both sockets in its stats', async () => {
    expect(() => DhtNode.create({ host6: '127.0.0.1' })).toThrow(/dual stack: "127.0.0.1" is not an IPv6 address/);
    const t = new DualStackTransport({}, {});
    await t.bind();
    t.send(new Uint8Array([1]), t.v6.address);
    t.send(new Uint8Array([2]), t.v4.address);
    expect(t.stats.sent).toBe(2);
    await t.close();
  });
});
