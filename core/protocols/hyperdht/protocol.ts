// HyperDHT (dht-rpc 6) as a kadscope protocol: the engine's message model (core/wire/types.ts)
// mapped to and from dht-rpc datagrams (messages.ts), so a DhtNode joins a network of real
// hyperdht nodes with the one routing table, lookup, RPC bookkeeping, health, events and traces.
//
//   PING <-> internal PING              FIND_NODE <-> internal FIND_NODE (and FIND_PEER, answered as one)
//   PING + replyPort <-> PING_NAT       PING + delayMs <-> DELAYED_PING      PING + down <-> DOWN_HINT
//   FIND_VALUE <-> IMMUTABLE_GET, or MUTABLE_GET when `mutable` (value: the lowest seq wanted)
//   STORE <-> IMMUTABLE_PUT / MUTABLE_PUT (public key | seq | value | signature)
//   GET_PEERS <-> LOOKUP (answers: public keys with relay addresses)
//   ANNOUNCE <-> ANNOUNCE (the announcer's public key, signed for the storer: WireAnnouncer)
//   response <-> response (`to`: the observed address; closer nodes: addresses, ids derived)
//   error    <-> response with an error code (dht-rpc has no separate error message)
//
// A dht-rpc response does not say which command it answers, and its value means something else
// per command: the codec remembers the command of each request it encodes, by transaction id
// (bounded), and reads the answer's value by it. Tokens are 32 bytes on the wire; the engine's 16
// go out zero-padded (records.ts, tokenToWire). The record model is HYPERDHT_RECORDS (records.ts).
//
// Ids: an id that a datagram carries is used only if it is BLAKE2b-256 of the datagram's source;
// otherwise (none, or one that does not fit) the sender is not a table member: its request reaches
// the engine readOnly (kept out of the table, like BEP 43's `ro`) and its answer readOnly (the
// lookup treats it as a non-member, as dht-rpc leaves id-less nodes out of the closest). Either
// way the message carries the id derived from the source, so the engine always has a 32-byte id.
// Our own id is sent only while persistent: idForAddress() makes the node persistent with the id
// of the address the network agrees on (DhtNode re-keys on it); an ephemeral protocol never is,
// and an adaptive one (no `ephemeral` option: probeReachability) only once DhtNode's PING_NAT
// probe from a second socket got through.
//
// Transaction ids are 16 bits (tidLimit); the RPC layer allocates below it. A size-only encode
// (the amplification guard's worst case tid) writes the low 16 bits.
//
// dht-rpc's other internal commands are the model's PING with a field (RequestArgs): PING_NAT's
// uint16 port is `replyPort` (the RPC layer answers at that port of the sender's host), DELAYED_PING's
// uint32 delay is `delayMs` (DhtNode answers after it; over HYPERDHT_MAX_PING_DELAY_MS, dropped
// here in silence as dht-rpc does), DOWN_HINT's 6-byte address is `down` with the id derived from
// it (DhtNode pings that node and drops it if gone); values too short, or port 0, get silence.
// UNANNOUNCE gets no answer. Writes that fail their checks in hyperdht get its silence (a malformed
// put is dropped), refusals the engine decides (bad token, seq) its error codes.
import { DhtError, WIRE_ERROR } from '../../errors';
import { cryptoRandomBytes, type RandomBytes } from '../../id';
import type { Endpoint } from '../../transport/types';
import type { Message, RequestMessage, ResponseMessage, WireContact, WirePeer, WireRecord } from '../../wire/types';
import type { CodecDecodeResult, DhtProtocol, WireCodec } from '../protocol';
import { Reader, Writer, IPV4_ADDRESS_BYTES } from './compact';
import { blake2b256, equalBytes, hyperNodeId, immutableKey } from './crypto';
import {
  HYPERDHT_COMMANDS,
  HYPERDHT_ERRORS,
  HYPERDHT_ID_BYTES,
  INTERNAL_COMMANDS,
  decodeHyperMessage,
  errorName,
  encodeHyperRequest,
  encodeHyperResponse,
  type HyperRequest,
  type HyperResponse,
} from './messages';
import {
  HYPERDHT_RECORDS,
  decodeAnnounce,
  decodeLookupReply,
  decodeMutablePut,
  decodeMutableValue,
  decodeSeq,
  encodeAnnounce,
  encodeLookupReply,
  encodeMutablePut,
  encodeMutableValue,
  encodeSeq,
  tokenFromWire,
  tokenToWire,
  type HyperPeerRecord,
} from './records';

