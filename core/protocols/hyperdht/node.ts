// A HyperDHT node: dht-rpc 6 routing and hyperdht's records, on kadscope's routing table and
// lookup engine (core/routing, core/lookup), over any Transport. It joins a network of real
// hyperdht nodes: answers PING, PING_NAT, FIND_NODE, DOWN_HINT and DELAYED_PING always, and
// LOOKUP, ANNOUNCE, UNANNOUNCE, IMMUTABLE_* and MUTABLE_* while persistent, as hyperdht does.
//
// Ids: a persistent node's id is BLAKE2b-256 of its address as others see it (sampled from the
// `to` field of replies); an ephemeral node sends none. An id enters the table only when it
// matches the datagram's source (rpc.ts checks every one); addresses learnt as closer nodes get
// their id derived from the address, so no unverified id is ever used.
//
// Ephemeral or persistent, as dht-rpc decides it: `ephemeral: true` stays a client (one-shot
// commands); `ephemeral: false` turns persistent as soon as its address is known; left unset, the
// node asks up to five nodes to PING_NAT it from a second socket (that socket has never sent to
// them, so a NAT would not let their answers through) and turns persistent when three answer at
// the address it is seen at.
//
// DOWN_HINT: a node that does not answer a lookup's query is named to every node that referred
// us to it, so they check it and drop it; a hint we receive makes us ping that node and drop it
// if it is gone.
import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type TimerHandle } from '../../clock';
import { DhtError } from '../../errors';
import { bytesToHex, cryptoRandomBytes, hexToBytes, randomId, type RandomBytes } from '../../id';
import { Lookup, type LookupPeer, type QueryAnswer, type RecordVerdict } from '../../lookup/lookup';
import type { KeyPair } from '../../records/signing';
import { diversityForHost } from '../../routing/diversity';
import { RoutingTable, type ObserveResult } from '../../routing/table';
import { endpointKey, type Endpoint, type Transport } from '../../transport/types';
import type { LookupEvent, LookupKind } from '../../types';
import type { WireContact } from '../../wire/types';
import { Reader, Writer } from './compact';
import { equalBytes, hyperNodeId, immutableKey, publicKeyTarget, HYPERDHT_NS } from './crypto';
import { HYPERDHT_COMMANDS, HYPERDHT_ERRORS, INTERNAL_COMMANDS, errorName } from './messages';
import {
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
  signAnnounce,
  signMutable,
  verifyAnnounce,
  verifyMutable,
  type HyperPeerRecord,
  type MutableValue,
} from './records';
import { HyperRpc, type HyperReply, type IncomingRequest } from './rpc';
import { HYPER_MAX_VALUE_BYTES, HyperStore } from './store';

export const HYPER_K = 20;
export const HYPER_ALPHA = 3;
/** dht-rpc refreshes every ~5 min when idle and checks its oldest nodes every 40 s. */
export const HYPER_REFRESH_INTERVAL_MS = 5 * 60_000;
export const HYPER_PING_INTERVAL_MS = 40_000;
export const HYPER_PINGS_PER_ROUND = 3;
/** dht-rpc sends at most 50 down hints per 5 s tick. */
export const HYPER_DOWN_HINTS_PER_WINDOW = 50;
export const HYPER_DOWN_HINT_WINDOW_MS = 5_000;
export const HYPER_MAX_CHECKS = 10;
export const HYPER_MAX_DELAYED_PINGS = 64;
export const HYPER_MAX_PING_DELAY_MS = 10_000;
/** Replies' `to` fields we keep to decide our address. */
export const HYPER_NAT_SAMPLES = 16;
export const HYPER_PROBE_NODES = 5;
/** Referrers remembered per referred address in one lookup (for down hints). */
const MAX_REFERRERS = 3;

export interface HyperDhtNodeDeps {
  transport: Transport;
  clock?: Clock;
  randomBytes?: RandomBytes;
  /** A second socket for the reachability probe; without it an adaptive node stays ephemeral. */
  createProbeTransport?: () => Transport;
}

export interface HyperDhtNodeOptions {
  /** Where to join. Required: there is no default network (public nodes only when the user names them). */
  bootstrap: Endpoint[];
  /** true: client only; false: persistent once its address is known; unset: probe and decide. */
  ephemeral?: boolean;
  /**
   * The address others reach us at, when we know it (dht-rpc's bootstrapper): persistent from the
   * start, with no one needed to tell us. The first node of a network needs it.
   */
  knownAddress?: Endpoint;
  /** A hex id saved by an earlier run; replaced (with a log line saying why) when it no longer fits. */
  persistedId?: string;
  k?: number;
  alpha?: number;
  rpcTimeoutMs?: number;
  retries?: number;
  refreshIntervalMs?: number;
  pingIntervalMs?: number;
  /** Send DOWN_HINTs (default true). */
  downHints?: boolean;
  onLog?: (line: string) => void;
}

