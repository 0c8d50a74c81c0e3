// The Kademlia routing table: one k-bucket per shared-prefix length with our id (0..255), created
// lazily. A pure data structure (ARCHITECTURE.md, habit 1): no I/O, no timers, time is an argument. When a
// bucket is full the table does not ping anyone; it returns a decision ('pending-ping') and the node
// reports the outcome with pingAnswered / pingFailed.
//
// Who may enter: the node calls observe() only for peers that answered us or sent us a valid
// request, never for ids it merely heard of from third parties (a lookup's referrals), so hearsay
// cannot poison the table. On top of that the table enforces one id per host:port and, when
// enabled, IP diversity limits (diversity.ts).
import { DhtError } from '../errors';
import { ID_BITS, ID_BYTES, bytesToHex, bucketIndex, commonPrefixLength, compareDistance, hexBucketIndex, idFromHex, isIdHex } from '../id';
import type { BucketInfo, Contact, HealthState, PeerInfo } from '../types';
import {
  BAD_FAILURES,
  ewma,
  healthState,
  isBad,
  newPeerHealth,
  recordAnswer,
  recordHeard,
  recordTimeout,
  type HealthOptions,
} from '../health/health';
import { Bucket } from './bucket';
import { ipKey, resolveDiversity, subnetKey, type DiversityOptions, type ResolvedDiversity } from './diversity';
import {
  CachedCandidate,
  FAILURES_MAX,
  sharedContact,
  TableEntry,
  toBucketInfo,
  toPeerInfo,
  type BucketView,
  type RoutingEntry,
} from './entry';
import { LazyMap } from '../lazy-map';

/** Kademlia's k: entries per bucket, and the size of a FIND_NODE answer. */
export const DEFAULT_K = 20;
/** Upper bound on k, so a typo in a config cannot make buckets unbounded in practice. */
export const MAX_K = 1024;
/** Number of buckets of a table of kadscope's 256-bit ids: one per possible shared-prefix length (a table has one per bit of its ids). */
export const BUCKET_COUNT = ID_BITS;
/** Id lengths a table accepts (Mainline's 20 bytes, kadscope's and HyperDHT's 32). */
const MIN_ID_BYTES = 4;
const MAX_ID_BYTES = 64;

export interface RoutingTableOptions {
  /** Bytes of every id in the table, self's included: the protocol's id length (default kadscope's 32; Mainline 20). */
  idBytes?: number;
  /** Entries per bucket. Default DEFAULT_K. */
  k?: number;
  /** Candidates kept per bucket for when an entry goes away. Default k. */
  replacementCacheSize?: number;
  /**
   * IP diversity limits. Default: enabled with the default limits. A node should pass
   * diversityForHost(boundHost) so local and private test networks run without them.
   */
  diversity?: DiversityOptions;
  /** Health thresholds (GOOD_WINDOW_MS, BAD_FAILURES by default). */
  health?: HealthOptions;
}

export type RejectReason = 'self' | 'diversity' | 'id-address-conflict';

export type ObserveResult =
  /** A new peer took a free slot. */
  | { kind: 'added'; entry: RoutingEntry }
  /** A known peer was seen again: health updated, moved to the tail (most recently seen). */
  | { kind: 'updated'; entry: RoutingEntry }
  /** A new peer took the slot of a bad one (bad oldest of a full bucket, or bad holder of its address). */
  | { kind: 'replaced'; entry: RoutingEntry; evicted: RoutingEntry }
  /**
   * The bucket is full of peers that are not bad. The candidate is now in the replacement cache;
   * the node should ping `oldest` and report pingAnswered or pingFailed. Each further candidate for
   * the same bucket returns the same `oldest` until that is resolved: the node dedupes its pings.
   */
  | { kind: 'pending-ping'; oldest: RoutingEntry; candidate: Contact }
  | { kind: 'rejected'; reason: RejectReason };

export interface ObserveOptions {
  /**
   * Present when this contact is answering one of our requests: the request's round trip in ms.
   * It counts as an answer in the peer's health (do not also call recordSuccess for it). Absent
   * when the peer sent us a request: only lastSeen moves.
   */
  rttMs?: number;
}

