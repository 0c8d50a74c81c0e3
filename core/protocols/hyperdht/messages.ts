// dht-rpc 6 datagrams: the framing HyperDHT runs on (node_modules/dht-rpc/lib/io.js is the
// reference). One message per UDP datagram:
//
//   request  = 0x03 | flags (varint) | tid (uint16 LE) | to (ipv4) | [id 32] | [token 32]
//              | command (varint) | [target 32] | [value (varint length + bytes)]
//     flags: 1 id, 2 token, 4 internal (a dht-rpc command, not the application's), 8 target, 16 value
//   response = 0x13 | flags (varint) | tid (uint16 LE) | to (ipv4) | [id 32] | [token 32]
//              | [closer nodes (varint count, ipv4 each)] | [error (varint)] | [value]
//     flags: 1 id, 2 token, 4 closer nodes, 8 error, 16 value
//
// `to` is the address the sender sent the datagram to: a request's receiver learns how it is seen.
// `id` is present only when the sender is persistent and its id is BLAKE2b-256 of its own address
// (crypto.ts checks it against the datagram's source). Closer nodes are addresses only; their ids
// are derived from the address. Like the reference, the decoder ignores unknown flag bits and
// trailing bytes (later versions append fields); unlike it, it bounds every list it allocates.
import type { Endpoint } from '../../transport/types';
import { Reader, Writer, sizeOfBuffer, sizeOfIpv4Array, sizeOfUint, IPV4_ADDRESS_BYTES } from './compact';

export const DHT_RPC_VERSION = 0b11;
export const REQUEST_TYPE = (0b0000 << 4) | DHT_RPC_VERSION;
export const RESPONSE_TYPE = (0b0001 << 4) | DHT_RPC_VERSION;
export const HYPERDHT_ID_BYTES = 32;
export const TOKEN_BYTES = 32;
/** dht-rpc answers with its table's k = 20 closest; more than this from one peer is hostile. */
export const MAX_CLOSER_NODES = 64;
/** The largest datagram we decode: a UDP payload over IPv4. */
export const MAX_HYPERDHT_DATAGRAM_BYTES = 65_507;

/** dht-rpc's own commands (sent with the internal flag). */
export const INTERNAL_COMMANDS = { PING: 0, PING_NAT: 1, FIND_NODE: 2, DOWN_HINT: 3, DELAYED_PING: 4 } as const;
/** hyperdht's commands (sent without the internal flag). */
export const HYPERDHT_COMMANDS = {
  PEER_HANDSHAKE: 0,
  PEER_HOLEPUNCH: 1,
  FIND_PEER: 2,
  LOOKUP: 3,
  ANNOUNCE: 4,
  UNANNOUNCE: 5,
  MUTABLE_PUT: 6,
  MUTABLE_GET: 7,
  IMMUTABLE_PUT: 8,
  IMMUTABLE_GET: 9,
} as const;
/** Error codes in a response: dht-rpc's (1, 2) and hyperdht's (16, 17). */
export const HYPERDHT_ERRORS = { NONE: 0, UNKNOWN_COMMAND: 1, INVALID_TOKEN: 2, SEQ_REUSED: 16, SEQ_TOO_LOW: 17 } as const;

export function errorName(code: number): string {
  for (const [name, n] of Object.entries(HYPERDHT_ERRORS)) if (n === code) return name;
  return `error ${code}`;
}

export interface HyperRequest {
  type: 'request';
  tid: number;
  /** Where the sender sent it: the receiver's address as the sender sees it. */
  to: Endpoint;
  id: Uint8Array | null;
  token: Uint8Array | null;
  internal: boolean;
  command: number;
  target: Uint8Array | null;
  value: Uint8Array | null;
}

export interface HyperResponse {
  type: 'response';
  tid: number;
  /** Where the request came from as the responder saw it: our address as others see it. */
  to: Endpoint;
  id: Uint8Array | null;
  token: Uint8Array | null;
  closerNodes: Endpoint[];
  error: number;
  value: Uint8Array | null;
}

export type HyperMessage = HyperRequest | HyperResponse;

export type HyperDecodeResult = { ok: true; message: HyperMessage } | { ok: false; reason: string };

const REQ_ID = 1;
const REQ_TOKEN = 2;
const REQ_INTERNAL = 4;
const REQ_TARGET = 8;
const REQ_VALUE = 16;
const RES_ID = 1;
const RES_TOKEN = 2;
const RES_CLOSER = 4;
const RES_ERROR = 8;
const RES_VALUE = 16;

