// No amplification: a node never sends a large answer to a small request from an address it has not
// verified. UDP source addresses can be forged; without this rule an attacker could send us a
// 93-byte FIND_NODE "from" a victim and have us send the victim an 850-byte answer (and a FIND_VALUE
// for a record we hold, 1,300 bytes): a reflection attack with a factor of 9 to 14.
//
// The rule is QUIC's (RFC 9000, section 8): until an address is verified, what we send it (answers
// and our verification PING together) is at most AMPLIFICATION_FACTOR times what it sent. An
// address is verified once it has answered one of our requests (it proved it receives what is sent
// to it: our transaction ids are unpredictable), and stays verified for a while in a bounded LRU.
//
// A first contact is therefore the costly case. Capping a first contact's answer to 3x would cut a
// FIND_NODE answer to its 5 nearest contacts and drop records, which costs a fresh node's lookups
// much of their recall of the k closest. So
// instead the answer waits: we ping the requester (a PING is smaller than the request, so the
// verification itself amplifies nothing), and once it answers we send the full answer, one round
// trip later. Only if it does not answer in time, or too many answers are already waiting, does it
// get the capped answer (nearest contacts first, no record), which is still within the 3x budget.
// Small answers (PING, STORE and ANNOUNCE acknowledgements, errors) go out at once.
import type { Clock } from '../clock';
import { DhtError } from '../errors';
import { endpointKey, type Endpoint } from '../transport/types';
import { headBytes } from '../wire/cbor-io';
import { countIPv6, COMPACT_IPV4_PEER_BYTES, COMPACT_IPV6_PEER_BYTES } from '../wire/compact';
import { encodeMessage } from '../wire/codec';
import { MAX_NODES_PER_RESPONSE, MAX_TOKEN_BYTES, type ErrorMessage, type Message, type ResponseMessage, type WirePeer } from '../wire/types';
import type { EchoSlot, HandlerResult, ResponseBody } from './rpc';
import { LazyMap } from '../lazy-map';

/** QUIC's anti-amplification factor: bytes sent to an unverified address <= 3x bytes received from it. */
export const AMPLIFICATION_FACTOR = 3;
/** Verified addresses remembered (LRU); about 100 bytes each. */
export const MAX_VERIFIED_ADDRESSES = 16_384;
/** How long an address stays verified after it last answered us. */
export const VERIFIED_TTL_MS = 30 * 60_000;
/**
 * An address that answered less than this long ago is not re-verified on its next answer: every
 * answer we accept marks its source, and moving a fresh entry to the LRU's end each time would cost
 * more than the rest of the bookkeeping. It stays verified at least VERIFIED_TTL_MS minus this.
 */
export const VERIFIED_REFRESH_MS = 60_000;
/** Answers waiting for their requester's verification, at most; beyond this they go out capped. */
export const MAX_HELD_ANSWERS = 512;
/** Addresses a node remembers as reading only wire v1-v3 (they dropped a padded request), at most. */
export const LEGACY_READERS = 1_024;
/** How long such an address is asked unpadded before a padded request is tried again. */
export const LEGACY_READER_TTL_MS = 30 * 60_000;
/** Verification PINGs in flight, at most. */
export const MAX_VERIFYING = 256;
/** How long we wait for a requester to answer our verification PING. */
export const VERIFY_TIMEOUT_MS = 1_000;

/** The largest transaction id: its CBOR encoding is the longest, so a size measured with it is an upper bound. */
const WORST_CASE_TID = 0xffff_ffff;
/** An error message is cut to this many characters at most when it must shrink. */
const MAX_ERROR_CHARS = 200;

export interface AmplificationDeps {
  clock: Clock;
  selfId: Uint8Array;
  /**
   * Sends a PING to `to`; resolves true when it answered, false otherwise. Never rejects. With an
   * echo slot, the PING may ride on an answer instead (rpc's RequestOptions.echo: wire v5).
   */
  ping: (to: Endpoint, echo?: EchoSlot) => Promise<boolean>;
  /** The protocol's encoder, which sizes answers (default kadscope's wire v1). */
  encode?: (msg: Message) => Uint8Array;
}

type Encode = (msg: Message) => Uint8Array;

export interface AmplificationOptions {
  factor?: number;
  maxVerified?: number;
  verifiedTtlMs?: number;
  maxHeld?: number;
  maxVerifying?: number;
}

export interface AmplificationStats {
  /** Answers that waited for their requester's verification. */
  held: number;
  /** Answers sent capped (verification failed, or too many waiting). */
  capped: number;
  /** Verification PINGs sent. */
  verifications: number;
  /** Addresses verified right now. */
  verified: number;
}

