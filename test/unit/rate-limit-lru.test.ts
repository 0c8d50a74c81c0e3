import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { seededRandom } from '../../core/id';
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

  it('drops buckets that refilled to the burst (a newcomer starts full anyway) and keeps the ones still short', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock }, { requestsPerSecond: 100, burst: 10, global: false });
    // A newcomer spends one token, which comes back 10 ms later at 100/s: 1 ms apart, about the
    // last 10 are still short, and the sweep forgets the older ones as newcomers come.
    for (let i = 0; i < 1_000; i++) {
      limiter.admit(`10.2.${i >> 8}.${i & 0xff}:1`);
      clock.advance(1);
    }
    expect(limiter.stats.tracked).toBeLessThanOrEqual(20); // of 1,000
    // One that spent its burst keeps its (empty) bucket however many newcomers pass meanwhile.
    expect(burst(limiter, 'drained:1', 20)).toBe(10);
    for (let i = 0; i < 100; i++) limiter.admit(`10.3.0.${i}:1`);
    expect(burst(limiter, 'drained:1', 20)).toBe(0);
  });

  it('admits exactly what a limiter that never forgets would admit', () => {
    const clock = new FakeClock();
    const rate = 100;
    const cap = 10;
    const limiter = new RateLimiter({ clock }, { requestsPerSecond: rate, burst: cap, global: false });
    // The reference: a token bucket per address, never dropped.
    const model = new Map<string, { tokens: number; at: number }>();
    const admitModel = (key: string): boolean => {
      const now = clock.now();
      const b = model.get(key) ?? { tokens: cap, at: now };
      model.set(key, b);
      b.tokens = Math.min(cap, b.tokens + (now - b.at) * (rate / 1_000));
      b.at = now;
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    };
    const rnd = seededRandom(7);
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      if (rnd() < 0.15) clock.advance(1);
      // Half the requests from 4 busy addresses (which run dry), half from 400 quiet ones (which come
      // and go, so buckets are dropped and made again all along).
      const key = rnd() < 0.5 ? `10.4.0.${Math.floor(rnd() * 4)}:1` : `10.5.${Math.floor(rnd() * 400) >> 8}.${Math.floor(rnd() * 256)}:1`;
      const ok = limiter.admit(key);
      expect(ok).toBe(admitModel(key));
      if (!ok) refused++;
    }
    expect(refused).toBeGreaterThan(100); // the busy addresses did run dry
    expect(limiter.stats.tracked).toBeLessThan(model.size);
  });
});
