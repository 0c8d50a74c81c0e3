// DhtNode: the facade that owns all I/O (ARCHITECTURE.md, habit 1). The routing table and record store are
// pure data structures; the node feeds them what the network says, pings when a full bucket asks,
// runs lookups, answers requests and keeps the maintenance timers.
import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { parseAddress } from './address';
import { isPrivateIPv4, localAddresses, type LocalInterface } from './local-address';
import { systemClock, type Clock, type TimerHandle } from './clock';
import { DhtError } from './errors';
import { TypedEmitter, withListener, withoutListener } from './events';
import {
  bucketIndex,
  bytesToHex,
  cryptoRandomBytes,
  idFromHex,
  hexToBytes,
  isIdHex,
  randomIdInBucket,
  type RandomBytes,
} from './id';
import { Broadcaster, checkBroadcastOptions, NO_BROADCASTS, type BroadcastInfo, type BroadcastOptions, type BroadcastResult, type BroadcastStats } from './extensions/broadcast';
import { CustomMethods, decodeCallValue, encodeCallValue, type CallResult, type CustomMethod, type CustomMethodInfo } from './extensions/methods';
import { KADSCOPE_PROTOCOL, type DhtProtocol, type ProtocolName } from './protocols/protocol';
import { hyperdhtProtocol } from './protocols/hyperdht/protocol';
import { mainlineProtocol } from './protocols/mainline/protocol';
import { healthState, isBad } from './health/health';
import { Lookup, type LookupPeer, type QueryAnswer, type QueryFn } from './lookup/lookup';
import { readSavedNodeId, type PersistedPeer } from './persist/state';
import type { RecordClient } from './records/client';
import type { RecordEventName, RecordLayerDeps, RecordOptions } from './records/config';
import type { KeyPairRegistry } from './records/keys';
import { RecordLayer } from './records/layer';
import { LookupStats } from './metrics/lookup-stats';
import type { NodeMetrics } from './metrics/node-metrics';
import type { RecordValidator, StorePolicy } from './records/policy';
import { AmplificationGuard, LEGACY_READER_TTL_MS, LEGACY_READERS, paddedRequestBytes, VerifiedAddresses, VERIFY_TIMEOUT_MS, type AmplificationOptions } from './rpc/amplification';
import { RateLimiter, type RateLimitOptions } from './rpc/rate-limit';
import { RetryPolicy } from './rpc/loss';
import { Rpc, RPC_RETRIES, RPC_TIMEOUT_MS, type EchoSlot, type HandlerResult, type RequestOptions, type RpcResult } from './rpc/rpc';
import { idHex } from './rpc/id-hex';
import { isLoopbackOrPrivate, RoutingTable, sharedAddressKey, toPeerInfo, type RoutingEntry } from './routing';
import { DualStackTransport, reachesFamily } from './transport/dual';
import type { SocketLayerChoice } from './transport/socket-layer';
import { UdpTransport } from './transport/udp';
import type { TransportStats } from './transport/stats';
import { endpointKey, type Endpoint, type Transport } from './transport/types';
import type {
  CallInfo,
  Contact,
  Counters,
  FindNodeResult,
  HealthState,
  LookupEvent,
  LookupKind,
  NodeEvents,
  NodeSnapshot,
  PeerInfo,
  PingResult,
  ProtocolCapabilities,
} from './types';
import { CUSTOM_METHOD_NAME, MAX_LOCAL_ADDRESSES, PADDABLE_METHODS, type RequestArgs, type RequestMessage, type SampleAnswer, type WireContact } from './wire/types';
import { LazyMap, LazySet } from './lazy-map';

export const K = 20;
export const ALPHA = 3;
/** The widest lookup a node may be set to (DhtNodeOptions.lookupWidth). */
export const MAX_LOOKUP_WIDTH = 100;
export const BUCKET_REFRESH_MS = 15 * 60_000;
export const MAINTENANCE_INTERVAL_MS = 60_000;
/** Unknown nodes that sent us requests and that we are pinging to verify, at most. */
export const MAX_VERIFYING = 256;
/** Recent observations of our own address, for the majority vote. */
export const OBSERVED_ADDRESS_WINDOW = 16;
/** Concurrent bucket-refresh lookups during bootstrap and maintenance. */
export const REFRESH_CONCURRENCY = 3;
/**
 * A join's refresh of a bucket farther out than our k-th closest peer's converges on this many nodes
 * nearest its random target, not k (refreshAfterJoin). Every node it asks is a stranger that
 * verifies us with a PING before it answers (no amplification), so a refresh costs about two
 * requests per node asked; such a bucket holds 2k nodes or more, and 8 of them fill it enough that
 * lookups afterwards take no more messages. 500-node memory testnet (FakeClock), requests per node
 * to build and settle 216 -> 151 (seed 7) and 216 -> 152 (seed 11); messages per lookup 21.36 ->
 * 21.31 and 21.64 -> 21.48; true closest and recall 100% over 100 lookups.
 */
export const JOIN_REFRESH_K = 8;
/** adaptiveTimeout: the shortest wait for a lookup query's answer, per attempt. */
export const ADAPTIVE_TIMEOUT_MIN_MS = 250;
/** adaptiveTimeout: answers measured before the measured timeout replaces rpcTimeoutMs. */
export const ADAPTIVE_TIMEOUT_SAMPLES = 3;
/** Client versions remembered (peers that answered with Mainline's `v`). */
export const MAX_PEER_CLIENTS = 4096;
/** Bytes of a client version kept. */
const MAX_CLIENT_VERSION_BYTES = 16;
/** With no bootstrap option, the node rejoins through at most this many of its saved peers. */
export const REJOIN_PEERS = 24;
/** Bootstrap nodes kept that answered as non-members (dht-rpc's id-less first node), for the lookup after a re-key. */
const MAX_NON_MEMBER_SEEDS = 8;
/** Peers named in down hints (a PING with `down`: dht-rpc's DOWN_HINT) being checked at once, at most (dht-rpc: 10). */
export const MAX_DOWN_CHECKS = 10;
/** Down hints this node sends per window, at most (dht-rpc: 50 per 5 s tick). */
export const DOWN_HINTS_PER_WINDOW = 50;
export const DOWN_HINT_WINDOW_MS = 5_000;
/** A listener of DhtNode.subscribePeerHealth: a table member's id, health state and failures after an answer or a failure. */
export type PeerHealthFeed = (id: string, state: HealthState, failures: number) => void;

/** A user's PING: the request's arguments and options, shared by every call (nothing writes them). */
const PING_ARGS: RequestArgs = Object.freeze({ method: 'PING' });
const NO_REQUEST_OPTIONS: RequestOptions = Object.freeze({});

function toPingResult(res: RpcResult): PingResult {
  return { id: idHex(res.response.id), rttMs: res.rttMs, observed: res.response.observed };
}

/** Answers held for their delay (a PING with `delayMs`: dht-rpc's DELAYED_PING) at once; more get none. */
export const MAX_DELAYED_ANSWERS = 64;
/** The longest an answer is held (dht-rpc's maxPingDelay); a longer delay gets no answer. */
export const MAX_ANSWER_DELAY_MS = 10_000;
/** Peers a reachability probe asks (dht-rpc: 5), and how many of them must get through (dht-rpc: 3; 1 when fewer were asked). */
export const REACHABILITY_PROBE_PEERS = 5;
export const REACHABILITY_PROBE_QUORUM = 3;

/** Record options (dataDir, lifetimes, store limits) are documented in records/config.ts. */
export interface DhtNodeOptions extends RecordOptions {
  /**
   * The network's protocol (core/protocols): 'kadscope' (default, 256-bit ids) or 'mainline'
   * (BitTorrent's DHT, 160-bit ids), or a protocol object. Ids given to the node (id, lookup
   * targets) must have the protocol's length.
   */
  protocol?: ProtocolName | DhtProtocol;
  /** Address to bind; default 127.0.0.1. Ignored when `transport` is given. */
  host?: string;
  /**
   * Also bind this IPv6 address (e.g. ::1 or ::), so the node is on IPv4 (`host`) and IPv6 at once,
   * one routing table holding peers of both families (transport/dual.ts). Ignored when `transport`
   * is given.
   */
  host6?: string;
  /** Port to bind; 0 (default) picks a free one. Ignored when `transport` is given. */
  port?: number;
  /**
   * The UDP socket layer (transport/socket-layer.ts): 'native' (kadscope's binding), 'udx'
   * (udx-native) or 'dgram' (node:dgram). Default: the first that loads, in that order, with a
   * warning when it is not the first. Ignored when `transport` is given.
   */
  socketLayer?: SocketLayerChoice;
  /** Our id in hex (64 chars for kadscope, 40 for Mainline); by default the one saved in dataDir, else random. */
  id?: string;
  k?: number;
  alpha?: number;
  /**
   * How many of the nearest nodes must have answered before a lookup ends: k to 100, default the
   * protocol's (k; HyperDHT and Mainline 2k). Results are still the k closest; a wider lookup asks more nodes.
   * Bucket refreshes converge on k.
   */
  lookupWidth?: number;
  /** Addresses to join through: `host:port` strings or endpoints. */
  bootstrap?: Array<string | Endpoint>;
  transport?: Transport;
  clock?: Clock;
  randomBytes?: RandomBytes;
  rpcTimeoutMs?: number;
  rpcRetries?: number;
  maxInFlight?: number;
  refreshIntervalMs?: number;
  maintenanceIntervalMs?: number;
  /**
   * Tell the peers that named a node to us when it does not answer (capabilities.downHints:
   * dht-rpc's DOWN_HINT). Default true where the protocol has them.
   */
  downHints?: boolean;
  /** Routing-table IP diversity limits; default: on, except when we bind a loopback or private address. */
  diversity?: boolean;
  /** Refresh the farther buckets the join lookup left below k, after joining (default true; see refreshAfterJoin). */
  refreshOnBootstrap?: boolean;
  /**
   * Look up our own id after PINGing the bootstrap addresses (default true), which fills the table
   * near us and makes us known there. A node that lives for one operation skips it: that
   * operation's own lookup finds the nodes it needs.
   */
  lookupSelfOnBootstrap?: boolean;
  /**
   * Lookup queries wait as long as the round trips this node has measured call for (RFC 6298's
   * srtt + 4 * rttvar, at least ADAPTIVE_TIMEOUT_MIN_MS, at most rpcTimeoutMs) instead of the full
   * RPC timeout. Default false. The CLI's one-shot commands turn it on: a node that lives for one
   * operation meets peers that left (earlier one-shot nodes among them) and would wait out the full
   * timeout and its retry for each.
   */
  adaptiveTimeout?: boolean;
  /**
   * Per-address token buckets on incoming requests (rpc/rate-limit.ts; default 200/s, burst 400,
   * plus a global cap). false turns them off (benchmarks).
   */
  rateLimit?: RateLimitOptions | false;
  /**
   * No amplification (rpc/amplification.ts): an unverified requester gets at most 3x its request's
   * size, or waits for our verification PING. false turns it off.
   */
  amplification?: AmplificationOptions | false;
  /**
   * Pad FIND_NODE, FIND_VALUE and GET_PEERS requests (wire v4, 310 bytes to IPv4, 394 to IPv6) so that a peer
   * that has not verified our address answers at once instead of PINGing us first: a round trip
   * less for each first contact of a lookup. Default true where the protocol's codec can pad
   * (kadscope's). A v1-v3 node drops a padded request: the retry goes unpadded, and that address is
   * asked unpadded for the next 30 minutes (LEGACY_READERS addresses remembered).
   */
  padRequests?: boolean;
  /**
   * Verify an unknown requester that says it echoes (wire v5: its padded FIND_NODE) by an echo
   * request in our answer instead of a PING: one datagram from it instead of a PING and its
   * answer. Without an echo within the verification timeout, the PING goes out as before. Default
   * true; false always PINGs.
   */
  echoVerification?: boolean;
  /** Broadcast hop limit and rate limits (extensions/broadcast.ts). */
  broadcast?: BroadcastOptions;
  /**
   * The machine's network interfaces, read for the local addresses our announcements carry (wire
   * v3, core/local-address.ts); default node:os networkInterfaces(). Return [] to share none.
   */
  interfaces?: () => LocalInterface[];
}

