// HyperDHT's records through the protocol seam: DhtNode({ protocol: 'hyperdht' }) puts and gets
// immutable and mutable values and announces and finds peers with node.records, against 24 real
// hyperdht nodes on 127.0.0.1 (hyperdht/testnet, explicit loopback bootstrap), both ways; reference
// nodes' own requests to it are stored and answered (and a bad put meets silence; a lower seq than a
// storer holds gets its SEQ_TOO_LOW); and a network of seam nodes alone stores, answers and
// verifies them (the server side).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DhtError } from '../../core/errors';
import { bytesToHex, hexToBytes, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { immutableKey, publicKeyTarget } from '../../core/protocols/hyperdht/crypto';
import { HYPERDHT_COMMANDS } from '../../core/protocols/hyperdht/messages';
import { signMutable } from '../../core/protocols/hyperdht/records';
import { hyperdhtProtocol } from '../../core/protocols/hyperdht/protocol';
import { keyPairFromSecretKey } from '../../core/records/signing';
import { createTestnet, type Testnet } from '../../core/testnet';
import type { RequestArgs } from '../../core/wire/types';
import { createHyperTestnet, refKeyPair, type RefTestnet } from './hyperdht-testnet';

const SIZE = 24;
const rand = seededRandomBytes(1313);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

let net: RefTestnet;
let node: DhtNode;

beforeAll(async () => {
  net = await createHyperTestnet(SIZE);
  node = DhtNode.create({ protocol: 'hyperdht', host: '127.0.0.1', port: 0, bootstrap: net.bootstrap, randomBytes: rand, rpcTimeoutMs: 500 });
  await node.start();
  await node.findNode(node.id); // persistent: the nodes nearest us meet us as a member
}, 60_000);

afterAll(async () => {
  await node?.stop();
  await net?.destroy();
});

describe(`node.records on a HyperDHT DhtNode among ${SIZE} real hyperdht nodes`, () => {
  it('an immutable value put by kadscope is got by a reference node, and the reverse', async () => {
    const put = await node.records.put('immutable from the seam');
    expect(put.key).toBe(bytesToHex(immutableKey(new TextEncoder().encode('immutable from the seam'))));
    expect(put.storedAt.length).toBeGreaterThanOrEqual(10);
    const got = await net.nodes[5].immutableGet(Buffer.from(put.key, 'hex'));
    expect(got!.value.toString()).toBe('immutable from the seam');

    const { hash } = await net.nodes[6].immutablePut(Buffer.from('immutable from hyperdht'));
    const back = await node.records.get(hash.toString('hex'), { source: 'network' });
    expect(text(back.value)).toBe('immutable from hyperdht');
  });

  it('a mutable value put by kadscope is got by a reference node (highest seq), and the reverse with the public key', async () => {
    const kp = keyPairFromSecretKey(rand(32));
    await node.records.putMutable({ keyPair: kp, seq: 1, value: 'v1' });
    const r = await node.records.putMutable({ keyPair: kp, seq: 2, value: 'v2 from the seam' });
    expect(r.key).toBe(bytesToHex(publicKeyTarget(kp.publicKey)));
    const got = await net.nodes[7].mutableGet(Buffer.from(kp.publicKey), { latest: true });
    expect(got).toMatchObject({ seq: 2 });
    expect(got!.value.toString()).toBe('v2 from the seam');
    // A lower seq than the network holds is refused before anything is written.
    await expect(node.records.putMutable({ keyPair: kp, seq: 1, value: 'old' })).rejects.toMatchObject({ code: 'SEQ_TOO_LOW' });

    const refKp = refKeyPair(Buffer.from(rand(32)));
    await net.nodes[8].mutablePut(refKp, Buffer.from('mutable from hyperdht'), { seq: 5 });
    const key = bytesToHex(publicKeyTarget(refKp.publicKey));
    const back = await node.records.get(key, { publicKey: refKp.publicKey });
    expect(back.seq).toBe(5);
    expect(text(back.value)).toBe('mutable from hyperdht');
    // Without the public key the answers cannot be checked: the get says what is missing.
    await expect(node.records.get(key, { source: 'network' })).rejects.toThrow(/with its public key/);
  });

  it("announcements: a reference node's is found by kadscope, kadscope's by a reference lookup", async () => {
    const topic = rand(32);
    const refKp = refKeyPair(Buffer.from(rand(32)));
    await net.nodes[9].announce(topic, refKp, []).finished();
    const found = await node.records.lookupPeers(topic);
    expect(found.peers.map((p) => p.publicKey)).toContain(refKp.publicKey.toString('hex'));

    const topic2 = rand(32);
    const kp = keyPairFromSecretKey(rand(32));
    const ann = await node.records.announce(topic2, undefined, { keyPair: kp });
    expect(ann.storedAt.length).toBeGreaterThanOrEqual(10);
    const seen = new Set<string>();
    for await (const reply of net.nodes[10].lookup(topic2)) for (const p of reply.peers ?? []) seen.add(p.publicKey.toString('hex'));
    expect(seen).toContain(bytesToHex(kp.publicKey));
    await expect(node.records.announce(rand(32))).rejects.toThrow(/announce with a key pair/);
  });

  it('serves reference nodes: their IMMUTABLE_PUT with our token is stored and answered, their announcement to us is kept', async () => {
    type Reply = { token: Buffer | null; value: Buffer | null; error: number };
    const ref = net.nodes[11] as unknown as { request(q: { token?: Buffer | null; command: number; target: Buffer; value?: Buffer | null }, to: { host: string; port: number }): Promise<Reply> };
    const to = { host: '127.0.0.1', port: node.address.port };
    const value = Buffer.from('kept by the seam node');
    const key = Buffer.from(immutableKey(value));
    const probe = await ref.request({ command: HYPERDHT_COMMANDS.IMMUTABLE_GET, target: key }, to);
    expect([probe.value, probe.token?.length]).toEqual([null, 32]);
    const put = await ref.request({ token: probe.token, command: HYPERDHT_COMMANDS.IMMUTABLE_PUT, target: key, value }, to);
    expect(put.error).toBe(0);
    expect(node.records.held().map((r) => r.key)).toContain(key.toString('hex'));
    const back = await ref.request({ command: HYPERDHT_COMMANDS.IMMUTABLE_GET, target: key }, to);
    expect(back.value?.toString()).toBe('kept by the seam node');
    // A put whose value does not hash to its target gets hyperdht's silence from us too.
    const wrong = Buffer.from(rand(32));
    await expect(ref.request({ token: probe.token, command: HYPERDHT_COMMANDS.IMMUTABLE_PUT, target: wrong, value }, to)).rejects.toThrow();
    expect(node.records.held().map((r) => r.key)).not.toContain(wrong.toString('hex'));

    // An announcement under our own id as topic: we are the closest node, so the reference's
    // announce reaches us, signed by hyperdht for our id and our token, and we keep it.
    const refKp = refKeyPair(Buffer.from(rand(32)));
    await net.nodes[12].announce(Buffer.from(node.id, 'hex'), refKp, []).finished();
    const peers = await node.records.lookupPeers(hexToBytes(node.id));
    expect(peers.peers.map((p) => p.publicKey)).toContain(refKp.publicKey.toString('hex'));
  });

  it('a write every storer refuses in silence is "not accepted by N of M nodes", not a hang', async () => {
    // hyperdht drops an IMMUTABLE_PUT whose value does not hash to its target without a word.
    const key = rand(32);
    const closest = (await node.findNode(bytesToHex(key))).closest.slice(0, 3);
    // The engine's request (private): a STORE no client of ours would build.
    const raw = node as unknown as { request(to: unknown, args: RequestArgs): Promise<{ response: { token?: Uint8Array } }> };
    const failures: string[] = [];
    await Promise.all(
      closest.map(async (c) => {
        const probe = await raw.request(c, { method: 'FIND_VALUE', key });
        try {
          await raw.request(c, { method: 'STORE', key, record: { type: 'immutable', value: new TextEncoder().encode('not the preimage') }, token: probe.response.token! });
        } catch (e) {
          failures.push((e as DhtError).code);
        }
      }),
    );
    expect(failures).toEqual(['TIMEOUT', 'TIMEOUT', 'TIMEOUT']);
  });

  it("a storer's refusal of a lower seq comes back as SEQ_TOO_LOW from each, not as silence", async () => {
    // node.records refuses a lower seq before writing; a storer that holds a newer one (a version
    // that arrived between our lookup and our STORE) says so with hyperdht's SEQ_TOO_LOW.
    const kp = keyPairFromSecretKey(rand(32));
    const held = await node.records.putMutable({ keyPair: kp, seq: 2, value: 'v2' });
    const key = hexToBytes(held.key);
    const raw = node as unknown as { request(to: unknown, args: RequestArgs): Promise<{ response: { token?: Uint8Array } }> };
    const value = new TextEncoder().encode('v1');
    const record = { type: 'mutable' as const, value, publicKey: kp.publicKey, salt: new Uint8Array(0), seq: 1, sig: signMutable(1, value, kp) };
    const storers = (await node.findNode(held.key)).closest.filter((c) => held.storedAt.includes(c.id)).slice(0, 3);
    expect(storers).toHaveLength(3);
    const refusals = await Promise.all(
      storers.map(async (c) => {
        const probe = await raw.request(c, { method: 'FIND_VALUE', key, mutable: true });
        return raw.request(c, { method: 'STORE', key, record, token: probe.response.token! }).then(
          () => 'stored',
          (e: DhtError) => e.code,
        );
      }),
    );
    expect(refusals).toEqual(['SEQ_TOO_LOW', 'SEQ_TOO_LOW', 'SEQ_TOO_LOW']);
    expect((await net.nodes[13].mutableGet(Buffer.from(kp.publicKey), { latest: true }))?.seq).toBe(2);
  });
});

describe('a network of HyperDHT seam nodes alone: the server side', () => {
  let own: Testnet;
  beforeAll(async () => {
    own = await createTestnet({ size: 8, node: { protocol: 'hyperdht', rpcTimeoutMs: 500 } });
  }, 30_000);
  afterAll(async () => {
    await own?.destroy();
  });

  it('stores, answers and checks immutable and mutable values and signed announcements', async () => {
    const [a, b] = [own.nodes[1], own.nodes[6]];
    const put = await a.records.put('held by seam nodes');
    expect(text((await b.records.get(put.key)).value)).toBe('held by seam nodes');

    const kp = keyPairFromSecretKey(rand(32));
    const m = await a.records.putMutable({ keyPair: kp, seq: 3, value: 'mutable, seam only' });
    expect(m.storedAt.length).toBeGreaterThan(3);
    const got = await b.records.get(m.key, { publicKey: kp.publicKey });
    expect([got.seq, text(got.value)]).toEqual([3, 'mutable, seam only']);

    const topic = rand(32);
    const ann = await a.records.announce(topic, undefined, { keyPair: kp });
    expect(ann.failed).toEqual([]);
    const peers = await b.records.lookupPeers(topic);
    expect(peers.peers.map((p) => p.publicKey)).toEqual([bytesToHex(kp.publicKey)]);
  });

  it('an ephemeral seam client puts and gets through persistent seam nodes', async () => {
    const client = DhtNode.create({ protocol: hyperdhtProtocol({ ephemeral: true }), host: '127.0.0.1', port: 0, bootstrap: [own.nodes[0].address], rpcTimeoutMs: 500 });
    try {
      await client.start();
      const put = await client.records.put('from a client');
      expect(text((await own.nodes[3].records.get(put.key, { source: 'network' })).value)).toBe('from a client');
    } finally {
      await client.stop();
    }
  });
});
