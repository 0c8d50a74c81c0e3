// The hand-written wire v1 codec paths (core/wire/cbor-io.ts) against cbor-x, with fixed seeds:
// the encoder writes exactly the bytes cbor-x wrote for the same message, and the canonical
// decoding fast path agrees with the generic (cbor-x) decoder on every input, valid or corrupted,
// while actually taking every message our encoder writes except errors.
import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DhtError } from '../../core/errors';
import { decodeCanonical, decodeGeneric, decodeMessage, encodeMessage, KIND_CODES, METHOD_CODES } from '../../core/wire/codec';
import { encodeContacts, encodePeer, encodePeers, formatIPv4, formatIPv6 } from '../../core/wire/compact';
import type { Message, WireContact, WirePeer, WireRecord } from '../../core/wire/types';

const SEED = 7;

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });
const id32 = bytes(32, 32);
const host = fc.oneof(bytes(4, 4).map((b) => formatIPv4(b)), bytes(16, 16).map((b) => formatIPv6(b)));
const port = fc.integer({ min: 1, max: 65535 });
const peer: fc.Arbitrary<WirePeer> = fc.record({ host, port });
const contact: fc.Arbitrary<WireContact> = fc.record({ id: id32, host, port });
// Integers on both sides of every head size, up to 2^53 - 1.
const seq = fc.oneof(fc.nat({ max: 30 }), fc.integer({ min: 0xff, max: 0x1_0001 }), fc.integer({ min: 2 ** 32 - 2, max: 2 ** 32 + 2 }), fc.maxSafeNat());
const token = bytes(1, 32);
const tid = fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: 0xffff_ffff }));
const value = fc.oneof(bytes(0, 30), bytes(0, 1000));
const record: fc.Arbitrary<WireRecord> = fc.oneof(
  fc.record({ type: fc.constant('immutable' as const), value }),
  fc.record({ type: fc.constant('mutable' as const), value, publicKey: id32, salt: bytes(0, 64), seq, sig: bytes(64, 64) }),
);
const wellFormed = (s: string): boolean => Buffer.from(s, 'utf8').toString('utf8') === s;
const request: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('PING' as const) }),
  fc.record({ kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('FIND_NODE' as const), target: id32 }),
  fc.record({ kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('FIND_VALUE' as const), key: id32, seq }, { requiredKeys: ['kind', 'tid', 'id', 'method', 'key'] }),
  fc.record(
    { kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('STORE' as const), key: id32, record, token, cas: seq },
    { requiredKeys: ['kind', 'tid', 'id', 'method', 'key', 'record', 'token'] },
  ),
  fc.record({ kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('ANNOUNCE' as const), topic: id32, port, token }),
  fc.record({ kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('GET_PEERS' as const), topic: id32 }),
);
const response: fc.Arbitrary<Message> = fc.record(
  {
    kind: fc.constant('response' as const),
    tid,
    id: id32,
    observed: peer,
    nodes: fc.array(contact, { maxLength: 20 }),
    token,
    record,
    peers: fc.array(peer, { maxLength: 32 }),
  },
  { requiredKeys: ['kind', 'tid', 'id', 'observed'] },
);
const error: fc.Arbitrary<Message> = fc.record({
  kind: fc.constant('error' as const),
  tid,
  id: id32,
  code: fc.integer({ min: 0, max: 0xffff }),
  message: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200, unit: 'binary' }).filter(wellFormed)),
});
const message = fc.oneof(request, response, error);

// ---- the reference: the wire map of a message, encoded by cbor-x as the codec used to ----

const cborx = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  tagUint8Array: false,
  variableMapSize: true,
  pack: false,
  bundleStrings: false,
  useSelfDescribedHeader: false,
});

type WireMap = Record<string, unknown>;
const uint = (n: number): number | bigint => (n > 0xffff_ffff ? BigInt(n) : n);

