import { describe, expect, it } from 'vitest';
import { VERIFIED_REFRESH_MS, VerifiedAddresses } from '../../core/rpc/amplification';

const TTL_MS = 30 * 60_000;

describe('VerifiedAddresses', () => {
  it('an answer moments after the last one keeps the entry as it is; a later one renews it', () => {
    const v = new VerifiedAddresses(16, TTL_MS);
    v.add('10.0.0.1:1', 0);
    v.add('10.0.0.1:1', VERIFIED_REFRESH_MS - 1); // not renewed: still expires at TTL_MS
    expect(v.has('10.0.0.1:1', TTL_MS - 1)).toBe(true);
    expect(v.has('10.0.0.1:1', TTL_MS)).toBe(false);

    v.add('10.0.0.2:1', 0);
    v.add('10.0.0.2:1', VERIFIED_REFRESH_MS); // renewed: TTL from now
    expect(v.has('10.0.0.2:1', VERIFIED_REFRESH_MS + TTL_MS - 1)).toBe(true);
    expect(v.has('10.0.0.2:1', VERIFIED_REFRESH_MS + TTL_MS)).toBe(false);
  });

  it('stays bounded, forgetting the least recently renewed first', () => {
    const v = new VerifiedAddresses(3, TTL_MS);
    v.add('a:1', 0);
    v.add('b:1', 0);
    v.add('c:1', 0);
    v.add('a:1', VERIFIED_REFRESH_MS); // renewed: now the most recent
    v.add('d:1', VERIFIED_REFRESH_MS);
    expect(v.size).toBe(3);
    expect(['a:1', 'b:1', 'c:1', 'd:1'].map((k) => v.has(k, VERIFIED_REFRESH_MS))).toEqual([true, false, true, true]);
  });

  it('with a short TTL, renews at half of it at the latest', () => {
    const v = new VerifiedAddresses(4, 1_000);
    v.add('a:1', 0);
    v.add('a:1', 500);
    expect(v.has('a:1', 1_499)).toBe(true);
  });
});