export interface HyperContact {
  id: string;
  host: string;
  port: number;
}

export interface Acceptance {
  /** Nodes that stored it. */
  accepted: number;
  /** Nodes asked to store it. */
  asked: number;
  /** Why the others did not, one line each ("10.0.0.1:4000: SEQ_TOO_LOW", "…: no answer"). */
  refusals: string[];
}

export interface HyperQueryResult {
  closest: HyperContact[];
  messages: number;
  durationMs: number;
  hops: number;
}

export interface HyperDhtNodeEvents {
  log: [line: string];
  persistent: [id: string];
  lookup: [e: LookupEvent];
  'add-node': [c: HyperContact];
  'remove-node': [c: HyperContact];
}

interface QueryRun {
  done: Extract<LookupEvent, { type: 'done' }>;
  closest: Array<LookupPeer & { token?: Uint8Array }>;
  replies: Map<string, HyperReply>;
}

interface QuerySpec {
  kind: LookupKind;
  internal: boolean;
  command: number;
  target: Uint8Array;
  value?: Uint8Array | null;
  signal?: AbortSignal;
  onReply?: (peer: LookupPeer, reply: HyperReply) => RecordVerdict | void;
}

function u16(n: number): Uint8Array {
  const w = new Writer(2);
  w.uint16(n);
  return w.finish();
}

export class HyperDhtNode extends EventEmitter<HyperDhtNodeEvents> {
  readonly store = new HyperStore();
  table: RoutingTable;
  rpc!: HyperRpc;
  /** Our address as the network reports it, once replies agree on it. */
  observed: Endpoint | null = null;

  private readonly clock: Clock;
  private readonly random: RandomBytes;
  private readonly k: number;
  private readonly alpha: number;
  private readonly natSamples: string[] = [];
  private started = false;
  private stopped = false;
  private timers = new Set<TimerHandle>();
  private checks = 0;
  private downHintsSent = 0;
  private downHintWindowStart = 0;
  private delayedPings = 0;
  private lookupSeq = 0;
  private refreshTimer: TimerHandle | null = null;
  private pingTimer: TimerHandle | null = null;
  private readonly pendingSwaps = new Set<string>();

  constructor(
    private readonly deps: HyperDhtNodeDeps,
    private readonly options: HyperDhtNodeOptions,
  ) {
    super();
    if (!Array.isArray(options.bootstrap)) throw DhtError.invalidArgument('hyperdht: bootstrap must be a list of host:port (use [] for a first node)');
    this.clock = deps.clock ?? systemClock;
    this.random = deps.randomBytes ?? cryptoRandomBytes;
    this.k = options.k ?? HYPER_K;
    this.alpha = options.alpha ?? HYPER_ALPHA;
    this.table = this.newTable(randomId(this.random));
  }

  get persistent(): boolean {
    return this.rpc?.id != null;
  }

  /** Our id: BLAKE2b-256 of our address while persistent; a random table key while ephemeral. */
  get id(): string {
    return this.table.selfId;
  }

  get address(): Endpoint {
    return this.deps.transport.address;
  }

  private log(line: string): void {
    this.options.onLog?.(line);
    this.emit('log', line);
  }

  private newTable(self: Uint8Array): RoutingTable {
    let host = '127.0.0.1';
    try {
      host = this.deps.transport.address.host;
    } catch {
      // not bound yet: the table is rebuilt with the real host in start()
    }
    return new RoutingTable(self, { k: this.k, diversity: diversityForHost(host) });
  }

  async start(): Promise<void> {
    if (this.started) throw DhtError.invalidArgument('hyperdht node already started');
    this.started = true;
    this.rpc = new HyperRpc(
      {
        transport: this.deps.transport,
        clock: this.clock,
        randomBytes: this.random,
        onRequest: (r) => this.onRequest(r),
        onReply: (r) => this.onReply(r),
        onTimeout: (to) => this.onTimeout(to),
      },
      { timeoutMs: this.options.rpcTimeoutMs, retries: this.options.retries },
    );
    await this.deps.transport.bind();
    this.table = this.newTable(hexToBytes(this.table.selfId));
    await this.bootstrap();
    this.scheduleMaintenance();
  }

