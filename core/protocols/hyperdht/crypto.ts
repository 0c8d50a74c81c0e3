// HyperDHT's hashes and id rules. BLAKE2b-256 (libsodium's crypto_generichash with its default
// 32-byte output) comes from @noble/hashes: node:crypto only has BLAKE2b-512, and a truncated
// BLAKE2b-512 is not BLAKE2b-256 (the output length is part of the parameter block).
import { blake2b } from '@noble/hashes/blake2.js';
import type { Endpoint } from '../../transport/types';
import { Writer, IPV4_ADDRESS_BYTES } from './compact';
import { HYPERDHT_COMMANDS } from './messages';

export const BLAKE2B_256_BYTES = 32;

export function blake2b256(data: Uint8Array, key?: Uint8Array): Uint8Array {
  return blake2b(data, key ? { dkLen: BLAKE2B_256_BYTES, key } : { dkLen: BLAKE2B_256_BYTES });
}

/** BLAKE2b-256 of the concatenation of parts (libsodium's generichash_batch). */
export function blake2b256Batch(parts: readonly Uint8Array[]): Uint8Array {
  const h = blake2b.create({ dkLen: BLAKE2B_256_BYTES });
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Ids derived lately, by "host:port": a lookup derives one per closer node, 20 per answer. */
export const HYPER_ID_CACHE_SIZE = 4_096;
const idCache = new Map<string, Uint8Array>();

/**
 * A dht-rpc node id: BLAKE2b-256 of the node's IPv4 address and port as the network sees them
 * (4 address bytes, port little-endian). Null for an address that is not IPv4 with a valid port:
 * such a node has no id in this network. Cached per address (pure-JS BLAKE2b costs more than a
 * lookup's round of answers otherwise); every caller gets its own copy.
 */
export function hyperNodeId(e: Endpoint): Uint8Array | null {
  const key = `${e.host}:${e.port}`;
  const hit = idCache.get(key);
  if (hit !== undefined) return new Uint8Array(hit);
  let id: Uint8Array;
  try {
    const w = new Writer(IPV4_ADDRESS_BYTES);
    w.ipv4(e);
    id = blake2b256(w.finish());
  } catch {
    return null;
  }
  if (idCache.size >= HYPER_ID_CACHE_SIZE) idCache.delete(idCache.keys().next().value as string);
  idCache.set(key, id);
  return new Uint8Array(id);
}

/** Whether `id` is the one `source` must carry. Any id that a datagram claims goes through this first. */
export function idMatchesSource(id: Uint8Array, source: Endpoint): boolean {
  const expected = hyperNodeId(source);
  if (expected === null || id.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < id.length; i++) diff |= id[i] ^ expected[i];
  return diff === 0;
}

/**
 * hypercore-crypto's namespace(name, ids): h = BLAKE2b-256(name); each namespace is
 * BLAKE2b-256(h || one byte id). hyperdht signs announcements, unannouncements and mutable
 * puts under 'hyperswarm/dht' with the command number as the byte.
 */
export function namespace(name: string, ids: readonly number[]): Uint8Array[] {
  const h = blake2b256(new TextEncoder().encode(name));
  return ids.map((id) => {
    const buf = new Uint8Array(BLAKE2B_256_BYTES + 1);
    buf.set(h, 0);
    buf[BLAKE2B_256_BYTES] = id;
    return blake2b256(buf);
  });
}

const [NS_ANNOUNCE, NS_UNANNOUNCE, NS_MUTABLE_PUT] = namespace('hyperswarm/dht', [
  HYPERDHT_COMMANDS.ANNOUNCE,
  HYPERDHT_COMMANDS.UNANNOUNCE,
  HYPERDHT_COMMANDS.MUTABLE_PUT,
]);

export const HYPERDHT_NS = Object.freeze({ ANNOUNCE: NS_ANNOUNCE, UNANNOUNCE: NS_UNANNOUNCE, MUTABLE_PUT: NS_MUTABLE_PUT });

/** Key of an immutable value: BLAKE2b-256(value). */
export function immutableKey(value: Uint8Array): Uint8Array {
  return blake2b256(value);
}

/** Key (target) of a mutable value and of a key pair's own announcements: BLAKE2b-256(public key). */
export function publicKeyTarget(publicKey: Uint8Array): Uint8Array {
  return blake2b256(publicKey);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
