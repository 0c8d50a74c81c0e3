// BitTorrent's Mainline DHT as a kadscope protocol: KRPC (krpc.ts) mapped to and from the engine's
// message model (core/wire/types.ts).
//
//   PING <-> ping          FIND_NODE <-> find_node      GET_PEERS <-> get_peers
//   ANNOUNCE <-> announce_peer (implied_port: the query's source port)
//   FIND_VALUE <-> get     STORE <-> put (the key is the BEP 44 target of the item)
//
// Transaction ids: ours are 4 random bytes, the engine's uint32. Others' may be 1..4 bytes (libtorrent
// sends 2); a shorter one maps to a number above 2^32 that encodes its length, so an answer echoes
// it byte for byte. Queries with longer ids are answered with error 203.
// Queries outside the model are answered here: sample_infohashes (BEP 51) from the view the node
// lends (attach), unknown methods with 204. We ask sample_infohashes as a FIND_NODE with `sample`
// (its answer is find_node's plus samples, num and interval, which come back as `sample`).
// BEP 43: a read-only codec marks every query `ro`; queries marked `ro` reach the engine with
// readOnly set, and the node keeps such senders out of its routing table.
import { isIP } from 'node:net';
import { DhtError, WIRE_ERROR } from '../../errors';
import { cryptoRandomBytes, type RandomBytes } from '../../id';
import type { Endpoint } from '../../transport/types';
import type { Message, RequestArgs, RequestMessage, ResponseMessage, WireRecord } from '../../wire/types';
import type { CodecDecodeResult, DhtProtocol, ProtocolNodeView, WireCodec } from '../protocol';
import { itemTarget, sha1 } from './bep44';
import { decodeKrpc, encodeKrpc } from './krpc';
import { MAINLINE_RECORDS } from './records';
import { bep42Status, generateBep42Id, isBep42Exempt } from './bep42';
import {
  KRPC_ERROR,
  MAINLINE_ID_BYTES,
  MAINLINE_K,
  MAX_MAINLINE_DATAGRAM_BYTES,
  MAX_MAINLINE_SEND_BYTES,
  type MainlineMessage,
  type PutItem,
  type QueryMessage,
  type Want,
} from './types';

/** Our `v`: "KS" and a two-byte version, as BEP 20 style clients do. */
export const KADSCOPE_CLIENT_VERSION = new Uint8Array([0x4b, 0x53, 0x00, 0x01]);
const TWO_POW_32 = 0x1_0000_0000;

/**
 * A `v` for people: BEP 20 style (two letters naming the client, then version bytes) as "LT 1.2";
 * anything else as hex.
 */
export function describeClientVersion(v: Uint8Array): string {
  const letters = v.length >= 2 && [v[0], v[1]].every((c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a));
  if (!letters) return Buffer.from(v).toString('hex');
  const name = String.fromCharCode(v[0], v[1]);
  return v.length === 2 ? name : `${name} ${Array.from(v.subarray(2)).join('.')}`;
}

/** Our uint32 tids as 4 bytes; others' shorter tids as decoded by tidFromBytes. */
export function tidToBytes(tid: number): Uint8Array {
  const len = 4 - Math.floor(tid / TWO_POW_32);
  if (!Number.isSafeInteger(tid) || tid < 0 || len < 1 || len > 4) throw DhtError.invalidArgument(`tid ${tid} is not a KRPC transaction id`);
  let v = tid % TWO_POW_32;
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return out;
}

/** A 1..4-byte tid as a number (4 bytes: its uint32 value); undefined for longer ones. */
export function tidFromBytes(b: Uint8Array): number | undefined {
  if (b.length < 1 || b.length > 4) return undefined;
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v + (4 - b.length) * TWO_POW_32;
}