/** Bytes of the response or error datagram that would carry `body` to `observed` (an upper bound over tids). */
export function answerBytes(body: ResponseBody | DhtError, selfId: Uint8Array, observed: WirePeer, encode: Encode = encodeMessage): number {
  if (body instanceof DhtError) {
    const e: ErrorMessage = { kind: 'error', tid: WORST_CASE_TID, id: selfId, code: body.toWire(), message: body.message.slice(0, MAX_ERROR_CHARS) };
    return encode(e).length;
  }
  const msg: ResponseMessage = { ...body, kind: 'response', tid: WORST_CASE_TID, id: selfId, observed: { host: observed.host, port: observed.port } };
  return encode(msg).length;
}

/**
 * A floor under answerBytes() without encoding: the bytes of the body that go on the wire verbatim
 * (each contact's id, the token, the record's value). Enough to tell that a FIND_* answer is far
 * over an unverified requester's budget, which is the common case, without encoding it twice.
 */
function minAnswerBytes(body: ResponseBody): number {
  const nodes = body.nodes;
  return (nodes !== undefined && nodes.length > 0 ? nodes.length * nodes[0].id.length : 0) + (body.token?.length ?? 0) + (body.record?.value.length ?? 0) + (body.result?.length ?? 0);
}

/**
 * A ceiling over answerBytes() for kadscope's wire without encoding, for an answer of contacts and
 * a token only (a FIND_NODE answer; null for anything else): the header with the longest tid and
 * an IPv6 `o`, each family's compact list with its key and head, the token. A padded request's
 * budget covers it, so the guard lets such an answer go without encoding it twice. Exported for tests.
 */
export function contactsAnswerCeiling(body: ResponseBody, selfIdBytes: number): number | null {
  if (body.record !== undefined || body.peers !== undefined || body.result !== undefined || body.sample !== undefined || body.client !== undefined || body.readOnly !== undefined) return null;
  // map head, v, t (uint32), y, i, r, the body's head, o (IPv6)
  let bytes = 1 + 3 + 7 + 4 + (2 + headBytes(selfIdBytes) + selfIdBytes) + 2 + 1 + 21;
  const nodes = body.nodes;
  if (nodes !== undefined) {
    const n6 = countIPv6(nodes);
    const n4 = nodes.length - n6;
    const idBytes = nodes.length > 0 ? nodes[0].id.length : 0;
    if (n4 > 0 || n6 === 0) bytes += 3 + headBytes(n4 * (idBytes + COMPACT_IPV4_PEER_BYTES)) + n4 * (idBytes + COMPACT_IPV4_PEER_BYTES);
    if (n6 > 0) bytes += 3 + headBytes(n6 * (idBytes + COMPACT_IPV6_PEER_BYTES)) + n6 * (idBytes + COMPACT_IPV6_PEER_BYTES);
  }
  if (body.token !== undefined) bytes += 2 + headBytes(body.token.length) + body.token.length;
  // wire v5's echo request: `c` and a uint32 (the map's head stays one byte)
  if (body.echo !== undefined) bytes += 2 + 5;
  return bytes;
}

/** Size of a verification PING (worst-case tid) from selfId: what verifying an address costs it in budget. */
function pingBytesOf(selfId: Uint8Array, encode: Encode): number {
  return encode({ kind: 'request', tid: WORST_CASE_TID, id: selfId, method: 'PING' }).length;
}

const paddedBytes: { 4?: number; 6?: number } = {};

/**
 * What a FIND_NODE, FIND_VALUE or GET_PEERS request is padded to (wire v4) when it goes to an
 * address of `family`: enough that a responder that has not verified us can answer at once, its
 * budget (AMPLIFICATION_FACTOR x the request) covering a full FIND_NODE answer (MAX_NODES_PER_RESPONSE
 * contacts of that family, the longest token, the worst-case tid) and the verification PING its
 * routing table may have in flight to us: 310 bytes to IPv4, 394 to IPv6. A larger
 * answer (a record, peers) is still held for verification.
 */
