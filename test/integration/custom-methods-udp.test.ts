// Custom RPC methods across a 50-node testnet over real UDP on 127.0.0.1: 40 nodes register
// "math.add" (a zod schema and a handler), one node calls it on every other node. Those that know
// it answer with the sum; the 9 that do not refuse with UNKNOWN_METHOD naming the method; arguments
// the schema refuses come back as PROTOCOL with the schema's reason; a handler's own error comes
// back with its message. The calls count in the RPC stats, under CALL and under the method's name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DhtError, isDhtError } from '../../core/errors';
import type { DhtNode } from '../../core/node';
import { createTestnet, type Testnet } from '../../core/testnet';

const SIZE = 50;
const KNOWING = 40;

let net: Testnet;
let caller: DhtNode;

const addArgs = z.object({ a: z.number().int(), b: z.number().int() }).strict();

beforeAll(async () => {
  net = await createTestnet({ size: SIZE, transport: 'udp', host: '127.0.0.1', seed: 0xca11 });
  caller = net.nodes[0];
  for (const n of net.nodes.slice(0, KNOWING)) {
    n.register({
      name: 'math.add',
      description: 'adds two integers',
      args: addArgs,
      handler: ({ a, b }, ctx) => {
        if (a === 13) throw new Error('13 is unlucky');
        return { sum: a + b, by: n.id, from: ctx.from.id };
      },
    });
  }
}, 120_000);

afterAll(async () => {
  await net?.destroy();
});

async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (e) {
    return e;
  }
}

describe(`a custom method on a ${SIZE}-node UDP testnet`, () => {
  it(`is answered by the ${KNOWING - 1} other nodes that registered it and refused by the ${SIZE - KNOWING} that did not`, async () => {
    const others = net.nodes.slice(1);
    const results = await Promise.all(others.map((n, i) => outcome(caller.call<{ sum: number; by: string; from: string }>(n.address, 'math.add', { a: 100 + i, b: 1000 }))));
    let answered = 0;
    let refused = 0;
    results.forEach((r, i) => {
      const node = others[i];
      if (i + 1 < KNOWING) {
        expect(r).toMatchObject({ value: { sum: 1100 + i, by: node.id, from: caller.id }, id: node.id });
        answered++;
      } else {
        expect(isDhtError(r, 'UNKNOWN_METHOD')).toBe(true);
        expect((r as DhtError).message).toBe('no method "math.add" is registered on this node');
        refused++;
      }
    });
    expect(answered).toBe(KNOWING - 1);
    expect(refused).toBe(SIZE - KNOWING);

    // The RPC stats: under CALL, and under the method's own row, on both sides.
    const c = caller.snapshot().counters;
    expect(c.rpc.CALL).toMatchObject({ sent: SIZE - 1, responses: KNOWING - 1, errors: SIZE - KNOWING, timeouts: 0 });
    expect(c.custom?.['math.add']).toMatchObject({ sent: SIZE - 1, responses: KNOWING - 1, errors: SIZE - KNOWING });
    expect(net.nodes[1].snapshot().counters.custom?.['math.add']).toMatchObject({ received: 1 });
    // A node that does not know the name counts it under one shared row, never under the name.
    const stranger = net.nodes[KNOWING].snapshot().counters;
    expect(stranger.custom?.['(unregistered)']).toMatchObject({ received: 1 });
    expect(stranger.custom?.['math.add']).toBeUndefined();
    expect(stranger.rpc.CALL.received).toBe(1);
  }, 60_000);

  it('arguments the schema refuses come back as PROTOCOL with its reason; the handler never ran', async () => {
    const target = net.nodes[5];
    const r = await outcome(caller.call(target.address, 'math.add', { a: 'one', b: 2 }));
    expect(isDhtError(r, 'PROTOCOL')).toBe(true);
    expect((r as DhtError).message).toMatch(/^arguments of "math\.add" refused: a: /);
    const extra = await outcome(caller.call(target.address, 'math.add', { a: 1, b: 2, admin: true }));
    expect((extra as DhtError).message).toContain('admin');
  });

  it("a handler's error comes back with its message; the node keeps serving", async () => {
    const target = net.nodes[6];
    const r = await outcome(caller.call(target.address, 'math.add', { a: 13, b: 0 }));
    expect(isDhtError(r, 'REMOTE_ERROR')).toBe(true);
    expect((r as DhtError).message).toBe('math.add failed: 13 is unlucky');
    await expect(caller.call(`127.0.0.1:${target.address.port}`, 'math.add', { a: 2, b: 2 })).resolves.toMatchObject({ value: { sum: 4 } });
  });

  it('the caller refuses what cannot be sent, before sending', async () => {
    const to = net.nodes[7].address;
    const sent = caller.snapshot().counters.rpc.CALL.sent;
    await expect(caller.call(to, 'Math.Add', {})).rejects.toThrow(/a-z/);
    await expect(caller.call(to, 'math.add', { big: 'x'.repeat(1200) })).rejects.toThrow(/at most 1000/);
    await expect(caller.call('not an address', 'math.add', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(caller.snapshot().counters.rpc.CALL.sent).toBe(sent);
  });

  it('lists what is registered, and unregistering makes a node refuse', async () => {
    const n = net.nodes[8];
    expect(n.methods()).toEqual([{ name: 'math.add', description: 'adds two integers' }]);
    expect(n.unregister('math.add')).toBe(true);
    expect(n.methods()).toEqual([]);
    await expect(caller.call(n.address, 'math.add', { a: 1, b: 1 })).rejects.toMatchObject({ code: 'UNKNOWN_METHOD' });
  });
});