export const HYPERDHT_TID_LIMIT = 0x1_0000;
/** Requests whose command the codec remembers until answered (the RPC window is far smaller). */
export const MAX_REMEMBERED_COMMANDS = 4_096;
/** Stands in for the destination when a caller only measures a message (same 6 bytes on the wire). */
const SIZE_ONLY_ADDRESS: Endpoint = Object.freeze({ host: '0.0.0.0', port: 1 });
const ZERO_ID = new Uint8Array(HYPERDHT_ID_BYTES);
const NO_ADDRESS: WirePeer = Object.freeze({ host: '0.0.0.0', port: 0 });
/** dht-rpc's maxPingDelay: a DELAYED_PING asking for longer gets no answer. */
export const HYPERDHT_MAX_PING_DELAY_MS = 10_000;

export interface HyperdhtProtocolOptions {
  /**
   * true: stay a client, never send an id, never enter others' tables (one-shot commands).
   * false: persistent as soon as the network agrees on our address (a node known to be reachable).
   * Unset: adaptive, as dht-rpc decides it: persistent once a PING_NAT probe from a second socket
   * shows the network reaches us at that address (DhtProtocol.probeReachability).
   */
  ephemeral?: boolean;
}

/** Two, four or six bytes of a dht-rpc internal command's value. */
function u16(n: number): Uint8Array {
  const w = new Writer(2);
  w.uint16(n);
  return w.finish();
}
function u32(n: number): Uint8Array {
  const w = new Writer(4);
  w.uint32(n);
  return w.finish();
}
function ipv4Value(e: Endpoint): Uint8Array {
  const w = new Writer(IPV4_ADDRESS_BYTES);
  w.ipv4(e);
  return w.finish();
}

/** What a protocol object's codec and idForAddress() share: our persistent id, and the commands in flight. */
interface CodecState {
  id: Uint8Array | null;
  /** Command of each request we sent, by tid (bounded; Map order is age). */
  sent: Map<number, number>;
}

const TO_HYPER_ERROR: Record<number, number> = {
  [WIRE_ERROR.UNKNOWN_METHOD]: HYPERDHT_ERRORS.UNKNOWN_COMMAND,
  [WIRE_ERROR.INVALID_TOKEN]: HYPERDHT_ERRORS.INVALID_TOKEN,
  [WIRE_ERROR.SEQ_REUSED]: HYPERDHT_ERRORS.SEQ_REUSED,
  [WIRE_ERROR.SEQ_TOO_LOW]: HYPERDHT_ERRORS.SEQ_TOO_LOW,
};
const FROM_HYPER_ERROR: Record<number, number> = {
  [HYPERDHT_ERRORS.UNKNOWN_COMMAND]: WIRE_ERROR.UNKNOWN_METHOD,
  [HYPERDHT_ERRORS.INVALID_TOKEN]: WIRE_ERROR.INVALID_TOKEN,
  [HYPERDHT_ERRORS.SEQ_REUSED]: WIRE_ERROR.SEQ_REUSED,
  [HYPERDHT_ERRORS.SEQ_TOO_LOW]: WIRE_ERROR.SEQ_TOO_LOW,
};

/** The id a datagram from `from` may carry, and whether it carried exactly that one. */
function senderId(claimed: Uint8Array | null, from: Endpoint | undefined): { id: Uint8Array; member: boolean } {
  const derived = from ? hyperNodeId(from) : null;
  if (derived === null) return { id: ZERO_ID, member: false };
  return { id: derived, member: claimed !== null && equalBytes(claimed, derived) };
}

function closerNodes(nodes: readonly Endpoint[]): WireContact[] {
  const out: WireContact[] = [];
  for (const n of nodes) {
    if (n.port === 0) continue;
    const id = hyperNodeId(n);
    if (id !== null) out.push({ id, host: n.host, port: n.port });
  }
  return out;
}

/** A hyperdht peer (public key, relay addresses) as the engine's peer: its first relay address, if any. */
function peerOf(p: HyperPeerRecord): WirePeer {
  const first = p.relayAddresses[0] ?? NO_ADDRESS;
  return { host: first.host, port: first.port, publicKey: p.publicKey, relayAddresses: p.relayAddresses };
}

