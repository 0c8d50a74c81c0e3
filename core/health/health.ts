// Per-peer health: smoothed RTT, last contact, consecutive failures and the good / questionable /
// bad / unknown classification. Plain functions on a plain record, no timers and no I/O: the node
// reports what happened and passes the current time (ARCHITECTURE.md, habit 1); the routing table keeps one
// record per entry (its entries ARE health records, see core/routing/entry.ts).
import type { HealthState, PeerHealth } from '../types';

/** Weight of a new RTT sample in the EWMA; 1/8 as in TCP's SRTT (RFC 6298). */
export const RTT_EWMA_ALPHA = 0.125;
/** A peer that answered us within this window (and has no pending failures) is good (BEP 5's 15 minutes). */
export const GOOD_WINDOW_MS = 15 * 60 * 1000;
/** Consecutive unanswered requests after which a peer is bad and may be replaced at once. */
export const BAD_FAILURES = 3;

/** The mutable health record. Structurally the numeric half of PeerHealth (without `state`, which depends on `now`). */
export interface PeerHealthRecord {
  /** Smoothed round-trip time, ms; null before the first timed answer. */
  rttMs: number | null;
  /** Clock ms of the last datagram from this peer that we accepted (answer or valid request); null if never. */
  lastSeen: number | null;
  /** Consecutive requests without an answer; reset by any answer. */
  failures: number;
  /** Answers received. */
  answered: number;
  /** Requests that resolved (answered or failed); counted when they resolve, so in-flight ones are not included. */
  queried: number;
}

export interface HealthOptions {
  /** Default GOOD_WINDOW_MS. */
  goodWindowMs?: number;
  /** Default BAD_FAILURES. */
  badFailures?: number;
}

export function newPeerHealth(): PeerHealthRecord {
  return { rttMs: null, lastSeen: null, failures: 0, answered: 0, queried: 0 };
}

/**
 * One EWMA step: the first sample is taken as is, then srtt = (1 - alpha) * srtt + alpha * sample.
 * A sample that is not a finite number >= 0 is ignored (prev is returned), so a clock glitch can't
 * poison the estimate.
 */
export function ewma(prev: number | null, sample: number, alpha = RTT_EWMA_ALPHA): number | null {
  if (!Number.isFinite(sample) || sample < 0) return prev;
  if (prev === null) return sample;
  return prev + alpha * (sample - prev);
}

/** The peer answered one of our requests (rttMs: that request's round trip, if it was timed). */
export function recordAnswer(h: PeerHealthRecord, now: number, rttMs?: number): void {
  h.answered++;
  h.queried++;
  h.failures = 0;
  h.lastSeen = now;
  if (rttMs !== undefined) h.rttMs = ewma(h.rttMs, rttMs);
}

/**
 * The peer sent us a valid request. It proves the peer is alive but not that it answers, so the
 * failure count stays (BEP 5: a node that never answered is not good however much it talks).
 */
export function recordHeard(h: PeerHealthRecord, now: number): void {
  h.lastSeen = now;
}

/** One of our requests to the peer went unanswered (after the RPC layer's retries). */
export function recordTimeout(h: PeerHealthRecord): void {
  h.failures++;
  h.queried++;
}

/** Bad is time-independent (failures only), so hot paths such as closest() need no `now`. */
export function isBad(h: Pick<PeerHealthRecord, 'failures'>, badFailures = BAD_FAILURES): boolean {
  return h.failures >= badFailures;
}

/**
 * Classifies a peer, in this order:
 *   bad          failures >= badFailures
 *   questionable 1..badFailures-1 consecutive failures (answered before or not)
 *   unknown      never answered us and no failures (e.g. it only sent us requests)
 *   good         answered at least once and heard from (any accepted datagram) less than goodWindowMs ago
 *   questionable otherwise: silent for goodWindowMs or more
 * "Heard from" counts requests too, as BEP 5 does: a peer that answered once and keeps querying us is good.
 */
export function healthState(h: PeerHealthRecord, now: number, opts: HealthOptions = {}): HealthState {
  const badFailures = opts.badFailures ?? BAD_FAILURES;
  const goodWindowMs = opts.goodWindowMs ?? GOOD_WINDOW_MS;
  if (h.failures >= badFailures) return 'bad';
  if (h.failures > 0) return 'questionable';
  if (h.answered === 0) return 'unknown';
  if (h.lastSeen !== null && now - h.lastSeen < goodWindowMs) return 'good';
  return 'questionable';
}

/** The PeerHealth DTO (core/types.ts) for a record at time `now`. */
export function toPeerHealth(h: PeerHealthRecord, now: number, opts: HealthOptions = {}): PeerHealth {
  return {
    state: healthState(h, now, opts),
    rttMs: h.rttMs,
    lastSeen: h.lastSeen,
    failures: h.failures,
    answered: h.answered,
    queried: h.queried,
  };
}
