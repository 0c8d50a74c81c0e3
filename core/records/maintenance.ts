// Record lifetimes: expiry, republishing by the publisher, refreshing our announcements,
// replication by storers, and hand-off to closer nodes that join. Owns the record timers and the
// background task pool; the network is reached through the node's deps.
//
// Lifetimes, and why records still die. Wire v1 carries no expiry, so a copy made by replication
// starts a fresh lifetime at its new holder. To keep records whose publisher is gone from living
// forever, storers pass a record on only (a) once per new content they accept, at the next
// replication pass, to nodes among the k closest that lack it (a refresh is the publisher doing
// that job itself), and (b) to a newcomer, only while the record was refreshed within one republish
// interval (its publisher is still republishing). Passes run well within a record's lifetime, so a
// copy's pass finds the older copies still alive and stops there; a record nobody republishes is
// gone about one lifetime after its last refresh.
//
// Who passes a record on: the REPLICATORS_PER_RECORD live holders nearest its key. A holder that
// our table ranks farther waits one pass; a replicator at work asks it (FIND_VALUE) about the
// record, and it steps in only if no nearer node did, i.e. when the nearer holders are gone.
import type { TimerHandle } from '../clock';
import { bytesToHex, compareDistance, hexToBytes } from '../id';
import type { RoutingEntry } from '../routing';
import type { WireRecord } from '../wire/types';
import type { LifetimeOptions, RecordLayerDeps } from './config';
import type { RecordPersistence } from './persistence';
import { TaskPool } from './pool';
import { announceOnce, asDhtError, publish } from './publish';
import { toRecordInfo, type PutResult, type RecordStore, type StoredRecord } from './store';
import type { RecordModel } from './model';
import type { KeyPair } from './signing';
import { validateRecord, withPublicKey, withSalt } from './validate';
import { LazyMap } from '../lazy-map';

/** Joins seen within this window are handed their records in one batch. */
export const HANDOFF_DELAY_MS = 1_000;
/** Only this many of the nodes nearest a key (that we know of) pass it on, not all k holders. */
export const REPLICATORS_PER_RECORD = 3;
/** Background republish / replication / hand-off tasks at once, and queued at most. */
export const BACKGROUND_CONCURRENCY = 4;
export const MAX_BACKGROUND_QUEUE = 20_000;
/** Our announcements kept fresh; announcing more drops the oldest from the refresh list. */
export const MAX_OWN_ANNOUNCEMENTS = 64;
/** Newcomers waiting for a hand-off batch. */
export const MAX_PENDING_NEWCOMERS = 256;

const EMPTY: ReadonlyMap<string, unknown> = new Map();

/** What a FIND_VALUE told us about a node and a record we hold. */
interface Check {
  holds: boolean;
  token?: Uint8Array;
}

interface OwnAnnouncement {
  topic: Uint8Array;
  port: number;
  dueAt: number;
  /** The key pair a signed announcement (HyperDHT) is made with. */
  keyPair?: KeyPair;
}

export class RecordMaintenance {
  /** Our id now (a HyperDHT node's follows its address: DhtNode rewrites the bytes in place). */
  private get selfHex(): string {
    return bytesToHex(this.deps.selfId);
  }
  private readonly pool = new TaskPool({ concurrency: BACKGROUND_CONCURRENCY, maxQueued: MAX_BACKGROUND_QUEUE });
  /** Per held record: ids of nodes known to hold it (at most 2k each), so passes skip them. */
  private readonly holders = new LazyMap<string, Set<string>>();
  /**
   * Records that arrived (new content) and are still to be passed on: the pass they were first
   * seen in, and how many FIND_VALUEs for them came from nodes nearer the key than us since.
   */
  private readonly passOn = new LazyMap<string, { deferred: boolean; nearerAsked: number }>();
  /** Our own records: when each is due for republishing. */
  private readonly republishDue = new LazyMap<string, number>();
  private readonly ownAnnouncements = new LazyMap<string, OwnAnnouncement>();
  private readonly newcomers = new LazyMap<string, RoutingEntry>();
  private tickTimer: TimerHandle | null = null;
  private handoffTimer: TimerHandle | null = null;
  private lastReplicationAt = 0;
  private running = false;

  constructor(
    private readonly deps: RecordLayerDeps,
    private readonly opts: LifetimeOptions,
    private readonly store: RecordStore,
    private readonly persistence: RecordPersistence,
  ) {
  }

