// The wire fields of the extension points (CALL, BROADCAST, a response's result) under hostile
// input: each malformed field is dropped with a reason naming it, the fast path and the generic
// decoder agree, a request for a method number we do not have is answered UNKNOWN_METHOD, and a
// CALL's arguments that are not what the schema wants are refused with the schema's reason.
import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeClock } from '../../core/clock';
import { DhtError, WIRE_ERROR } from '../../core/errors';
import { CustomMethods, decodeCallValue, encodeCallValue } from '../../core/extensions/methods';
import { seededRandomBytes } from '../../core/id';
import { Rpc } from '../../core/rpc/rpc';
import { MemoryNetwork } from '../../core/transport/memory';
import { decodeCanonical, decodeGeneric, decodeMessage, encodeMessage, METHOD_CODES } from '../../core/wire/codec';
import { type DropReason, type Message } from '../../core/wire/types';

const rand = seededRandomBytes(0xe47);
const SELF = rand(32);
const ORIGIN = rand(32);
const BID = rand(8);
const raw = new Encoder({ useRecords: false, mapsAsObjects: true, structuredClone: false, tagUint8Array: false, variableMapSize: true });
const enc = (x: unknown): Uint8Array => raw.encode(x);
const top = (m: number, a: unknown): Uint8Array => enc({ v: 1, t: 7, y: 'q', i: SELF, m, a });
const call = (a: Record<string, unknown>): Uint8Array => top(METHOD_CODES.CALL, a);
const bcast = (a: Record<string, unknown>): Uint8Array => top(METHOD_CODES.BROADCAST, { o: ORIGIN, b: BID, h: 1, l: 32, x: rand(10), ...a });
const OBS = new Uint8Array([127, 0, 0, 1, 0x0f, 0xa0]);

describe('round trips', () => {
  const msgs: [string, Message][] = [
    ['CALL', { kind: 'request', tid: 1, id: SELF, method: 'CALL', name: 'chat.say', args: rand(20) }],
    ['CALL, empty args, longest name', { kind: 'request', tid: 1, id: SELF, method: 'CALL', name: 'a'.repeat(32), args: new Uint8Array(0) }],
    ['CALL, 1,000-byte args', { kind: 'request', tid: 1, id: SELF, method: 'CALL', name: 'x-y_z.0', args: rand(1000) }],
    ['BROADCAST', { kind: 'request', tid: 2, id: SELF, method: 'BROADCAST', origin: ORIGIN, bid: BID, hops: 1, hopLimit: 32, payload: rand(100) }],
    ['BROADCAST at its hop limit, 1,000 bytes', { kind: 'request', tid: 2, id: SELF, method: 'BROADCAST', origin: ORIGIN, bid: BID, hops: 64, hopLimit: 64, payload: rand(1000) }],
    ['response with a result', { kind: 'response', tid: 3, id: SELF, observed: { host: '127.0.0.1', port: 4000 }, result: rand(1000) }],
    ['response with an empty result', { kind: 'response', tid: 3, id: SELF, observed: { host: '::1', port: 4000 }, result: new Uint8Array(0) }],
  ];
  it.each(msgs)('%s', (_name, msg) => {
    const data = encodeMessage(msg);
    const r = decodeMessage(data);
    expect(r.ok && r.message).toEqual(msg);
    // The fast path and the generic decoder agree (CALL is the generic decoder's alone).
    const g = decodeGeneric(data);
    expect(g.ok && g.message).toEqual(msg);
    const fast = decodeCanonical(data);
    if (msg.kind === 'request' && msg.method === 'CALL') expect(fast).toBeNull();
    else expect(fast).toEqual(msg);
  });
});

