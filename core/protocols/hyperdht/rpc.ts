// Requests and replies over dht-rpc 6 framing (dht-rpc's lib/io.js is the reference for the
// behaviour): 16-bit transaction ids, a timeout per attempt and a few resends, a bounded number
// in flight, write tokens bound to the requester's IP with a rotating secret, and every id that a
// datagram carries checked against its source before anyone above sees it.
//
// A reply is matched by tid and by the address the request went to: a datagram from anywhere
// else cannot complete someone else's request. Decode failures and unmatched replies are counted,
// never thrown.
import type { Clock, TimerHandle } from '../../clock';
import { DhtError } from '../../errors';
import { cryptoRandomBytes, type RandomBytes } from '../../id';
import type { Endpoint, Transport } from '../../transport/types';
import { blake2b256, idMatchesSource } from './crypto';
import {
  HYPERDHT_ERRORS,
  TOKEN_BYTES,
  decodeHyperMessage,
  encodeHyperRequest,
  encodeHyperResponse,
  type HyperRequest,
  type HyperResponse,
} from './messages';

/** dht-rpc resends after 1 s without an answer, up to 3 times. */
export const HYPER_RPC_TIMEOUT_MS = 1_000;
export const HYPER_RPC_RETRIES = 3;
export const HYPER_MAX_IN_FLIGHT = 2_048;
/** A token stays valid for one to two of these (current and previous secret). */
export const HYPER_TOKEN_ROTATE_MS = 60_000;

export interface OutgoingRequest {
  internal: boolean;
  command: number;
  target?: Uint8Array | null;
  token?: Uint8Array | null;
  value?: Uint8Array | null;
}

export interface HyperReply {
  res: HyperResponse;
  from: Endpoint;
  /** The responder's id if it sent one that matches its address; null otherwise. */
  id: Uint8Array | null;
  rttMs: number;
  attempts: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface IncomingRequest {
  req: HyperRequest;
  from: Endpoint;
  /** The requester's id if it sent one that matches its address; null otherwise. */
  id: Uint8Array | null;
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  retries?: number;
  /** Sends the datagrams from another socket (the reachability probe); replies still arrive on ours. */
  via?: Transport;
  onSend?: (attempt: number, bytes: number) => void;
}

export interface ReplyOptions {
  error?: number;
  value?: Uint8Array | null;
  /** Include a write token for the requester. */
  token?: boolean;
  closerNodes?: Endpoint[];
  /** Where to send it, if not back to the requester (PING_NAT). */
  to?: Endpoint;
}

export interface HyperRpcStats {
  sent: number;
  received: number;
  requestsIn: number;
  repliesIn: number;
  timeouts: number;
  retries: number;
  dropped: number;
  unmatched: number;
  /** Datagrams whose id did not match their source (the id was ignored). */
  idMismatches: number;
  invalidTokens: number;
}

export interface HyperRpcDeps {
  transport: Transport;
  clock: Clock;
  randomBytes?: RandomBytes;
  onRequest: (r: IncomingRequest) => void;
  /** Every verified reply, for the routing table. */
  onReply?: (r: HyperReply) => void;
  /** A request that got no answer after its retries. */
  onTimeout?: (to: Endpoint) => void;
}

export interface HyperRpcOptions {
  timeoutMs?: number;
  retries?: number;
  maxInFlight?: number;
}

interface Pending {
  tid: number;
  to: Endpoint;
  bytes: Uint8Array;
  sentAt: number;
  firstSentAt: number;
  attempts: number;
  retries: number;
  timeoutMs: number;
  timer: TimerHandle | null;
  via: Transport | undefined;
  resolve: (r: HyperReply) => void;
  reject: (e: DhtError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | null;
  onSend: ((attempt: number, bytes: number) => void) | undefined;
}

export class HyperRpc {
  readonly stats: HyperRpcStats = {
    sent: 0,
    received: 0,
    requestsIn: 0,
    repliesIn: 0,
    timeouts: 0,
    retries: 0,
    dropped: 0,
    unmatched: 0,
    idMismatches: 0,
    invalidTokens: 0,
  };
  /** Our id while persistent (sent in every request and reply); null while ephemeral. */
  id: Uint8Array | null = null;

  private readonly pending = new Map<number, Pending>();
  private nextTid: number;
  private secrets: [Uint8Array, Uint8Array];
  private rotateTimer: TimerHandle | null = null;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxInFlight: number;
  private readonly random: RandomBytes;