export interface Eviction {
  evicted: RoutingEntry;
  /** The replacement that took the slot. */
  promoted: RoutingEntry;
}

export interface ClosestOptions {
  /** Hex ids to leave out (e.g. the requester of a FIND_NODE). */
  exclude?: ReadonlySet<string>;
  /** Include bad peers (>= BAD_FAILURES consecutive failures). Default false. */
  includeBad?: boolean;
}

export class RoutingTable {
  readonly k: number;
  readonly replacementCacheSize: number;
  readonly selfId: string;
  private readonly self: Uint8Array;
  private readonly diversity: ResolvedDiversity;
  private readonly healthOptions: HealthOptions;
  private readonly badFailures: number;
  /** Sparse: a bucket exists once something was stored in it or it was touched. */
  private readonly table: (Bucket | undefined)[];
  /** Bytes of every id in this table: self's length (32 for kadscope, 20 for Mainline). */
  readonly idBytes: number;
  /** One bucket per bit of the ids. */
  readonly bucketCount: number;
  /** Highest index of an existing bucket, -1 if none: closest() scans no further. */
  private highest = -1;
  /**
   * Entries held. No map by id or by address: an id's bucket is fixed by the id, so finding it
   * scans at most k entries (find), and an address is looked for only when a new id arrives
   * (holderAt). Two maps of ~100 entries were ~7 KB of each node's heap (16%).
   */
  private count = 0;
  /** subnetKey -> entries in that /24 or /48 (kept only while limits are on; bounded by size). */
  private readonly subnetCounts = new LazyMap<string, number>();
  /** ipKey -> entries at that IP, any port (kept only while limits are on). */
  private readonly ipCounts = new LazyMap<string, number>();

  constructor(self: Uint8Array, options: RoutingTableOptions = {}) {
    const idBytes = options.idBytes ?? ID_BYTES;
    if (!Number.isInteger(idBytes) || idBytes < MIN_ID_BYTES || idBytes > MAX_ID_BYTES) {
      throw DhtError.invalidArgument(`routing table: idBytes must be an integer in ${MIN_ID_BYTES}..${MAX_ID_BYTES}; got ${String(options.idBytes)}`);
    }
    if (!(self instanceof Uint8Array) || self.length !== idBytes) {
      throw DhtError.invalidArgument(`routing table: self id must be ${idBytes} bytes`);
    }
    this.idBytes = self.length;
    this.bucketCount = self.length * 8;
    // Grown as buckets appear (a node holds about log2(network size) of them, not one per bit).
    this.table = [];
    const k = options.k ?? DEFAULT_K;
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw DhtError.invalidArgument(`routing table: k must be an integer in 1..${MAX_K}; got ${String(options.k)}`);
    const rc = options.replacementCacheSize ?? k;
    if (!Number.isInteger(rc) || rc < 0 || rc > MAX_K) {
      throw DhtError.invalidArgument(`routing table: replacementCacheSize must be an integer in 0..${MAX_K}; got ${String(options.replacementCacheSize)}`);
    }
    this.self = new Uint8Array(self);
    this.selfId = bytesToHex(this.self);
    this.k = k;
    this.replacementCacheSize = rc;
    this.diversity = resolveDiversity(options.diversity ?? { enabled: true });
    this.healthOptions = { ...options.health };
    const badFailures = options.health?.badFailures ?? BAD_FAILURES;
    // An entry counts failures up to FAILURES_MAX: a higher threshold would never be reached.
    if (!Number.isInteger(badFailures) || badFailures < 1 || badFailures > FAILURES_MAX) {
      throw DhtError.invalidArgument(`routing table: health.badFailures must be an integer in 1..${FAILURES_MAX}; got ${String(options.health?.badFailures)}`);
    }
    this.badFailures = badFailures;
  }

  /** Whether IP diversity limits are enforced (the UI shows it). */
  get diversityEnabled(): boolean {
    return this.diversity.enabled;
  }