/** Decodes one datagram. Never throws: anything malformed is `{ ok: false, reason }`. */
export function decodeHyperMessage(buf: Uint8Array): HyperDecodeResult {
  if (!(buf instanceof Uint8Array)) return { ok: false, reason: 'not bytes' };
  if (buf.length < 2) return { ok: false, reason: 'too short' };
  if (buf.length > MAX_HYPERDHT_DATAGRAM_BYTES) return { ok: false, reason: 'oversize' };
  const type = buf[0];
  if (type !== REQUEST_TYPE && type !== RESPONSE_TYPE) return { ok: false, reason: `unknown type byte 0x${type.toString(16)}` };
  const r = new Reader(buf, 1);
  const flags = r.uint();
  const tid = r.uint16();
  const to = r.ipv4();
  const id = flags & REQ_ID ? r.fixed(HYPERDHT_ID_BYTES) : null; // same bit in both kinds
  const token = flags & REQ_TOKEN ? r.fixed(TOKEN_BYTES) : null;
  let message: HyperMessage;
  if (type === REQUEST_TYPE) {
    const command = r.uint();
    const target = flags & REQ_TARGET ? r.fixed(HYPERDHT_ID_BYTES) : null;
    const value = flags & REQ_VALUE ? r.buffer() : null;
    message = { type: 'request', tid, to, id, token, internal: (flags & REQ_INTERNAL) !== 0, command, target, value };
  } else {
    const closerNodes = flags & RES_CLOSER ? r.ipv4Array(MAX_CLOSER_NODES) : [];
    const error = flags & RES_ERROR ? r.uint() : 0;
    const value = flags & RES_VALUE ? r.buffer() : null;
    message = { type: 'response', tid, to, id, token, closerNodes, error, value };
  }
  if (r.error !== null) return { ok: false, reason: r.error };
  return { ok: true, message };
}

function checkTid(tid: number): void {
  if (!Number.isInteger(tid) || tid < 0 || tid > 0xffff) throw new RangeError(`tid must be 0..65535; got ${tid}`);
}

/** The header both kinds share: type, flags, tid, to, [id], [token]; `rest` bytes follow it. */
function writeHeader(type: number, flags: number, m: { tid: number; to: Endpoint; id: Uint8Array | null; token: Uint8Array | null }, rest: number): Writer {
  checkTid(m.tid);
  const w = new Writer(1 + sizeOfUint(flags) + 2 + IPV4_ADDRESS_BYTES + (m.id ? HYPERDHT_ID_BYTES : 0) + (m.token ? TOKEN_BYTES : 0) + rest);
  w.uint8(type);
  w.uint(flags);
  w.uint16(m.tid);
  w.ipv4(m.to, 'to');
  if (m.id) w.fixed(m.id, HYPERDHT_ID_BYTES, 'id');
  if (m.token) w.fixed(m.token, TOKEN_BYTES, 'token');
  return w;
}

export function encodeHyperRequest(m: Omit<HyperRequest, 'type'>): Uint8Array {
  const flags =
    (m.id ? REQ_ID : 0) | (m.token ? REQ_TOKEN : 0) | (m.internal ? REQ_INTERNAL : 0) | (m.target ? REQ_TARGET : 0) | (m.value ? REQ_VALUE : 0);
  const rest = sizeOfUint(m.command) + (m.target ? HYPERDHT_ID_BYTES : 0) + (m.value ? sizeOfBuffer(m.value) : 0);
  const w = writeHeader(REQUEST_TYPE, flags, m, rest);
  w.uint(m.command);
  if (m.target) w.fixed(m.target, HYPERDHT_ID_BYTES, 'target');
  if (m.value) w.buffer(m.value);
  return w.finish();
}

export function encodeHyperResponse(m: Omit<HyperResponse, 'type'>): Uint8Array {
  const closer = m.closerNodes.length > 0;
  const flags = (m.id ? RES_ID : 0) | (m.token ? RES_TOKEN : 0) | (closer ? RES_CLOSER : 0) | (m.error > 0 ? RES_ERROR : 0) | (m.value ? RES_VALUE : 0);
  const rest = (closer ? sizeOfIpv4Array(m.closerNodes) : 0) + (m.error > 0 ? sizeOfUint(m.error) : 0) + (m.value ? sizeOfBuffer(m.value) : 0);
  const w = writeHeader(RESPONSE_TYPE, flags, m, rest);
  if (closer) w.ipv4Array(m.closerNodes, 'closer node');
  if (m.error > 0) w.uint(m.error);
  if (m.value) w.buffer(m.value);
  return w.finish();
}
