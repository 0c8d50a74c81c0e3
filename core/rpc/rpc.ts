// Request/response over datagrams: unpredictable transaction ids, per-attempt timeouts with one
// retry, a cap on requests in flight with a bounded wait queue, and the counters the UI shows.
// A response counts only if it comes from the address we asked (anti-spoofing); everything else
// is dropped and counted by reason. Decoding never throws past the socket.
import type { Clock } from '../clock';
import { DhtError } from '../errors';
import { bytesToHex, type RandomBytes } from '../id';
import { endpointKey, type Endpoint, type Transport } from '../transport/types';
import { emptyHistogram, Histogram, RPC_LATENCY_BOUNDS_MS } from '../metrics/histogram';
import type { Counters, MethodCounters } from '../types';
import { kadscopeCodec, type AnyDropReason, type WireCodec } from '../protocols/protocol';
import {
  METHODS,
  type ErrorMessage,
  type Method,
  type RequestArgs,
  type RequestMessage,
  type ResponseMessage,
} from '../wire/types';
import { LazyMap } from '../lazy-map';
import { Deadlines, type Deadline } from './deadlines';

export const RPC_TIMEOUT_MS = 2_000;
export const RPC_RETRIES = 1;
export const MAX_IN_FLIGHT = 512;
export const MAX_QUEUED_REQUESTS = 4_096;

/** What a request handler answers: the body of a response, or a refusal sent as an ERROR. */
export type ResponseBody = Omit<ResponseMessage, 'kind' | 'tid' | 'id' | 'observed'>;
export type HandlerResult = ResponseBody | DhtError | null;
/**
 * Answers a request. Most answers are immediate; one that must wait (a STORE acknowledged only once
 * the record is durable on disk) returns a promise, and the answer goes out when it settles.
 * `requestBytes` is the request's datagram size (the anti-amplification budget, amplification.ts).
 */
export type RequestHandler = (req: RequestMessage, from: Endpoint, requestBytes: number) => HandlerResult | Promise<HandlerResult>;

export interface RpcResult {
  response: ResponseMessage;
  rttMs: number;
  /** Bytes of the request we sent (last attempt) and of the answer. */
  bytesSent: number;
  bytesReceived: number;
  /** Datagrams sent for this request (1, or 2 after a retry). */
  attempts: number;
  /**
   * A padded request (RequestOptions.padTo) only: true if it was answered before any unpadded
   * attempt went out (the peer reads wire v4), false if only after one (it may read only v1-v3).
   */
  readsPadding?: boolean;
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  retries?: number;
  /**
   * Asked when the last allowed attempt goes unanswered: the retries the caller would give a request
   * started now. When that is more than this request was given, it goes on up to that many. (Node
   * passes its loss policy: a request started before the loss was measured gets the retries that
   * the loss measured meanwhile calls for.)
   */
  retriesNow?: () => number;
  /**
   * Wire v4 (codecs with paddingFor only): the first attempt is padded to at least this many bytes,
   * so that a responder that has not verified our address answers at once (rpc/amplification.ts).
   * A node that reads only v1-v3 drops it: once a padded attempt goes unanswered, the next attempts
   * go unpadded, and there is one more attempt than the retries allow, so that such a node is
   * still reached.
   */
  padTo?: number;
  /**
   * Wire v5: the request's first attempt is not sent but rides on an answer of ours: its tid is
   * written here, the caller puts it in that answer as an echo request (ResponseMessage.echo), and
   * the peer's echo is this request's answer. If none comes within the timeout, the request goes
   * out as usual, with the retries it has. Left null when the request is queued (too many in
   * flight): it is then sent as usual when it starts.
   */
  echo?: EchoSlot;
  /** Called each time a datagram for this request goes out (attempt number from 1). */
  onSend?: (attempt: number, bytes: number) => void;
  /**
   * Send the datagrams from this socket instead (a reachability probe's second socket, bound by
   * the caller); the answer is still awaited on ours, from the address asked.
   */
  via?: Transport;
}

/** Where a request that rides on an answer (RequestOptions.echo) leaves its tid. */
export interface EchoSlot {
  tid: number | null;
}

export interface RpcDeps {
  transport: Transport;
  clock: Clock;
  randomBytes: RandomBytes;
  selfId: Uint8Array;
  /** The protocol's datagrams (core/protocols/protocol.ts); default kadscope's wire v1. */
  codec?: WireCodec;
}

