// Broadcast to the whole network, the Kademlia way (El-Ansary et al., "Efficient broadcast in
// structured P2P networks"; go-dht's and Insolar's Broadcast): the origin sends to one contact in
// each of its buckets; a node that got the message from a peer in its bucket i (the peer shares
// exactly i leading bits with it) forwards it to one contact in each of its buckets i+1, i+2, ...
// Bucket j of a node holds the nodes that share exactly j bits with it, so the ranges handed on are
// disjoint and together cover the receiver's side of the sender's split: with routing tables that
// know someone in every non-empty range, every node gets the message once, in about log2(n) hops.
//
// Routing tables are never complete: a node may know nobody in a range where nodes exist (a bucket
// far from its own id that no lookup passed through). An empty bucket below our nearest non-empty
// one is therefore asked about before it is given up: FIND_NODE for an id in that range, to the
// two contacts we know closest to it, and the message goes to a node they name in it. Without this,
// a 300-node memory network joined without bucket refresh got a broadcast to 196 of 299 nodes;
// with it, to all of them.
//
// The range a receiver covers is computed from the sender's id (the request's header), so no field
// carries it and no sender can widen it beyond what its id implies. Each forward is a request that
// the receiver acknowledges at once (before forwarding further); a contact that does not answer is
// replaced by the next one in the same bucket.
//
// Defences, each bounded: a seen-set (origin + random id, with expiry) answers duplicates without
// delivering or forwarding them again; a hop limit set by the origin; token buckets for broadcasts
// we start, per origin and for all we relay; BROADCAST_MAX_RECENT received ones kept for the UI.
import type { Clock } from '../clock';
import { DhtError } from '../errors';
import { bucketIndex, bytesToHex, type RandomBytes } from '../id';
import { checkRateLimitOptions, RateLimiter, type RateLimitOptions } from '../rpc/rate-limit';
import type { Endpoint } from '../transport/types';
import type { Contact } from '../types';
import { BROADCAST_ID_BYTES, MAX_BROADCAST_BYTES, MAX_BROADCAST_HOPS, type RequestArgs } from '../wire/types';
import { LazyMap } from '../lazy-map';

/** Default hop limit: a path descends at least one bucket per hop, and ~log2(n) buckets are non-empty. */
export const BROADCAST_HOP_LIMIT = 32;
/** Broadcasts remembered for duplicate suppression, and for how long. */
export const BROADCAST_SEEN_MAX = 8_192;
export const BROADCAST_SEEN_TTL_MS = 10 * 60_000;
/** Received broadcasts kept for the explorer. */
export const BROADCAST_MAX_RECENT = 200;
/** Broadcasts this node may start: sustained per second, and burst. */
export const BROADCAST_START_PER_SECOND = 1;
export const BROADCAST_START_BURST = 10;
/** New broadcasts accepted (delivered and relayed) from one origin id. */
export const BROADCAST_ORIGIN_PER_SECOND = 2;
export const BROADCAST_ORIGIN_BURST = 20;
/** New broadcasts accepted from all origins together: what one node relays for the network. */
export const BROADCAST_RELAY_PER_SECOND = 20;
export const BROADCAST_RELAY_BURST = 100;
/** Contacts of one bucket tried, one after the other, before that range is given up. */
export const BROADCAST_FORWARD_TRIES = 3;
/** Origin ids whose token buckets are remembered. */
const MAX_TRACKED_ORIGINS = 4_096;

export interface BroadcastOptions {
  /** Hops the message may make from the origin, 1..64 (default 32). */
  hopLimit?: number;
  /** Token buckets; false turns all three off (tests of the spreading itself). */
  rateLimit?:
    | {
        startPerSecond?: number;
        startBurst?: number;
        originPerSecond?: number;
        originBurst?: number;
        relayPerSecond?: number;
        relayBurst?: number;
      }
    | false;
}