const TO_KRPC: Record<number, number> = {
  [WIRE_ERROR.GENERIC]: KRPC_ERROR.GENERIC,
  [WIRE_ERROR.PROTOCOL]: KRPC_ERROR.PROTOCOL,
  [WIRE_ERROR.UNKNOWN_METHOD]: KRPC_ERROR.METHOD_UNKNOWN,
  [WIRE_ERROR.RATE_LIMITED]: KRPC_ERROR.SERVER,
  [WIRE_ERROR.INVALID_TOKEN]: KRPC_ERROR.PROTOCOL,
  [WIRE_ERROR.VALUE_TOO_LARGE]: KRPC_ERROR.MESSAGE_TOO_BIG,
  [WIRE_ERROR.SALT_TOO_LARGE]: KRPC_ERROR.SALT_TOO_BIG,
  [WIRE_ERROR.BAD_SIGNATURE]: KRPC_ERROR.INVALID_SIGNATURE,
  [WIRE_ERROR.HASH_MISMATCH]: KRPC_ERROR.PROTOCOL,
  [WIRE_ERROR.SEQ_TOO_LOW]: KRPC_ERROR.SEQ_TOO_LOW,
  [WIRE_ERROR.SEQ_REUSED]: KRPC_ERROR.SEQ_TOO_LOW,
  [WIRE_ERROR.CAS_MISMATCH]: KRPC_ERROR.CAS_MISMATCH,
  [WIRE_ERROR.STORE_FULL]: KRPC_ERROR.SERVER,
};
const FROM_KRPC: Record<number, number> = {
  [KRPC_ERROR.GENERIC]: WIRE_ERROR.GENERIC,
  [KRPC_ERROR.SERVER]: WIRE_ERROR.GENERIC,
  [KRPC_ERROR.PROTOCOL]: WIRE_ERROR.PROTOCOL,
  [KRPC_ERROR.METHOD_UNKNOWN]: WIRE_ERROR.UNKNOWN_METHOD,
  [KRPC_ERROR.MESSAGE_TOO_BIG]: WIRE_ERROR.VALUE_TOO_LARGE,
  [KRPC_ERROR.INVALID_SIGNATURE]: WIRE_ERROR.BAD_SIGNATURE,
  [KRPC_ERROR.SALT_TOO_BIG]: WIRE_ERROR.SALT_TOO_LARGE,
  [KRPC_ERROR.CAS_MISMATCH]: WIRE_ERROR.CAS_MISMATCH,
  [KRPC_ERROR.SEQ_TOO_LOW]: WIRE_ERROR.SEQ_TOO_LOW,
};

export interface MainlineCodecOptions {
  /** BEP 43: mark our queries read-only (one-shot CLI commands). */
  readOnly?: boolean;
}

function putItemOf(record: WireRecord): PutItem {
  // The records layer refuses named puts on Mainline first (capabilities.namedKeys); a guard.
  if (record.type === 'named') throw DhtError.invalidArgument('BEP 44 has no named records');
  return record.type === 'immutable'
    ? { type: 'immutable', v: record.value }
    : { type: 'mutable', v: record.value, k: record.publicKey, salt: record.salt, seq: record.seq, sig: record.sig };
}

/** BEP 32: a dual-stack node asks for contacts of both families in the queries that return nodes. */
const WANT_BOTH: Want[] = ['n4', 'n6'];

