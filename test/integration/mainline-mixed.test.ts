// A mixed Mainline network on 127.0.0.1: 50 bittorrent-dht nodes (first one `bootstrap: false`,
// the rest from it) and 50 kadscope nodes speaking Mainline that join through them. Both kinds find
// each other: kadscope lookups find the true closest of all 100 whichever kind it is, kadscope
// lookups of reference ids and reference lookups of kadscope ids reach their target.
import DHT from 'bittorrent-dht';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, compareDistance, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { createReferenceNetwork, settle, type ReferenceNetwork } from './mainline-reference';

const EACH = 50;
const JOIN_BATCH = 10;
const TARGETS = 20;
const LOOKUP_WAIT_MS = 30_000;

let net: ReferenceNetwork;
const ours: DhtNode[] = [];

beforeAll(async () => {
  net = await createReferenceNetwork(EACH);
  for (let i = 0; i < EACH; i += JOIN_BATCH) {
    const batch = Array.from({ length: Math.min(JOIN_BATCH, EACH - i) }, (_, j) =>
      DhtNode.create({ protocol: 'mainline', host: '127.0.0.1', bootstrap: [net.bootstrap], randomBytes: seededRandomBytes(1000 + i + j) }),
    );
    ours.push(...batch);
    await Promise.all(batch.map((n) => n.start()));
  }
  // The reference nodes bootstrapped before we came: one lookup each lets them meet us.
  for (let i = 0; i < net.nodes.length; i += JOIN_BATCH) await Promise.all(net.nodes.slice(i, i + JOIN_BATCH).map(settle));
}, 180_000);

afterAll(async () => {
  await Promise.all(ours.map((n) => n.stop()));
  await net?.close();
});

const allIds = (): string[] => [...net.nodes.map((d) => d.nodeId.toString('hex')), ...ours.map((n) => n.id)];

function referenceLookupReaches(asker: DHT, targetHex: string, port: number): Promise<boolean> {
  const target = Buffer.from(targetHex, 'hex');
  let reached = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('reference lookup did not finish')), LOOKUP_WAIT_MS);
    asker._rpc.closest(
      target,
      { q: 'find_node', a: { id: asker.nodeId, target } },
      (_res, peer) => {
        if (peer.port === port) reached = true;
      },
      () => {
        clearTimeout(timer);
        resolve(reached);
      },
    );
  });
}

describe('a mixed network: 50 kadscope (Mainline) and 50 bittorrent-dht nodes', () => {
  it('kadscope lookups of random targets find the true closest of all 100, of either kind', async () => {
    const rand = seededRandomBytes(77);
    const kinds = new Set<string>();
    const refIds = new Set(net.nodes.map((d) => d.nodeId.toString('hex')));
    for (let i = 0; i < TARGETS; i++) {
      const asker = ours[(i * 7) % EACH];
      const target = rand(20);
      const truth = allIds()
        .filter((id) => id !== asker.id)
        .map((id) => Buffer.from(id, 'hex'))
        .sort((a, b) => compareDistance(target, a, b))
        .map((b) => b.toString('hex'));
      const r = await asker.findNode(bytesToHex(target), { timeoutMs: LOOKUP_WAIT_MS });
      expect(r.closest[0]?.id).toBe(truth[0]);
      for (const c of r.closest) kinds.add(refIds.has(c.id) ? 'bittorrent-dht' : 'kadscope');
    }
    expect([...kinds].sort()).toEqual(['bittorrent-dht', 'kadscope']);
  }, 240_000);

  it('kadscope finds reference nodes by id, and reference nodes find kadscope nodes by id', async () => {
    for (let i = 0; i < 5; i++) {
      const refTarget = net.nodes[(i * 11 + 3) % EACH];
      const r = await ours[i].findNode(refTarget.nodeId.toString('hex'), { timeoutMs: LOOKUP_WAIT_MS });
      expect(r.closest[0]?.port).toBe(refTarget.address().port);
      const ourTarget = ours[(i * 13 + 5) % EACH];
      expect(await referenceLookupReaches(net.nodes[(i * 17 + 1) % EACH], ourTarget.id, ourTarget.address.port)).toBe(true);
    }
  }, 240_000);
});