/** node:os networkInterfaces() as local-address.ts reads it. */
export function osInterfaces(): LocalInterface[] {
  const out: LocalInterface[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const n of list ?? []) out.push({ host: n.address, family: n.family === 'IPv6' ? 6 : 4, internal: n.internal });
  }
  return out;
}

/** kadscope's own protocol carries everything. */
export const KADSCOPE_CAPABILITIES: ProtocolCapabilities = KADSCOPE_PROTOCOL.capabilities;

/** A sample_infohashes answer (DhtNode.sampleInfohashesAt): find_node's fields plus BEP 51's. */
export interface SampleInfohashesAnswer {
  id: Uint8Array;
  nodes: WireContact[];
  rttMs: number;
  /** The responder's `v`. */
  client?: Uint8Array;
  /** Samples, num and interval; null when the answer carried no samples. */
  sample: SampleAnswer | null;
}

export interface BootstrapResult {
  /** Bootstrap addresses that answered our PING. */
  reached: Contact[];
  failed: Array<{ address: string; error: string }>;
  /** Peers in the routing table after the join lookups. */
  peers: number;
}

export interface StartResult {
  /** One line per problem found in the data directory (a corrupt file moved aside, records dropped). */
  warnings: string[];
  /** How the node joined: the bootstrap option, the peers saved in dataDir, or not at all. */
  joinedVia: 'bootstrap' | 'saved-peers' | null;
  join: BootstrapResult | null;
}

export interface LookupOptions {
  signal?: AbortSignal;
  kind?: LookupKind;
  timeoutMs?: number;
}

/** The protocol a node's options name. */
export function resolveProtocol(p: DhtNodeOptions['protocol']): DhtProtocol {
  if (p === undefined || p === 'kadscope') return KADSCOPE_PROTOCOL;
  if (p === 'mainline') return mainlineProtocol();
  if (p === 'hyperdht') return hyperdhtProtocol();
  if (typeof p === 'object' && p !== null && typeof p.codec === 'object') return p;
  throw DhtError.invalidArgument(`protocol must be "kadscope", "mainline" or "hyperdht"; got ${JSON.stringify(String(p)).slice(0, 40)}`);
}

function resolveOptions(o: DhtNodeOptions, protocol: DhtProtocol) {
  const k = o.k ?? protocol.k;
  const alpha = o.alpha ?? ALPHA;
  if (!Number.isInteger(k) || k < 1 || k > 20) throw DhtError.invalidArgument(`k must be an integer 1-20 (a response carries at most 20 nodes); got ${k}`);
  if (!Number.isInteger(alpha) || alpha < 1 || alpha > 16) throw DhtError.invalidArgument(`alpha must be an integer 1-16; got ${alpha}`);
  const lookupWidth = o.lookupWidth ?? k * Math.max(1, protocol.lookupWidthPerK ?? 1);
  if (!Number.isInteger(lookupWidth) || lookupWidth < k || lookupWidth > MAX_LOOKUP_WIDTH) {
    throw DhtError.invalidArgument(`lookupWidth must be an integer from k (${k}) to ${MAX_LOOKUP_WIDTH}; got ${lookupWidth}`);
  }
  return {
    k,
    alpha,
    lookupWidth,
    rpcTimeoutMs: o.rpcTimeoutMs ?? RPC_TIMEOUT_MS,
    refreshIntervalMs: o.refreshIntervalMs ?? BUCKET_REFRESH_MS,
    maintenanceIntervalMs: o.maintenanceIntervalMs ?? MAINTENANCE_INTERVAL_MS,
    refreshOnBootstrap: o.refreshOnBootstrap ?? true,
    lookupSelfOnBootstrap: o.lookupSelfOnBootstrap ?? true,
    adaptiveTimeout: o.adaptiveTimeout ?? false,
    downHints: (o.downHints ?? true) && protocol.capabilities.downHints,
    padRequests: (o.padRequests ?? true) && protocol.codec.paddingFor !== undefined,
    echoVerification: o.echoVerification ?? true,
  };
}

export class DhtNode extends TypedEmitter<NodeEvents> {
  readonly idBytes: Uint8Array;
  /** What this node speaks: id length, codec, limits (core/protocols); metrics label every figure with its name. */
  readonly protocol: DhtProtocol;
  readonly clock: Clock;
  readonly transport: Transport;
  private readonly rpc: Rpc;
  /** Replaced (same peers) only when a protocol whose id follows the address re-keys the node. */
  table: RoutingTable;
  private readonly tableOptions: ConstructorParameters<typeof RoutingTable>[1];
  /** The id came from the data directory (said so when it has to be replaced). */
  private readonly idFromDisk: boolean;
  private readonly randomBytes: RandomBytes;
  private readonly opts: ReturnType<typeof resolveOptions>;
  private readonly bootstrapList: Array<string | Endpoint>;
  private readonly interfaces: () => LocalInterface[];
  /** Records, topics, tokens, lifetimes and persistence, one part per concern (records/layer.ts). */
  private readonly storage: RecordLayer;
  /**
   * Values, mutable records and topics on the network: put, putMutable, get, announce, unannounce,
   * lookupPeers; held() lists what this node holds. Operations need a running node.
   */
  readonly records: RecordClient;
  /** The node's named ed25519 key pairs, generated on first use and saved with the identity in dataDir. */
  readonly keyPairs: KeyPairRegistry;
  /** Where the node keeps its state, or null (options.dataDir). */
  readonly dataDir: string | null;
  /** Incoming request admission (null when rateLimit: false). */
  readonly rateLimiter: RateLimiter | null;
  /** Verified addresses and the anti-amplification budget (null when amplification: false). */
  readonly amplification: AmplificationGuard | null;
  /** Application methods registered here (extensions/methods.ts). */
  private readonly customMethods = new CustomMethods();
  /**
   * Whole-network broadcast: seen-set, limits, forwarding (extensions/broadcast.ts). Made on the
   * first broadcast started or received (most nodes never see one: its limits, seen-set and
   * callbacks were ~1 KB of every node's heap); its options are checked in the constructor.
   */
  private broadcasterMade: Broadcaster | null = null;
  private readonly broadcastOptions: BroadcastOptions | undefined;

  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private startedAtMs = 0;
  private maintenanceTimer: TimerHandle | null = null;
  private readonly lifetime = new AbortController();
  /** Listeners of subscribePeerHealth; replaced, never changed, when one comes or goes. */
  private healthFeed: ReadonlyArray<PeerHealthFeed> = [];
  private readonly pingingOldest = new LazySet<string>();
  /** Peers with an unanswered request that we are PINGing until they answer or turn bad. */
  private readonly rechecking = new LazySet<string>();
  /** Sends (bounded, deduplicated) verification PINGs and remembers verified addresses. */
  private readonly verifier: AmplificationGuard;
  /** Addresses that answered only an unpadded retry (they read wire v1-v3): asked unpadded for a while. Made on first use. */
  private legacyReaders: VerifiedAddresses | null = null;
  /** Retries for lookups and record requests, raised when answers show packet loss (rpc/loss.ts). */
  private readonly retryPolicy: RetryPolicy;
  /** The policy's retries for a request started now (RequestOptions.retriesNow), bound once. */
  private readonly retriesNow: () => number;
  /** RFC 6298 round-trip estimate over every answer (adaptiveTimeout). */
  private readonly rtt = { srtt: 0, rttvar: 0, samples: 0 };
  /** Peers' client versions (peer id -> described `v`), oldest first; at most MAX_PEER_CLIENTS. */
  private readonly peerClients = new LazyMap<string, string>();
  private readonly observedVotes: string[] = [];
  private readonly observedCounts = new LazyMap<string, number>();
  private observed: Endpoint | null = null;
  private idAdopted = false;
  /** Bootstrap nodes that answered as non-members: where a lookup starts while the table is empty. */
  private nonMemberSeeds: LookupPeer[] = [];
  /** The protocol gave us the id of our address (idForAddress): others keep us in their tables. */
  private addressIdHeld = false;
  /** Joins in progress (bootstrap()): a reachability probe waits for the join to end. */
  private joining = 0;
  /** The address a reachability probe last asked about (one probe per address), and the one in flight. */
  private probedAddress: string | null = null;
  private probing: Promise<boolean> | null = null;
  /** Table peers named in down hints that we are PINGing (at most MAX_DOWN_CHECKS). */
  private readonly downChecks = new LazySet<string>();
  /** Down hints sent in the current window. */
  private readonly downHintWindow = { startMs: 0, sent: 0 };
  /** Answers held for their delay, and how to release them (at most MAX_DELAYED_ANSWERS). */
  private readonly delayedAnswers = new LazyMap<TimerHandle, (body: HandlerResult) => void>();
  private refreshing = false;
  private lookupSeq = 0;
  /** The node's side of every lookup, made once (see the constructor on why not arrows). */
  private readonly lookupHooks: Required<Pick<ConstructorParameters<typeof Lookup>[0], 'onFailure' | 'accept' | 'onEvent' | 'wantsEvents' | 'onFinish'>> &
    Pick<ConstructorParameters<typeof Lookup>[0], 'onUnreachable'>;
  /** Every finished lookup by kind and outcome, with durations and messages (metrics). */
  readonly lookupStats = new LookupStats();

  static create(options: DhtNodeOptions = {}): DhtNode {
    return new DhtNode(options);
  }

