// HyperDHT on the protocol seam: a DhtNode({ protocol: hyperdht }) with the engine's own routing
// table, lookup and RPC layer, against 30 real hyperdht nodes on 127.0.0.1 (hyperdht/testnet):
// it turns persistent with the id of the address the network sees (replacing a saved id, and
// saying why), reference nodes find and ping it, its lookups find the true closest, an ephemeral
// one pings reference nodes, finds the true 20 closest and stays out of every table, and an id that
// does not fit its source never enters our table.
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { hyperNodeId } from '../../core/protocols/hyperdht/crypto';
import { INTERNAL_COMMANDS, encodeHyperRequest } from '../../core/protocols/hyperdht/messages';
import { hyperdhtProtocol } from '../../core/protocols/hyperdht/protocol';
import { createTestnet } from '../../core/testnet';
import { createHyperTestnet, trueClosestHyper, type RefTestnet } from './hyperdht-testnet';

const SIZE = 30;
const rand = seededRandomBytes(113);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

let net: RefTestnet;
let node: DhtNode;
let dir: string;
const idChanges: Array<{ from: string; to: string; reason: string }> = [];

beforeAll(async () => {
  net = await createHyperTestnet(SIZE);
  dir = await mkdtemp(join(tmpdir(), 'kadscope-hyperdht-seam-'));
  // A first run leaves a saved (random) id in the data directory.
  const first = DhtNode.create({ protocol: hyperdhtProtocol({ ephemeral: true }), host: '127.0.0.1', port: 0, dataDir: dir, randomBytes: rand });
  await first.start();
  await first.stop();
  node = DhtNode.create({ protocol: 'hyperdht', host: '127.0.0.1', port: 0, dataDir: dir, bootstrap: net.bootstrap, randomBytes: rand, rpcTimeoutMs: 500 });
  node.on('id-changed', (e) => idChanges.push(e));
  await node.start();
}, 60_000);

afterAll(async () => {
  await node?.stop();
  await net?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`DhtNode with protocol hyperdht in a ${SIZE}-node hyperdht network`, () => {
  it('takes the id of its address as the network sees it, replacing the saved one with a reason', () => {
    expect(node.id).toBe(bytesToHex(hyperNodeId({ host: '127.0.0.1', port: node.address.port })!));
    expect(idChanges).toHaveLength(1);
    expect(idChanges[0].to).toBe(node.id);
    expect(idChanges[0].reason).toMatch(/saved id no longer fits.*127\.0\.0\.1:\d+/);
    expect(node.table.size).toBeGreaterThan(10);
    for (const p of node.table.entries()) expect(p.id).toBe(hex(hyperNodeId(p)!));
    const snap = node.snapshot();
    expect(snap.protocol).toEqual({ name: 'hyperdht', label: 'HyperDHT (Hyperswarm)', idBytes: 32 });
    expect(snap.peers.length).toBeGreaterThan(10);
    for (const p of snap.peers) expect(p.idMatchesAddress).toBe(true);
  });

  it("createTestnet({ node: { protocol: 'hyperdht' } }): kadscope's own HyperDHT network, every node persistent", async () => {
    const own = await createTestnet({ size: 8, node: { protocol: 'hyperdht', rpcTimeoutMs: 500 } });
    try {
      for (const n of own.nodes) expect(n.id).toBe(hex(hyperNodeId(n.address)!));
      const r = await own.nodes[7].findNode(own.nodes[2].id);
      expect(r.closest[0].id).toBe(own.nodes[2].id);
    } finally {
      await own.destroy();
    }
  });

  it('a reference findNode of its id includes it, and a reference ping gets its id', async () => {
    // Reference nodes add us once we have queried them persistent: a refresh lookup makes sure of it.
    await node.findNode(node.id);
    const ref = net.nodes[17];
    const q = ref.findNode(Buffer.from(node.id, 'hex'));
    await q.finished();
    expect(q.closestNodes.map((n) => `${n.host}:${n.port}`)).toContain(`127.0.0.1:${node.address.port}`);
    const pong = await ref.ping(node.address);
    expect(pong.from.id?.toString('hex')).toBe(node.id);
    expect(net.nodes.filter((n) => n.table.get(Buffer.from(node.id, 'hex'))).length).toBeGreaterThan(0);
  });

  it('20 random targets: the true closest every time, recall of the 20 closest >= 95%', async () => {
    const members = net.nodes.filter((n) => n.id !== null).map((n) => n.address());
    let found = 0;
    for (let i = 0; i < 20; i++) {
      const target = rand(32);
      const r = await node.findNode(hex(target));
      const truth = trueClosestHyper(members, target, 20);
      expect(r.closest[0]?.id).toBe(truth[0]);
      found += r.closest.filter((c) => truth.includes(c.id)).length;
    }
    expect(found / (20 * 20)).toBeGreaterThanOrEqual(0.95);
  });

  it('an ephemeral node pings a reference node, finds the true 20 closest without an id and enters no table', async () => {
    const client = DhtNode.create({ protocol: hyperdhtProtocol({ ephemeral: true }), host: '127.0.0.1', port: 0, bootstrap: net.bootstrap });
    try {
      await client.start();
      // The answer's id is the one its address hashes to; it says where it saw us.
      const ref = net.nodes[3].address();
      const pong = await client.ping(ref);
      expect(pong.id).toBe(hex(hyperNodeId(ref)!));
      expect(pong.observed?.port).toBe(client.address.port);
      // The testnet's first node has no one to tell it its address, so it stays ephemeral (no id):
      // dht-rpc keeps it out of every table and every closest set, and so do we.
      expect(net.nodes[0].id).toBeNull();
      const members = net.nodes.filter((n) => n.id !== null).map((n) => n.address());
      for (let i = 0; i < 5; i++) {
        const target = rand(32);
        const r = await client.findNode(hex(target));
        expect(r.closest.map((c) => c.id)).toEqual(trueClosestHyper([...members, node.address], target, 20));
      }
      const idOfItsAddress = hyperNodeId(client.address)!;
      expect(net.nodes.filter((n) => n.table.get(Buffer.from(idOfItsAddress))).length).toBe(0);
      expect(client.id).not.toBe(hex(idOfItsAddress));
    } finally {
      await client.stop();
    }
  });

  it('a request whose id does not fit its source is answered but the sender never enters the table', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const answered = new Promise<Buffer>((r) => sock.once('message', r));
    const forged = rand(32);
    sock.send(encodeHyperRequest({ tid: 7, to: node.address, id: forged, token: null, internal: true, command: INTERNAL_COMMANDS.PING, target: null, value: null }), node.address.port, '127.0.0.1');
    const reply = await answered;
    const port = sock.address().port;
    sock.close();
    expect(reply[0]).toBe(0x13);
    expect(node.table.has(hex(forged))).toBe(false);
    expect(node.table.entries().some((e) => e.port === port)).toBe(false);
  });
});
