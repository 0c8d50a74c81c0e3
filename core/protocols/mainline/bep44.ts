// BEP 44 (storing arbitrary data in the DHT): targets, signatures and the checks a storing node
// makes before it keeps an item. ed25519 comes from node:crypto through records/signing.ts; what
// differs from kadscope's records is what is signed and hashed:
//   immutable target = SHA-1(bencoded v)
//   mutable target   = SHA-1(public key || salt)
//   signed bytes     = ["4:salt" <bencoded salt>] "3:seqi" <seq> "e1:v" <bencoded v>
// (the salt part only when the salt is not empty), i.e. the bencoded dictionary {salt, seq, v}
// without its "d" and "e".
import { createHash } from 'node:crypto';
import { sign, verify } from '../../records/signing';
import {
  BEP44_PUBLIC_KEY_BYTES,
  KRPC_ERROR,
  MAX_BEP44_SALT_BYTES,
  MAX_BEP44_VALUE_BYTES,
  type PutItem,
} from './types';
import { bdecode } from './bencode';

export function sha1(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(data).digest());
}

const ASCII = new TextEncoder();

/** The bytes a mutable item's signature covers. */
export function bep44Signable(salt: Uint8Array, seq: number, v: Uint8Array): Uint8Array {
  const head = salt.length > 0 ? `4:salt${salt.length}:` : '';
  const parts: Uint8Array[] = [];
  if (salt.length > 0) parts.push(ASCII.encode(head), salt);
  parts.push(ASCII.encode(`3:seqi${seq}e1:v`), v);
  return Buffer.concat(parts);
}

export function immutableTarget(v: Uint8Array): Uint8Array {
  return sha1(v);
}

export function mutableTarget(publicKey: Uint8Array, salt: Uint8Array = new Uint8Array(0)): Uint8Array {
  return sha1(Buffer.concat([publicKey, salt]));
}

/** The target an item is stored under. */
export function itemTarget(item: PutItem): Uint8Array {
  return item.type === 'immutable' ? immutableTarget(item.v) : mutableTarget(item.k, item.salt);
}

export interface SignItemInput {
  /** Raw 32-byte ed25519 seed (records/signing.ts KeyPair.secretKey). */
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  /** The bencoded value. */
  v: Uint8Array;
  seq: number;
  salt?: Uint8Array;
}

export function signMutableItem(input: SignItemInput): Extract<PutItem, { type: 'mutable' }> {
  const salt = input.salt ?? new Uint8Array(0);
  const sig = sign(bep44Signable(salt, input.seq, input.v), input.secretKey);
  return { type: 'mutable', v: input.v, k: input.publicKey, salt, seq: input.seq, sig };
}

export function verifyMutableItem(item: Extract<PutItem, { type: 'mutable' }>): boolean {
  if (item.k.length !== BEP44_PUBLIC_KEY_BYTES) return false;
  return verify(bep44Signable(item.salt, item.seq, item.v), item.sig, item.k);
}

export type ItemCheck = { ok: true } | { ok: false; code: number; message: string };

/**
 * The checks that need no stored state, in BEP 44's order of errors: the value's size (205), the
 * salt's size (207), the value is one bencoded value, and the signature (206).
 */
export function checkPutItem(item: PutItem): ItemCheck {
  if (item.v.length > MAX_BEP44_VALUE_BYTES) return { ok: false, code: KRPC_ERROR.MESSAGE_TOO_BIG, message: `v is ${item.v.length} bytes; at most ${MAX_BEP44_VALUE_BYTES}` };
  if (!bdecode(item.v).ok) return { ok: false, code: KRPC_ERROR.PROTOCOL, message: 'v is not one bencoded value' };
  if (item.type === 'immutable') return { ok: true };
  if (item.salt.length > MAX_BEP44_SALT_BYTES) return { ok: false, code: KRPC_ERROR.SALT_TOO_BIG, message: `salt is ${item.salt.length} bytes; at most ${MAX_BEP44_SALT_BYTES}` };
  if (!verifyMutableItem(item)) return { ok: false, code: KRPC_ERROR.INVALID_SIGNATURE, message: 'invalid signature' };
  return { ok: true };
}
