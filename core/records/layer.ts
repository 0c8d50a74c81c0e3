// The node's record behaviour: answering FIND_VALUE / STORE / ANNOUNCE / GET_PEERS, the client side
// (put, get, putMutable, announce, lookupPeers), the record lifetimes (expiry, republish by the
// publisher, replication by storers, hand-off to closer nodes that join) and persistence in a data
// directory. The RecordStore and TokenManager stay pure; this layer owns the I/O and the timers, and
// reaches the network only through what the node hands it (DhtNode builds it; see RecordLayerDeps).
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
import type { Clock, TimerHandle } from '../clock';
import { DhtError, type DhtErrorCode } from '../errors';
import { bytesToHex, compareDistance, hexToBytes, isIdHex, sha256, type RandomBytes } from '../id';
import type { Lookup, LookupPeer, RecordVerdict } from '../lookup/lookup';
import { IDENTITY_FILE, NodeStateStore, SAVE_DEBOUNCE_MS, type PersistedPeer, type PersistedState } from '../persist/state';
import type { ResponseBody, RpcResult } from '../rpc/rpc';
import type { RoutingEntry } from '../routing';
import { endpointKey, type Endpoint } from '../transport/types';
import type { LookupEvent, LookupKind, NodeEvents, RecordInfo } from '../types';
import { isValidPort } from '../wire/compact';
import { MAX_SALT_BYTES, MAX_VALUE_BYTES, type Message, type RequestArgs, type RequestMessage, type WireContact, type WirePeer, type WireRecord } from '../wire/types';
import { fitResponse } from './fit';
import { StorePolicies } from './policy';
import { TaskPool } from './pool';
import { generateKeyPair, immutableKey, mutableKey, signMutable, type KeyPair, type MutableRecord } from './signing';
import { ANNOUNCE_TTL_MS, RECORD_TTL_MS, RecordStore, toRecordInfo, type PutResult, type StoredRecord } from './store';
import { TokenManager } from './tokens';
import { sameRecord, validateRecord } from './validate';

/** The publisher stores its records again this often (DESIGN default: 1 h). */
export const REPUBLISH_INTERVAL_MS = 60 * 60_000;
/** Storers pass on the records they accepted since the last pass this often. */
export const REPLICATE_INTERVAL_MS = 10 * 60_000;
/** Our own announcements are sent again this often (announcements live ANNOUNCE_TTL_MS). */
export const ANNOUNCE_REFRESH_MS = ANNOUNCE_TTL_MS / 2;
/** How often expiry, republishing and re-announcing are checked. */
export const RECORD_TICK_MS = 60_000;
/** A republish may land this much later than the interval (lookups take time) and still count as live. */
export const PASS_ON_GRACE_MS = 5 * 60_000;
/** Joins seen within this window are handed their records in one batch. */
export const HANDOFF_DELAY_MS = 1_000;
/** Only this many of the nodes nearest a key (that we know of) pass it on, not all k holders. */
export const REPLICATORS_PER_RECORD = 3;
/** Background republish / replication / hand-off tasks at once, and queued at most. */
export const BACKGROUND_CONCURRENCY = 4;
export const MAX_BACKGROUND_QUEUE = 20_000;
/** Our announcements kept fresh; announcing more drops the oldest from the refresh list. */
export const MAX_OWN_ANNOUNCEMENTS = 64;
/** Addresses collected by one lookupPeers. */
export const MAX_LOOKUP_PEERS = 1_024;
/** Newcomers waiting for a hand-off batch. */
export const MAX_PENDING_NEWCOMERS = 256;
export const MAX_KEY_PAIRS = 64;
export const DEFAULT_KEY_PAIR = 'default';
const KEY_PAIR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function checkKeyPairName(name: string): void {
  if (!KEY_PAIR_NAME.test(name)) throw DhtError.invalidArgument(`a key pair name is 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit; got "${name.slice(0, 40)}"`);
}

/** Refusals that mean the network holds another version of a mutable record. */
const CONFLICT_CODES: ReadonlySet<DhtErrorCode> = new Set(['SEQ_TOO_LOW', 'SEQ_REUSED', 'CAS_MISMATCH']);

export interface RecordOptions {
  /** Keep identity, key pairs, records and routing-table peers here (created if missing). */
  dataDir?: string;
  /** How long a stored record lives unless refreshed (default RECORD_TTL_MS, 2 h). */
  recordTtlMs?: number;
  /** How long an announcement lives (default ANNOUNCE_TTL_MS, 20 min). */
  announceTtlMs?: number;
  /** How often we republish our own records (default 1 h); 0 never republishes. Must be below recordTtlMs. */
  republishIntervalMs?: number;
  /** How often storers pass on newly accepted records (default 10 min); 0 disables replication. */
  replicateIntervalMs?: number;
  /** How often our announcements are refreshed (default 10 min); 0 never refreshes them. */
  announceRefreshMs?: number;
  /** Cap on records held (default 10,000); one address may hold a share of it (maxPerAddressFraction). */
  maxRecords?: number;
  maxPerAddressFraction?: number;
  maxTopics?: number;
  /** Write-token secret rotation (default 5 min; a token is good for one to two periods). */
  tokenRotateMs?: number;
  /** Debounce of state saves in dataDir (default 1 s). */
  saveDebounceMs?: number;
  /** Period of the expiry / republish check (default 1 min). */
  recordTickMs?: number;
}