/** A broadcast this node received, as the explorer lists it. */
export interface BroadcastInfo {
  /** Hex of the origin's random 8-byte id for it. */
  id: string;
  /** Hex id of the node that started it (as claimed: broadcasts are not signed). */
  origin: string;
  /** The peer that handed it to us. */
  from: Contact;
  /** Hops from the origin to us (1 = straight from the origin). */
  hops: number;
  hopLimit: number;
  /** Clock ms when it arrived. */
  receivedAt: number;
  /** A copy of the payload (at most 1,000 bytes). */
  payload: Uint8Array;
}

export interface BroadcastResult {
  /** Hex id of the broadcast. */
  id: string;
  /** Bucket ranges it was handed to (a contact acknowledged it), and ranges where every try failed. */
  reached: number;
  failed: number;
}

export interface BroadcastStats {
  started: number;
  /** New broadcasts received and delivered here. */
  delivered: number;
  duplicates: number;
  /** Forwards acknowledged by a contact, and ranges given up after BROADCAST_FORWARD_TRIES. */
  forwarded: number;
  forwardFailures: number;
  /** Empty buckets asked about (findInRange), and those where someone was found. */
  rangeQueries: number;
  rangesFound: number;
  /** Refused by the per-origin or relay rate limit. */
  rateLimited: number;
  /** Delivered but not forwarded: the hop limit was reached. */
  hopLimited: number;
}

/** The stats of a node that has started and received none. */
export const NO_BROADCASTS: Readonly<BroadcastStats> = Object.freeze({ started: 0, delivered: 0, duplicates: 0, forwarded: 0, forwardFailures: 0, rangeQueries: 0, rangesFound: 0, rateLimited: 0, hopLimited: 0 });

export interface BroadcasterDeps {
  clock: Clock;
  selfId: Uint8Array;
  randomBytes: RandomBytes;
  /** The routing table's buckets by index (shared-prefix length with us), healthiest contacts first. */
  bucketContacts(): Array<{ index: number; contacts: Array<Contact & { idBytes: Uint8Array }> }>;
  /** Contacts other nodes name in our bucket `index` (for a bucket of ours that is empty). */
  findInRange(index: number, signal: AbortSignal): Promise<Array<Contact & { idBytes: Uint8Array }>>;
  /** Sends one BROADCAST request; resolves on the acknowledgement, rejects on an error or timeout. */
  send(to: Endpoint, args: Extract<RequestArgs, { method: 'BROADCAST' }>, signal: AbortSignal): Promise<void>;
  /** A new broadcast arrived. */
  deliver(info: BroadcastInfo): void;
  signal: AbortSignal;
}

/** Seen broadcasts in arrival order (so the oldest is first): bounded, with expiry. */
class SeenSet {
  private readonly until = new LazyMap<string, number>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

  /** True if `key` was seen and has not expired; otherwise marks it seen now. */
  checkAndAdd(key: string, now: number): boolean {
    for (const [k, t] of this.until) {
      if (t > now && this.until.size < this.max) break;
      this.until.delete(k);
    }
    if (this.until.has(key)) return true;
    this.until.set(key, now + this.ttlMs);
    return false;
  }

  get size(): number {
    return this.until.size;
  }
}

export class Broadcaster {
  readonly stats: BroadcastStats = { ...NO_BROADCASTS };
  private readonly deps: BroadcasterDeps;
  private readonly seen = new SeenSet(BROADCAST_SEEN_MAX, BROADCAST_SEEN_TTL_MS);
  private readonly recentList: BroadcastInfo[] = [];
  private readonly hopLimit: number;
  private readonly startLimit: RateLimiter | null;
  private readonly originLimit: RateLimiter | null;

  constructor(deps: BroadcasterDeps, options: BroadcastOptions = {}) {
    this.deps = deps;
    this.hopLimit = checkHopLimit(options.hopLimit ?? BROADCAST_HOP_LIMIT);
    const rl = rateLimitsOf(options);
    this.startLimit = rl ? new RateLimiter({ clock: deps.clock }, startLimits(rl)) : null;
    this.originLimit = rl ? new RateLimiter({ clock: deps.clock }, originLimits(rl)) : null;
  }