  /** Joins: a lookup of our own id, then the ephemeral/persistent decision. */
  async bootstrap(): Promise<void> {
    if (this.options.knownAddress && !this.persistent) await this.becomePersistent(this.options.knownAddress);
    await this.findNode(hexToBytes(this.id));
    if (this.options.ephemeral === true || this.persistent) return;
    const addr = this.observedAddress();
    if (addr === null) {
      this.log('hyperdht: staying ephemeral: no consistent address reported by the network yet');
      return;
    }
    if (this.options.ephemeral === false) {
      await this.becomePersistent(addr);
      return;
    }
    if (await this.reachable(addr)) await this.becomePersistent(addr);
    else this.log(`hyperdht: staying ephemeral: ${endpointKey(addr)} did not receive PING_NAT answers from the network`);
  }

  private async reachable(addr: Endpoint): Promise<boolean> {
    if (!this.deps.createProbeTransport) return false;
    if (addr.port !== this.address.port) return false;
    const probe = this.deps.createProbeTransport();
    probe.onMessage(() => {});
    try {
      await probe.bind();
      const nodes = this.table.closest(hexToBytes(this.id), HYPER_PROBE_NODES);
      const targets: Endpoint[] = nodes.length > 0 ? nodes : this.options.bootstrap.slice(0, HYPER_PROBE_NODES);
      const answers = await Promise.allSettled(
        targets.map((n) => this.rpc.request(n, { internal: true, command: INTERNAL_COMMANDS.PING_NAT, value: u16(this.address.port) }, { via: probe })),
      );
      let agreeing = 0;
      for (const a of answers) if (a.status === 'fulfilled' && a.value.res.to.host === addr.host && a.value.res.to.port === addr.port) agreeing++;
      return agreeing >= (targets.length >= HYPER_PROBE_NODES ? 3 : 1);
    } catch {
      return false;
    } finally {
      await probe.close();
    }
  }

  /** Takes the id of addr and announces it with a lookup of it (so the nodes nearest it add us). */
  private async becomePersistent(addr: Endpoint): Promise<void> {
    const id = hyperNodeId(addr);
    if (id === null) {
      this.log(`hyperdht: staying ephemeral: ${endpointKey(addr)} is not an IPv4 address, so it has no dht-rpc id`);
      return;
    }
    const hex = bytesToHex(id);
    if (this.options.persistedId && this.options.persistedId.toLowerCase() !== hex) {
      this.log(
        `hyperdht: replacing persisted id ${this.options.persistedId.slice(0, 16)}… with ${hex.slice(0, 16)}…: ` +
          `a dht-rpc id is BLAKE2b-256 of the address others see (${endpointKey(addr)}), and the saved one does not fit it`,
      );
    }
    this.observed = addr;
    this.rekey(id);
    this.rpc.id = id;
    this.emit('persistent', hex);
    this.log(`hyperdht: persistent at ${endpointKey(addr)} with id ${hex.slice(0, 16)}…`);
    await this.findNode(id).catch(() => {});
  }

  /** A new id means a new table: the entries move over (those that fit). */
  private rekey(id: Uint8Array): void {
    if (this.table.selfId === bytesToHex(id)) return;
    const old = this.table.entries();
    this.table = this.newTable(id);
    const now = this.clock.now();
    for (const e of old) this.table.observe({ id: e.id, host: e.host, port: e.port }, now);
  }

  private sampleAddress(to: Endpoint): void {
    this.natSamples.push(endpointKey(to));
    if (this.natSamples.length > HYPER_NAT_SAMPLES) this.natSamples.shift();
  }

  /**
   * The address replies report, when enough agree: as dht-rpc's nat-sampler, all of the first 3
   * samples, all but one of up to 7, all but two of up to 11, all but three beyond.
   */
  observedAddress(): Endpoint | null {
    const counts = new Map<string, number>();
    let best = '';
    let bestCount = 0;
    for (const s of this.natSamples) {
      const n = (counts.get(s) ?? 0) + 1;
      counts.set(s, n);
      if (n > bestCount) {
        best = s;
        bestCount = n;
      }
    }
    const size = this.natSamples.length;
    const threshold = size - (size < 4 ? 0 : size < 8 ? 1 : size < 12 ? 2 : 3);
    if (size === 0 || bestCount < threshold) return null;
    const at = best.lastIndexOf(':');
    return { host: best.slice(0, at), port: Number(best.slice(at + 1)) };
  }

  // -------------------------------------------------------------------------------------------
  // Routing table upkeep

