import { describe, expect, it } from 'vitest';
import {
  ID_BITS,
  bucketIndex,
  bytesToHex,
  commonPrefixLength,
  compareDistance,
  hexBucketIndex,
  hexToBytes,
  idFromHex,
  isIdHex,
  randomIdInBucket,
  seededRandom,
  seededRandomBytes,
  sha256Hex,
  sortByDistance,
  xorDistance,
} from '../../core/id';

/** A 64-hex-digit id: `prefix` then zeros, with `tail` in the last byte. */
function hid(prefix: string, tail = 0): string {
  return prefix + '0'.repeat(64 - prefix.length - 2) + tail.toString(16).padStart(2, '0');
}
const b = (hex: string): Uint8Array => hexToBytes(hex);

// Fixed ids; the comment gives the leading bits and the bucket each falls in seen from SELF.
const SELF = hid('00'); //     0000 0000 0000 ...
const FAR = hid('80'); //      1000 0000 ...  first bit differs        -> bucket 0
const FAR2 = hid('ff'); //     1111 1111 ...                           -> bucket 0
const B1 = hid('40'); //       0100 0000 ...  shares 1 bit             -> bucket 1
const B7 = hid('01'); //       0000 0001 ...  shares 7 bits            -> bucket 7
const B8 = hid('0080'); //     0000 0000 1000 0000 ... shares 8 bits   -> bucket 8
const B12 = hid('0008'); //    0000 0000 0000 1000 ... shares 12 bits  -> bucket 12
const B255 = hid('', 1); //    0000 ... 0001  only the last bit differs -> bucket 255

describe('ids', () => {
  it('places fixed ids in the bucket of their shared-prefix length', () => {
    const self = b(SELF);
    expect(bucketIndex(self, b(FAR))).toBe(0);
    expect(bucketIndex(self, b(FAR2))).toBe(0);
    expect(bucketIndex(self, b(B1))).toBe(1);
    expect(bucketIndex(self, b(B7))).toBe(7);
    expect(bucketIndex(self, b(B8))).toBe(8);
    expect(bucketIndex(self, b(B12))).toBe(12);
    expect(bucketIndex(self, b(B255))).toBe(255);
    // Self is in no bucket.
    expect(bucketIndex(self, b(SELF))).toBe(-1);
    expect(commonPrefixLength(self, b(SELF))).toBe(ID_BITS);
    // Symmetric: the prefix two ids share does not depend on who looks.
    expect(bucketIndex(b(B12), self)).toBe(12);
  });

  it('draws a random id in every bucket 0..255 that lands in that bucket', () => {
    const rand = seededRandomBytes(7);
    for (const selfHex of [SELF, hid('ff'.repeat(31)), sha256Hex('kadscope')]) {
      const self = b(selfHex);
      for (let i = 0; i < ID_BITS; i++) {
        const id = randomIdInBucket(self, i, rand);
        expect(bucketIndex(self, id), `bucket ${i} from ${selfHex.slice(0, 8)}`).toBe(i);
      }
    }
    expect(() => randomIdInBucket(b(SELF), 256)).toThrow(RangeError);
    expect(() => randomIdInBucket(b(SELF), -1)).toThrow(/outside 0\.\.255/);
  });

  it('keeps the bits below the bucket random (two draws differ, both in range)', () => {
    const rand = seededRandomBytes(11);
    const a = randomIdInBucket(b(SELF), 3, rand);
    const c = randomIdInBucket(b(SELF), 3, rand);
    expect(bytesToHex(a)).not.toBe(bytesToHex(c));
  });

  it('compareDistance orders exactly as comparing the XOR distances does', () => {
    const rand = seededRandomBytes(3);
    for (let i = 0; i < 500; i++) {
      const target = rand(32);
      const x = rand(32);
      // Every third pair shares a long prefix so the comparison has to look past the first byte.
      const y = i % 3 === 0 ? new Uint8Array([...x.subarray(0, 20), ...rand(12)]) : rand(32);
      const byXor = Buffer.compare(Buffer.from(xorDistance(target, x)), Buffer.from(xorDistance(target, y)));
      expect(Math.sign(compareDistance(target, x, y))).toBe(byXor);
      expect(Math.sign(compareDistance(target, y, x))).toBe(-byXor);
    }
    const t = b(SELF);
    expect(compareDistance(t, b(B255), b(FAR))).toBeLessThan(0); // 0...01 is nearer 0...0 than 1000...
    expect(compareDistance(t, b(B1), b(B1))).toBe(0);
  });

  it('sortByDistance puts the nearest first', () => {
    const items = [FAR, B255, B1, FAR2, B7, B12, B8].map((id) => ({ id, idBytes: b(id) }));
    const sorted = sortByDistance(b(SELF), items).map((x) => x.id);
    expect(sorted).toEqual([B255, B12, B8, B7, B1, FAR, FAR2]);
  });

  it('parses hex ids strictly and names the problem', () => {
    expect(isIdHex(SELF)).toBe(true);
    const mixed = hid('abcdef');
    expect(isIdHex(mixed)).toBe(true);
    expect(isIdHex(mixed.toUpperCase())).toBe(false); // canonical form is lowercase
    expect(isIdHex('abc')).toBe(false);
    expect(bytesToHex(idFromHex(mixed.toUpperCase()))).toBe(mixed); // accepted and normalised
    expect(() => idFromHex('abc')).toThrow(/64 hex characters/);
    expect(() => idFromHex('z'.repeat(64))).toThrow(TypeError);
    expect(() => hexToBytes('abc')).toThrow(/not hex/);
  });

  it('bytesToHex spells exactly the bytes of the view it is given, whatever its length or offset', () => {
    const rand = seededRandomBytes(7);
    const backing = rand(300);
    for (const [offset, length] of [[0, 0], [3, 1], [5, 32], [0, 64], [7, 65], [11, 200]]) {
      const view = backing.subarray(offset, offset + length);
      const want = [...view].map((x) => x.toString(16).padStart(2, '0')).join('');
      expect(bytesToHex(view)).toBe(want);
      expect(bytesToHex(Buffer.from(view))).toBe(want);
    }
    // A long conversion followed by a short one: nothing of the first leaks into the second.
    bytesToHex(new Uint8Array(64).fill(0xee));
    expect(bytesToHex(new Uint8Array([1, 2]))).toBe('0102');
  });

  it('seeded generators are deterministic per seed and differ across seeds', () => {
    expect(bytesToHex(seededRandomBytes(1)(32))).toBe(bytesToHex(seededRandomBytes(1)(32)));
    expect(bytesToHex(seededRandomBytes(1)(32))).not.toBe(bytesToHex(seededRandomBytes(2)(32)));
    const r = seededRandom(5);
    const xs = Array.from({ length: 1000 }, r);
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    expect(new Set(xs).size).toBeGreaterThan(990);
  });
});