  /** Received broadcasts, newest last. */
  recent(): BroadcastInfo[] {
    return [...this.recentList];
  }

  /** Starts a broadcast: resolves once every bucket range was handed it (or given up). */
  async start(payload: Uint8Array, options: { hopLimit?: number } = {}): Promise<BroadcastResult> {
    if (!(payload instanceof Uint8Array)) throw DhtError.invalidArgument('broadcast: the payload must be bytes or a string');
    if (payload.length > MAX_BROADCAST_BYTES) throw DhtError.invalidArgument(`broadcast: the payload is ${payload.length} bytes; at most ${MAX_BROADCAST_BYTES}`);
    const hopLimit = checkHopLimit(options.hopLimit ?? this.hopLimit);
    if (this.startLimit && !this.startLimit.admit('self')) {
      throw new DhtError('RATE_LIMITED', `broadcast: at most ${this.startLimit.requestsPerSecond} a second (bursts of ${this.startLimit.burst}) may be started`);
    }
    const bid = this.deps.randomBytes(BROADCAST_ID_BYTES);
    const origin = this.deps.selfId;
    this.seen.checkAndAdd(seenKey(origin, bid), this.deps.clock.now());
    this.stats.started++;
    const { reached, failed } = await this.forward({ method: 'BROADCAST', origin, bid, hops: 1, hopLimit, payload: payload.slice() }, -1);
    return { id: bytesToHex(bid), reached, failed };
  }

  /**
   * A BROADCAST from `from`: an acknowledgement (null body), or a refusal. A new one is delivered,
   * then forwarded below the sender's bucket in the background.
   */
  receive(req: Extract<RequestArgs, { method: 'BROADCAST' }>, from: Contact & { idBytes: Uint8Array }): DhtError | null {
    const now = this.deps.clock.now();
    const key = seenKey(req.origin, req.bid);
    if (this.seen.checkAndAdd(key, now)) {
      this.stats.duplicates++;
      return null;
    }
    if (this.originLimit && !this.originLimit.admit(bytesToHex(req.origin))) {
      this.stats.rateLimited++;
      return DhtError.refusal('RATE_LIMITED', 'broadcast refused: too many from this origin, or relayed by this node');
    }
    const payload = req.payload.slice();
    const info: BroadcastInfo = {
      id: bytesToHex(req.bid),
      origin: bytesToHex(req.origin),
      from: { id: from.id, host: from.host, port: from.port },
      hops: req.hops,
      hopLimit: req.hopLimit,
      receivedAt: now,
      payload,
    };
    this.recentList.push(info);
    if (this.recentList.length > BROADCAST_MAX_RECENT) this.recentList.shift();
    this.stats.delivered++;
    this.deps.deliver(info);
    if (req.hops >= req.hopLimit) {
      this.stats.hopLimited++;
      return null;
    }
    // Our bucket for the sender: we cover the ranges nearer us than that.
    const below = bucketIndex(this.deps.selfId, from.idBytes);
    const args = { method: 'BROADCAST' as const, origin: req.origin.slice(), bid: req.bid.slice(), hops: req.hops + 1, hopLimit: req.hopLimit, payload };
    void this.forward(args, below);
    return null;
  }

  /**
   * Hands `args` to one contact in every bucket with index > `below`, all ranges at once; an empty
   * bucket below our nearest non-empty one is asked about first (see the top of this file).
   */
  private async forward(args: Extract<RequestArgs, { method: 'BROADCAST' }>, below: number): Promise<{ reached: number; failed: number }> {
    const buckets = this.deps.bucketContacts().filter((b) => b.index > below && b.contacts.length > 0);
    const work: Array<Promise<boolean | null>> = buckets.map((b) => this.forwardToRange(args, b.contacts));
    const highest = buckets.length > 0 ? Math.max(...buckets.map((b) => b.index)) : -1;
    const filled = new Set(buckets.map((b) => b.index));
    for (let i = below + 1; i < highest; i++) if (!filled.has(i)) work.push(this.forwardToUnknownRange(args, i));
    const outcomes = await Promise.all(work);
    let reached = 0;
    let failed = 0;
    for (const ok of outcomes) {
      if (ok === true) reached++;
      else if (ok === false) failed++;
    }
    return { reached, failed };
  }