function toKrpc(msg: Message, readOnly: boolean, dualStack = false): MainlineMessage {
  const tid = tidToBytes(msg.tid);
  const version = KADSCOPE_CLIENT_VERSION;
  if (msg.kind === 'error') return { kind: 'error', tid, version, code: TO_KRPC[msg.code] ?? KRPC_ERROR.GENERIC, message: msg.message };
  if (msg.kind === 'response') {
    const r: MainlineMessage = { kind: 'response', tid, version, id: msg.id };
    if (msg.observed !== undefined) r.observed = msg.observed;
    if (msg.nodes !== undefined) r.nodes = msg.nodes;
    if (msg.token !== undefined) r.token = msg.token;
    if (msg.peers !== undefined) r.values = msg.peers;
    if (msg.record !== undefined) {
      r.v = msg.record.value;
      if (msg.record.type === 'mutable') {
        r.k = msg.record.publicKey;
        r.sig = msg.record.sig;
        r.seq = msg.record.seq;
      }
    }
    return r;
  }
  const head = { kind: 'query' as const, tid, version, id: msg.id, readOnly };
  const want = dualStack ? { want: WANT_BOTH } : {};
  switch (msg.method) {
    case 'PING':
      return { ...head, method: 'ping' };
    case 'FIND_NODE':
      return msg.sample === true ? { ...head, ...want, method: 'sample_infohashes', target: msg.target } : { ...head, ...want, method: 'find_node', target: msg.target };
    case 'GET_PEERS':
      return { ...head, ...want, method: 'get_peers', infoHash: msg.topic };
    case 'ANNOUNCE':
      return { ...head, method: 'announce_peer', infoHash: msg.topic, port: msg.port, token: msg.token, impliedPort: false };
    case 'FIND_VALUE':
      return msg.seq === undefined ? { ...head, ...want, method: 'get', target: msg.key } : { ...head, ...want, method: 'get', target: msg.key, seq: msg.seq };
    case 'STORE': {
      const q: QueryMessage = { ...head, method: 'put', token: msg.token, item: putItemOf(msg.record) };
      if (msg.cas !== undefined) q.cas = msg.cas;
      return q;
    }
    default:
      // The node refuses these first (capabilities); this guards against a caller that did not ask.
      throw DhtError.invalidArgument(`KRPC has no ${msg.method}`);
  }
}

function errorReply(tid: Uint8Array, code: number, message: string): Uint8Array {
  return encodeKrpc({ kind: 'error', tid, version: KADSCOPE_CLIENT_VERSION, code, message });
}

function queryArgs(q: QueryMessage, from: Endpoint | undefined): RequestArgs | string {
  switch (q.method) {
    case 'ping':
      return { method: 'PING' };
    case 'find_node':
      return { method: 'FIND_NODE', target: q.target };
    case 'get_peers':
      return { method: 'GET_PEERS', topic: q.infoHash };
    case 'announce_peer': {
      const port = q.impliedPort ? (from?.port ?? 0) : q.port;
      if (!(port >= 1 && port <= 65535)) return 'announce_peer: no usable port';
      return { method: 'ANNOUNCE', topic: q.infoHash, port, token: q.token };
    }
    case 'get':
      return q.seq === undefined ? { method: 'FIND_VALUE', key: q.target } : { method: 'FIND_VALUE', key: q.target, seq: q.seq };
    case 'put': {
      const it = q.item;
      const record: WireRecord =
        it.type === 'immutable' ? { type: 'immutable', value: it.v } : { type: 'mutable', value: it.v, publicKey: it.k, salt: it.salt, seq: it.seq, sig: it.sig };
      const args: RequestArgs = { method: 'STORE', key: itemTarget(it), record, token: q.token };
      if (q.cas !== undefined) args.cas = q.cas;
      return args;
    }
    default:
      return `${q.method === 'unknown' ? q.name : q.method} is not a method this node answers`;
  }
}

/** BEP 51: samples per answer (libtorrent's default cap) and the interval we ask askers to wait (its default, the BEP's maximum). */
export const SAMPLE_INFOHASHES_MAX = 20;
export const SAMPLE_INFOHASHES_INTERVAL_S = 21_600;

/** A random sample of at most `max` keys (partial Fisher-Yates on the node's random bytes). */
function sampleKeys(keys: Uint8Array[], max: number, view: ProtocolNodeView): Uint8Array[] {
  if (keys.length <= max) return keys;
  const r = view.randomBytes(4 * max);
  for (let i = 0; i < max; i++) {
    const x = ((r[4 * i] << 24) | (r[4 * i + 1] << 16) | (r[4 * i + 2] << 8) | r[4 * i + 3]) >>> 0;
    const j = i + (x % (keys.length - i));
    [keys[i], keys[j]] = [keys[j], keys[i]];
  }
  return keys.slice(0, max);
}

