// kadscope's HyperDHT node against real hyperdht nodes on 127.0.0.1 (hyperdht/testnet, 20 nodes):
// ping, iterative find-node to the true closest, persistent join (the reference finds and pings
// us), immutable and mutable values both ways, announcements both ways, and a refusal reported as
// "not accepted by N of M nodes". No wall-clock assertions: every wait is for an answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { keyPairFromSecretKey } from '../../core/records/signing';
import { UdpTransport } from '../../core/transport/udp';
import { hyperNodeId, immutableKey } from '../../core/protocols/hyperdht/crypto';
import { HyperDhtNode, acceptanceLine } from '../../core/protocols/hyperdht/node';
import { createHyperTestnet, refKeyPair, trueClosestHyper, type RefTestnet } from './hyperdht-testnet';

const rand = seededRandomBytes(2026);
let net: RefTestnet;
let node: HyperDhtNode;
let client: HyperDhtNode;

function makeNode(ephemeral: boolean): HyperDhtNode {
  return new HyperDhtNode(
    { transport: new UdpTransport({}, { host: '127.0.0.1', port: 0 }), randomBytes: rand },
    { bootstrap: net.bootstrap, ephemeral },
  );
}

beforeAll(async () => {
  net = await createHyperTestnet(20);
  node = makeNode(false);
  await node.start();
  client = makeNode(true);
  await client.start();
});

afterAll(async () => {
  await client?.stop();
  await node?.stop();
  await net?.destroy();
});

describe('kadscope HyperDHT node in a hyperdht testnet', () => {
  it('pings a reference node and checks its id', async () => {
    const ref = net.nodes[3];
    const r = await client.ping(ref.address());
    expect(r.id).toBe(bytesToHex(hyperNodeId(ref.address())!));
    expect(r.observed.port).toBe(client.address.port);
  });

  it('joins persistent with the id of its address; a reference findNode and ping reach it', async () => {
    expect(node.persistent).toBe(true);
    expect(node.id).toBe(bytesToHex(hyperNodeId(node.address)!));
    const ref = net.nodes[7];
    const q = ref.findNode(Buffer.from(node.id, 'hex'));
    await q.finished();
    expect(q.closestNodes.map((n) => `${n.host}:${n.port}`)).toContain(`127.0.0.1:${node.address.port}`);
    const pong = await ref.ping(node.address);
    expect(pong.from.id?.toString('hex')).toBe(node.id);
    expect(client.persistent).toBe(false);
  });

  it('finds the true closest nodes of random targets', async () => {
    // The testnet's first node has no one to tell it its address, so it stays ephemeral (no id):
    // dht-rpc keeps it out of every table and every closest set, and so do we.
    expect(net.nodes[0].id).toBeNull();
    const all = [...net.nodes.filter((n) => n.id !== null).map((n) => n.address()), node.address];
    for (let i = 0; i < 5; i++) {
      const target = rand(32);
      const r = await client.findNode(target);
      expect(r.closest.map((c) => c.id)).toEqual(trueClosestHyper(all, target, 20));
    }
  });

  it('immutable values both ways', async () => {
    const ours = new TextEncoder().encode('kadscope was here');
    const put = await node.immutablePut(ours);
    expect(put.key).toBe(bytesToHex(immutableKey(ours)));
    expect(put.accepted).toBeGreaterThan(0);
    const got = await net.nodes[11].immutableGet(Buffer.from(put.key, 'hex'));
    expect(Buffer.from(got!.value).toString()).toBe('kadscope was here');

    const { hash } = await net.nodes[5].immutablePut(Buffer.from('hyperdht was here'));
    const back = await client.immutableGet(hash);
    expect(Buffer.from(back.value!).toString()).toBe('hyperdht was here');
  });

  it('mutable values both ways, and a lower seq is reported as not accepted', async () => {
    const kp = keyPairFromSecretKey(rand(32));
    const put = await client.mutablePut(kp, new TextEncoder().encode('v2'), 2);
    expect(put.accepted).toBe(put.asked);
    const got = await net.nodes[2].mutableGet(kp.publicKey);
    expect(got!.seq).toBe(2);
    expect(got!.value.toString()).toBe('v2');

    const low = await client.mutablePut(kp, new TextEncoder().encode('v1'), 1);
    expect(low.accepted).toBe(0);
    expect(acceptanceLine(low)).toBe(`not accepted by ${low.asked} of ${low.asked} nodes`);
    expect(low.refusals.every((r) => r.endsWith('SEQ_TOO_LOW'))).toBe(true);

    const refKp = refKeyPair(Buffer.from(rand(32)));
    await net.nodes[9].mutablePut(refKp, Buffer.from('from hyperdht'), { seq: 7 });
    const mine = await client.mutableGet(refKp.publicKey);
    expect(mine.value!.seq).toBe(7);
    expect(Buffer.from(mine.value!.value).toString()).toBe('from hyperdht');
  });

  it('announcements both ways', async () => {
    const topic = rand(32);
    const refKp = refKeyPair(Buffer.from(rand(32)));
    await net.nodes[13].announce(topic, refKp, []).finished();
    const found = await client.lookup(topic);
    expect(found.peers.map((p) => bytesToHex(p.publicKey))).toContain(refKp.publicKey.toString('hex'));

    const topic2 = rand(32);
    const kp = keyPairFromSecretKey(rand(32));
    const ann = await client.announce(topic2, kp, [node.address]);
    expect(ann.accepted).toBeGreaterThan(0);
    const seen: string[] = [];
    for await (const reply of net.nodes[17].lookup(topic2)) for (const p of reply.peers ?? []) seen.push(p.publicKey.toString('hex'));
    expect(seen).toContain(bytesToHex(kp.publicKey));
  });
});
