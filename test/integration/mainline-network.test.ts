// A kadscope node speaking Mainline inside a loopback network of 100 real bittorrent-dht nodes
// (explicit loopback bootstrap: bittorrent-dht's default is the public routers). It joins; 50
// seeded random targets find the true closest node every time with recall of the 8 closest >= 95%;
// a reference node's lookup of kadscope's id reaches it; announce_peer both ways.
import { createHash } from 'node:crypto';
import DHT from 'bittorrent-dht';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, compareDistance, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { createReferenceNetwork, type ReferenceNetwork } from './mainline-reference';

const REFERENCE_NODES = 100;
const TARGETS = 50;
const K = 8;
const LOOKUP_WAIT_MS = 30_000;

let net: ReferenceNetwork;
let node: DhtNode;

beforeAll(async () => {
  net = await createReferenceNetwork(REFERENCE_NODES);
  node = DhtNode.create({ protocol: 'mainline', host: '127.0.0.1', bootstrap: [net.bootstrap], randomBytes: seededRandomBytes(2026) });
}, 120_000);

afterAll(async () => {
  await node?.stop();
  await net?.close();
});

function trueClosest(target: Uint8Array, n: number): string[] {
  const ids = net.nodes.map((d) => new Uint8Array(d.nodeId));
  return ids
    .sort((a, b) => compareDistance(target, a, b))
    .slice(0, n)
    .map(bytesToHex);
}

describe('kadscope (Mainline) in a network of 100 bittorrent-dht nodes', () => {
  it('joins through a bittorrent-dht node', async () => {
    const started = await node.start();
    expect(node.id).toMatch(/^[0-9a-f]{40}$/);
    expect(started.join?.reached.map((c) => `${c.host}:${c.port}`)).toEqual([net.bootstrap]);
    expect(node.table.size).toBeGreaterThanOrEqual(K);
    for (const p of node.snapshot().peers) expect(p.id).toMatch(/^[0-9a-f]{40}$/);
  }, 60_000);

  it('50 random targets: the true closest found every time, recall of the 8 closest >= 95%', async () => {
    const rand = seededRandomBytes(51);
    let found = 0;
    let misses = 0;
    for (let i = 0; i < TARGETS; i++) {
      const target = rand(20);
      const truth = trueClosest(target, K);
      const r = await node.findNode(bytesToHex(target), { timeoutMs: LOOKUP_WAIT_MS });
      const got = r.closest.map((c) => c.id);
      expect(got.length).toBe(K);
      // Mainline lookups are 2k wide (lookupWidth 16): 16 nodes answer before one ends, 8 are returned.
      expect(r.messages).toBeGreaterThanOrEqual(2 * K);
      if (got[0] !== truth[0]) misses++;
      found += truth.filter((id) => got.includes(id)).length;
    }
    expect(misses).toBe(0);
    expect(found / (TARGETS * K)).toBeGreaterThanOrEqual(0.95);
  }, 240_000);

  it("a reference node's lookup of kadscope's id reaches it", async () => {
    const asker: DHT = net.nodes[REFERENCE_NODES - 1];
    const target = Buffer.from(node.id, 'hex');
    const answeredBy = new Set<number>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('reference lookup did not finish')), LOOKUP_WAIT_MS);
      asker._rpc.closest(
        target,
        { q: 'find_node', a: { id: asker.nodeId, target } },
        (res, peer) => {
          answeredBy.add(peer.port);
          expect(res.r?.id?.length).toBe(20);
        },
        () => {
          clearTimeout(timer);
          resolve();
        },
      );
    });
    expect(answeredBy.has(node.address.port)).toBe(true);
  }, 60_000);

  it('announce by kadscope is found by a reference lookup', async () => {
    const infoHash = new Uint8Array(20).fill(0x5a);
    const r = await node.records.announce(infoHash, 7777, { timeoutMs: LOOKUP_WAIT_MS });
    expect(r.storedAt.length).toBeGreaterThan(0);
    const asker: DHT = net.nodes[7];
    const peers = new Set<string>();
    const onPeer = (p: { host: string; port: number }): void => {
      peers.add(`${p.host}:${p.port}`);
    };
    asker.on('peer', onPeer);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('reference lookup did not finish')), LOOKUP_WAIT_MS);
      asker.lookup(Buffer.from(infoHash), () => {
        clearTimeout(timer);
        resolve();
      });
    });
    asker.off('peer', onPeer);
    expect(peers.has('127.0.0.1:7777')).toBe(true);
  }, 60_000);

  it("a reference node's announce is found by kadscope's lookupPeers", async () => {
    const infoHash = Buffer.alloc(20, 0xc3);
    const announcer: DHT = net.nodes[42];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('reference announce did not finish')), LOOKUP_WAIT_MS);
      announcer.announce(infoHash, 8888, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
    const found = await node.records.lookupPeers(new Uint8Array(infoHash), { timeoutMs: LOOKUP_WAIT_MS });
    expect(found.key).toBe(infoHash.toString('hex'));
    expect(found.peers).toContainEqual({ host: '127.0.0.1', port: 8888 });
  }, 60_000);

  it('a text topic is hashed with SHA-1 (40-hex key)', async () => {
    const found = await node.records.lookupPeers('ubuntu-24.04.iso', { timeoutMs: LOOKUP_WAIT_MS });
    expect(found.key).toBe(createHash('sha1').update('ubuntu-24.04.iso').digest('hex'));
  }, 60_000);
});
