// Mainline DHT (BitTorrent) message shapes after decoding, and the protocol's limits.
// The codec (krpc.ts) maps them to and from one bencoded KRPC dictionary per datagram; the BEPs
// (5, 32, 42, 43, 44, 51) say what each field means. Field names follow the BEPs where they read well.

/** Mainline node ids, info hashes and BEP 44 targets are SHA-1 sized. */
export const MAINLINE_ID_BYTES = 20;
/** BEP 5's bucket size; a find_node answer carries at most this many contacts of each family. */
export const MAINLINE_K = 8;
/**
 * Largest datagram we accept. Real nodes send more than the 1,500-ish bytes the BEPs imply
 * (bittorrent-dht answers find_node with 70 contacts in 1,881 bytes); this only bounds the parse.
 */
export const MAX_MAINLINE_DATAGRAM_BYTES = 8192;
/** Largest datagram we send: fits one Ethernet frame with IPv6 and UDP headers. */
export const MAX_MAINLINE_SEND_BYTES = 1452;
/** BEP 5 says transaction ids are typically 2 bytes; libtorrent and bittorrent-dht use 2 to 4. */
export const MAX_TID_BYTES = 16;
export const MAX_TOKEN_BYTES = 64;
/** `v`, the client version: BEP 20 style, 2 letters and 2 version bytes; some send a little more. */
export const MAX_CLIENT_VERSION_BYTES = 16;
/** Method names we parse (longer ones are unknown anyway). */
export const MAX_METHOD_NAME_BYTES = 32;
/** Upper bounds on what one answer may carry, whatever the sender (the datagram bound comes first). */
export const MAX_NODES_ACCEPTED = 256;
export const MAX_VALUES_ACCEPTED = 256;
export const MAX_SAMPLES_ACCEPTED = 400;
export const MAX_ERROR_MESSAGE_CHARS = 200;
/** BEP 44: the bencoded `v` is at most 1,000 bytes; a salt at most 64. */
export const MAX_BEP44_VALUE_BYTES = 1000;
export const MAX_BEP44_SALT_BYTES = 64;
export const BEP44_PUBLIC_KEY_BYTES = 32;
export const BEP44_SIGNATURE_BYTES = 64;

/** KRPC error codes: BEP 5 (201-204) and BEP 44 (205-207, 301, 302). */
export const KRPC_ERROR = {
  GENERIC: 201,
  SERVER: 202,
  PROTOCOL: 203,
  METHOD_UNKNOWN: 204,
  MESSAGE_TOO_BIG: 205,
  INVALID_SIGNATURE: 206,
  SALT_TOO_BIG: 207,
  CAS_MISMATCH: 301,
  SEQ_TOO_LOW: 302,
} as const;

/** BEP 32: which address families of contacts a query wants back. */
export type Want = 'n4' | 'n6';

export interface MainlinePeer {
  host: string;
  port: number;
}

export interface MainlineContact extends MainlinePeer {
  /** 20 bytes. */
  id: Uint8Array;
}

/** A BEP 44 item in a put. `v` is the bencoded value, exactly as signed and hashed. */
export type PutItem =
  | { type: 'immutable'; v: Uint8Array }
  | {
      type: 'mutable';
      v: Uint8Array;
      /** 32-byte ed25519 public key. */
      k: Uint8Array;
      /** Empty for none. */
      salt: Uint8Array;
      seq: number;
      /** 64-byte signature over bep44Signable(salt, seq, v). */
      sig: Uint8Array;
    };

export type QueryArgs =
  | { method: 'ping' }
  | { method: 'find_node'; target: Uint8Array }
  | { method: 'get_peers'; infoHash: Uint8Array }
  /** impliedPort: the announced port is the UDP source port of this query (BEP 5). */
  | { method: 'announce_peer'; infoHash: Uint8Array; port: number; token: Uint8Array; impliedPort: boolean }
  /** seq: the asker already has this seq; a node may then leave the value out. */
  | { method: 'get'; target: Uint8Array; seq?: number }
  | { method: 'put'; token: Uint8Array; item: PutItem; cas?: number }
  | { method: 'sample_infohashes'; target: Uint8Array }
  /** A method we do not implement: answered with error 204. */
  | { method: 'unknown'; name: string };

interface Common {
  /** Transaction id, 1..MAX_TID_BYTES bytes, echoed as bytes. */
  tid: Uint8Array;
  /** The sender's client version (`v`), when it sent one. */
  version?: Uint8Array;
}

export type QueryMessage = Common & {
  kind: 'query';
  /** The sender's 20-byte node id. */
  id: Uint8Array;
  /** BEP 43: the sender is read-only; do not add it to the routing table. */
  readOnly: boolean;
  /** BEP 32 `want`, when the query has one. */
  want?: Want[];
} & QueryArgs;

export interface ResponseMessage extends Common {
  kind: 'response';
  id: Uint8Array;
  /** BEP 42 `ip`: the address the responder saw the query come from. */
  observed?: MainlinePeer;
  /** `nodes` (IPv4, 26 bytes each) then `nodes6` (IPv6, 38 bytes each, BEP 32). */
  nodes?: MainlineContact[];
  token?: Uint8Array;
  /** get_peers: `values`, compact peers. */
  values?: MainlinePeer[];
  /** BEP 44 get: the bencoded value, and for a mutable item its key, signature and seq. */
  v?: Uint8Array;
  k?: Uint8Array;
  sig?: Uint8Array;
  seq?: number;
  /** BEP 51. */
  samples?: Uint8Array[];
  interval?: number;
  num?: number;
}

export interface ErrorMessage extends Common {
  kind: 'error';
  code: number;
  message: string;
}

export type MainlineMessage = QueryMessage | ResponseMessage | ErrorMessage;

/** Why a Mainline datagram was dropped; every drop is counted under one of these. */
export const MAINLINE_DROP_REASONS = [
  'empty',
  'oversize',
  'not-bencode',
  'not-a-dict',
  'bad-kind',
  'bad-header',
  'bad-args',
  'bad-response',
  'bad-error',
] as const;
export type MainlineDropReason = (typeof MAINLINE_DROP_REASONS)[number];

export type MainlineDecodeResult =
  | { ok: true; message: MainlineMessage }
  | {
      ok: false;
      reason: MainlineDropReason;
      detail?: string;
      /** A query whose transaction id could be read: BEP 5 answers it with error 203. */
      replyTid?: Uint8Array;
    };
