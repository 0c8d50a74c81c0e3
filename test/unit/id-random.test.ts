import { describe, expect, it } from 'vitest';
import { cryptoRandomBytes } from '../../core/id';

describe('cryptoRandomBytes (pooled)', () => {
  it('returns fresh, independent arrays of the asked length', () => {
    const a = cryptoRandomBytes(4);
    const b = cryptoRandomBytes(4);
    expect([a.length, b.length, cryptoRandomBytes(0).length, cryptoRandomBytes(64).length, cryptoRandomBytes(65).length, cryptoRandomBytes(5000).length]).toEqual([4, 4, 0, 64, 65, 5000]);
    expect(a.buffer).not.toBe(b.buffer);
    const copy = new Uint8Array(b);
    a.fill(0xff); // a caller scribbling on its bytes changes nobody else's
    expect(b).toEqual(copy);
  });

  it('never hands out the same bytes twice across pool refills', () => {
    // 32 KB over several 4 KB refills; 128-bit draws never repeat unless bytes were reused.
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) seen.add(Buffer.from(cryptoRandomBytes(16)).toString('hex'));
    expect(seen.size).toBe(2_000);
  });

  it('looks uniform: every byte value occurs, about as often as the others', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 4_096; i++) for (const x of cryptoRandomBytes(32)) counts[x]++;
    // 131,072 bytes: 512 expected per value, standard deviation ~22.6; 7 sigma either side.
    expect(Math.min(...counts)).toBeGreaterThan(512 - 160);
    expect(Math.max(...counts)).toBeLessThan(512 + 160);
  });

  it('refuses a count the CSPRNG refuses', () => {
    expect(() => cryptoRandomBytes(-1)).toThrow();
    expect(() => cryptoRandomBytes(Number.NaN)).toThrow();
  });
});
