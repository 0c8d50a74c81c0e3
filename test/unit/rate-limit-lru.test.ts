import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { RateLimiter } from '../../core/rpc/rate-limit';

function burst(limiter: RateLimiter, key: string, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (limiter.admit(key)) ok++;
  return ok;
}

describe('RateLimiter: which buckets are forgotten', () => {
  it('an address that keeps sending keeps its bucket however many others pass through', () => {
    const clock = new FakeClock(); // time stands still: no refill, spent tokens stay spent
    const MAX = 100;
    const limiter = new RateLimiter({ clock }, { requestsPerSecond: 1, burst: 1_000, maxTrackedAddresses: MAX, global: false });
    let spent = 0;
    for (let i = 0; i < 20_000; i++) {
      limiter.admit(`10.1.${i >> 8}.${i & 0xff}:1`);
      // Every MAX / 2 - 1 newcomers: just inside the window in which a bucket is never the oldest.
      if (i % (MAX / 2 - 1) === 0 && limiter.admit('10.0.0.7:7')) spent++;
    }
    expect(limiter.stats.tracked).toBe(MAX);
    expect(burst(limiter, '10.0.0.7:7', 2_000)).toBe(1_000 - spent);
  });

  it('one that went quiet is forgotten once MAX newcomers came after it, and comes back with a full bucket', () => {
    const clock = new FakeClock();
    const MAX = 100;
    const limiter = new RateLimiter({ clock }, { requestsPerSecond: 1, burst: 5, maxTrackedAddresses: MAX, global: false });
    expect(burst(limiter, 'q:1', 3)).toBe(3);
    for (let i = 0; i < MAX - 1; i++) limiter.admit(`n${i}:1`);
    expect(burst(limiter, 'q:1', 1)).toBe(1); // still known: 2 tokens were left, now 1
    for (let i = 0; i < MAX; i++) limiter.admit(`m${i}:1`);
    expect(burst(limiter, 'q:1', 10)).toBe(5);
  });
});
