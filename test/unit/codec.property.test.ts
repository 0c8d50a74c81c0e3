// Property tests for the wire v1 codec (fixed seeds): the decoder never throws, valid messages
// round-trip exactly, and corrupted or structurally altered datagrams decode to a valid message or
// a DropReason. Also checks the IPv6 formatter against Node's own (libuv) formatting.
import { SocketAddress, isIP } from 'node:net';
import { Decoder, Encoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DhtError } from '../../core/errors';
import { decodeMessage, encodeMessage } from '../../core/wire/codec';
import { formatIPv4, formatIPv6, ipToBytes } from '../../core/wire/compact';
import {
  DROP_REASONS,
  MAX_DATAGRAM_BYTES,
  type DecodeResult,
  type Message,
  type WireContact,
  type WirePeer,
  type WireRecord,
} from '../../core/wire/types';

const SEED = 42;

// ---------------------------------------------------------------------------------------------
// Generators of valid messages

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });
const id32 = bytes(32, 32);
// Zero and 0xffff words are over-represented so that "::" runs and ::ffff:a.b.c.d tails are common.
const word = fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff }));
const ipv6Bytes = fc.array(word, { minLength: 8, maxLength: 8 }).map((words) => {
  const b = new Uint8Array(16);
  words.forEach((w, i) => {
    b[2 * i] = w >> 8;
    b[2 * i + 1] = w & 0xff;
  });
  return b;
});
const ipv4 = bytes(4, 4).map((b) => formatIPv4(b));
const ipv6 = ipv6Bytes.map((b) => formatIPv6(b));
const host = fc.oneof(ipv4, ipv6);
const port = fc.integer({ min: 1, max: 65535 });
const peer: fc.Arbitrary<WirePeer> = fc.record({ host, port });
const contact: fc.Arbitrary<WireContact> = fc.record({ id: id32, host, port });
const seq = fc.oneof(fc.nat(), fc.integer({ min: 2 ** 32 - 2, max: 2 ** 32 + 2 }), fc.maxSafeNat());
const token = bytes(1, 32);
const tid = fc.nat({ max: 0xffff_ffff });
// Values near the 1,000-byte limit are generated on purpose; fast-check's default sizes are small.
const value = fc.oneof(bytes(0, 1000), bytes(900, 1000));
const record: fc.Arbitrary<WireRecord> = fc.oneof(
  fc.record({ type: fc.constant('immutable' as const), value }),
  fc.record({ type: fc.constant('mutable' as const), value, publicKey: id32, salt: fc.oneof(bytes(0, 64), bytes(64, 64)), seq, sig: bytes(64, 64) }),
);
const wellFormed = (s: string): boolean => Buffer.from(s, 'utf8').toString('utf8') === s;

