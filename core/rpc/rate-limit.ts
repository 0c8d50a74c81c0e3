// Admission control for incoming requests: a token bucket per source address, plus one global
// bucket. Whoever floods a node from one address gets `requestsPerSecond` of its attention and no
// more; everyone else keeps being answered. The global bucket bounds the total work a node does for
// requests, however many addresses (spoofed or not) they come from.
//
// Keyed by host:port, not by IP: on a loopback or private test network every node shares one IP,
// and a per-IP limit would throttle a whole local testnet. Buckets are refilled lazily from the
// injected clock (no timers), and kept in a bounded LRU map (ARCHITECTURE.md, habit 6): an address that falls out
// of it comes back with a full bucket, which is harmless since the global bucket still applies.
// A bucket that has refilled to the burst is the same as no bucket (a newcomer starts full), so
// each newcomer also checks the next two buckets of a sweep round the map and drops those full
// again: an honest peer's bucket refills 5 ms after its request, and keeping one per address that
// ever asked cost ~130 bytes each (13.7 KiB of a node's 90 in a 100-node UDP network).
import type { Clock } from '../clock';
import { DhtError } from '../errors';

/** Sustained requests per second admitted from one address. */
export const RATE_LIMIT_REQUESTS_PER_SECOND = 200;
/** Requests one address may send at once after a quiet spell (a lookup plus a burst of STOREs fits). */
export const RATE_LIMIT_BURST = 400;
/** Addresses whose buckets are remembered; the least recently seen is forgotten beyond this. */
export const RATE_LIMIT_MAX_TRACKED_ADDRESSES = 10_000;
/** Sustained requests per second admitted from everyone together. */
export const RATE_LIMIT_GLOBAL_REQUESTS_PER_SECOND = 10_000;
/** Global burst. */
export const RATE_LIMIT_GLOBAL_BURST = 20_000;

const MS_PER_SECOND = 1_000;
/** Buckets checked (and dropped when full again) per newcomer: more than one, so the map can shrink. */
const PRUNE_PER_INSERT = 2;

export interface RateLimitOptions {
  requestsPerSecond?: number;
  burst?: number;
  maxTrackedAddresses?: number;
  /** Global cap over all addresses; false turns it off. */
  global?: { requestsPerSecond: number; burst: number } | false;
}

export interface RateLimitStats {
  admitted: number;
  /** Refused because the sender's own bucket was empty. */
  limitedPerAddress: number;
  /** Refused because the global bucket was empty. */
  limitedGlobal: number;
  /** Buckets held right now (at most maxTrackedAddresses; buckets found full again are dropped). */
  tracked: number;
}

interface Bucket {
  tokens: number;
  /** Clock ms of the last refill. */
  at: number;
  /** `RateLimiter.inserts` when this bucket last moved to the recent end of the LRU order. */
  order: number;
}