  constructor(
    private readonly deps: HyperRpcDeps,
    options: HyperRpcOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? HYPER_RPC_TIMEOUT_MS;
    this.retries = options.retries ?? HYPER_RPC_RETRIES;
    this.maxInFlight = options.maxInFlight ?? HYPER_MAX_IN_FLIGHT;
    this.random = deps.randomBytes ?? cryptoRandomBytes;
    const r = this.random(2);
    this.nextTid = r[0] | (r[1] << 8);
    this.secrets = [this.random(32), this.random(32)];
    deps.transport.onMessage((data, from) => this.onMessage(data, from));
    this.scheduleRotate();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private scheduleRotate(): void {
    this.rotateTimer = this.deps.clock.setTimeout(() => {
      this.secrets = [this.secrets[1], this.random(32)];
      this.scheduleRotate();
    }, HYPER_TOKEN_ROTATE_MS);
  }

  /** The write token for a requester at `host` (bound to its IP, as dht-rpc's are). */
  token(host: string, which: 0 | 1 = 1): Uint8Array {
    return blake2b256(new TextEncoder().encode(host), this.secrets[which]);
  }

  private validToken(token: Uint8Array, host: string): boolean {
    if (token.length !== TOKEN_BYTES) return false;
    const eq = (a: Uint8Array, b: Uint8Array): boolean => a.every((x, i) => x === b[i]);
    return eq(token, this.token(host, 1)) || eq(token, this.token(host, 0));
  }

  request(to: Endpoint, out: OutgoingRequest, opts: RequestOptions = {}): Promise<HyperReply> {
    if (this.closed) return Promise.reject(DhtError.stopped());
    if (opts.signal?.aborted) return Promise.reject(DhtError.aborted(opts.signal.reason));
    if (this.pending.size >= this.maxInFlight) return Promise.reject(new DhtError('TOO_MANY_IN_FLIGHT', `${this.pending.size} hyperdht requests in flight`));
    let tid = this.nextTid;
    while (this.pending.has(tid)) tid = (tid + 1) & 0xffff;
    this.nextTid = (tid + 1) & 0xffff;
    let bytes: Uint8Array;
    try {
      bytes = encodeHyperRequest({
        tid,
        to,
        id: opts.via ? null : this.id,
        token: out.token ?? null,
        internal: out.internal,
        command: out.command,
        target: out.target ?? null,
        value: out.value ?? null,
      });
    } catch (e) {
      return Promise.reject(e instanceof DhtError ? e : DhtError.invalidArgument(String(e)));
    }
    return new Promise<HyperReply>((resolve, reject) => {
      const now = this.deps.clock.now();
      const p: Pending = {
        tid,
        to: { host: to.host, port: to.port },
        bytes,
        sentAt: now,
        firstSentAt: now,
        attempts: 0,
        retries: opts.retries ?? this.retries,
        timeoutMs: opts.timeoutMs ?? this.timeoutMs,
        timer: null,
        via: opts.via,
        resolve,
        reject,
        signal: opts.signal,
        onAbort: null,
        onSend: opts.onSend,
      };
      if (opts.signal) {
        p.onAbort = () => this.finish(p, DhtError.aborted(opts.signal?.reason));
        opts.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(tid, p);
      this.transmit(p);
    });
  }

  private transmit(p: Pending): void {
    p.attempts++;
    p.sentAt = this.deps.clock.now();
    (p.via ?? this.deps.transport).send(p.bytes, p.to);
    this.stats.sent++;
    p.onSend?.(p.attempts, p.bytes.length);
    p.timer = this.deps.clock.setTimeout(() => this.onTimer(p), p.timeoutMs);
  }

  private onTimer(p: Pending): void {
    p.timer = null;
    if (p.attempts <= p.retries) {
      this.stats.retries++;
      this.transmit(p);
      return;
    }
    this.stats.timeouts++;
    this.finish(p, DhtError.timeout(`hyperdht request to ${p.to.host}:${p.to.port}`, p.timeoutMs * p.attempts));
    this.deps.onTimeout?.(p.to);
  }

  private finish(p: Pending, error: DhtError | null, reply?: HyperReply): void {
    if (this.pending.get(p.tid) !== p) return;
    this.pending.delete(p.tid);
    if (p.timer !== null) this.deps.clock.clearTimeout(p.timer);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    if (error) p.reject(error);
    else if (reply) p.resolve(reply);
  }

  reply(to: IncomingRequest, opts: ReplyOptions = {}): void {
    if (this.closed) return;
    const dest = opts.to ?? to.from;
    let bytes: Uint8Array;
    try {
      bytes = encodeHyperResponse({
        tid: to.req.tid,
        to: dest,
        id: this.id,
        token: opts.token ? this.token(dest.host) : null,
        closerNodes: to.req.target ? (opts.closerNodes ?? []) : [],
        error: opts.error ?? 0,
        value: opts.value ?? null,
      });
    } catch {
      this.stats.dropped++;
      return;
    }
    this.deps.transport.send(bytes, dest);
    this.stats.sent++;
  }

  private onMessage(data: Uint8Array, from: Endpoint): void {
    if (this.closed) return;
    this.stats.received++;
    const d = decodeHyperMessage(data);
    if (!d.ok || !(from.port > 0)) {
      this.stats.dropped++;
      return;
    }
    const m = d.message;
    let id: Uint8Array | null = null;
    if (m.id !== null) {
      if (idMatchesSource(m.id, from)) id = m.id;
      else this.stats.idMismatches++;
    }
    if (m.type === 'request') {
      this.stats.requestsIn++;
      const incoming: IncomingRequest = { req: m, from, id };
      if (m.token !== null && !this.validToken(m.token, from.host)) {
        this.stats.invalidTokens++;
        this.reply(incoming, { error: HYPERDHT_ERRORS.INVALID_TOKEN, token: true });
        return;
      }
      this.deps.onRequest(incoming);
      return;
    }
    const p = this.pending.get(m.tid);
    if (!p || p.to.port !== from.port || p.to.host !== from.host) {
      this.stats.unmatched++;
      return;
    }
    this.stats.repliesIn++;
    const reply: HyperReply = {
      res: m,
      from,
      id,
      rttMs: this.deps.clock.now() - p.sentAt,
      attempts: p.attempts,
      bytesSent: p.bytes.length * p.attempts,
      bytesReceived: data.length,
    };
    this.finish(p, null, reply);
    this.deps.onReply?.(reply);
  }

  /** Idempotent: every pending request fails with STOPPED, every timer is cleared. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.rotateTimer !== null) this.deps.clock.clearTimeout(this.rotateTimer);
    this.rotateTimer = null;
    for (const p of [...this.pending.values()]) this.finish(p, DhtError.stopped());
  }
}