  constructor(options: DhtNodeOptions = {}) {
    super();
    this.protocol = resolveProtocol(options.protocol);
    this.opts = resolveOptions(options, this.protocol);
    this.clock = options.clock ?? systemClock;
    this.randomBytes = options.randomBytes ?? cryptoRandomBytes;
    // A node with a data directory keeps its id across restarts, if the id
    // saved there is one of this protocol's.
    const idLength = this.protocol.idBytes;
    const saved = options.id === undefined && options.dataDir !== undefined ? readSavedNodeId(options.dataDir) : null;
    const savedId = saved !== null && isIdHex(saved, idLength) ? saved : null;
    this.idBytes = idFromHexOrThrow(options.id ?? savedId ?? bytesToHex(this.protocol.randomId(this.randomBytes)), idLength);
    this.transport =
      options.transport ??
      (options.host6 !== undefined
        ? new DualStackTransport({}, { host4: options.host ?? '127.0.0.1', host6: options.host6, port: options.port ?? 0, socketLayer: options.socketLayer, peerDatagramBytes: this.protocol.peerDatagramBytes })
        : new UdpTransport({}, { host: options.host ?? '127.0.0.1', port: options.port ?? 0, socketLayer: options.socketLayer, peerDatagramBytes: this.protocol.peerDatagramBytes }));
    const host = options.transport ? undefined : (options.host ?? '127.0.0.1');
    const diversity = options.diversity ?? !(host === undefined || isLoopbackOrPrivate(host));
    this.idFromDisk = options.id === undefined && savedId !== null;
    this.tableOptions = { idBytes: idLength, k: this.opts.k, diversity: { enabled: diversity } };
    this.table = new RoutingTable(this.idBytes, this.tableOptions);
    const limiter = options.rateLimit === false ? null : new RateLimiter({ clock: this.clock }, options.rateLimit);
    this.rateLimiter = limiter;
    // The callbacks a node hands its parts live as long as it does, so they are method shorthands
    // over `node`, not arrows: under tsx (keepNames) every named arrow is renamed with
    // Object.defineProperty, which leaves it with a 256-byte property dictionary (and costs ~300 ns
    // to create); methods keep their names without it. Measured: 3.6 KiB less heap per node.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    this.rpc = new Rpc(
      { transport: this.transport, clock: this.clock, randomBytes: this.randomBytes, selfId: this.idBytes, codec: this.protocol.codec },
      {
        timeoutMs: this.opts.rpcTimeoutMs,
        retries: options.rpcRetries,
        maxInFlight: options.maxInFlight,
        customRow(name: string, incoming: boolean): string {
          return node.customMethods.row(name, incoming);
        },
        ...(limiter
          ? {
              admit(from: Endpoint): boolean {
                return limiter.admit(endpointKey(from));
              },
            }
          : {}),
      },
    );
    // Verification PINGs are shared by the routing table (noteRequester) and the amplification guard.
    const verifyTimeoutMs = Math.min(VERIFY_TIMEOUT_MS, this.opts.rpcTimeoutMs / 2);
    this.verifier = new AmplificationGuard(
      {
        clock: this.clock,
        selfId: this.idBytes,
        encode: this.protocol.codec.encode,
        // One attempt on a clean network; more when answers show packet loss (a lost PING must not
        // keep an honest node out of our table, or make it wait for its answer).
        ping(to: Endpoint, echo?: EchoSlot): Promise<boolean> {
          // No lifetime signal: stop() closes the RPC layer, which fails it anyway, and a signal
          // costs an abort listener added and removed with every burst of first contacts.
          const options: RequestOptions = { retries: node.retryPolicy.extraRetries(), timeoutMs: verifyTimeoutMs };
          if (echo !== undefined) options.echo = echo;
          return node.request(to, { method: 'PING' }, options).then(
            () => true,
            () => false,
          );
        },
      },
      options.amplification === false ? {} : options.amplification,
    );
    this.amplification = options.amplification === false ? null : this.verifier;
    this.retryPolicy = new RetryPolicy({ baseRetries: options.rpcRetries ?? RPC_RETRIES });
    this.retriesNow = this.retryPolicy.retries.bind(this.retryPolicy);
    this.lookupHooks = {
      onFailure(peer: LookupPeer, err: DhtError): void {
        if (err.code === 'TIMEOUT') node.onPeerFailed(peer.id);
      },
      accept(c: WireContact): boolean {
        return node.acceptContact(c);
      },
      onEvent(e: LookupEvent): void {
        node.emit('lookup', e);
      },
      wantsEvents(): boolean {
        return node.has('lookup');
      },
      onFinish(kind: LookupKind, done: Extract<LookupEvent, { type: 'done' }>): void {
        node.lookupStats.record(kind, done);
      },
      ...(this.opts.downHints
        ? {
            onUnreachable(peer: LookupPeer, referrers: readonly LookupPeer[]): void {
              node.sendDownHints(peer, referrers);
            },
          }
        : {}),
    };
    this.rpc.setHandler((req, from, bytes) => this.answerRequest(req, from, bytes));
    this.rpc.onResponse = (res, from, rttMs) => {
      if (this.opts.adaptiveTimeout) this.sampleRtt(rttMs);
      // A non-member (dht-rpc's id-less answer) tells us our address but stays out of the table.
      if (res.readOnly === true) {
        this.verifier.markVerified(from);
        this.noteObserved(res.observed);
        return;
      }
      const id = idHex(res.id);
      if (res.client !== undefined) this.notePeerClient(id, res.client);
      this.onAnswered(id, res.id, from, rttMs, res.observed);
      // The guard lets a table member at its address through anyway: only other answerers need
      // remembering (a second copy of the table's addresses was a tenth of a node's heap).
      const entry = this.table.get(id);
      if (entry === undefined || entry.host !== from.host || entry.port !== from.port) this.verifier.markVerified(from, sharedAddressKey(id, from.host, from.port));
    };
    this.bootstrapList = options.bootstrap ?? [];
    this.interfaces = options.interfaces ?? osInterfaces;
    this.storage = new RecordLayer(new RecordLinks(this, this.protocol), options);
    checkBroadcastOptions(options.broadcast);
    this.broadcastOptions = options.broadcast;
    this.records = this.storage.client;
    this.keyPairs = this.storage.keys;
    this.dataDir = this.storage.persistence.dataDir;
    // Queries the protocol answers itself (Mainline's BEP 51 sample_infohashes) read the node here.
    this.protocol.attach?.({
      id: () => this.idBytes,
      closest: (target, families) => this.closestWire(target, families),
      dualStack: () => this.transport.kind === 'udp4+udp6',
      storedTopics: () => this.storage.store.topicKeys(this.clock.now()).map((hex) => hexToBytes(hex)),
      randomBytes: this.randomBytes,
    });
    // Every request and lookup listens on the node's lifetime signal; that is by design, not a leak.
    setMaxListeners(0, this.lifetime.signal);
  }

  /**
   * What this node's protocol has room for. The one place a node speaking another protocol
   * (Mainline, HyperDHT) says so: register(), call() and broadcast() refuse with UNSUPPORTED what
   * it does not carry.
   */
  get capabilities(): ProtocolCapabilities {
    return this.protocol.capabilities;
  }

  private assertCapability(what: 'customMethods' | 'broadcast'): void {
    if (this.capabilities[what]) return;
    const label = what === 'customMethods' ? 'custom RPC methods' : 'broadcast';
    throw new DhtError('UNSUPPORTED', `this node speaks the ${this.protocol.name} protocol, which has no room for ${label}`);
  }

  get id(): string {
    return bytesToHex(this.idBytes);
  }

  get address(): Endpoint {
    return this.transport.address;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /**
   * The local hosts our announcements carry beside our public address (hyperdht's rules,
   * local-address.ts): private or loopback IPv4 only, our public host left out, at most
   * MAX_LOCAL_ADDRESSES; none where the protocol has no room for them.
   */
  localHosts(): string[] {
    if (!this.protocol.capabilities.localAddresses || this.state !== 'running') return [];
    const publicHost = this.observed?.host;
    const out: string[] = [];
    for (const a of localAddresses(this.address, this.interfaces())) {
      if (out.length < MAX_LOCAL_ADDRESSES && isPrivateIPv4(a.host) && a.host !== publicHost && !out.includes(a.host)) out.push(a.host);
    }
    return out;
  }

  get observedAddress(): Endpoint | null {
    return this.observed;
  }

  /**
   * Loads the data directory (if any), binds the socket, starts maintenance and joins: through the
   * bootstrap option, or else through the peers saved in the data directory.
   */
  async start(): Promise<StartResult> {
    if (this.state !== 'new') throw new DhtError('INVALID_ARGUMENT', `start() called on a node that is ${this.state}`);
    this.state = 'starting';
    let opened: Awaited<ReturnType<RecordLayer['open']>>;
    try {
      // The data directory first: a node that cannot read its state fails before it is on the network.
      opened = await this.storage.open();
      await this.transport.bind();
    } catch (err) {
      this.state = 'stopped';
      this.rpc.close();
      await this.storage.close();
      throw err;
    }
    if (this.state !== 'starting') {
      // stop() was called while we were loading or binding.
      await this.transport.close();
      await this.storage.close();
      throw DhtError.stopped();
    }
    this.startedAtMs = this.clock.now();
    this.state = 'running';
    this.scheduleMaintenance();
    this.storage.start();
    const result: StartResult = { warnings: opened.warnings, joinedVia: null, join: null };
    if (this.bootstrapList.length > 0) {
      result.join = await this.bootstrap(this.bootstrapList);
      result.joinedVia = 'bootstrap';
    } else if (opened.savedPeers.length > 0) {
      result.join = await this.bootstrap(opened.savedPeers.slice(0, REJOIN_PEERS).map((p) => ({ host: p.host, port: p.port })));
      result.joinedVia = 'saved-peers';
    }
    // Republish what fell due while we were down, now that we have peers.
    if (result.join) this.storage.maintenance.kick();
    return result;
  }

  /**
   * Joins the network: PINGs each address (learning its id), looks up our own id, then refreshes
   * the farther buckets that lookup left below k (refreshAfterJoin). Never throws for unreachable addresses: the
   * result says which answered.
   */
  async bootstrap(addresses: Array<string | Endpoint>, signal?: AbortSignal): Promise<BootstrapResult> {
    this.assertRunning();
    const endpoints: Endpoint[] = [];
    const failed: BootstrapResult['failed'] = [];
    for (const a of addresses) {
      if (typeof a === 'string') {
        const r = parseAddress(a);
        if (r.ok) endpoints.push(r.value);
        else failed.push({ address: a, error: r.message });
      } else endpoints.push(a);
    }
    const reached: Contact[] = [];
    this.joining++;
    try {
      await this.join(endpoints, reached, failed, signal);
    } finally {
      this.joining--;
    }
    // An adaptive node (probeReachability) decides once the join has filled its table: whether the
    // network reaches it at the address the answers agree on.
    if (this.protocol.probeReachability === true && this.observed !== null) await this.settleReachability(this.observed);
    return { reached, failed, peers: this.table.size };
  }

  /** bootstrap()'s PINGs and lookups. */
  private async join(endpoints: Endpoint[], reached: Contact[], failed: BootstrapResult['failed'], signal?: AbortSignal): Promise<void> {
    await Promise.all(
      endpoints
        .filter((e) => endpointKey(e) !== endpointKey(this.address))
        .map(async (e) => {
          try {
            const r = await this.ping(e, { signal });
            reached.push({ id: r.id, host: e.host, port: e.port });
          } catch (err) {
            failed.push({ address: endpointKey(e), error: err instanceof Error ? err.message : String(err) });
          }
        }),
    );
    // A bootstrap node that answered as a non-member (dht-rpc's id-less first node) is in no table,
    // but the self-lookup still starts from it.
    const seeds = reached.filter((c) => !this.table.has(c.id)).map((c) => ({ id: c.id, idBytes: hexToBytes(c.id), host: c.host, port: c.port }));
    this.nonMemberSeeds = seeds.slice(0, MAX_NON_MEMBER_SEEDS);
    if ((this.table.size > 0 || seeds.length > 0) && this.opts.lookupSelfOnBootstrap) {
      await this.makeLookup(this.idBytes, 'find-node', this.findNodeQuery(this.idBytes), { signal, extraSeeds: seeds })
        .run()
        .catch(() => undefined);
      if (this.opts.refreshOnBootstrap) await this.refreshAfterJoin(signal);
    }
  }

  /**
   * After the join lookup: a lookup of a random id in each bucket it left below k, out to the
   * bucket of our k-th closest peer. The self-lookup found every node nearer than its k-th closest,
   * so a bucket wholly inside that distance already holds all the network has there (in a network
   * of N nodes, the buckets past about log2(N / k)): refreshing it would find nothing new. A bucket
   * farther out is expected to hold N / 2^(i+1) > k nodes, so one below k is worth a lookup; it is
   * skipped if earlier refreshes filled it meanwhile. With fewer than k peers (a tiny network, or
   * a join that lost answers) every bucket farther than our nearest neighbour's is refreshed.
   */
  private async refreshAfterJoin(signal?: AbortSignal): Promise<void> {
    const k = this.opts.k;
    const near = this.table.closest(this.idBytes, k);
    if (near.length === 0) return;
    const edge = bucketIndex(this.idBytes, near[near.length - 1].idBytes);
    const upto = near.length >= k ? edge + 1 : bucketIndex(this.idBytes, near[0].idBytes);
    const below = (i: number): boolean => this.table.bucketSize(i) < k;
    const indices: number[] = [];
    for (let i = 0; i < upto; i++) if (below(i)) indices.push(i);
    // A bucket farther out than the k-th closest's holds about 2k nodes or more: a lookup converging
    // on JOIN_REFRESH_K of them fills it enough. The k-th closest's own bucket, and every bucket of
    // a network smaller than k, hold few enough that the refresh looks for k.
    const kOf = (i: number): number => (near.length >= k && i < edge ? Math.min(JOIN_REFRESH_K, k) : k);
    await this.runRefreshes(indices, signal, below, kOf);
  }

  /**
   * Refreshes the buckets at `indices`, REFRESH_CONCURRENCY at a time, skipping any `wanted` no
   * longer accepts; bucket i's refresh lookup converges on the kOf(i) nodes nearest its target (default k).
   */
  private async runRefreshes(indices: number[], signal?: AbortSignal, wanted?: (index: number) => boolean, kOf?: (index: number) => number): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < indices.length && this.running && !signal?.aborted) {
        const i = indices[next++];
        if (wanted && !wanted(i)) continue;
        this.table.touchBucket(i, this.clock.now());
        const target = randomIdInBucket(this.idBytes, i, this.randomBytes);
        // Maintenance: a refresh only fills the bucket, so it converges on k (or fewer), never wider.
        const k = kOf?.(i) ?? this.opts.k;
        await this.makeLookup(target, 'find-node', this.findNodeQuery(target), { signal, k, width: k })
          .run()
          .catch(() => undefined);
      }
    };
    await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, indices.length) }, worker));
  }

  /**
   * Idempotent: aborts every lookup, rejects pending requests, closes the socket, clears timers and
   * listeners. A second call returns the first one's promise, so whoever awaits any of them knows
   * the socket is closed (a udx-native socket closes a loop turn or two after the call).
   */
  stop(): Promise<void> {
    if (this.state === 'stopped') return this.stopping ?? Promise.resolve();
    this.stopping = this.stopNow();
    return this.stopping;
  }

  private stopping: Promise<void> | null = null;

  private async stopNow(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    if (this.maintenanceTimer !== null) this.clock.clearTimeout(this.maintenanceTimer);
    this.maintenanceTimer = null;
    this.storage.stop();
    this.lifetime.abort(DhtError.stopped());
    this.rpc.close();
    await this.transport.close();
    // The last save (records, peers) happens with the table still filled.
    if (wasRunning) await this.storage.close();
    this.pingingOldest.clear();
    this.rechecking.clear();
    this.downChecks.clear();
    for (const [timer, release] of this.delayedAnswers) {
      this.clock.clearTimeout(timer);
      release(null);
    }
    this.delayedAnswers.clear();
    this.removeAllListeners();
    this.healthFeed = [];
  }

  private assertRunning(): void {
    if (this.state === 'stopped') throw DhtError.stopped();
    if (this.state !== 'running') throw DhtError.notStarted();
  }

  private signalFor(signal?: AbortSignal): AbortSignal {
    if (!signal) return this.lifetime.signal;
    const combined = AbortSignal.any([signal, this.lifetime.signal]);
    setMaxListeners(0, combined);
    return combined;
  }

  ping(address: Endpoint | string, options: { signal?: AbortSignal } = {}): Promise<PingResult> {
    let to: Endpoint;
    try {
      this.assertRunning();
      to = this.endpointOf(address);
    } catch (err) {
      return Promise.reject(err);
    }
    // Not an async function, and no lifetime signal unless the caller gave a signal of its own:
    // stop() closes the RPC layer, which fails the request with STOPPED anyway, and the signal's
    // watch was a set entry added and removed with every ping (the ping workload's hot path).
    const rpcOptions = options.signal ? { signal: this.signalFor(options.signal) } : NO_REQUEST_OPTIONS;
    return this.rpc.request(to, PING_ARGS, rpcOptions).then(toPingResult);
  }

  /** An iterative lookup of target, as a stream of events. Iterate it to run it; leaving the loop cancels it. */
  lookup(targetHex: string, options: LookupOptions = {}): Lookup {
    this.assertRunning();
    const target = idFromHexOrThrow(targetHex, this.protocol.idBytes);
    const kind = options.kind ?? 'find-node';
    if (kind !== 'find-node') throw DhtError.invalidArgument(`lookup kind "${kind}" goes through get() or lookupPeers()`);
    return this.makeLookup(target, kind, this.findNodeQuery(target), options);
  }

  private makeLookup(
    target: Uint8Array,
    kind: LookupKind,
    query: QueryFn,
    options: LookupOptions &
      Partial<Pick<ConstructorParameters<typeof Lookup>[0], 'onRecord' | 'onPeers'>> & {
        extraSeeds?: LookupPeer[];
        /** Nodes the lookup returns (default the node's k). */
        k?: number;
        /** Nodes that must have answered before it ends (default the node's lookupWidth). */
        width?: number;
      },
  ): Lookup {
    const width = options.width ?? this.opts.lookupWidth;
    const seeds: LookupPeer[] = this.table.closest(target, Math.max(options.k ?? this.opts.k, width)).map(entryToPeer);
    if (options.extraSeeds) seeds.push(...options.extraSeeds);
    // An empty table (a one-shot client that skipped the join lookups, behind dht-rpc's id-less
    // bootstrap node) starts from the bootstrap nodes that answered as non-members, as dht-rpc does.
    else if (seeds.length === 0) seeds.push(...this.nonMemberSeeds);
    const hooks = this.lookupHooks;
    const lookupId = `${this.id.slice(0, 8)}-${(++this.lookupSeq).toString(36)}-${bytesToHex(this.randomBytes(3))}`;
    return new Lookup({
      lookupId,
      kind,
      protocol: this.protocol.name,
      self: this.id,
      target,
      k: options.k ?? this.opts.k,
      width,
      alpha: this.opts.alpha,
      rpcTimeoutMs: this.opts.rpcTimeoutMs,
      seeds,
      query,
      clock: this.clock,
      signal: this.signalFor(options.signal),
      timeoutMs: options.timeoutMs,
      onRecord: options.onRecord,
      onPeers: options.onPeers,
      onFailure: hooks.onFailure,
      onUnreachable: hooks.onUnreachable,
      accept: hooks.accept,
      onEvent: hooks.onEvent,
      wantsEvents: hooks.wantsEvents,
      onFinish: hooks.onFinish,
    });
  }

  private findNodeQuery(target: Uint8Array): QueryFn {
    return this.queryFor(() => ({ method: 'FIND_NODE', target }));
  }

  /**
   * A request whose retries follow the packet loss we see (rpc/loss.ts), unless the caller chose
   * them. The policy is asked again when the attempts run out (retriesNow): answers that needed
   * retries come back last, so the loss is underestimated while a burst of requests is started.
   */
  private async request(to: Endpoint, args: RequestArgs, options: RequestOptions = {}): Promise<RpcResult> {
    const chosen = options.retries !== undefined;
    const retries = options.retries ?? this.retryPolicy.retries();
    const padTo = this.padToFor(to, args);
    // Every field named, in one order, rather than { ...options, retries, padTo }: in Node 20 a
    // spread followed by more fields takes V8's slow path, ~1.5 us a request (more than encoding
    // it), and `satisfies` makes a field added to RequestOptions a compile error here.
    const r = await this.rpc.request(
      to,
      args,
      chosen && padTo === undefined
        ? options
        : ({
            signal: options.signal,
            timeoutMs: options.timeoutMs,
            retries,
            retriesNow: chosen ? options.retriesNow : this.retriesNow,
            padTo,
            echo: options.echo,
            onSend: options.onSend,
            via: options.via,
          } satisfies Record<keyof RequestOptions, unknown>),
    );
    // Answered only unpadded: a v1-v3 node, or a lost datagram (the two look alike; either way this
    // address is asked unpadded for a while). It still counts for the loss estimate: not counting it
    // hid real loss (30% loss: true closest 197/200 instead of 200/200), while an older node's
    // first contact only looks like one lost attempt.
    if (r.readsPadding === false) (this.legacyReaders ??= new VerifiedAddresses(LEGACY_READERS, LEGACY_READER_TTL_MS)).add(endpointKey(to), this.clock.now());
    // Attempts allowed: as given, or more if the policy extended the request (then at least the ones it used).
    this.retryPolicy.answered(r.attempts, Math.max(retries + 1, r.attempts));
    return r;
  }

  /** The size a request is padded to (wire v4), or undefined: not a FIND_*, padding off, or a v1-v3 reader. */
  private padToFor(to: Endpoint, args: RequestArgs): number | undefined {
    if (!this.opts.padRequests || !PADDABLE_METHODS.has(args.method)) return undefined;
    if (this.legacyReaders !== null && this.legacyReaders.has(endpointKey(to), this.clock.now())) return undefined;
    return paddedRequestBytes(to.host.includes(':') ? 6 : 4);
  }

  private sampleRtt(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    const r = this.rtt;
    if (r.samples === 0) {
      r.srtt = rttMs;
      r.rttvar = rttMs / 2;
    } else {
      r.rttvar = 0.75 * r.rttvar + 0.25 * Math.abs(r.srtt - rttMs);
      r.srtt = 0.875 * r.srtt + 0.125 * rttMs;
    }
    r.samples++;
  }

  /** The per-attempt wait for a lookup query: measured (adaptiveTimeout) or the RPC timeout. */
  private queryTimeoutMs(): number | undefined {
    const r = this.rtt;
    if (!this.opts.adaptiveTimeout || r.samples < ADAPTIVE_TIMEOUT_SAMPLES) return undefined;
    return Math.min(this.opts.rpcTimeoutMs, Math.max(ADAPTIVE_TIMEOUT_MIN_MS, Math.ceil(r.srtt + 4 * r.rttvar)));
  }

  /** A lookup's query: sends args(peer) and reads the answer's nodes, token, record and peers. */
  private queryFor(args: (peer: LookupPeer) => RequestArgs): QueryFn {
    return async (peer, signal, onSend) => {
      const timeoutMs = this.queryTimeoutMs();
      const r = await this.request(peer, args(peer), timeoutMs === undefined ? { signal, onSend } : { signal, onSend, timeoutMs });
      return answerOf(r.response, r);
    };
  }

  /** Runs a find-node lookup to the end. */
  async findNode(targetHex: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<FindNodeResult> {
    // run(): no event queue to drain, and no events built while nobody listens to 'lookup'.
    const e = await this.lookup(targetHex, options).run();
    return { closest: e.closest, hops: e.hops, messages: e.messages, durationMs: e.durationMs, reason: e.reason };
  }

  /**
   * One FIND_NODE to an address, outside any lookup: the crawler's request (core/crawl). Rejects with
   * the request's DhtError (TIMEOUT after the retries, the peer's refusal, ABORTED). `member: false`
   * when the responder is no routing-table member (HyperDHT: it answered without an id, or with one
   * its address does not hash to; `id` is then the id of its address).
   */
  async findNodeAt(to: Endpoint, target: Uint8Array, options: RequestOptions = {}): Promise<{ id: Uint8Array; nodes: WireContact[]; rttMs: number; client?: Uint8Array; member?: false }> {
    this.assertRunning();
    const r = await this.request(to, { method: 'FIND_NODE', target }, { ...options, signal: this.signalFor(options.signal) });
    const res = r.response;
    // The responder's `v` (Mainline), for the crawler's client column.
    return { id: res.id, nodes: res.nodes ?? [], rttMs: r.rttMs, ...(res.client !== undefined ? { client: res.client } : {}), ...(res.readOnly === true ? { member: false as const } : {}) };
  }

  /**
   * BEP 51: one sample_infohashes to an address (a Mainline node; UNSUPPORTED on a protocol without
   * it). `sample` is null when the node answered without samples (it treated the query as something
   * else); a node that does not implement it answers error 204 (UNKNOWN_METHOD) or stays silent
   * (TIMEOUT after the retries: bittorrent-dht).
   */
  async sampleInfohashesAt(to: Endpoint, target: Uint8Array, options: RequestOptions = {}): Promise<SampleInfohashesAnswer> {
    this.assertRunning();
    if (!this.capabilities.sampleInfohashes) throw new DhtError('UNSUPPORTED', `this node speaks the ${this.protocol.name} protocol, which has no sample_infohashes (BEP 51 is Mainline's)`);
    if (target.length !== this.protocol.idBytes) throw DhtError.invalidArgument(`a sample_infohashes target is ${this.protocol.idBytes} bytes; got ${target.length}`);
    const r = await this.request(to, { method: 'FIND_NODE', target, sample: true }, { ...options, signal: this.signalFor(options.signal) });
    const res = r.response;
    return { id: res.id, nodes: res.nodes ?? [], rttMs: r.rttMs, sample: res.sample ?? null, ...(res.client !== undefined ? { client: res.client } : {}) };
  }

  /** A contact from another node's answer: worth asking only if it is not us and has a usable address. */
  private acceptContact(c: WireContact): boolean {
    if (c.port === 0) return false;
    const fam = isIP(c.host);
    if (fam === 0) return false;
    // An IPv4 socket cannot reach an IPv6 contact and vice versa; a dual-stack node reaches both.
    return reachesFamily(this.transport, fam === 6 ? 6 : 4);
  }

  // ---- the routing table, fed by answers ----

  private onAnswered(id: string, idBytes: Uint8Array, from: Endpoint, rttMs: number, observed: Endpoint | undefined): void {
    this.noteObserved(observed);
    if (!this.running) return;
    const now = this.clock.now();
    const result = this.table.observe({ id, host: from.host, port: from.port }, now, { rttMs });
    switch (result.kind) {
      case 'added':
        this.emitAdded(result.entry);
        break;
      case 'updated':
        this.emitHealth(result.entry);
        break;
      case 'replaced':
        this.emitRemoved(result.evicted, 'replaced');
        this.emitAdded(result.entry);
        break;
      case 'pending-ping':
        this.pingOldest(result.oldest);
        break;
      case 'rejected':
        break;
    }
  }

  private emitAdded(e: RoutingEntry): void {
    this.storage.peerAdded(e);
    if (this.has('peer-added')) this.emit('peer-added', this.annotate(toPeerInfo(e, this.clock.now())));
  }

  /** The entry as the table holds it now (no second lookup by id: every answer comes here). */
  private emitHealth(entry: RoutingEntry | undefined): void {
    if (entry === undefined) return;
    const feed = this.healthFeed;
    const emitting = this.has('peer-health');
    if (feed.length === 0 && !emitting) return;
    // One reading of the clock for both: the feed's state and the event's PeerInfo agree.
    const now = this.clock.now();
    if (feed.length > 0) {
      const state = healthState(entry, now);
      for (const fn of feed) {
        try {
          fn(entry.id, state, entry.failures);
        } catch (err) {
          console.error('kadscope: a peer-health feed listener threw:', err);
        }
      }
    }
    if (emitting) this.emit('peer-health', this.annotate(toPeerInfo(entry, now)));
  }

  /**
   * Peer health without a PeerInfo per report: `fn` hears, after every answer from and every
   * failure of a table member, the peer's id, state and failures (what changes what a user sees),
   * and nothing is built for it. A listener that shows only some of the reports (the explorer
   * host's HealthCoalescer: a change at once, a good peer's refresh once a tick) builds those
   * with peerInfo(id). The 'peer-health' event makes the whole PeerInfo for every report: ~18 per
   * lookup, of which the explorer shows ~3. Returns the unsubscribe; stop() drops every listener.
   */
  subscribePeerHealth(fn: PeerHealthFeed): () => void {
    // Replaced, never changed: a report in progress walks the list it started with.
    this.healthFeed = withListener(this.healthFeed, fn, 'the peer-health feed');
    return () => {
      this.healthFeed = withoutListener(this.healthFeed, fn);
    };
  }

  /** A table member as the peer events carry it (PeerInfo, annotated as they are), or undefined if it is not in the table. */
  peerInfo(id: string): PeerInfo | undefined {
    const info = this.table.peerInfo(id, this.clock.now());
    return info === undefined ? undefined : this.annotate(info);
  }

  override listenerCount(): number {
    return super.listenerCount() + this.healthFeed.length;
  }

  /** The client version a peer answered with (Mainline's `v`), kept for the peer list; bounded. */
  private notePeerClient(id: string, version: Uint8Array): void {
    const describe = this.protocol.describeClient;
    if (describe === undefined || this.peerClients.get(id) !== undefined) return;
    if (this.peerClients.size >= MAX_PEER_CLIENTS) this.peerClients.delete(this.peerClients.keys().next().value as string);
    this.peerClients.set(id, describe(version.slice(0, MAX_CLIENT_VERSION_BYTES)));
  }

  /** A peer as the protocol sees it too: its client version and whether its id fits its address (BEP 42, HyperDHT). */
  private annotate(p: PeerInfo): PeerInfo {
    const client = this.peerClients.get(p.id);
    const check = this.protocol.idCompliance;
    // HyperDHT: whether the id is the one its address hashes to (the only ids it accepts).
    const derive = this.protocol.addressId;
    if (client === undefined && check === undefined && derive === undefined) return p;
    const derived = derive?.(p);
    return {
      ...p,
      ...(client !== undefined ? { client } : {}),
      ...(check ? { idCompliance: check(idFromHex(p.id, this.protocol.idBytes), p.host) } : {}),
      ...(derive ? { idMatchesAddress: derived != null && bytesToHex(derived) === p.id } : {}),
    };
  }

  private emitRemoved(e: RoutingEntry, reason: NodeEvents['peer-removed']['reason']): void {
    this.storage.peerRemoved();
    if (this.has('peer-removed')) this.emit('peer-removed', { id: e.id, host: e.host, port: e.port, reason });
  }

  /** A full bucket asked us to check its least-recently-seen peer before it takes a newcomer. */
  private pingOldest(oldest: RoutingEntry): void {
    if (this.pingingOldest.has(oldest.id) || this.pingingOldest.size >= MAX_VERIFYING) return;
    // A peer that answered within the good window keeps its slot without a ping (as BEP 5 does):
    // the newcomer waits in the replacement cache. Only questionable or unknown peers are checked.
    if (healthState(oldest, this.clock.now()) === 'good') return;
    this.pingingOldest.add(oldest.id);
    this.rpc
      .request({ host: oldest.host, port: oldest.port }, { method: 'PING' }, { signal: this.lifetime.signal })
      .then(
        (r) => {
          if (!this.running) return;
          if (bytesToHex(r.response.id) === oldest.id) this.table.pingAnswered(oldest.id, this.clock.now());
          else this.evict(oldest.id);
        },
        (err: DhtError) => {
          if (this.running && err.code !== 'STOPPED' && err.code !== 'ABORTED') this.evict(oldest.id);
        },
      )
      .finally(() => this.pingingOldest.delete(oldest.id));
  }

  private evict(id: string): void {
    const r = this.table.pingFailed(id, this.clock.now());
    if (!r) return;
    if (r.evicted) this.emitRemoved(r.evicted, 'evicted');
    if (r.promoted) this.emitAdded(r.promoted);
  }

  private onPeerFailed(id: string): void {
    if (!this.running) return;
    const r = this.table.recordFailure(id, this.clock.now());
    if (r) {
      this.emitRemoved(r.evicted, 'failed');
      this.emitAdded(r.promoted);
    } else {
      // Still in the table, one failure closer to bad: the UI shows it turning questionable.
      this.emitHealth(this.table.get(id));
      this.recheck(id);
    }
  }

  /**
   * A peer that left a request unanswered is PINGed again at once, and again after each PING it
   * leaves unanswered, until it answers (its failures reset) or turns bad. Without this a stopped
   * peer stays questionable until BAD_FAILURES separate lookups happen to ask it, and it keeps
   * counting in the size estimate; with it, a stopped peer is bad BAD_FAILURES - 1 request
   * lifetimes (timeout times attempts) after its first failure.
   */
  private recheck(id: string): void {
    const entry = this.table.get(id);
    if (!entry || isBad(entry) || this.rechecking.has(id) || this.rechecking.size >= MAX_VERIFYING) return;
    this.rechecking.add(id);
    const to: Endpoint = { host: entry.host, port: entry.port };
    this.request(to, { method: 'PING' }, { signal: this.lifetime.signal }).then(
      (r) => {
        this.rechecking.delete(id);
        // Another node at that address: the one we knew is gone from it.
        if (this.running && bytesToHex(r.response.id) !== id) this.onPeerFailed(id);
      },
      (err: DhtError) => {
        this.rechecking.delete(id);
        if (err.code === 'TIMEOUT') this.onPeerFailed(id);
      },
    );
  }

  /**
   * A peer says a node it heard of from us did not answer it (a PING with `down`: dht-rpc's
   * DOWN_HINT). If that node is in our table at that address we PING it, and it leaves the table
   * if it does not answer, or answers as another node or as a non-member (as dht-rpc's _check).
   * At most MAX_DOWN_CHECKS at once, one per peer.
   */
  private checkDown(down: WireContact): void {
    if (!this.running) return;
    const id = bytesToHex(down.id);
    const entry = this.table.get(id);
    if (!entry || entry.host !== down.host || entry.port !== down.port) return;
    if (this.downChecks.has(id) || this.downChecks.size >= MAX_DOWN_CHECKS) return;
    this.downChecks.add(id);
    this.request({ host: entry.host, port: entry.port }, { method: 'PING' }, { signal: this.lifetime.signal })
      .then(
        (r) => {
          if (r.response.readOnly === true || bytesToHex(r.response.id) !== id) this.dropPeer(id);
        },
        (err: DhtError) => {
          if (err.code === 'TIMEOUT') this.dropPeer(id);
        },
      )
      .finally(() => this.downChecks.delete(id));
  }

  /** A peer found gone leaves the table (a replacement from its bucket's cache takes the slot, if there is one). */
  private dropPeer(id: string): void {
    if (!this.running) return;
    const r = this.table.pingFailed(id, this.clock.now());
    if (r) {
      this.emitRemoved(r.evicted, 'failed');
      this.emitAdded(r.promoted);
      return;
    }
    const e = this.table.remove(id);
    if (e) this.emitRemoved(e, 'failed');
  }

  /**
   * A lookup's query to `down` went unanswered: tell the peers that named it (dht-rpc's DOWN_HINT,
   * a PING with `down`, one attempt), so they check it and drop it if it is gone. At most
   * DOWN_HINTS_PER_WINDOW per DOWN_HINT_WINDOW_MS.
   */
  private sendDownHints(down: LookupPeer, referrers: readonly LookupPeer[]): void {
    if (!this.running) return;
    const now = this.clock.now();
    const w = this.downHintWindow;
    if (now - w.startMs >= DOWN_HINT_WINDOW_MS) {
      w.startMs = now;
      w.sent = 0;
    }
    for (const ref of referrers) {
      if (w.sent >= DOWN_HINTS_PER_WINDOW) return;
      if (ref.host === down.host && ref.port === down.port) continue;
      w.sent++;
      this.rpc
        .request({ host: ref.host, port: ref.port }, { method: 'PING', down: { id: down.idBytes, host: down.host, port: down.port } }, { signal: this.lifetime.signal, retries: 0 })
        .catch(() => undefined);
    }
  }

  /**
   * The answer to a PING with `delayMs` (dht-rpc's DELAYED_PING), sent when that much time has
   * passed on the node's clock. None for a delay over MAX_ANSWER_DELAY_MS or beyond
   * MAX_DELAYED_ANSWERS held at once (dht-rpc is silent past its maximum too); stop() drops them.
   */
  private answerLater(delayMs: number): HandlerResult | Promise<HandlerResult> {
    if (!(delayMs >= 0 && delayMs <= MAX_ANSWER_DELAY_MS) || this.delayedAnswers.size >= MAX_DELAYED_ANSWERS) return null;
    return new Promise<HandlerResult>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.delayedAnswers.delete(timer);
        resolve({});
      }, delayMs);
      this.delayedAnswers.set(timer, resolve);
    });
  }

  /** Majority of the last few addresses peers saw us at (counts kept incrementally: this runs per answer). */
  private noteObserved(observed: Endpoint | undefined): void {
    // Undefined: the peer did not say (a Mainline answer without `ip`); port 0 is no address either.
    if (observed === undefined || observed.port === 0) return;
    // Steady state: every vote in the window is for the address we hold, and so is this one.
    const held = this.observed;
    if (
      held !== null &&
      held.port === observed.port &&
      held.host === observed.host &&
      this.observedVotes.length === OBSERVED_ADDRESS_WINDOW &&
      this.observedCounts.size === 1
    ) {
      return;
    }
    // A vote like the last one keeps the last one's string: the window holds one copy of an address, not one per vote.
    const fresh = endpointKey(observed);
    const last = this.observedVotes.length > 0 ? this.observedVotes[this.observedVotes.length - 1] : undefined;
    const key = last === fresh ? last : fresh;
    this.observedVotes.push(key);
    this.observedCounts.set(key, (this.observedCounts.get(key) ?? 0) + 1);
    if (this.observedVotes.length > OBSERVED_ADDRESS_WINDOW) {
      const old = this.observedVotes.shift()!;
      const n = this.observedCounts.get(old)! - 1;
      if (n === 0) this.observedCounts.delete(old);
      else this.observedCounts.set(old, n);
    }
    const current = this.observed ? endpointKey(this.observed) : null;
    if (key === current) return;
    const mine = this.observedCounts.get(key)!;
    const theirs = current === null ? 0 : (this.observedCounts.get(current) ?? 0);
    if (mine > theirs) {
      this.observed = { host: observed.host, port: observed.port };
      this.emit('observed-address', this.observed);
      if (this.protocol.idForAddress) this.adoptAddressId(this.observed);
    }
  }

  /**
   * The address others reach us at, when we know it without being told (dht-rpc's bootstrapper:
   * the first node of a network, which nobody has answered yet). A protocol whose id follows the
   * address takes its id now.
   */
  assumeAddress(address: Endpoint): void {
    this.observed = { host: address.host, port: address.port };
    this.emit('observed-address', this.observed);
    // Known, not told: no reachability probe either.
    if (this.protocol.idForAddress) void this.takeAddressId(this.observed);
  }

  /**
   * Whether others may keep this node in their routing tables: always where ids are free; where the
   * id follows the address (HyperDHT), once the node holds the id of its address (an ephemeral
   * node never does, an adaptive one once its reachability probe got through).
   */
  get persistent(): boolean {
    return this.protocol.addressId === undefined || this.addressIdHeld;
  }

  /**
   * The network agrees on a (new) address for us. A protocol whose id follows it takes its id now,
   * or, when it must first show the network reaches it there (probeReachability), after a probe:
   * at the end of the join in progress, else at once.
   */
  private adoptAddressId(observed: Endpoint): void {
    if (this.protocol.probeReachability === true && !this.addressIdHeld) {
      if (this.joining === 0) void this.settleReachability(observed);
      return;
    }
    void this.takeAddressId(observed);
  }

  /** Probes whether the network reaches us at `at` (once per address) and takes its id if so. */
  private async settleReachability(at: Endpoint): Promise<void> {
    if (!this.running || this.addressIdHeld) return;
    const key = endpointKey(at);
    if (this.probing === null) {
      if (this.probedAddress === key) return;
      this.probedAddress = key;
      this.probing = this.probeReachability(at).finally(() => {
        this.probing = null;
      });
    }
    const reachable = await this.probing;
    // The lookup of the new id is awaited: a join ends with the network knowing us as a member.
    if (reachable && this.running && this.probedAddress === key && this.observed !== null && endpointKey(this.observed) === key) await this.takeAddressId(this.observed);
  }

  /**
   * dht-rpc's firewall check: up to REACHABILITY_PROBE_PEERS peers are asked, from a second socket
   * they have never heard from, to answer at our first one (a PING with `replyPort`: PING_NAT).
   * Behind a NAT or firewall those answers are not let through. Reachable when
   * REACHABILITY_PROBE_QUORUM of them (1 if fewer were asked) arrive saying they sent them to `at`,
   * and `at` has the port we are bound to (a NAT that maps ports is not reachable unasked).
   */
  private async probeReachability(at: Endpoint): Promise<boolean> {
    const key = endpointKey(at);
    const verdict = (reachable: boolean, asked: number, answered: number, reason: string): boolean => {
      this.emit('reachability', { address: { host: at.host, port: at.port }, reachable, asked, answered, reason });
      return reachable;
    };
    const port = this.address.port;
    if (at.port !== port) return verdict(false, 0, 0, `the network sees us at ${key}, not at the port ${port} we are bound to (a NAT maps our port): not reachable unasked`);
    if (this.transport.sibling === undefined) return verdict(false, 0, 0, `this ${this.transport.kind} transport cannot open a second socket to probe from`);
    const targets: Endpoint[] = this.table.closest(this.idBytes, REACHABILITY_PROBE_PEERS).map((e) => ({ host: e.host, port: e.port }));
    for (const s of this.nonMemberSeeds) if (targets.length < REACHABILITY_PROBE_PEERS && !targets.some((t) => t.host === s.host && t.port === s.port)) targets.push({ host: s.host, port: s.port });
    if (targets.length === 0) return verdict(false, 0, 0, 'no peer to ask');
    const quorum = targets.length >= REACHABILITY_PROBE_PEERS ? REACHABILITY_PROBE_QUORUM : 1;
    const probe = this.transport.sibling();
    probe.onMessage(() => undefined);
    try {
      await probe.bind();
      const answers = await Promise.allSettled(targets.map((t) => this.rpc.request(t, { method: 'PING', replyPort: port }, { via: probe, signal: this.lifetime.signal })));
      let answered = 0;
      for (const a of answers) {
        const seen = a.status === 'fulfilled' ? a.value.response.observed : undefined;
        if (seen !== undefined && seen.host === at.host && seen.port === at.port) answered++;
      }
      const ok = answered >= quorum;
      return verdict(ok, targets.length, answered, `${answered} of ${targets.length} peers asked reached ${key} from a socket they never heard from (${quorum} needed)`);
    } catch (err) {
      return verdict(false, targets.length, 0, `the probe could not run: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await probe.close();
    }
  }

  /**
   * A protocol whose id follows the address (dht-rpc: BLAKE2b-256 of ip:port) takes the id of the
   * address the network now agrees on. The id buffer is shared by the node's parts (RPC, guard,
   * broadcaster), so it is rewritten in place; the table is rebuilt around the new id with the
   * peers that fit it. The records parts read the same bytes (a HyperDHT storer checks that an
   * announcement is signed for its id as it is now). Returns the lookup of the new id that follows
   * (undefined when the id did not change).
   */
  private takeAddressId(observed: Endpoint): Promise<void> | undefined {
    const id = this.protocol.idForAddress?.(observed, this.idBytes, this.randomBytes);
    if (!id || id.length !== this.idBytes.length) return undefined;
    this.addressIdHeld = true;
    if (bytesToHex(id) === this.id) return undefined;
    const from = this.id;
    this.idBytes.set(id);
    const old = this.table;
    this.table = new RoutingTable(this.idBytes, this.tableOptions);
    const now = this.clock.now();
    for (const e of old.entries()) {
      const r = this.table.observe({ id: e.id, host: e.host, port: e.port }, now);
      if (r.kind !== 'added') this.emit('peer-removed', { id: e.id, host: e.host, port: e.port, reason: 'evicted' });
    }
    const why =
      this.protocol.name === 'mainline'
        ? `BEP 42: a ${this.protocol.label} id must fit the public address others see (${endpointKey(observed)})`
        : `a ${this.protocol.label} id is derived from the address others see (${endpointKey(observed)})`;
    this.emit('id-changed', { from, to: this.id, reason: this.idFromDisk && !this.idAdopted ? `the saved id no longer fits: ${why}` : why });
    this.idAdopted = true;
    // As dht-rpc does on turning persistent: a lookup of the new id, so the nodes nearest it meet us
    // as a member (those we asked before saw a non-member).
    // After the answer that settled the address is in the table (this runs inside its handling).
    return Promise.resolve().then(() => {
      if (!this.running) return;
      const extraSeeds = this.nonMemberSeeds.filter((c) => !this.table.has(c.id));
      return this.makeLookup(this.idBytes, 'find-node', this.findNodeQuery(this.idBytes), { extraSeeds })
        .run()
        .then(() => undefined, () => undefined);
    });
  }

  // ---- answering requests ----

  /** Every request's answer, kept within the amplification budget for unverified requesters. */
  private answerRequest(req: RequestMessage, from: Endpoint, requestBytes: number): HandlerResult | Promise<HandlerResult> {
    // One hex conversion and one table lookup per request, shared by noteRequester and the guard.
    const id = idHex(req.id);
    const entry = this.table.get(id);
    const knownHere = entry !== undefined && entry.host === from.host && entry.port === from.port;
    // A padded request: that address reads wire v4 now, whatever it did before.
    if (req.padding !== undefined && this.legacyReaders !== null) this.legacyReaders.delete(endpointKey(from));
    const result = this.handleRequest(req, from, id, entry);
    if (!this.amplification) return result;
    return this.amplification.guard(from, requestBytes, result, knownHere);
  }

  private handleRequest(req: RequestMessage, from: Endpoint, id: string, entry: RoutingEntry | undefined): HandlerResult | Promise<HandlerResult> {
    if (!this.running) return null;
    // BEP 43: a read-only sender stays out of the routing table. A FIND_NODE's answer may carry our
    // verification of an unknown sender that echoes (wire v5), in place of a PING.
    const echoes = req.method === 'FIND_NODE' && req.echoes === true && this.opts.echoVerification;
    const echo = req.readOnly !== true ? this.noteRequester(id, req.id, from, entry, echoes) : undefined;
    switch (req.method) {
      case 'PING':
        if (req.down !== undefined) this.checkDown(req.down);
        if (req.delayMs !== undefined) return this.answerLater(req.delayMs);
        return {};
      case 'FIND_NODE':
        // A token here too, so a put's find-node lookup can STORE at the nodes it found.
        return { nodes: this.closestWire(req.target, req.families), token: this.storage.server.issueToken(from), echo };
      case 'CALL': {
        const began = this.clock.now();
        return this.customMethods.handle(req.name, req.args, { id, host: from.host, port: from.port }).then((r) => {
          this.emitCall('received', req.name, { id, host: from.host, port: from.port }, began, r instanceof DhtError ? r : null);
          return r instanceof DhtError ? r : { result: r };
        });
      }
      case 'BROADCAST':
        return this.broadcaster.receive(req, { id, idBytes: req.id, host: from.host, port: from.port }) ?? {};
      default:
        // FIND_VALUE, STORE, ANNOUNCE, GET_PEERS: the records layer answers (a STORE once it is durable).
        return this.storage.server.handle(req, from);
    }
  }

  /** The k closest contacts; with families (BEP 32 `want`), the k closest of those families. */
  private closestWire(target: Uint8Array, families?: ReadonlyArray<4 | 6>): WireContact[] {
    let ranked = this.table.closest(target, this.opts.k);
    if (families !== undefined && !(families.includes(4) && families.includes(6))) {
      // One family (BEP 32's want, or by default the requester's): in a one-family network the k
      // closest already are. A table is bounded (buckets x k), so ranking all of it otherwise stays cheap.
      const wanted = (e: RoutingEntry): boolean => families.includes(isIP(e.host) === 6 ? 6 : 4);
      if (!ranked.every(wanted)) ranked = this.table.closest(target, this.table.size).filter(wanted).slice(0, this.opts.k);
    }
    return ranked.map((e) => ({ id: e.idBytes, host: e.host, port: e.port }));
  }

  /**
   * A node that sent us a request is hearsay about itself until it answers us: known ones are
   * refreshed, unknown ones get a verification PING (bounded) and enter the table on the answer.
   * `echoes`: the PING may ride on our answer to this request as an echo request (wire v5); the
   * returned tid is then to be put in that answer (`echo`), and the requester's echo is the PING's
   * answer. Undefined: nothing to add to the answer.
   */
  private noteRequester(id: string, idBytes: Uint8Array, from: Endpoint, known: RoutingEntry | undefined, echoes: boolean): number | undefined {
    if (known) {
      if (known.host === from.host && known.port === from.port) this.table.observe({ id, host: from.host, port: from.port }, this.clock.now());
      return undefined;
    }
    if (id === this.id) return undefined;
    if (!this.table.hasRoomFor(idBytes)) return undefined;
    // We are waiting for its answer to our own request: that answer verifies it, no PING needed.
    if (this.rpc.hasPendingTo(from)) return undefined;
    // Bounded and deduplicated per address by the verifier; the answer enters the table in onAnswered.
    const slot: EchoSlot | undefined = echoes ? { tid: null } : undefined;
    void this.verifier.verify(from, slot);
    return slot?.tid ?? undefined;
  }

  /** Routing-table peers to save in dataDir, most recently heard from first. */
  private peersToSave(): PersistedPeer[] {
    return this.table
      .entries()
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .map((e) => ({ id: e.id, host: e.host, port: e.port }));
  }

  // ---- extension points: custom methods and broadcast ----

  /**
   * Registers an application method that peers can call (`node.call(peer, name, args)`): its
   * arguments go through `args.parse` before `handler` sees them. Names are lowercase, 1-32 of
   * [a-z0-9._-]; at most 64 methods.
   */
  register<A, R>(method: CustomMethod<A, R>): void {
    this.assertCapability('customMethods');
    this.customMethods.register(method);
  }

  unregister(name: string): boolean {
    return this.customMethods.unregister(name);
  }

  /** The methods registered here. */
  methods(): CustomMethodInfo[] {
    return this.customMethods.list();
  }

  /**
   * Calls `name` on the peer at `to` with `args` (CBOR-encoded, at most 1,000 bytes). Rejects with
   * the peer's refusal: UNKNOWN_METHOD when it has no such method, PROTOCOL when its schema refused
   * the arguments, REMOTE_ERROR (or the handler's own code) when the handler failed.
   */
  async call<R = unknown>(to: Endpoint | string, name: string, args?: unknown, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<CallResult<R>> {
    this.assertRunning();
    this.assertCapability('customMethods');
    const problem = checkCallName(name);
    if (problem) throw DhtError.invalidArgument(problem);
    const address = this.endpointOf(to);
    const bytes = encodeCallValue(args, `the arguments of "${name}"`);
    const began = this.clock.now();
    const peer = { id: null as string | null, host: address.host, port: address.port };
    try {
      const r = await this.request(address, { method: 'CALL', name, args: bytes }, { signal: this.signalFor(options.signal), timeoutMs: options.timeoutMs });
      peer.id = bytesToHex(r.response.id);
      const decoded = decodeCallValue(r.response.result ?? new Uint8Array(0));
      if (!decoded.ok) throw new DhtError('PROTOCOL', `the result of "${name}" from ${endpointKey(address)}: ${decoded.reason}`);
      this.emitCall('sent', name, peer, began, null);
      return { value: decoded.value as R, id: peer.id, rttMs: r.rttMs };
    } catch (e) {
      // A refusal is an answer: its header says who refused.
      if (e instanceof DhtError && e.remoteId !== undefined) peer.id = e.remoteId;
      this.emitCall('sent', name, peer, began, e instanceof DhtError ? e : new DhtError('INTERNAL', String(e)));
      throw e;
    }
  }

  /** The call log's event (NodeEvents.call). */
  private emitCall(direction: CallInfo['direction'], name: string, peer: CallInfo['peer'], began: number, error: DhtError | null): void {
    const at = this.clock.now();
    this.emit('call', { direction, name, peer, at, durationMs: at - began, outcome: error ? error.code : 'ok', ...(error ? { message: error.message } : {}) });
  }

  /**
   * Sends `payload` (bytes, or a string as UTF-8; at most 1,000 bytes) to every node of the network
   * once. Resolves when each of our bucket ranges has been handed it. Rate limited (1 a second,
   * bursts of 10 by default): RATE_LIMITED beyond.
   */
  async broadcast(payload: Uint8Array | string, options: { hopLimit?: number } = {}): Promise<BroadcastResult> {
    this.assertRunning();
    this.assertCapability('broadcast');
    return this.broadcaster.start(typeof payload === 'string' ? new TextEncoder().encode(payload) : payload, options);
  }

  /** Broadcasts received, oldest first (the last 200). */
  broadcasts(): BroadcastInfo[] {
    return this.broadcasterMade?.recent() ?? [];
  }

  get broadcastStats(): BroadcastStats {
    return { ...(this.broadcasterMade?.stats ?? NO_BROADCASTS) };
  }

  private get broadcaster(): Broadcaster {
    if (this.broadcasterMade !== null) return this.broadcasterMade;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- method shorthands over `node`, as in the constructor
    const node = this;
    this.broadcasterMade = new Broadcaster(
      {
        clock: this.clock,
        selfId: this.idBytes,
        randomBytes: this.randomBytes,
        signal: this.lifetime.signal,
        bucketContacts() {
          return node.bucketContacts();
        },
        findInRange(index, signal) {
          return node.findInRange(index, signal);
        },
        send(to, args, signal) {
          return node.request(to, args, { signal }).then(() => undefined);
        },
        deliver(info) {
          node.emit('broadcast', info);
        },
      },
      this.broadcastOptions,
    );
    return this.broadcasterMade;
  }

  /** The routing table's buckets, each with its contacts healthiest first (broadcast forwarding). */
  private bucketContacts(): Array<{ index: number; contacts: Array<Contact & { idBytes: Uint8Array }> }> {
    return this.table.buckets().map((b) => ({
      index: b.index,
      contacts: [...b.entries]
        .sort((x, y) => x.failures - y.failures || y.lastSeen - x.lastSeen)
        .map((e) => ({ id: e.id, idBytes: e.idBytes, host: e.host, port: e.port })),
    }));
  }

  /**
   * Contacts in our bucket `index` that others know of, for a bucket of ours that is empty: a
   * find-node lookup of an id in that range (its answers also fill our table).
   */
  private async findInRange(index: number, signal: AbortSignal): Promise<Array<Contact & { idBytes: Uint8Array }>> {
    const target = randomIdInBucket(this.idBytes, index, this.randomBytes);
    const r = await this.findNode(bytesToHex(target), { signal });
    return r.closest.filter((c) => bucketIndex(this.idBytes, idFromHex(c.id)) === index).map((c) => ({ ...c, idBytes: idFromHex(c.id) }));
  }

  private endpointOf(to: Endpoint | string): Endpoint {
    if (typeof to !== 'string') return to;
    const r = parseAddress(to);
    if (!r.ok) throw DhtError.invalidArgument(r.message);
    return r.value;
  }

  // ---- store policy and validators (records/policy.ts) ----

  /**
   * Decides which records other nodes may store here (go-dht's OnStore): called for every STORE
   * that passed its token and record checks; true keeps the record, false or a string refuses it
   * and the writer gets POLICY_REFUSED with that reason. null removes the policy.
   */
  setStorePolicy(policy: StorePolicy | null): void {
    this.storage.server.policies.setPolicy(policy);
  }

  /** Checks the records whose value starts with "/NAMESPACE/" (go-libp2p's validators), before the store policy. */
  addValidator(namespace: string, validator: RecordValidator): void {
    this.storage.server.policies.addValidator(namespace, validator);
  }

  removeValidator(namespace: string): boolean {
    return this.storage.server.policies.removeValidator(namespace);
  }

  // ---- maintenance ----

  private scheduleMaintenance(): void {
    this.maintenanceTimer = this.clock.setTimeout(() => {
      this.maintenanceTimer = null;
      if (!this.running) return;
      void this.maintain().finally(() => {
        if (this.running) this.scheduleMaintenance();
      });
    }, this.opts.maintenanceIntervalMs);
  }

  /** Refreshes stale buckets with a lookup of a random id in their range. */
  private async maintain(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const stale = this.table.staleBuckets(this.clock.now(), this.opts.refreshIntervalMs);
      await this.runRefreshes(stale);
    } finally {
      this.refreshing = false;
    }
  }

  // ---- views ----

  /** The figures metrics exporters read at scrape time (core/metrics/node-metrics.ts). */
  metrics(): NodeMetrics {
    const now = this.clock.now();
    return {
      protocol: this.protocol.name,
      id: this.id,
      running: this.running,
      uptimeMs: this.state === 'running' ? Math.max(0, now - this.startedAtMs) : 0,
      k: this.opts.k,
      peersByHealth: this.table.healthCounts(now),
      buckets: this.table.bucketFill(),
      counters: withTransportDrops(this.rpc.counters, this.transport.stats),
      inFlight: this.rpc.inFlight,
      rpcLatencyMs: this.rpc.latency,
      lookups: { byKind: this.lookupStats.byKind },
      records: this.storage.store.stats(),
      refusals: this.storage.server.refusals,
      transport: this.transport.stats ?? null,
      estimatedNetworkSize: this.table.estimateNetworkSize(),
    };
  }

  /**
   * What the explorer's once-a-second tick shows, equal to those fields of snapshot() (peers: the
   * length of its peer list) without the rest of it: no walk of the table, nothing per peer or per
   * record held.
   */
  tickFigures(): { now: number; counters: Counters; peers: number; estimatedNetworkSize: number; observedAddress: Endpoint | null } {
    return {
      now: this.clock.now(),
      counters: withTransportDrops(this.rpc.snapshotCounters(), this.transport.stats),
      peers: this.table.size,
      estimatedNetworkSize: this.table.estimateNetworkSize(),
      observedAddress: this.observed,
    };
  }

  /** Our requests in flight now (snapshot().counters.inFlight, without the rest of a snapshot). */
  get inFlight(): number {
    return this.rpc.inFlight;
  }

  snapshot(): NodeSnapshot {
    const now = this.clock.now();
    const buckets = this.table.bucketInfos(now).map((b) => ({ ...b, peers: b.peers.map((p) => this.annotate(p)) }));
    const peers: PeerInfo[] = buckets.flatMap((b) => b.peers);
    return {
      id: this.id,
      address: this.state === 'running' || this.state === 'stopped' ? safeAddress(this.transport) : { host: '', port: 0 },
      ...(this.state === 'running' && this.transport instanceof DualStackTransport ? { addresses: this.transport.addresses } : {}),
      observedAddress: this.observed,
      ...(this.transport.socketLayer !== undefined ? { socketLayer: this.transport.socketLayer } : {}),
      startedAt: this.startedAtMs,
      now,
      k: this.opts.k,
      alpha: this.opts.alpha,
      buckets,
      peers,
      counters: withTransportDrops(this.rpc.snapshotCounters(), this.transport.stats),
      estimatedNetworkSize: this.table.estimateNetworkSize(),
      diversityLimits: this.table.diversityEnabled,
      records: this.records.held(),
      protocol: { name: this.protocol.name, label: this.protocol.label, idBytes: this.protocol.idBytes },
    };
  }
}

/**
 * The node's counters with the datagrams its transport dropped before the node saw them (udx-native
 * reads at most 2,048 bytes: a longer one is counted as `truncated` and never decoded) folded in, as
 * received and dropped `oversize`: one place (Overview, metrics, the CLI) counts every datagram that
 * arrived. Returns the counters object itself when the transport dropped none (the metrics path).
 */
function withTransportDrops<C extends Omit<Counters, 'inFlight'>>(c: C, stats: TransportStats | undefined): C {
  const cut = stats?.truncated ?? 0;
  if (cut === 0) return c;
  return { ...c, rxPackets: c.rxPackets + cut, dropped: { ...c.dropped, oversize: (c.dropped.oversize ?? 0) + cut } };
}

/** A name call() may send: any name the wire carries (the peer decides whether it has it). */
function checkCallName(name: unknown): string | null {
  if (typeof name !== 'string' || !CUSTOM_METHOD_NAME.test(name)) {
    return `method name ${JSON.stringify(String(name).slice(0, 40))} must be 1-32 characters of a-z 0-9 . _ - starting with a letter`;
  }
  return null;
}

function safeAddress(t: Transport): Endpoint {
  try {
    return t.address;
  } catch {
    return { host: '', port: 0 };
  }
}

function idFromHexOrThrow(hex: string, bytes?: number): Uint8Array {
  try {
    return idFromHex(hex, bytes);
  } catch (err) {
    throw DhtError.invalidArgument((err as Error).message);
  }
}

/**
 * What the record layer needs of its node: one object per node with its methods on the prototype.
 * An object literal of methods closing over the node cost a closure each (~56 bytes, a dozen of
 * them) in every node of a process. The node's private parts are read by name (a TypeScript
 * escape hatch kept to this class).
 */
class RecordLinks implements RecordLayerDeps {
  readonly clock: Clock;
  readonly randomBytes: RandomBytes;
  readonly selfId: Uint8Array;
  readonly k: number;
  readonly encode: RecordLayerDeps['encode'];
  readonly maxAnswerBytes: number | undefined;
  readonly hashTopic: RecordLayerDeps['hashTopic'];
  readonly model: RecordLayerDeps['model'];
  readonly namedKeys: boolean;

  constructor(
    private readonly node: DhtNode,
    protocol: DhtProtocol,
  ) {
    this.clock = node['clock'];
    this.randomBytes = node['randomBytes'];
    this.selfId = node.idBytes;
    this.k = node['opts'].k;
    this.encode = protocol.codec.encode;
    this.maxAnswerBytes = protocol.codec.maxDatagramBytes;
    this.hashTopic = protocol.hashTopic;
    this.model = protocol.records;
    this.namedKeys = protocol.capabilities.namedKeys;
  }

  request(to: Endpoint, args: RequestArgs, options: { signal: AbortSignal }): Promise<RpcResult> {
    return this.node['request'](to, args, options);
  }

  lookup(...[target, kind, args, options]: Parameters<RecordLayerDeps['lookup']>): Lookup {
    return this.node['makeLookup'](target, kind, this.node['queryFor'](args), options);
  }

  closest(target: Uint8Array, n: number): ReturnType<RecordLayerDeps['closest']> {
    return this.node.table.closest(target, n);
  }

  closestWire(target: Uint8Array, families?: ReadonlyArray<4 | 6>): WireContact[] {
    return this.node['closestWire'](target, families);
  }

  peersToSave(): PersistedPeer[] {
    return this.node['peersToSave']();
  }

  emit<K extends RecordEventName>(event: K, payload: NodeEvents[K]): void {
    this.node['emit'](event, payload);
  }

  peerFailed(id: string): void {
    this.node['onPeerFailed'](id);
  }

  address(): Endpoint {
    return this.node.address;
  }

  signal(signal?: AbortSignal): AbortSignal {
    return this.node['signalFor'](signal);
  }

  localHosts(): string[] {
    return this.node.localHosts();
  }

  observedAddress(): Endpoint | null {
    return this.node['observed'];
  }

  assertRunning(): void {
    this.node['assertRunning']();
  }
}

function entryToPeer(e: RoutingEntry): LookupPeer {
  return { id: e.id, idBytes: e.idBytes, host: e.host, port: e.port };
}

export function answerOf(
  res: { id: Uint8Array; nodes?: WireContact[]; token?: Uint8Array; record?: QueryAnswer['record']; peers?: QueryAnswer['peers']; readOnly?: boolean },
  r: { rttMs: number; bytesSent: number; bytesReceived: number; attempts: number },
): QueryAnswer {
  return {
    id: bytesToHex(res.id),
    nodes: res.nodes ?? [],
    rttMs: r.rttMs,
    bytesSent: r.bytesSent,
    bytesReceived: r.bytesReceived,
    attempts: r.attempts,
    ...(res.token ? { token: res.token } : {}),
    ...(res.record ? { record: res.record } : {}),
    ...(res.peers ? { peers: res.peers } : {}),
    // dht-rpc leaves a node that answers without an id out of the closest.
    ...(res.readOnly === true ? { member: false } : {}),
  };
}