  private observe(id: Uint8Array, from: Endpoint, rttMs?: number): void {
    if (this.stopped) return;
    const hex = bytesToHex(id);
    const had = this.table.has(hex);
    let r: ObserveResult;
    try {
      r = this.table.observe({ id: hex, host: from.host, port: from.port }, this.clock.now(), rttMs === undefined ? {} : { rttMs });
    } catch {
      return;
    }
    if ((r.kind === 'added' || r.kind === 'replaced') && !had) this.emit('add-node', { id: hex, host: from.host, port: from.port });
    if (r.kind === 'pending-ping' && !this.pendingSwaps.has(r.oldest.id) && this.pendingSwaps.size < 3) {
      const oldest = r.oldest;
      this.pendingSwaps.add(oldest.id);
      this.rpc
        .request(oldest, { internal: true, command: INTERNAL_COMMANDS.PING })
        .then((reply) => this.table.pingAnswered(oldest.id, this.clock.now(), reply.rttMs))
        .catch(() => {
          this.table.pingFailed(oldest.id, this.clock.now());
          this.emit('remove-node', { id: oldest.id, host: oldest.host, port: oldest.port });
        })
        .finally(() => this.pendingSwaps.delete(oldest.id));
    }
  }

  private drop(id: string): void {
    const e = this.table.remove(id);
    if (e) this.emit('remove-node', { id: e.id, host: e.host, port: e.port });
  }

  private onReply(r: HyperReply): void {
    this.sampleAddress(r.res.to);
    if (r.id !== null) this.observe(r.id, r.from, r.rttMs);
  }

  private onTimeout(to: Endpoint): void {
    const id = hyperNodeId(to);
    if (id !== null && this.table.has(bytesToHex(id))) this.drop(bytesToHex(id));
  }

  /** Ping a table node (after a DOWN_HINT or in the periodic round); drop it if it does not answer. */
  private check(e: { id: string; host: string; port: number }): void {
    if (this.checks >= HYPER_MAX_CHECKS || this.stopped) return;
    this.checks++;
    this.rpc
      .request(e, { internal: true, command: INTERNAL_COMMANDS.PING })
      .catch(() => this.drop(e.id))
      .finally(() => this.checks--);
  }

  private scheduleMaintenance(): void {
    const refreshMs = this.options.refreshIntervalMs ?? HYPER_REFRESH_INTERVAL_MS;
    const pingMs = this.options.pingIntervalMs ?? HYPER_PING_INTERVAL_MS;
    this.refreshTimer = this.clock.setTimeout(() => {
      this.refreshTimer = null;
      if (this.stopped) return;
      this.refresh();
      this.scheduleMaintenance();
    }, refreshMs);
    if (this.pingTimer === null) this.schedulePings(pingMs);
  }

  private schedulePings(pingMs: number): void {
    this.pingTimer = this.clock.setTimeout(() => {
      this.pingTimer = null;
      if (this.stopped) return;
      const oldest = this.table
        .entries()
        .sort((a, b) => a.lastSeen - b.lastSeen)
        .slice(0, HYPER_PINGS_PER_ROUND);
      for (const e of oldest) this.check(e);
      this.schedulePings(pingMs);
    }, pingMs);
  }

  /** A lookup of a random table node's id (or ours): keeps the table's far buckets alive. */
  refresh(): void {
    const entries = this.table.entries();
    const target = entries.length > 0 ? entries[Math.floor((this.random(1)[0] / 256) * entries.length)].idBytes : hexToBytes(this.id);
    void this.findNode(target).catch(() => {});
  }

  // -------------------------------------------------------------------------------------------
  // Serving requests

  private onRequest(r: IncomingRequest): void {
    if (this.stopped) return;
    this.sampleAddressFromRequest(r);
    if (r.id !== null) this.observe(r.id, r.from);
    const { req } = r;
    if (req.internal) {
      this.onInternal(r);
      return;
    }
    if (!this.persistent) {
      this.rpc.reply(r, { error: HYPERDHT_ERRORS.UNKNOWN_COMMAND, closerNodes: this.closerFor(req.target) });
      return;
    }
    this.onHyper(r);
  }

  private sampleAddressFromRequest(r: IncomingRequest): void {
    // A request says where it was sent; that is our address only if the sender saw us there.
    if (r.id !== null) this.sampleAddress(r.req.to);
  }

  private closerFor(target: Uint8Array | null): Endpoint[] {
    if (!target) return [];
    return this.table.closest(target, this.k).map((e) => ({ host: e.host, port: e.port }));
  }