/** The value of our answer: a record as its GET answers it, announced peers as a LOOKUP answer. */
function answerValue(msg: ResponseMessage): Uint8Array | null {
  const r = msg.record;
  if (r?.type === 'immutable') return r.value;
  if (r?.type === 'mutable') return encodeMutableValue({ seq: r.seq, value: r.value, signature: r.sig });
  if (msg.peers === undefined) return null;
  const peers: HyperPeerRecord[] = [];
  for (const p of msg.peers) if (p.publicKey) peers.push({ publicKey: p.publicKey, relayAddresses: (p.relayAddresses ?? []).slice(0, 3) });
  return encodeLookupReply({ peers, bump: 0 });
}

/** A STORE's record as hyperdht's put command and value. */
function putOf(record: WireRecord): { command: number; value: Uint8Array } {
  if (record.type === 'immutable') return { command: HYPERDHT_COMMANDS.IMMUTABLE_PUT, value: record.value };
  if (record.type === 'mutable') {
    return { command: HYPERDHT_COMMANDS.MUTABLE_PUT, value: encodeMutablePut({ publicKey: record.publicKey, seq: record.seq, value: record.value, signature: record.sig }) };
  }
  throw DhtError.invalidArgument('HyperDHT has no named records');
}

/** hyperdht's reads: an error answer to one still names closer nodes worth asking. */
const READS: ReadonlySet<number> = new Set([HYPERDHT_COMMANDS.IMMUTABLE_GET, HYPERDHT_COMMANDS.MUTABLE_GET, HYPERDHT_COMMANDS.LOOKUP]);

function remember(state: CodecState, tid: number, command: number): void {
  state.sent.delete(tid);
  state.sent.set(tid, command);
  if (state.sent.size > MAX_REMEMBERED_COMMANDS) state.sent.delete(state.sent.keys().next().value as number);
}

function encodeRequestWith(state: CodecState, msg: Extract<Message, { kind: 'request' }>, tid: number, to: Endpoint | undefined, ours: Uint8Array | null): Uint8Array {
  const head = { tid, to: to ?? SIZE_ONLY_ADDRESS, id: ours, token: null, internal: true, value: null };
  const app = (command: number, target: Uint8Array, value: Uint8Array | null, token: Uint8Array | null = null): Uint8Array => {
    if (to) remember(state, tid, command);
    return encodeHyperRequest({ ...head, internal: false, command, target, value, token });
  };
  switch (msg.method) {
    case 'PING':
      // dht-rpc's other internal commands ride on the model's PING (see RequestArgs).
      if (msg.down) return encodeHyperRequest({ ...head, command: INTERNAL_COMMANDS.DOWN_HINT, target: null, value: ipv4Value(msg.down) });
      if (msg.replyPort !== undefined) return encodeHyperRequest({ ...head, command: INTERNAL_COMMANDS.PING_NAT, target: null, value: u16(msg.replyPort) });
      if (msg.delayMs !== undefined) return encodeHyperRequest({ ...head, command: INTERNAL_COMMANDS.DELAYED_PING, target: null, value: u32(msg.delayMs) });
      return encodeHyperRequest({ ...head, command: INTERNAL_COMMANDS.PING, target: null });
    case 'FIND_NODE':
      return encodeHyperRequest({ ...head, command: INTERNAL_COMMANDS.FIND_NODE, target: msg.target });
    case 'FIND_VALUE':
      // MUTABLE_GET's value is the lowest seq wanted; the engine's seq is the one the asker has.
      if (msg.mutable) return app(HYPERDHT_COMMANDS.MUTABLE_GET, msg.key, encodeSeq(msg.seq === undefined ? 0 : msg.seq + 1));
      return app(HYPERDHT_COMMANDS.IMMUTABLE_GET, msg.key, null);
    case 'GET_PEERS':
      return app(HYPERDHT_COMMANDS.LOOKUP, msg.topic, null);
    case 'STORE': {
      if (msg.cas !== undefined) throw DhtError.invalidArgument('HyperDHT has no compare-and-swap');
      const put = putOf(msg.record);
      return app(put.command, msg.key, put.value, msg.token);
    }
    case 'ANNOUNCE': {
      const a = msg.announcer;
      if (!a) throw DhtError.invalidArgument('a HyperDHT announcement is a signed public key: announce with a key pair');
      const value = encodeAnnounce({ peer: { publicKey: a.publicKey, relayAddresses: a.relayAddresses }, refresh: null, signature: a.signature, bump: 0 });
      return app(HYPERDHT_COMMANDS.ANNOUNCE, msg.topic, value, msg.token);
    }
    default:
      throw DhtError.invalidArgument(`HyperDHT has no ${msg.method}`);
  }
}

