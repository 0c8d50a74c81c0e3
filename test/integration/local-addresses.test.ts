// The local address when peers share a subnet, on kadscope's protocol (wire v3): an announcement
// carries the announcer's local addresses beside the public one the storer sees; a peer behind the
// same public address gets the local one on its subnet first, anyone else only the public one.
// Memory network under fake time; the machines' interfaces are injected.
import { afterEach, describe, expect, it } from 'vitest';
import { randomId, seededRandomBytes } from '../../core/id';
import type { LocalInterface } from '../../core/local-address';
import { DhtNode } from '../../core/node';
import { KADSCOPE_PROTOCOL, type DhtProtocol } from '../../core/protocols/protocol';
import { Rpc } from '../../core/rpc/rpc';
import { createTestnet, type Testnet } from '../../core/testnet';
import { decodeMessage } from '../../core/wire/codec';

let open: Testnet[] = [];
const nodes: DhtNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
  await Promise.all(open.map((t) => t.destroy()));
  open = [];
});

const lan = (...hosts: string[]): LocalInterface[] => [{ host: '127.0.0.1', family: 4, internal: true }, ...hosts.map((host) => ({ host, family: 4 as const, internal: false })), { host: 'fe80::1', family: 6, internal: false }];

/** kadscope as nodes before wire v3 speak it: a datagram with local addresses is dropped unread (bad-version). */
const beforeV3: DhtProtocol = {
  ...KADSCOPE_PROTOCOL,
  codec: {
    encode: KADSCOPE_PROTOCOL.codec.encode,
    decode(data) {
      const r = decodeMessage(data);
      if (!r.ok) return r;
      const m = r.message;
      const v3 = (m.kind === 'request' && m.method === 'ANNOUNCE' && m.locals !== undefined) || (m.kind === 'response' && m.peers?.some((p) => p.locals !== undefined));
      return v3 ? { ok: false, reason: 'bad-version', detail: 'v: expected 1, got number 3' } : r;
    },
  },
};

async function network(seed: number, protocol?: DhtProtocol) {
  const tn = await createTestnet({ size: 10, transport: 'memory', seed, node: { diversity: false, ...(protocol ? { protocol } : {}) } });
  open.push(tn);
  const join = async (host: string, port: number, interfaces: LocalInterface[], rand: number): Promise<DhtNode> => {
    const node = DhtNode.create({
      transport: tn.network!.createTransport({ host, port }),
      clock: tn.clock,
      randomBytes: seededRandomBytes(rand),
      bootstrap: [tn.nodes[0].address],
      diversity: false,
      interfaces: () => interfaces,
    });
    nodes.push(node);
    await tn.run(node.start());
    return node;
  };
  return { tn, join };
}

describe('local addresses in announcements (wire v3)', () => {
  it('a peer behind the same public address gets the local one on its subnet; a peer elsewhere the public one', async () => {
    const { tn, join } = await network(0x10ca1);
    // Alice and Bob share a NAT at 203.0.113.7 (the memory network gives each its own port there);
    // Carol is elsewhere.
    const alice = await join('203.0.113.7', 40001, lan('10.8.0.2', '192.168.1.9'), 1);
    const bob = await join('203.0.113.7', 40002, lan('192.168.1.5'), 2);
    const carol = await join('198.51.100.20', 40003, lan('192.168.1.77'), 3);
    expect(alice.localHosts()).toEqual(['10.8.0.2', '192.168.1.9']);

    const announced = await tn.run(alice.records.announce('lan-party', 4000));
    expect(announced.storedAt.length).toBeGreaterThan(0);

    const seenByBob = await tn.run(bob.records.lookupPeers('lan-party'));
    expect(seenByBob.sameNetwork).toEqual([{ address: { host: '192.168.1.9', port: 4000 }, publicAddress: { host: '203.0.113.7', port: 4000 } }]);
    // The local address first, the public one still there.
    expect(seenByBob.peers).toEqual([{ host: '192.168.1.9', port: 4000 }, { host: '203.0.113.7', port: 4000 }]);

    const seenByCarol = await tn.run(carol.records.lookupPeers('lan-party'));
    expect(seenByCarol.sameNetwork).toEqual([]);
    expect(seenByCarol.peers).toEqual([{ host: '203.0.113.7', port: 4000 }]);
  });

  it('a storer sends local hosts only to a requester at the announcer\'s public host', async () => {
    const { tn, join } = await network(0x10ca2);
    const alice = await join('203.0.113.7', 40001, lan('192.168.1.9'), 1);
    await tn.run(alice.records.announce('quiet', 4000));
    const topic = alice.protocol.hashTopic('quiet');
    /** Every peer the testnet's nodes answer GET_PEERS with, asked from `host`. */
    const askFrom = async (host: string): Promise<unknown[]> => {
      const transport = tn.network!.createTransport({ host, port: 50000 });
      const rpc = new Rpc({ transport, clock: tn.clock, randomBytes: seededRandomBytes(99), selfId: randomId(seededRandomBytes(98)) });
      await transport.bind();
      try {
        const answers = await tn.run(Promise.all(tn.nodes.map((n) => rpc.request(n.address, { method: 'GET_PEERS', topic }))));
        return answers.flatMap((a) => a.response.peers ?? []);
      } finally {
        rpc.close();
        await transport.close();
      }
    };
    const sameNat = await askFrom('203.0.113.7');
    expect(sameNat.length).toBeGreaterThan(0);
    expect(new Set(sameNat.map((p) => JSON.stringify(p)))).toEqual(new Set([JSON.stringify({ host: '203.0.113.7', port: 4000, locals: ['192.168.1.9'] })]));
    const elsewhere = await askFrom('198.51.100.20');
    expect(elsewhere.length).toBe(sameNat.length);
    expect(new Set(elsewhere.map((p) => JSON.stringify(p)))).toEqual(new Set([JSON.stringify({ host: '203.0.113.7', port: 4000 })]));
  });

  it('a node whose only local address is its public host shares none, and announces as wire v1', async () => {
    const { tn, join } = await network(0x10ca3);
    const loop = await join('127.0.0.1', 5000, lan('192.168.1.5'), 4);
    // Bound to 127.0.0.1: that is its one local address (holepuncher.js), and the network sees it there too.
    expect(loop.observedAddress?.host).toBe('127.0.0.1');
    expect(loop.localHosts()).toEqual([]);
    const a = await tn.run(loop.records.announce('plain', 5000));
    expect(a.storedAt.length).toBeGreaterThan(0);
  });

  it('nodes from before wire v3 still take the announcement, without local addresses', async () => {
    const { tn, join } = await network(0x10ca4, beforeV3);
    const alice = await join('203.0.113.7', 40001, lan('192.168.1.9'), 1);
    const announced = await tn.run(alice.records.announce('mixed', 4000));
    // Every old node dropped the v3 ANNOUNCE, then took it again as v1.
    expect(announced.failed).toEqual([]);
    expect(new Set(announced.storedAt)).toEqual(new Set(tn.nodes.map((n) => n.id)));
    // Bob joins after, so only old nodes hold the announcement: no local address reaches him.
    const bob = await join('203.0.113.7', 40002, lan('192.168.1.5'), 2);
    const seen = await tn.run(bob.records.lookupPeers('mixed'));
    expect(seen.peers).toEqual([{ host: '203.0.113.7', port: 4000 }]);
    expect(seen.sameNetwork).toEqual([]);
  });
});
