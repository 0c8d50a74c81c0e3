import { describe, expect, it } from 'vitest';
import { seededRandomBytes } from '../../core/id';
import { decodeContactsInto, encodeContacts, formatIPv4 } from '../../core/wire/compact';
import type { WireContact } from '../../core/wire/types';

const plain = (b: Uint8Array, off: number): string => `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;

describe('formatIPv4 host cache', () => {
  it('formats addresses that share a cache slot, alternately, each as itself', () => {
    // The slot is the xor of the four bytes: these all fall in slot 1.
    const same = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0, 1],
      [10, 11, 0, 0],
    ].map((q) => Uint8Array.from(q));
    for (let round = 0; round < 3; round++) for (const b of same) expect(formatIPv4(b)).toBe(plain(b, 0));
  });

  it('matches plain formatting over seeded addresses from a small pool, at any offset', () => {
    const rnd = seededRandomBytes(7);
    const pool = Array.from({ length: 600 }, () => rnd(4));
    const buf = new Uint8Array(12);
    for (let i = 0; i < 6000; i++) {
      const r = rnd(2);
      const ip = pool[((r[0] << 8) | r[1]) % pool.length];
      const off = i % 9;
      buf.set(ip, off);
      expect(formatIPv4(buf, off)).toBe(plain(buf, off));
    }
  });

  it('decoded contact hosts are the hosts encoded', () => {
    const rnd = seededRandomBytes(8);
    const contacts: WireContact[] = Array.from({ length: 20 }, (_, i) => ({ id: rnd(32), host: i % 2 ? '127.0.0.1' : plain(rnd(4), 0), port: 1000 + i }));
    const { v4 } = encodeContacts(contacts);
    const out: WireContact[] = [];
    expect(decodeContactsInto(v4, 4, out, 100)).toBeNull();
    expect(out.map((c) => c.host)).toEqual(contacts.map((c) => c.host));
  });
});