type RecordEventName = 'record-stored' | 'record-expired' | 'record-refused';

export interface RecordLookupOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  onRecord?: (record: WireRecord, from: LookupPeer) => RecordVerdict;
  onPeers?: (peers: WirePeer[], from: LookupPeer) => void;
}

/** What the node gives the layer: its network, its table and its events, nothing more. */
export interface RecordLayerDeps {
  clock: Clock;
  randomBytes: RandomBytes;
  selfId: Uint8Array;
  k: number;
  request(to: Endpoint, args: RequestArgs, options: { signal: AbortSignal }): Promise<RpcResult>;
  /** An iterative lookup whose queries send `args(peer)`; its events are the node's 'lookup' events. */
  lookup(target: Uint8Array, kind: LookupKind, args: (peer: LookupPeer) => RequestArgs, options: RecordLookupOptions): Lookup;
  /** Routing-table entries nearest target, nearest first. */
  closest(target: Uint8Array, n: number): readonly RoutingEntry[];
  closestWire(target: Uint8Array): WireContact[];
  peersToSave(): PersistedPeer[];
  emit<K extends RecordEventName>(event: K, payload: NodeEvents[K]): void;
  /** A node did not answer us at all (its routing-table health should know). */
  peerFailed(id: string): void;
  /** Our bound address (announce's default port). */
  address(): Endpoint;
  /** signal combined with the node's lifetime (aborted on stop). */
  signal(signal?: AbortSignal): AbortSignal;
  /** The protocol's encoder, which sizes answers (default kadscope's wire v1). */
  encode?: (msg: Message) => Uint8Array;
  /** A text topic's key: the protocol's hash (default SHA-256; Mainline SHA-1). */
  hashTopic?: (text: string) => Uint8Array;
}

export interface RecordCallOptions {
  signal?: AbortSignal;
  /** Whole-lookup deadline (default LOOKUP_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * Where get() looks. 'auto': an immutable value we hold is the answer, anything else asks the
 * network (a mutable copy of ours takes part). 'local': this node's own copy only, no lookup.
 * 'network': a lookup even for a key we hold, our copy left out, so the user sees what others have.
 */
export type GetSource = 'auto' | 'local' | 'network';

export interface StoreFailure {
  /** Hex id of the node that did not store. */
  id: string;
  code: DhtErrorCode;
  message: string;
}

export interface StoreResult {
  /** Hex record key (or topic key for announce). */
  key: string;
  /** Hex ids of the nodes that acknowledged the STORE (or ANNOUNCE). */
  storedAt: string[];
  /** The nodes asked that did not store, and why (refusal code, TIMEOUT, ...). */
  failed: StoreFailure[];
  lookupId: string | null;
}

export interface PutMutableInput {
  keyPair: KeyPair;
  /** 0..64 bytes (a string is UTF-8); default none. */
  salt?: Uint8Array | string;
  seq: number;
  value: Uint8Array | string;
  /** Compare-and-swap: storers accept only if the seq they hold equals cas. */
  cas?: number;
}

export interface PutMutableResult extends StoreResult {
  seq: number;
  publicKey: string;
  salt: string;
}

export interface GetResult {
  key: string;
  value: Uint8Array;
  /** Hex id of the node whose answer we return (our own id for our local copy). */
  from: string;
  /** Hop at which that answer came (0 for our local copy). */
  hops: number;
  messages: number;
  durationMs: number;
  /** Mutable records: the highest valid seq seen. */
  seq?: number;
  lookupId: string | null;
}

export interface AnnounceResult extends StoreResult {
  port: number;
}

export interface LookupPeersResult {
  key: string;
  peers: Endpoint[];
  hops: number;
  messages: number;
  durationMs: number;
  lookupId: string | null;
}

export interface OpenResult {
  warnings: string[];
  savedPeers: PersistedPeer[];
}

type DoneEvent = Extract<LookupEvent, { type: 'done' }>;

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
}

function resolve(o: RecordOptions) {
  const nonNegative = (name: string, v: number | undefined, fallback: number): number => {
    const x = v ?? fallback;
    if (!Number.isSafeInteger(x) || x < 0) throw DhtError.invalidArgument(`${name} must be a non-negative whole number of ms; got ${x}`);
    return x;
  };
  const recordTtlMs = nonNegative('recordTtlMs', o.recordTtlMs, RECORD_TTL_MS);
  const republishIntervalMs = nonNegative('republishIntervalMs', o.republishIntervalMs, REPUBLISH_INTERVAL_MS);
  if (republishIntervalMs >= recordTtlMs) {
    throw DhtError.invalidArgument(`republishIntervalMs (${republishIntervalMs}) must be shorter than recordTtlMs (${recordTtlMs}), or records expire between republishes; use 0 to never republish`);
  }
  const tickMs = nonNegative('recordTickMs', o.recordTickMs, RECORD_TICK_MS);
  if (tickMs === 0) throw DhtError.invalidArgument('recordTickMs must be positive');
  return {
    recordTtlMs,
    republishIntervalMs,
    replicateIntervalMs: nonNegative('replicateIntervalMs', o.replicateIntervalMs, REPLICATE_INTERVAL_MS),
    announceRefreshMs: nonNegative('announceRefreshMs', o.announceRefreshMs, ANNOUNCE_REFRESH_MS),
    tickMs,
    /** A record refreshed within this long still has a publisher: worth handing to newcomers. */
    passOnWindowMs: (republishIntervalMs > 0 ? republishIntervalMs : Math.floor(recordTtlMs / 2)) + PASS_ON_GRACE_MS,
  };
}