  /** Number of entries (replacement candidates not included). */
  get size(): number {
    return this.count;
  }

  get(id: string): RoutingEntry | undefined {
    return typeof id === 'string' ? this.find(id.toLowerCase()) : undefined;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Every entry, farthest bucket first, least recently seen first within a bucket. */
  entries(): RoutingEntry[] {
    const out: RoutingEntry[] = [];
    for (let i = 0; i <= this.highest; i++) {
      const b = this.table[i];
      if (b) out.push(...b.entries);
    }
    return out;
  }

  /** The bucket an id falls in (0..255), or -1 for our own id. */
  bucketIndexOf(idBytes: Uint8Array): number {
    return bucketIndex(this.self, idBytes);
  }

  /**
   * Whether a new peer with this id could take a slot now: its bucket has room or holds a bad
   * entry. Lets the node skip verifying strangers it would only put in a replacement cache.
   */
  hasRoomFor(idBytes: Uint8Array): boolean {
    const index = bucketIndex(this.self, idBytes);
    if (index < 0) return false;
    const bucket = this.table[index];
    return !bucket || !bucket.isFull || bucket.findOldest((e) => isBad(e, this.badFailures)) !== undefined;
  }

  /**
   * Records that `contact` answered us (opts.rttMs set) or sent us a valid request (no rttMs), and
   * decides its place. See ObserveResult. Throws DhtError INVALID_ARGUMENT for a malformed contact
   * (a programming error in the caller; the table is unchanged).
   */
  observe(contact: Contact, now: number, opts: ObserveOptions = {}): ObserveResult {
    // A known id at its known address (most calls: every answer and request of a peer we have)
    // needs no parsing or validation: find() matches only ids the table holds, and the address is the entry's.
    const known = typeof contact === 'object' && contact !== null ? this.find(contact.id) : undefined;
    if (known !== undefined && known.host === contact.host && known.port === contact.port) return this.heardAgain(known, now, opts);
    const idBytes = checkContact(contact, this.idBytes);
    const id = contact.id.toLowerCase();
    if (id === this.selfId) return { kind: 'rejected', reason: 'self' };
    const { host, port } = contact;
    // Found above unless the caller spelled the id in upper case.
    const existing = known ?? (id !== contact.id ? this.find(id) : undefined);
    if (existing) return this.observeKnown(existing, host, port, now, opts);
    const holder = this.holderAt(host, port);

    const index = bucketIndex(this.self, idBytes);
    const bucket = this.table[index];

    if (holder) {
      // Someone else holds this host:port. A healthy holder wins: one address must not put many
      // ids into our table. A bad holder has most likely been replaced by this node, so it goes,
      // provided that frees or finds a slot without a second eviction.
      if (!isBad(holder, this.badFailures)) return reject('id-address-conflict');
      if (holder.bucket !== index && bucket?.isFull) return reject('id-address-conflict');
      if (this.diversityRejects(host, index, holder)) return reject('diversity');
      this.detach(holder);
      const entry = this.insertNew(id, idBytes, host, port, index, now, opts);
      return { kind: 'replaced', entry, evicted: holder };
    }

    if (!bucket || !bucket.isFull) {
      if (this.diversityRejects(host, index)) return reject('diversity');
      return { kind: 'added', entry: this.insertNew(id, idBytes, host, port, index, now, opts) };
    }

    // Full bucket: a bad entry makes room at once; otherwise the oldest has to prove it is alive.
    const bad = bucket.findOldest((e) => isBad(e, this.badFailures));
    if (bad) {
      if (this.diversityRejects(host, index, bad)) return reject('diversity');
      this.detach(bad);
      const entry = this.insertNew(id, idBytes, host, port, index, now, opts);
      return { kind: 'replaced', entry, evicted: bad };
    }
    if (this.diversityRejects(host, index)) return reject('diversity');
    this.cacheCandidate(bucket, id, idBytes, host, port, now, opts.rttMs);
    return { kind: 'pending-ping', oldest: bucket.oldest()!, candidate: { id, host, port } };
  }

  /** The oldest of a full bucket answered our ping: it stays, as the most recently seen. */
  pingAnswered(id: string, now: number, rttMs?: number): RoutingEntry | undefined {
    return this.recordSuccess(id, now, rttMs);
  }

  /**
   * The oldest of a full bucket did not answer our ping (after the RPC layer's retries). It is
   * evicted in favour of the newest valid replacement; with no replacement it stays (with one more
   * failure), as the Kademlia paper keeps stale contacts rather than emptying buckets.
   * Returns the eviction, or null when nothing was evicted (unknown id, or no replacement).
   */
  pingFailed(id: string, now: number): Eviction | null {
    const entry = this.find(id.toLowerCase());
    if (!entry) return null;
    recordTimeout(entry);
    return this.replaceWithCandidate(entry, now);
  }

  /** A request to a peer in the table was answered: health updated, moved to the tail. */
  recordSuccess(id: string, now: number, rttMs?: number): RoutingEntry | undefined {
    const entry = this.find(id.toLowerCase());
    if (!entry) return undefined;
    recordAnswer(entry, now, rttMs);
    this.table[entry.bucket]!.moveToTail(entry);
    return entry;
  }

  /**
   * A request to a peer in the table went unanswered. When the peer thereby becomes bad and its
   * bucket has a valid replacement, the replacement takes its slot and the eviction is returned.
   */
  recordFailure(id: string, now: number): Eviction | null {
    const entry = this.find(id.toLowerCase());
    if (!entry) return null;
    recordTimeout(entry);
    if (!isBad(entry, this.badFailures)) return null;
    return this.replaceWithCandidate(entry, now);
  }

  /** Removes a peer (and any cached candidate with that id). The slot refills on a later observe. */
  remove(id: string): RoutingEntry | undefined {
    const key = id.toLowerCase();
    const entry = this.find(key);
    if (entry) {
      this.detach(entry);
      return entry;
    }
    // Not in the table: it may be a candidate. Its bucket is fixed by its id.
    if (isIdHex(key, this.idBytes)) this.table[bucketIndex(this.self, idFromHex(key, this.idBytes))]?.removeReplacement(key);
    return undefined;
  }

  /**
   * The n entries nearest `target` by XOR distance, nearest first.
   *
   * Not a sort of the whole table: with t = the prefix length target shares with us, bucket t holds
   * the entries nearest the target (they agree with it on bits 0..t), then come all buckets > t
   * together (their distances share top bit t, so they are merged and sorted), then buckets t-1,
   * t-2, ..., 0, each strictly farther than the last. Only the groups needed to reach n are sorted.
   */
  closest(target: Uint8Array, n: number, opts: ClosestOptions = {}): RoutingEntry[] {
    if (target.length !== this.idBytes) throw DhtError.invalidArgument(`closest: target must be ${this.idBytes} bytes; got ${target.length}`);
    const out: RoutingEntry[] = [];
    if (!(n > 0) || this.count === 0) return out;
    const exclude = opts.exclude;
    const includeBad = opts.includeBad ?? false;
    // Answering every FIND_NODE runs this, so no closures: the group gathers in a reused scratch array.
    const group = closestScratch;
    group.length = 0;
    const t = commonPrefixLength(this.self, target); // 0..256; 256 when target is our id
    // Bucket t first, then buckets > t merged, then t-1 down to 0 (see the comment above).
    let i = t < this.bucketCount ? t : this.highest + 1;
    let down = Math.min(t, this.bucketCount) - 1;
    for (;;) {
      if (i === t) {
        this.collectInto(group, this.table[t], exclude, includeBad);
        i = t + 1;
      } else if (i <= this.highest) {
        for (; i <= this.highest; i++) this.collectInto(group, this.table[i], exclude, includeBad);
      } else if (down >= 0) {
        this.collectInto(group, this.table[down--], exclude, includeBad);
      } else {
        break;
      }
      if (group.length === 0) continue;
      sortByDistanceKey(target, group);
      for (let g = 0; g < group.length && out.length < n; g++) out.push(group[g]);
      group.length = 0;
      if (out.length >= n) break;
    }
    group.length = 0; // hold no entries between calls
    return out;
  }

  private collectInto(group: TableEntry[], b: Bucket | undefined, exclude: ReadonlySet<string> | undefined, includeBad: boolean): void {
    if (!b) return;
    const entries = b.entries;
    for (let j = 0; j < entries.length; j++) {
      const e = entries[j];
      if (exclude !== undefined && exclude.has(e.id)) continue;
      if (!includeBad && e.failures >= this.badFailures) continue;
      group.push(e);
    }
  }

  /** Non-empty buckets (entries or candidates), by index. Arrays are copies. */
  buckets(): BucketView[] {
    const out: BucketView[] = [];
    for (let i = 0; i <= this.highest; i++) {
      const b = this.table[i];
      if (!b || b.isEmpty) continue;
      out.push({ index: i, entries: [...b.entries], replacements: [...b.replacements], lastRefresh: b.lastRefresh });
    }
    return out;
  }

  /** BucketInfo DTOs (core/types.ts) for a snapshot at `now`. */
  bucketInfos(now: number): BucketInfo[] {
    return this.buckets().map((b) => toBucketInfo(b, now, this.healthOptions));
  }

  /** Entries by health state at `now` (metrics read this every scrape: no DTO per peer). */
  healthCounts(now: number): Record<HealthState, number> {
    const counts: Record<HealthState, number> = { good: 0, questionable: 0, bad: 0, unknown: 0 };
    for (let i = 0; i <= this.highest; i++) {
      const b = this.table[i];
      if (b) for (const e of b.entries) counts[healthState(e, now, this.healthOptions)]++;
    }
    return counts;
  }

  /** Entries per non-empty bucket, by bucket index. */
  bucketFill(): Array<{ index: number; peers: number }> {
    const out: Array<{ index: number; peers: number }> = [];
    for (let i = 0; i <= this.highest; i++) {
      const b = this.table[i];
      if (b && b.entries.length > 0) out.push({ index: i, peers: b.entries.length });
    }
    return out;
  }

  /** Entries in bucket `index` (0 for a bucket that does not exist). */
  bucketSize(index: number): number {
    return this.table[index]?.entries.length ?? 0;
  }

  /** PeerInfo DTOs (core/types.ts) of every entry at `now`. */
  peerInfos(now: number): PeerInfo[] {
    return this.entries().map((e) => toPeerInfo(e, now, this.healthOptions));
  }

  /** The PeerInfo DTO of one entry, with this table's health thresholds. */
  peerInfo(id: string, now: number): PeerInfo | undefined {
    const e = this.get(id);
    return e ? toPeerInfo(e, now, this.healthOptions) : undefined;
  }

  /**
   * Indices of existing buckets not refreshed for refreshIntervalMs or more (by touchBucket, or since
   * creation). Buckets never created (no peer ever fell in them) are not listed.
   */
  staleBuckets(now: number, refreshIntervalMs: number): number[] {
    const out: number[] = [];
    for (let i = 0; i <= this.highest; i++) {
      const b = this.table[i];
      if (b && now - b.lastRefresh >= refreshIntervalMs) out.push(i);
    }
    return out;
  }

  /** Marks bucket `index` as refreshed at `now` (a lookup into its range ran), creating it if needed. */
  touchBucket(index: number, now: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.bucketCount) {
      throw DhtError.invalidArgument(`touchBucket: index must be an integer in 0..${this.bucketCount - 1}; got ${index}`);
    }
    this.bucketAt(index, now).lastRefresh = now;
  }

