// Hostile input for the HyperDHT codec (fixed seeds): decoders never throw, valid messages
// round-trip exactly, corrupted datagrams decode to a valid message or a reason, our decoder
// accepts a corrupted response exactly when dht-rpc's does, and no id that does not match the
// datagram's source passes idMatchesSource.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv4 } from '../../core/wire/compact';
import { hyperNodeId, idMatchesSource } from '../../core/protocols/hyperdht/crypto';
import { INTERNAL_COMMANDS, decodeHyperMessage, encodeHyperRequest, encodeHyperResponse, type HyperMessage } from '../../core/protocols/hyperdht/messages';
import {
  decodeAnnounce,
  decodeLookupReply,
  decodeMutablePut,
  decodeMutableValue,
  decodePeerRecord,
  decodeSeq,
  encodeAnnounce,
  encodeLookupReply,
  encodeMutablePut,
} from '../../core/protocols/hyperdht/records';
import { HYPERDHT_MAX_PING_DELAY_MS, hyperdhtProtocol } from '../../core/protocols/hyperdht/protocol';
import { ReferenceIo } from './hyperdht-reference';

const SEED = 1313;
const RUNS = 400;

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });
const b32 = bytes(32, 32);
const addr = fc.record({ host: bytes(4, 4).map((b) => formatIPv4(b)), port: fc.integer({ min: 1, max: 65535 }) });
const varint = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffffff }), fc.maxSafeNat());
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(a, { nil: null });

const request = fc.record({
  tid: fc.integer({ min: 0, max: 0xffff }),
  to: addr,
  id: maybe(b32),
  token: maybe(b32),
  internal: fc.boolean(),
  command: varint,
  target: maybe(b32),
  value: maybe(bytes(0, 1200)),
});
const response = fc.record({
  tid: fc.integer({ min: 0, max: 0xffff }),
  to: addr,
  id: maybe(b32),
  token: maybe(b32),
  closerNodes: fc.array(addr, { maxLength: 20 }),
  error: varint,
  value: maybe(bytes(0, 1200)),
});
const datagram: fc.Arbitrary<Uint8Array> = fc.oneof(request.map((m) => encodeHyperRequest(m)), response.map((m) => encodeHyperResponse(m)));

/** Same datagram, corrupted: bytes flipped, truncated, or extended. */
const corrupted = fc
  .tuple(datagram, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }), fc.nat(), bytes(0, 8), fc.integer({ min: 0, max: 2 }))
  .map(([d, flips, cut, tail, mode]) => {
    const out = new Uint8Array(d);
    for (const [i, x] of flips) out[i % out.length] ^= x;
    if (mode === 1) return out.subarray(0, cut % (out.length + 1));
    if (mode === 2) return Buffer.concat([out, tail]);
    return out;
  });

/** An address as a DOWN_HINT's value carries it (6 bytes: IPv4 and port, little-endian). */
function hyperNodeIdInput(a: { host: string; port: number }): Uint8Array {
  return new Uint8Array([...a.host.split('.').map(Number), a.port & 255, a.port >>> 8]);
}

/** Plain data with bytes as hex, whether they are Uint8Arrays or Buffers (Buffer.toJSON runs before a replacer). */
function strip(m: HyperMessage): unknown {
  const walk = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(m);
}

