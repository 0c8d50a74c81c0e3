// Wire v2: named records (a record map `{ v, n }`, key = SHA-256(name)). A message is v2 exactly
// when it carries one; v1 stays as it was (a v1 record map with `n` is still an unknown key, and
// a v2 message without a named record is bad-version), so v1 nodes keep reading everything else.
import { Decoder, Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { seededRandomBytes } from '../../core/id';
import { namedKey } from '../../core/records/signing';
import { validateRecord } from '../../core/records/validate';
import { decodeCanonical, decodeMessage, encodeMessage } from '../../core/wire/codec';
import { MAX_NAME_BYTES, WIRE_VERSION, WIRE_VERSION_NAMED, type Message, type WireRecord } from '../../core/wire/types';

const rand = seededRandomBytes(0x2a3ed);
const SELF = rand(32);
const TOKEN = rand(16);
const NAMED: WireRecord = { type: 'named', name: 'chat/room-1 ☕', value: new TextEncoder().encode('hello') };
const KEY = namedKey('chat/room-1 ☕');

const raw = new Decoder({ mapsAsObjects: true, useRecords: false });
const enc = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });
const versionOf = (data: Uint8Array): unknown => (raw.decode(data) as { v: unknown }).v;

const store = (record: WireRecord): Message => ({ kind: 'request', tid: 7, id: SELF, method: 'STORE', key: KEY, record, token: TOKEN });
const answer = (record: WireRecord): Message => ({ kind: 'response', tid: 8, id: SELF, observed: { host: '127.0.0.1', port: 4000 }, record, token: TOKEN });

describe('wire v2: named records', () => {
  it('a STORE and a FIND_VALUE answer with a named record round-trip, written as v2', () => {
    for (const msg of [store(NAMED), answer(NAMED)]) {
      const data = encodeMessage(msg);
      expect(versionOf(data)).toBe(WIRE_VERSION_NAMED);
      const r = decodeMessage(data);
      expect(r).toEqual({ ok: true, message: msg });
      // The fast path takes v1 only; the generic decoder reads v2.
      expect(decodeCanonical(data)).toBeNull();
    }
  });

  it('every other message is still v1, byte for byte what a v1 node reads', () => {
    const immutable: WireRecord = { type: 'immutable', value: rand(10) };
    for (const msg of [store(immutable), answer(immutable), { kind: 'request', tid: 1, id: SELF, method: 'PING' } as Message]) {
      const data = encodeMessage(msg);
      expect(versionOf(data)).toBe(WIRE_VERSION);
      expect(decodeCanonical(data)).toEqual(msg);
    }
  });

  it('v1 with a named record map is refused as v1 always did; v2 without one is bad-version', () => {
    const v1Named = enc.encode({ v: 1, t: 7, y: 'q', i: SELF, m: 3, a: { k: KEY, r: { v: NAMED.value, n: 'x' }, w: TOKEN } });
    expect(decodeMessage(v1Named)).toMatchObject({ ok: false, reason: 'bad-args', detail: expect.stringContaining('"n"') });
    const v2Ping = enc.encode({ v: 2, t: 7, y: 'q', i: SELF, m: 0, a: {} });
    expect(decodeMessage(v2Ping)).toMatchObject({ ok: false, reason: 'bad-version', detail: expect.stringContaining('named record') });
    const v2Immutable = enc.encode({ v: 2, t: 7, y: 'q', i: SELF, m: 3, a: { k: KEY, r: { v: NAMED.value }, w: TOKEN } });
    expect(decodeMessage(v2Immutable)).toMatchObject({ ok: false, reason: 'bad-version' });
    expect(decodeMessage(enc.encode({ v: 3, t: 7, y: 'q', i: SELF, m: 0, a: {} }))).toMatchObject({ ok: false, reason: 'bad-version' });
  });

  it('refuses a bad name on either side: empty, too long, not text, extra keys', () => {
    const bad: [unknown, string][] = [
      ['', 'empty'],
      ['é'.repeat(65), `${MAX_NAME_BYTES} bytes`],
      [new Uint8Array([1, 2]), 'expected text'],
      [7, 'expected text'],
    ];
    for (const [n, word] of bad) {
      const data = enc.encode({ v: 2, t: 7, y: 'q', i: SELF, m: 3, a: { k: KEY, r: { v: NAMED.value, n }, w: TOKEN } });
      expect(decodeMessage(data)).toMatchObject({ ok: false, reason: 'bad-args', detail: expect.stringContaining(word) });
    }
    const extra = enc.encode({ v: 2, t: 7, y: 'r', i: SELF, r: { o: new Uint8Array([127, 0, 0, 1, 0x0f, 0xa0]), r: { v: NAMED.value, n: 'x', q: 1 } } });
    expect(decodeMessage(extra)).toMatchObject({ ok: false, reason: 'bad-response', detail: expect.stringContaining('"q"') });
    // Exactly 128 bytes is a name; the encoder refuses what the decoder would.
    expect(decodeMessage(encodeMessage(store({ ...NAMED, name: 'a'.repeat(MAX_NAME_BYTES) })))).toMatchObject({ ok: true });
    for (const name of ['', 'a'.repeat(MAX_NAME_BYTES + 1), 'lone \ud800 surrogate']) {
      expect(() => encodeMessage(store({ ...NAMED, name }))).toThrow(/name/);
    }
  });

  it('a named record is valid only at SHA-256(name), whatever its value', () => {
    expect(validateRecord(KEY, NAMED)).toBeNull();
    expect(validateRecord(KEY, { ...NAMED, value: rand(1000) })).toBeNull();
    expect(validateRecord(namedKey('other'), NAMED)).toMatchObject({ code: 'HASH_MISMATCH', message: 'the key is not SHA-256(name)' });
  });
});
