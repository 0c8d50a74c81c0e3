// Wire v3: local addresses. An ANNOUNCE may carry the announcer's private IPv4 hosts (`l`), a
// GET_PEERS answer a peer's (`pl`: peer index, host). A message is v3 exactly when it carries them;
// the keys are unknown in v1 and v2, and a v3 message without them is bad-version. Hostile lists
// (too many, public or malformed hosts, duplicates, indexes past the peers) are refused.
import { Decoder, Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { seededRandomBytes } from '../../core/id';
import { decodeCanonical, decodeMessage, encodeMessage } from '../../core/wire/codec';
import { MAX_PEER_LOCALS_PER_RESPONSE, WIRE_VERSION, WIRE_VERSION_LOCAL, type Message, type WirePeer } from '../../core/wire/types';

const rand = seededRandomBytes(0x10ca1);
const SELF = rand(32);
const TOPIC = rand(32);
const TOKEN = rand(16);

const raw = new Decoder({ mapsAsObjects: true, useRecords: false });
const enc = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });
const versionOf = (data: Uint8Array): unknown => (raw.decode(data) as { v: unknown }).v;

const announce = (locals?: string[]): Message => ({ kind: 'request', tid: 7, id: SELF, method: 'ANNOUNCE', topic: TOPIC, port: 4000, token: TOKEN, ...(locals ? { locals } : {}) });
const answer = (peers: WirePeer[]): Message => ({ kind: 'response', tid: 8, id: SELF, observed: { host: '203.0.113.7', port: 40002 }, token: TOKEN, peers });
const ip4 = (...o: number[]) => new Uint8Array(o);
const bytes = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};
/** A raw announce map with `l` as given, at version v. */
const rawAnnounce = (l: unknown, v = WIRE_VERSION_LOCAL) => enc.encode({ v, t: 7, y: 'q', i: SELF, m: 4, a: { t: TOPIC, p: 4000, w: TOKEN, l } });
/** A raw GET_PEERS answer with one IPv4 peer (203.0.113.7:4000) and `pl` as given. */
const rawAnswer = (pl: unknown, v = WIRE_VERSION_LOCAL) => enc.encode({ v, t: 8, y: 'r', i: SELF, r: { o: bytes(ip4(203, 0, 113, 7), ip4(0x9c, 0x42)), p4: bytes(ip4(203, 0, 113, 7), ip4(0x0f, 0xa0)), pl } });
const entry = (index: number, ...host: number[]) => ip4(index, ...host);

describe('wire v3: local addresses', () => {
  it('an ANNOUNCE with local hosts and an answer with a peer\'s round-trip, written as v3', () => {
    const msgs = [
      announce(['192.168.1.9', '10.8.0.2', '127.0.0.1']),
      answer([{ host: '198.51.100.1', port: 1 }, { host: '203.0.113.7', port: 4000, locals: ['192.168.1.9', '172.16.0.3'] }]),
    ];
    for (const msg of msgs) {
      const data = encodeMessage(msg);
      expect(versionOf(data)).toBe(WIRE_VERSION_LOCAL);
      expect(decodeMessage(data)).toEqual({ ok: true, message: msg });
      expect(decodeCanonical(data)).toBeNull();
    }
  });

  it('without local hosts both are v1, byte for byte what older nodes read', () => {
    for (const msg of [announce(), answer([{ host: '203.0.113.7', port: 4000 }])]) {
      const data = encodeMessage(msg);
      expect(versionOf(data)).toBe(WIRE_VERSION);
      expect(decodeCanonical(data)).toEqual(msg);
    }
  });

  it('the keys are unknown in v1 and v2, and v3 without them is bad-version', () => {
    expect(decodeMessage(rawAnnounce(ip4(192, 168, 1, 9), 1))).toMatchObject({ ok: false, reason: 'bad-args', detail: expect.stringContaining('"l"') });
    expect(decodeMessage(rawAnnounce(ip4(192, 168, 1, 9), 2))).toMatchObject({ ok: false, reason: 'bad-args' });
    expect(decodeMessage(rawAnswer(entry(0, 192, 168, 1, 9), 1))).toMatchObject({ ok: false, reason: 'bad-response', detail: expect.stringContaining('"pl"') });
    expect(decodeMessage(enc.encode({ v: 3, t: 7, y: 'q', i: SELF, m: 4, a: { t: TOPIC, p: 4000, w: TOKEN } }))).toMatchObject({ ok: false, reason: 'bad-version', detail: expect.stringContaining('local addresses') });
  });

  it('hostile or oversized local lists are refused', () => {
    const refused: Array<[string, Uint8Array, string]> = [
      ['five hosts', rawAnnounce(bytes(...[1, 2, 3, 4, 5].map((i) => ip4(10, 0, 0, i)))), 'bad-args'],
      ['a public host', rawAnnounce(ip4(8, 8, 8, 8)), 'bad-args'],
      ['a host twice', rawAnnounce(bytes(ip4(10, 0, 0, 1), ip4(10, 0, 0, 1))), 'bad-args'],
      ['not a multiple of 4', rawAnnounce(ip4(10, 0, 0, 1, 9)), 'bad-args'],
      ['empty', rawAnnounce(new Uint8Array(0)), 'bad-args'],
      ['text', rawAnnounce('192.168.1.9'), 'bad-args'],
      ['pl: a peer that is not there', rawAnswer(entry(1, 192, 168, 1, 9)), 'bad-response'],
      ['pl: a public host', rawAnswer(entry(0, 1, 1, 1, 1)), 'bad-response'],
      ['pl: a host twice', rawAnswer(bytes(entry(0, 10, 0, 0, 1), entry(0, 10, 0, 0, 1))), 'bad-response'],
      ['pl: five for one peer', rawAnswer(bytes(...[1, 2, 3, 4, 5].map((i) => entry(0, 10, 0, 0, i)))), 'bad-response'],
      ['pl: too many entries', rawAnswer(bytes(...Array.from({ length: MAX_PEER_LOCALS_PER_RESPONSE + 1 }, (_, i) => entry(0, 10, 0, 1, i)))), 'bad-response'],
      ['pl: a torn entry', rawAnswer(ip4(0, 10, 0, 0)), 'bad-response'],
      ['pl: without peers', enc.encode({ v: 3, t: 8, y: 'r', i: SELF, r: { o: bytes(ip4(203, 0, 113, 7), ip4(0x9c, 0x42)), pl: entry(0, 10, 0, 0, 1) } }), 'bad-response'],
    ];
    for (const [what, data, reason] of refused) expect(decodeMessage(data), what).toMatchObject({ ok: false, reason });
  });

  it('the encoder refuses what the decoder would', () => {
    for (const locals of [[], ['8.8.8.8'], ['10.0.0.1', '10.0.0.1'], ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'], ['fd00::1'], ['localhost']]) {
      expect(() => encodeMessage(announce(locals)), JSON.stringify(locals)).toThrow(/locals/);
    }
    const many = Array.from({ length: 9 }, (_, i) => ({ host: '203.0.113.7', port: 4000 + i, locals: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'] }));
    expect(() => encodeMessage(answer(many))).toThrow(/more than 32/);
  });
});