describe('hyperdht codec under hostile input', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.oneof(bytes(0, 64), bytes(0, 2000), fc.constantFrom(0x03, 0x13).chain((t) => bytes(0, 300).map((b) => Buffer.concat([Buffer.from([t]), b])))), (b) => {
        const r = decodeHyperMessage(b);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(typeof r.reason).toBe('string');
      }),
      { seed: SEED, numRuns: RUNS * 3 },
    );
  });

  it('round-trips valid requests and responses exactly', () => {
    fc.assert(
      fc.property(fc.oneof(request.map((m) => ({ ...m, type: 'request' as const })), response.map((m) => ({ ...m, type: 'response' as const }))), (m) => {
        const buf = m.type === 'request' ? encodeHyperRequest(m) : encodeHyperResponse(m);
        const r = decodeHyperMessage(buf);
        if (!r.ok) throw new Error(r.reason);
        expect(strip(r.message)).toEqual(strip(m));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('corrupted datagrams decode or are refused, never throw; a decoded one re-encodes', () => {
    fc.assert(
      fc.property(corrupted, (b) => {
        const r = decodeHyperMessage(b);
        if (!r.ok) return;
        const again = r.message.type === 'request' ? encodeHyperRequest(r.message) : encodeHyperResponse(r.message);
        const back = decodeHyperMessage(again);
        expect(back.ok).toBe(true);
        if (back.ok) expect(strip(back.message)).toEqual(strip(r.message));
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it('accepts a corrupted response exactly when dht-rpc does (beside our list and 2^53 bounds)', () => {
    const from = { host: '127.0.0.1', port: 4000 };
    fc.assert(
      fc.property(response.map((m) => encodeHyperResponse(m)), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }), fc.nat(), (d, flips, cut) => {
        const b = new Uint8Array(d);
        for (const [i, x] of flips) b[i % b.length] ^= x;
        const cutB = cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
        const ours = decodeHyperMessage(cutB);
        if (!ours.ok && /at most|2\^53/.test(ours.reason)) return;
        if (cutB.length < 1 || cutB[0] !== 0x13) return;
        const tid = cutB.length >= 4 ? cutB[2] + cutB[3] * 256 : 0;
        const theirs = new ReferenceIo(null).decodeResponse(cutB, tid, from);
        // The reference matches by tid: a datagram whose flags varint moved the tid is not theirs to match.
        if (ours.ok && ours.message.tid !== tid) return;
        expect(ours.ok).toBe(theirs !== null);
        if (ours.ok && ours.message.type === 'response' && theirs) {
          expect(ours.message.error).toBe(theirs.error);
          expect(ours.message.closerNodes.length).toBe(theirs.closerNodes?.length ?? 0);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('lets no id through that is not its source address', () => {
    fc.assert(
      fc.property(addr, addr, b32, (a, b, random) => {
        const idA = hyperNodeId(a)!;
        expect(idMatchesSource(idA, a)).toBe(true);
        if (a.host !== b.host || a.port !== b.port) expect(idMatchesSource(idA, b)).toBe(false);
        expect(idMatchesSource(random, a)).toBe(false);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('the seam codec (DhtNode with protocol hyperdht) never throws, and lets through no id that is not its source', () => {
    const codec = hyperdhtProtocol().codec;
    const input = fc.oneof(bytes(0, 300), datagram, corrupted);
    fc.assert(
      fc.property(input, addr, (d, from) => {
        const r = codec.decode(d, from);
        if (!r.ok || r.message.kind === 'error') return;
        // Every message carries the id its source hashes to; a claimed id that differs makes it a non-member.
        expect(Buffer.from(r.message.id).toString('hex')).toBe(Buffer.from(hyperNodeId(from)!).toString('hex'));
        for (const n of r.message.kind === 'response' ? (r.message.nodes ?? []) : []) expect(idMatchesSource(n.id, n)).toBe(true);
        const decoded = decodeHyperMessage(d);
        const claimed = decoded.ok ? decoded.message.id : null;
        if (claimed === null || !idMatchesSource(claimed, from)) expect(r.message.readOnly).toBe(true);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('PING_NAT, DOWN_HINT and DELAYED_PING with hostile values: never throw; a decoded one is a PING with a port, a delay within bounds, or a down node whose id is its address\'s', () => {
    const codec = hyperdhtProtocol().codec;
    const internalCmd = fc.record({
      tid: fc.integer({ min: 0, max: 0xffff }),
      to: addr,
      id: maybe(b32),
      token: maybe(b32),
      internal: fc.constant(true),
      command: fc.constantFrom(INTERNAL_COMMANDS.PING_NAT, INTERNAL_COMMANDS.DOWN_HINT, INTERNAL_COMMANDS.DELAYED_PING),
      target: maybe(b32),
      value: maybe(fc.oneof(bytes(0, 8), fc.integer({ min: 0, max: 0xffffffff }).map((n) => new Uint8Array([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24])), addr.map((a) => hyperNodeIdInput(a)))),
    });
    fc.assert(
      fc.property(internalCmd, addr, (m, from) => {
        const d = encodeHyperRequest(m);
        const r = codec.decode(d, from);
        if (!r.ok) {
          expect('answered' in r).toBe(false);
          return;
        }
        const msg = r.message;
        expect(msg.kind).toBe('request');
        if (msg.kind !== 'request' || msg.method !== 'PING') throw new Error(`decoded as ${msg.kind}`);
        expect(Buffer.from(msg.id).toString('hex')).toBe(Buffer.from(hyperNodeId(from)!).toString('hex'));
        if (m.id === null || !idMatchesSource(m.id, from)) expect(msg.readOnly).toBe(true);
        const set = [msg.replyPort, msg.delayMs, msg.down].filter((x) => x !== undefined).length;
        expect(set).toBeLessThanOrEqual(1);
        if (m.command === INTERNAL_COMMANDS.PING_NAT) expect(msg.replyPort).toBeGreaterThanOrEqual(1);
        if (msg.replyPort !== undefined) expect(msg.replyPort).toBeLessThanOrEqual(65535);
        if (m.command === INTERNAL_COMMANDS.DELAYED_PING) expect(msg.delayMs).toBeLessThanOrEqual(HYPERDHT_MAX_PING_DELAY_MS);
        if (msg.down !== undefined) {
          expect(msg.down.port).toBeGreaterThan(0);
          expect(idMatchesSource(msg.down.id, msg.down)).toBe(true);
        }
        // Our own encoding of what was decoded is the same command with the same value's meaning.
        const again = codec.decode(codec.encode(msg, from), from);
        if (!again.ok || again.message.kind !== 'request' || again.message.method !== 'PING') throw new Error('no round trip');
        expect([again.message.replyPort, again.message.delayMs, again.message.down?.host, again.message.down?.port]).toEqual([msg.replyPort, msg.delayMs, msg.down?.host, msg.down?.port]);
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it('record decoders never throw, and refuse hostile list counts without allocating them', () => {
    const decoders = [decodeAnnounce, decodeLookupReply, decodeMutablePut, decodeMutableValue, decodePeerRecord, decodeSeq];
    const valid = fc.oneof(
      fc.record({ publicKey: b32, relayAddresses: fc.array(addr, { maxLength: 3 }) }).map((peer) => encodeAnnounce({ peer, refresh: null, signature: new Uint8Array(64), bump: 0 })),
      fc.array(fc.record({ publicKey: b32, relayAddresses: fc.array(addr, { maxLength: 3 }) }), { maxLength: 5 }).map((peers) => encodeLookupReply({ peers, bump: 1 })),
      fc.record({ publicKey: b32, seq: varint, value: bytes(0, 100), signature: bytes(64, 64) }).map((p) => encodeMutablePut(p)),
    );
    fc.assert(
      fc.property(fc.oneof(bytes(0, 300), valid, valid.chain((v) => fc.nat().map((n) => v.subarray(0, n % (v.length + 1))))), (b) => {
        for (const d of decoders) {
          const r = d(b);
          expect(r === null || r === undefined).toBe(false);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // A count of 2^32 peers in five bytes: refused before any allocation.
    expect(decodeLookupReply(new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0xff]))).toMatch(/at most/);
    expect(decodeHyperMessage(new Uint8Array([0x13, 0x04, 0, 0, 127, 0, 0, 1, 1, 0, 0xfe, 0xff, 0xff, 0xff, 0xff])).ok).toBe(false);
  });
});
