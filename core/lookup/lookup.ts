// The iterative Kademlia lookup, as an AsyncIterable of typed events (ARCHITECTURE.md, habit 2).
// alpha queries run in parallel; the lookup ends when the k closest nodes seen (or the `width`
// closest, for a wider lookup) have all answered or failed, and returns the k closest that
// answered. A query that has gone unanswered for a while (stallMs()) no longer holds one of the
// alpha slots: the lookup asks the next candidate meanwhile and still waits for the stalled one's
// answer or timeout. Without that, dead peers are timed out alpha at a time, and a network with
// many stopped nodes makes every lookup wait for each of them in turn.
// Per-peer failures are events, never exceptions. The same event stream feeds findNode, get/put,
// the UI and the trace recorder.
import { setMaxListeners } from 'node:events';
import type { Clock, TimerHandle } from '../clock';
import { DhtError } from '../errors';
import { bytesToHex, compareDistance, hexToBytes } from '../id';
import type { Contact, LookupEvent, LookupKind, LookupTermination } from '../types';
import { idHex } from '../rpc/id-hex';
import { sharedContact } from './shared-contact';
import type { WireContact, WirePeer, WireRecord } from '../wire/types';

export const LOOKUP_TIMEOUT_MS = 60_000;
/** Candidates kept per lookup beyond which the farthest are forgotten (bounded: ARCHITECTURE.md, habit 6). */
export const LOOKUP_CANDIDATES_PER_K = 8;
/**
 * A query stalls (stops holding an alpha slot) after STALL_RTT_FACTOR times the slowest answer of
 * this lookup so far, at least STALL_MIN_MS and at most half the RPC timeout; before any answer,
 * after a quarter of the RPC timeout.
 */
export const STALL_RTT_FACTOR = 4;
export const STALL_MIN_MS = 100;
/** Referrers remembered per candidate for onUnreachable (dht-rpc's down hints): the first few. */
export const MAX_REFERRERS = 3;

/** What asking one peer produced. */
export interface QueryAnswer {
  nodes: WireContact[];
  rttMs: number;
  bytesSent: number;
  bytesReceived: number;
  attempts: number;
  token?: Uint8Array;
  record?: WireRecord;
  peers?: WirePeer[];
  /** The id the peer answered with (hex). */
  id: string;
  /**
   * false: the peer answered and its referrals count, but it is not a routing node and so not one
   * of the closest (a HyperDHT node in ephemeral mode answers without an id). Default true.
   */
  member?: boolean;
}

/**
 * How the lookup asks a peer; the node supplies it (FIND_NODE, FIND_VALUE or GET_PEERS over RPC).
 * onSend has RequestOptions.onSend's signature (attempt from 1, datagram bytes), so a query can
 * hand it to the RPC layer as it is, with no wrapper per request.
 */
export type QueryFn = (peer: LookupPeer, signal: AbortSignal, onSend: (attempt: number, bytes: number) => void) => Promise<QueryAnswer>;

export interface LookupPeer {
  id: string;
  idBytes: Uint8Array;
  host: string;
  port: number;
}

/**
 * Decides what to do with an answer that carries a record (find-value). 'stop' ends the lookup
 * with 'value-found'; 'continue' keeps going (mutable records: look for a higher seq) and the lookup
 * still ends 'value-found', since a valid value came back; 'reject' treats the record as invalid
 * (counted as an error event for that peer). So a find-value ends 'value-found' exactly when a valid
 * value was found, and a UI can say found / not found from the reason alone.
 */
export type RecordVerdict = 'stop' | 'continue' | 'reject';

