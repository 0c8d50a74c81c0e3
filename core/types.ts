// The public shapes of core/: what DhtNode returns, emits and snapshots. Plain data with ids as
// hex strings, so the hosts can pass them to the UI nearly unchanged.
import type { Endpoint } from './transport/types';
import type { BroadcastInfo } from './extensions/broadcast';
import type { AnyDropReason } from './protocols/protocol';
import type { Method } from './wire/types';

/**
 * What a node's protocol has room for. kadscope's own protocol (wire v1) has all of it; a node
 * speaking another network's protocol declares what that protocol can carry, and DhtNode refuses
 * the rest with UNSUPPORTED (see DhtNode.capabilities).
 */
export interface ProtocolCapabilities {
  /** Application methods called on peers (CALL). */
  customMethods: boolean;
  /** Whole-network broadcast (BROADCAST). */
  broadcast: boolean;
  /** Values stored at the hash of a name (wire v2's named records). */
  namedKeys: boolean;
  /** Asking a node for samples of the infohashes it stores (Mainline's BEP 51 sample_infohashes). */
  sampleInfohashes: boolean;
  /** Announcements carry the announcer's local addresses for peers behind the same NAT (wire v3). */
  localAddresses: boolean;
  /**
   * Telling the nodes that named a peer to us that it did not answer (dht-rpc's DOWN_HINT, a PING
   * with `down` in the message model), so that they check it and drop it if it is gone.
   */
  downHints: boolean;
}

/** A node on the network: hex id and address. */
export interface Contact {
  id: string;
  host: string;
  port: number;
}

export type HealthState = 'good' | 'questionable' | 'bad' | 'unknown';

export interface PeerHealth {
  state: HealthState;
  /**
   * Smoothed round-trip time (EWMA), ms; null before the first answer. A routing-table entry keeps
   * it in whole microseconds below 4.096 ms and to 1 part in 4,096 above (core/routing/entry.ts).
   */
  rttMs: number | null;
  /** Clock ms of the last datagram from this peer that we accepted; null if never. */
  lastSeen: number | null;
  /** Consecutive requests without an answer; reset by any answer (a routing-table entry stops counting at 127). */
  failures: number;
  /**
   * Answers received / requests sent, over the peer's lifetime in our table. A routing-table entry
   * keeps each in 15 bits: when either would pass 32,767 both halve, so the ratio stays and the
   * counts become a window on the last ~32,000 requests.
   */
  answered: number;
  queried: number;
}

export interface PeerInfo extends Contact, PeerHealth {
  bucket: number;
  /** The software it said it runs (Mainline's `v`, e.g. "KS 0.1", "LT 1.2"), once it answered with one. */
  client?: string;
  /** Whether its id fits its address by the protocol's rule (Mainline: BEP 42; loopback and private addresses exempt). */
  idCompliance?: 'compliant' | 'exempt' | 'non-compliant';
  /** Clock ms when it entered our routing table. */
  addedAt: number;
  /** A protocol whose ids are derived from the address (HyperDHT): whether this one's is. */
  idMatchesAddress?: boolean;
}

export interface BucketInfo {
  /** Shared-prefix length with our id: 0 is the far half of the space, 255 the nearest. */
  index: number;
  peers: PeerInfo[];
  /** Candidates waiting for a slot, newest last. */
  replacements: Contact[];
  /** Clock ms of the last lookup into this bucket's range (or its creation). */
  lastRefresh: number;
}

export interface MethodCounters {
  /** Requests we sent of this method. */
  sent: number;
  /** Responses we got to them. */
  responses: number;
  timeouts: number;
  /** ERROR replies we got. */
  errors: number;
  /** Requests of this method other nodes sent us. */
  received: number;
}