export function paddedRequestBytes(family: 4 | 6): number {
  const known = paddedBytes[family];
  if (known !== undefined) return known;
  const host = family === 4 ? '203.0.113.1' : '2001:db8::1';
  const id = new Uint8Array(32);
  const nodes = Array.from({ length: MAX_NODES_PER_RESPONSE }, () => ({ id, host, port: 65_535 }));
  // With an echo request (wire v5), which a responder that verifies us by echo adds to it.
  const answer = answerBytes({ nodes, token: new Uint8Array(MAX_TOKEN_BYTES), echo: WORST_CASE_TID }, id, { host, port: 65_535 });
  const bytes = Math.ceil((answer + pingBytesOf(id, encodeMessage)) / AMPLIFICATION_FACTOR);
  paddedBytes[family] = bytes;
  return bytes;
}

/** Largest n in [0, max] with ok(n), ok monotone (true up to some n, false after); -1 if none. */
export function largest(max: number, ok: (n: number) => boolean): number {
  if (ok(max)) return max;
  let lo = -1;
  let hi = max;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * `body` cut down so that its datagram is at most maxBytes: the record goes first (it is the
 * biggest and an unverified asker can fetch it once verified), then contacts from the farthest,
 * then peers, then the token. An error keeps its code and loses message text. Whatever cannot be
 * cut (the header and `observed`) stays, which is always far below 3x the smallest request.
 */
export function capAnswer(body: ResponseBody | DhtError, maxBytes: number, selfId: Uint8Array, observed: WirePeer, encode: Encode = encodeMessage): ResponseBody | DhtError {
  const fits = (b: ResponseBody | DhtError): boolean => {
    try {
      return answerBytes(b, selfId, observed, encode) <= maxBytes;
    } catch {
      return false; // our own fields: the encoder refuses only for size (over the datagram limit)
    }
  };
  if (fits(body)) return body;
  if (body instanceof DhtError) {
    const text = body.message.slice(0, MAX_ERROR_CHARS);
    const withText = (n: number): DhtError => new DhtError(body.code, text.slice(0, n), body.wireCode !== undefined ? { wireCode: body.wireCode } : undefined);
    return withText(Math.max(0, largest(text.length, (n) => fits(withText(n)))));
  }
  // A custom method's result cannot be cut without changing its meaning: it is withheld, with a reason.
  if (body.result !== undefined) return capAnswer(DhtError.refusal('PROTOCOL', 'result withheld: your address has not answered our verification PING'), maxBytes, selfId, observed);
  const rest: ResponseBody = { ...body };
  delete rest.record;
  const nodes = body.nodes ?? [];
  const withNodes = (n: number): ResponseBody => (body.nodes === undefined ? rest : { ...rest, nodes: nodes.slice(0, n) });
  const n = largest(nodes.length, (i) => fits(withNodes(i)));
  if (n >= 0) return withNodes(n);
  const peers = body.peers ?? [];
  const withPeers = (p: number): ResponseBody => ({ ...withNodes(0), ...(body.peers === undefined ? {} : { peers: peers.slice(0, p) }) });
  const p = largest(peers.length, (i) => fits(withPeers(i)));
  if (p >= 0) return withPeers(p);
  const bare = withPeers(0);
  delete bare.token;
  return bare;
}

/** Addresses that answered us, with an expiry, least recently verified first (a bounded LRU). */
export class VerifiedAddresses {
  private readonly until = new Map<string, number>();

  private readonly refreshMs: number;

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {
    this.refreshMs = Math.min(VERIFIED_REFRESH_MS, ttlMs / 2);
  }

  get size(): number {
    return this.until.size;
  }

  add(key: string, now: number): void {
    const t = this.until.get(key);
    if (t !== undefined) {
      if (t - this.ttlMs + this.refreshMs > now) return; // verified moments ago: keep its place
      this.until.delete(key);
    }
    if (this.until.size >= this.max) this.until.delete(this.until.keys().next().value as string);
    this.until.set(key, now + this.ttlMs);
  }

  delete(key: string): void {
    this.until.delete(key);
  }

  has(key: string, now: number): boolean {
    const t = this.until.get(key);
    if (t === undefined) return false;
    if (t > now) return true;
    this.until.delete(key);
    return false;
  }
}

export class AmplificationGuard {
  readonly factor: number;
  private readonly deps: AmplificationDeps;
  private readonly verified: VerifiedAddresses;
  private readonly maxHeld: number;
  private readonly maxVerifying: number;
  private readonly verifying = new LazyMap<string, Promise<boolean>>();
  private heldNow = 0;
  private readonly counts = { held: 0, capped: 0, verifications: 0 };
  private readonly encode: Encode;
  private pingBytes = 0;

  constructor(deps: AmplificationDeps, options: AmplificationOptions = {}) {
    this.deps = deps;
    this.encode = deps.encode ?? encodeMessage;
    this.factor = options.factor ?? AMPLIFICATION_FACTOR;
    if (!(this.factor >= 1)) throw DhtError.invalidArgument(`amplification.factor must be at least 1; got ${String(options.factor)}`);
    this.verified = new VerifiedAddresses(positiveInt('maxVerified', options.maxVerified ?? MAX_VERIFIED_ADDRESSES), options.verifiedTtlMs ?? VERIFIED_TTL_MS);
    this.maxHeld = positiveInt('maxHeld', options.maxHeld ?? MAX_HELD_ANSWERS);
    this.maxVerifying = positiveInt('maxVerifying', options.maxVerifying ?? MAX_VERIFYING);
  }

  get stats(): AmplificationStats {
    return { ...this.counts, verified: this.verified.size };
  }

  /** Answers waiting for verification right now. */
  get holding(): number {
    return this.heldNow;
  }

  /** `from` answered one of our requests (`key`: its endpointKey, when the caller has a shared copy). */
  markVerified(from: Endpoint, key = endpointKey(from)): void {
    this.verified.add(key, this.deps.clock.now());
  }

  isVerified(from: Endpoint): boolean {
    return this.verified.has(endpointKey(from), this.deps.clock.now());
  }

  /**
   * PINGs `from` unless a PING to it is already in flight (then shares its outcome). Resolves
   * false at once when too many verifications are running.
   */
  verify(from: Endpoint, echo?: EchoSlot): Promise<boolean> {
    const key = endpointKey(from);
    const running = this.verifying.get(key);
    if (running) return running;
    if (this.verifying.size >= this.maxVerifying) return Promise.resolve(false);
    this.counts.verifications++;
    const p = this.deps.ping(from, echo).finally(() => this.verifying.delete(key));
    this.verifying.set(key, p);
    return p;
  }

  /**
   * The answer to a request of `requestBytes` from `from`, within the amplification budget.
   * `known`: the requester is in our routing table at this address (it answered us before).
   */
  guard(from: Endpoint, requestBytes: number, result: HandlerResult | Promise<HandlerResult>, known: boolean): HandlerResult | Promise<HandlerResult> {
    if (known || this.isVerified(from)) return result;
    if (result instanceof Promise) return result.then((r) => this.guardBody(from, requestBytes, r));
    return this.guardBody(from, requestBytes, result);
  }

  private guardBody(from: Endpoint, requestBytes: number, body: HandlerResult): HandlerResult | Promise<HandlerResult> {
    if (body === null) return null;
    const key = endpointKey(from);
    // Our verification PING to the requester counts against its budget too (QUIC counts every byte
    // sent to an unvalidated address). One PING in flight is charged to every request that sees it,
    // which over-charges and so keeps the total within the factor.
    const budget = (): number => this.factor * requestBytes - (this.verifying.has(key) ? this.verifyPingBytes() : 0);
    const observed: WirePeer = { host: from.host, port: from.port };
    // A floor already over the budget settles it without encoding (a FIND_* answer to a newcomer).
    const overForSure = !(body instanceof DhtError) && minAnswerBytes(body) > budget();
    if (!overForSure) {
      // A padded FIND_NODE (wire v4) is within budget by design: checked without encoding the answer.
      const ceiling = !(body instanceof DhtError) && this.encode === encodeMessage ? contactsAnswerCeiling(body, this.deps.selfId.length) : null;
      if (ceiling !== null && ceiling <= budget()) return body;
      if (answerBytes(body, this.deps.selfId, observed, this.encode) <= budget()) return body;
    }
    if (this.heldNow >= this.maxHeld) {
      // Too many waiting (a flood of forged requests): capped now. Verify anyway, so that a real
      // requester's next request gets a full answer.
      void this.verify(from);
      return this.cap(body, budget(), observed);
    }
    this.heldNow++;
    this.counts.held++;
    return this.verify(from).then((ok) => {
      this.heldNow--;
      return ok || this.isVerified(from) ? body : this.cap(body, this.factor * requestBytes - this.verifyPingBytes(), observed);
    });
  }

  private verifyPingBytes(): number {
    this.pingBytes ||= pingBytesOf(this.deps.selfId, this.encode);
    return this.pingBytes;
  }

  private cap(body: ResponseBody | DhtError, budget: number, observed: WirePeer): ResponseBody | DhtError {
    this.counts.capped++;
    return capAnswer(body, budget, this.deps.selfId, observed, this.encode);
  }
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw DhtError.invalidArgument(`amplification.${name} must be a positive integer; got ${String(v)}`);
  return v;
}
