// Wire v1 codec: one CBOR map with short keys per datagram (the format is specified in README.md).
//
// encodeMessage validates what it is given and throws DhtError('INVALID_ARGUMENT') for anything
// out of range, since only our own code builds messages. decodeMessage meets the network: it never
// throws, for any input, and returns a typed DropReason instead; decoding is strict (exact shapes,
// no unknown keys), so whatever it returns satisfies the types in ./types without further checks.
//
// Byte fields of a decoded message (ids, tokens, values, ...) are views into the input datagram,
// not copies: the decoder allocates no byte buffers. Code that keeps one long-term while the input
// may be reused or is large should copy it (`.slice()`).
import { Decoder, Encoder, type Options } from 'cbor-x';
import { DhtError } from '../errors';
import { ID_BYTES } from '../id';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../records/signing';
import {
  decodeContactsInto,
  decodePeer,
  decodePeersInto,
  encodeContacts,
  encodePeer,
  encodePeers,
  isValidPort,
} from './compact';
import {
  MAX_DATAGRAM_BYTES,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_NODES_PER_RESPONSE,
  MAX_PEERS_PER_RESPONSE,
  MAX_SALT_BYTES,
  MAX_TOKEN_BYTES,
  MAX_VALUE_BYTES,
  METHODS,
  WIRE_VERSION,
  type DecodeResult,
  type DropReason,
  type ErrorMessage,
  type Message,
  type Method,
  type RequestArgs,
  type RequestMessage,
  type ResponseMessage,
  type WireContact,
  type WirePeer,
  type WireRecord,
} from './types';

// The signed bytes of a mutable record have one implementation, in records/signing.ts; the codec
// re-exports it (and the key sizes) so wire users find the whole format in one place.
export { encodeSignable, PUBLIC_KEY_BYTES, SIGNABLE_PREFIX, SIGNATURE_BYTES } from '../records/signing';

/** Wire error codes travel as unsigned 16-bit integers. */
export const MAX_WIRE_ERROR_CODE = 0xffff;
const MAX_UINT32 = 0xffff_ffff;
/** Keeps `detail` strings (which end up in logs and counters) short. */
const MAX_DETAIL_CHARS = 160;

/** The short keys of wire v1. Each map's key set is closed: a key not listed for it is an error. */
export const WIRE_KEYS = {
  /** Top level. */
  version: 'v',
  tid: 't',
  kind: 'y',
  sender: 'i',
  method: 'm',
  args: 'a',
  response: 'r',
  error: 'e',
  /** Request arguments (`a`). */
  target: 't', // FIND_NODE target, ANNOUNCE / GET_PEERS topic
  key: 'k', // FIND_VALUE, STORE
  seq: 'q', // FIND_VALUE: the seq the asker already has
  record: 'r', // STORE
  token: 'w', // STORE, ANNOUNCE (also in responses)
  cas: 'c', // STORE
  port: 'p', // ANNOUNCE
  /** Response body (`r`). */
  observed: 'o',
  nodes4: 'n4',
  nodes6: 'n6',
  // token: 'w', record: 'r' as above
  peers4: 'p4',
  peers6: 'p6',
  /** Record map. */
  value: 'v',
  publicKey: 'k',
  salt: 's',
  recordSeq: 'q',
  sig: 'g',
} as const;

export const KIND_CODES = { request: 'q', response: 'r', error: 'e' } as const;

/** The method numbers on the wire (key `m`): the index in METHODS. Never renumber. */
export const METHOD_CODES: Readonly<Record<Method, number>> = Object.freeze(
  Object.fromEntries(METHODS.map((m, i) => [m, i])) as Record<Method, number>,
);

// One encoder for the process. `useRecords: false` and `structuredClone: false` keep cbor-x's
// private extensions out of the output; `tagUint8Array: false` writes Uint8Array as a plain byte
// string (cbor-x tags it 64 on Node otherwise); `variableMapSize` gives the shortest map headers.
// The encoder writes each result into fresh space of its slab, so returned arrays stay valid.
const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  tagUint8Array: false,
  variableMapSize: true,
  pack: false,
  bundleStrings: false,
  useSelfDescribedHeader: false,
});

// Maps decode to plain objects; 64-bit integers decode to numbers (not BigInt) so one range check
// covers them. cbor-x resets record structures and packed values per decode call, so a hostile
// datagram cannot leave state behind for the next one.
const decoderOptions: Options & { int64AsNumber: boolean } = {
  useRecords: false,
  mapsAsObjects: true,
  int64AsNumber: true,
};
const decoder = new Decoder(decoderOptions);

