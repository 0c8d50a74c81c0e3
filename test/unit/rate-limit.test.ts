// Per-address token buckets on incoming requests (core/rpc/rate-limit.ts), alone and wired into a
// node through Rpc's admit hook, on fake time.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { seededRandomBytes } from '../../core/id';
import { DhtNode, type DhtNodeOptions } from '../../core/node';
import { RATE_LIMIT_BURST, RATE_LIMIT_REQUESTS_PER_SECOND, RateLimiter } from '../../core/rpc/rate-limit';
import { MemoryNetwork } from '../../core/transport/memory';
import { encodeMessage } from '../../core/wire/codec';

/** How many of n requests from `key`, all at the same instant, are admitted. */
function burst(limiter: RateLimiter, key: string, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (limiter.admit(key)) ok++;
  return ok;
}

describe('RateLimiter', () => {
  it('admits a burst, then refills at the configured rate on the injected clock', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock }, { requestsPerSecond: 100, burst: 10, global: false });
    expect(burst(limiter, 'a:1', 50)).toBe(10);
    clock.advance(50); // 50 ms at 100/s: 5 tokens
    expect(burst(limiter, 'a:1', 50)).toBe(5);
    clock.advance(10_000); // long quiet: back to the burst, never beyond it
    expect(burst(limiter, 'a:1', 50)).toBe(10);
    // Sustained: one request every 10 ms is exactly the rate, and all get through.
    let ok = 0;
    for (let i = 0; i < 1_000; i++) {
      clock.advance(10);
      if (limiter.admit('a:1')) ok++;
    }
    expect(ok).toBe(1_000);
    expect(limiter.stats).toMatchObject({ limitedPerAddress: 40 + 45 + 40, limitedGlobal: 0 });
  });

  it('keeps a bucket per address: one flooder does not use up anyone else\'s', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock }, { requestsPerSecond: 100, burst: 10, global: false });
    expect(burst(limiter, '10.0.0.66:6666', 10_000)).toBe(10);
    expect(burst(limiter, '10.0.0.2:4000', 10)).toBe(10);
    // host:port, not IP: two nodes behind one loopback address have their own buckets.
    expect(burst(limiter, '10.0.0.66:6667', 10)).toBe(10);
  });

  it('remembers at most maxTrackedAddresses buckets, forgetting the least recently seen', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock }, { requestsPerSecond: 1, burst: 2, maxTrackedAddresses: 100, global: false });
    for (let i = 0; i < 10_000; i++) limiter.admit(`10.0.${i >> 8}.${i & 0xff}:1`);
    expect(limiter.stats.tracked).toBe(100);
    // A recent address keeps its bucket (one token spent); a forgotten one comes back with a full one.
    expect(burst(limiter, '10.0.39.15:1', 2)).toBe(1); // i = 9999
    expect(burst(limiter, '10.0.0.0:1', 2)).toBe(2); // i = 0, long forgotten
  });

  it('caps everyone together with the global bucket, without charging the sender for it', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock }, { requestsPerSecond: 1_000, burst: 10, global: { requestsPerSecond: 100, burst: 25 } });
    let ok = 0;
    for (let i = 0; i < 10; i++) ok += burst(limiter, `10.0.0.${i}:1`, 10);
    expect(ok).toBe(25);
    expect(limiter.stats).toMatchObject({ admitted: 25, limitedGlobal: 75 });
    // Address 9 was refused only by the global cap: its own bucket is still full once the global refills.
    clock.advance(100); // global +10; per-address +100 (capped at 10)
    expect(burst(limiter, '10.0.0.9:1', 20)).toBe(10);
  });

  it('validates its options with clear messages', () => {
    const clock = new FakeClock();
    expect(() => new RateLimiter({ clock }, { requestsPerSecond: 0 })).toThrow(/rateLimit.requestsPerSecond must be a positive number; got 0/);
    expect(() => new RateLimiter({ clock }, { burst: Number.NaN })).toThrow(/rateLimit.burst/);
    expect(() => new RateLimiter({ clock }, { maxTrackedAddresses: 1.5 })).toThrow(/maxTrackedAddresses must be a positive integer/);
    expect(() => new RateLimiter({ clock }, { global: { requestsPerSecond: -1, burst: 1 } })).toThrow(/global.requestsPerSecond/);
    const d = new RateLimiter({ clock });
    expect([d.requestsPerSecond, d.burst]).toEqual([RATE_LIMIT_REQUESTS_PER_SECOND, RATE_LIMIT_BURST]);
  });
});

describe('a node\'s rate limits', () => {
  async function setup(options: Partial<DhtNodeOptions>) {
    const clock = new FakeClock();
    const net = new MemoryNetwork({ clock }, { seed: 1, latencyMs: { min: 1, max: 1 } });
    const node = DhtNode.create({ ...options, id: '11'.repeat(32), transport: net.createTransport({ host: '10.0.0.1', port: 4000 }), clock, randomBytes: seededRandomBytes(1) });
    await node.start();
    const flooder = net.createTransport({ host: '10.0.0.66', port: 6666 });
    let answers = 0;
    flooder.onMessage(() => answers++);
    await flooder.bind();
    const friend = DhtNode.create({ id: '22'.repeat(32), transport: net.createTransport({ host: '10.0.0.2', port: 4000 }), clock, randomBytes: seededRandomBytes(2) });
    await friend.start();
    const ping = encodeMessage({ kind: 'request', tid: 1, id: new Uint8Array(32).fill(0x66), method: 'PING' });
    return {
      clock,
      node,
      friend,
      flood: (n: number) => {
        for (let i = 0; i < n; i++) flooder.send(ping, node.address);
      },
      answers: () => answers,
      async stop() {
        await node.stop();
        await friend.stop();
        net.destroy();
      },
    };
  }

  it('are on by default: a flooding address gets its burst and then drops, counted as rate-limited; a friend is still answered', async () => {
    const s = await setup({});
    expect(s.node.rateLimiter).not.toBeNull();
    s.flood(1_000);
    await s.clock.tickAsync(5);
    // The flooder's PINGs come from an unverified address: the node also verifies it once (not answered here).
    expect(s.answers() - 1).toBe(RATE_LIMIT_BURST);
    expect(s.node.snapshot().counters.dropped['rate-limited']).toBe(1_000 - RATE_LIMIT_BURST);
    expect((await s.clock.run(s.friend.ping(s.node.address))).id).toBe(s.node.id);
    await s.stop();
  });

  it('follow the rateLimit option, and rateLimit: false turns them off', async () => {
    const limited = await setup({ rateLimit: { requestsPerSecond: 10, burst: 5 } });
    limited.flood(100);
    await limited.clock.tickAsync(5);
    expect(limited.node.snapshot().counters.dropped['rate-limited']).toBe(95);
    await limited.clock.tickAsync(1_000); // 10 tokens' worth of time, but the bucket holds at most the burst of 5
    limited.flood(100);
    await limited.clock.tickAsync(5);
    expect(limited.node.snapshot().counters.dropped['rate-limited']).toBe(95 + 95);
    await limited.stop();

    const open = await setup({ rateLimit: false });
    expect(open.node.rateLimiter).toBeNull();
    open.flood(1_000);
    await open.clock.tickAsync(5);
    expect(open.node.snapshot().counters.dropped['rate-limited']).toBeUndefined();
    expect(open.node.snapshot().counters.rpc.PING.received).toBe(1_000);
    await open.stop();
  });
});