  /**
   * Estimated number of nodes in the network (us included), from the density of ids around us.
   *
   * Model: the network has N other nodes with uniform random ids. Let d_m be the XOR distance of our
   * m-th closest peer as a fraction of the 2^256 space (m = k, or fewer if we know fewer). Then
   * d_m ~ Beta(m, N - m + 1), so E[1 / d_m] = N / (m - 1): the estimate is N = (m - 1) / d_m.
   * Why d_m alone and not an average of i / d_i over i = 1..m: given d_m, the m - 1 nearer ids are
   * just uniform in [0, d_m) and carry no further information about N (d_m is sufficient), while
   * the small-i terms are very noisy (1 / d_1 has infinite expectation, i / d_i is biased by
   * i / (i - 1)). Relative error is about 1 / sqrt(m - 2), ~24 % for k = 20, provided the table
   * really knows its neighbourhood (a node learns it by looking up its own id); missing near peers
   * make it an underestimate. Bad entries are not counted, neither here nor in the floor: never
   * less than the entries we hold that are not bad, + 1 (counting bad ones kept the estimate from
   * ever falling after nodes left).
   */
  estimateNetworkSize(): number {
    const near = this.closest(this.self, this.k);
    const m = near.length;
    if (m < 2) return m + 1;
    const others = (m - 1) / distanceFraction(this.self, near[m - 1].idBytes);
    let alive = 0;
    for (let i = 0; i <= this.highest; i++) {
      const b = this.table[i];
      if (b) for (const e of b.entries) if (!isBad(e, this.badFailures)) alive++;
    }
    return Math.max(Math.round(others) + 1, alive + 1);
  }

