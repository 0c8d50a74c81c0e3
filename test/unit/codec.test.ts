// Wire v1 codec: round trips of every message shape, one rejection case per decoding rule,
// size budgets, encode-side range checks, compact address forms and the signable encoding.
import { isIP } from 'node:net';
import { Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { DhtError, WIRE_ERROR } from '../../core/errors';
import { seededRandomBytes } from '../../core/id';
import { decodeMessage, encodeMessage, encodeSignable, METHOD_CODES } from '../../core/wire/codec';
import { canonicalIp, formatIPv6, ipToBytes } from '../../core/wire/compact';
import {
  MAX_DATAGRAM_BYTES,
  MAX_ERROR_MESSAGE_CHARS,
  type DropReason,
  type Message,
  type WireContact,
  type WireRecord,
} from '../../core/wire/types';

const rand = seededRandomBytes(0xc0dec);
const bytes = (n: number): Uint8Array => rand(n);
const SELF = bytes(32);
const TARGET = bytes(32);
const TOKEN = bytes(16);

/** Full-width IPv6 with no zero word, so the compressed form is the address itself. */
const FULL_V6 = '2001:db8:85a3:1:2:8a2e:370:7334';

function contact(host: string, port: number): WireContact {
  return { id: bytes(32), host, port };
}

const MUTABLE: WireRecord = { type: 'mutable', value: bytes(100), publicKey: bytes(32), salt: bytes(10), seq: 42, sig: bytes(64) };
const MUTABLE_NO_SALT: WireRecord = { ...MUTABLE, salt: new Uint8Array(0), seq: 2 ** 40 };
const IMMUTABLE: WireRecord = { type: 'immutable', value: bytes(200) };

function roundTrip(msg: Message): Message {
  const data = encodeMessage(msg);
  expect(data.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
  const r = decodeMessage(data);
  if (!r.ok) throw new Error(`decode failed: ${r.reason} ${r.detail}`);
  return r.message;
}

describe('round trips', () => {
  const requests: [string, Message][] = [
    ['PING', { kind: 'request', tid: 0, id: SELF, method: 'PING' }],
    ['FIND_NODE', { kind: 'request', tid: 0xffff_ffff, id: SELF, method: 'FIND_NODE', target: TARGET }],
    ['FIND_VALUE', { kind: 'request', tid: 1, id: SELF, method: 'FIND_VALUE', key: TARGET }],
    ['FIND_VALUE with seq', { kind: 'request', tid: 2, id: SELF, method: 'FIND_VALUE', key: TARGET, seq: 7 }],
    ['FIND_VALUE with seq 0', { kind: 'request', tid: 2, id: SELF, method: 'FIND_VALUE', key: TARGET, seq: 0 }],
    ['STORE immutable', { kind: 'request', tid: 3, id: SELF, method: 'STORE', key: TARGET, record: IMMUTABLE, token: TOKEN }],
    ['STORE mutable', { kind: 'request', tid: 4, id: SELF, method: 'STORE', key: TARGET, record: MUTABLE, token: TOKEN }],
    ['STORE mutable, cas', { kind: 'request', tid: 4, id: SELF, method: 'STORE', key: TARGET, record: MUTABLE, token: TOKEN, cas: 41 }],
    ['STORE mutable, no salt, seq > 2^32', { kind: 'request', tid: 4, id: SELF, method: 'STORE', key: TARGET, record: MUTABLE_NO_SALT, token: TOKEN }],
    ['STORE empty immutable', { kind: 'request', tid: 4, id: SELF, method: 'STORE', key: TARGET, record: { type: 'immutable', value: new Uint8Array(0) }, token: bytes(1) }],
    ['ANNOUNCE', { kind: 'request', tid: 5, id: SELF, method: 'ANNOUNCE', topic: TARGET, port: 65535, token: bytes(32) }],
    ['GET_PEERS', { kind: 'request', tid: 6, id: SELF, method: 'GET_PEERS', topic: TARGET }],
  ];
  it.each(requests)('request %s', (_name, msg) => {
    expect(roundTrip(msg)).toEqual(msg);
  });

  const observed4 = { host: '203.0.113.7', port: 4000 };
  const observed6 = { host: '::1', port: 1 };
  const responses: [string, Message][] = [
    ['bare (PING)', { kind: 'response', tid: 9, id: SELF, observed: observed4 }],
    ['IPv6 observed', { kind: 'response', tid: 9, id: SELF, observed: observed6 }],
    ['IPv4 nodes + token', { kind: 'response', tid: 9, id: SELF, observed: observed4, nodes: [contact('10.0.0.1', 1), contact('255.255.255.255', 65535)], token: TOKEN }],
    ['IPv6 nodes', { kind: 'response', tid: 9, id: SELF, observed: observed6, nodes: [contact('::1', 4001), contact(FULL_V6, 4002), contact('::ffff:127.0.0.1', 3)] }],
    ['empty nodes', { kind: 'response', tid: 9, id: SELF, observed: observed4, nodes: [] }],
    ['immutable record', { kind: 'response', tid: 9, id: SELF, observed: observed4, record: IMMUTABLE, token: TOKEN }],
    ['mutable record', { kind: 'response', tid: 9, id: SELF, observed: observed4, record: MUTABLE, nodes: [contact('10.0.0.2', 2)] }],
    ['mutable record without salt', { kind: 'response', tid: 9, id: SELF, observed: observed4, record: MUTABLE_NO_SALT }],
    ['peers', { kind: 'response', tid: 9, id: SELF, observed: observed4, peers: [{ host: '10.1.2.3', port: 6881 }, { host: '2001:db8::2', port: 6882 }], token: TOKEN }],
    ['empty peers', { kind: 'response', tid: 9, id: SELF, observed: observed4, peers: [], nodes: [] }],
  ];
  it.each(responses)('response %s', (_name, msg) => {
    expect(roundTrip(msg)).toEqual(msg);
  });

  it('error', () => {
    const msg: Message = { kind: 'error', tid: 10, id: SELF, code: WIRE_ERROR.INVALID_TOKEN, message: 'bad token' };
    expect(roundTrip(msg)).toEqual(msg);
    const long: Message = { ...msg, message: '\u{1F600}'.repeat(MAX_ERROR_MESSAGE_CHARS) }; // 200 code points, 400 UTF-16 units
    expect(roundTrip(long)).toEqual(long);
  });

  it('groups nodes by family: IPv4 first, each family in its original order', () => {
    const a = contact('10.0.0.1', 1);
    const b = contact('::1', 2);
    const c = contact('10.0.0.3', 3);
    const d = contact(FULL_V6, 4);
    const msg = roundTrip({ kind: 'response', tid: 1, id: SELF, observed: { host: '10.0.0.9', port: 9 }, nodes: [a, b, c, d] });
    expect(msg.kind === 'response' && msg.nodes).toEqual([a, c, b, d]);
  });

  it('formats hosts the way Node reports datagram sources', () => {
    const hosts: [string, string][] = [
      ['::1', '::1'],
      [FULL_V6, FULL_V6],
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
      ['::ffff:7f00:1', '::ffff:127.0.0.1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['1::', '1::'],
      ['1.2.3.4', '1.2.3.4'],
    ];
    for (const [input, expected] of hosts) {
      const msg = roundTrip({ kind: 'response', tid: 1, id: SELF, observed: { host: input, port: 7 }, peers: [{ host: input, port: 8 }] });
      expect(msg.kind === 'response' && [msg.observed?.host, msg.peers?.[0].host]).toEqual([expected, expected]);
      expect(canonicalIp(input)).toBe(expected);
    }
  });

  it('decodes byte fields as plain Uint8Array views, not Buffers or copies', () => {
    const data = encodeMessage({ kind: 'request', tid: 1, id: SELF, method: 'FIND_NODE', target: TARGET });
    const r = decodeMessage(data);
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.kind !== 'request' || r.message.method !== 'FIND_NODE') return;
    expect(Object.getPrototypeOf(r.message.target)).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf(r.message.id)).toBe(Uint8Array.prototype);
    expect(r.message.target.buffer).toBe(data.buffer);
  });

  it('leaves earlier encodings intact when encoding again (the encoder reuses one slab)', () => {
    const first = encodeMessage({ kind: 'request', tid: 1, id: SELF, method: 'PING' });
    const copy = first.slice();
    for (let i = 0; i < 200; i++) encodeMessage({ kind: 'request', tid: i, id: TARGET, method: 'FIND_NODE', target: SELF });
    expect(first).toEqual(copy);
  });
});

describe('size budget', () => {
  it('fits 20 full-width IPv6 contacts and a 32-byte token in one datagram', () => {
    const nodes = Array.from({ length: 20 }, (_, i) => contact(FULL_V6, 60000 + i));
    const msg: Message = { kind: 'response', tid: 0xffff_ffff, id: SELF, observed: { host: FULL_V6, port: 65535 }, nodes, token: bytes(32) };
    const data = encodeMessage(msg);
    expect(data.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    expect(roundTrip(msg)).toEqual(msg);
  });

  it('fits a FIND_VALUE response with a 1000-byte mutable record and a 64-byte salt', () => {
    const record: WireRecord = { type: 'mutable', value: bytes(1000), publicKey: bytes(32), salt: bytes(64), seq: Number.MAX_SAFE_INTEGER, sig: bytes(64) };
    const msg: Message = { kind: 'response', tid: 0xffff_ffff, id: SELF, observed: { host: FULL_V6, port: 65535 }, record, token: bytes(32) };
    expect(roundTrip(msg)).toEqual(msg);
    const store: Message = { kind: 'request', tid: 0xffff_ffff, id: SELF, method: 'STORE', key: TARGET, record, token: bytes(32), cas: Number.MAX_SAFE_INTEGER };
    expect(roundTrip(store)).toEqual(store);
  });

  it('throws INVALID_ARGUMENT rather than emit an oversize datagram', () => {
    const record: WireRecord = { type: 'immutable', value: bytes(1000) };
    const nodes = Array.from({ length: 20 }, (_, i) => contact(FULL_V6, 1 + i));
    const msg: Message = { kind: 'response', tid: 1, id: SELF, observed: { host: '::1', port: 1 }, record, nodes };
    expect(() => encodeMessage(msg)).toThrow(/datagram limit/);
    expect(() => encodeMessage(msg)).toThrow(DhtError);
    try {
      encodeMessage(msg);
    } catch (e) {
      expect((e as DhtError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('encode range checks', () => {
  const base = { kind: 'request', tid: 1, id: SELF } as const;
  const obs = { host: '10.0.0.1', port: 1 };
  const cases: [string, unknown, RegExp][] = [
    ['negative tid', { ...base, tid: -1, method: 'PING' }, /tid/],
    ['tid 2^32', { ...base, tid: 2 ** 32, method: 'PING' }, /tid/],
    ['fractional tid', { ...base, tid: 1.5, method: 'PING' }, /tid/],
    ['31-byte id', { ...base, id: bytes(31), method: 'PING' }, /id must be 32 bytes/],
    ['unknown method', { ...base, method: 'NOPE' }, /unknown method/],
    ['unknown kind', { ...base, kind: 'other' }, /unknown kind/],
    ['short target', { ...base, method: 'FIND_NODE', target: bytes(31) }, /target/],
    ['negative seq', { ...base, method: 'FIND_VALUE', key: TARGET, seq: -1 }, /seq/],
    ['empty token', { ...base, method: 'ANNOUNCE', topic: TARGET, port: 1, token: new Uint8Array(0) }, /token/],
    ['33-byte token', { ...base, method: 'ANNOUNCE', topic: TARGET, port: 1, token: bytes(33) }, /token/],
    ['port 0', { ...base, method: 'ANNOUNCE', topic: TARGET, port: 0, token: TOKEN }, /port/],
    ['value 1001 bytes', { ...base, method: 'STORE', key: TARGET, record: { type: 'immutable', value: bytes(1001) }, token: TOKEN }, /value/],
    ['salt 65 bytes', { ...base, method: 'STORE', key: TARGET, record: { ...MUTABLE, salt: bytes(65) }, token: TOKEN }, /salt/],
    ['unsafe seq', { ...base, method: 'STORE', key: TARGET, record: { ...MUTABLE, seq: 2 ** 53 }, token: TOKEN }, /seq/],
    ['63-byte sig', { ...base, method: 'STORE', key: TARGET, record: { ...MUTABLE, sig: bytes(63) }, token: TOKEN }, /sig/],
    ['21 nodes', { kind: 'response', tid: 1, id: SELF, observed: obs, nodes: Array.from({ length: 21 }, () => contact('10.0.0.1', 1)) }, /nodes/],
    ['host name', { kind: 'response', tid: 1, id: SELF, observed: obs, nodes: [contact('localhost', 1)] }, /nodes\[0\].*not an IPv4 or IPv6/],
    ['zone id', { kind: 'response', tid: 1, id: SELF, observed: { host: 'fe80::1%eth0', port: 1 } }, /observed/],
    ['contact port 70000', { kind: 'response', tid: 1, id: SELF, observed: obs, nodes: [contact('10.0.0.1', 70000)] }, /port/],
    ['33 peers', { kind: 'response', tid: 1, id: SELF, observed: obs, peers: Array.from({ length: 33 }, () => obs) }, /peers/],
    ['error code 65536', { kind: 'error', tid: 1, id: SELF, code: 65536, message: '' }, /code/],
    ['error message 201 chars', { kind: 'error', tid: 1, id: SELF, code: 1, message: 'x'.repeat(201) }, /message/],
  ];
  it.each(cases)('%s', (_name, msg, pattern) => {
    let thrown: unknown;
    try {
      encodeMessage(msg as Message);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DhtError);
    expect((thrown as DhtError).code).toBe('INVALID_ARGUMENT');
    expect((thrown as DhtError).message).toMatch(pattern);
  });
});

describe('decoding rejects malformed datagrams', () => {
  // An independent encoder, so that malformed maps can be written directly.
  const raw = new Encoder({ useRecords: false, mapsAsObjects: true, structuredClone: false, tagUint8Array: false, variableMapSize: true });
  const enc = (x: unknown): Uint8Array => raw.encode(x);
  const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

  const OBS = new Uint8Array([127, 0, 0, 1, 0x0f, 0xa0]);
  const REC_MUT = { v: bytes(10), k: bytes(32), s: bytes(4), q: 1, g: bytes(64) };
  const top = (extra: Record<string, unknown>): Record<string, unknown> => ({ v: 1, t: 7, y: 'q', i: SELF, m: METHOD_CODES.PING, a: {}, ...extra });
  const req = (method: keyof typeof METHOD_CODES, a: unknown): Uint8Array => enc(top({ m: METHOD_CODES[method], a }));
  const res = (r: Record<string, unknown>): Uint8Array => enc({ v: 1, t: 7, y: 'r', i: SELF, r: { o: OBS, ...r } });
  const err = (e: unknown): Uint8Array => enc({ v: 1, t: 7, y: 'e', i: SELF, e });
  const without = (o: Record<string, unknown>, key: string): Record<string, unknown> => {
    const copy = { ...o };
    delete copy[key];
    return copy;
  };
  const store = (r: unknown, extra: Record<string, unknown> = {}): Uint8Array => req('STORE', { k: TARGET, r, w: TOKEN, ...extra });
  const contacts4 = (n: number): Uint8Array => {
    const b = bytes(38 * n);
    for (let i = 0; i < n; i++) b[38 * i + 36] = 1; // non-zero port
    return b;
  };

  // [rule, datagram, reason, a word the detail must contain]
  const cases: [string, Uint8Array, DropReason, string?][] = [
    ['empty datagram', new Uint8Array(0), 'empty'],
    ['oversize datagram', new Uint8Array(MAX_DATAGRAM_BYTES + 1), 'oversize', '1401'],
    ['not CBOR (reserved byte)', hex('ff'), 'not-cbor'],
    ['truncated CBOR', enc(top({})).subarray(0, 20), 'not-cbor'],
    ['trailing bytes after the map', new Uint8Array([...enc(top({})), 0x00]), 'not-cbor'],
    ['indefinite byte string', hex('5f 41 00 ff'), 'not-cbor'],
    ['top level array', enc([1, 2, 3]), 'not-a-map', 'array'],
    ['top level integer', enc(5), 'not-a-map'],
    ['top level byte string', enc(bytes(10)), 'not-a-map'],
    ['top level Map (tag 259)', hex('d9 0103 a1 6176 01'), 'not-a-map', 'Map'],
    ['top level unknown tag', hex('d9 1234 a1 6176 01'), 'not-a-map', 'Tag'],
    ['top level Date (tag 1)', hex('c1 1a 5f000000'), 'not-a-map'],
    ['missing version', enc(without(top({}), 'v')), 'bad-version', 'v'],
    ['version 2', enc(top({ v: 2 })), 'bad-version', 'v'],
    ['version as a string', enc(top({ v: '1' })), 'bad-version'],
    ['missing kind', enc(without(top({}), 'y')), 'bad-kind', 'y'],
    ['unknown kind', enc(top({ y: 'x' })), 'bad-kind', 'y'],
    ['kind as a number', enc(top({ y: 1 })), 'bad-kind'],
    ['missing tid', enc(without(top({}), 't')), 'bad-header', 'tid'],
    ['negative tid', enc(top({ t: -1 })), 'bad-header', 'tid'],
    ['tid 2^32', enc(top({ t: 2 ** 32 })), 'bad-header', 'tid'],
    ['tid uint64', enc(top({ t: 2n ** 60n })), 'bad-header', 'tid'],
    ['fractional tid', enc(top({ t: 1.5 })), 'bad-header', 'tid'],
    ['NaN tid', enc(top({ t: NaN })), 'bad-header', 'tid'],
    ['tid as a string', enc(top({ t: '7' })), 'bad-header', 'tid'],
    ['tid bignum (tag 2)', hex('a6 6176 01 6174 c2 41 07 6179 6171 6169 5820' + '00'.repeat(32) + '616d 00 6161 a0'), 'bad-header', 'tid'],
    ['31-byte sender id', enc(top({ i: bytes(31) })), 'bad-header', 'sender id'],
    ['sender id as a string', enc(top({ i: 'x'.repeat(32) })), 'bad-header', 'sender id'],
    ['sender id as a Uint16Array (tag 69)', enc(top({ i: new Uint16Array(16) })), 'bad-header', 'sender id'],
    ['unknown top-level key', enc(top({ z: 1 })), 'bad-header', '"z"'],
    ['undefined-valued top-level key', enc(top({ z: undefined })), 'bad-header', '"z"'],
    ['__proto__ key', hex('a7 6176 01 6174 07 6179 6171 6169 5820' + '00'.repeat(32) + '616d 00 6161 a0 69 5f5f70726f746f5f5f a0'), 'bad-header'],
    ['request key on a response', enc({ v: 1, t: 7, y: 'r', i: SELF, r: { o: OBS }, m: 0 }), 'bad-header', '"m"'],
    ['method 8', enc(top({ m: 8 })), 'unknown-method', 'm'],
    ['method -1', enc(top({ m: -1 })), 'unknown-method'],
    ['method by name', enc(top({ m: 'PING' })), 'unknown-method'],
    ['missing method', enc(without(top({}), 'm')), 'unknown-method'],
    ['missing args', enc(without(top({}), 'a')), 'bad-args', 'args'],
    ['args as an array', enc(top({ a: [] })), 'bad-args', 'args'],
    ['PING with an argument', req('PING', { t: TARGET }), 'bad-args', '"t"'],
    ['FIND_NODE 31-byte target', req('FIND_NODE', { t: bytes(31) }), 'bad-args', 'target'],
    ['FIND_NODE missing target', req('FIND_NODE', {}), 'bad-args', 'target'],
    ['FIND_NODE unknown key', req('FIND_NODE', { t: TARGET, x: 1 }), 'bad-args', '"x"'],
    ['FIND_VALUE 33-byte key', req('FIND_VALUE', { k: bytes(33) }), 'bad-args', 'key'],
    ['FIND_VALUE negative seq', req('FIND_VALUE', { k: TARGET, q: -1 }), 'bad-args', 'seq'],
    ['FIND_VALUE fractional seq', req('FIND_VALUE', { k: TARGET, q: 0.5 }), 'bad-args', 'seq'],
    ['FIND_VALUE seq beyond 2^53', req('FIND_VALUE', { k: TARGET, q: 2n ** 53n + 2n }), 'bad-args', 'seq'],
    ['GET_PEERS missing topic', req('GET_PEERS', {}), 'bad-args', 'topic'],
    ['ANNOUNCE port 0', req('ANNOUNCE', { t: TARGET, p: 0, w: TOKEN }), 'bad-args', 'port'],
    ['ANNOUNCE port 65536', req('ANNOUNCE', { t: TARGET, p: 65536, w: TOKEN }), 'bad-args', 'port'],
    ['ANNOUNCE port as a string', req('ANNOUNCE', { t: TARGET, p: '80', w: TOKEN }), 'bad-args', 'port'],
    ['ANNOUNCE missing token', req('ANNOUNCE', { t: TARGET, p: 80 }), 'bad-args', 'token'],
    ['STORE empty token', store({ v: bytes(1) }, { w: new Uint8Array(0) }), 'bad-args', 'token'],
    ['STORE 33-byte token', store({ v: bytes(1) }, { w: bytes(33) }), 'bad-args', 'token'],
    ['STORE negative cas', store({ v: bytes(1) }, { c: -1 }), 'bad-args', 'cas'],
    ['STORE record not a map', store([bytes(1)]), 'bad-args', 'record'],
    ['STORE missing record', req('STORE', { k: TARGET, w: TOKEN }), 'bad-args', 'record'],
    ['immutable value 1001 bytes', store({ v: bytes(1001) }), 'bad-args', 'value'],
    ['immutable value as a string', store({ v: 'hello' }), 'bad-args', 'value'],
    ['immutable record with an extra key', store({ v: bytes(1), q: 1 }), 'bad-args', '"q"'],
    ['mutable value 1001 bytes', store({ ...REC_MUT, v: bytes(1001) }), 'bad-args', 'value'],
    ['mutable 31-byte public key', store({ ...REC_MUT, k: bytes(31) }), 'bad-args', 'publicKey'],
    ['mutable 63-byte sig', store({ ...REC_MUT, g: bytes(63) }), 'bad-args', 'sig'],
    ['mutable missing sig', store(without(REC_MUT, 'g')), 'bad-args', 'sig'],
    ['mutable 65-byte salt', store({ ...REC_MUT, s: bytes(65) }), 'bad-args', 'salt'],
    ['mutable missing seq', store(without(REC_MUT, 'q')), 'bad-args', 'seq'],
    ['mutable negative seq', store({ ...REC_MUT, q: -5 }), 'bad-args', 'seq'],
    ['mutable record with an extra key', store({ ...REC_MUT, x: 0 }), 'bad-args', '"x"'],
    ['missing response body', enc({ v: 1, t: 7, y: 'r', i: SELF }), 'bad-response', 'r'],
    ['response body as bytes', enc({ v: 1, t: 7, y: 'r', i: SELF, r: bytes(6) }), 'bad-response', 'r'],
    ['missing observed', enc({ v: 1, t: 7, y: 'r', i: SELF, r: {} }), 'bad-response', 'observed'],
    ['observed of 5 bytes', res({ o: bytes(5) }), 'bad-response', 'observed'],
    ['observed with port 0', res({ o: new Uint8Array([127, 0, 0, 1, 0, 0]) }), 'bad-response', 'port 0'],
    ['IPv4 nodes of 37 bytes', res({ n4: contacts4(1).subarray(0, 37) }), 'bad-response', 'n4'],
    ['IPv6 nodes of 51 bytes', res({ n6: new Uint8Array(51).fill(1) }), 'bad-response', 'n6'],
    ['IPv4 nodes with port 0', res({ n4: new Uint8Array(38) }), 'bad-response', 'port 0'],
    ['21 IPv4 nodes', res({ n4: contacts4(21) }), 'bad-response', 'more than 20'],
    ['11 + 10 nodes across families', res({ n4: contacts4(11), n6: new Uint8Array(500).fill(1) }), 'bad-response', 'more than 20'],
    ['nodes as an array', res({ n4: [contacts4(1)] }), 'bad-response', 'n4'],
    ['33 IPv4 peers', res({ p4: new Uint8Array(6 * 33).fill(1) }), 'bad-response', 'more than 32'],
    ['IPv6 peers of 17 bytes', res({ p6: new Uint8Array(17).fill(1) }), 'bad-response', 'p6'],
    ['empty response token', res({ w: new Uint8Array(0) }), 'bad-response', 'token'],
    ['33-byte response token', res({ w: bytes(33) }), 'bad-response', 'token'],
    ['bad record in a response', res({ r: { ...REC_MUT, g: 1 } }), 'bad-response', 'sig'],
    ['unknown response key', res({ n: contacts4(1) }), 'bad-response', '"n"'],
    ['missing error body', enc({ v: 1, t: 7, y: 'e', i: SELF }), 'bad-error', 'e'],
    ['error as a map', err({ c: 1, m: 'x' }), 'bad-error', 'e'],
    ['error with three items', err([1, 'x', 2]), 'bad-error', 'e'],
    ['negative error code', err([-1, 'x']), 'bad-error', 'code'],
    ['error code 65536', err([65536, 'x']), 'bad-error', 'code'],
    ['error code as a string', err(['2', 'x']), 'bad-error', 'code'],
    ['error message as bytes', err([2, bytes(3)]), 'bad-error', 'message'],
    ['error message of 201 characters', err([2, 'x'.repeat(201)]), 'bad-error', 'message'],
  ];

  it.each(cases)('%s -> %s', (_rule, data, reason, detailWord) => {
    expect(data.length).toBeLessThanOrEqual(reason === 'oversize' ? Infinity : MAX_DATAGRAM_BYTES);
    const r = decodeMessage(data);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(reason);
    if (detailWord !== undefined) expect(r.detail).toContain(detailWord);
  });

  it('each base shape used above is itself valid', () => {
    for (const data of [enc(top({})), req('FIND_NODE', { t: TARGET }), store(REC_MUT), store({ v: bytes(1) }), res({}), res({ n4: contacts4(20) }), err([1, 'x'])]) {
      expect(decodeMessage(data).ok).toBe(true);
    }
  });

  it('tolerates an integral float where an integer is expected, and an explicitly empty salt', () => {
    expect(decodeMessage(enc(top({ t: 7.0 }))).ok).toBe(true);
    const r = decodeMessage(store({ ...REC_MUT, s: new Uint8Array(0) }));
    expect(r.ok && r.message.kind === 'request' && r.message.method === 'STORE' && r.message.record.type === 'mutable' && r.message.record.salt.length).toBe(0);
  });

  it('never throws for inputs of the wrong type', () => {
    for (const x of [undefined, null, 'abc', 5, [1, 2], new ArrayBuffer(4), { length: 3 }]) {
      const r = decodeMessage(x as unknown as Uint8Array);
      expect(r.ok).toBe(false);
    }
  });

  it('keeps no state between datagrams (record definitions, Map mode)', () => {
    // tag 105 defines a cbor-x record structure; tag 259 switches the decoder to Map mode for one item
    expect(decodeMessage(hex('d8 69 83 19e000 82 6176 6174 01')).ok).toBe(false);
    expect(decodeMessage(hex('d9 0103 a0')).ok).toBe(false);
    expect(decodeMessage(enc(top({}))).ok).toBe(true);
    expect(decodeMessage(hex('d9 e000 82 01 07')).ok).toBe(false); // a reference to the structure above
  });
});

describe('compact addresses', () => {
  it('parses and formats like node:net', () => {
    expect(ipToBytes('::1')).toEqual(new Uint8Array([...new Array(15).fill(0), 1]));
    expect(formatIPv6(ipToBytes(FULL_V6) as Uint8Array)).toBe(FULL_V6);
    expect(ipToBytes('1.2.3.4')).toEqual(new Uint8Array([1, 2, 3, 4]));
    for (const good of ['::', '::1', '1::', '1::2', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', 'ABCD::ef', '0.0.0.0']) {
      expect([good, isIP(good) !== 0, ipToBytes(good) !== null]).toEqual([good, true, true]);
    }
    for (const bad of ['', ':', ':::', '1:::2', '1::2::3', ':1::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '1:2:3:4:5:6:7', '12345::', 'g::', '::1.2.3', '1.2.3.4::', '01.2.3.4', '1.2.3.256', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', 'localhost', '1:2:3:4:5:6:7:1.2.3.4', '::ffff:1.2.3.04']) {
      expect([bad, isIP(bad), ipToBytes(bad)]).toEqual([bad, 0, null]);
    }
    expect(ipToBytes('fe80::1%eth0')).toBeNull(); // node accepts zone ids; the wire cannot carry them
  });
});

describe('encodeSignable', () => {
  it('is a length-prefixed, domain-separated concatenation', () => {
    const out = encodeSignable(new Uint8Array([0xaa, 0xbb]), 0x0102030405, new Uint8Array([1, 2, 3]));
    expect(Buffer.from(out).toString('hex')).toBe(
      Buffer.from('kadscope/v1/mutable').toString('hex') + '02' + 'aabb' + '0000000102030405' + '0003' + '010203',
    );
  });

  it('separates fields unambiguously', () => {
    const a = encodeSignable(new Uint8Array([1]), 1, new Uint8Array([2]));
    const b = encodeSignable(new Uint8Array([]), 1, new Uint8Array([1, 2]));
    const c = encodeSignable(new Uint8Array([1]), 2, new Uint8Array([2]));
    expect(new Set([a, b, c].map((x) => Buffer.from(x).toString('hex'))).size).toBe(3);
  });

  it('refuses out-of-range input', () => {
    expect(() => encodeSignable(bytes(65), 1, bytes(1))).toThrow(/salt/);
    expect(() => encodeSignable(bytes(1), -1, bytes(1))).toThrow(/seq/);
    expect(() => encodeSignable(bytes(1), 2 ** 53, bytes(1))).toThrow(/seq/);
    expect(() => encodeSignable(bytes(1), 1, bytes(1001))).toThrow(/value/);
  });
});
