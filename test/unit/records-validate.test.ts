import { describe, expect, it } from 'vitest';
import { WIRE_ERROR, type DhtError } from '../../core/errors';
import { seededRandomBytes } from '../../core/id';
import { immutableKey, keyPairFromSecretKey, mutableKey, signMutable } from '../../core/records/signing';
import { sameRecord, validateRecord } from '../../core/records/validate';
import type { WireRecord } from '../../core/wire/types';

const enc = (s: string) => new TextEncoder().encode(s);
const kp = keyPairFromSecretKey(seededRandomBytes(11)(32));
const salt = enc('topic-salt');
const key = mutableKey(kp.publicKey, salt);
const good = signMutable({ keyPair: kp, salt, seq: 3, value: enc('v3') });

function expectRefusal(e: DhtError | null, code: keyof typeof WIRE_ERROR) {
  expect(e).not.toBeNull();
  expect(e!.code).toBe(code);
  expect(e!.toWire()).toBe(WIRE_ERROR[code]);
}

describe('validateRecord', () => {
  it('accepts good immutable and mutable records', () => {
    const value = enc('hello');
    expect(validateRecord(immutableKey(value), { type: 'immutable', value })).toBeNull();
    expect(validateRecord(key, good)).toBeNull();
    expect(validateRecord(immutableKey(new Uint8Array(1000)), { type: 'immutable', value: new Uint8Array(1000) })).toBeNull();
  });

  it('HASH_MISMATCH: an immutable value that does not hash to the key', () => {
    expectRefusal(validateRecord(immutableKey(enc('a')), { type: 'immutable', value: enc('b') }), 'HASH_MISMATCH');
    expectRefusal(validateRecord(new Uint8Array(31), { type: 'immutable', value: enc('b') }), 'HASH_MISMATCH');
  });

  it('VALUE_TOO_LARGE: 1,001 bytes', () => {
    const value = new Uint8Array(1001);
    expectRefusal(validateRecord(immutableKey(value), { type: 'immutable', value }), 'VALUE_TOO_LARGE');
    expectRefusal(validateRecord(key, { ...good, value }), 'VALUE_TOO_LARGE');
  });

  it('SALT_TOO_LARGE: 65 bytes', () => {
    const big = new Uint8Array(65);
    expectRefusal(validateRecord(mutableKey(kp.publicKey, big), { ...good, salt: big }), 'SALT_TOO_LARGE');
  });

  it('HASH_MISMATCH: a mutable key that is not SHA-256(pk || salt)', () => {
    expectRefusal(validateRecord(mutableKey(kp.publicKey, enc('other')), good), 'HASH_MISMATCH');
  });

  it('BAD_SIGNATURE: a forged signature, another seq or value, a malformed key or signature', () => {
    const sig = new Uint8Array(good.sig);
    sig[0] ^= 0x80;
    expectRefusal(validateRecord(key, { ...good, sig }), 'BAD_SIGNATURE');
    expectRefusal(validateRecord(key, { ...good, seq: 4 }), 'BAD_SIGNATURE');
    expectRefusal(validateRecord(key, { ...good, value: enc('v4') }), 'BAD_SIGNATURE');
    expectRefusal(validateRecord(key, { ...good, sig: good.sig.subarray(0, 63) }), 'BAD_SIGNATURE');
    const shortPk = kp.publicKey.subarray(0, 31);
    expectRefusal(validateRecord(mutableKey(shortPk, salt), { ...good, publicKey: shortPk }), 'BAD_SIGNATURE');
    // signed by someone else but claiming our public key
    const mallory = keyPairFromSecretKey(seededRandomBytes(12)(32));
    const forged = signMutable({ keyPair: mallory, salt, seq: 3, value: enc('v3') });
    expectRefusal(validateRecord(key, { ...forged, publicKey: kp.publicKey }), 'BAD_SIGNATURE');
  });

  it('PROTOCOL: a seq outside the safe integers', () => {
    expectRefusal(validateRecord(key, { ...good, seq: -1 }), 'PROTOCOL');
  });

  it('sameRecord compares every field', () => {
    const a: WireRecord = good;
    expect(sameRecord(a, { ...good })).toBe(true);
    expect(sameRecord(a, signMutable({ keyPair: kp, salt, seq: 3, value: enc('v3!') }))).toBe(false);
    expect(sameRecord({ type: 'immutable', value: enc('x') }, { type: 'immutable', value: enc('x') })).toBe(true);
  });
});