  // ---------------------------------------------------------------------------------------------

  private observeKnown(
    entry: TableEntry,
    host: string,
    port: number,
    now: number,
    opts: ObserveOptions,
  ): ObserveResult {
    if (entry.host === host && entry.port === port) return this.heardAgain(entry, now, opts);
    // The same id from another address. Unless the entry we have is bad, keep it: an unverified
    // request must not be able to redirect a healthy peer's traffic (NAT rebinding heals once the
    // old address stops answering). The new address must also be free.
    if (!isBad(entry, this.badFailures) || this.holderAt(host, port) !== undefined) return reject('id-address-conflict');
    if (this.diversityRejects(host, entry.bucket, entry)) return reject('diversity');
    this.unindex(entry);
    entry.moveTo(host, port);
    // Health belonged to the old address.
    Object.assign(entry, newPeerHealth(), { lastSeen: now });
    this.index(entry);
    return this.heardAgain(entry, now, opts);
  }

  /** An entry heard from at its address: its health is updated and it moves to its bucket's tail. */
  private heardAgain(entry: TableEntry, now: number, opts: ObserveOptions): ObserveResult {
    this.touch(entry, now, opts);
    this.table[entry.bucket]!.moveToTail(entry);
    return { kind: 'updated', entry };
  }

  private touch(entry: TableEntry, now: number, opts: ObserveOptions): void {
    if (opts.rttMs !== undefined) recordAnswer(entry, now, opts.rttMs);
    else recordHeard(entry, now);
  }