/** A token bucket refilled at `perMs` tokens per ms up to `burst`, lazily. */
function take(b: Bucket, now: number, perMs: number, burst: number): boolean {
  if (now > b.at) {
    b.tokens = Math.min(burst, b.tokens + (now - b.at) * perMs);
    b.at = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

function positive(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw DhtError.invalidArgument(`rateLimit.${name} must be a positive number; got ${String(v)}`);
  return v;
}

/** Throws INVALID_ARGUMENT naming the first option a RateLimiter would refuse (its constructor runs this). */
export function checkRateLimitOptions(options: RateLimitOptions): void {
  positive('requestsPerSecond', options.requestsPerSecond ?? RATE_LIMIT_REQUESTS_PER_SECOND);
  positive('burst', options.burst ?? RATE_LIMIT_BURST);
  const max = options.maxTrackedAddresses ?? RATE_LIMIT_MAX_TRACKED_ADDRESSES;
  if (!Number.isInteger(max) || max < 1) throw DhtError.invalidArgument(`rateLimit.maxTrackedAddresses must be a positive integer; got ${String(max)}`);
  if (options.global) {
    positive('global.burst', options.global.burst);
    positive('global.requestsPerSecond', options.global.requestsPerSecond);
  }
}

export class RateLimiter {
  readonly requestsPerSecond: number;
  readonly burst: number;
  readonly maxTrackedAddresses: number;
  private readonly clock: Clock;
  private readonly perMs: number;
  private readonly global: { bucket: Bucket; perMs: number; burst: number } | null;
  /**
   * Insertion order is (nearly) recency order. A hit moves its key to the end only when the key is
   * in the older half (more than maxTrackedAddresses / 2 insertions ago): moving it on every
   * request cost a Map delete and insert per datagram. A key seen since the last
   * maxTrackedAddresses / 2 insertions is therefore never the one forgotten.
   */
  private readonly buckets = new Map<string, Bucket>();
  private inserts = 0;
  /** Where pruneFull() goes on from (null: start again from the oldest). */
  private sweep: MapIterator<[string, Bucket]> | null = null;
  private readonly recentWindow: number;
  private readonly counts = { admitted: 0, limitedPerAddress: 0, limitedGlobal: 0 };

  constructor(deps: { clock: Clock }, options: RateLimitOptions = {}) {
    checkRateLimitOptions(options);
    this.clock = deps.clock;
    this.requestsPerSecond = options.requestsPerSecond ?? RATE_LIMIT_REQUESTS_PER_SECOND;
    this.burst = options.burst ?? RATE_LIMIT_BURST;
    const max = options.maxTrackedAddresses ?? RATE_LIMIT_MAX_TRACKED_ADDRESSES;
    this.maxTrackedAddresses = max;
    this.recentWindow = Math.floor(max / 2);
    this.perMs = this.requestsPerSecond / MS_PER_SECOND;
    const g = options.global === undefined ? { requestsPerSecond: RATE_LIMIT_GLOBAL_REQUESTS_PER_SECOND, burst: RATE_LIMIT_GLOBAL_BURST } : options.global;
    this.global = g ? { bucket: { tokens: g.burst, at: this.clock.now(), order: 0 }, perMs: g.requestsPerSecond / MS_PER_SECOND, burst: g.burst } : null;
  }

  /** Whether a request from `key` (host:port) may be served now; spends a token when it may. */
  admit(key: string): boolean {
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (b) {
      if (this.inserts - b.order > this.recentWindow) {
        // In the older half: move to the most recent end of the LRU order.
        this.buckets.delete(key);
        b.order = ++this.inserts;
        this.buckets.set(key, b);
      }
    } else {
      this.pruneFull(now);
      b = { tokens: this.burst, at: now, order: ++this.inserts };
      if (this.buckets.size >= this.maxTrackedAddresses) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
      }
      this.buckets.set(key, b);
    }
    // The sender's own bucket first: a flooder's refused requests must not drain the global one.
    if (!take(b, now, this.perMs, this.burst)) {
      this.counts.limitedPerAddress++;
      return false;
    }
    if (this.global && !take(this.global.bucket, now, this.global.perMs, this.global.burst)) {
      // Not the sender's fault: give its token back.
      b.tokens += 1;
      this.counts.limitedGlobal++;
      return false;
    }
    this.counts.admitted++;
    return true;
  }

  /**
   * Checks the next PRUNE_PER_INSERT buckets of a sweep that goes round the map (a live Map
   * iterator), dropping those refilled to the burst by `now`: such a bucket admits exactly what a
   * newcomer's would (take() caps the refill at burst), so forgetting it changes no decision. Ones
   * still short are passed over, not moved, so the LRU order stays as it was.
   */
  private pruneFull(now: number): void {
    for (let n = 0; n < PRUNE_PER_INSERT; n++) {
      let next = this.sweep?.next();
      if (!next || next.done) {
        this.sweep = this.buckets.entries();
        next = this.sweep.next();
        if (next.done) return;
      }
      const [key, b] = next.value;
      if (b.tokens + (now - b.at) * this.perMs >= this.burst) this.buckets.delete(key);
    }
  }

  get stats(): RateLimitStats {
    return { ...this.counts, tracked: this.buckets.size };
  }
}