function encodeWith(state: CodecState, msg: Message, to: Endpoint | undefined): Uint8Array {
  const tid = msg.tid % HYPERDHT_TID_LIMIT;
  const ours = state.id !== null && equalBytes(state.id, msg.id) ? state.id : null;
  try {
    if (msg.kind === 'error') {
      return encodeHyperResponse({ tid, to: to ?? SIZE_ONLY_ADDRESS, id: ours, token: null, closerNodes: [], error: TO_HYPER_ERROR[msg.code] ?? HYPERDHT_ERRORS.UNKNOWN_COMMAND, value: null });
    }
    if (msg.kind === 'response') {
      const closer = (msg.nodes ?? []).filter((n) => hyperNodeId(n) !== null);
      const token = msg.token ? tokenToWire(msg.token) : null;
      return encodeHyperResponse({ tid, to: msg.observed ?? to ?? SIZE_ONLY_ADDRESS, id: ours, token, closerNodes: closer, error: 0, value: answerValue(msg) });
    }
    return encodeRequestWith(state, msg, tid, to, ours);
  } catch (e) {
    if (e instanceof DhtError) throw e;
    throw DhtError.invalidArgument(`hyperdht: ${e instanceof Error ? e.message : String(e)}`);
  }
}

type Drop = Extract<CodecDecodeResult, { ok: false; reason: unknown }>;
const silent = (detail: string): Drop => ({ ok: false, reason: 'bad-args', detail: `${detail} (refused in silence, as hyperdht does)` });

/** hyperdht's own commands as the engine's requests; what hyperdht drops in silence is dropped. */
function appRequestOf(req: HyperRequest, head: { kind: 'request'; tid: number; id: Uint8Array; readOnly?: true }): CodecDecodeResult {
  const target = req.target;
  if (!target) return silent('a hyperdht command without a target');
  const token = req.token ? tokenFromWire(req.token) : null;
  const ok = (args: Record<string, unknown>): CodecDecodeResult => ({ ok: true, message: { ...head, ...args } as RequestMessage });
  switch (req.command) {
    case HYPERDHT_COMMANDS.FIND_PEER:
      return ok({ method: 'FIND_NODE', target });
    case HYPERDHT_COMMANDS.LOOKUP:
      return ok({ method: 'GET_PEERS', topic: target });
    case HYPERDHT_COMMANDS.IMMUTABLE_GET:
      return ok({ method: 'FIND_VALUE', key: target, mutable: false });
    case HYPERDHT_COMMANDS.MUTABLE_GET: {
      const lowest = req.value ? decodeSeq(req.value) : 0;
      if (typeof lowest === 'string') return silent(`MUTABLE_GET: ${lowest}`);
      return ok(lowest > 0 ? { method: 'FIND_VALUE', key: target, mutable: true, seq: lowest - 1 } : { method: 'FIND_VALUE', key: target, mutable: true });
    }
    case HYPERDHT_COMMANDS.IMMUTABLE_PUT:
      if (!token || !req.value) return silent('IMMUTABLE_PUT without a token or value');
      // hyperdht checks the hash first and drops a mismatch without a word; so do we (cheap).
      if (!equalBytes(immutableKey(req.value), target)) return silent('IMMUTABLE_PUT whose value does not hash to its target');
      return ok({ method: 'STORE', key: target, token, record: { type: 'immutable', value: req.value } });
    case HYPERDHT_COMMANDS.MUTABLE_PUT: {
      if (!token || !req.value) return silent('MUTABLE_PUT without a token or value');
      const p = decodeMutablePut(req.value);
      if (typeof p === 'string') return silent(`MUTABLE_PUT: ${p}`);
      return ok({ method: 'STORE', key: target, token, record: { type: 'mutable', value: p.value, publicKey: p.publicKey, salt: new Uint8Array(0), seq: p.seq, sig: p.signature } });
    }
    case HYPERDHT_COMMANDS.ANNOUNCE: {
      if (!token || !req.value) return silent('ANNOUNCE without a token or value');
      const a = decodeAnnounce(req.value);
      if (typeof a === 'string' || !a.peer || !a.signature) return silent(`ANNOUNCE: ${typeof a === 'string' ? a : 'no peer or signature'}`);
      const announcer = { publicKey: a.peer.publicKey, relayAddresses: a.peer.relayAddresses.slice(0, 3), signature: a.signature };
      return ok({ method: 'ANNOUNCE', topic: target, port: 0, token, announcer });
    }
    default:
      return { ok: false, reason: 'unknown-method', detail: `hyperdht command ${req.command} is refused in silence (not served here)` };
  }
}