type WireMap = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Encoding

function fail(message: string): never {
  throw DhtError.invalidArgument(`encodeMessage: ${message}`);
}

function checkBytes(value: unknown, min: number, max: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(`${what} must be a Uint8Array`);
  if (value.length < min || value.length > max) {
    fail(min === max ? `${what} must be ${min} bytes, got ${value.length}` : `${what} must be ${min}..${max} bytes, got ${value.length}`);
  }
  return value;
}

function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function checkSafeUint(value: unknown, what: string): number {
  if (!isUint(value, Number.MAX_SAFE_INTEGER)) fail(`${what} must be a non-negative safe integer, got ${String(value)}`);
  return value;
}

/** cbor-x writes numbers above 2^32 as float64; a BigInt makes it write a CBOR uint64 instead. */
function wireUint(n: number): number | bigint {
  return n > MAX_UINT32 ? BigInt(n) : n;
}

function encodeRecord(record: WireRecord, what: string): WireMap {
  if (record === null || typeof record !== 'object') fail(`${what} must be a record`);
  const value = checkBytes(record.value, 0, MAX_VALUE_BYTES, `${what}.value`);
  if (record.type === 'immutable') return { v: value };
  if (record.type !== 'mutable') fail(`${what}.type must be 'immutable' or 'mutable'`);
  const out: WireMap = {
    v: value,
    k: checkBytes(record.publicKey, PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES, `${what}.publicKey`),
  };
  const salt = checkBytes(record.salt, 0, MAX_SALT_BYTES, `${what}.salt`);
  if (salt.length > 0) out.s = salt; // absent means empty
  out.q = wireUint(checkSafeUint(record.seq, `${what}.seq`));
  out.g = checkBytes(record.sig, SIGNATURE_BYTES, SIGNATURE_BYTES, `${what}.sig`);
  return out;
}

function encodeArgs(msg: RequestMessage): WireMap {
  switch (msg.method) {
    case 'PING':
      return {};
    case 'FIND_NODE':
      return { t: checkBytes(msg.target, ID_BYTES, ID_BYTES, 'target') };
    case 'FIND_VALUE': {
      const a: WireMap = { k: checkBytes(msg.key, ID_BYTES, ID_BYTES, 'key') };
      if (msg.seq !== undefined) a.q = wireUint(checkSafeUint(msg.seq, 'seq'));
      return a;
    }
    case 'STORE': {
      const a: WireMap = {
        k: checkBytes(msg.key, ID_BYTES, ID_BYTES, 'key'),
        r: encodeRecord(msg.record, 'record'),
        w: checkBytes(msg.token, 1, MAX_TOKEN_BYTES, 'token'),
      };
      if (msg.cas !== undefined) a.c = wireUint(checkSafeUint(msg.cas, 'cas'));
      return a;
    }
    case 'ANNOUNCE':
      if (!isValidPort(msg.port)) fail(`port must be an integer 1..65535, got ${String(msg.port)}`);
      return {
        t: checkBytes(msg.topic, ID_BYTES, ID_BYTES, 'topic'),
        p: msg.port,
        w: checkBytes(msg.token, 1, MAX_TOKEN_BYTES, 'token'),
      };
    case 'GET_PEERS':
      return { t: checkBytes(msg.topic, ID_BYTES, ID_BYTES, 'topic') };
    default:
      return fail(`unknown method ${JSON.stringify((msg as { method: unknown }).method)}`);
  }
}

function encodeResponseBody(msg: ResponseMessage): WireMap {
  if (msg.observed === null || typeof msg.observed !== 'object') fail('observed must be an address');
  const body: WireMap = { o: encodePeer(msg.observed, 'observed') };
  if (msg.nodes !== undefined) {
    if (!Array.isArray(msg.nodes) || msg.nodes.length > MAX_NODES_PER_RESPONSE) {
      fail(`nodes must be an array of at most ${MAX_NODES_PER_RESPONSE} contacts`);
    }
    const { v4, v6 } = encodeContacts(msg.nodes);
    // An empty list is still sent (as an empty n4) so that "no nodes" and "no field" stay distinct.
    if (v4.length > 0 || v6.length === 0) body.n4 = v4;
    if (v6.length > 0) body.n6 = v6;
  }
  if (msg.token !== undefined) body.w = checkBytes(msg.token, 1, MAX_TOKEN_BYTES, 'token');
  if (msg.record !== undefined) body.r = encodeRecord(msg.record, 'record');
  if (msg.peers !== undefined) {
    if (!Array.isArray(msg.peers) || msg.peers.length > MAX_PEERS_PER_RESPONSE) {
      fail(`peers must be an array of at most ${MAX_PEERS_PER_RESPONSE} addresses`);
    }
    const { v4, v6 } = encodePeers(msg.peers);
    if (v4.length > 0 || v6.length === 0) body.p4 = v4;
    if (v6.length > 0) body.p6 = v6;
  }
  return body;
}