describe('hexBucketIndex (a bucket read off hex digits)', () => {
  it('agrees with bucketIndex on the bytes, for 32- and 20-byte ids in every bucket', () => {
    const rand = seededRandomBytes(41);
    for (const len of [32, 20]) {
      const self = rand(len);
      const selfHex = bytesToHex(self);
      for (let index = 0; index < len * 8; index++) {
        const other = randomIdInBucket(self, index, rand);
        expect(hexBucketIndex(selfHex, bytesToHex(other))).toBe(bucketIndex(self, other));
        expect(hexBucketIndex(selfHex, bytesToHex(other))).toBe(index);
      }
    }
  });

  it('finds no bucket for self or for what cannot be an id of self', () => {
    const selfHex = hid('5a');
    expect(hexBucketIndex(selfHex, selfHex)).toBe(-1);
    expect(hexBucketIndex(selfHex, selfHex.slice(2))).toBe(-1); // another length
    expect(hexBucketIndex(selfHex, 'z' + selfHex.slice(1))).toBe(-1); // not hex where it differs
    expect(hexBucketIndex(selfHex, 'A' + selfHex.slice(1))).toBe(-1); // upper case: callers lower it first
    expect(hexBucketIndex(selfHex, 42)).toBe(-1);
    expect(hexBucketIndex(selfHex, undefined)).toBe(-1);
    expect(hexBucketIndex(selfHex, 'd' + selfHex.slice(1))).toBe(0); // 0101 vs 1101: first bit
    expect(hexBucketIndex(selfHex, '4' + selfHex.slice(1))).toBe(3); // 0101 vs 0100: fourth bit
  });
});