  private onInternal(r: IncomingRequest): void {
    const { req } = r;
    switch (req.command) {
      case INTERNAL_COMMANDS.PING:
        this.rpc.reply(r);
        return;
      case INTERNAL_COMMANDS.PING_NAT: {
        if (!req.value || req.value.length < 2) return;
        const port = new Reader(req.value).uint16();
        if (port === 0) return;
        this.rpc.reply(r, { to: { host: r.from.host, port } });
        return;
      }
      case INTERNAL_COMMANDS.FIND_NODE:
        if (!req.target) return;
        this.rpc.reply(r, { closerNodes: this.closerFor(req.target) });
        return;
      case INTERNAL_COMMANDS.DOWN_HINT: {
        if (!req.value || req.value.length < 6) return;
        const down = new Reader(req.value).ipv4();
        const id = hyperNodeId(down);
        const e = id ? this.table.get(bytesToHex(id)) : undefined;
        if (e) this.check(e);
        this.rpc.reply(r);
        return;
      }
      case INTERNAL_COMMANDS.DELAYED_PING: {
        if (!req.value || req.value.length < 4) return;
        const delay = new Reader(req.value).uint32();
        if (delay > HYPER_MAX_PING_DELAY_MS || this.delayedPings >= HYPER_MAX_DELAYED_PINGS) return;
        this.delayedPings++;
        const t = this.clock.setTimeout(() => {
          this.timers.delete(t);
          this.delayedPings--;
          this.rpc.reply(r);
        }, delay);
        this.timers.add(t);
        return;
      }
      default:
        this.rpc.reply(r, { error: HYPERDHT_ERRORS.UNKNOWN_COMMAND, closerNodes: this.closerFor(req.target) });
    }
  }