describe('hostile CALL, BROADCAST and result fields are dropped with a reason', () => {
  const cases: [string, Uint8Array, DropReason, string][] = [
    ['CALL without a name', call({ b: rand(2) }), 'bad-args', 'name'],
    ['CALL with an empty name', call({ n: '', b: rand(2) }), 'bad-args', 'name'],
    ['CALL with an uppercase name', call({ n: 'Chat', b: rand(2) }), 'bad-args', 'name'],
    ['CALL with a 33-character name', call({ n: 'a'.repeat(33), b: rand(2) }), 'bad-args', 'name'],
    ['CALL with a name starting with a digit', call({ n: '1abc', b: rand(2) }), 'bad-args', 'name'],
    ['CALL with a space in the name', call({ n: 'a b', b: rand(2) }), 'bad-args', 'name'],
    ['CALL with a non-ASCII name', call({ n: 'caf\u00e9', b: rand(2) }), 'bad-args', 'name'],
    ['CALL with __proto__ as the name', call({ n: '__proto__', b: rand(2) }), 'bad-args', 'name'],
    ['CALL with a name as bytes', call({ n: rand(4), b: rand(2) }), 'bad-args', 'name'],
    ['CALL without args', call({ n: 'ok' }), 'bad-args', 'args'],
    ['CALL with args as a map', call({ n: 'ok', b: { a: 1 } }), 'bad-args', 'args'],
    ['CALL with 1,001-byte args', call({ n: 'ok', b: rand(1001) }), 'bad-args', 'args'],
    ['CALL with an extra key', call({ n: 'ok', b: rand(1), z: 0 }), 'bad-args', '"z"'],
    ['BROADCAST with a 31-byte origin', bcast({ o: rand(31) }), 'bad-args', 'origin'],
    ['BROADCAST with a 7-byte id', bcast({ b: rand(7) }), 'bad-args', 'broadcast id'],
    ['BROADCAST with hop limit 0', bcast({ h: 0, l: 0 }), 'bad-args', 'hop limit'],
    ['BROADCAST with hop limit 65', bcast({ l: 65 }), 'bad-args', 'hop limit'],
    ['BROADCAST with hops past the limit', bcast({ h: 5, l: 4 }), 'bad-args', 'hops'],
    ['BROADCAST with negative hops', bcast({ h: -1 }), 'bad-args', 'hops'],
    ['BROADCAST with fractional hops', bcast({ h: 1.5 }), 'bad-args', 'hops'],
    ['BROADCAST with hops as a string', bcast({ h: '1' }), 'bad-args', 'hops'],
    ['BROADCAST with a 1,001-byte payload', bcast({ x: rand(1001) }), 'bad-args', 'payload'],
    ['BROADCAST without a payload', enc({ v: 1, t: 7, y: 'q', i: SELF, m: METHOD_CODES.BROADCAST, a: { o: ORIGIN, b: BID, h: 1, l: 2 } }), 'bad-args', 'payload'],
    ['BROADCAST with an extra key', bcast({ n: 'x' }), 'bad-args', '"n"'],
    ['response with a 1,001-byte result', enc({ v: 1, t: 7, y: 'r', i: SELF, r: { o: OBS, x: rand(1001) } }), 'bad-response', 'result'],
    ['response with a result as text', enc({ v: 1, t: 7, y: 'r', i: SELF, r: { o: OBS, x: 'hi' } }), 'bad-response', 'result'],
  ];
  it.each(cases)('%s', (_name, data, reason, word) => {
    const r = decodeMessage(data);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(reason);
    expect(r.detail).toContain(word);
    expect(decodeCanonical(data)).toBeNull();
  });

  it('an unknown method number keeps its tid (so it can be answered); a malformed request does not', () => {
    const r = decodeMessage(top(9, {}));
    expect(r).toMatchObject({ ok: false, reason: 'unknown-method', tid: 7 });
    expect(decodeMessage(top(-1, {}))).not.toHaveProperty('tid');
    expect(decodeMessage(enc({ v: 1, t: 7, y: 'q', i: SELF, m: 9 }))).not.toHaveProperty('tid');
  });

  it('encodeMessage refuses out-of-range CALL and BROADCAST fields', () => {
    const bad: Message[] = [
      { kind: 'request', tid: 1, id: SELF, method: 'CALL', name: 'Bad', args: rand(1) },
      { kind: 'request', tid: 1, id: SELF, method: 'CALL', name: 'ok', args: rand(1001) },
      { kind: 'request', tid: 1, id: SELF, method: 'BROADCAST', origin: ORIGIN, bid: BID, hops: 3, hopLimit: 2, payload: rand(1) },
      { kind: 'request', tid: 1, id: SELF, method: 'BROADCAST', origin: ORIGIN, bid: BID, hops: 0, hopLimit: 65, payload: rand(1) },
      { kind: 'request', tid: 1, id: SELF, method: 'BROADCAST', origin: ORIGIN, bid: rand(9), hops: 0, hopLimit: 1, payload: rand(1) },
      { kind: 'response', tid: 1, id: SELF, observed: { host: '127.0.0.1', port: 1 }, result: rand(1001) },
    ];
    for (const m of bad) expect(() => encodeMessage(m)).toThrow(DhtError);
  });

  it('random mutations of CALL and BROADCAST datagrams never throw and decode the same both ways', () => {
    const seeds = [
      encodeMessage({ kind: 'request', tid: 9, id: SELF, method: 'CALL', name: 'chat.say', args: rand(40) }),
      encodeMessage({ kind: 'request', tid: 9, id: SELF, method: 'BROADCAST', origin: ORIGIN, bid: BID, hops: 2, hopLimit: 8, payload: rand(40) }),
      encodeMessage({ kind: 'response', tid: 9, id: SELF, observed: { host: '127.0.0.1', port: 9 }, result: rand(40) }),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (seed, edits) => {
        const data = seed.slice();
        for (const [at, b] of edits) data[at % data.length] = b;
        const r = decodeMessage(data);
        const g = decodeGeneric(data);
        expect(r).toEqual(g);
      }),
      { seed: 0xe47, numRuns: 2000 },
    );
  });
});