const request: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('PING' as const) }),
  fc.record({ kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('FIND_NODE' as const), target: id32 }),
  fc.record(
    { kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('FIND_VALUE' as const), key: id32, seq },
    { requiredKeys: ['kind', 'tid', 'id', 'method', 'key'] },
  ),
  fc.record(
    { kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('STORE' as const), key: id32, record, token, cas: seq },
    { requiredKeys: ['kind', 'tid', 'id', 'method', 'key', 'record', 'token'] },
  ),
  fc.record({ kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('ANNOUNCE' as const), topic: id32, port, token }),
  fc.record({ kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('GET_PEERS' as const), topic: id32 }),
  fc.record({ kind: fc.constant('request' as const), tid, id: id32, method: fc.constant('CALL' as const), name: fc.stringMatching(/^[a-z][a-z0-9._-]{0,31}$/), args: bytes(0, 1000) }),
  fc
    .record({ hopLimit: fc.integer({ min: 1, max: 64 }), hops: fc.nat({ max: 64 }), origin: id32, bid: bytes(8, 8), payload: bytes(0, 1000) })
    .map(({ hops, hopLimit, ...rest }): Message => ({ kind: 'request', tid: 1, id: rest.origin, method: 'BROADCAST', ...rest, hopLimit, hops: Math.min(hops, hopLimit) })),
);
const response: fc.Arbitrary<Message> = fc.record(
  {
    kind: fc.constant('response' as const),
    tid,
    id: id32,
    observed: peer,
    nodes: fc.array(contact, { maxLength: 20, size: 'max' }),
    token,
    record,
    peers: fc.array(peer, { maxLength: 32, size: 'max' }),
    result: bytes(0, 1000),
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

/** Encodes, or undefined when the message is (legitimately) too big for one datagram. */
function tryEncode(msg: Message): Uint8Array | undefined {
  try {
    return encodeMessage(msg);
  } catch (e) {
    if (e instanceof DhtError && e.code === 'INVALID_ARGUMENT' && /datagram limit/.test(e.message)) return undefined;
    throw e;
  }
}

/** A message as it comes back: contacts and peers grouped by family (IPv4 first), order kept within each. */
function normalized(msg: Message): Message {
  if (msg.kind !== 'response') return msg;
  const byFamily = <T extends WirePeer>(list: T[] | undefined): T[] | undefined =>
    list === undefined ? undefined : [...list.filter((p) => isIP(p.host) === 4), ...list.filter((p) => isIP(p.host) === 6)];
  const out: Message = { ...msg };
  if (msg.nodes !== undefined) out.nodes = byFamily(msg.nodes);
  if (msg.peers !== undefined) out.peers = byFamily(msg.peers);
  return out;
}

/** A decoder result is one of the two allowed shapes, and an ok message is itself encodable. */
function checkResult(r: DecodeResult): void {
  if (!r.ok) {
    expect(DROP_REASONS).toContain(r.reason);
    return;
  }
  const again = encodeMessage(r.message); // throws if the decoder let anything out of range through
  const r2 = decodeMessage(again);
  expect(r2.ok).toBe(true);
  if (r2.ok) expect(r2.message).toEqual(r.message);
}

// ---------------------------------------------------------------------------------------------

describe('decodeMessage never throws', () => {
  it('(a) on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), (data) => {
        const r = decodeMessage(data);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(DROP_REASONS).toContain(r.reason);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('on arbitrary CBOR values (gets past the CBOR parser)', () => {
    const raw = new Encoder({ useRecords: false, mapsAsObjects: true, structuredClone: false, tagUint8Array: false, variableMapSize: true });
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3, withBigInt: true, withTypedArray: true, withMap: true, withSet: true, withDate: true, withNullPrototype: true }), (value) => {
        let data: Uint8Array;
        try {
          data = raw.encode(value);
        } catch {
          return; // not encodable by cbor-x; nothing to test
        }
        checkResult(decodeMessage(data));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('valid messages', () => {
  it('(b) round-trip exactly', () => {
    fc.assert(
      fc.property(message, (msg) => {
        const data = tryEncode(msg);
        fc.pre(data !== undefined);
        expect(data.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
        const r = decodeMessage(data);
        if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
        expect(r.message).toEqual(normalized(msg));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('corrupted datagrams decode to a valid message or a DropReason', () => {
  const encoded = message.map(tryEncode).filter((d): d is Uint8Array => d !== undefined);

  it('(c) byte mutations, insertions, deletions and truncations', () => {
    const edit = fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(encoded, fc.array(edit, { minLength: 1, maxLength: 4 }), (data, edits) => {
        let b = Array.from(data);
        for (const e of edits) {
          if (b.length === 0) break;
          const at = e.at % b.length;
          if (e.op === 'set') b[at] = e.value;
          else if (e.op === 'flip') b[at] ^= 1 << e.bit;
          else if (e.op === 'insert') b.splice(at, 0, e.value);
          else if (e.op === 'delete') b.splice(at, 1);
          else b = b.slice(0, at);
        }
        checkResult(decodeMessage(new Uint8Array(b)));
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('structural edits: a field replaced, removed or added at any depth', () => {
    const raw = new Encoder({ useRecords: false, mapsAsObjects: true, structuredClone: false, tagUint8Array: false, variableMapSize: true });
    const plain = new Decoder({ useRecords: false, mapsAsObjects: true });
    const junk = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.string({ maxLength: 40 }),
      bytes(0, 70),
      fc.constant(null),
      fc.constant(undefined),
      fc.boolean(),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 2 }), fc.integer(), { maxKeys: 3 }),
    );
    const key = fc.constantFrom('v', 't', 'y', 'i', 'm', 'a', 'r', 'e', 'k', 'q', 'w', 'c', 'p', 'o', 'n4', 'n6', 'p4', 'p6', 's', 'g', 'x');
    fc.assert(
      fc.property(encoded, fc.nat(), fc.constantFrom('replace', 'remove', 'add'), key, junk, (data, pick, op, newKey, value) => {
        const tree = plain.decode(data) as Record<string, unknown>;
        // Every map in the tree, so the edit can land at any depth.
        const maps: Record<string, unknown>[] = [];
        const walk = (x: unknown): void => {
          if (x !== null && typeof x === 'object' && !(x instanceof Uint8Array) && !Array.isArray(x)) {
            maps.push(x as Record<string, unknown>);
            Object.values(x).forEach(walk);
          }
        };
        walk(tree);
        const target = maps[pick % maps.length];
        const keys = Object.keys(target);
        if (op === 'add' || keys.length === 0) target[newKey] = value;
        else if (op === 'remove') delete target[keys[pick % keys.length]];
        else target[keys[pick % keys.length]] = value;
        let edited: Uint8Array;
        try {
          edited = raw.encode(tree);
        } catch {
          return;
        }
        checkResult(decodeMessage(edited));
      }),
      { seed: SEED, numRuns: 600 },
    );
  });
});

describe('IPv6 text form', () => {
  it('matches what Node reports, and parses back to the same bytes', () => {
    fc.assert(
      fc.property(ipv6Bytes, (b) => {
        const text = formatIPv6(b);
        const expanded = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16).toUpperCase().padStart(4, '0')).join(':');
        expect(text).toBe(new SocketAddress({ address: expanded, family: 'ipv6' }).address);
        expect(isIP(text)).toBe(6);
        expect(ipToBytes(text)).toEqual(b);
        expect(ipToBytes(expanded)).toEqual(b);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
