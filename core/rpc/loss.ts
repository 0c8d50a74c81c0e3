// Retries that follow the loss we see. One retry (RPC_RETRIES) is right for an ordinary network,
// but at 30% packet loss a round trip fails half the time (0.7 x 0.7 = 0.49 gets through), and two
// attempts reach a live node only 74% of the time: a lookup then misses the true closest node in a
// quarter of the cases. This policy estimates the round-trip loss from requests that were answered
// and asks for as many attempts as make a live node's silence unlikely (LOSS_TARGET).
//
// Only answered requests count: a node that is gone never answers, so churn does not look like loss
// and does not make the node wait longer on dead peers. In a lossless network every answer comes at
// the first attempt and the policy stays at the base retries. The price under heavy loss: a dead
// peer costs up to 11 attempts (22 s at the default 2 s timeout) instead of 2; under mild loss
// (2% per round trip) nothing changes. test/integration/hardening-loss-churn.test.ts holds it to
// finding the true closest node under 30% loss each way.
import { DhtError } from '../errors';

/** Chance, after all attempts, that a live node still looks silent: what the retries aim for. */
export const LOSS_TARGET = 0.0005;
/** Retries never go beyond this (11 attempts: a live node behind a 51% round-trip loss answers one of them 99.9% of the time). */
export const MAX_ADAPTIVE_RETRIES = 10;
/**
 * The share of "late" answers (answered after the first attempt) is measured two ways, and the larger
 * is used: a fast running average (each answer weighs 0.1, about the last 10 count), so that a node
 * reacts within its first lookup under loss, and the exact share over the last WINDOW answers, so
 * that a lucky streak does not drop the retries at once.
 */
const FAST_WEIGHT = 0.1;
const WINDOW = 64;
/** Answers seen before the estimate is trusted. */
const MIN_SAMPLES = 10;
/** Bisection steps when solving for the loss (precision 2^-30). */
const SOLVE_STEPS = 30;

export interface RetryPolicyOptions {
  /** Retries with no evidence of loss (RPC_RETRIES). */
  baseRetries: number;
  maxRetries?: number;
  target?: number;
}

export class RetryPolicy {
  private readonly base: number;
  private readonly max: number;
  private readonly logTarget: number;
  /** EWMA of "the first attempt went unanswered" over answered requests. */
  private lateFast = 0;
  /**
   * The last WINDOW answers (a ring), each as late (bit 0: the first attempt went unanswered) and
   * the attempts it was allowed (bits 1..8): one array, not two (a typed array costs ~180 bytes of
   * heap besides its data, and every node has a policy).
   */
  private readonly ring = new Uint16Array(WINDOW);
  private lateInRing = 0;
  private allowedInRing = 0;
  private samples = 0;
  private current: number;

  constructor(options: RetryPolicyOptions) {
    const { baseRetries } = options;
    if (!Number.isInteger(baseRetries) || baseRetries < 0) throw DhtError.invalidArgument(`retries must be a non-negative integer; got ${String(baseRetries)}`);
    this.base = baseRetries;
    this.max = Math.max(baseRetries, options.maxRetries ?? MAX_ADAPTIVE_RETRIES);
    this.logTarget = Math.log(options.target ?? LOSS_TARGET);
    this.current = baseRetries;
  }

  /** Retries to use for the next request. */
  retries(): number {
    return this.current;
  }

  /** Retries beyond the base that the loss calls for (0 on a clean network). */
  extraRetries(): number {
    return this.current - this.base;
  }

  /** The estimated chance that one attempt's round trip is lost (0 until there is evidence). */
  get estimatedLoss(): number {
    return this.samples < MIN_SAMPLES ? 0 : this.solve();
  }

  /** A request was answered at attempt `attempts` of at most `maxAttempts`. */
  answered(attempts: number, maxAttempts: number): void {
    if (maxAttempts < 2) return; // a single-attempt request says nothing about retries
    const late = attempts > 1 ? 1 : 0;
    this.lateFast += FAST_WEIGHT * (late - this.lateFast);
    const slot = this.samples % WINDOW;
    const allowed = Math.min(255, maxAttempts);
    if (this.samples >= WINDOW) {
      const old = this.ring[slot];
      this.lateInRing -= old & 1;
      this.allowedInRing -= old >>> 1;
    }
    this.ring[slot] = late | (allowed << 1);
    this.lateInRing += late;
    this.allowedInRing += allowed;
    this.samples++;
    if (this.samples < MIN_SAMPLES) return;
    const p = this.solve();
    if (p <= 0) {
      this.current = this.base;
      return;
    }
    const attemptsNeeded = Math.ceil(this.logTarget / Math.log(p));
    this.current = Math.min(this.max, Math.max(this.base, attemptsNeeded - 1));
  }

  /**
   * With round-trip loss p and M attempts allowed, an answered request needed more than one attempt
   * with probability (p - p^M) / (1 - p^M). Solves that for p, given the observed share.
   */
  private solve(): number {
    const n = Math.min(this.samples, WINDOW);
    const s = Math.max(this.lateFast, this.lateInRing / n);
    const m = this.allowedInRing / n;
    if (s <= 0) return 0;
    const share = (p: number): number => (p - p ** m) / (1 - p ** m);
    let lo = 0;
    let hi = 0.999;
    if (share(hi) <= s) return hi;
    for (let i = 0; i < SOLVE_STEPS; i++) {
      const mid = (lo + hi) / 2;
      if (share(mid) < s) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  }
}
