// Whether a record may be stored under a key, independent of what is already stored: sizes, the
// key binding (hash of the value, or of public key and salt) and the signature. Cheap checks come
// first so a flood of junk never costs a signature verification.
import { DhtError } from '../errors';
import type { WireRecord } from '../wire/types';
import { KADSCOPE_RECORDS, type RecordModel } from './model';
import { namedKey, nameProblem, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verifyMutable } from './signing';

/** Byte equality that does not stop at the first difference. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * null when the record is valid for key under the protocol's record model (default kadscope's);
 * otherwise the refusal to send back (its code is the wire code).
 */
export function validateRecord(key: Uint8Array, record: WireRecord, model: RecordModel = KADSCOPE_RECORDS): DhtError | null {
  if (record.value.length > model.maxValueBytes) {
    return DhtError.refusal('VALUE_TOO_LARGE', `value is ${record.value.length} bytes; at most ${model.maxValueBytes} allowed`);
  }
  if (key.length !== model.keyBytes) return DhtError.refusal('HASH_MISMATCH', `a record key is ${model.keyBytes} bytes; got ${key.length}`);
  const badValue = model.checkValue(record.value);
  if (badValue !== null) return DhtError.refusal('PROTOCOL', badValue);

  if (record.type === 'immutable') {
    if (!equalBytes(model.immutableKey(record.value), key)) return DhtError.refusal('HASH_MISMATCH', `the value does not hash (${model.hashName}) to the key`);
    return null;
  }
  if (record.type === 'named') {
    const problem = nameProblem(record.name);
    if (problem !== null) return DhtError.refusal('PROTOCOL', problem);
    if (!equalBytes(namedKey(record.name), key)) return DhtError.refusal('HASH_MISMATCH', 'the key is not SHA-256(name)');
    return null;
  }

  if (record.salt.length > model.maxSaltBytes) {
    return DhtError.refusal('SALT_TOO_LARGE', `salt is ${record.salt.length} bytes; at most ${model.maxSaltBytes} allowed`);
  }
  if (!Number.isSafeInteger(record.seq) || record.seq < 0) {
    return DhtError.refusal('PROTOCOL', `seq must be a non-negative safe integer; got ${record.seq}`);
  }
  if (record.publicKey.length !== PUBLIC_KEY_BYTES) {
    return DhtError.refusal('BAD_SIGNATURE', `an ed25519 public key is ${PUBLIC_KEY_BYTES} bytes; got ${record.publicKey.length}`);
  }
  if (record.sig.length !== SIGNATURE_BYTES) {
    return DhtError.refusal('BAD_SIGNATURE', `an ed25519 signature is ${SIGNATURE_BYTES} bytes; got ${record.sig.length}`);
  }
  if (!equalBytes(model.mutableKey(record.publicKey, record.salt), key)) {
    return DhtError.refusal('HASH_MISMATCH', `the key is not ${model.hashName}(public key || salt)`);
  }
  if (!verifyMutable(record, model)) return DhtError.refusal('BAD_SIGNATURE', `the signature does not verify for seq ${record.seq}`);
  return null;
}

/**
 * A mutable record from an answer that leaves the salt out (BEP 44 get), with the salt the asker
 * knows; any other record as it is. Safe for every model: a record with another salt fails the key check.
 */
export function withSalt(record: WireRecord, salt: Uint8Array | undefined): WireRecord {
  if (record.type !== 'mutable' || salt === undefined || salt.length === 0 || record.salt.length > 0) return record;
  return { ...record, salt };
}

/**
 * A mutable record from an answer that leaves the public key out (HyperDHT's MUTABLE_GET), with the
 * key the asker knows; any other record as it is. A wrong key fails the key and signature checks.
 */
export function withPublicKey(record: WireRecord, publicKey: Uint8Array | undefined): WireRecord {
  if (record.type !== 'mutable' || publicKey === undefined || record.publicKey.length > 0) return record;
  return { ...record, publicKey };
}

/** Same type and the same bytes in every field. */
export function sameRecord(a: WireRecord, b: WireRecord): boolean {
  if (a.type !== b.type || !equalBytes(a.value, b.value)) return false;
  if (a.type === 'immutable' || b.type === 'immutable') return true;
  if (a.type === 'named' || b.type === 'named') return a.type === 'named' && b.type === 'named' && a.name === b.name;
  return a.seq === b.seq && equalBytes(a.sig, b.sig) && equalBytes(a.publicKey, b.publicKey) && equalBytes(a.salt, b.salt);
}

/** Our own copy, so a caller reusing its buffers cannot change what we hold. */
export function copyRecord(r: WireRecord): WireRecord {
  if (r.type === 'immutable') return { type: 'immutable', value: r.value.slice() };
  if (r.type === 'named') return { type: 'named', name: r.name, value: r.value.slice() };
  return { type: 'mutable', value: r.value.slice(), publicKey: r.publicKey.slice(), salt: r.salt.slice(), seq: r.seq, sig: r.sig.slice() };
}
