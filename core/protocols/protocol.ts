// The protocol seam: what differs between the DHTs a node can speak. One engine (routing table,
// lookup, health, RPC bookkeeping, rate limits, amplification guard, events, traces) runs every
// protocol; a protocol supplies its id length, its codec and its limits.
//
// The engine speaks one message model, wire v1's (core/wire/types.ts: PING, FIND_NODE,
// FIND_VALUE, STORE, ANNOUNCE, GET_PEERS with numeric transaction ids). A protocol's codec maps
// that model to and from its own datagrams: kadscope's codec is the model's own encoding; Mainline's
// (mainline/protocol.ts) translates to KRPC. What a protocol has beyond the model (Mainline's
// sample_infohashes, unknown methods) its codec answers itself with `reply`.
//
// How to add a protocol: see core/protocols/README.md.
import { decodeMessage, encodeMessage, paddingFor } from '../wire/codec';
import { ID_BYTES, type RandomBytes, cryptoRandomBytes, sha256 } from '../id';
import type { Endpoint } from '../transport/types';
import { KADSCOPE_RECORDS, type RecordModel } from '../records/model';
import type { ProtocolCapabilities } from '../types';
import type { DecodeResult, DropReason, Message, WireContact } from '../wire/types';
import type { MainlineDropReason } from './mainline/types';

export type ProtocolName = 'kadscope' | 'mainline' | 'hyperdht';
export const PROTOCOL_NAMES: readonly ProtocolName[] = ['kadscope', 'mainline', 'hyperdht'];

/** Every reason a datagram can be dropped for, across protocols (Counters.dropped keys). */
export type AnyDropReason = DropReason | MainlineDropReason;

export type CodecDecodeResult =
  | DecodeResult
  | {
      ok: false;
      reason: AnyDropReason;
      detail?: string;
      /** An answer to send back to the datagram's source (a KRPC error for a bad or unknown query). */
      reply?: Uint8Array;
    }
  /**
   * A well-formed query outside the engine's method set that the protocol answered itself from
   * what the node lent it (ProtocolNodeView): Mainline's sample_infohashes (BEP 51). Not a drop.
   */
  | { ok: false; answered: true; reply: Uint8Array };

/** What a node lends its protocol for queries the protocol answers itself (see DhtProtocol.attach). */
export interface ProtocolNodeView {
  /** The node's id (its current bytes). */
  id(): Uint8Array;
  /** The node's closest routing-table contacts to target (its k); with families, the k closest of those families. */
  closest(target: Uint8Array, families?: ReadonlyArray<4 | 6>): WireContact[];
  /** Whether the node is bound to IPv4 and IPv6 at once (BEP 32: its queries then want both families). */
  dualStack(): boolean;
  /** Keys of the topics (infohashes) the node stores announcements for. */
  storedTopics(): Uint8Array[];
  /** Uniform random bytes (the node's source). */
  randomBytes: RandomBytes;
}

export interface WireCodec {
  /**
   * Our own message as a datagram to `to` (dht-rpc writes the receiver's address into every
   * message). Callers that only measure a message's size may leave `to` out. Throws DhtError
   * INVALID_ARGUMENT for anything out of range.
   */
  encode(msg: Message, to?: Endpoint): Uint8Array;
  /** A datagram from the network, and where it came from. Never throws. */
  decode(data: Uint8Array, from?: Endpoint): CodecDecodeResult;
  /** Transaction ids the wire carries are below this (dht-rpc: 2^16); unset: any uint32. */
  readonly tidLimit?: number;
  /** The largest answer this protocol sends (Mainline: 1,452); unset: wire v1's MAX_DATAGRAM_BYTES (1,400). */
  readonly maxDatagramBytes?: number;
  /**
   * Codecs that can pad a request (kadscope's wire v4; encode() writes RequestMessage.padding):
   * the padding that makes a request of `plainBytes` at least `minBytes` long. Unset: no padding.
   */
  readonly paddingFor?: (plainBytes: number, minBytes: number) => number;
}