export interface LookupParams {
  lookupId: string;
  kind: LookupKind;
  /** The network's protocol name, recorded in the 'started' event (traces keep it). */
  protocol?: string;
  self: string;
  target: Uint8Array;
  k: number;
  /**
   * How many of the nearest live candidates must have answered before the lookup ends (default k;
   * never fewer). The result is still the k closest that answered: a wider lookup asks more nodes
   * near the target, and so meets nodes that the k closest do not know (DhtNodeOptions.lookupWidth).
   */
  width?: number;
  alpha: number;
  rpcTimeoutMs: number;
  seeds: LookupPeer[];
  query: QueryFn;
  clock: Clock;
  signal?: AbortSignal;
  timeoutMs?: number;
  onRecord?: (record: WireRecord, from: LookupPeer) => RecordVerdict;
  onPeers?: (peers: WirePeer[], from: LookupPeer) => void;
  /** Called for each answering peer; lets the node update its table and health. */
  onAnswer?: (peer: LookupPeer, answer: QueryAnswer) => void;
  onFailure?: (peer: LookupPeer, error: DhtError) => void;
  /**
   * A queried peer did not answer (TIMEOUT): the peers whose answers named it (at most
   * MAX_REFERRERS), and later any peer that names it again, are passed here, so the node can tell
   * them (dht-rpc's DOWN_HINT). Only when it is set does the lookup remember who named whom.
   */
  onUnreachable?: (peer: LookupPeer, referrers: readonly LookupPeer[]) => void;
  /** Sees every event as it is produced (the node re-emits them; traces record them). */
  onEvent?: (e: LookupEvent) => void;
  /**
   * Whether onEvent has anyone to tell right now (default: always). A lookup that is run() rather
   * than iterated, with nobody listening, builds no events but its final `done`.
   */
  wantsEvents?: () => boolean;
  /** Skip contacts that are not worth asking (our own id, obviously bad addresses). */
  accept?: (c: WireContact) => boolean;
  /** Called once with the final `done` event, built whether or not anyone sees the others (metrics). */
  onFinish?: (kind: LookupKind, done: LookupDoneEvent) => void;
}

type CandidateState = 'new' | 'inflight' | 'answered' | 'failed' | 'not-member';

interface Candidate {
  peer: LookupPeer;
  state: CandidateState;
  hop: number;
  answeredAt: number;
  /** A datagram of our query to it went out (candidates are queried at most once). */
  sent: boolean;
  /** When the query was started (inflight only). */
  sentAt: number;
  /** In flight for longer than stallMs(): it no longer counts against alpha. */
  stalled: boolean;
  token?: Uint8Array;
  /** The peers whose answers named it, until it is asked (onUnreachable only; at most MAX_REFERRERS). */
  referrers?: LookupPeer[];
  /** It timed out: a peer that names it again is told (onUnreachable). */
  down?: true;
  /**
   * Its contact as events show it, made once (contactOf): every event about this candidate, and
   * every answer that names it at its address, shares this one object instead of a copy each.
   */
  contact?: Contact;
}

export type LookupDoneEvent = Extract<LookupEvent, { type: 'done' }>;

/** The outcome of a finished lookup beyond its events: tokens of the answering closest nodes. */
export interface LookupOutcome {
  closest: Array<LookupPeer & { token?: Uint8Array }>;
  reason: LookupTermination;
}

const LOWER_HEX_ID = /^(?:[0-9a-f]{2})+$/;