  /** Starts the expiry / republish / replication timer. */
  start(): void {
    this.running = true;
    this.lastReplicationAt = this.deps.clock.now();
    this.scheduleTick();
  }

  /** Runs the periodic checks now (after joining: republish what fell due while we were down). */
  kick(): void {
    if (this.running) this.tick();
  }

  /** Clears timers and drops queued background work. Synchronous and idempotent. */
  stop(): void {
    this.running = false;
    if (this.tickTimer !== null) this.deps.clock.clearTimeout(this.tickTimer);
    if (this.handoffTimer !== null) this.deps.clock.clearTimeout(this.handoffTimer);
    this.tickTimer = null;
    this.handoffTimer = null;
    this.pool.close();
    this.newcomers.clear();
  }

  // ---- what the server and the client tell us ----

  /** Bookkeeping for a put the store accepted; returns the write to await before acknowledging, if any. */
  stored(r: Extract<PutResult, { ok: true }>, holder?: string): Promise<void> | null {
    const s = r.stored;
    if (r.replaced) this.holders.delete(s.key); // they held the old version
    if (holder !== undefined) this.noteHolder(s.key, holder);
    this.deps.emit('record-stored', toRecordInfo(s, this.deps.clock.now()));
    return this.persistence.recordAccepted(r);
  }

  /** New content arrived by STORE: pass it on once (a refresh is the publisher doing that itself). */
  arrived(key: string): void {
    this.passOn.set(key, { deferred: false, nearerAsked: 0 });
  }

  /** A FIND_VALUE for a record we are to pass on, from a node nearer its key than us: a replicator at work. */
  noteAsked(key: Uint8Array, askerId: Uint8Array): void {
    if (this.passOn.size === 0) return;
    const flag = this.passOn.get(bytesToHex(key));
    if (flag && compareDistance(key, askerId, this.deps.selfId) < 0) flag.nearerAsked++;
  }

  /** Our own copy of what we published: we answer for it, persist it and republish it. */
  async keepOwn(key: Uint8Array, record: WireRecord): Promise<void> {
    const now = this.deps.clock.now();
    const r = this.store.put(key, record, { local: true, now });
    // Refused (our store is full, or holds a newer seq of this key): the network has it, we do not keep it.
    if (!r.ok) return;
    this.republishDue.set(r.stored.key, now + this.opts.republishIntervalMs);
    await this.stored(r)?.catch((e: unknown) => console.error(`kadscope: could not save our record ${r.stored.key.slice(0, 16)}…: ${(e as Error).message}`));
  }

  /** Our records read back from the data directory: republished one interval after their last refresh. */
  ownRecordsRestored(records: readonly StoredRecord[]): void {
    for (const s of records) this.republishDue.set(s.key, s.expiresAt - this.opts.recordTtlMs + this.opts.republishIntervalMs);
  }

  /** Keeps an announcement of ours fresh (the oldest is dropped past MAX_OWN_ANNOUNCEMENTS). */
  keepAnnouncing(topic: Uint8Array, port: number, keyPair?: KeyPair): void {
    const id = `${bytesToHex(topic)}:${port}`;
    this.ownAnnouncements.delete(id);
    if (this.ownAnnouncements.size >= MAX_OWN_ANNOUNCEMENTS) this.ownAnnouncements.delete(this.ownAnnouncements.keys().next().value as string);
    this.ownAnnouncements.set(id, { topic, port, dueAt: this.deps.clock.now() + this.opts.announceRefreshMs, ...(keyPair ? { keyPair } : {}) });
  }

  stopAnnouncing(topic: Uint8Array, port: number): boolean {
    return this.ownAnnouncements.delete(`${bytesToHex(topic)}:${port}`);
  }

  /** A node entered our routing table: soon, hand it the records it should now hold. */
  onPeerAdded(entry: RoutingEntry): void {
    if (!this.running || this.store.size === 0 || this.newcomers.size >= MAX_PENDING_NEWCOMERS) return;
    this.newcomers.set(entry.id, entry);
    this.handoffTimer ??= this.deps.clock.setTimeout(() => {
      this.handoffTimer = null;
      this.handOff();
    }, HANDOFF_DELAY_MS);
  }

  // ---- the periodic pass ----

  private scheduleTick(): void {
    this.tickTimer = this.deps.clock.setTimeout(() => {
      this.tickTimer = null;
      if (!this.running) return;
      this.tick();
      this.scheduleTick();
    }, this.opts.tickMs);
  }