/** BEP 51's answer: interval, num, samples of the stored infohashes and the nodes closest to target. */
function sampleInfohashesReply(q: Extract<QueryMessage, { method: 'sample_infohashes' }>, view: ProtocolNodeView, from: Endpoint | undefined): Uint8Array {
  const keys = view.storedTopics();
  const r: MainlineMessage = {
    kind: 'response',
    tid: q.tid,
    version: KADSCOPE_CLIENT_VERSION,
    id: view.id(),
    nodes: view.closest(q.target, familiesOf(q.want, from)),
    interval: SAMPLE_INFOHASHES_INTERVAL_S,
    num: keys.length,
    samples: sampleKeys(keys, SAMPLE_INFOHASHES_MAX, view),
  };
  if (from !== undefined) r.observed = from;
  return encodeKrpc(r);
}

/**
 * BEP 32: `want` picks the families of the contacts in our answer (nodes, nodes6); without it, the
 * answer carries the family the query came over ("messages only carry data in the address family
 * implied by the network layer"). Undefined: any (no want and no source address).
 */
function familiesOf(want: Want[] | undefined, from: Endpoint | undefined): Array<4 | 6> | undefined {
  if (want !== undefined && want.length > 0) return want.map((w) => (w === 'n4' ? 4 : 6));
  if (from === undefined) return undefined;
  return [isIP(from.host) === 6 ? 6 : 4];
}

function fromKrpc(data: Uint8Array, from: Endpoint | undefined, view: ProtocolNodeView | undefined): CodecDecodeResult {
  const decoded = decodeKrpc(data);
  if (!decoded.ok) {
    const out: CodecDecodeResult = { ok: false, reason: decoded.reason, detail: decoded.detail };
    if (decoded.replyTid !== undefined) out.reply = errorReply(decoded.replyTid, KRPC_ERROR.PROTOCOL, `bad query: ${decoded.detail ?? decoded.reason}`);
    return out;
  }
  const m = decoded.message;
  const tid = tidFromBytes(m.tid);
  if (tid === undefined) {
    if (m.kind !== 'query') return { ok: false, reason: 'bad-header', detail: `t: ${m.tid.length} bytes; ours are 4` };
    return { ok: false, reason: 'bad-header', detail: `t: ${m.tid.length} bytes`, reply: errorReply(m.tid, KRPC_ERROR.PROTOCOL, 'transaction ids over 4 bytes are not supported') };
  }
  if (m.kind === 'error') {
    return { ok: true, message: { kind: 'error', tid, id: new Uint8Array(MAINLINE_ID_BYTES), code: FROM_KRPC[m.code] ?? WIRE_ERROR.GENERIC, message: m.message } };
  }
  if (m.kind === 'response') {
    const res: ResponseMessage = { kind: 'response', tid, id: m.id };
    if (m.observed !== undefined) res.observed = m.observed;
    if (m.version !== undefined && m.version.length > 0) res.client = m.version;
    if (m.nodes !== undefined) res.nodes = m.nodes;
    if (m.token !== undefined) res.token = m.token;
    if (m.values !== undefined) res.peers = m.values;
    // BEP 51: an answer without samples is not a sample_infohashes answer (the asker says so).
    if (m.samples !== undefined) {
      res.sample = { samples: m.samples };
      if (m.num !== undefined) res.sample.num = m.num;
      if (m.interval !== undefined) res.sample.interval = m.interval;
    }
    if (m.v !== undefined) {
      // A get answer carries no salt: the asker knows it and checks the item with it.
      res.record =
        m.k !== undefined && m.sig !== undefined && m.seq !== undefined
          ? { type: 'mutable', value: m.v, publicKey: m.k, salt: new Uint8Array(0), seq: m.seq, sig: m.sig }
          : { type: 'immutable', value: m.v };
    }
    return { ok: true, message: res };
  }
  if (m.method === 'sample_infohashes' && view !== undefined) return { ok: false, answered: true, reply: sampleInfohashesReply(m, view, from) };
  const args = queryArgs(m, from);
  if (typeof args === 'string') {
    const code = m.method === 'announce_peer' ? KRPC_ERROR.PROTOCOL : KRPC_ERROR.METHOD_UNKNOWN;
    return { ok: false, reason: code === KRPC_ERROR.PROTOCOL ? 'bad-args' : 'unknown-method', detail: args, reply: errorReply(m.tid, code, args) };
  }
  const req = { kind: 'request', tid, id: m.id, ...args } as RequestMessage;
  if (m.readOnly) req.readOnly = true;
  const families = familiesOf(m.want, from);
  if (families !== undefined) req.families = families;
  return { ok: true, message: req };
}