export interface RpcOptions {
  timeoutMs?: number;
  retries?: number;
  maxInFlight?: number;
  maxQueued?: number;
  /** Admission control for incoming requests (rate limits); false drops the datagram. */
  admit?: (from: Endpoint, method: Method) => boolean;
  /**
   * The row a CALL counts under in `counters.custom`: the name for calls we make; for calls we
   * receive, the name if it is registered here, else one shared row (a hostile peer must not be
   * able to fill the table with names). Without it, CALLs count under CALL only.
   */
  customRow?: (name: string, incoming: boolean) => string;
}

/** Rows in `counters.custom`; names past this count under OTHER_CUSTOM_ROW. */
export const MAX_CUSTOM_COUNTER_ROWS = 64;
export const OTHER_CUSTOM_ROW = '(other)';

interface Pending extends Deadline {
  tid: number;
  /** CALL only: its row in counters.custom. */
  customRow: MethodCounters | null;
  /** Start order, so that close() settles requests in the order they were made. */
  seq: number;
  to: Endpoint;
  method: Method;
  data: Uint8Array;
  /** A padded request: its unpadded datagram, until it replaces `data` (after an unanswered attempt). */
  plain: Uint8Array | null;
  /** Padded at first (plain set, or sent since). */
  padded: boolean;
  attempt: number;
  maxAttempts: number;
  retriesNow?: () => number;
  timeoutMs: number;
  sentAt: number;
  resolve: (r: RpcResult) => void;
  reject: (e: DhtError) => void;
  signal?: AbortSignal;
  onSend?: (attempt: number, bytes: number) => void;
  via?: Transport;
}

/** The requests in flight under one AbortSignal, and the one 'abort' listener they share. */
class SignalWatch {
  readonly pending = new Set<Pending>();
  readonly onAbort: () => void;

  constructor(rpc: Rpc, signal: AbortSignal) {
    // Assigned, not a named arrow: tsx (keepNames) would rename a named one per lookup.
    this.onAbort = () => rpc.abortWatched(signal, this);
  }
}

interface Queued {
  start: () => void;
  fail: (e: DhtError) => void;
}

function emptyMethodCounters(): MethodCounters {
  return { sent: 0, responses: 0, timeouts: 0, errors: 0, received: 0 };
}

/**
 * The row of a method nothing was sent or received with yet, shared by every node's counters
 * (frozen: only Rpc writes rows, and it makes a node's own row on the method's first use). A node
 * uses a few of the methods; a row each for the rest was ~0.4 KB of every node's heap.
 */
const NO_METHOD_COUNTERS: Readonly<MethodCounters> = Object.freeze(emptyMethodCounters());

/** The latency of a method never answered. */
const NO_LATENCY = emptyHistogram(RPC_LATENCY_BOUNDS_MS);

export class Rpc {
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly randomBytes: RandomBytes;
  private readonly selfId: Uint8Array;
  private readonly codec: WireCodec;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly admit?: (from: Endpoint, method: Method) => boolean;
  private readonly customRow?: (name: string, incoming: boolean) => string;

  private readonly pending = new TidTable<Pending>();
  /** Each pending request's attempt timeout: one clock timer per timeout in use, not one per request. */
  private readonly deadlines: Deadlines<Pending>;
  private requestSeq = 0;
  /**
   * host -> port -> requests in flight to that address (bounded by `pending`). Two lookups on the
   * strings and numbers we hold, not one on a "host:port" built per request.
   */
  private readonly pendingTo = new LazyMap<string, Map<number, number>>();
  private readonly queue: Queued[] = [];
  /**
   * One 'abort' listener per signal with requests in flight, not one per request: every request of
   * a lookup shares its signal, every PING the node's lifetime signal, and EventTarget listeners
   * cost far more to add and remove than a Set entry. A watch lives while its set is non-empty, so
   * this is bounded by `pending`.
   */
  private readonly watches = new LazyMap<AbortSignal, SignalWatch>();
  private handler: RequestHandler | null = null;
  private closed = false;

  /** Called for every response accepted (after source checks), before the requester sees it. */
  onResponse: ((res: ResponseMessage, from: Endpoint, rttMs: number) => void) | null = null;
  /** Called when a request finally times out (all attempts). */
  onTimeout: ((to: Endpoint, method: Method) => void) | null = null;