function recordMap(r: WireRecord): WireMap {
  if (r.type === 'immutable') return { v: r.value };
  if (r.type === 'named') return { v: r.value, n: r.name }; // wire v2; the generated messages here are v1
  const out: WireMap = { v: r.value, k: r.publicKey };
  if (r.salt.length > 0) out.s = r.salt;
  out.q = uint(r.seq);
  out.g = r.sig;
  return out;
}

function lists(body: WireMap, l: { v4: Uint8Array; v6: Uint8Array }, key4: string, key6: string): void {
  if (l.v4.length > 0 || l.v6.length === 0) body[key4] = l.v4;
  if (l.v6.length > 0) body[key6] = l.v6;
}

function referenceEncode(msg: Message): Uint8Array {
  const wire: WireMap = { v: 1, t: msg.tid, y: KIND_CODES[msg.kind], i: msg.id };
  if (msg.kind === 'request') {
    wire.m = METHOD_CODES[msg.method];
    const a: WireMap = {};
    if (msg.method === 'FIND_NODE') a.t = msg.target;
    if (msg.method === 'GET_PEERS') a.t = msg.topic;
    if (msg.method === 'FIND_VALUE') {
      a.k = msg.key;
      if (msg.seq !== undefined) a.q = uint(msg.seq);
    }
    if (msg.method === 'STORE') {
      Object.assign(a, { k: msg.key, r: recordMap(msg.record), w: msg.token });
      if (msg.cas !== undefined) a.c = uint(msg.cas);
    }
    if (msg.method === 'ANNOUNCE') Object.assign(a, { t: msg.topic, p: msg.port, w: msg.token });
    wire.a = a;
  } else if (msg.kind === 'response') {
    const body: WireMap = { o: encodePeer(msg.observed!) };
    if (msg.nodes !== undefined) lists(body, encodeContacts(msg.nodes), 'n4', 'n6');
    if (msg.token !== undefined) body.w = msg.token;
    if (msg.record !== undefined) body.r = recordMap(msg.record);
    if (msg.peers !== undefined) lists(body, encodePeers(msg.peers), 'p4', 'p6');
    wire.r = body;
  } else {
    wire.e = [msg.code, msg.message];
  }
  return cborx.encode(wire);
}

function tryEncode(msg: Message): Uint8Array | undefined {
  try {
    return encodeMessage(msg);
  } catch (e) {
    if (e instanceof DhtError && /datagram limit/.test(e.message)) return undefined;
    throw e;
  }
}