export interface DhtProtocol {
  readonly name: ProtocolName;
  /** What people call the network, for the header and logs. */
  readonly label: string;
  /** Node ids, keys and topics are this many bytes. */
  readonly idBytes: number;
  /** Default bucket size and contacts per answer. */
  readonly k: number;
  /**
   * A lookup ends once this many times k of the nearest nodes have answered (its result is still the
   * k closest; DhtNodeOptions.lookupWidth overrides it). Unset: 1. HyperDHT and Mainline: 2, because
   * their reference clients ask ~3-4k nodes and so meet nodes that the k closest do not know yet
   * (bench hyperdht-500, mainline-500).
   */
  readonly lookupWidthPerK?: number;
  readonly codec: WireCodec;
  /** What the protocol has room for beyond the message model (custom methods, broadcast). */
  readonly capabilities: ProtocolCapabilities;
  /** A fresh random node id. */
  randomId(rand?: RandomBytes): Uint8Array;
  /** A text topic's key (kadscope SHA-256, Mainline SHA-1): idBytes long. */
  hashTopic(text: string): Uint8Array;
  /** Whether a peer's id fits its address (Mainline: BEP 42); absent where ids are free. */
  idCompliance?(id: Uint8Array, host: string): 'compliant' | 'exempt' | 'non-compliant';
  /** A peer's software version as it sent it, for people (Mainline's `v`). */
  describeClient?(version: Uint8Array): string;
  /** The record model (keys, signed bytes, limits, where tokens come from); default kadscope's. */
  readonly records?: RecordModel;
  /**
   * The longest datagram this network's peers may send us. Unset: within udx-native's 2,048-byte
   * read (kadscope's own stay under 1,400; dht-rpc's peers run on udx-native themselves). Where it
   * is longer (Mainline: bittorrent-dht answers a find_node with up to ~3 KB) a node's UDP socket
   * is never udx-native by default: the native binding or node:dgram, which read any size
   * (transport/socket-layer.ts, selectSocketLayer).
   */
  readonly peerDatagramBytes?: number;
  /**
   * For a protocol whose node id follows the node's address (dht-rpc: BLAKE2b-256 of ip:port as
   * others see it): the id to take now that the network agrees on our address, or null to keep
   * the one we have (an ephemeral node, or an address that has no id). Mainline (BEP 42): a
   * compliant id for a public address when `current` does not comply; null on exempt addresses.
   */
  idForAddress?(observed: Endpoint, current: Uint8Array, rand: RandomBytes): Uint8Array | null;
  /**
   * For such a protocol: the node takes that id only once it has shown that the network reaches it
   * there unasked (dht-rpc's adaptive mode). DhtNode asks up to REACHABILITY_PROBE_PEERS peers to
   * answer a PING sent from a second socket (Transport.sibling) at its first one (`replyPort`:
   * dht-rpc's PING_NAT), and calls idForAddress only when enough answers got through. Unset: the
   * id is taken as soon as the network agrees on the address.
   */
  readonly probeReachability?: boolean;
  /** For such a protocol: the id an address must carry (pure), or null when it can have none. */
  addressId?(address: Endpoint): Uint8Array | null;
  /**
   * The node lends the protocol a view of itself, for queries the protocol answers on its own
   * (Mainline: BEP 51 sample_infohashes). One node per protocol object: the last attach wins.
   */
  attach?(node: ProtocolNodeView): void;
}

export const kadscopeCodec: WireCodec = { encode: encodeMessage, decode: decodeMessage, paddingFor };

export const KADSCOPE_PROTOCOL: DhtProtocol = {
  name: 'kadscope',
  label: 'kadscope',
  idBytes: ID_BYTES,
  k: 20,
  codec: kadscopeCodec,
  capabilities: Object.freeze({ customMethods: true, broadcast: true, namedKeys: true, sampleInfohashes: false, localAddresses: true, downHints: false }),
  randomId: (rand = cryptoRandomBytes) => rand(ID_BYTES),
  hashTopic: (text) => sha256(text),
  records: KADSCOPE_RECORDS,
};
