// ed25519 keys, signatures and record keys for wire v1, on node:crypto alone.
//
// Keys travel raw: a public key is its 32 bytes, a secret key is the 32-byte ed25519 seed (RFC 8032
// "private key"). node:crypto wants KeyObjects, so we wrap raw bytes in the fixed DER prefixes of
// SubjectPublicKeyInfo and PKCS#8 for ed25519; both are constant for this algorithm.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DhtError } from '../errors';
import { bytesToHex, hexToBytes, sha256 } from '../id';
import { writeFileAtomic } from '../persist/atomic';
import { MAX_NAME_BYTES, MAX_SALT_BYTES, MAX_VALUE_BYTES, type WireRecord } from '../wire/types';
import type { RecordModel } from './model';

/** What signing needs of a record model (model.ts): the signed bytes and the limits. */
export type SigningModel = Pick<RecordModel, 'signable' | 'maxValueBytes' | 'maxSaltBytes'>;
const WIRE_V1_SIGNING: SigningModel = { signable: encodeSignable, maxValueBytes: MAX_VALUE_BYTES, maxSaltBytes: MAX_SALT_BYTES };

export const PUBLIC_KEY_BYTES = 32;
export const SECRET_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export type MutableRecord = Extract<WireRecord, { type: 'mutable' }>;

export interface KeyPair {
  /** Raw 32-byte ed25519 public key. */
  publicKey: Uint8Array;
  /** Raw 32-byte ed25519 seed (the RFC 8032 private key). Keep it secret. */
  secretKey: Uint8Array;
}

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Domain separation: a signature over a kadscope record can never be replayed as a signature over
 * anything else signed with the same key (and vice versa).
 */
export const SIGNABLE_PREFIX = 'kadscope/v1/mutable';
const SIGNABLE_DOMAIN = new TextEncoder().encode(SIGNABLE_PREFIX);
const SEQ_BYTES = 8;
const VALUE_LENGTH_BYTES = 2;

/**
 * The exact bytes a mutable record's signature covers (wire v1; this is the one implementation,
 * the codec re-exports it):
 *   "kadscope/v1/mutable" | u8 salt length | salt | u64 big-endian seq | u16 big-endian value length | value
 * Length prefixes make the encoding injective (no two (salt, seq, value) triples share bytes).
 * Throws INVALID_ARGUMENT for a salt over MAX_SALT_BYTES, a value over MAX_VALUE_BYTES, or a seq
 * that is not a non-negative safe integer: nothing outside wire v1's limits is ever signed.
 */
