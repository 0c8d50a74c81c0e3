// Whether a record may be stored under a key, independent of what is already stored: sizes, the
// key binding (hash of the value, or of public key and salt) and the signature. Cheap checks come
// first so a flood of junk never costs a signature verification.
import { DhtError } from '../errors';
import { ID_BYTES } from '../id';
import { MAX_SALT_BYTES, MAX_VALUE_BYTES, type WireRecord } from '../wire/types';
import { immutableKey, mutableKey, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verifyMutable } from './signing';

/** Byte equality that does not stop at the first difference. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** null when the record is valid for key; otherwise the refusal to send back (its code is the wire code). */
export function validateRecord(key: Uint8Array, record: WireRecord): DhtError | null {
  if (record.value.length > MAX_VALUE_BYTES) {
    return DhtError.refusal('VALUE_TOO_LARGE', `value is ${record.value.length} bytes; at most ${MAX_VALUE_BYTES} allowed`);
  }
  if (key.length !== ID_BYTES) return DhtError.refusal('HASH_MISMATCH', `a record key is ${ID_BYTES} bytes; got ${key.length}`);

  if (record.type === 'immutable') {
    if (!equalBytes(immutableKey(record.value), key)) return DhtError.refusal('HASH_MISMATCH', 'the value does not hash (SHA-256) to the key');
    return null;
  }

  if (record.salt.length > MAX_SALT_BYTES) {
    return DhtError.refusal('SALT_TOO_LARGE', `salt is ${record.salt.length} bytes; at most ${MAX_SALT_BYTES} allowed`);
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
  if (!equalBytes(mutableKey(record.publicKey, record.salt), key)) {
    return DhtError.refusal('HASH_MISMATCH', 'the key is not SHA-256(public key || salt)');
  }
  if (!verifyMutable(record)) return DhtError.refusal('BAD_SIGNATURE', `the signature does not verify for seq ${record.seq}`);
  return null;
}

/** Same type and the same bytes in every field. */
export function sameRecord(a: WireRecord, b: WireRecord): boolean {
  if (a.type !== b.type || !equalBytes(a.value, b.value)) return false;
  if (a.type === 'immutable' || b.type === 'immutable') return true;
  return a.seq === b.seq && equalBytes(a.sig, b.sig) && equalBytes(a.publicKey, b.publicKey) && equalBytes(a.salt, b.salt);
}