export interface Counters {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  /** Datagrams dropped, by reason (decode failures, wrong source, rate limit, ...). */
  dropped: Partial<Record<AnyDropReason, number>>;
  /**
   * Of the dropped datagrams, the requests we could not serve but still answered with an error
   * (an unknown method number; KRPC 203/204), so the asker need not time out.
   */
  refusalsAnswered?: number;
  /**
   * Echoes sent (wire v5): answers that asked us to prove our address with an empty response
   * instead of answering a PING. Absent until the first.
   */
  echoesSent?: number;
  /**
   * Our answers that asked an unknown requester for an echo (wire v5) to verify it. Each is counted
   * in rpc.PING.sent as well, as the verification it is (a PING datagram goes out only if no echo
   * comes back in time). Absent until the first.
   */
  echoRequests?: number;
  rpc: Record<Method, MethodCounters>;
  /**
   * CALLs by custom method name (also counted under rpc.CALL): calls we made by name; calls we got
   * under the name if it is registered here, else under '(unregistered)'. At most 64 rows and '(other)'.
   */
  custom?: Record<string, MethodCounters>;
  /** Requests waiting for an answer right now. */
  inFlight: number;
}

export interface NodeSnapshot {
  id: string;
  address: Endpoint;
  /** Every bound address when there are several (a dual-stack node: IPv4, then IPv6). */
  addresses?: Endpoint[];
  /** Our address as most recent answering peers saw it; null before any answer. */
  observedAddress: Endpoint | null;
  /** The UDP socket layer the node runs on ('kadscope-native', 'udx-native' or 'node:dgram'); absent on the memory network. */
  socketLayer?: string;
  startedAt: number;
  now: number;
  k: number;
  alpha: number;
  buckets: BucketInfo[];
  peers: PeerInfo[];
  counters: Counters;
  /** Estimated number of nodes in the network, from the density of ids near us. */
  estimatedNetworkSize: number;
  /** Whether routing-table IP diversity limits are enforced (off on loopback / private test networks). */
  diversityLimits: boolean;
  /** The records this node holds (for others and its own), live ones only. */
  records?: RecordInfo[];
  /** The network's protocol: its name ('kadscope', 'mainline'), what people call it, and its id length. */
  protocol?: { name: string; label: string; idBytes: number };
}

export type LookupKind = 'find-node' | 'find-value' | 'get-peers';

export type LookupTermination =
  /** The k closest nodes seen (the lookup's width: DhtNodeOptions.lookupWidth) have all answered or failed. */
  | 'converged'
  /** find-value: a valid value was found. */
  | 'value-found'
  /** Every candidate was tried and fewer than k answered. */
  | 'exhausted'
  /** We knew no peers to start from. */
  | 'no-peers'
  | 'aborted'
  /** The whole-lookup deadline passed. */
  | 'timeout';

interface LookupEventBase {
  lookupId: string;
  /** Clock ms. */
  at: number;
}

export type LookupEvent =
  | (LookupEventBase & {
      type: 'started';
      kind: LookupKind;
      target: string;
      self: string;
      k: number;
      alpha: number;
      rpcTimeoutMs: number;
      /** The whole lookup's deadline, ms (it ends with 'timeout' after this). */
      lookupTimeoutMs?: number;
      /** The peers the lookup begins from, closest first. */
      seeds: Contact[];
      /** The network's protocol ('kadscope', 'mainline', ...); absent means kadscope. */
      protocol?: string;
      /**
       * The live candidates that must have answered before the lookup ends, when more than k
       * (Mainline and HyperDHT: 2k; DhtNodeOptions.lookupWidth); absent means k. The result is
       * still the k closest.
       */
      width?: number;
    })
  | (LookupEventBase & { type: 'query'; peer: Contact; hop: number; bytes: number })
  | (LookupEventBase & {
      type: 'response';
      peer: Contact;
      hop: number;
      rttMs: number;
      bytes: number;
      /** The nodes this peer returned, as it sent them. */
      nodes: Contact[];
      /** find-value: the peer answered with a record. */
      hasValue?: boolean;
      /** get-peers: how many announced peers it returned. */
      peerCount?: number;
    })
  | (LookupEventBase & { type: 'timeout'; peer: Contact; hop: number; afterMs: number })
  | (LookupEventBase & { type: 'error'; peer: Contact; hop: number; code: string; message: string })
  | (LookupEventBase & {
      type: 'done';
      reason: LookupTermination;
      /** The k closest nodes that answered, nearest first. */
      closest: Contact[];
      /** Longest chain of referrals from a seed to an answering node. */
      hops: number;
      /** Requests sent. */
      messages: number;
      durationMs: number;
      /** Time from start until the final closest set was complete, ms. */
      timeToClosestMs: number;
    });