export function encodeSignable(salt: Uint8Array, seq: number, value: Uint8Array): Uint8Array {
  if (!(salt instanceof Uint8Array) || salt.length > MAX_SALT_BYTES) {
    throw DhtError.invalidArgument(`encodeSignable: salt must be 0..${MAX_SALT_BYTES} bytes`);
  }
  if (!Number.isSafeInteger(seq) || seq < 0) throw DhtError.invalidArgument(`encodeSignable: seq must be a non-negative safe integer; got ${seq}`);
  if (!(value instanceof Uint8Array) || value.length > MAX_VALUE_BYTES) {
    throw DhtError.invalidArgument(`encodeSignable: value must be 0..${MAX_VALUE_BYTES} bytes`);
  }
  const out = new Uint8Array(SIGNABLE_DOMAIN.length + 1 + salt.length + SEQ_BYTES + VALUE_LENGTH_BYTES + value.length);
  const view = new DataView(out.buffer);
  let o = 0;
  out.set(SIGNABLE_DOMAIN, o);
  o += SIGNABLE_DOMAIN.length;
  out[o++] = salt.length;
  out.set(salt, o);
  o += salt.length;
  view.setBigUint64(o, BigInt(seq));
  o += SEQ_BYTES;
  view.setUint16(o, value.length);
  o += VALUE_LENGTH_BYTES;
  out.set(value, o);
  return out;
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

function privateKeyObject(secretKey: Uint8Array): KeyObject {
  if (secretKey.length !== SECRET_KEY_BYTES) throw DhtError.invalidArgument(`an ed25519 secret key is ${SECRET_KEY_BYTES} bytes; got ${secretKey.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - PUBLIC_KEY_BYTES));
}

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return { publicKey: rawPublicKey(publicKey), secretKey: new Uint8Array(pkcs8.subarray(pkcs8.length - SECRET_KEY_BYTES)) };
}

/** The key pair for a 32-byte seed: deterministic, for tests and for loading saved keys. */
export function keyPairFromSecretKey(secretKey: Uint8Array): KeyPair {
  return { publicKey: rawPublicKey(createPublicKey(privateKeyObject(secretKey))), secretKey: new Uint8Array(secretKey) };
}

/** A 64-byte ed25519 signature of message. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return new Uint8Array(cryptoSign(null, message, privateKeyObject(secretKey)));
}

/** Whether signature is a valid signature of message by publicKey. Never throws: malformed input is just invalid. */
export function verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    return cryptoVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    // A 32-byte string that is not a curve point fails to import: not a valid signer.
    return false;
  }
}

/** Key of a mutable record: SHA-256(public key || salt). */
export function mutableKey(publicKey: Uint8Array, salt: Uint8Array = new Uint8Array(0)): Uint8Array {
  const buf = new Uint8Array(publicKey.length + salt.length);
  buf.set(publicKey, 0);
  buf.set(salt, publicKey.length);
  return sha256(buf);
}

/** Key of an immutable record: SHA-256(value). */
export function immutableKey(value: Uint8Array): Uint8Array {
  return sha256(value);
}

/** Key of a named record (wire v2): SHA-256 of the name's UTF-8 bytes, as a text topic's key. */
export function namedKey(name: string): Uint8Array {
  return sha256(new TextEncoder().encode(name));
}

/**
 * Why `name` cannot name a record, or null: it must be text of 1..MAX_NAME_BYTES UTF-8 bytes with
 * no lone surrogate (which UTF-8 cannot carry, so its hash would not be the one a reader computes).
 */
export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'a name is text';
  if (name.length === 0) return 'a name cannot be empty';
  if (/\p{Cs}/u.test(name)) return 'a name cannot hold a lone UTF-16 surrogate';
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_NAME_BYTES) return `a name is at most ${MAX_NAME_BYTES} bytes as UTF-8; got ${bytes}`;
  return null;
}

/** Whether the signature of a mutable record verifies (sizes and key are validate.ts's business). */
export function verifyMutable(record: MutableRecord, model: SigningModel = WIRE_V1_SIGNING): boolean {
  let message: Uint8Array;
  try {
    message = model.signable(record.salt, record.seq, record.value);
  } catch {
    return false;
  }
  return verify(message, record.sig, record.publicKey);
}

export interface SignMutableInput {
  keyPair: KeyPair;
  /** 0..64 bytes; default empty. One key pair can own many records, one per salt. */
  salt?: Uint8Array;
  seq: number;
  value: Uint8Array;
}

/**
 * A signed mutable record. Refuses what a storer would refuse, with the same codes
 * (VALUE_TOO_LARGE, SALT_TOO_LARGE), so a local caller sees the error before any network trip.
 */
export function signMutable(input: SignMutableInput, model: SigningModel = WIRE_V1_SIGNING): MutableRecord {
  const salt = input.salt ?? new Uint8Array(0);
  if (input.value.length > model.maxValueBytes) throw DhtError.refusal('VALUE_TOO_LARGE', `value is ${input.value.length} bytes; at most ${model.maxValueBytes} allowed`);
  if (salt.length > model.maxSaltBytes) throw DhtError.refusal('SALT_TOO_LARGE', `salt is ${salt.length} bytes; at most ${model.maxSaltBytes} allowed`);
  const sig = sign(model.signable(salt, input.seq, input.value), input.keyPair.secretKey);
  return {
    type: 'mutable',
    value: new Uint8Array(input.value),
    publicKey: new Uint8Array(input.keyPair.publicKey),
    salt: new Uint8Array(salt),
    seq: input.seq,
    sig,
  };
}

// ---- key files ----

export const KEY_FILE_VERSION = 1;

const HEX32 = /^[0-9a-f]{64}$/;
const keyFileSchema = z.object({
  version: z.literal(KEY_FILE_VERSION),
  type: z.literal('ed25519'),
  publicKey: z.string().regex(HEX32, 'expected 64 lowercase hex characters'),
  secretKey: z.string().regex(HEX32, 'expected 64 lowercase hex characters'),
});

/** The JSON form of a key pair (also used inside identity.json). */
export type KeyFileJson = z.infer<typeof keyFileSchema>;

export function keyPairToJson(kp: KeyPair): KeyFileJson {
  return { version: KEY_FILE_VERSION, type: 'ed25519', publicKey: bytesToHex(kp.publicKey), secretKey: bytesToHex(kp.secretKey) };
}

/** Parses and checks a key pair's JSON form; the public key must belong to the secret key. */
export function keyPairFromJson(raw: unknown): { ok: true; value: KeyPair } | { ok: false; message: string } {
  const r = keyFileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, message: `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}` };
  }
  const kp = keyPairFromSecretKey(hexToBytes(r.data.secretKey));
  if (bytesToHex(kp.publicKey) !== r.data.publicKey) return { ok: false, message: 'publicKey does not belong to secretKey' };
  return { ok: true, value: kp };
}

/** Saves a key pair as a small JSON file (hex fields, a version), atomically, readable by the owner only. */
export async function saveKeyPair(path: string, kp: KeyPair): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(keyPairToJson(kp), null, 2)}\n`, { mode: 0o600 });
}

/**
 * Loads a key pair saved by saveKeyPair. A missing or unreadable file is INVALID_ARGUMENT; a file
 * that is not a valid key file is CORRUPT_FILE. The file is the user's: it is never moved or changed.
 */
export async function loadKeyPair(path: string): Promise<KeyPair> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw DhtError.invalidArgument(code === 'ENOENT' ? `key file ${path} does not exist` : `cannot read key file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DhtError('CORRUPT_FILE', `key file ${path} is not valid JSON (${(e as Error).message})`);
  }
  const r = keyPairFromJson(raw);
  if (!r.ok) throw new DhtError('CORRUPT_FILE', `key file ${path} is not a kadscope key file: ${r.message}`);
  return r.value;
}