/**
 * dht-rpc's internal commands beside PING as the model's PING (RequestArgs): PING_NAT answered at
 * the port it names, DELAYED_PING after its delay, DOWN_HINT with the node it names (its id
 * derived from the address, as every id here is). What dht-rpc ignores (a value too short, port 0,
 * a delay over its maximum) is dropped in silence.
 */
function internalPingOf(req: HyperRequest, head: { kind: 'request'; tid: number; id: Uint8Array; readOnly?: true }): CodecDecodeResult {
  const v = req.value;
  const ping = (args: { replyPort?: number; delayMs?: number; down?: WireContact }): CodecDecodeResult => ({ ok: true, message: { ...head, method: 'PING', ...args } as RequestMessage });
  switch (req.command) {
    case INTERNAL_COMMANDS.PING_NAT: {
      if (!v || v.length < 2) return silent('PING_NAT without a port');
      const port = new Reader(v).uint16();
      if (port === 0) return silent('PING_NAT to port 0');
      return ping({ replyPort: port });
    }
    case INTERNAL_COMMANDS.DELAYED_PING: {
      if (!v || v.length < 4) return silent('DELAYED_PING without a delay');
      const delayMs = new Reader(v).uint32();
      if (delayMs > HYPERDHT_MAX_PING_DELAY_MS) return silent(`DELAYED_PING of ${delayMs} ms (at most ${HYPERDHT_MAX_PING_DELAY_MS})`);
      return ping({ delayMs });
    }
    default: {
      // DOWN_HINT: answered whatever it names; a node it names is checked only if it has an id.
      if (!v || v.length < IPV4_ADDRESS_BYTES) return silent('DOWN_HINT without an address');
      const down = new Reader(v.subarray(0, IPV4_ADDRESS_BYTES)).ipv4();
      const id = down.port > 0 ? hyperNodeId(down) : null;
      return ping(id === null ? {} : { down: { id, host: down.host, port: down.port } });
    }
  }
}

/** An incoming request as the engine's model, or why it is not one. */
function requestOf(req: HyperRequest, from: Endpoint | undefined): CodecDecodeResult {
  const { id, member } = senderId(req.id, from);
  const head = { kind: 'request' as const, tid: req.tid, id, ...(member ? {} : { readOnly: true as const }) };
  if (!req.internal) return appRequestOf(req, head);
  switch (req.command) {
    case INTERNAL_COMMANDS.PING:
      return { ok: true, message: { ...head, method: 'PING' } as RequestMessage };
    case INTERNAL_COMMANDS.FIND_NODE:
      if (!req.target) return { ok: false, reason: 'bad-args', detail: 'FIND_NODE without a target' };
      return { ok: true, message: { ...head, method: 'FIND_NODE', target: req.target } as RequestMessage };
    case INTERNAL_COMMANDS.PING_NAT:
    case INTERNAL_COMMANDS.DELAYED_PING:
    case INTERNAL_COMMANDS.DOWN_HINT:
      return internalPingOf(req, head);
    default:
      return { ok: false, reason: 'unknown-method', detail: `internal command ${req.command} is not answered here` };
  }
}