/** a and b are the same id (position() finds an id's candidate, if any, where it would go). */
function equalIds(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A candidate's contact for events, taken on first use and shared by every event after (and with other lookups: shared-contact.ts). */
function contactOf(c: Candidate): Contact {
  return (c.contact ??= sharedContact(c.peer.id, c.peer.host, c.peer.port));
}

/**
 * Runs a lookup and yields its events. The final `done` event is always yielded (also on abort
 * and timeout). `outcome` is filled in before `done` is yielded. A caller that wants only the end
 * calls run() instead of iterating: no event is queued for it, and none is built that nobody sees.
 */
export class Lookup implements AsyncIterable<LookupEvent> {
  readonly outcome: LookupOutcome = { closest: [], reason: 'converged' };

  private readonly p: LookupParams;
  /**
   * The candidates, sorted by distance to the target, nearest first. Also the index by id: two ids
   * are at the same distance only if they are the same id, so a binary search finds one. (No Map by
   * hex id: most referrals name candidates we have, and a hex string per referral and a hash of it
   * cost more than the search.)
   */
  private sorted: Candidate[] = [];
  private readonly cap: number;
  /** The live candidates that must have answered before the lookup ends (LookupParams.width). */
  private readonly width: number;
  /** Our own id, which referrals may name and the lookup skips. */
  private readonly selfBytes: Uint8Array;
  private inflight = 0;
  /** Of those in flight, how many have stalled. */
  private stalledCount = 0;
  /** The slowest answer so far (ms), -1 before the first. */
  private slowestRttMs = -1;
  /** Armed while queries are in flight: when the oldest unstalled one would stall. */
  private stallTimer: TimerHandle | null = null;
  private readonly onStallCheck: () => void;
  private messages = 0;
  private startedAt = 0;
  private finished = false;
  private valueFound = false;

  private readonly events: LookupEvent[] = [];
  private wake: (() => void) | null = null;
  private readonly abort = new AbortController();
  private started = false;
  /** Events are queued for an iterator only when one iterates (not under run()). */
  private iterating = false;
  private onDone: ((e: LookupDoneEvent) => void) | null = null;

  constructor(params: LookupParams) {
    this.p = params;
    this.width = Math.max(params.k, params.width ?? params.k);
    this.cap = Math.max(this.width * LOOKUP_CANDIDATES_PER_K, 64);
    // Referral ids are compared as bytes; `self` as the string compare did: only a lowercase hex id matches.
    this.selfBytes = LOWER_HEX_ID.test(params.self) ? hexToBytes(params.self) : new Uint8Array(0);
    this.onExternalAbort = this.stop.bind(this, 'aborted');
    this.onStallCheck = this.checkStalls.bind(this);
    // Each in-flight query listens on this signal (alpha at a time, but retries add more).
    setMaxListeners(0, this.abort.signal);
  }

  [Symbol.asyncIterator](): AsyncIterator<LookupEvent> {
    if (this.started) throw new DhtError('INVALID_ARGUMENT', 'a lookup can be iterated once');
    this.started = true;
    this.iterating = true;
    this.begin();
    return {
      next: async (): Promise<IteratorResult<LookupEvent>> => {
        for (;;) {
          const e = this.events.shift();
          if (e) return { value: e, done: false };
          if (this.finished) return { value: undefined, done: true };
          await new Promise<void>((r) => (this.wake = r));
        }
      },
      return: async (): Promise<IteratorResult<LookupEvent>> => {
        // The consumer walked away: cancel everything in flight (ARCHITECTURE.md, habit 3).
        this.stop('aborted');
        this.events.length = 0;
        return { value: undefined, done: true };
      },
    };
  }

  /**
   * Runs the lookup to its end and resolves with its `done` event (never rejects: failures are in
   * it). The same lookup as iterating it, without an event queue; events still reach onEvent.
   */
  run(): Promise<LookupDoneEvent> {
    if (this.started) return Promise.reject(new DhtError('INVALID_ARGUMENT', 'a lookup can be run or iterated once'));
    this.started = true;
    return new Promise<LookupDoneEvent>((resolve) => {
      this.onDone = resolve;
      this.begin();
    });
  }

  /** Whether an event before `done` would be seen by anyone; if not, it is not built. */
  private get watched(): boolean {
    return this.iterating || (this.p.onEvent !== undefined && (this.p.wantsEvents?.() ?? true));
  }

  private push(e: LookupEvent): void {
    this.p.onEvent?.(e);
    if (!this.iterating) return;
    this.events.push(e);
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private begin(): void {
    const p = this.p;
    this.startedAt = p.clock.now();
    for (const s of p.seeds) this.addCandidate(s, 1);
    if (this.watched) {
      const e: Extract<LookupEvent, { type: 'started' }> = {
        type: 'started',
        lookupId: p.lookupId,
        at: this.startedAt,
        kind: p.kind,
        target: bytesToHex(p.target),
        self: p.self,
        k: p.k,
        alpha: p.alpha,
        rpcTimeoutMs: p.rpcTimeoutMs,
        lookupTimeoutMs: p.timeoutMs ?? LOOKUP_TIMEOUT_MS,
        seeds: this.sorted.map(contactOf),
      };
      if (p.protocol !== undefined) e.protocol = p.protocol;
      if (this.width > p.k) e.width = this.width;
      this.push(e);
    }
    if (p.signal?.aborted) {
      this.stop('aborted');
      return;
    }
    p.signal?.addEventListener('abort', this.onExternalAbort, { once: true });
    const timeoutMs = p.timeoutMs ?? LOOKUP_TIMEOUT_MS;
    this.deadline = p.clock.setTimeout(() => this.stop('timeout'), timeoutMs);
    if (this.sorted.length === 0) {
      this.stop('no-peers');
      return;
    }
    this.step();
  }

  private deadline: unknown = null;

  /**
   * A bound method, not a class-field arrow (tsx keepNames renames those per lookup) nor an arrow
   * made in the constructor (that doubled the bytes each lookup left for the GC to promote).
   */
  private readonly onExternalAbort: () => void;

  /** Takes a seed as a candidate. */
  private addCandidate(peer: LookupPeer, hop: number): void {
    const at = this.position(peer.idBytes);
    const existing = this.sorted[at];
    if (existing !== undefined && equalIds(existing.peer.idBytes, peer.idBytes)) {
      if (hop < existing.hop && existing.state === 'new') existing.hop = hop;
      return;
    }
    this.insertCandidate(at, peer, hop);
  }

  /** Where idBytes is or would go in `sorted`: the first candidate not nearer the target (binary search). */
  private position(idBytes: Uint8Array): number {
    const list = this.sorted;
    const target = this.p.target;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareDistance(target, list[mid].peer.idBytes, idBytes) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A candidate we do not have yet, at position `at`, kept if it is among the `cap` nearest (returned, or null). */
  private insertCandidate(at: number, peer: LookupPeer, hop: number): Candidate | null {
    if (at >= this.cap) return null; // farther than everything we keep
    const list = this.sorted;
    const c: Candidate = { peer, state: 'new', hop, answeredAt: 0, sent: false, sentAt: 0, stalled: false };
    list.splice(at, 0, c);
    if (list.length > this.cap) {
      // Forget the farthest candidate that is not in flight.
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i].state !== 'inflight') {
          if (list[i] === c) return null;
          list.splice(i, 1);
          break;
        }
      }
    }
    return c;
  }

  /** `by` named candidate `c` again: remembered until `c` is asked, or told at once if `c` is down (dht-rpc). */
  private referred(c: Candidate, by: LookupPeer, unreachable: NonNullable<LookupParams['onUnreachable']>): void {
    if (c.down) {
      unreachable(c.peer, [by]);
      return;
    }
    const refs = c.referrers;
    if (refs !== undefined && refs.length < MAX_REFERRERS && (c.state === 'new' || c.state === 'inflight') && !refs.includes(by)) refs.push(by);
  }

  /**
   * Sends queries while fewer than alpha are in flight (stalled ones not counted) and an unasked node
   * is among the `width` (default k) closest live ones. A stalled query is waited for but does not
   * take a place among them: the candidates behind it are asked meanwhile, as they would be if it
   * failed. Once nothing is in flight, nothing is stalled, and the window is the plain `width`
   * closest that did not fail.
   */
  private step(): void {
    if (this.finished) return;
    const { k, alpha } = this.p;
    const width = this.width;
    let live = 0;
    let pendingInTopK = false;
    for (const c of this.sorted) {
      if (c.state === 'failed' || c.state === 'not-member') continue;
      if (c.stalled) {
        pendingInTopK = true;
        continue;
      }
      if (live >= width) break;
      live++;
      if (c.state === 'inflight') pendingInTopK = true;
      if (c.state === 'new') {
        if (this.inflight - this.stalledCount < alpha) this.query(c);
        pendingInTopK = true;
      }
    }
    if (!pendingInTopK && this.inflight === 0) {
      // Every one of the `width` closest live candidates has answered: converged (a small network
      // may have fewer than width but at least k). Fewer than k were left alive: exhausted.
      this.stop(live >= k ? 'converged' : 'exhausted');
    }
  }

  private query(c: Candidate): void {
    const p = this.p;
    c.state = 'inflight';
    this.inflight++;
    const sentAt = p.clock.now();
    c.sentAt = sentAt;
    if (this.stallTimer === null) this.armStallCheck(this.stallMs());
    p.query(c.peer, this.abort.signal, (_attempt, bytes) => this.onSent(c, bytes)).then(
      (answer) => this.onAnswer(c, answer),
      (err: unknown) => this.onError(c, err instanceof DhtError ? err : new DhtError('INTERNAL', String(err)), sentAt),
    );
  }

  /** How long a query may go unanswered before it stops holding an alpha slot (see STALL_RTT_FACTOR). */
  private stallMs(): number {
    const timeout = this.p.rpcTimeoutMs;
    if (this.slowestRttMs < 0) return timeout / 4;
    return Math.min(timeout / 2, Math.max(STALL_MIN_MS, STALL_RTT_FACTOR * this.slowestRttMs));
  }

  /** The stall timer: marks the queries that have stalled, re-arms for the next one, and asks onward. */
  private checkStalls(): void {
    this.stallTimer = null;
    if (this.finished) return;
    const now = this.p.clock.now();
    const stallMs = this.stallMs();
    let next = Infinity;
    let freed = false;
    for (const c of this.sorted) {
      if (c.state !== 'inflight' || c.stalled) continue;
      const due = c.sentAt + stallMs;
      if (due <= now) {
        c.stalled = true;
        this.stalledCount++;
        freed = true;
      } else if (due < next) next = due;
    }
    if (next !== Infinity) this.armStallCheck(next - now);
    if (freed) this.step();
  }

  private armStallCheck(delayMs: number): void {
    // Whole milliseconds, at least one: a timer rounded down to now would find nothing due and re-arm forever.
    this.stallTimer = this.p.clock.setTimeout(this.onStallCheck, Math.max(1, Math.ceil(delayMs)));
  }

  /** The query to `c` ended (answer or failure). */
  private settle(c: Candidate): void {
    this.inflight--;
    if (c.stalled) {
      c.stalled = false;
      this.stalledCount--;
    }
  }

  /** A datagram of the query to `c` went out: counted; the first one is the 'query' event. */
  private onSent(c: Candidate, bytes: number): void {
    this.messages++;
    if (c.sent) return;
    c.sent = true;
    if (!this.watched) return;
    const p = this.p;
    this.push({ type: 'query', lookupId: p.lookupId, at: p.clock.now(), peer: contactOf(c), hop: c.hop, bytes });
  }

  private onAnswer(c: Candidate, answer: QueryAnswer): void {
    if (this.finished) return;
    const p = this.p;
    this.settle(c);
    if (answer.id !== c.peer.id) {
      // The address answered with another id: the node we were told about is not there.
      c.state = 'failed';
      if (this.watched) this.push({ type: 'error', lookupId: p.lookupId, at: p.clock.now(), peer: contactOf(c), hop: c.hop, code: 'ID_MISMATCH', message: `answered with id ${answer.id.slice(0, 16)}…` });
      this.step();
      return;
    }
    c.state = answer.member === false ? 'not-member' : 'answered';
    c.answeredAt = p.clock.now();
    c.referrers = undefined;
    const firstAnswer = this.slowestRttMs < 0;
    if (answer.rttMs > this.slowestRttMs) this.slowestRttMs = answer.rttMs;
    if (answer.token) c.token = answer.token;
    p.onAnswer?.(c.peer, answer);
    // The referrals as the 'response' event shows them, when anyone sees it: one per referral, so
    // the array is made at its length (pushing into [] reallocates it as it grows).
    const nodes: Contact[] | null = this.watched ? new Array<Contact>(answer.nodes.length) : null;
    let shownCount = 0;
    const hop = c.hop + 1;
    const self = this.selfBytes;
    const unreachable = p.onUnreachable;
    for (const n of answer.nodes) {
      // A hex id only for the event and for a candidate we keep; one we have already has its own.
      if (equalIds(n.id, self)) {
        if (nodes !== null) nodes[shownCount++] = sharedContact(p.self, n.host, n.port);
        continue;
      }
      // Most referrals name candidates we already have: settle those before the address checks.
      const at = this.position(n.id);
      const existing = this.sorted[at];
      if (existing !== undefined && equalIds(existing.peer.idBytes, n.id)) {
        if (nodes !== null) nodes[shownCount++] = n.host === existing.peer.host && n.port === existing.peer.port ? contactOf(existing) : sharedContact(existing.peer.id, n.host, n.port);
        if (hop < existing.hop && existing.state === 'new' && (!p.accept || p.accept(n))) existing.hop = hop;
        if (unreachable !== undefined) this.referred(existing, c.peer, unreachable);
        continue;
      }
      // The process-wide memo (rpc/id-hex.ts): a referral names a node seen before more often than not.
      let shown: Contact | null = null;
      if (nodes !== null) {
        shown = sharedContact(idHex(n.id), n.host, n.port);
        nodes[shownCount++] = shown;
      }
      if (p.accept && !p.accept(n)) continue;
      if (at >= this.cap) continue;
      const added = this.insertCandidate(at, { id: shown?.id ?? idHex(n.id), idBytes: n.id, host: n.host, port: n.port }, hop);
      if (added === null) continue;
      if (shown !== null) added.contact = shown;
      if (unreachable !== undefined) added.referrers = [c.peer];
    }
    if (nodes) {
      // The optional fields are set on the object, not spread into the literal (V8's slow path).
      const e: Extract<LookupEvent, { type: 'response' }> = {
        type: 'response',
        lookupId: p.lookupId,
        at: c.answeredAt,
        peer: contactOf(c),
        hop: c.hop,
        rttMs: answer.rttMs,
        bytes: answer.bytesReceived,
        nodes,
      };
      if (answer.record) e.hasValue = true;
      if (answer.peers) e.peerCount = answer.peers.length;
      this.push(e);
    }
    if (answer.peers && p.onPeers) p.onPeers(answer.peers, c.peer);
    if (answer.record && p.onRecord) {
      const verdict = p.onRecord(answer.record, c.peer);
      if (verdict !== 'reject') this.valueFound = true;
      if (verdict === 'stop') {
        this.stop('value-found');
        return;
      }
      if (verdict === 'reject' && this.watched) {
        this.push({ type: 'error', lookupId: p.lookupId, at: p.clock.now(), peer: contactOf(c), hop: c.hop, code: 'INVALID_RECORD', message: 'answered with a record that failed validation' });
      }
    }
    if (firstAnswer && this.stallTimer !== null) {
      // The stall time before any answer was a guess (a quarter of the RPC timeout); now there is a
      // measure, so the queries already waiting are checked against it.
      this.p.clock.clearTimeout(this.stallTimer);
      this.checkStalls();
    }
    this.step();
  }

  private onError(c: Candidate, err: DhtError, sentAt: number): void {
    if (this.finished) return;
    const p = this.p;
    this.settle(c);
    c.state = 'failed';
    p.onFailure?.(c.peer, err);
    if (err.code === 'TIMEOUT' && p.onUnreachable !== undefined) {
      c.down = true;
      if (c.referrers !== undefined && c.referrers.length > 0) p.onUnreachable(c.peer, c.referrers);
      c.referrers = undefined;
    }
    const at = p.clock.now();
    if (this.watched) {
      if (err.code === 'TIMEOUT') {
        this.push({ type: 'timeout', lookupId: p.lookupId, at, peer: contactOf(c), hop: c.hop, afterMs: at - sentAt });
      } else if (err.code !== 'ABORTED') {
        this.push({ type: 'error', lookupId: p.lookupId, at, peer: contactOf(c), hop: c.hop, code: err.code, message: err.message });
      }
    }
    this.step();
  }

  private stop(reason: LookupTermination): void {
    if (this.finished) return;
    const p = this.p;
    this.finished = true;
    this.abort.abort(reason);
    if (this.deadline !== null) p.clock.clearTimeout(this.deadline as never);
    if (this.stallTimer !== null) {
      p.clock.clearTimeout(this.stallTimer);
      this.stallTimer = null;
    }
    p.signal?.removeEventListener('abort', this.onExternalAbort);
    const closest = this.sorted.filter((c) => c.state === 'answered').slice(0, p.k);
    const now = p.clock.now();
    let hops = 0;
    let lastAnswer = this.startedAt;
    for (const c of closest) {
      hops = Math.max(hops, c.hop);
      lastAnswer = Math.max(lastAnswer, c.answeredAt);
    }
    // Fields named, not { ...c.peer, token }: a spread of an object with more after it is V8's slow path (~0.3 us each).
    this.outcome.closest = closest.map((c) => {
      const q: LookupOutcome['closest'][number] = { id: c.peer.id, idBytes: c.peer.idBytes, host: c.peer.host, port: c.peer.port };
      if (c.token) q.token = c.token;
      return q;
    });
    this.outcome.reason = this.valueFound ? 'value-found' : reason;
    const done: LookupDoneEvent = {
      type: 'done',
      lookupId: p.lookupId,
      at: now,
      reason: this.outcome.reason,
      closest: closest.map(contactOf),
      hops,
      messages: this.messages,
      durationMs: now - this.startedAt,
      timeToClosestMs: lastAnswer - this.startedAt,
    };
    this.push(done);
    p.onFinish?.(p.kind, done);
    const w = this.wake;
    this.wake = null;
    w?.();
    const onDone = this.onDone;
    this.onDone = null;
    onDone?.(done);
  }
}
