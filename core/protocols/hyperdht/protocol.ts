// HyperDHT (dht-rpc 6) as a kadscope protocol: the engine's message model (core/wire/types.ts)
// mapped to and from dht-rpc datagrams (messages.ts), so a DhtNode joins a network of real
// hyperdht nodes with the one routing table, lookup, RPC bookkeeping, health, events and traces.
//
//   PING <-> internal PING              FIND_NODE <-> internal FIND_NODE
//   response <-> response (`to`: the observed address; closer nodes: addresses, ids derived)
//   error    <-> response with an error code (dht-rpc has no separate error message)
//
// Ids: an id that a datagram carries is used only if it is BLAKE2b-256 of the datagram's source;
// otherwise (none, or one that does not fit) the sender is not a table member: its request reaches
// the engine readOnly (kept out of the table, like BEP 43's `ro`) and its answer readOnly (the
// lookup treats it as a non-member, as dht-rpc leaves id-less nodes out of the closest). Either
// way the message carries the id derived from the source, so the engine always has a 32-byte id.
// Our own id is sent only while persistent: idForAddress() makes the node persistent with the id
// of the address the network agrees on (DhtNode re-keys on it); an ephemeral protocol never is.
//
// Transaction ids are 16 bits (tidLimit); the RPC layer allocates below it. A size-only encode
// (the amplification guard's worst case tid) writes the low 16 bits.
//
// What the engine does not carry yet is answered here: DOWN_HINT is acknowledged (not yet acted
// on), PING_NAT and DELAYED_PING get no answer (a prober counts us as not confirming). hyperdht's
// reads (LOOKUP, FIND_PEER, IMMUTABLE_GET, MUTABLE_GET) reach the engine as FIND_NODE, so they are
// answered with closer nodes and no value, as by a node that holds nothing; its writes (ANNOUNCE,
// UNANNOUNCE, *_PUT) get hyperdht's silent refusal, and no answer carries a write token. The
// records themselves are HyperDhtNode's (node.ts) until the record model sits on DhtProtocol.
import { DhtError, WIRE_ERROR } from '../../errors';
import { cryptoRandomBytes, type RandomBytes } from '../../id';
import type { Endpoint } from '../../transport/types';
import type { Message, RequestMessage, ResponseMessage, WireContact } from '../../wire/types';
import type { CodecDecodeResult, DhtProtocol, WireCodec } from '../protocol';
import { blake2b256, equalBytes, hyperNodeId } from './crypto';
import {
  HYPERDHT_COMMANDS,
  HYPERDHT_ERRORS,
  HYPERDHT_ID_BYTES,
  INTERNAL_COMMANDS,
  decodeHyperMessage,
  encodeHyperRequest,
  encodeHyperResponse,
  type HyperRequest,
} from './messages';

export const HYPERDHT_TID_LIMIT = 0x1_0000;
/** Stands in for the destination when a caller only measures a message (same 6 bytes on the wire). */
const SIZE_ONLY_ADDRESS: Endpoint = Object.freeze({ host: '0.0.0.0', port: 1 });
const ZERO_ID = new Uint8Array(HYPERDHT_ID_BYTES);

export interface HyperdhtProtocolOptions {
  /** Stay a client: never send an id, never enter others' tables (one-shot commands). */
  ephemeral?: boolean;
}

