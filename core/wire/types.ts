// Wire v1 message shapes, as the rest of core sees them after decoding. The codec (codec.ts) maps
// them to and from one CBOR map per datagram with short keys; see core/wire/README.md.

export const WIRE_VERSION = 1;
/**
 * Version 2 is version 1 plus named records (a record map with `n`). A message is written as v2
 * exactly when it carries a named record, so every other message stays readable by v1 nodes.
 */
export const WIRE_VERSION_NAMED = 2;
/** A named record's name (`n`): UTF-8 text of 1..128 bytes; its key is SHA-256 of those bytes. */
export const MAX_NAME_BYTES = 128;
/**
 * Version 3 is version 1 plus local addresses (hyperdht's LAN shortcut): an ANNOUNCE may carry the
 * announcer's private IPv4 addresses (`l`), and a GET_PEERS answer to a requester seen at an
 * announcer's public host may carry that announcer's (`pl`). A message is written as v3 exactly
 * when it carries them, so every other message stays readable by v1 and v2 nodes.
 */
export const WIRE_VERSION_LOCAL = 3;
/** Local addresses one announcement carries (`l`), and one peer in an answer (`pl`). */
export const MAX_LOCAL_ADDRESSES = 4;
/** `pl` entries in one GET_PEERS answer. */
export const MAX_PEER_LOCALS_PER_RESPONSE = 32;
/**
 * Version 4 is version 1 plus padding (`z`) on a FIND_NODE, FIND_VALUE or GET_PEERS request: bytes
 * that only make the request longer, so that a responder that has not verified our address may
 * send its whole answer at once (it answers such an address with at most 3x the request's bytes;
 * rpc/amplification.ts). A request is written as v4 exactly when it is padded, so every other
 * message stays readable by v1-v3 nodes; a v1-v3 node drops a padded request, and the requester
 * falls back to an unpadded one (rpc/rpc.ts).
 */
export const WIRE_VERSION_PADDED = 4;
/**
 * Version 5 is version 1 plus verification by echo: a responder that wants to verify a requester
 * it does not know (before it enters the routing table) may ask for an echo (`c`, a transaction id
 * of its own) in its answer, instead of sending it a PING; the requester sends back an empty
 * response with that tid, one datagram instead of a PING and its answer. Only a requester that
 * says it echoes is asked: it marks its padding (`z`, whose first byte is then 1, which v4 nodes
 * ignore). An answer is written as v5 exactly when it carries `c`.
 */
export const WIRE_VERSION_ECHO = 5;
/** The first padding byte of a request whose sender echoes (wire v5); v4 padding is all zeros. */
export const ECHO_MARK = 1;
/** The requests that may be padded: those whose answers are large. */
export const PADDABLE_METHODS: ReadonlySet<Method> = new Set<Method>(['FIND_NODE', 'FIND_VALUE', 'GET_PEERS']);
/** Largest datagram we send or accept. */
export const MAX_DATAGRAM_BYTES = 1400;
export const MAX_VALUE_BYTES = 1000;
export const MAX_SALT_BYTES = 64;
/** Upper bound on contacts in one response (k default is 20; compact IPv6 contacts are 50 bytes). */
export const MAX_NODES_PER_RESPONSE = 20;
export const MAX_PEERS_PER_RESPONSE = 32;
export const MAX_TOKEN_BYTES = 32;
export const MAX_ERROR_MESSAGE_CHARS = 200;
/** A custom method's name (CALL `n`): 1..32 characters, see CUSTOM_METHOD_NAME. */
export const MAX_CUSTOM_METHOD_NAME_CHARS = 32;
/** Lowercase, starting with a letter; dots, dashes and underscores for namespaces ("chat.say"). */
export const CUSTOM_METHOD_NAME = new RegExp(`^[a-z][a-z0-9._-]{0,${MAX_CUSTOM_METHOD_NAME_CHARS - 1}}$`);
/** CALL arguments (`b`) and result (`x`): opaque bytes, CBOR by convention (core/extensions/methods.ts). */
export const MAX_CALL_BYTES = 1000;
/** BROADCAST payload (`x`). */
export const MAX_BROADCAST_BYTES = 1000;
/** BROADCAST id (`b`): chosen at random by the origin. */
export const BROADCAST_ID_BYTES = 8;
/** The largest hop limit (`l`) a BROADCAST may carry. */
export const MAX_BROADCAST_HOPS = 64;