export class RecordLayer {
  readonly store: RecordStore;
  /** What this node agrees to keep for others: store policy and validators (policy.ts). */
  readonly policies = new StorePolicies();
  readonly tokens: TokenManager;
  private readonly deps: RecordLayerDeps;
  private readonly opts: ReturnType<typeof resolve>;
  private readonly selfHex: string;
  private readonly state: NodeStateStore | null;
  private readonly pool = new TaskPool({ concurrency: BACKGROUND_CONCURRENCY, maxQueued: MAX_BACKGROUND_QUEUE });
  private readonly keyPairs = new Map<string, KeyPair>();
  /** STOREs and ANNOUNCEs refused, by method and refusal code (bounded by the DhtErrorCode set). */
  readonly refusals: Record<'STORE' | 'ANNOUNCE', Partial<Record<DhtErrorCode, number>>> = { STORE: {}, ANNOUNCE: {} };

  /** Per held record: ids of nodes known to hold it (at most 2k each), so passes skip them. */
  private readonly holders = new Map<string, Set<string>>();
  /**
   * Records that arrived (new content) and are still to be passed on: the pass they were first
   * seen in, and how many FIND_VALUEs for them came from nodes nearer the key than us since.
   */
  private readonly passOn = new Map<string, { deferred: boolean; nearerAsked: number }>();
  /** Our own records: when each is due for republishing. */
  private readonly republishDue = new Map<string, number>();
  private readonly ownAnnouncements = new Map<string, OwnAnnouncement>();
  private readonly newcomers = new Map<string, RoutingEntry>();
  private tickTimer: TimerHandle | null = null;
  private handoffTimer: TimerHandle | null = null;
  private lastReplicationAt = 0;
  private running = false;

  constructor(deps: RecordLayerDeps, options: RecordOptions = {}) {
    this.deps = deps;
    this.opts = resolve(options);
    this.selfHex = bytesToHex(deps.selfId);
    this.store = new RecordStore({
      maxRecords: options.maxRecords,
      maxPerAddressFraction: options.maxPerAddressFraction,
      maxTopics: options.maxTopics,
      keyBytes: deps.selfId.length,
      recordTtlMs: this.opts.recordTtlMs,
      announceTtlMs: options.announceTtlMs,
    });
    this.tokens = new TokenManager({ clock: deps.clock, randomBytes: deps.randomBytes }, { rotateMs: options.tokenRotateMs });
    this.state =
      options.dataDir !== undefined
        ? new NodeStateStore(
            { clock: deps.clock, onError: (e) => console.error(`kadscope: saving node state failed: ${e.message}`) },
            { dataDir: options.dataDir, debounceMs: options.saveDebounceMs ?? SAVE_DEBOUNCE_MS },
          )
        : null;
  }

  get dataDir(): string | null {
    return this.state?.dataDir ?? null;
  }

  // ---- lifecycle ----