  private bucketAt(index: number, now: number): Bucket {
    let b = this.table[index];
    if (!b) {
      b = new Bucket(this, now);
      this.table[index] = b;
      if (index > this.highest) this.highest = index;
    }
    return b;
  }

  private insertNew(
    id: string,
    idBytes: Uint8Array,
    host: string,
    port: number,
    index: number,
    now: number,
    opts: ObserveOptions,
  ): TableEntry {
    const bucket = this.bucketAt(index, now);
    const cached = bucket.findReplacement(id);
    bucket.removeReplacement(id);
    const contact = cached && cached.host === host && cached.port === port ? cached.contact : sharedContact(id, idBytes, host, port);
    const entry = new TableEntry(contact, index, now, { ...newPeerHealth(), lastSeen: now });
    if (cached && cached.host === host && cached.port === port) {
      entry.rttMs = cached.rttMs;
      entry.answered = cached.answered;
      entry.queried = cached.answered;
    }
    this.touch(entry, now, opts);
    bucket.insert(entry);
    this.count++;
    this.index(entry);
    return entry;
  }

  private cacheCandidate(bucket: Bucket, id: string, idBytes: Uint8Array, host: string, port: number, now: number, rttMs?: number): void {
    if (this.replacementCacheSize === 0) return;
    const prev = bucket.findReplacement(id);
    const same = prev && prev.host === host && prev.port === port;
    const answered = rttMs !== undefined;
    bucket.addReplacement(
      new CachedCandidate(
        same ? prev.contact : sharedContact(id, idBytes, host, port),
        now,
        answered ? ewma(same ? prev.rttMs : null, rttMs) : same ? prev.rttMs : null,
        (same ? prev.answered : 0) + (answered ? 1 : 0),
      ),
    );
  }