describe('encodeMessage', () => {
  it('writes exactly the bytes cbor-x wrote for the same message', () => {
    fc.assert(
      fc.property(message, (msg) => {
        const data = tryEncode(msg);
        fc.pre(data !== undefined);
        expect(Buffer.from(data).toString('hex')).toBe(Buffer.from(referenceEncode(msg)).toString('hex'));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('hands out views that later encodes never overwrite', () => {
    const first = encodeMessage({ kind: 'request', tid: 1, id: new Uint8Array(32).fill(1), method: 'PING' });
    const copy = first.slice();
    // Enough messages to move through several slabs.
    for (let i = 0; i < 200; i++) encodeMessage({ kind: 'request', tid: i, id: new Uint8Array(32).fill(i), method: 'FIND_NODE', target: new Uint8Array(32) });
    expect(first).toEqual(copy);
  });

  it('leaves no half-written message behind when it throws', () => {
    const ok = encodeMessage({ kind: 'request', tid: 5, id: new Uint8Array(32), method: 'PING' });
    const copy = ok.slice();
    const bad: Message = { kind: 'response', tid: 1, id: new Uint8Array(32), observed: { host: '10.0.0.1', port: 1 }, nodes: [{ id: new Uint8Array(32), host: 'nope', port: 1 }] };
    expect(() => encodeMessage(bad)).toThrow(/nodes\[0\]/);
    const next = encodeMessage({ kind: 'request', tid: 6, id: new Uint8Array(32), method: 'PING' });
    expect(ok).toEqual(copy);
    expect(decodeMessage(next)).toMatchObject({ ok: true, message: { tid: 6 } });
  });
});

describe('the canonical decoding fast path', () => {
  const encoded = message.map(tryEncode).filter((d): d is Uint8Array => d !== undefined);

  it('takes every request and response our encoder writes, with the generic result', () => {
    fc.assert(
      fc.property(message, (msg) => {
        const data = tryEncode(msg);
        fc.pre(data !== undefined);
        const fast = decodeCanonical(data);
        if (msg.kind === 'error') expect(fast).toBeNull();
        else expect(fast).not.toBeNull();
        const generic = decodeGeneric(data);
        expect(generic.ok).toBe(true);
        if (fast && generic.ok) expect(fast).toEqual(generic.message);
      }),
      { seed: SEED, numRuns: 800 },
    );
  });

  it('agrees with the generic decoder on corrupted datagrams', () => {
    const edit = fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(encoded, fc.array(edit, { minLength: 1, maxLength: 3 }), (data, edits) => {
        let b = Array.from(data);
        for (const e of edits) {
          if (b.length === 0) break;
          const at = e.at % b.length;
          if (e.op === 'set') b[at] = e.value;
          else if (e.op === 'insert') b.splice(at, 0, e.value);
          else if (e.op === 'delete') b.splice(at, 1);
          else b = b.slice(0, at);
        }
        const d = new Uint8Array(b);
        expect(decodeMessage(d)).toEqual(decodeGeneric(d));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('leaves other valid forms to the generic decoder, and reads longer heads itself', () => {
    const id = new Uint8Array(32).fill(3);
    const target = new Uint8Array(32).fill(4);
    // Keys out of our order; a sender id tagged 64 (a typed array): both valid wire v1.
    const reordered = cborx.encode({ t: 9, v: 1, y: 'q', i: id, m: 1, a: { t: target } });
    const ping = Buffer.from(referenceEncode({ kind: 'request', tid: 9, id, method: 'PING' }));
    const idAt = ping.indexOf(Buffer.from([0x61, 0x69, 0x58, 0x20])); // "i": bytes(32)
    const tagged = Buffer.concat([ping.subarray(0, idAt + 2), Buffer.from([0xd8, 0x40]), ping.subarray(idAt + 2)]);
    for (const d of [reordered, tagged]) {
      expect(decodeCanonical(d)).toBeNull();
      expect(decodeMessage(d).ok).toBe(true);
      expect(decodeMessage(d)).toEqual(decodeGeneric(d));
    }
    // A tid in a 4-byte head though it fits in one: the same message either way.
    const tidAt = ping.indexOf(Buffer.from([0x61, 0x74, 0x09])); // "t": 9
    const padded = Buffer.concat([ping.subarray(0, tidAt + 2), Buffer.from([0x1a, 0, 0, 0, 9]), ping.subarray(tidAt + 3)]);
    expect(decodeCanonical(padded)).not.toBeNull();
    expect(decodeMessage(padded)).toEqual(decodeGeneric(padded));
  });
});

describe('byte strings read from a small datagram', () => {
  it('are plain copies of the bytes (a PING and its answer fit in 64 bytes), so the datagram can be reused', () => {
    const id = new Uint8Array(32).fill(5);
    const ping = new Uint8Array(encodeMessage({ kind: 'request', tid: 77, id, method: 'PING' }));
    const answer = new Uint8Array(encodeMessage({ kind: 'response', tid: 77, id, observed: { host: '127.0.0.1', port: 4000 } }));
    expect(ping.length).toBeLessThanOrEqual(64);
    expect(answer.length).toBeLessThanOrEqual(64);
    for (const datagram of [ping, answer]) {
      const m = decodeCanonical(datagram);
      expect(m).not.toBeNull();
      expect(Object.getPrototypeOf(m!.id)).toBe(Uint8Array.prototype);
      expect(m!.id.buffer).not.toBe(datagram.buffer);
      datagram.fill(0);
      expect(m!.id).toEqual(id);
    }
  });
});