  /** Loads the data directory (if any): key pairs, records, saved peers. Corrupt files are reported in warnings. */
  async open(): Promise<OpenResult> {
    if (!this.state) return { warnings: [], savedPeers: [] };
    const { state, warnings } = await this.state.load();
    const now = this.deps.clock.now();
    const identity = state?.identity ?? null;
    for (const kp of identity?.keyPairs ?? []) this.keyPairs.set(kp.name, kp.keyPair);
    if (identity && identity.id !== this.selfHex) {
      warnings.push(`${IDENTITY_FILE} holds node id ${identity.id.slice(0, 16)}…, but this node was given id ${this.selfHex.slice(0, 16)}…; saving the new id`);
    }
    let dropped = 0;
    let firstProblem = '';
    for (const r of state?.records ?? []) {
      const res = this.store.restore(r, now);
      if (res === 'restored') {
        if (r.local) this.republishDue.set(r.key, this.lastRefresh(r) + this.opts.republishIntervalMs);
      } else if (res instanceof DhtError) {
        if (dropped++ === 0) firstProblem = `${r.key.slice(0, 16)}…: ${res.message}`;
      }
    }
    if (dropped > 0) warnings.push(`dropped ${dropped} saved record(s) that did not validate or fit the store (first: ${firstProblem})`);
    this.state.scheduleSave(this.persistedState);
    // The identity must be on disk before anything else happens, or a crash would cost us our id;
    // and a file moved aside is replaced by a good one at once.
    if (!identity || identity.id !== this.selfHex || warnings.length > 0) await this.state.flush();
    return { warnings, savedPeers: state?.peers ?? [] };
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

  /** stop(), then a last save of everything to the data directory. Never rejects. */
  async close(): Promise<void> {
    this.stop();
    if (!this.state) return;
    try {
      await this.state.close();
    } catch (e) {
      console.error(`kadscope: could not save node state to ${this.state.dataDir}: ${(e as Error).message}`);
    }
  }

  /** The routing table changed: its peers are part of what we save. */
  peersChanged(): void {
    this.scheduleSave();
  }

  /**
   * What scheduleSave reads, one function per layer. Bound, not an arrow: under tsx (keepNames) a
   * named arrow is renamed with defineProperty, which leaves each instance a 256-byte property
   * dictionary; a bound method has none.
   */
  private readonly persistedState: () => PersistedState = this.takeState.bind(this);

  private takeState(): PersistedState {
    return {
      identity: { id: this.selfHex, keyPairs: [...this.keyPairs].map(([name, keyPair]) => ({ name, keyPair })) },
      records: this.store.entries(this.deps.clock.now()),
      peers: this.deps.peersToSave(),
    };
  }

  private scheduleSave(): void {
    if (this.state && this.running) this.state.scheduleSave(this.persistedState);
  }

  // ---- key pairs ----

  /**
   * The key pair saved under `name`, generated (and saved with the identity, when there is a data
   * directory) the first time it is asked for.
   */
  keyPair(name: string = DEFAULT_KEY_PAIR): KeyPair {
    checkKeyPairName(name);
    return this.keyPairs.get(name) ?? this.keepKeyPair(name, generateKeyPair());
  }

  /** Keeps an existing key pair (imported from a file) under a new name; refuses a name in use. */
  addKeyPair(name: string, keyPair: KeyPair): KeyPair {
    checkKeyPairName(name);
    if (this.keyPairs.has(name)) throw DhtError.invalidArgument(`a key pair named "${name}" already exists`);
    return this.keepKeyPair(name, keyPair);
  }

  private keepKeyPair(name: string, kp: KeyPair): KeyPair {
    if (this.keyPairs.size >= MAX_KEY_PAIRS) throw DhtError.invalidArgument(`this node already keeps ${MAX_KEY_PAIRS} key pairs`);
    this.keyPairs.set(name, kp);
    if (this.state && this.running) {
      this.state.scheduleSave(this.persistedState);
      // A key pair lost in a crash would orphan every record published with it: save now.
      this.state.flush().catch((e: unknown) => console.error(`kadscope: could not save key pair "${name}": ${(e as Error).message}`));
    }
    return kp;
  }

  keyPairNames(): string[] {
    return [...this.keyPairs.keys()];
  }

  // ---- views ----

  records(): RecordInfo[] {
    const now = this.deps.clock.now();
    return this.store.entries(now).map((s) => toRecordInfo(s, now));
  }

  // ---- answering requests ----

  /** A write token for the requester at `from`; FIND_NODE answers carry one too. */
  issueToken(from: Endpoint): Uint8Array {
    return this.tokens.issue(from);
  }

  handle(req: RequestMessage, from: Endpoint): ResponseBody | DhtError | Promise<ResponseBody | DhtError> {
    const now = this.deps.clock.now();
    switch (req.method) {
      case 'FIND_VALUE': {
        this.noteAsked(req.key, req.id);
        const body: ResponseBody = { nodes: this.deps.closestWire(req.key), token: this.tokens.issue(from) };
        const held = this.store.get(req.key, now);
        // With `seq` the asker already has that version: send ours only if it is newer.
        if (held && (held.record.type === 'immutable' || req.seq === undefined || held.record.seq > req.seq)) body.record = held.record;
        return body.record ? fitResponse(body, this.deps.selfId, from, this.deps.encode) : body;
      }
      case 'GET_PEERS': {
        const peers = this.store.peers(req.topic, now);
        const body: ResponseBody = { nodes: this.deps.closestWire(req.topic), token: this.tokens.issue(from), peers };
        return peers.length > 0 ? fitResponse(body, this.deps.selfId, from, this.deps.encode) : body;
      }
      case 'STORE':
        return this.onStore(req, from, now);
      case 'ANNOUNCE': {
        const key = bytesToHex(req.topic);
        const bad = this.tokens.check(from, req.token);
        if (bad) return this.refuse('ANNOUNCE', key, bad, from);
        const r = this.store.announce(req.topic, { host: from.host, port: req.port }, now);
        if (!r.ok) return this.refuse('ANNOUNCE', key, r.error, from);
        return {};
      }
      default:
        return new DhtError('UNKNOWN_METHOD', `${req.method} is not served by this node`, { wireCode: 3 });
    }
  }

  private onStore(req: Extract<RequestMessage, { method: 'STORE' }>, from: Endpoint, now: number): ResponseBody | DhtError | Promise<ResponseBody | DhtError> {
    const key = bytesToHex(req.key);
    const bad = this.tokens.check(from, req.token);
    if (bad) return this.refuse('STORE', key, bad, from);
    // The record's own checks first, so a forged record is refused as such (store.put checks
    // again; only a node with a policy pays for that twice).
    if (this.policies.active && validateRecord(req.key, req.record) === null) {
      const refused = this.policies.check(req.key, req.record, from, req.id, now);
      if (refused) return this.refuse('STORE', key, refused, from);
    }
    const r = this.store.put(req.key, req.record, { from, now, ...(req.cas !== undefined ? { cas: req.cas } : {}) });
    if (!r.ok) return this.refuse('STORE', key, r.error, from);
    // New content is passed on once; a refresh is the publisher doing that job itself.
    if (!r.stored.local && r.outcome !== 'refreshed') this.passOn.set(key, { deferred: false, nearerAsked: 0 });
    const durable = this.accepted(r, bytesToHex(req.id));
    if (!durable) return {};
    // Acknowledge only once the record is on disk: a crash after our answer must not lose it.
    return durable.then(
      () => ({}),
      (e: unknown) => new DhtError('INTERNAL', `the record could not be saved: ${(e as Error).message}`),
    );
  }

  private refuse(method: 'STORE' | 'ANNOUNCE', key: string, error: DhtError, from: Endpoint): DhtError {
    const counts = this.refusals[method];
    counts[error.code] = (counts[error.code] ?? 0) + 1;
    this.deps.emit('record-refused', { key, method, code: error.code, reason: error.message, from: endpointKey(from) });
    return error;
  }

  /** Bookkeeping for a put the store accepted; returns the write to await before acknowledging, if any. */
  private accepted(r: Extract<PutResult, { ok: true }>, holder?: string): Promise<void> | null {
    const s = r.stored;
    if (r.replaced) this.holders.delete(s.key); // they held the old version
    if (holder !== undefined) this.noteHolder(s.key, holder);
    this.deps.emit('record-stored', toRecordInfo(s, this.deps.clock.now()));
    if (!this.state || !this.running) return null;
    // New content goes to the log first. A refresh changes only the expiry (the next snapshot has
    // it), but its content may still be on its way to disk from an earlier STORE: wait for that.
    const write = r.outcome === 'refreshed' ? this.state.commit() : this.state.appendRecord(s);
    this.scheduleSave();
    return write;
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

  private forget(key: string): void {
    this.holders.delete(key);
    this.passOn.delete(key);
    this.republishDue.delete(key);
  }

  // ---- client: values and mutable records ----

  /** Stores an immutable value (at most 1,000 bytes) at SHA-256(value) on the k closest nodes. */
  async put(value: Uint8Array | string, options: RecordCallOptions = {}): Promise<StoreResult> {
    const bytes = toBytes(value, 'value');
    if (bytes.length > MAX_VALUE_BYTES) throw DhtError.refusal('VALUE_TOO_LARGE', `value is ${bytes.length} bytes; at most ${MAX_VALUE_BYTES} allowed`);
    const key = immutableKey(bytes);
    const record: WireRecord = { type: 'immutable', value: bytes };
    const out = await this.publish(key, record, options);
    if (out.storedAt.length === 0) throw noneStored('the value', out.failed);
    await this.keepLocal(key, record);
    return out;
  }

  /** Signs and stores a mutable record at SHA-256(public key || salt). Every storer's refusal code reaches the caller. */
  async putMutable(input: PutMutableInput, options: RecordCallOptions = {}): Promise<PutMutableResult> {
    if (input === null || typeof input !== 'object' || !input.keyPair) throw DhtError.invalidArgument('putMutable needs { keyPair, seq, value }');
    const salt = input.salt === undefined ? new Uint8Array(0) : toBytes(input.salt, 'salt');
    if (salt.length > MAX_SALT_BYTES) throw DhtError.refusal('SALT_TOO_LARGE', `salt is ${salt.length} bytes; at most ${MAX_SALT_BYTES} allowed`);
    if (!Number.isSafeInteger(input.seq) || input.seq < 0) throw DhtError.invalidArgument(`seq must be a non-negative whole number; got ${input.seq}`);
    if (input.cas !== undefined && (!Number.isSafeInteger(input.cas) || input.cas < 0)) throw DhtError.invalidArgument(`cas must be a non-negative whole number; got ${input.cas}`);
    const record = signMutable({ keyPair: input.keyPair, salt, seq: input.seq, value: toBytes(input.value, 'value') });
    const key = mutableKey(input.keyPair.publicKey, salt);
    const out = await this.publishMutable(key, record, { ...options, cas: input.cas });
    if (out.storedAt.length === 0) throw noneStored(`seq ${input.seq}`, out.failed);
    // Some stored it, but others hold a newer or different version: the caller must know.
    const conflicts = out.failed.filter((f) => CONFLICT_CODES.has(f.code));
    if (conflicts.length > 0) throw noneStored(`seq ${input.seq} everywhere (${out.storedAt.length} stored it)`, conflicts);
    await this.keepLocal(key, record);
    return { ...out, seq: input.seq, publicKey: bytesToHex(input.keyPair.publicKey), salt: bytesToHex(salt) };
  }

  /**
   * Iterative FIND_VALUE (answered locally for an immutable value we hold). An immutable value is
   * checked against its key and returned at the first valid answer; a mutable key is looked up to the end and the highest valid seq wins (asking with
   * the best seq so far, so nodes send a record only when theirs is newer).
   */
  async get(keyHex: string, options: RecordCallOptions & { source?: GetSource } = {}): Promise<GetResult> {
    const key = parseKey(keyHex, 'key');
    const hex = bytesToHex(key);
    const source = options.source ?? 'auto';
    const local = source === 'network' ? undefined : this.store.get(hex, this.deps.clock.now());
    if (source === 'local') {
      if (!local) throw DhtError.notFound(`this node holds no copy of key ${hex.slice(0, 16)}…; fetch it from the network`);
      return { key: hex, value: new Uint8Array(local.record.value), from: this.selfHex, hops: 0, messages: 0, durationMs: 0, ...(local.record.type === 'mutable' ? { seq: local.record.seq } : {}), lookupId: null };
    }
    // An immutable value we hold is the answer (it was checked against its key when stored); a
    // mutable one may have been superseded elsewhere, so we still ask the network.
    if (local?.record.type === 'immutable') {
      return { key: hex, value: new Uint8Array(local.record.value), from: this.selfHex, hops: 0, messages: 0, durationMs: 0, lookupId: null };
    }
    let best: { record: WireRecord; from: string } | null = local ? { record: local.record, from: this.selfHex } : null;
    const bestSeq = (): number | undefined => (best?.record.type === 'mutable' ? best.record.seq : undefined);
    const lookup = this.deps.lookup(
      key,
      'find-value',
      () => {
        const seq = bestSeq();
        return seq === undefined ? { method: 'FIND_VALUE', key } : { method: 'FIND_VALUE', key, seq };
      },
      {
        ...options,
        onRecord: (record, from) => {
          if (validateRecord(key, record) !== null) return 'reject';
          if (record.type === 'immutable') {
            best = { record: copyRecord(record), from: from.id };
            return 'stop';
          }
          const seq = bestSeq();
          if (seq === undefined || record.seq > seq) best = { record: copyRecord(record), from: from.id };
          return 'continue';
        },
      },
    );
    const hopOf = new Map<string, number>();
    const done = await drain(lookup, (e) => {
      if (e.type === 'response' && e.hasValue) hopOf.set(e.peer.id, e.hop);
    });
    throwIfAborted(this.deps.signal(options.signal));
    const found = best as { record: WireRecord; from: string } | null;
    if (!found) {
      const why = done.reason === 'no-peers' ? 'this node knows no peers yet; join a network first' : `${done.messages} requests, lookup ${done.reason}`;
      throw DhtError.notFound(`no node returned a valid record for key ${hex.slice(0, 16)}… (${why})`);
    }
    return {
      key: hex,
      value: new Uint8Array(found.record.value),
      from: found.from,
      hops: found.from === this.selfHex ? 0 : (hopOf.get(found.from) ?? done.hops),
      messages: done.messages,
      durationMs: done.durationMs,
      ...(found.record.type === 'mutable' ? { seq: found.record.seq } : {}),
      lookupId: done.lookupId,
    };
  }

  /**
   * A find-value lookup toward the key (which also collects write tokens), so that a seq lower than
   * or equal to one the network holds, or a compare-and-swap that cannot succeed, is refused before
   * anything is written; then STORE at the k closest. Storers still check, and their refusals are
   * reported (a newer version may arrive between our lookup and our STORE).
   */
  private async publishMutable(key: Uint8Array, record: MutableRecord, options: RecordCallOptions & { cas?: number }): Promise<StoreResult> {
    const signal = this.deps.signal(options.signal);
    const { cas } = options;
    let newest: { record: MutableRecord; from: string } | null = null;
    // With a cas we need the current seq whatever it is; otherwise only versions at or above ours matter.
    const seqFilter = cas === undefined && record.seq > 0 ? record.seq - 1 : undefined;
    const lookup = this.deps.lookup(
      key,
      'find-value',
      () => (seqFilter === undefined ? { method: 'FIND_VALUE', key } : { method: 'FIND_VALUE', key, seq: seqFilter }),
      {
        ...options,
        onRecord: (r, from) => {
          if (r.type !== 'mutable' || validateRecord(key, r) !== null) return 'reject';
          if (!newest || r.seq > newest.record.seq) newest = { record: copyRecord(r) as MutableRecord, from: from.id };
          return 'continue';
        },
      },
    );
    const done = await drain(lookup);
    throwIfAborted(signal);
    const held = newest as { record: MutableRecord; from: string } | null;
    const where = held ? `node ${held.from.slice(0, 16)}… holds seq ${held.record.seq}` : '';
    if (held && held.record.seq > record.seq) {
      throw DhtError.refusal('SEQ_TOO_LOW', `seq ${record.seq} is lower than the stored seq ${held.record.seq} (${where}); publish with a higher seq`);
    }
    if (held && held.record.seq === record.seq && !sameRecord(held.record, record)) {
      throw DhtError.refusal('SEQ_REUSED', `seq ${record.seq} is already stored with a different value (${where}); publish with a higher seq`);
    }
    if (cas !== undefined && held?.record.seq !== cas) {
      throw DhtError.refusal('CAS_MISMATCH', `compare-and-swap expected seq ${cas}, but ${held ? where : 'no node holds this key'}`);
    }
    const out = await this.writeToClosest(lookup, done, signal, (token) =>
      cas === undefined ? { method: 'STORE', key, record, token } : { method: 'STORE', key, record, token, cas },
    );
    return { key: bytesToHex(key), ...out };
  }

  /** A find-node lookup toward key, then STORE at the k closest that gave us a token. */
  private async publish(key: Uint8Array, record: WireRecord, options: RecordCallOptions): Promise<StoreResult> {
    const signal = this.deps.signal(options.signal);
    const lookup = this.deps.lookup(key, 'find-node', () => ({ method: 'FIND_NODE', target: key }), options);
    const done = await drain(lookup);
    throwIfAborted(signal);
    const out = await this.writeToClosest(lookup, done, signal, (token) => ({ method: 'STORE', key, record, token }));
    return { key: bytesToHex(key), ...out };
  }

  private async writeToClosest(
    lookup: Lookup,
    done: DoneEvent,
    signal: AbortSignal,
    args: (token: Uint8Array) => RequestArgs,
  ): Promise<Omit<StoreResult, 'key'>> {
    const targets = lookup.outcome.closest.filter((p) => p.token !== undefined).slice(0, this.deps.k);
    if (targets.length === 0) {
      if (done.reason === 'no-peers') throw new DhtError('NO_PEERS', 'this node knows no peers yet; join a network (bootstrap) first');
      throw new DhtError(done.reason === 'timeout' ? 'TIMEOUT' : 'NO_PEERS', `no node answered the lookup with a write token (lookup ${done.reason})`);
    }
    const storedAt: string[] = [];
    const failed: StoreFailure[] = [];
    await Promise.all(
      targets.map(async (p) => {
        try {
          await this.deps.request(p, args(p.token!), { signal });
          storedAt.push(p.id);
        } catch (e) {
          const err = asDhtError(e);
          failed.push({ id: p.id, code: err.code, message: err.message });
        }
      }),
    );
    throwIfAborted(signal);
    return { storedAt, failed, lookupId: done.lookupId };
  }

  /** Our own copy of what we published: we answer for it, persist it and republish it. */
  private async keepLocal(key: Uint8Array, record: WireRecord): Promise<void> {
    const now = this.deps.clock.now();
    const r = this.store.put(key, record, { local: true, now });
    // Refused (our store is full, or holds a newer seq of this key): the network has it, we do not keep it.
    if (!r.ok) return;
    this.republishDue.set(r.stored.key, now + this.opts.republishIntervalMs);
    await this.accepted(r)?.catch((e: unknown) => console.error(`kadscope: could not save our record ${r.stored.key.slice(0, 16)}…: ${(e as Error).message}`));
  }

  // ---- client: topics ----

  /** Records our address (our port, or `port`) at the k closest to SHA-256(topic), and keeps it fresh. */
  async announce(topic: string | Uint8Array, port?: number, options: RecordCallOptions = {}): Promise<AnnounceResult> {
    const key = this.topicKey(topic);
    const p = port ?? this.deps.address().port;
    if (!isValidPort(p)) throw DhtError.invalidArgument(`port must be 1-65535; got ${p}`);
    const out = await this.announceOnce(key, p, options);
    if (out.storedAt.length === 0) throw noneStored('the announcement', out.failed);
    const id = `${out.key}:${p}`;
    this.ownAnnouncements.delete(id);
    if (this.ownAnnouncements.size >= MAX_OWN_ANNOUNCEMENTS) this.ownAnnouncements.delete(this.ownAnnouncements.keys().next().value as string);
    this.ownAnnouncements.set(id, { topic: key, port: p, dueAt: this.deps.clock.now() + this.opts.announceRefreshMs });
    return { ...out, port: p };
  }

  /** Stops refreshing an announcement (it expires at the storers on its own). */
  unannounce(topic: string | Uint8Array, port?: number): boolean {
    const p = port ?? this.deps.address().port;
    return this.ownAnnouncements.delete(`${bytesToHex(this.topicKey(topic))}:${p}`);
  }

  /** topicKey() in this node's protocol: its hash for text, its key length for bytes. */
  private topicKey(topic: string | Uint8Array): Uint8Array {
    return topicKey(topic, this.deps.selfId.length, this.deps.hashTopic);
  }

  private async announceOnce(topic: Uint8Array, port: number, options: RecordCallOptions): Promise<StoreResult> {
    const signal = this.deps.signal(options.signal);
    const lookup = this.deps.lookup(topic, 'get-peers', () => ({ method: 'GET_PEERS', topic }), options);
    const done = await drain(lookup);
    throwIfAborted(signal);
    const out = await this.writeToClosest(lookup, done, signal, (token) => ({ method: 'ANNOUNCE', topic, port, token }));
    return { key: bytesToHex(topic), ...out };
  }

  /** The addresses announced under SHA-256(topic): a get-peers lookup to the end, answers merged. */
  async lookupPeers(topic: string | Uint8Array, options: RecordCallOptions = {}): Promise<LookupPeersResult> {
    const key = this.topicKey(topic);
    const found = new Map<string, Endpoint>();
    const add = (p: WirePeer): void => {
      if (found.size < MAX_LOOKUP_PEERS) found.set(endpointKey(p), { host: p.host, port: p.port });
    };
    for (const p of this.store.peers(key, this.deps.clock.now())) add(p);
    const lookup = this.deps.lookup(key, 'get-peers', () => ({ method: 'GET_PEERS', topic: key }), {
      ...options,
      onPeers: (peers) => {
        for (const p of peers) add(p);
      },
    });
    const done = await drain(lookup);
    throwIfAborted(this.deps.signal(options.signal));
    return { key: bytesToHex(key), peers: [...found.values()], hops: done.hops, messages: done.messages, durationMs: done.durationMs, lookupId: done.lookupId };
  }

  // ---- lifetimes ----

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
    if (expired.length > 0) this.scheduleSave();
    if (this.opts.republishIntervalMs > 0) {
      for (const [key, due] of this.republishDue) if (due <= now) this.pool.add(`republish:${key}`, () => this.republish(key));
    }
    if (this.opts.announceRefreshMs > 0) {
      for (const [id, a] of this.ownAnnouncements) {
        if (a.dueAt > now) continue;
        a.dueAt = now + this.opts.announceRefreshMs;
        this.pool.add(`announce:${id}`, () => this.announceOnce(a.topic, a.port, {}).then(() => undefined));
      }
    }
    if (this.opts.replicateIntervalMs > 0 && now - this.lastReplicationAt >= this.opts.replicateIntervalMs) {
      this.lastReplicationAt = now;
      this.replicationPass(now);
    }
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
    if (r.ok) void this.accepted(r);
    await this.publish(keyBytes, held.record, {}).catch(() => undefined);
  }

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

  /** A FIND_VALUE for a record we are to pass on, from a node nearer its key than us: a replicator at work. */
  private noteAsked(key: Uint8Array, askerId: Uint8Array): void {
    if (this.passOn.size === 0) return;
    const flag = this.passOn.get(bytesToHex(key));
    if (flag && compareDistance(key, askerId, this.deps.selfId) < 0) flag.nearerAsked++;
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
      const answer = await this.deps.request({ host: peer.host, port: peer.port }, { method: 'FIND_VALUE', key: keyBytes }, { signal: this.deps.signal() });
      const theirs = answer.response.record;
      const holds = theirs !== undefined && holdsAtLeast(keyBytes, theirs, held.record);
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

  /** A node entered our routing table: soon, hand it the records it should now hold. */
  onPeerAdded(entry: RoutingEntry): void {
    if (!this.running || this.store.size === 0 || this.newcomers.size >= MAX_PENDING_NEWCOMERS) return;
    this.newcomers.set(entry.id, entry);
    this.handoffTimer ??= this.deps.clock.setTimeout(() => {
      this.handoffTimer = null;
      this.handOff();
    }, HANDOFF_DELAY_MS);
  }

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

  private lastRefresh(s: StoredRecord): number {
    return s.expiresAt - this.opts.recordTtlMs;
  }
}

// ---- helpers ----

async function drain(lookup: Lookup, onEvent?: (e: LookupEvent) => void): Promise<DoneEvent & { lookupId: string }> {
  let done: DoneEvent | null = null;
  for await (const e of lookup) {
    onEvent?.(e);
    if (e.type === 'done') done = e;
  }
  if (!done) throw new DhtError('INTERNAL', 'lookup ended without a done event');
  return done;
}

function throwIfAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof DhtError ? reason : DhtError.aborted(reason);
}

function asDhtError(e: unknown): DhtError {
  return e instanceof DhtError ? e : new DhtError('INTERNAL', e instanceof Error ? e.message : String(e));
}

/**
 * Nothing was stored. When every node refused for the same reason, that refusal is the error; when
 * reasons differ, the most common refusal wins (a refusal says more than a timeout) and the message
 * counts them all.
 */
export function noneStored(what: string, failed: StoreFailure[]): DhtError {
  if (failed.length === 0) return new DhtError('NO_PEERS', `no node stored ${what}`);
  const byCode = new Map<DhtErrorCode, StoreFailure[]>();
  for (const f of failed) {
    const list = byCode.get(f.code);
    if (list) list.push(f);
    else byCode.set(f.code, [f]);
  }
  const isNetwork = (c: DhtErrorCode): boolean => c === 'TIMEOUT' || c === 'ABORTED' || c === 'STOPPED' || c === 'TOO_MANY_IN_FLIGHT' || c === 'INTERNAL';
  let top: [DhtErrorCode, StoreFailure[]] | null = null;
  for (const entry of byCode) {
    if (!top) top = entry;
    else if (isNetwork(top[0]) !== isNetwork(entry[0])) top = isNetwork(top[0]) ? entry : top;
    else if (entry[1].length > top[1].length) top = entry;
  }
  const [code, list] = top!;
  if (byCode.size === 1) {
    return new DhtError(code, `${failed.length === 1 ? 'the only node asked' : `all ${failed.length} nodes asked`} refused ${what}: ${list[0].message}`);
  }
  const counts = [...byCode].map(([c, l]) => `${l.length} ${c}`).join(', ');
  return new DhtError(code, `no node stored ${what} (${counts}); ${code}: ${list[0].message}`);
}

function holdsAtLeast(key: Uint8Array, theirs: WireRecord, ours: WireRecord): boolean {
  if (validateRecord(key, theirs) !== null) return false;
  if (theirs.type === 'immutable' || ours.type === 'immutable') return theirs.type === ours.type;
  return theirs.seq >= ours.seq;
}

function copyRecord(r: WireRecord): WireRecord {
  if (r.type === 'immutable') return { type: 'immutable', value: r.value.slice() };
  return { type: 'mutable', value: r.value.slice(), publicKey: r.publicKey.slice(), salt: r.salt.slice(), seq: r.seq, sig: r.sig.slice() };
}

function toBytes(v: Uint8Array | string, what: string): Uint8Array {
  if (typeof v === 'string') return new TextEncoder().encode(v);
  if (v instanceof Uint8Array) return v;
  throw DhtError.invalidArgument(`${what} must be bytes (Uint8Array) or a string`);
}

function parseKey(hex: string, what: string): Uint8Array {
  if (typeof hex !== 'string' || !isIdHex(hex.toLowerCase())) throw DhtError.invalidArgument(`${what} must be 64 hex characters (a SHA-256 key); got "${String(hex).slice(0, 80)}"`);
  return hexToBytes(hex.toLowerCase());
}

/** A topic's key: the hash (default SHA-256) of its UTF-8 text, or a key of `keyBytes` (default 32) itself. */
export function topicKey(topic: string | Uint8Array, keyBytes = 32, hash: (text: string) => Uint8Array = sha256): Uint8Array {
  if (typeof topic === 'string') {
    if (topic.length === 0) throw DhtError.invalidArgument('a topic cannot be empty');
    return hash(topic);
  }
  if (topic instanceof Uint8Array && topic.length === keyBytes) return topic;
  throw DhtError.invalidArgument(`a topic is a non-empty string or a ${keyBytes}-byte key`);
}
