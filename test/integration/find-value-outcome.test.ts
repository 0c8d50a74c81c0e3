// A find-value lookup's reason says whether a value was found: 'value-found' for an immutable value
// (the lookup stops) and for a mutable one (it goes on for a newer seq), never for a miss. The
// explorer shows found / not found from this reason alone.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestnet, type Testnet } from '../../core/testnet';
import { keyPairFromSecretKey } from '../../core/records/signing';
import type { LookupEvent } from '../../core/types';

let tn: Testnet | null = null;
afterEach(async () => {
  await tn?.destroy();
  tn = null;
});

/** The reason of each find-value lookup `who` runs while `op` is under way. */
async function findValueReasons(net: Testnet, who: number, op: () => Promise<unknown>): Promise<string[]> {
  const reasons: string[] = [];
  const kinds = new Map<string, string>();
  const listen = (e: LookupEvent): void => {
    if (e.type === 'started') kinds.set(e.lookupId, e.kind);
    if (e.type === 'done' && kinds.get(e.lookupId) === 'find-value') reasons.push(e.reason);
  };
  net.nodes[who].on('lookup', listen);
  try {
    await net.run(op()).catch(() => undefined);
  } finally {
    net.nodes[who].off('lookup', listen);
  }
  return reasons;
}

describe('find-value outcome', () => {
  it('ends value-found for an immutable and a mutable value, and not for a key nobody holds', async () => {
    // k 4 on 12 nodes: most nodes hold neither value, so their get asks the network.
    tn = await createTestnet({ size: 12, transport: 'memory', seed: 71, node: { k: 4 } });
    const net = tn;
    const imm = await net.run(net.nodes[1].records.put('held'));
    const mut = await net.run(net.nodes[1].records.putMutable({ keyPair: keyPairFromSecretKey(new Uint8Array(32).fill(9)), seq: 1, value: 'mutable' }));
    const asker = net.nodes.findIndex((n, i) => i !== 1 && !imm.storedAt.includes(n.id) && !mut.storedAt.includes(n.id));
    expect(asker).toBeGreaterThan(-1);
    expect(await findValueReasons(net, asker, () => net.nodes[asker].records.get(imm.key))).toEqual(['value-found']);
    expect(await findValueReasons(net, asker, () => net.nodes[asker].records.get(mut.key))).toEqual(['value-found']);
    const missing = await findValueReasons(net, asker, () => net.nodes[asker].records.get('ab'.repeat(32)));
    expect(missing).toHaveLength(1);
    expect(missing[0]).not.toBe('value-found');
  });

  it('fetches from the chosen source: this node\'s copy without a lookup, or the network leaving our copy out', async () => {
    tn = await createTestnet({ size: 12, transport: 'memory', seed: 72, node: { k: 4 } });
    const net = tn;
    const holder = net.nodes[1];
    const r = await net.run(holder.records.put('mine'));
    const local = await net.run(holder.records.get(r.key, { source: 'local' }));
    expect([new TextDecoder().decode(local.value), local.from, local.lookupId, local.messages]).toEqual(['mine', holder.id, null, 0]);
    const remote = await net.run(holder.records.get(r.key, { source: 'network' }));
    expect(new TextDecoder().decode(remote.value)).toBe('mine');
    expect(remote.lookupId).not.toBeNull();
    expect(remote.from).not.toBe(holder.id);
    expect(remote.messages).toBeGreaterThan(0);
    // 'auto' (the default) answers an immutable value we hold from our copy, as before.
    expect((await net.run(holder.records.get(r.key))).lookupId).toBeNull();
    const stranger = net.nodes.find((n) => n !== holder && !r.storedAt.includes(n.id))!;
    await expect(net.run(stranger.records.get(r.key, { source: 'local' }))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/holds no copy/) });
  });
});