/** Counts Unicode code points, the unit of MAX_ERROR_MESSAGE_CHARS. */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function messageTooLong(s: string): boolean {
  // s.length (UTF-16 units) >= code points, so the exact count is only needed past the limit.
  return s.length > MAX_ERROR_MESSAGE_CHARS && codePoints(s) > MAX_ERROR_MESSAGE_CHARS;
}

/**
 * One datagram for `msg`. Throws DhtError('INVALID_ARGUMENT') if a field is out of range or the
 * result would exceed MAX_DATAGRAM_BYTES (e.g. a FIND_VALUE response with a large record and 20
 * IPv6 nodes: send fewer nodes). The result is a view into the encoder's slab; it is never reused.
 */
export function encodeMessage(msg: Message): Uint8Array {
  if (msg === null || typeof msg !== 'object') fail('message must be an object');
  if (!isUint(msg.tid, MAX_UINT32)) fail(`tid must be an unsigned 32-bit integer, got ${String(msg.tid)}`);
  const wire: WireMap = {
    v: WIRE_VERSION,
    t: msg.tid,
    y: '',
    i: checkBytes(msg.id, ID_BYTES, ID_BYTES, 'id'),
  };
  switch (msg.kind) {
    case 'request':
      if (!Object.hasOwn(METHOD_CODES, msg.method)) fail(`unknown method ${JSON.stringify(msg.method)}`);
      wire.y = KIND_CODES.request;
      wire.m = METHOD_CODES[msg.method];
      wire.a = encodeArgs(msg);
      break;
    case 'response':
      wire.y = KIND_CODES.response;
      wire.r = encodeResponseBody(msg);
      break;
    case 'error':
      if (!isUint(msg.code, MAX_WIRE_ERROR_CODE)) fail(`error code must be an integer 0..${MAX_WIRE_ERROR_CODE}, got ${String(msg.code)}`);
      if (typeof msg.message !== 'string') fail('error message must be a string');
      if (messageTooLong(msg.message)) fail(`error message is longer than ${MAX_ERROR_MESSAGE_CHARS} characters`);
      wire.y = KIND_CODES.error;
      wire.e = [msg.code, msg.message];
      break;
    default:
      fail(`unknown kind ${JSON.stringify((msg as { kind: unknown }).kind)}`);
  }
  const out = encoder.encode(wire);
  if (out.length > MAX_DATAGRAM_BYTES) {
    fail(`the encoded message is ${out.length} bytes, more than the ${MAX_DATAGRAM_BYTES}-byte datagram limit`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** A decode failure; a class (not an Error) so building one costs no stack trace. */
class Reject {
  constructor(
    readonly reason: DropReason,
    readonly detail: string,
  ) {}
}

function isMap(x: unknown): x is WireMap {
  if (typeof x !== 'object' || x === null) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** A byte string, as a plain Uint8Array view (cbor-x hands out Buffers; no bytes are copied). */
function asBytes(x: unknown): Uint8Array | null {
  if (!(x instanceof Uint8Array)) return null;
  return Object.getPrototypeOf(x) === Uint8Array.prototype ? x : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/** What a decoded value is, for `detail`; reads nothing a hostile datagram controls but lengths. */
function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (x instanceof Uint8Array) return `${x.length} bytes`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (isMap(x)) return 'a map';
  if (typeof x === 'object') {
    const ctor: unknown = Object.getPrototypeOf(x)?.constructor;
    return typeof ctor === 'function' ? `a ${ctor.name}` : 'an object'; // Map, Tag, Date, ...
  }
  if (typeof x === 'string') return `a string of ${x.length}`;
  if (typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean') return `${typeof x} ${String(x).slice(0, 24)}`;
  return typeof x;
}

function bytesField(m: WireMap, key: string, min: number, max: number, reason: DropReason, where: string): Uint8Array | Reject {
  const b = asBytes(m[key]);
  if (b === null) return new Reject(reason, `${where}: expected a byte string, got ${describe(m[key])}`);
  if (b.length < min || b.length > max) {
    return new Reject(reason, `${where}: ${b.length} bytes, expected ${min === max ? min : `${min}..${max}`}`);
  }
  return b;
}

function uintField(m: WireMap, key: string, max: number, reason: DropReason, where: string): number | Reject {
  const x = m[key];
  if (!isUint(x, max)) return new Reject(reason, `${where}: expected an integer 0..${max}, got ${describe(x)}`);
  return x + 0; // -0 (a float on the wire) becomes 0
}

/** Rejects keys outside `allowed`. Counting first keeps the common (valid) case to one pass. */
function checkKeys(m: WireMap, allowed: readonly string[], reason: DropReason, where: string): Reject | null {
  const keys = Object.keys(m);
  let known = 0;
  for (const k of allowed) if (m[k] !== undefined) known++;
  if (keys.length === known) return null;
  const extra = keys.find((k) => !allowed.includes(k) || m[k] === undefined) ?? '?';
  return new Reject(reason, `${where}: unexpected key ${JSON.stringify(extra.slice(0, 20))}`);
}

const TOP_REQUEST_KEYS = ['v', 't', 'y', 'i', 'm', 'a'] as const;
const TOP_RESPONSE_KEYS = ['v', 't', 'y', 'i', 'r'] as const;
const TOP_ERROR_KEYS = ['v', 't', 'y', 'i', 'e'] as const;
const ARG_KEYS: Readonly<Record<Method, readonly string[]>> = {
  PING: [],
  FIND_NODE: ['t'],
  FIND_VALUE: ['k', 'q'],
  STORE: ['k', 'r', 'w', 'c'],
  ANNOUNCE: ['t', 'p', 'w'],
  GET_PEERS: ['t'],
};
const RESPONSE_KEYS = ['o', 'n4', 'n6', 'w', 'r', 'p4', 'p6'] as const;
const IMMUTABLE_RECORD_KEYS = ['v'] as const;
const MUTABLE_RECORD_KEYS = ['v', 'k', 's', 'q', 'g'] as const;

function readRecord(x: unknown, reason: DropReason, where: string): WireRecord | Reject {
  if (!isMap(x)) return new Reject(reason, `${where}: expected a map, got ${describe(x)}`);
  const value = bytesField(x, 'v', 0, MAX_VALUE_BYTES, reason, `${where}.v (value)`);
  if (value instanceof Reject) return value;
  if (x.k === undefined) {
    const extra = checkKeys(x, IMMUTABLE_RECORD_KEYS, reason, where);
    if (extra) return extra;
    return { type: 'immutable', value };
  }
  const extra = checkKeys(x, MUTABLE_RECORD_KEYS, reason, where);
  if (extra) return extra;
  const publicKey = bytesField(x, 'k', PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES, reason, `${where}.k (publicKey)`);
  if (publicKey instanceof Reject) return publicKey;
  let salt: Uint8Array;
  if (x.s === undefined) {
    salt = new Uint8Array(0);
  } else {
    const s = bytesField(x, 's', 0, MAX_SALT_BYTES, reason, `${where}.s (salt)`);
    if (s instanceof Reject) return s;
    salt = s;
  }
  const seq = uintField(x, 'q', Number.MAX_SAFE_INTEGER, reason, `${where}.q (seq)`);
  if (seq instanceof Reject) return seq;
  const sig = bytesField(x, 'g', SIGNATURE_BYTES, SIGNATURE_BYTES, reason, `${where}.g (sig)`);
  if (sig instanceof Reject) return sig;
  return { type: 'mutable', value, publicKey, salt, seq, sig };
}

function readArgs(method: Method, a: WireMap): RequestArgs | Reject {
  const extra = checkKeys(a, ARG_KEYS[method], 'bad-args', 'args');
  if (extra) return extra;
  switch (method) {
    case 'PING':
      return { method };
    case 'FIND_NODE': {
      const target = bytesField(a, 't', ID_BYTES, ID_BYTES, 'bad-args', 'args.t (target)');
      return target instanceof Reject ? target : { method, target };
    }
    case 'GET_PEERS': {
      const topic = bytesField(a, 't', ID_BYTES, ID_BYTES, 'bad-args', 'args.t (topic)');
      return topic instanceof Reject ? topic : { method, topic };
    }
    case 'FIND_VALUE': {
      const key = bytesField(a, 'k', ID_BYTES, ID_BYTES, 'bad-args', 'args.k (key)');
      if (key instanceof Reject) return key;
      if (a.q === undefined) return { method, key };
      const seq = uintField(a, 'q', Number.MAX_SAFE_INTEGER, 'bad-args', 'args.q (seq)');
      return seq instanceof Reject ? seq : { method, key, seq };
    }
    case 'STORE': {
      const key = bytesField(a, 'k', ID_BYTES, ID_BYTES, 'bad-args', 'args.k (key)');
      if (key instanceof Reject) return key;
      const record = readRecord(a.r, 'bad-args', 'args.r (record)');
      if (record instanceof Reject) return record;
      const token = bytesField(a, 'w', 1, MAX_TOKEN_BYTES, 'bad-args', 'args.w (token)');
      if (token instanceof Reject) return token;
      if (a.c === undefined) return { method, key, record, token };
      const cas = uintField(a, 'c', Number.MAX_SAFE_INTEGER, 'bad-args', 'args.c (cas)');
      return cas instanceof Reject ? cas : { method, key, record, token, cas };
    }
    case 'ANNOUNCE': {
      const topic = bytesField(a, 't', ID_BYTES, ID_BYTES, 'bad-args', 'args.t (topic)');
      if (topic instanceof Reject) return topic;
      const port = a.p;
      if (!isValidPort(port)) return new Reject('bad-args', `args.p (port): expected an integer 1..65535, got ${describe(port)}`);
      const token = bytesField(a, 'w', 1, MAX_TOKEN_BYTES, 'bad-args', 'args.w (token)');
      if (token instanceof Reject) return token;
      return { method, topic, port, token };
    }
  }
}

/** Reads n4/n6 (contacts) or p4/p6 (peers) into one list; undefined when neither key is present. */
function readList<T>(
  body: WireMap,
  key4: string,
  key6: string,
  max: number,
  decodeInto: (b: Uint8Array, family: 4 | 6, into: T[], max: number) => string | null,
): T[] | undefined | Reject {
  if (body[key4] === undefined && body[key6] === undefined) return undefined;
  const out: T[] = [];
  const problem = readFamily(body, key4, 4, out, max, decodeInto) ?? readFamily(body, key6, 6, out, max, decodeInto);
  return problem ?? out;
}

function readFamily<T>(
  body: WireMap,
  key: string,
  family: 4 | 6,
  into: T[],
  max: number,
  decodeInto: (b: Uint8Array, family: 4 | 6, into: T[], max: number) => string | null,
): Reject | null {
  if (body[key] === undefined) return null;
  const b = asBytes(body[key]);
  if (b === null) return new Reject('bad-response', `response.${key}: expected a byte string, got ${describe(body[key])}`);
  const problem = decodeInto(b, family, into, max);
  return problem === null ? null : new Reject('bad-response', `response.${key}: ${problem}`);
}

function readResponse(body: WireMap, header: { tid: number; id: Uint8Array }): ResponseMessage | Reject {
  const extra = checkKeys(body, RESPONSE_KEYS, 'bad-response', 'response');
  if (extra) return extra;
  const o = asBytes(body.o);
  if (o === null) return new Reject('bad-response', `response.o (observed): expected a byte string, got ${describe(body.o)}`);
  const observed = decodePeer(o);
  if (typeof observed === 'string') return new Reject('bad-response', `response.o (observed): ${observed}`);
  const msg: ResponseMessage = { kind: 'response', tid: header.tid, id: header.id, observed };
  const nodes = readList<WireContact>(body, 'n4', 'n6', MAX_NODES_PER_RESPONSE, decodeContactsInto);
  if (nodes instanceof Reject) return nodes;
  if (nodes !== undefined) msg.nodes = nodes;
  if (body.w !== undefined) {
    const token = bytesField(body, 'w', 1, MAX_TOKEN_BYTES, 'bad-response', 'response.w (token)');
    if (token instanceof Reject) return token;
    msg.token = token;
  }
  if (body.r !== undefined) {
    const record = readRecord(body.r, 'bad-response', 'response.r (record)');
    if (record instanceof Reject) return record;
    msg.record = record;
  }
  const peers = readList<WirePeer>(body, 'p4', 'p6', MAX_PEERS_PER_RESPONSE, decodePeersInto);
  if (peers instanceof Reject) return peers;
  if (peers !== undefined) msg.peers = peers;
  return msg;
}

function readError(e: unknown, header: { tid: number; id: Uint8Array }): ErrorMessage | Reject {
  if (!Array.isArray(e) || e.length !== 2) {
    return new Reject('bad-error', `e: expected [code, message], got ${describe(e)}`);
  }
  const [code, message] = e as unknown[];
  if (!isUint(code, MAX_WIRE_ERROR_CODE)) return new Reject('bad-error', `e[0] (code): expected an integer 0..${MAX_WIRE_ERROR_CODE}, got ${describe(code)}`);
  if (typeof message !== 'string') return new Reject('bad-error', `e[1] (message): expected a string, got ${describe(message)}`);
  if (messageTooLong(message)) return new Reject('bad-error', `e[1] (message): longer than ${MAX_ERROR_MESSAGE_CHARS} characters`);
  return { kind: 'error', tid: header.tid, id: header.id, code: code + 0, message };
}

function readMessage(raw: unknown): Message | Reject {
  if (!isMap(raw)) return new Reject('not-a-map', `top level is ${describe(raw)}`);
  if (raw.v !== WIRE_VERSION) {
    return new Reject('bad-version', `v: expected ${WIRE_VERSION}, got ${describe(raw.v)}`);
  }
  const y = raw.y;
  if (y !== KIND_CODES.request && y !== KIND_CODES.response && y !== KIND_CODES.error) {
    return new Reject('bad-kind', `y: expected "q", "r" or "e", got ${typeof y === 'string' ? JSON.stringify(y.slice(0, 8)) : describe(y)}`);
  }
  const tid = uintField(raw, 't', MAX_UINT32, 'bad-header', 't (tid)');
  if (tid instanceof Reject) return tid;
  const id = bytesField(raw, 'i', ID_BYTES, ID_BYTES, 'bad-header', 'i (sender id)');
  if (id instanceof Reject) return id;
  const header = { tid, id };

  if (y === KIND_CODES.request) {
    const extra = checkKeys(raw, TOP_REQUEST_KEYS, 'bad-header', 'request');
    if (extra) return extra;
    const m = raw.m;
    if (!isUint(m, METHODS.length - 1)) return new Reject('unknown-method', `m: ${describe(m)} is not a method number`);
    const method = METHODS[m];
    if (!isMap(raw.a)) return new Reject('bad-args', `a (args of ${method}): expected a map, got ${describe(raw.a)}`);
    const args = readArgs(method, raw.a);
    if (args instanceof Reject) return args;
    return { kind: 'request', tid, id, ...args };
  }
  if (y === KIND_CODES.response) {
    const extra = checkKeys(raw, TOP_RESPONSE_KEYS, 'bad-header', 'response');
    if (extra) return extra;
    if (!isMap(raw.r)) return new Reject('bad-response', `r: expected a map, got ${describe(raw.r)}`);
    return readResponse(raw.r, header);
  }
  const extra = checkKeys(raw, TOP_ERROR_KEYS, 'bad-header', 'error');
  if (extra) return extra;
  return readError(raw.e, header);
}

function errorText(e: unknown): string {
  try {
    const text = e instanceof Error ? e.message : String(e);
    return String(text).slice(0, MAX_DETAIL_CHARS);
  } catch {
    return 'unprintable error';
  }
}

/**
 * Decodes one datagram. Never throws, for any input: a datagram that is not exactly a wire v1
 * message yields `{ ok: false, reason, detail }`, where detail names the offending field.
 */
export function decodeMessage(data: Uint8Array): DecodeResult {
  if (!(data instanceof Uint8Array)) return { ok: false, reason: 'not-cbor', detail: 'input is not a Uint8Array' };
  if (data.length === 0) return { ok: false, reason: 'empty' };
  if (data.length > MAX_DATAGRAM_BYTES) {
    return { ok: false, reason: 'oversize', detail: `${data.length} bytes, limit ${MAX_DATAGRAM_BYTES}` };
  }
  let raw: unknown;
  try {
    raw = decoder.decode(data);
  } catch (e) {
    return { ok: false, reason: 'not-cbor', detail: errorText(e) };
  }
  try {
    const result = readMessage(raw);
    if (result instanceof Reject) return { ok: false, reason: result.reason, detail: result.detail.slice(0, MAX_DETAIL_CHARS) };
    return { ok: true, message: result };
  } catch (e) {
    // Unreachable by design (every field is type-checked before use); kept so that a bug here
    // still drops one datagram instead of taking down the socket handler.
    return { ok: false, reason: 'bad-header', detail: `internal: ${errorText(e)}` };
  }
}