  /** hyperdht's commands; what hyperdht answers with silence gets silence here too. */
  private onHyper(r: IncomingRequest): void {
    const { req } = r;
    const now = this.clock.now();
    const selfId = hexToBytes(this.id);
    const closerNodes = this.closerFor(req.target);
    switch (req.command) {
      case HYPERDHT_COMMANDS.LOOKUP: {
        if (!req.target) return;
        const { peers, bump } = this.store.peers(req.target, now);
        this.rpc.reply(r, { token: true, closerNodes, value: peers.length ? encodeLookupReply({ peers, bump }) : null });
        return;
      }
      case HYPERDHT_COMMANDS.ANNOUNCE:
      case HYPERDHT_COMMANDS.UNANNOUNCE: {
        if (!req.target || !req.token || !req.value) return;
        const ann = decodeAnnounce(req.value);
        if (typeof ann === 'string' || !ann.peer) return;
        const unannounce = req.command === HYPERDHT_COMMANDS.UNANNOUNCE;
        if (!verifyAnnounce(req.target, req.token, selfId, ann, unannounce ? HYPERDHT_NS.UNANNOUNCE : HYPERDHT_NS.ANNOUNCE)) return;
        if (unannounce) this.store.unannounce(req.target, ann.peer.publicKey);
        else this.store.announce(req.target, { publicKey: ann.peer.publicKey, relayAddresses: ann.peer.relayAddresses.slice(0, 3) }, now, ann.bump <= Date.now() + 60_000 ? ann.bump : 0);
        this.rpc.reply(r);
        return;
      }
      case HYPERDHT_COMMANDS.IMMUTABLE_PUT: {
        if (!req.target || !req.token || !req.value || req.value.length > HYPER_MAX_VALUE_BYTES) return;
        if (!equalBytes(immutableKey(req.value), req.target)) return;
        this.store.putImmutable(req.target, req.value, now);
        this.rpc.reply(r, { token: true, closerNodes });
        return;
      }
      case HYPERDHT_COMMANDS.IMMUTABLE_GET: {
        if (!req.target) return;
        this.rpc.reply(r, { token: true, closerNodes, value: this.store.getImmutable(req.target, now) ?? null });
        return;
      }
      case HYPERDHT_COMMANDS.MUTABLE_PUT: {
        if (!req.target || !req.token || !req.value) return;
        const p = decodeMutablePut(req.value);
        if (typeof p === 'string' || p.value.length > HYPER_MAX_VALUE_BYTES) return;
        if (!equalBytes(publicKeyTarget(p.publicKey), req.target)) return;
        if (!verifyMutable(p.signature, p.seq, p.value, p.publicKey)) return;
        const local = this.store.getMutable(req.target, now);
        if (local && local.seq === p.seq && !equalBytes(local.value, p.value)) {
          this.rpc.reply(r, { error: HYPERDHT_ERRORS.SEQ_REUSED, closerNodes });
          return;
        }
        if (local && p.seq < local.seq) {
          this.rpc.reply(r, { error: HYPERDHT_ERRORS.SEQ_TOO_LOW, closerNodes });
          return;
        }
        this.store.putMutable(req.target, p, now);
        this.rpc.reply(r, { token: true, closerNodes });
        return;
      }
      case HYPERDHT_COMMANDS.MUTABLE_GET: {
        if (!req.target || !req.value) return;
        const seq = decodeSeq(req.value);
        if (typeof seq === 'string') return;
        const local = this.store.getMutable(req.target, now);
        this.rpc.reply(r, { token: true, closerNodes, value: local && local.seq >= seq ? encodeMutableValue(local) : null });
        return;
      }
      case HYPERDHT_COMMANDS.FIND_PEER:
        if (!req.target) return;
        this.rpc.reply(r, { token: true, closerNodes });
        return;
      default:
        this.rpc.reply(r, { error: HYPERDHT_ERRORS.UNKNOWN_COMMAND, closerNodes });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Queries

  private seeds(target: Uint8Array): LookupPeer[] {
    const out: LookupPeer[] = this.table.closest(target, this.k).map((e) => ({ id: e.id, idBytes: e.idBytes, host: e.host, port: e.port }));
    if (out.length < this.k) {
      for (const b of this.options.bootstrap) {
        const id = hyperNodeId(b);
        if (id && !out.some((p) => p.host === b.host && p.port === b.port)) out.push({ id: bytesToHex(id), idBytes: id, host: b.host, port: b.port });
      }
    }
    return out;
  }

  private isSelf(e: Endpoint): boolean {
    const a = this.deps.transport.address;
    if (e.port === a.port && (e.host === a.host || (a.host === '0.0.0.0' && e.host === '127.0.0.1'))) return true;
    return this.observed !== null && e.host === this.observed.host && e.port === this.observed.port;
  }

  private sendDownHint(to: Endpoint, down: Endpoint): void {
    if (this.options.downHints === false) return;
    const now = this.clock.now();
    if (now - this.downHintWindowStart >= HYPER_DOWN_HINT_WINDOW_MS) {
      this.downHintWindowStart = now;
      this.downHintsSent = 0;
    }
    if (this.downHintsSent >= HYPER_DOWN_HINTS_PER_WINDOW) return;
    this.downHintsSent++;
    const w = new Writer(6);
    w.ipv4(down);
    this.rpc.request(to, { internal: true, command: INTERNAL_COMMANDS.DOWN_HINT, value: w.finish() }, { retries: 0 }).catch(() => {});
  }

  /** One iterative query: the lookup engine asks, this says how (dht-rpc request, closer nodes by address). */
  async query(spec: QuerySpec): Promise<QueryRun> {
    if (!this.started || this.stopped) throw this.stopped ? DhtError.stopped() : DhtError.notStarted();
    const replies = new Map<string, HyperReply>();
    const referrers = new Map<string, Endpoint[]>();
    const cap = this.k * 16;
    const verdicts = new Map<string, RecordVerdict>();
    const query = async (peer: LookupPeer, signal: AbortSignal, onSend: (attempt: number, bytes: number) => void): Promise<QueryAnswer> => {
      let reply: HyperReply;
      try {
        reply = await this.rpc.request(peer, { internal: spec.internal, command: spec.command, target: spec.target, value: spec.value ?? null }, { signal, onSend });
      } catch (e) {
        if (e instanceof DhtError && e.code === 'TIMEOUT') for (const ref of referrers.get(endpointKey(peer)) ?? []) this.sendDownHint(ref, peer);
        throw e;
      }
      if (replies.size < cap) replies.set(endpointKey(peer), reply);
      const nodes: WireContact[] = [];
      for (const n of reply.res.closerNodes) {
        const id = n.port > 0 && !this.isSelf(n) ? hyperNodeId(n) : null;
        if (id === null) continue;
        nodes.push({ id, host: n.host, port: n.port });
        const key = endpointKey(n);
        const refs = referrers.get(key);
        if (refs) {
          if (refs.length < MAX_REFERRERS) refs.push(peer);
        } else if (referrers.size < cap) referrers.set(key, [{ host: peer.host, port: peer.port }]);
      }
      const verdict = spec.onReply?.(peer, reply);
      const answer: QueryAnswer = {
        nodes,
        rttMs: reply.rttMs,
        bytesSent: reply.bytesSent,
        bytesReceived: reply.bytesReceived,
        attempts: reply.attempts,
        id: peer.id,
        // dht-rpc leaves a node that answers without an id (ephemeral) out of the closest.
        member: reply.id !== null,
        ...(reply.res.token ? { token: reply.res.token } : {}),
      };
      if (verdict) answer.record = { type: 'immutable', value: new Uint8Array(0) };
      verdicts.set(endpointKey(peer), verdict ?? 'continue');
      return answer;
    };
    const lookup = new Lookup({
      lookupId: `hyperdht-${++this.lookupSeq}`,
      kind: spec.kind,
      self: this.id,
      target: spec.target,
      k: this.k,
      alpha: this.alpha,
      rpcTimeoutMs: this.options.rpcTimeoutMs ?? 1_000,
      seeds: this.seeds(spec.target),
      query,
      clock: this.clock,
      signal: spec.signal,
      onRecord: (_record, from) => verdicts.get(endpointKey(from)) ?? 'continue',
      onEvent: (e) => this.emit('lookup', e),
      wantsEvents: () => this.listenerCount('lookup') > 0,
      accept: (c) => c.port > 0 && !this.isSelf(c),
    });
    const done = await lookup.run();
    return { done, closest: lookup.outcome.closest, replies };
  }

  private result(run: QueryRun): HyperQueryResult {
    return {
      closest: run.done.closest.map((c) => ({ id: c.id, host: c.host, port: c.port })),
      messages: run.done.messages,
      durationMs: run.done.durationMs,
      hops: run.done.hops,
    };
  }

  /**
   * Sends a write to each of the closest nodes that answered with an id and a token, and reports
   * how many accepted. hyperdht answers most refusals with silence, so a refusal is an answer that
   * never came (after the retries) or an error code.
   */
  private async commit(run: QueryRun, build: (reply: HyperReply) => { command: number; target: Uint8Array; value: Uint8Array } | null): Promise<Acceptance> {
    const targets: HyperReply[] = [];
    for (const c of run.closest) {
      const reply = run.replies.get(endpointKey(c));
      if (reply && reply.id !== null && reply.res.token !== null && reply.res.error === 0) targets.push(reply);
    }
    const refusals: string[] = [];
    let accepted = 0;
    await Promise.all(
      targets.map(async (reply) => {
        const who = endpointKey(reply.from);
        const out = build(reply);
        if (!out) return;
        try {
          const res = await this.rpc.request(reply.from, { internal: false, token: reply.res.token, ...out });
          if (res.res.error === 0) accepted++;
          else refusals.push(`${who}: ${errorName(res.res.error)}`);
        } catch (e) {
          refusals.push(`${who}: ${e instanceof DhtError && e.code === 'TIMEOUT' ? 'no answer (hyperdht refuses in silence)' : String(e)}`);
        }
      }),
    );
    return { accepted, asked: targets.length, refusals };
  }

  async ping(to: Endpoint, signal?: AbortSignal): Promise<{ rttMs: number; id: string | null; observed: Endpoint }> {
    const r = await this.rpc.request(to, { internal: true, command: INTERNAL_COMMANDS.PING }, { signal });
    return { rttMs: r.rttMs, id: r.id ? bytesToHex(r.id) : null, observed: r.res.to };
  }

  async findNode(target: Uint8Array, signal?: AbortSignal): Promise<HyperQueryResult> {
    return this.result(await this.query({ kind: 'find-node', internal: true, command: INTERNAL_COMMANDS.FIND_NODE, target, signal }));
  }

  /** The peers announced under a topic, deduplicated by public key. */
  async lookup(topic: Uint8Array, signal?: AbortSignal): Promise<HyperQueryResult & { peers: HyperPeerRecord[] }> {
    const peers = new Map<string, HyperPeerRecord>();
    const run = await this.query({
      kind: 'get-peers',
      internal: false,
      command: HYPERDHT_COMMANDS.LOOKUP,
      target: topic,
      signal,
      onReply: (_peer, reply) => {
        if (!reply.res.value) return;
        const l = decodeLookupReply(reply.res.value);
        if (typeof l === 'string') return 'reject';
        for (const p of l.peers) if (peers.size < 1_000) peers.set(bytesToHex(p.publicKey), p);
      },
    });
    return { ...this.result(run), peers: [...peers.values()] };
  }

  /** Announces keyPair's public key under topic on the closest nodes (each signature binds that node's id and token). */
  async announce(topic: Uint8Array, keyPair: KeyPair, relayAddresses: Endpoint[] = [], signal?: AbortSignal): Promise<HyperQueryResult & Acceptance> {
    const run = await this.query({ kind: 'get-peers', internal: false, command: HYPERDHT_COMMANDS.LOOKUP, target: topic, signal });
    const peer = { publicKey: keyPair.publicKey, relayAddresses: relayAddresses.slice(0, 3) };
    const acc = await this.commit(run, (reply) => {
      const signature = signAnnounce(topic, reply.res.token!, reply.id!, peer, keyPair);
      return { command: HYPERDHT_COMMANDS.ANNOUNCE, target: topic, value: encodeAnnounce({ peer, refresh: null, signature, bump: 0 }) };
    });
    return { ...this.result(run), ...acc };
  }

  async immutablePut(value: Uint8Array, signal?: AbortSignal): Promise<HyperQueryResult & Acceptance & { key: string }> {
    if (value.length > HYPER_MAX_VALUE_BYTES) throw new DhtError('VALUE_TOO_LARGE', `a value is at most ${HYPER_MAX_VALUE_BYTES} bytes here; got ${value.length}`);
    const key = immutableKey(value);
    const run = await this.query({ kind: 'find-value', internal: false, command: HYPERDHT_COMMANDS.IMMUTABLE_GET, target: key, signal });
    const acc = await this.commit(run, () => ({ command: HYPERDHT_COMMANDS.IMMUTABLE_PUT, target: key, value }));
    return { ...this.result(run), ...acc, key: bytesToHex(key) };
  }

  /** The value whose BLAKE2b-256 is key, or null; answers that do not hash to key are ignored. */
  async immutableGet(key: Uint8Array, signal?: AbortSignal): Promise<HyperQueryResult & { value: Uint8Array | null; from: Endpoint | null }> {
    let found: { value: Uint8Array; from: Endpoint } | null = null;
    const run = await this.query({
      kind: 'find-value',
      internal: false,
      command: HYPERDHT_COMMANDS.IMMUTABLE_GET,
      target: key,
      signal,
      onReply: (peer, reply) => {
        const v = reply.res.value;
        if (!v) return;
        if (!equalBytes(immutableKey(v), key)) return 'reject';
        found ??= { value: new Uint8Array(v), from: { host: peer.host, port: peer.port } };
        return 'stop';
      },
    });
    const f = found as { value: Uint8Array; from: Endpoint } | null;
    return { ...this.result(run), value: f?.value ?? null, from: f?.from ?? null };
  }

  async mutablePut(keyPair: KeyPair, value: Uint8Array, seq: number, signal?: AbortSignal): Promise<HyperQueryResult & Acceptance & { publicKey: string; seq: number }> {
    if (value.length > HYPER_MAX_VALUE_BYTES) throw new DhtError('VALUE_TOO_LARGE', `a value is at most ${HYPER_MAX_VALUE_BYTES} bytes here; got ${value.length}`);
    if (!Number.isSafeInteger(seq) || seq < 0) throw DhtError.invalidArgument(`seq must be a non-negative integer; got ${seq}`);
    const target = publicKeyTarget(keyPair.publicKey);
    const signature = signMutable(seq, value, keyPair);
    const put = encodeMutablePut({ publicKey: keyPair.publicKey, seq, value, signature });
    const run = await this.query({ kind: 'find-value', internal: false, command: HYPERDHT_COMMANDS.MUTABLE_GET, target, value: encodeSeq(0), signal });
    const acc = await this.commit(run, () => ({ command: HYPERDHT_COMMANDS.MUTABLE_PUT, target, value: put }));
    return { ...this.result(run), ...acc, publicKey: bytesToHex(keyPair.publicKey), seq };
  }

  /** The highest-seq value signed by publicKey (at least minSeq), or null. */
  async mutableGet(publicKey: Uint8Array, minSeq = 0, signal?: AbortSignal): Promise<HyperQueryResult & { value: MutableValue | null }> {
    let best: MutableValue | null = null;
    const run = await this.query({
      kind: 'find-value',
      internal: false,
      command: HYPERDHT_COMMANDS.MUTABLE_GET,
      target: publicKeyTarget(publicKey),
      value: encodeSeq(minSeq),
      signal,
      onReply: (_peer, reply) => {
        if (!reply.res.value) return;
        const m = decodeMutableValue(reply.res.value);
        if (typeof m === 'string' || m.seq < minSeq || !verifyMutable(m.signature, m.seq, m.value, publicKey)) return 'reject';
        if (best === null || m.seq > best.seq) best = { seq: m.seq, value: new Uint8Array(m.value), signature: new Uint8Array(m.signature) };
        return 'continue';
      },
    });
    return { ...this.result(run), value: best as MutableValue | null };
  }

  /** Idempotent: clears every timer, fails what is in flight, closes the socket. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.refreshTimer, this.pingTimer, ...this.timers]) if (t !== null) this.clock.clearTimeout(t);
    this.timers.clear();
    this.rpc?.close();
    await this.deps.transport.close();
  }
}

/** "not accepted by N of M nodes", or null when every node asked accepted. */
export function acceptanceLine(a: Acceptance): string | null {
  if (a.asked === 0) return 'not accepted: no node answered with a write token';
  if (a.accepted === a.asked) return null;
  return `not accepted by ${a.asked - a.accepted} of ${a.asked} nodes`;
}