  readonly counters: Omit<Counters, 'inFlight'>;
  /** Histograms of the methods that were answered: made on a method's first answer (a node uses two or three of the eight). */
  private readonly latencyBy: Partial<Record<Method, Histogram>> = {};

  constructor(deps: RpcDeps, options: RpcOptions = {}) {
    this.transport = deps.transport;
    this.clock = deps.clock;
    this.randomBytes = deps.randomBytes;
    this.selfId = deps.selfId;
    this.codec = deps.codec ?? kadscopeCodec;
    this.timeoutMs = options.timeoutMs ?? RPC_TIMEOUT_MS;
    this.retries = options.retries ?? RPC_RETRIES;
    this.maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT;
    this.maxQueued = options.maxQueued ?? MAX_QUEUED_REQUESTS;
    this.admit = options.admit;
    this.customRow = options.customRow;
    this.deadlines = new Deadlines<Pending>(this.clock, (p) => this.onAttemptTimeout(p));
    const rpc = {} as Record<Method, MethodCounters>;
    for (const m of METHODS) rpc[m] = NO_METHOD_COUNTERS;
    this.counters = { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, dropped: {}, rpc, custom: {} };
    this.transport.onMessage((data, from) => this.receive(data, from));
  }

  /**
   * Round trips of answered requests (responses, not ERROR replies), by method, ms: every method,
   * one never answered as a shared empty histogram (frozen: only this class observes).
   */
  get latency(): Readonly<Record<Method, Histogram>> {
    const out = {} as Record<Method, Histogram>;
    for (const m of METHODS) out[m] = this.latencyBy[m] ?? NO_LATENCY;
    return out;
  }

  setHandler(handler: RequestHandler): void {
    this.handler = handler;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Whether a request of ours to this address is in flight. Its answer will prove the address
   * alive, so the node need not PING it to verify it meanwhile (a first contact otherwise costs a
   * PING each way: both sides verify the other).
   */
  hasPendingTo(to: Endpoint): boolean {
    return this.pendingTo.get(to.host)?.has(to.port) ?? false;
  }

  drop(reason: AnyDropReason): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
  }