describe('a node answers what it cannot serve', () => {
  it('a request for a method number it does not have gets UNKNOWN_METHOD, rate-limited like any request', async () => {
    const clock = new FakeClock();
    const net = new MemoryNetwork({ clock }, { seed: 1, latencyMs: { min: 1, max: 1 } });
    const a = net.createTransport({});
    const b = net.createTransport({});
    await a.bind();
    await b.bind();
    let admitted = 0;
    const rpc = new Rpc({ transport: b, clock, randomBytes: seededRandomBytes(2), selfId: rand(32) }, { admit: () => admitted++ < 1 });
    const got: Uint8Array[] = [];
    a.onMessage((d) => got.push(d.slice()));
    a.send(top(9, {}), b.address);
    a.send(top(9, {}), b.address); // refused by admit: no answer
    await clock.tickAsync(10);
    expect(got).toHaveLength(1);
    const r = decodeMessage(got[0]);
    expect(r.ok && r.message).toMatchObject({ kind: 'error', tid: 7, code: WIRE_ERROR.UNKNOWN_METHOD });
    expect(rpc.counters.dropped['unknown-method']).toBe(2);
    rpc.close();
    await a.close();
    await b.close();
  });
});

describe('custom method arguments from the network', () => {
  const from = { id: '00'.repeat(32), host: '127.0.0.1', port: 1 };
  const methods = new CustomMethods();
  const seen: unknown[] = [];
  methods.register({
    name: 'chat.say',
    args: z.object({ text: z.string().max(100) }).strict(),
    handler(args) {
      seen.push(args);
      return { echoed: args.text };
    },
  });

  it('a valid call is answered with its encoded result', async () => {
    const r = await methods.handle('chat.say', encodeCallValue({ text: 'hi' }, 'args'), from);
    expect(r).toBeInstanceOf(Uint8Array);
    expect(decodeCallValue(r as Uint8Array)).toEqual({ ok: true, value: { echoed: 'hi' } });
  });

  const hostile: [string, Uint8Array, string][] = [
    ['not CBOR', new Uint8Array([0xff, 0xff]), 'not one CBOR item'],
    ['truncated CBOR', encodeCallValue({ text: 'hello' }, 'x').subarray(0, 4), 'not one CBOR item'],
    ['the wrong type', encodeCallValue({ text: 5 }, 'x'), 'text'],
    ['an extra key', encodeCallValue({ text: 'a', admin: true }, 'x'), 'admin'],
    ['a __proto__ key', new Uint8Array(Buffer.from('a2' + '6474657874' + '6161' + '695f5f70726f746f5f5f' + 'a1' + '6561646d696e' + 'f5', 'hex')), 'refused'],
    ['nothing', new Uint8Array(0), 'refused'],
    ['deep nesting', new Uint8Array([...new Array(900).fill(0x81), 0x00]), 'refused'],
  ];
  it.each(hostile)('%s is refused with PROTOCOL and a reason, and the handler never runs', async (_name, bytes, word) => {
    const before = seen.length;
    const r = await methods.handle('chat.say', bytes, from);
    expect(r).toBeInstanceOf(DhtError);
    expect((r as DhtError).toWire()).toBe(WIRE_ERROR.PROTOCOL);
    expect((r as DhtError).message).toContain(word);
    expect((r as DhtError).message.length).toBeLessThanOrEqual(200);
    expect(seen.length).toBe(before);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('an unregistered name is refused UNKNOWN_METHOD, naming it', async () => {
    const r = await methods.handle('chat.shout', encodeCallValue({ text: 'hi' }, 'x'), from);
    expect(r).toBeInstanceOf(DhtError);
    expect((r as DhtError).toWire()).toBe(WIRE_ERROR.UNKNOWN_METHOD);
    expect((r as DhtError).message).toContain('"chat.shout"');
  });

  it('registration refuses bad names, built-in names, duplicates and missing schemas', () => {
    const ok = { args: z.unknown(), handler: () => null };
    expect(() => methods.register({ name: 'Bad', ...ok })).toThrow(/a-z/);
    expect(() => methods.register({ name: 'ping', ...ok })).toThrow(/built-in/);
    expect(() => methods.register({ name: 'chat.say', ...ok })).toThrow(/already registered/);
    expect(() => methods.register({ name: 'x', handler: () => null } as never)).toThrow(/schema/);
  });
});

describe('a protocol without room for the extension points', () => {
  it('refuses register, call and broadcast with UNSUPPORTED, naming the protocol', async () => {
    const { DhtNode } = await import('../../core/node');
    const clock = new FakeClock();
    const net = new MemoryNetwork({ clock }, { seed: 3 });
    const node = DhtNode.create({ protocol: 'mainline', transport: net.createTransport({}), clock, randomBytes: seededRandomBytes(4) });
    expect(() => node.register({ name: 'x', args: z.unknown(), handler: () => null })).toThrow(/mainline protocol, which has no room for custom RPC methods/);
    await clock.run(node.start());
    await expect(node.call('127.0.0.1:1', 'x')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(node.broadcast('hi')).rejects.toThrow(/no room for broadcast/);
    await node.stop();
  });
});