  /**
   * Evicts `victim` in favour of the newest replacement that is still valid (not in the table, its
   * address free or the victim's, within diversity limits without the victim). Stale candidates met
   * on the way are dropped. With no valid candidate nothing changes and null is returned.
   */
  private replaceWithCandidate(victim: TableEntry, now: number): Eviction | null {
    const bucket = this.table[victim.bucket]!;
    for (let r = bucket.popNewestReplacement(); r; r = bucket.popNewestReplacement()) {
      if (this.find(r.id) !== undefined) continue;
      const holder = this.holderAt(r.host, r.port);
      if (holder !== undefined && holder !== victim) continue;
      if (this.diversityRejects(r.host, victim.bucket, victim)) continue;
      this.detach(victim);
      const promoted = this.promote(r, victim.bucket, now);
      return { evicted: victim, promoted };
    }
    return null;
  }

  private promote(r: CachedCandidate, index: number, now: number): TableEntry {
    const entry = new TableEntry(r.contact, index, now, {
      rttMs: r.rttMs,
      lastSeen: r.lastSeen,
      failures: 0,
      answered: r.answered,
      queried: r.answered,
    });
    this.table[index]!.insert(entry);
    this.count++;
    this.index(entry);
    return entry;
  }

  /** Takes an entry out of its bucket and every index. */
  private detach(entry: TableEntry): void {
    if (this.table[entry.bucket]?.remove(entry)) this.count--;
    this.unindex(entry);
  }

  /**
   * The entry with this (lowercase hex) id. Its bucket is its shared-prefix length with us, read
   * off the hex digits, so only that bucket is scanned. Anything that is not one of our ids (wrong
   * length, not hex, self, not a string) finds nothing.
   */
  private find(id: string): TableEntry | undefined {
    const index = hexBucketIndex(this.selfId, id);
    if (index < 0) return undefined;
    const b = this.table[index];
    if (b === undefined) return undefined;
    const entries = b.entries;
    for (let i = 0; i < entries.length; i++) if (entries[i].id === id) return entries[i];
    return undefined;
  }

  /** The entry at host:port, if any (one id per address: index() keeps it so). */
  private holderAt(host: string, port: number): TableEntry | undefined {
    for (let i = 0; i <= this.highest; i++) {
      const b = this.table[i];
      if (b === undefined) continue;
      const entries = b.entries;
      for (let j = 0; j < entries.length; j++) {
        const e = entries[j];
        if (e.port === port && e.host === host) return e;
      }
    }
    return undefined;
  }

  /** With limits on, counts an entry's subnet and IP. */
  private index(entry: TableEntry): void {
    // The counts only serve the limits, which are fixed at construction.
    if (!this.diversity.enabled) return;
    bump(this.subnetCounts, subnetKey(entry.host), 1);
    bump(this.ipCounts, ipKey(entry.host), 1);
  }

  private unindex(entry: TableEntry): void {
    if (!this.diversity.enabled) return;
    bump(this.subnetCounts, subnetKey(entry.host), -1);
    bump(this.ipCounts, ipKey(entry.host), -1);
  }