export const METHODS = ['PING', 'FIND_NODE', 'FIND_VALUE', 'STORE', 'ANNOUNCE', 'GET_PEERS', 'CALL', 'BROADCAST'] as const;
export type Method = (typeof METHODS)[number];

/** A node as it travels: 32-byte id and an address (compact form on the wire). */
export interface WireContact {
  id: Uint8Array;
  host: string;
  port: number;
}

export interface WirePeer {
  host: string;
  port: number;
  /**
   * HyperDHT: a peer is a public key (the address above is its first relay address, or
   * 0.0.0.0:0 when it named none). Never set by wire v1 or Mainline.
   */
  publicKey?: Uint8Array;
  /** HyperDHT: the relay addresses the peer announced with its key (at most 3). */
  relayAddresses?: WirePeer[];
  /**
   * GET_PEERS answers only (wire v3 `pl`): the announcer's local IPv4 hosts (private or loopback,
   * at most MAX_LOCAL_ADDRESSES), at the announced port. Sent only to a requester the storer saw at
   * this peer's public host, i.e. behind the same NAT.
   */
  locals?: string[];
}

/** HyperDHT: an announcement's signed peer record (records.ts there), signed for one storer. */
export interface WireAnnouncer {
  publicKey: Uint8Array;
  relayAddresses: WirePeer[];
  /** ed25519 over the storer's id and token (hyperdht's announce namespace). */
  signature: Uint8Array;
}

export type WireRecord =
  | { type: 'immutable'; value: Uint8Array }
  /**
   * A value stored at SHA-256(name) (go-dht's StoreAt; wire v2). Anyone may write any name: the
   * storer checks only that the key is the name's hash, and the last write wins.
   */
  | { type: 'named'; name: string; value: Uint8Array }
  | {
      type: 'mutable';
      value: Uint8Array;
      /** Raw 32-byte ed25519 public key. */
      publicKey: Uint8Array;
      /** 0..64 bytes; empty for none. */
      salt: Uint8Array;
      /** Non-negative safe integer. */
      seq: number;
      /** 64-byte ed25519 signature over encodeSignable(salt, seq, value). */
      sig: Uint8Array;
    };

export type RequestArgs =
  /**
   * The three fields are dht-rpc's internal commands beside PING, which the message model carries
   * as a PING (they are answered as one and counted as one); wire v1 and Mainline never carry them.
   * replyPort (PING_NAT): answer to this port of the sender's host, not the one it sent from (a
   * reachability probe sends from a second socket and waits for the answer on its first).
   * delayMs (DELAYED_PING): answer after this long (the responder bounds it, and the answers it holds).
   * down (DOWN_HINT): a node this receiver named to the sender did not answer it; the receiver pings
   * it and drops it from its table if it is gone. Its id is the one its address calls for (the
   * codec derives it; only a protocol whose ids follow the address carries these).
   */
  | { method: 'PING'; replyPort?: number; delayMs?: number; down?: WireContact }
  /**
   * sample: ask for samples of the infohashes the node stores as well (Mainline's BEP 51
   * sample_infohashes: a find_node whose answer adds samples, num and interval). Only a protocol
   * with capabilities.sampleInfohashes sends it; wire v1 never carries it.
   */
  | { method: 'FIND_NODE'; target: Uint8Array; sample?: true }
  /** seq: the asker already has this seq; a storer answers with the record only if it holds a higher one. */
  /**
   * mutable: which kind the asker wants, for protocols with a command per kind (HyperDHT's
   * IMMUTABLE_GET / MUTABLE_GET); kadscope and Mainline ignore it.
   */
  | { method: 'FIND_VALUE'; key: Uint8Array; seq?: number; mutable?: boolean }
  /** cas: compare-and-swap, store only if the stored mutable record's seq equals cas. */
  | { method: 'STORE'; key: Uint8Array; record: WireRecord; token: Uint8Array; cas?: number }
  /**
   * announcer: HyperDHT announces a signed public key instead of a port (required there, ignored
   * elsewhere). locals (wire v3 `l`): the announcer's private IPv4 hosts, 1..MAX_LOCAL_ADDRESSES,
   * reached at `port` too.
   */
  | { method: 'ANNOUNCE'; topic: Uint8Array; port: number; token: Uint8Array; announcer?: WireAnnouncer; locals?: string[] }
  | { method: 'GET_PEERS'; topic: Uint8Array }
  /** An application's own method (core/extensions/methods.ts): its name and its encoded arguments. */
  | { method: 'CALL'; name: string; args: Uint8Array }
  /**
   * A message for every node (core/extensions/broadcast.ts): the node that started it, its random
   * id, the hops it has made counting this one (1 from the origin), the hop limit the origin set,
   * and the payload.
   */
  | { method: 'BROADCAST'; origin: Uint8Array; bid: Uint8Array; hops: number; hopLimit: number; payload: Uint8Array };