export function mainlineCodec(options: MainlineCodecOptions = {}, node: { view?: ProtocolNodeView } = {}): WireCodec {
  const readOnly = options.readOnly ?? false;
  return {
    encode(msg: Message): Uint8Array {
      const out = encodeKrpc(toKrpc(msg, readOnly, node.view?.dualStack() ?? false));
      if (out.length > MAX_MAINLINE_SEND_BYTES) throw DhtError.invalidArgument(`a ${out.length}-byte answer is over the datagram limit (${MAX_MAINLINE_SEND_BYTES})`);
      return out;
    },
    decode(data: Uint8Array, from?: Endpoint): CodecDecodeResult {
      return fromKrpc(data, from, node.view);
    },
    // Answers are fitted to this (records.fit): 8 nodes of 26 bytes next to a 1,000-byte BEP 44
    // value is ~1,420 bytes, which the wire v1 limit (1,400) would cut.
    maxDatagramBytes: MAX_MAINLINE_SEND_BYTES,
  };
}

export function mainlineProtocol(options: MainlineCodecOptions = {}): DhtProtocol {
  const node: { view?: ProtocolNodeView } = {};
  return {
    name: 'mainline',
    label: 'BitTorrent Mainline DHT',
    idBytes: MAINLINE_ID_BYTES,
    k: MAINLINE_K,
    // As HyperDHT's: bittorrent-dht asks ~4k nodes a lookup; ending at the 2k nearest meets the nodes
    // the 8 closest do not know yet (README, mainline-500).
    lookupWidthPerK: 2,
    codec: mainlineCodec(options, node),
    attach(view: ProtocolNodeView): void {
      node.view = view;
    },
    // KRPC has no CALL or BROADCAST: other Mainline nodes would answer 204. BEP 51 is asked with
    // sample_infohashes (a FIND_NODE with `sample` in the message model).
    capabilities: { customMethods: false, broadcast: false, namedKeys: false, sampleInfohashes: true, localAddresses: false, downHints: false },
    randomId: (rand: RandomBytes = cryptoRandomBytes) => rand(MAINLINE_ID_BYTES),
    hashTopic: (text: string) => sha1(new TextEncoder().encode(text)),
    records: MAINLINE_RECORDS,
    // Real nodes answer with more than udx-native reads of a datagram (bittorrent-dht: up to ~3 KB
    // at 500 nodes), so a Mainline node's socket is the native binding or node:dgram, never udx-native.
    peerDatagramBytes: MAX_MAINLINE_DATAGRAM_BYTES,
    idCompliance: bep42Status,
    // BEP 42: once the network agrees on a public address, an id that does not fit it is replaced
    // by one that does (the node rebuilds its table and emits id-changed). Loopback and private
    // addresses are exempt: there the id stays.
    idForAddress(observed: Endpoint, current: Uint8Array, rand: RandomBytes = cryptoRandomBytes): Uint8Array | null {
      if (isBep42Exempt(observed.host)) return null;
      if (bep42Status(current, observed.host) === 'compliant') return null;
      return generateBep42Id(observed.host, rand) ?? null;
    },
    describeClient: describeClientVersion,
  };
}