  /** Would a peer at `host` in bucket `index` break a diversity limit (not counting `excluding`)? */
  private diversityRejects(host: string, index: number, excluding?: TableEntry): boolean {
    const d = this.diversity;
    if (!d.enabled) return false;
    const subnet = subnetKey(host);
    const ip = ipKey(host);
    const exSubnet = excluding !== undefined && subnetKey(excluding.host) === subnet ? 1 : 0;
    const exIp = excluding !== undefined && ipKey(excluding.host) === ip ? 1 : 0;
    if ((this.ipCounts.get(ip) ?? 0) - exIp >= d.maxIdsPerAddress) return true;
    if ((this.subnetCounts.get(subnet) ?? 0) - exSubnet >= d.maxPerSubnet24Total) return true;
    let inBucket = 0;
    for (const e of this.table[index]?.entries ?? []) {
      if (e !== excluding && subnetKey(e.host) === subnet) inBucket++;
    }
    return inBucket >= d.maxPerSubnet24PerBucket;
  }
}

function reject(reason: RejectReason): ObserveResult {
  return { kind: 'rejected', reason };
}

function bump(m: LazyMap<string, number>, key: string, by: number): void {
  const v = (m.get(key) ?? 0) + by;
  if (v <= 0) m.delete(key);
  else m.set(key, v);
}

/** Validates a contact and returns its id bytes; throws INVALID_ARGUMENT naming the problem. */
function checkContact(c: Contact, idBytes: number): Uint8Array {
  if (typeof c !== 'object' || c === null) throw DhtError.invalidArgument('routing table: contact must be an object { id, host, port }');
  if (typeof c.host !== 'string' || c.host === '') throw DhtError.invalidArgument(`routing table: contact host must be a non-empty string; got ${JSON.stringify(c.host)}`);
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) throw DhtError.invalidArgument(`routing table: contact port must be 1-65535; got ${String(c.port)}`);
  try {
    return idFromHex(String(c.id), idBytes);
  } catch (e) {
    throw DhtError.invalidArgument(`routing table: ${(e as Error).message}`);
  }
}

/** XOR distance between a and b as a fraction of the id space (2^256 for kadscope ids), in [0, 1). */
export function distanceFraction(a: Uint8Array, b: Uint8Array): number {
  let x = 0;
  let scale = 1 / 256;
  for (let i = 0; i < a.length; i++) {
    x += (a[i] ^ b[i]) * scale;
    scale /= 256;
    // Once a float can't register further bytes, stop.
    if (x > 0 && scale < x * Number.EPSILON) break;
  }
  return x;
}

/** closest()'s working array (it is synchronous, so one serves every table). */
const closestScratch: TableEntry[] = [];
const keyScratch: number[] = [];
const TWO_POW_24 = 0x100_0000;

/**
 * The first 6 bytes of the XOR distance between an entry and a target (split as SharedContact keeps
 * them) as one exact 48-bit number, so a sort compares numbers and falls back to the full 32-byte
 * comparison only on a tie.
 */
function distanceKey(targetHigh: number, targetLow: number, e: TableEntry): number {
  const c = e.contact;
  return (c.idHigh ^ targetHigh) * TWO_POW_24 + (c.idLow ^ targetLow);
}

/** Above this many entries a group is sorted by the engine's sort instead of by insertion. */
const INSERTION_SORT_MAX = 48;

/** Sorts entries nearest `target` first: insertion sort on distance keys (groups are about k long). */
function sortByDistanceKey(target: Uint8Array, group: TableEntry[]): void {
  if (group.length > INSERTION_SORT_MAX) {
    group.sort((a, b) => compareDistance(target, a.idBytes, b.idBytes));
    return;
  }
  const targetHigh = (target[0] << 16) | (target[1] << 8) | target[2];
  const targetLow = (target[3] << 16) | (target[4] << 8) | target[5];
  const keys = keyScratch;
  keys.length = group.length;
  for (let i = 0; i < group.length; i++) keys[i] = distanceKey(targetHigh, targetLow, group[i]);
  for (let i = 1; i < group.length; i++) {
    const e = group[i];
    const key = keys[i];
    let j = i - 1;
    while (j >= 0 && (keys[j] > key || (keys[j] === key && compareDistance(target, group[j].idBytes, e.idBytes) > 0))) {
      group[j + 1] = group[j];
      keys[j + 1] = keys[j];
      j--;
    }
    group[j + 1] = e;
    keys[j + 1] = key;
  }
}