  request(to: Endpoint, args: RequestArgs, options: RequestOptions = {}): Promise<RpcResult> {
    if (this.closed) return Promise.reject(DhtError.stopped());
    if (options.signal?.aborted) return Promise.reject(DhtError.aborted(options.signal.reason));
    return new Promise<RpcResult>((resolve, reject) => {
      // No closure on this path (one per request): a queued request gets its own below.
      if (this.pending.size < this.maxInFlight) {
        this.startRequest(to, args, options, resolve, reject);
        return;
      }
      if (this.queue.length >= this.maxQueued) {
        reject(new DhtError('TOO_MANY_IN_FLIGHT', `${this.pending.size} requests in flight and ${this.queue.length} queued; refusing more`));
        return;
      }
      const entry: Queued = { start: () => this.startRequest(to, args, options, resolve, reject), fail: reject };
      this.queue.push(entry);
      options.signal?.addEventListener(
        'abort',
        () => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) {
            this.queue.splice(i, 1);
            reject(DhtError.aborted(options.signal?.reason));
          }
        },
        { once: true },
      );
    });
  }

  private newTid(): number {
    for (;;) {
      const b = this.randomBytes(4);
      let tid = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
      if (this.codec.tidLimit !== undefined) tid %= this.codec.tidLimit;
      if (!this.pending.has(tid)) return tid;
    }
  }

  private startRequest(
    to: Endpoint,
    args: RequestArgs,
    options: RequestOptions,
    resolve: (r: RpcResult) => void,
    reject: (e: DhtError) => void,
  ): void {
    if (this.closed) {
      reject(DhtError.stopped());
      return;
    }
    if (options.signal?.aborted) {
      reject(DhtError.aborted(options.signal.reason));
      this.pump();
      return;
    }
    const tid = this.newTid();
    let data: Uint8Array;
    let plain: Uint8Array | null = null;
    try {
      const msg = { kind: 'request', tid, id: this.selfId, ...args } as RequestMessage;
      data = this.codec.encode(msg, to);
      const padTo = options.padTo;
      if (padTo !== undefined && this.codec.paddingFor !== undefined && data.byteLength < padTo) {
        plain = data;
        // A padded request says we echo (wire v5; the mark is in the padding, which v4 ignores).
        // The same object gains the two fields: a copy ({ ...msg, padding }) cost ~2 us a request,
        // eight times the encoding.
        msg.padding = this.codec.paddingFor(data.byteLength, padTo);
        msg.echoes = true;
        data = this.codec.encode(msg, to);
      }
    } catch (err) {
      reject(err instanceof DhtError ? err : new DhtError('INTERNAL', String(err)));
      this.pump();
      return;
    }
    const p: Pending = {
      tid,
      customRow: args.method === 'CALL' ? this.customCounters(args.name, false) : null,
      seq: this.requestSeq++,
      to,
      method: args.method,
      data,
      plain,
      padded: plain !== null,
      attempt: 0,
      maxAttempts: 1 + Math.max(0, options.retries ?? this.retries),
      retriesNow: options.retriesNow,
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      sentAt: 0,
      dueAt: 0,
      dueList: null,
      dueNext: null,
      duePrev: null,
      resolve,
      reject,
      signal: options.signal,
      onSend: options.onSend,
      via: options.via,
    };
    if (p.signal) this.watch(p.signal, p);
    this.pending.add(p);
    let ports = this.pendingTo.get(to.host);
    if (ports === undefined) {
      ports = new Map<number, number>();
      this.pendingTo.set(to.host, ports);
    }
    ports.set(to.port, (ports.get(to.port) ?? 0) + 1);
    this.methodRow(p.method).sent++;
    if (p.customRow) p.customRow.sent++;
    if (options.echo !== undefined && plain === null && p.via === undefined) {
      // Rides on the caller's answer: an attempt that sends nothing; its timeout sends the request.
      options.echo.tid = tid;
      this.counters.echoRequests = (this.counters.echoRequests ?? 0) + 1;
      p.maxAttempts++;
      this.beginAttempt(p);
      return;
    }
    this.sendAttempt(p);
  }

  private sendAttempt(p: Pending): void {
    this.beginAttempt(p);
    this.sendRaw(p.data, p.to, p.via);
    p.onSend?.(p.attempt, p.data.byteLength);
  }

  /** Counts an attempt and times it: from now, its answer is awaited until the attempt's timeout. */
  private beginAttempt(p: Pending): void {
    p.attempt++;
    p.sentAt = this.clock.now();
    this.deadlines.arm(p, p.timeoutMs);
  }

  private onAttemptTimeout(p: Pending): void {
    if (this.pending.get(p.tid) !== p) return;
    if (p.attempt >= p.maxAttempts && p.retriesNow !== undefined) p.maxAttempts = Math.max(p.maxAttempts, 1 + p.retriesNow());
    if (p.plain !== null) {
      // The padded attempt went unanswered: lost, or dropped by a node that reads only v1-v3. The
      // next attempt (one more than the retries allow, if need be) goes unpadded.
      p.data = p.plain;
      p.plain = null;
      if (p.attempt >= p.maxAttempts) p.maxAttempts = p.attempt + 1;
    }
    if (p.attempt < p.maxAttempts) {
      this.sendAttempt(p);
      return;
    }
    this.methodRow(p.method).timeouts++;
    if (p.customRow) p.customRow.timeouts++;
    this.onTimeout?.(p.to, p.method);
    this.finish(p, DhtError.timeout(`${p.method} to ${endpointKey(p.to)}`, p.timeoutMs * p.maxAttempts));
  }

  /** Settles a pending request exactly once, frees its slot and starts a queued one. */
  private finish(p: Pending, outcome: RpcResult | DhtError): void {
    if (this.pending.get(p.tid) !== p) return;
    this.pending.delete(p.tid);
    const ports = this.pendingTo.get(p.to.host);
    if (ports !== undefined) {
      const left = (ports.get(p.to.port) ?? 1) - 1;
      if (left > 0) ports.set(p.to.port, left);
      else if (ports.size > 1) ports.delete(p.to.port);
      else this.pendingTo.delete(p.to.host);
    }
    this.deadlines.disarm(p);
    // Nothing left in flight: the timeouts' timers go now rather than when they fire, so an idle
    // node holds none (a node sending one request at a time arms one per request, as before).
    if (this.pending.size === 0) this.deadlines.clear();
    if (p.signal) this.unwatch(p.signal, p);
    if (outcome instanceof DhtError) p.reject(outcome);
    else p.resolve(outcome);
    this.pump();
  }

  private watch(signal: AbortSignal, p: Pending): void {
    let w = this.watches.get(signal);
    if (!w) {
      w = new SignalWatch(this, signal);
      this.watches.set(signal, w);
      signal.addEventListener('abort', w.onAbort, { once: true });
    }
    w.pending.add(p);
  }

  /** A watched signal aborted: its requests fail with ABORTED. */
  abortWatched(signal: AbortSignal, w: SignalWatch): void {
    this.watches.delete(signal);
    // finish() unwatches each one; the copy keeps the iteration stable.
    for (const q of [...w.pending]) this.finish(q, DhtError.aborted(signal.reason));
  }

  private unwatch(signal: AbortSignal, p: Pending): void {
    const w = this.watches.get(signal);
    if (!w) return;
    w.pending.delete(p);
    if (w.pending.size === 0) {
      this.watches.delete(signal);
      signal.removeEventListener('abort', w.onAbort);
    }
  }

  private pump(): void {
    while (this.pending.size < this.maxInFlight && this.queue.length > 0) {
      this.queue.shift()!.start();
    }
  }

  private sendRaw(data: Uint8Array, to: Endpoint, via: Transport = this.transport): void {
    this.counters.txPackets++;
    this.counters.txBytes += data.byteLength;
    via.send(data, to);
  }

  private receive(data: Uint8Array, from: Endpoint): void {
    if (this.closed) return;
    this.counters.rxPackets++;
    this.counters.rxBytes += data.byteLength;
    const decoded = this.codec.decode(data, from);
    if (!decoded.ok && 'answered' in decoded) {
      // A query the protocol answered itself (BEP 51): no drop, admitted like any request.
      if (!this.admit || this.admit(from, 'PING')) this.sendRaw(decoded.reply, from);
      return;
    }
    if (!decoded.ok) {
      this.drop(decoded.reason);
      // A well-formed request for a method number we do not have (a newer node's): say so, rather
      // than leave the asker to time out. A protocol that answers bad queries itself (KRPC errors
      // 203, 204) hands over its reply. Small, and admitted like any request.
      const reply = 'reply' in decoded ? decoded.reply : undefined;
      const tid = 'tid' in decoded ? decoded.tid : undefined;
      if ((reply !== undefined || tid !== undefined) && (!this.admit || this.admit(from, 'PING'))) {
        this.counters.refusalsAnswered = (this.counters.refusalsAnswered ?? 0) + 1;
        this.sendRaw(reply ?? this.encodeError(tid as number, DhtError.refusal('UNKNOWN_METHOD', 'unknown method number'), from), from);
      }
      return;
    }
    const msg = decoded.message;
    if (msg.kind === 'request') {
      this.onRequest(msg, from, data.byteLength);
      return;
    }
    const p = this.pending.get(msg.tid);
    if (!p) {
      this.drop('unexpected-response');
      return;
    }
    if (from.port !== p.to.port || from.host !== p.to.host) {
      // A response from anywhere but the address we asked is ignored; the real answer may still come.
      this.drop('wrong-source');
      return;
    }
    const rttMs = Math.max(0, this.clock.now() - p.sentAt);
    if (msg.kind === 'error') {
      this.methodRow(p.method).errors++;
      if (p.customRow) p.customRow.errors++;
      // An all-zero id is a protocol whose errors carry none (Mainline's): no id then.
      this.finish(p, DhtError.fromWire(msg.code, msg.message, msg.id.some((b) => b !== 0) ? bytesToHex(msg.id) : undefined));
      return;
    }
    this.methodRow(p.method).responses++;
    (this.latencyBy[p.method] ??= new Histogram(RPC_LATENCY_BOUNDS_MS)).observe(rttMs);
    if (p.customRow) p.customRow.responses++;
    this.onResponse?.(msg, from, rttMs);
    const result: RpcResult = { response: msg, rttMs, bytesSent: p.data.byteLength, bytesReceived: data.byteLength, attempts: p.attempt };
    if (p.padded) result.readsPadding = p.plain !== null;
    this.finish(p, result);
    // Wire v5: the responder asks for an echo (its verification of our address, instead of a
    // PING). One small datagram per answer to a request of ours, to the address we asked: nothing
    // anyone else can point at a third party.
    if (msg.echo !== undefined && !this.closed) this.sendEcho(msg.echo, from);
  }

  /** The echo a v5 answer asked for: an empty response with the tid it named. */
  private sendEcho(tid: number, to: Endpoint): void {
    let out: Uint8Array;
    try {
      out = this.codec.encode({ kind: 'response', tid, id: this.selfId, observed: to }, to);
    } catch {
      return; // an address no answer can name: the responder verifies us with a PING instead
    }
    this.counters.echoesSent = (this.counters.echoesSent ?? 0) + 1;
    this.sendRaw(out, to);
  }

  private onRequest(req: RequestMessage, from: Endpoint, requestBytes: number): void {
    if (this.admit && !this.admit(from, req.method)) {
      this.drop('rate-limited');
      return;
    }
    this.methodRow(req.method).received++;
    if (req.method === 'CALL') this.customCounters(req.name, true).received++;
    if (!this.handler) return;
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = this.handler(req, from, requestBytes);
    } catch (err) {
      result = handlerFailure(err);
    }
    // PING_NAT (replyPort): the answer goes to another port of the sender's host, and says so.
    const to = req.method === 'PING' && req.replyPort !== undefined ? { host: from.host, port: req.replyPort } : from;
    if (result instanceof Promise) {
      result.then(
        (body) => this.answer(req, to, body),
        (err: unknown) => this.answer(req, to, handlerFailure(err)),
      );
      return;
    }
    this.answer(req, to, result);
  }

  /** Sends the answer to `from`: the requester, or where it asked the answer to go (replyPort). */
  private answer(req: RequestMessage, from: Endpoint, body: HandlerResult): void {
    // An answer that was waiting (on disk, say) when the node stopped is not sent.
    if (body === null || this.closed) return;
    let out: Uint8Array;
    try {
      if (body instanceof DhtError) {
        out = this.encodeError(req.tid, body, from);
      } else {
        // Every field named, in one order: one object shape for all answers (no spread of a body of
        // varying shape), which keeps the encoder's property reads monomorphic. `satisfies` makes
        // a field added to ResponseMessage a compile error here until it is copied too.
        const res = {
          kind: 'response' as const,
          tid: req.tid,
          id: this.selfId,
          observed: from,
          nodes: body.nodes,
          token: body.token,
          record: body.record,
          peers: body.peers,
          result: body.result,
          echo: body.echo,
          readOnly: undefined,
          // Our own version goes out through the codec (Mainline's `v`), not per answer.
          client: undefined,
          // sample_infohashes is answered by the protocol itself (its codec's reply), never here.
          sample: undefined,
        } satisfies Record<keyof ResponseMessage, unknown>;
        out = this.codec.encode(res, from);
      }
    } catch (err) {
      // A bug of ours (or an address no answer can name): the requester gets INTERNAL rather than
      // waiting for its timeout, as when a handler throws.
      console.error(`kadscope: could not encode the answer to ${req.method} from ${endpointKey(from)}:`, err);
      if (body instanceof DhtError) return;
      try {
        out = this.encodeError(req.tid, new DhtError('INTERNAL', 'internal error'), from);
      } catch {
        return;
      }
    }
    this.sendRaw(out, from);
  }

  private encodeError(tid: number, error: DhtError, to: Endpoint): Uint8Array {
    const e: ErrorMessage = { kind: 'error', tid, id: this.selfId, code: error.toWire(), message: error.message.slice(0, 200) };
    return this.codec.encode(e, to);
  }

  /** Rejects everything pending and queued with STOPPED; idempotent. Does not close the transport. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queue.splice(0)) q.fail(DhtError.stopped());
    for (const p of this.pending.list().sort((a, b) => a.seq - b.seq)) this.finish(p, DhtError.stopped());
    this.deadlines.clear();
  }

  /** The counters row of a built-in method, made on its first use (NO_METHOD_COUNTERS until then). */
  private methodRow(m: Method): MethodCounters {
    const row = this.counters.rpc[m];
    return row !== NO_METHOD_COUNTERS ? row : (this.counters.rpc[m] = emptyMethodCounters());
  }

  /** The counters row of a custom method (created on first use, at most MAX_CUSTOM_COUNTER_ROWS + 1). */
  private customCounters(name: string, incoming: boolean): MethodCounters {
    const custom = this.counters.custom!;
    let row = this.customRow ? this.customRow(name, incoming) : name;
    if (!Object.hasOwn(custom, row) && Object.keys(custom).length >= MAX_CUSTOM_COUNTER_ROWS) row = OTHER_CUSTOM_ROW;
    // Object.hasOwn: names are lowercase [a-z0-9._-], but a row named like a prototype key must not read one.
    if (!Object.hasOwn(custom, row)) custom[row] = emptyMethodCounters();
    return custom[row];
  }

  snapshotCounters(): Counters {
    const rpc = {} as Record<Method, MethodCounters>;
    for (const m of METHODS) rpc[m] = { ...this.counters.rpc[m] };
    const custom: Record<string, MethodCounters> = {};
    for (const [name, c] of Object.entries(this.counters.custom!)) custom[name] = { ...c };
    return { ...this.counters, dropped: { ...this.counters.dropped }, rpc, custom, inFlight: this.pending.size };
  }

  /** For logs: tid as hex. */
  static tidHex(tid: number): string {
    return bytesToHex(new Uint8Array([tid >>> 24, (tid >>> 16) & 0xff, (tid >>> 8) & 0xff, tid & 0xff]));
  }
}