/** An answer's value, read by the command we asked with: a record, announced peers, or nothing. */
function answerOf(command: number | undefined, m: HyperResponse, res: ResponseMessage): void {
  const v = m.value;
  if (!v) return;
  if (command === HYPERDHT_COMMANDS.IMMUTABLE_GET) {
    res.record = { type: 'immutable', value: v };
  } else if (command === HYPERDHT_COMMANDS.MUTABLE_GET) {
    // No public key in the answer: the getter supplies it (RecordModel.answersCarryPublicKey).
    const mv = decodeMutableValue(v);
    if (typeof mv !== 'string') res.record = { type: 'mutable', value: mv.value, publicKey: new Uint8Array(0), salt: new Uint8Array(0), seq: mv.seq, sig: mv.signature };
  } else if (command === HYPERDHT_COMMANDS.LOOKUP) {
    const l = decodeLookupReply(v);
    if (typeof l !== 'string') res.peers = l.peers.map(peerOf);
  }
}

function decodeWith(state: CodecState, data: Uint8Array, from: Endpoint | undefined): CodecDecodeResult {
  if (data.length === 0) return { ok: false, reason: 'empty' };
  const decoded = decodeHyperMessage(data);
  if (!decoded.ok) return { ok: false, reason: decoded.reason === 'oversize' ? 'oversize' : 'bad-header', detail: decoded.reason };
  const m = decoded.message;
  if (m.type === 'request') return requestOf(m, from);
  const { id, member } = senderId(m.id, from);
  const command = state.sent.get(m.tid);
  state.sent.delete(m.tid);
  if (m.error !== 0 && command !== undefined && READS.has(command) && m.closerNodes.length > 0) {
    // A node that does not serve a read (a bare dht-rpc node, like hyperdht's bootstrapper, answers
    // UNKNOWN_COMMAND) still names closer nodes, and dht-rpc's queries walk on through them: so do
    // we, with the answerer as a non-member (not among the closest, no write token).
    return { ok: true, message: { kind: 'response', tid: m.tid, id, observed: m.to, nodes: closerNodes(m.closerNodes), readOnly: true } };
  }
  if (m.error !== 0) {
    const code = FROM_HYPER_ERROR[m.error] ?? WIRE_ERROR.GENERIC;
    return { ok: true, message: { kind: 'error', tid: m.tid, id, code, message: `hyperdht ${errorName(m.error)}` } };
  }
  const res: ResponseMessage = { kind: 'response', tid: m.tid, id, observed: m.to, nodes: closerNodes(m.closerNodes) };
  if (m.token) res.token = m.token;
  if (!member) res.readOnly = true;
  answerOf(command, m, res);
  return { ok: true, message: res };
}

export function hyperdhtProtocol(options: HyperdhtProtocolOptions = {}): DhtProtocol {
  const state: CodecState = { id: null, sent: new Map() };
  const codec: WireCodec = {
    encode: (msg, to) => encodeWith(state, msg, to),
    decode: (data, from) => decodeWith(state, data, from),
    tidLimit: HYPERDHT_TID_LIMIT,
  };
  const ephemeral = options.ephemeral === true;
  return {
    name: 'hyperdht',
    label: 'HyperDHT (Hyperswarm)',
    idBytes: HYPERDHT_ID_BYTES,
    k: 20,
    // dht-rpc's query asks every candidate nearer than its 20th reply so far, newest first (~3k nodes
    // a lookup): in a young network it meets nodes that the 20 closest do not know yet. Converging on
    // the 2k nearest closes most of that gap at ~2k requests (README, hyperdht-500).
    lookupWidthPerK: 2,
    codec,
    // dht-rpc has no room for kadscope's CALL or BROADCAST, nor for named records (wire v2).
    capabilities: { customMethods: false, broadcast: false, namedKeys: false, sampleInfohashes: false, localAddresses: false, downHints: true },
    // Until the network says where we are, any id will do: it is never sent (see idForAddress).
    randomId: (rand: RandomBytes = cryptoRandomBytes) => rand(HYPERDHT_ID_BYTES),
    hashTopic: (text: string) => blake2b256(new TextEncoder().encode(text)),
    records: HYPERDHT_RECORDS,
    addressId: hyperNodeId,
    // Adaptive (neither ephemeral nor forced persistent): persistent only once reachable.
    probeReachability: options.ephemeral === undefined,
    idForAddress(observed: Endpoint): Uint8Array | null {
      if (ephemeral) return null;
      const id = hyperNodeId(observed);
      if (id === null) return null;
      state.id = id;
      return id;
    },
  };
}
