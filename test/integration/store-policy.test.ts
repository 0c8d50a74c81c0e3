// A store policy (go-dht's OnStore) and validators per namespace (go-libp2p's) on a 40-node memory
// network under fake time: nodes that refuse say why, and the writer sees which nodes refused and
// why in its put result; when every node refuses, the put fails with POLICY_REFUSED and the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { isDhtError, type DhtError } from '../../core/errors';
import { namespaceOf, type StoreCandidate } from '../../core/records/policy';
import { createTestnet, type Testnet } from '../../core/testnet';

const SIZE = 40;
let net: Testnet;
let clock: FakeClock;
const seen: StoreCandidate[] = [];

beforeAll(async () => {
  clock = new FakeClock();
  net = await createTestnet({ size: SIZE, transport: 'memory', seed: 0x5707e, clock, node: { refreshOnBootstrap: false } });
}, 120_000);

afterAll(async () => {
  await net?.destroy();
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('store policy and validators', () => {
  it('reads a namespace from the value', () => {
    expect(namespaceOf(text('/chat/hello'))).toBe('chat');
    expect(namespaceOf(text('/a.b-c_1/x'))).toBe('a.b-c_1');
    for (const v of ['chat/hello', '/chat', '//x', '/Chat/x', `/${'a'.repeat(33)}/x`, '/ch at/x', '']) expect(namespaceOf(text(v))).toBeNull();
    expect(namespaceOf(new Uint8Array([0x2f, 0xff, 0xfe, 0x2f, 1]))).toBeNull();
  });

  it('a policy on half the nodes: the writer sees which refused and why, and the others stored it', async () => {
    const refusing = new Set(net.nodes.filter((_, i) => i % 2 === 1).map((n) => n.id));
    for (const n of net.nodes) {
      if (refusing.has(n.id)) {
        n.setStorePolicy((r) => {
          seen.push(r);
          return new TextDecoder().decode(r.value).includes('spam') ? 'no spam here' : true;
        });
      }
    }
    const writer = net.nodes[0];
    const r = await net.run(writer.records.put('buy spam now'));
    expect(r.storedAt.length).toBeGreaterThan(0);
    expect(r.failed.length).toBeGreaterThan(0);
    for (const f of r.failed) {
      expect(refusing.has(f.id)).toBe(true);
      expect(f).toMatchObject({ code: 'POLICY_REFUSED', message: 'store policy: no spam here' });
    }
    for (const id of r.storedAt) expect(refusing.has(id)).toBe(false);
    // The policy saw the record and who stored it.
    expect(seen.some((c) => c.key === r.key && c.type === 'immutable' && c.from.id === writer.id && c.namespace === null)).toBe(true);
    // A refusing node does not hold it; it counted the refusal.
    const refuser = net.nodes.find((n) => n.id === r.failed[0].id)!;
    expect(refuser.records.held().some((x) => x.key === r.key)).toBe(false);
    // Something the policy allows is stored by all of them.
    const ok = await net.run(writer.records.put('ham and eggs'));
    expect(ok.failed).toEqual([]);
    for (const n of net.nodes) n.setStorePolicy(null);
  }, 60_000);

  it('when every node refuses, the put fails with POLICY_REFUSED and the reason', async () => {
    for (const n of net.nodes) n.setStorePolicy((c) => c.value.length <= 10 || 'values over 10 bytes are not kept here');
    const writer = net.nodes[3];
    let caught: unknown;
    try {
      await net.run(writer.records.put('this is longer than ten bytes'));
    } catch (e) {
      caught = e;
    }
    expect(isDhtError(caught, 'POLICY_REFUSED')).toBe(true);
    expect((caught as DhtError).message).toMatch(/^all \d+ nodes asked refused .*: store policy: values over 10 bytes are not kept here$/);
    // Throwing refuses too, with the error's message; mutable records are checked as well.
    for (const n of net.nodes) {
      n.setStorePolicy((c) => {
        if (c.type === 'mutable' && c.seq! > 5) throw new Error(`seq ${c.seq} is past what we allow`);
        return true;
      });
    }
    const kp = writer.keyPairs.get('policy-test');
    await expect(net.run(writer.records.putMutable({ keyPair: kp, seq: 9, value: text('v') }))).rejects.toThrow(/store policy: seq 9 is past what we allow/);
    await expect(net.run(writer.records.putMutable({ keyPair: kp, seq: 2, value: text('v') }))).resolves.toMatchObject({ failed: [] });
    for (const n of net.nodes) n.setStorePolicy(null);
  }, 60_000);

  it('a validator checks its namespace only, before the policy', async () => {
    for (const n of net.nodes) {
      n.addValidator('chat', (c) => {
        try {
          const msg = JSON.parse(new TextDecoder().decode(c.value).slice('/chat/'.length)) as { text?: unknown };
          return typeof msg.text === 'string' || 'a chat message is {"text": string}';
        } catch {
          return 'a chat message is JSON';
        }
      });
    }
    const writer = net.nodes[7];
    await expect(net.run(writer.records.put('/chat/not json'))).rejects.toMatchObject({ code: 'POLICY_REFUSED', message: expect.stringContaining('validator "chat": a chat message is JSON') });
    await expect(net.run(writer.records.put('/chat/{"text": 5}'))).rejects.toThrow(/validator "chat": a chat message is \{"text": string\}/);
    await expect(net.run(writer.records.put('/chat/{"text": "hi"}'))).resolves.toMatchObject({ failed: [] });
    // Other namespaces, and values without one, are not its business.
    await expect(net.run(writer.records.put('/news/not json either'))).resolves.toMatchObject({ failed: [] });
    expect(() => writer.addValidator('Bad Name', () => true)).toThrow(/namespace/);
    for (const n of net.nodes) expect(n.removeValidator('chat')).toBe(true);
  }, 60_000);
});
