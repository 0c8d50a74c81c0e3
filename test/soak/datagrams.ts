// Hostile datagrams, shared by the soak (test/soak/run.ts), its 20,000-datagram vitest version and the
// property tests (test/unit/hostile-*.test.ts): a corpus of valid wire v1 messages of every kind and
// method, and mutations of them described as data (so fast-check can generate and shrink them, and
// a seeded PRNG can draw them a million times).
import { immutableKey, keyPairFromSecretKey, signMutable } from '../../core/records/signing';
import type { RandomBytes } from '../../core/id';
import { encodeMessage } from '../../core/wire/codec';
import { MAX_DATAGRAM_BYTES, type Message } from '../../core/wire/types';

export type Mutation =
  /** XOR one bit. */
  | { op: 'flip'; at: number; bit: number }
  /** Overwrite one byte. */
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'truncate'; at: number }
  /** Paste `len` bytes of corpus message `other` (from offset `from`) over position `at`. */
  | { op: 'splice'; at: number; other: number; from: number; len: number };

/** Applies mutations in order; positions wrap around the current length, so any numbers are valid. */
export function mutate(base: Uint8Array, mutations: readonly Mutation[], corpus: readonly Uint8Array[]): Uint8Array {
  let out = new Uint8Array(base);
  for (const m of mutations) {
    const n = out.length;
    switch (m.op) {
      case 'flip':
        if (n > 0) out[m.at % n] ^= 1 << (m.bit & 7);
        break;
      case 'set':
        if (n > 0) out[m.at % n] = m.value & 0xff;
        break;
      case 'insert': {
        const at = m.at % (n + 1);
        const next = new Uint8Array(n + m.bytes.length);
        next.set(out.subarray(0, at), 0);
        next.set(m.bytes, at);
        next.set(out.subarray(at), at + m.bytes.length);
        out = next;
        break;
      }
      case 'delete': {
        if (n === 0) break;
        const at = m.at % n;
        out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(Math.min(n, at + m.count))]);
        break;
      }
      case 'truncate':
        out = out.slice(0, m.at % (n + 1));
        break;
      case 'splice': {
        const src = corpus.length > 0 ? corpus[m.other % corpus.length] : new Uint8Array(0);
        if (n === 0 || src.length === 0) break;
        const from = m.from % src.length;
        const piece = src.subarray(from, from + m.len);
        const at = m.at % n;
        out.set(piece.subarray(0, n - at), at);
        break;
      }
    }
  }
  return out;
}

/**
 * Valid messages of every kind and method (encoded), with ids, keys and contacts drawn from `rand`:
 * requests (each method; STORE immutable and mutable, with and without CAS), responses (with
 * contacts, peers, a record) and errors. Their tids are fixed and will match nothing the node sent.
 */
export function validCorpus(rand: RandomBytes): Uint8Array[] {
  const id = rand(32);
  const tid = 0x0a0b0c0d;
  const contacts = Array.from({ length: 12 }, (_, i) => ({ id: rand(32), host: `10.9.${i}.1`, port: 4000 + i }));
  const v6 = Array.from({ length: 4 }, (_, i) => ({ id: rand(32), host: `2001:db8::${i + 1}`, port: 5000 + i }));
  const value = rand(200);
  const keyPair = keyPairFromSecretKey(rand(32));
  const mutable = signMutable({ keyPair, salt: rand(8), seq: 7, value: rand(100) });
  const msgs: Message[] = [
    { kind: 'request', tid, id, method: 'PING' },
    { kind: 'request', tid: 0, id, method: 'PING' },
    { kind: 'request', tid, id, method: 'FIND_NODE', target: rand(32) },
    { kind: 'request', tid, id, method: 'FIND_VALUE', key: rand(32) },
    { kind: 'request', tid, id, method: 'FIND_VALUE', key: rand(32), seq: 3 },
    { kind: 'request', tid, id, method: 'STORE', key: immutableKey(value), record: { type: 'immutable', value }, token: rand(16) },
    { kind: 'request', tid, id, method: 'STORE', key: rand(32), record: mutable, token: rand(16), cas: 6 },
    { kind: 'request', tid, id, method: 'ANNOUNCE', topic: rand(32), port: 6881, token: rand(16) },
    { kind: 'request', tid, id, method: 'GET_PEERS', topic: rand(32) },
    { kind: 'response', tid, id, observed: { host: '10.0.0.1', port: 4000 } },
    { kind: 'response', tid, id, observed: { host: '2001:db8::9', port: 4000 }, nodes: [...contacts, ...v6], token: rand(16) },
    { kind: 'response', tid, id, observed: { host: '10.0.0.1', port: 4000 }, nodes: contacts.slice(0, 3), peers: [{ host: '10.9.9.9', port: 1 }, { host: '::1', port: 2 }], token: rand(4) },
    { kind: 'response', tid, id, observed: { host: '10.0.0.1', port: 4000 }, record: mutable, nodes: [] },
    { kind: 'error', tid, id, code: 10, message: 'bad token' },
    { kind: 'error', tid, id, code: 0xffff, message: 'é'.repeat(200) },
  ];
  return msgs.map((m) => encodeMessage(m));
}

/** A mutation drawn from a PRNG (the soak's generator; fast-check has its own in the tests). */
export function randomMutation(pick: () => number, rand: RandomBytes, corpusSize: number): Mutation {
  const at = Math.floor(pick() * 2048);
  switch (Math.floor(pick() * 6)) {
    case 0:
      return { op: 'flip', at, bit: Math.floor(pick() * 8) };
    case 1:
      return { op: 'set', at, value: Math.floor(pick() * 256) };
    case 2:
      return { op: 'insert', at, bytes: rand(1 + Math.floor(pick() * 16)) };
    case 3:
      return { op: 'delete', at, count: 1 + Math.floor(pick() * 16) };
    case 4:
      return { op: 'truncate', at };
    default:
      return { op: 'splice', at, other: Math.floor(pick() * corpusSize), from: Math.floor(pick() * 2048), len: 1 + Math.floor(pick() * 40) };
  }
}

/**
 * One hostile datagram from a PRNG: a third random bytes (a quarter of them starting like a CBOR
 * map, so the decoder gets past the first byte), two thirds valid messages with 0-4 mutations
 * (so some stay valid and reach the handlers). Never larger than MAX_DATAGRAM_BYTES + 600.
 */
export function hostileDatagram(pick: () => number, rand: RandomBytes, corpus: readonly Uint8Array[]): Uint8Array {
  if (pick() < 1 / 3) {
    const r = pick();
    const len = r < 0.02 ? 0 : r < 0.05 ? MAX_DATAGRAM_BYTES + 1 + Math.floor(pick() * 600) : 1 + Math.floor(pick() * 400);
    const out = rand(len);
    if (len > 0 && pick() < 0.25) out[0] = 0xa0 | Math.floor(pick() * 8);
    return out;
  }
  const base = corpus[Math.floor(pick() * corpus.length)];
  const count = Math.floor(pick() * 5);
  const muts: Mutation[] = [];
  for (let i = 0; i < count; i++) muts.push(randomMutation(pick, rand, corpus.length));
  return mutate(base, muts, corpus);
}