  private tick(): void {
    const now = this.deps.clock.now();
    const expired = this.store.expire(now);
    for (const s of expired) {
      this.forget(s.key);
      this.deps.emit('record-expired', toRecordInfo(s, now));
    }
    if (expired.length > 0) this.persistence.scheduleSave();
    if (this.opts.republishIntervalMs > 0) {
      for (const [key, due] of this.republishDue) if (due <= now) this.pool.add(`republish:${key}`, () => this.republish(key));
    }
    if (this.opts.announceRefreshMs > 0) {
      for (const [id, a] of this.ownAnnouncements) {
        if (a.dueAt > now) continue;
        a.dueAt = now + this.opts.announceRefreshMs;
        this.pool.add(`announce:${id}`, () => announceOnce(this.deps, a.topic, a.port, {}, a.keyPair).then(() => undefined));
      }
    }
    if (this.opts.replicateIntervalMs > 0 && now - this.lastReplicationAt >= this.opts.replicateIntervalMs) {
      this.lastReplicationAt = now;
      this.replicationPass(now);
    }
  }

  private forget(key: string): void {
    this.holders.delete(key);
    this.passOn.delete(key);
    this.republishDue.delete(key);
  }

  private async republish(key: string): Promise<void> {
    const now = this.deps.clock.now();
    const held = this.store.get(key, now);
    if (!held || !held.local) {
      this.republishDue.delete(key);
      return;
    }
    this.republishDue.set(key, now + this.opts.republishIntervalMs);
    const keyBytes = hexToBytes(key);
    // Our copy stays alive while we run, even when the network is unreachable for a while.
    const r = this.store.put(keyBytes, held.record, { local: true, now });
    if (r.ok) void this.stored(r);
    await publish(this.deps, keyBytes, held.record, {}).catch(() => undefined);
  }

  // ---- replication ----

  /**
   * Each record that arrived since the last pass is passed on once. The REPLICATORS_PER_RECORD
   * holders nearest the key (as our table sees it) do it at once; the others wait one pass and step
   * in only if no nearer node asked them about the record meanwhile (a replicator at work asks
   * every holder), which happens when the nearer holders are gone.
   */
  private replicationPass(now: number): void {
    for (const [key, flag] of this.passOn) {
      const held = this.store.get(key, now);
      if (held && !held.local && flag.nearerAsked === 0) {
        if (!flag.deferred && !this.isReplicator(hexToBytes(key), EMPTY)) {
          flag.deferred = true;
          continue;
        }
        const id = `replicate:${key}`;
        if (!this.pool.add(id, () => this.replicate(key)) && !this.pool.has(id)) continue; // queue full: next pass
      }
      this.passOn.delete(key);
    }
  }

  /**
   * Only the nearest few live holders replicate, not all k. Our table may still list nodes that
   * left, so we check the nodes nearer the key than us, nearest first, and replicate unless we
   * find REPLICATORS_PER_RECORD of them alive and holding it (they will do it). Replicating means
   * making the k nearest nodes that answer hold it: nodes that do not answer are passed over, so
   * the record reaches the ones that took the place of those that left.
   */
  private async replicate(key: string): Promise<void> {
    const keyBytes = hexToBytes(key);
    const k = this.deps.k;
    const candidates = this.deps.closest(keyBytes, 2 * k);
    const checked = new Map<string, Check | null>();
    let nearerHolders = 0;
    for (const e of candidates) {
      if (compareDistance(keyBytes, e.idBytes, this.deps.selfId) >= 0) break;
      if (this.holders.get(key)?.has(e.id)) nearerHolders++;
      else {
        const c = await this.check(key, e);
        checked.set(e.id, c);
        if (c?.holds) nearerHolders++;
      }
      if (nearerHolders >= REPLICATORS_PER_RECORD || !this.running) return;
    }
    // Walk outward in batches until k nodes (us included) hold it or the candidates run out.
    let live = 1;
    let next = 0;
    while (live < k && next < candidates.length && this.running) {
      const batch = candidates.slice(next, next + (k - live));
      next += batch.length;
      const answered = await Promise.all(
        batch.map(async (e) => {
          if (this.holders.get(key)?.has(e.id)) return true;
          const c = checked.has(e.id) ? checked.get(e.id)! : await this.check(key, e);
          if (!c) return false;
          await this.pushTo(key, e, c);
          return true;
        }),
      );
      live += answered.filter(Boolean).length;
    }
  }