/**
 * The requests in flight, by transaction id: an open-addressing table (linear probing, deletion by
 * backward shift, so no tombstones) on a typed array of tids and an array of values.
 *
 * Not a Map: a Map that keeps taking new keys and dropping old ones rebuilds its table every few
 * dozen requests, and V8 links each replaced table to its successor (for iterators that may still
 * walk it). Once one of those tables has been promoted to the old generation, the links keep every
 * later table, and every request it held, alive through each scavenge until the next full GC, which
 * makes GC the larger part of a request's cost. This table's arrays
 * are only replaced when it grows or shrinks, and nothing links the old ones to the new.
 * Exported for tests.
 */
export class TidTable<V extends { tid: number }> {
  private static readonly MIN_CAPACITY = 16;
  private tids = new Uint32Array(TidTable.MIN_CAPACITY);
  /** undefined marks a free slot. */
  private values: Array<V | undefined> = new Array<V | undefined>(TidTable.MIN_CAPACITY).fill(undefined);
  private mask = TidTable.MIN_CAPACITY - 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Slot of tid, or of the free slot where it would go. The table is never more than half full. */
  private slot(tid: number): number {
    const tids = this.tids;
    const values = this.values;
    let i = home(tid, this.mask);
    while (values[i] !== undefined && tids[i] !== tid) i = (i + 1) & this.mask;
    return i;
  }