interface Header {
  /** Transaction id: an unpredictable unsigned 32-bit integer chosen by the requester. */
  tid: number;
  /** The sender's 32-byte node id. */
  id: Uint8Array;
}

export type RequestMessage = Header & {
  kind: 'request';
  /**
   * The sender asks not to be added to routing tables (Mainline's BEP 43 `ro`). Never set by wire
   * v1, which has no such field; set by protocols that have one.
   */
  readOnly?: boolean;
  /**
   * The address families the sender wants contacts of (Mainline's BEP 32 `want`: n4 → 4, n6 → 6).
   * Absent: any (wire v1 never sets it).
   */
  families?: Array<4 | 6>;
  /**
   * Wire v4: bytes of padding (`z`, 1 or more) the request carries; only on a FIND_NODE,
   * FIND_VALUE or GET_PEERS request. Absent in v1-v3.
   */
  padding?: number;
  /**
   * Wire v5: the sender echoes (its padding's first byte is ECHO_MARK): a responder may ask it for
   * an echo (ResponseMessage.echo) instead of PINGing it. Only with padding.
   */
  echoes?: boolean;
} & RequestArgs;

export interface ResponseMessage extends Header {
  kind: 'response';
  /**
   * The address the responder saw the request come from (how a node learns its public address);
   * absent when the responder did not say (Mainline's `ip` is optional): unknown, never used.
   */
  observed?: WirePeer;
  /** FIND_NODE, FIND_VALUE, GET_PEERS: up to k nodes closest to the target, in compact form. */
  nodes?: WireContact[];
  /** FIND_NODE, FIND_VALUE, GET_PEERS: a write token for STORE / ANNOUNCE from this address. */
  token?: Uint8Array;
  /** FIND_VALUE: the record, when the responder holds it. */
  record?: WireRecord;
  /** GET_PEERS: announced addresses for the topic. */
  peers?: WirePeer[];
  /** CALL: the method's encoded result. */
  result?: Uint8Array;
  /** BEP 51 (Mainline's sample_infohashes answer): the sampled infohashes, and num and interval when sent. */
  sample?: SampleAnswer;
  /** The responder's software, where its protocol says (Mainline's `v`); never on wire v1. */
  client?: Uint8Array;
  /**
   * The responder is not a routing-table member: a dht-rpc node that answered without an id (or
   * with one its address does not hash to). Set only by a protocol's decoder; wire v1 never does.
   */
  readOnly?: boolean;
  /**
   * Wire v5 (`c`): the responder asks for an echo: an empty response with this transaction id,
   * which proves to it that our address receives what it sends (as an answer to its PING would).
   * Sent only to a requester that echoes (RequestMessage.echoes), on a v1 answer.
   */
  echo?: number;
}

/** What a sample_infohashes answer says besides its nodes (BEP 51). */
export interface SampleAnswer {
  /** Sampled infohashes (idBytes each). */
  samples: Uint8Array[];
  /** How many infohashes the node says it stores; undefined when it did not say. */
  num?: number;
  /** Seconds the node asks us to wait before asking it again; undefined when it did not say. */
  interval?: number;
}

export interface ErrorMessage extends Header {
  kind: 'error';
  /** A WIRE_ERROR code (core/errors.ts). */
  code: number;
  message: string;
}

export type Message = RequestMessage | ResponseMessage | ErrorMessage;

/** Why a datagram was dropped; every drop is counted under one of these. */
export const DROP_REASONS = [
  'oversize',
  'empty',
  'not-cbor',
  'not-a-map',
  'bad-version',
  'bad-kind',
  'bad-header',
  'unknown-method',
  'bad-args',
  'bad-response',
  'bad-error',
  // raised by the RPC layer rather than the decoder:
  'unexpected-response',
  'wrong-source',
  'rate-limited',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * A failure carries the request's tid when only the method was wrong (`unknown-method` with a valid
 * header), so the node can answer UNKNOWN_METHOD instead of leaving the asker to time out.
 */
export type DecodeResult = { ok: true; message: Message } | { ok: false; reason: DropReason; detail?: string; tid?: number };