  /** An empty bucket: whoever others name in its range gets the message; null when nobody is there. */
  private async forwardToUnknownRange(args: Extract<RequestArgs, { method: 'BROADCAST' }>, index: number): Promise<boolean | null> {
    this.stats.rangeQueries++;
    let found: Array<Contact & { idBytes: Uint8Array }>;
    try {
      found = await this.deps.findInRange(index, this.deps.signal);
    } catch {
      return null;
    }
    if (found.length === 0) return null;
    this.stats.rangesFound++;
    return this.forwardToRange(args, found);
  }

  private async forwardToRange(args: Extract<RequestArgs, { method: 'BROADCAST' }>, contacts: Array<Contact & { idBytes: Uint8Array }>): Promise<boolean> {
    const originHex = bytesToHex(args.origin);
    let tries = 0;
    for (const c of contacts) {
      if (tries >= BROADCAST_FORWARD_TRIES || this.deps.signal.aborted) break;
      if (c.id === originHex) continue;
      tries++;
      try {
        await this.deps.send({ host: c.host, port: c.port }, args, this.deps.signal);
        this.stats.forwarded++;
        return true;
      } catch {
        // Next contact in the same range.
      }
    }
    this.stats.forwardFailures++;
    return false;
  }
}

type BroadcastRateLimits = Exclude<BroadcastOptions['rateLimit'], false | undefined>;

/** The rate limits asked for (defaults for those not given), or null when they are off. */
function rateLimitsOf(options: BroadcastOptions): BroadcastRateLimits | null {
  return options.rateLimit === false ? null : (options.rateLimit ?? {});
}

/** Starts by this node: one bucket. */
function startLimits(rl: BroadcastRateLimits): RateLimitOptions {
  return { requestsPerSecond: rl.startPerSecond ?? BROADCAST_START_PER_SECOND, burst: rl.startBurst ?? BROADCAST_START_BURST, maxTrackedAddresses: 1, global: false };
}

/** Per origin id, under a global bucket for everything relayed. */
function originLimits(rl: BroadcastRateLimits): RateLimitOptions {
  return {
    requestsPerSecond: rl.originPerSecond ?? BROADCAST_ORIGIN_PER_SECOND,
    burst: rl.originBurst ?? BROADCAST_ORIGIN_BURST,
    maxTrackedAddresses: MAX_TRACKED_ORIGINS,
    global: { requestsPerSecond: rl.relayPerSecond ?? BROADCAST_RELAY_PER_SECOND, burst: rl.relayBurst ?? BROADCAST_RELAY_BURST },
  };
}

/**
 * Throws INVALID_ARGUMENT for options a Broadcaster would refuse. A node checks its options with
 * this when it is made and builds its Broadcaster on the first broadcast it starts or receives.
 */
export function checkBroadcastOptions(options: BroadcastOptions = {}): void {
  checkHopLimit(options.hopLimit ?? BROADCAST_HOP_LIMIT);
  const rl = rateLimitsOf(options);
  if (rl) {
    checkRateLimitOptions(startLimits(rl));
    checkRateLimitOptions(originLimits(rl));
  }
}

function seenKey(origin: Uint8Array, bid: Uint8Array): string {
  return bytesToHex(origin) + bytesToHex(bid);
}

function checkHopLimit(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_BROADCAST_HOPS) throw DhtError.invalidArgument(`broadcast: hopLimit must be an integer 1..${MAX_BROADCAST_HOPS}; got ${String(n)}`);
  return n;
}