/** The persistent id we send, shared by a protocol object's codec and idForAddress(). */
interface IdState {
  id: Uint8Array | null;
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

function encodeWith(state: IdState, msg: Message, to: Endpoint | undefined): Uint8Array {
  const tid = msg.tid % HYPERDHT_TID_LIMIT;
  const ours = state.id !== null && equalBytes(state.id, msg.id) ? state.id : null;
  try {
    if (msg.kind === 'error') {
      return encodeHyperResponse({ tid, to: to ?? SIZE_ONLY_ADDRESS, id: ours, token: null, closerNodes: [], error: TO_HYPER_ERROR[msg.code] ?? HYPERDHT_ERRORS.UNKNOWN_COMMAND, value: null });
    }
    if (msg.kind === 'response') {
      const closer = (msg.nodes ?? []).filter((n) => hyperNodeId(n) !== null);
      return encodeHyperResponse({ tid, to: msg.observed ?? to ?? SIZE_ONLY_ADDRESS, id: ours, token: null, closerNodes: closer, error: 0, value: null });
    }
    const head = { tid, to: to ?? SIZE_ONLY_ADDRESS, id: ours, token: null, internal: true, value: null };
    switch (msg.method) {
      case 'PING':
        return encodeHyperRequest({ ...head, command: INTERNAL_COMMANDS.PING, target: null });
      case 'FIND_NODE':
        return encodeHyperRequest({ ...head, command: INTERNAL_COMMANDS.FIND_NODE, target: msg.target });
      default:
        throw DhtError.invalidArgument(`HyperDHT through DhtNode carries PING and FIND_NODE; ${msg.method} goes through HyperDhtNode for now`);
    }
  } catch (e) {
    if (e instanceof DhtError) throw e;
    throw DhtError.invalidArgument(`hyperdht: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** An incoming request as the engine's model, or why it is not one (and an answer, if it gets one). */
function requestOf(req: HyperRequest, from: Endpoint | undefined, state: IdState): CodecDecodeResult {
  const { id, member } = senderId(req.id, from);
  const head = { kind: 'request' as const, tid: req.tid, id, ...(member ? {} : { readOnly: true }) };
  if (req.internal) {
    switch (req.command) {
      case INTERNAL_COMMANDS.PING:
        return { ok: true, message: { ...head, method: 'PING' } as RequestMessage };
      case INTERNAL_COMMANDS.FIND_NODE:
        if (!req.target) return { ok: false, reason: 'bad-args', detail: 'FIND_NODE without a target' };
        return { ok: true, message: { ...head, method: 'FIND_NODE', target: req.target } as RequestMessage };
      case INTERNAL_COMMANDS.DOWN_HINT:
        if (!from) return { ok: false, reason: 'bad-args', detail: 'DOWN_HINT from nowhere' };
        return { ok: false, reason: 'unknown-method', detail: 'DOWN_HINT (acknowledged)', reply: encodeHyperResponse({ tid: req.tid, to: from, id: state.id, token: null, closerNodes: [], error: 0, value: null }) };
      default:
        return { ok: false, reason: 'unknown-method', detail: `internal command ${req.command} is not answered here` };
    }
  }
  switch (req.command) {
    case HYPERDHT_COMMANDS.LOOKUP:
    case HYPERDHT_COMMANDS.FIND_PEER:
    case HYPERDHT_COMMANDS.IMMUTABLE_GET:
    case HYPERDHT_COMMANDS.MUTABLE_GET:
      if (!req.target) return { ok: false, reason: 'bad-args', detail: 'a read without a target' };
      return { ok: true, message: { ...head, method: 'FIND_NODE', target: req.target } as RequestMessage };
    default:
      return { ok: false, reason: 'unknown-method', detail: `hyperdht command ${req.command} is refused in silence (no records here yet)` };
  }
}

function decodeWith(state: IdState, data: Uint8Array, from: Endpoint | undefined): CodecDecodeResult {
  if (data.length === 0) return { ok: false, reason: 'empty' };
  const decoded = decodeHyperMessage(data);
  if (!decoded.ok) return { ok: false, reason: decoded.reason === 'oversize' ? 'oversize' : 'bad-header', detail: decoded.reason };
  const m = decoded.message;
  if (m.type === 'request') return requestOf(m, from, state);
  const { id, member } = senderId(m.id, from);
  if (m.error !== 0) {
    const code = FROM_HYPER_ERROR[m.error] ?? WIRE_ERROR.GENERIC;
    return { ok: true, message: { kind: 'error', tid: m.tid, id, code, message: `hyperdht error ${m.error}` } };
  }
  const res: ResponseMessage = { kind: 'response', tid: m.tid, id, observed: m.to, nodes: closerNodes(m.closerNodes) };
  if (m.token) res.token = m.token;
  if (!member) res.readOnly = true;
  return { ok: true, message: res };
}

export function hyperdhtProtocol(options: HyperdhtProtocolOptions = {}): DhtProtocol {
  const state: IdState = { id: null };
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
    codec,
    // dht-rpc has no room for kadscope's CALL or BROADCAST, nor for named records (wire v2).
    capabilities: { customMethods: false, broadcast: false, namedKeys: false },
    // Until the network says where we are, any id will do: it is never sent (see idForAddress).
    randomId: (rand: RandomBytes = cryptoRandomBytes) => rand(HYPERDHT_ID_BYTES),
    hashTopic: (text: string) => blake2b256(new TextEncoder().encode(text)),
    addressId: hyperNodeId,
    idForAddress(observed: Endpoint): Uint8Array | null {
      if (ephemeral) return null;
      const id = hyperNodeId(observed);
      if (id === null) return null;
      state.id = id;
      return id;
    },
  };
}