export interface FindNodeResult {
  closest: Contact[];
  hops: number;
  messages: number;
  durationMs: number;
  reason: LookupTermination;
}

export interface PingResult {
  id: string;
  rttMs: number;
  /** How the peer saw our address; undefined when it did not say (a Mainline answer without `ip`). */
  observed?: Endpoint;
}

export interface NodeEvents {
  'peer-added': PeerInfo;
  'peer-removed': { id: string; host: string; port: number; reason: 'evicted' | 'replaced' | 'failed' | 'stopped' };
  'peer-health': PeerInfo;
  lookup: LookupEvent;
  'observed-address': Endpoint;
  /** The node took another id: a protocol whose id follows the address (dht-rpc) saw it change. */
  'id-changed': { from: string; to: string; reason: string };
  /**
   * A reachability probe ended (a protocol that turns persistent only when reachable: dht-rpc's
   * adaptive mode): whether `asked` peers reached us at `address` from a socket they never heard
   * from (`answered` of them did), and why that is the verdict.
   */
  reachability: { address: Endpoint; reachable: boolean; asked: number; answered: number; reason: string };
  /** A record was stored here or refreshed (a STORE we accepted, or our own put). */
  'record-stored': RecordInfo;
  /** A record reached its expiry without being refreshed and was dropped. */
  'record-expired': RecordInfo;
  /** We refused a STORE or ANNOUNCE: `code` is the refusal sent back, `reason` says why. */
  'record-refused': RecordRefusal;
  /** A broadcast reached us (once per broadcast: duplicates are suppressed). */
  broadcast: BroadcastInfo;
  /** A custom method call (CALL) ended: one we made, or one we answered. */
  call: CallInfo;
}

/** One custom method call (CALL), sent or answered: the explorer's call log. */
export interface CallInfo {
  direction: 'sent' | 'received';
  /** The method's name as it travelled. */
  name: string;
  /** The other end: its id (as its answer's header claims; for a sent call, null when nothing came back) and address. */
  peer: { id: string | null; host: string; port: number };
  /** Clock ms when the call ended. */
  at: number;
  /** Sent: until the answer (or the failure); received: the handler's time. */
  durationMs: number;
  /** 'ok', or the code of the refusal or failure (UNKNOWN_METHOD, PROTOCOL, REMOTE_ERROR, TIMEOUT, ...). */
  outcome: string;
  /** The refusal's or failure's message. */
  message?: string;
}

export interface RecordRefusal {
  /** Hex record key (STORE) or topic key (ANNOUNCE). */
  key: string;
  method: 'STORE' | 'ANNOUNCE';
  /** The DhtErrorCode sent back (INVALID_TOKEN, SEQ_TOO_LOW, STORE_FULL, ...). */
  code: string;
  reason: string;
  /** host:port of the requester. */
  from: string;
}

/** A record this node holds, as the Records view lists it (core/records/store.ts toRecordInfo). */
export interface RecordInfo {
  /** Hex of the 32-byte key. */
  key: string;
  type: 'immutable' | 'mutable' | 'named';
  /** Named only: the name whose SHA-256 is the key. */
  name?: string;
  /** Value length in bytes. */
  size: number;
  /** Mutable only. */
  seq?: number;
  /** Mutable only: hex of the raw ed25519 public key. */
  publicKey?: string;
  /** Mutable only: hex of the salt ('' for none). */
  salt?: string;
  /** Clock ms when the current content was stored. */
  storedAt: number;
  /** Time left before it expires unless republished, ms (0 when due). */
  expiresInMs: number;
  /** host:port of the address that stored it here; absent for our own puts. */
  publisher?: string;
  /** We published it (and republish it). */
  local: boolean;
}