  has(tid: number): boolean {
    return this.values[this.slot(tid)] !== undefined;
  }

  get(tid: number): V | undefined {
    return this.values[this.slot(tid)];
  }

  /** v.tid must not be in the table (newTid() sees to that). */
  add(v: V): void {
    if ((this.count + 1) * 2 > this.values.length) this.resize(this.values.length * 2);
    const i = this.slot(v.tid);
    this.tids[i] = v.tid;
    this.values[i] = v;
    this.count++;
  }

  delete(tid: number): void {
    const tids = this.tids;
    const values = this.values;
    const mask = this.mask;
    let hole = this.slot(tid);
    if (values[hole] === undefined) return;
    // Backward shift: an entry after the hole moves into it unless its home slot lies cyclically
    // in (hole, j], where it is still reachable without passing the hole.
    for (let j = (hole + 1) & mask; values[j] !== undefined; j = (j + 1) & mask) {
      const h = home(tids[j], mask);
      const stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
      if (stays) continue;
      tids[hole] = tids[j];
      values[hole] = values[j];
      hole = j;
    }
    values[hole] = undefined;
    this.count--;
    if (this.count * 8 < this.values.length && this.values.length > TidTable.MIN_CAPACITY * 4) this.resize(this.values.length / 2);
  }

  /** A snapshot, in no particular order. */
  list(): V[] {
    const out: V[] = [];
    for (const v of this.values) if (v !== undefined) out.push(v);
    return out;
  }

  private resize(capacity: number): void {
    const old = this.values;
    this.tids = new Uint32Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.count = 0;
    for (const v of old) if (v !== undefined) this.add(v);
  }
}

/** A tid's first slot: tids are random, but the mix keeps patterned ones (tests) from clustering. */
function home(tid: number, mask: number): number {
  return (tid ^ (tid >>> 16)) & mask;
}

/** A handler that threw: a DhtError is the answer; anything else is a bug, logged and answered generically. */
function handlerFailure(err: unknown): DhtError {
  if (err instanceof DhtError) return err;
  console.error('kadscope: request handler failed:', err);
  return new DhtError('INTERNAL', 'internal error');
}