  /** Whether we are among the few nodes nearest key that we know of (newcomers aside). */
  private isReplicator(key: Uint8Array, newcomers: ReadonlyMap<string, unknown>): boolean {
    let nearer = 0;
    for (const e of this.deps.closest(key, REPLICATORS_PER_RECORD + newcomers.size)) {
      if (newcomers.has(e.id)) continue;
      if (compareDistance(key, e.idBytes, this.deps.selfId) >= 0) break;
      if (++nearer >= REPLICATORS_PER_RECORD) return false;
    }
    return true;
  }

  /** Asks a node for a record we hold (FIND_VALUE): does it hold ours or a newer one? null when it does not answer. */
  private async check(key: string, peer: { id: string; host: string; port: number }): Promise<Check | null> {
    const held = this.store.get(key, this.deps.clock.now());
    if (!held || !this.running) return null;
    const keyBytes = hexToBytes(key);
    try {
      const answer = await this.deps.request({ host: peer.host, port: peer.port }, { method: 'FIND_VALUE', key: keyBytes, mutable: held.record.type === 'mutable' }, { signal: this.deps.signal() });
      const theirs = answer.response.record;
      const holds = theirs !== undefined && holdsAtLeast(keyBytes, theirs, held.record, this.store.model);
      if (holds) this.noteHolder(key, peer.id);
      return { holds, ...(answer.response.token ? { token: answer.response.token } : {}) };
    } catch (e) {
      if (asDhtError(e).code === 'TIMEOUT') this.deps.peerFailed(peer.id);
      return null;
    }
  }

  /** Sends a record to one node unless it already holds it (or a newer version); `checked` saves asking again. */
  private async pushTo(key: string, peer: { id: string; host: string; port: number }, checked?: Check): Promise<void> {
    const c = checked ?? (await this.check(key, peer));
    if (!c || c.holds || !c.token || !this.running) return;
    const held = this.store.get(key, this.deps.clock.now());
    if (!held) return;
    try {
      await this.deps.request({ host: peer.host, port: peer.port }, { method: 'STORE', key: hexToBytes(key), record: held.record, token: c.token }, { signal: this.deps.signal() });
      this.noteHolder(key, peer.id);
    } catch (e) {
      if (asDhtError(e).code === 'SEQ_TOO_LOW') this.noteHolder(key, peer.id); // it holds a newer one
    }
  }

  private noteHolder(key: string, id: string): void {
    if (id === this.selfHex) return;
    let set = this.holders.get(key);
    if (!set) {
      set = new Set();
      this.holders.set(key, set);
    }
    // Bounded: forget the oldest when a neighbourhood churns through many nodes.
    if (set.size >= 2 * this.deps.k) set.delete(set.values().next().value as string);
    set.add(id);
  }

  // ---- hand-off ----

  private handOff(): void {
    if (!this.running) return;
    const batch = new Map(this.newcomers);
    this.newcomers.clear();
    const now = this.deps.clock.now();
    for (const s of this.store.entries(now)) {
      // A record its publisher stopped republishing is left to expire, not handed on.
      if (!s.local && s.expiresAt - now < this.opts.recordTtlMs - this.opts.passOnWindowMs) continue;
      const key = hexToBytes(s.key);
      const known = this.holders.get(s.key);
      const targets = this.deps.closest(key, this.deps.k).filter((e) => batch.has(e.id) && !known?.has(e.id));
      if (targets.length === 0 || !this.isReplicator(key, batch)) continue;
      for (const t of targets) this.pool.add(`handoff:${s.key}:${t.id}`, () => this.pushTo(s.key, t));
    }
  }
}

function holdsAtLeast(key: Uint8Array, answered: WireRecord, ours: WireRecord, model: RecordModel): boolean {
  const theirs = withPublicKey(withSalt(answered, ours.type === 'mutable' ? ours.salt : undefined), ours.type === 'mutable' ? ours.publicKey : undefined);
  if (validateRecord(key, theirs, model) !== null) return false;
  if (theirs.type === 'immutable' || ours.type === 'immutable') return theirs.type === ours.type;
  // Any value under a name will do: passing ours on must not overwrite a later writer's.
  if (theirs.type === 'named' || ours.type === 'named') return theirs.type === ours.type;
  return theirs.seq >= ours.seq;
}
