// ExplorerService: everything behind the contract, shared by the Electron host and the headless host
// (it imports nothing of Electron). It owns the user's node and an optional local testnet, validates
// every call against the contract's schemas, turns core events into DTOs, batches them per
// subscriber and keeps the last lookups as traces.
import { DhtError, isDhtError } from '../../core/errors';
import { parseAddress } from '../../core/address';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock';
import { join as joinPath } from 'node:path';
import { bytesToHex, sha256Hex } from '../../core/id';
import { DhtNode, type DhtNodeOptions } from '../../core/node';
import type { FoundPeer } from '../../core/records/client';
import { KADSCOPE_RECORDS } from '../../core/records/model';
import { keyPairFromJson, type KeyPair } from '../../core/records/signing';
import type { SocketLayerChoice } from '../../core/transport/socket-layer';
import { endpointKey, type Endpoint } from '../../core/transport/types';
import type { BroadcastInfo } from '../../core/extensions/broadcast';
import { registerInfo } from '../../core/extensions/info';
import type { LookupEvent, NodeEvents, RecordInfo } from '../../core/types';
import { AppStore } from './app-store';
import { CrawlService } from './crawl-service';
import { EventBatcher, type BatcherOptions } from './batcher';
import type { BatchSink, ContractHandler } from './client';
import {
  CONTRACT_VERSION,
  err,
  isMethodName,
  ok,
  parseArgs,
  parseListenAddress,
  type ArgsOut,
  type BroadcastDto,
  type ErrorCode,
  type ExplorerEvent,
  type HostInfo,
  type HostKind,
  type KeyPairInfo,
  type MethodName,
  type ProtocolChoice,
  type Result,
  type TestnetStatus,
  type ValueInput,
  type ValueOf,
} from './contract';
import { HealthCoalescer } from './health-coalescer';
import { startMetricsServer, type MetricsServer } from './metrics';
import { RemoteError, RemoteNodes, summarize } from './remote';
import { STOPPED_TESTNET, startTestnet, type StartTestnetOptions, type TestnetHandle } from './testnet-runner';
import { parseTrace } from './trace-format';
import { TraceRecorder } from './trace-recorder';

/** Counters and figures for the Overview charts go out this often. */
export const TICK_INTERVAL_MS = 1000;
/** Network operations (lookups, puts, gets, pings) running at once on behalf of clients. */
export const MAX_CONCURRENT_OPERATIONS = 32;
/** Lookups started with startLookup and still running. */
export const MAX_ACTIVE_LOOKUPS = 16;

/** An error with one of the contract's own codes (the ones core's DhtError does not have). */
export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export interface ServiceDeps {
  /** Drives batching and ticks; the node gets it too. Default: the system clock. */
  clock?: Clock;
  /** Wall-clock ms for file times and testnet start times. */
  now?: () => number;
  createNode?: (options: DhtNodeOptions) => DhtNode;
  startTestnet?: (options: StartTestnetOptions) => Promise<TestnetHandle>;
}

export interface ServiceOptions {
  host: HostKind;
  appVersion: string;
  /** null keeps everything in memory. */
  dataDir: string | null;
  /** Join these; when empty, start the embedded testnet (if testnetSize > 0) and join it. */
  bootstrap: string[];
  testnetSize: number;
  nodePort?: number;
  /** Address the user's node binds; default 127.0.0.1, or 0.0.0.0 when joining a non-loopback network. */
  nodeHost?: string;
  /** Also bind this IPv6 address (a dual-stack node: IPv4 and IPv6 peers in one table). */
  nodeHost6?: string;
  /** The user's node's UDP socket layer: 'native' (kadscope's binding), 'udx' (udx-native) or 'dgram' (node:dgram); default the first that loads, in that order. */
  socketLayer?: SocketLayerChoice;
  /** Extra options for the user's node (tests shorten timeouts). */
  node?: Partial<DhtNodeOptions>;
  /** The network the user's node speaks at start (default kadscope); Join and the testnet can change it. */
  protocol?: ProtocolChoice;
  batcher?: BatcherOptions;
  tickIntervalMs?: number;
}

type Handlers = { [M in MethodName]: (args: ArgsOut<M>) => Promise<ValueOf<M>> | ValueOf<M> };
type Unsubscribe = () => void;

export class ExplorerService implements ContractHandler {
  private readonly clock: Clock;
  private readonly now: () => number;
  private readonly createNode: (options: DhtNodeOptions) => DhtNode;
  private readonly startTestnetFn: (options: StartTestnetOptions) => Promise<TestnetHandle>;
  private readonly options: ServiceOptions;
  private readonly batcher: EventBatcher;
  private readonly store: AppStore;
  private readonly traces = new TraceRecorder();
  /** Peer-health updates: changes at once, a good peer's refreshes once a tick (health-coalescer.ts). */
  private readonly health = new HealthCoalescer(
    (peer) => this.publish({ type: 'peer-health', peer }),
    (id) => this.userNode?.peerInfo(id),
  );
  private readonly crawls: CrawlService;
  private readonly handlers: Handlers;
  /** Remote nodes this host is attached to (remote.ts). */
  readonly remotes: RemoteNodes;
  private localRpcSample: { at: number; requests: number } | null = null;
  /** The metrics endpoint the metricsAddress setting asks for, and that address. */
  private metricsServer: { address: string; server: MetricsServer } | null = null;

  private userNode: DhtNode | null = null;
  private protocol: ProtocolChoice;
  private nodeUnsubs: Unsubscribe[] = [];
  private testnet: TestnetHandle | null = null;
  private mode: HostInfo['mode'] = 'standalone';
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private tickTimer: TimerHandle | null = null;
  private operations = 0;
  private readonly activeLookups = new Map<string, AbortController>();
  /** Calls waiting to learn the id of the lookup they caused, by target. */
  private readonly lookupWaiters = new Set<{ target: string; lookupId: string | null; onStart?: (id: string) => void }>();
  /** Serialises testnet and join changes so two clicks cannot interleave them. */
  private exclusiveChain: Promise<unknown> = Promise.resolve();

  constructor(deps: ServiceDeps, options: ServiceOptions) {
    this.clock = deps.clock ?? systemClock;
    this.now = deps.now ?? Date.now;
    this.createNode = deps.createNode ?? ((o) => DhtNode.create(o));
    this.startTestnetFn = deps.startTestnet ?? startTestnet;
    this.options = options;
    this.protocol = options.protocol ?? 'kadscope';
    this.batcher = new EventBatcher({ clock: this.clock }, options.batcher);
    this.store = new AppStore({ dataDir: options.dataDir });
    this.crawls = new CrawlService({
      dataDir: options.dataDir,
      node: () => this.node,
      testnetBootstrap: () => this.testnet?.status().bootstrap ?? [],
      publish: (e) => this.publish(e),
      fail: (code, message) => new ServiceError(code, message),
    });
    this.handlers = this.makeHandlers();
    this.remotes = new RemoteNodes(async () => {
      const r = summarize({ node: this.node.snapshot() }, this.traces.list(), this.localRpcSample, Date.now());
      this.localRpcSample = r.last;
      return r;
    });
  }

  /** The user's node; throws before start(). */
  get node(): DhtNode {
    if (!this.userNode) throw new ServiceError('UNAVAILABLE', 'the node is not started yet');
    return this.userNode;
  }

  get testnetStatus(): TestnetStatus {
    return this.testnet?.status() ?? { ...STOPPED_TESTNET };
  }

  /**
   * Loads settings, starts the embedded testnet when no bootstrap is given, starts the user's node
   * and joins. Returns one line per problem worth telling the person (corrupt files, failed joins).
   */
  async start(): Promise<{ warnings: string[] }> {
    if (this.state !== 'new') throw new ServiceError('INTERNAL', `start() called on a service that is ${this.state}`);
    this.state = 'starting';
    const warnings = await this.store.load();
    let bootstrap = this.options.bootstrap;
    try {
      if (bootstrap.length > 0) this.mode = 'bootstrap';
      else if (this.options.testnetSize > 0) {
        this.mode = 'embedded-testnet';
        this.testnet = await this.startTestnetFn({ size: this.options.testnetSize, now: this.now, protocol: this.protocol });
        bootstrap = this.testnet.status().bootstrap;
      }
      // The bootstrap goes to the node itself: given one, it joins through it; given none, it
      // rejoins through the peers saved in dataDir (so the embedded default never waits on the
      // previous session's testnet, which is gone).
      const node = this.createNode(this.nodeOptions(bootstrap));
      this.attach(node);
      const started = await node.start();
      warnings.push(...started.warnings);
      if (started.joinedVia === 'saved-peers' && this.mode === 'standalone') this.mode = 'saved-peers';
      if (started.join) {
        for (const f of started.join.failed) warnings.push(`bootstrap ${f.address}: ${f.error}`);
        if (started.join.reached.length === 0) warnings.push('no bootstrap node answered; the node runs alone until you join a network');
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.state = 'running';
    const metricsAddress = this.store.settings().metricsAddress;
    if (metricsAddress) await this.serveMetrics(metricsAddress).catch((e: Error) => warnings.push(`metrics not served: ${e.message}`));
    this.publish({ type: 'node', id: this.node.id, address: this.node.address, state: 'started' });
    if (this.testnet) this.publish({ type: 'testnet', status: this.testnet.status() });
    this.scheduleTick();
    return { warnings };
  }

  /** Starts, moves or stops the metrics endpoint of the metricsAddress setting. */
  private async serveMetrics(address: string): Promise<void> {
    if ((this.metricsServer?.address ?? '') === address) return;
    let next: MetricsServer | null = null;
    if (address !== '') {
      const r = parseListenAddress(address);
      if (!r.ok) throw DhtError.invalidArgument(`metricsAddress: ${r.message}`);
      const held = this.metricsServer;
      // Moving to the port we hold: let it go first.
      if (held && held.server.address.port === r.value.port) {
        this.metricsServer = null;
        await held.server.close();
      }
      try {
        next = await startMetricsServer(() => (this.userNode ? [{ name: 'self', node: this.userNode }] : []), r.value);
      } catch (e) {
        throw new ServiceError('CONFLICT', `metricsAddress: ${(e as Error).message.replace(/^metrics: /, '')}`);
      }
    }
    const old = this.metricsServer;
    this.metricsServer = next ? { address, server: next } : null;
    await old?.server.close();
  }

  /** Idempotent: aborts lookups, stops the node (which persists its state) and the testnet, drops subscribers. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.tickTimer !== null) this.clock.clearTimeout(this.tickTimer);
    this.tickTimer = null;
    for (const c of this.activeLookups.values()) c.abort();
    this.activeLookups.clear();
    await this.crawls.stop();
    const node = this.userNode;
    if (node) this.publish({ type: 'node', id: node.id, address: node.address, state: 'stopped' });
    this.remotes.close();
    const metrics = this.metricsServer;
    this.metricsServer = null;
    await metrics?.server.close();
    this.health.flush();
    this.batcher.flushAll();
    this.batcher.stop();
    for (const u of this.nodeUnsubs) u();
    this.nodeUnsubs = [];
    this.health.reset();
    await Promise.allSettled([node?.stop(), this.testnet?.stop()]);
    this.testnet = null;
  }

  subscribe(sink: BatchSink): () => void {
    return this.batcher.subscribe(sink);
  }

  /** Validates and runs one method. Never throws: every failure is a Result. */
  async invoke(method: string, args: unknown): Promise<Result<unknown>> {
    if (!isMethodName(method)) return err('UNKNOWN_METHOD', `unknown method ${JSON.stringify(String(method).slice(0, 64))}`);
    const parsed = parseArgs(method, args);
    if (!parsed.ok) return parsed;
    if (this.state !== 'running') {
      return err('UNAVAILABLE', this.state === 'stopped' ? 'the service has stopped' : 'the service is still starting; try again in a moment');
    }
    try {
      const handler = this.handlers[method] as (a: unknown) => unknown;
      return ok(await handler(parsed.value));
    } catch (e) {
      return toErr(e);
    }
  }

  // ---- methods ----

  private makeHandlers(): Handlers {
    return {
      info: () => ({
        contractVersion: CONTRACT_VERSION,
        appVersion: this.options.appVersion,
        host: this.options.host,
        dataDir: this.options.dataDir ?? '(memory only)',
        mode: this.mode,
        metricsUrl: this.metricsServer?.server.url ?? null,
      }),
      snapshot: () => ({ node: this.node.snapshot(), testnet: this.testnetStatus, records: this.localRecords() }),
      join: ({ bootstrap, protocol }) =>
        this.exclusive(async () => {
          if (protocol !== undefined) await this.switchProtocol(protocol);
          const r = await this.operation(() => this.node.bootstrap(bootstrap));
          return { reached: r.reached, failed: r.failed.map((f) => ({ address: f.address, message: f.error })), peers: r.peers };
        }),
      ping: async ({ address }) => {
        const to = mustParseAddress(address);
        const r = await this.operation(() => this.node.ping(to));
        return { id: r.id, rttMs: r.rttMs, observed: r.observed };
      },
      findNode: async ({ target }) => {
        const { value, lookupId } = await this.captureLookup(target, () => this.operation(() => this.node.findNode(target)));
        return { ...value, lookupId };
      },
      startLookup: ({ target, kind }) => this.startLookup(target, kind),
      cancelLookup: ({ lookupId }) => {
        const c = this.activeLookups.get(lookupId);
        c?.abort();
        return { cancelled: c !== undefined };
      },
      records: () => this.localRecords(),
      get: async ({ key: byKey, name, source, salt, publicKey }) => {
        const key = byKey ?? sha256Hex(name ?? '');
        const records = this.node.records;
        const pk = publicKey ?? (byKey !== undefined ? this.ownPublicKeyFor(byKey) : undefined);
        const options = { source, ...(salt !== undefined && salt !== '' ? { salt } : {}), ...(pk !== undefined ? { publicKey: pk } : {}) };
        const { value: r, lookupId } = await this.captureLookup(key, () =>
          this.operation(() => (name !== undefined ? records.getNamed(name, { source }) : records.get(key, options))),
        );
        return {
          key,
          base64: toBase64(r.value),
          text: utf8OrNull(r.value),
          from: r.from,
          hops: r.hops,
          messages: r.messages,
          durationMs: r.durationMs,
          seq: r.seq ?? null,
          name: r.name ?? null,
          lookupId: r.lookupId ?? lookupId,
        };
      },
      put: async ({ value, at }) => {
        const bytes = decodeValue(value);
        const records = this.node.records;
        if (at !== undefined) {
          const { value: r, lookupId } = await this.captureLookup(sha256Hex(at), () => this.operation(() => records.putNamed(at, bytes)));
          return { key: r.key, storedAt: r.storedAt, failed: r.failed, lookupId: r.lookupId ?? lookupId, name: r.name };
        }
        const model = this.recordModel();
        const key = bytesToHex(model.immutableKey(model.encodeValue(bytes)));
        const { value: r, lookupId } = await this.captureLookup(key, () => this.operation(() => records.put(bytes)));
        return { key: r.key, storedAt: r.storedAt, failed: r.failed, lookupId: r.lookupId ?? lookupId };
      },
      putMutable: async ({ value, seq, salt, keyPair, cas }) => {
        const records = this.node.records;
        const bytes = decodeValue(value);
        const saltBytes = salt !== undefined && salt !== '' ? new TextEncoder().encode(salt) : undefined;
        const name = keyPair === 'generate' ? this.freshKeyPairName() : keyPair;
        if (keyPair !== 'generate') this.savedKeyPair(keyPair); // NOT_FOUND before anything is generated
        const kp = this.node.keyPairs.get(name);
        const key = bytesToHex(this.recordModel().mutableKey(kp.publicKey, saltBytes ?? new Uint8Array(0)));
        const { value: r, lookupId } = await this.captureLookup(key, () =>
          this.operation(() => records.putMutable({ keyPair: kp, salt: saltBytes, seq, value: bytes, cas })),
        );
        return {
          key: r.key,
          storedAt: r.storedAt,
          failed: r.failed,
          lookupId: r.lookupId ?? lookupId,
          seq,
          publicKey: bytesToHex(kp.publicKey),
          salt: salt ?? null,
          keyPair: name,
        };
      },
      generateKeyPair: ({ name }) => {
        const n = name ?? this.freshKeyPairName();
        if (this.node.keyPairs.names().includes(n)) throw DhtError.invalidArgument(`name: a key pair named "${n}" already exists`);
        return keyPairInfo(n, this.node.keyPairs.get(n));
      },
      listKeyPairs: () => this.node.keyPairs.names().map((n) => keyPairInfo(n, this.node.keyPairs.get(n))),
      importKeyPair: ({ name, json }) => {
        let raw: unknown;
        try {
          raw = JSON.parse(json);
        } catch (e) {
          throw DhtError.invalidArgument(`json: not valid JSON (${(e as Error).message})`);
        }
        const r = keyPairFromJson(raw);
        if (!r.ok) throw DhtError.invalidArgument(`json: not a key pair file: ${r.message}`);
        if (this.node.keyPairs.names().includes(name)) throw DhtError.invalidArgument(`name: a key pair named "${name}" already exists`);
        this.node.keyPairs.add(name, r.value);
        return keyPairInfo(name, r.value);
      },
      announce: async ({ topic, port }) => {
        const key = bytesToHex(this.node.protocol.hashTopic(topic));
        // HyperDHT announces a public key, not a port: this node's key pair "announce".
        const keyPair = this.recordModel().signAnnouncement ? this.node.keyPairs.get(ANNOUNCE_KEY_PAIR) : undefined;
        const { value: r, lookupId } = await this.captureLookup(key, () => this.operation(() => this.node.records.announce(topic, port, keyPair ? { keyPair } : {})));
        return { topic, key, storedAt: r.storedAt, failed: r.failed, lookupId: r.lookupId ?? lookupId };
      },
      lookupPeers: async ({ topic }) => {
        const key = bytesToHex(this.node.protocol.hashTopic(topic));
        const { value: r, lookupId } = await this.captureLookup(key, () => this.operation(() => this.node.records.lookupPeers(topic)));
        const peerText = (p: FoundPeer): string =>
          p.publicKey === undefined ? endpointKey(p) : p.relayAddresses?.length ? `${p.publicKey}@${p.relayAddresses.map(endpointKey).join(',')}` : p.publicKey;
        const sameNetwork = r.sameNetwork.map((n) => ({ local: endpointKey(n.address), public: endpointKey(n.publicAddress) }));
        return { topic, key, peers: r.peers.map(peerText), sameNetwork, lookupId: r.lookupId ?? lookupId };
      },
      testnetStart: ({ size, join, protocol }) =>
        this.exclusive(async () => {
          if (this.testnet) throw new ServiceError('CONFLICT', 'a testnet is already running; stop it first');
          this.testnet = await this.startTestnetFn({ size, now: this.now, protocol: protocol ?? 'kadscope' });
          const status = this.testnet.status();
          this.publish({ type: 'testnet', status });
          // Our node joins it speaking its protocol.
          if (join) await this.switchProtocol(protocol ?? 'kadscope');
          // Join in the background: with a table full of a previous network's dead peers, the join
          // lookups wait out their timeouts, and the person should see the testnet at once. Peers
          // arrive as peer-added events.
          if (join) this.joinInBackground(status.bootstrap);
          return status;
        }),
      testnetStop: () =>
        this.exclusive(async () => {
          const t = this.testnet;
          this.testnet = null;
          await t?.stop();
          return this.publishTestnet();
        }),
      testnetAdd: ({ count }) =>
        this.exclusive(async () => {
          await this.runningTestnet().add(count);
          return this.publishTestnet();
        }),
      testnetStopRandom: ({ count }) =>
        this.exclusive(async () => {
          await this.runningTestnet().stopRandom(count);
          return this.publishTestnet();
        }),
      testnetStatus: () => this.testnetStatus,
      tracesList: () => this.traces.list(),
      traceGet: ({ id }) => {
        const t = this.traces.get(id);
        if (!t) throw DhtError.notFound(`no trace with id "${id}" (the last ${this.traces.size} lookups are kept)`);
        return t;
      },
      traceImport: ({ json }) => {
        const r = parseTrace(json);
        if (!r.ok) throw new ServiceError(r.code, r.message);
        return this.traces.import(r.value);
      },
      remoteList: () => this.remotes.list(),
      remoteAttach: (args) => remoteCall(() => this.remotes.attach(args)),
      remoteDetach: ({ id }) => ({ detached: this.remotes.detach(id) }),
      methodsList: () => this.node.methods(),
      call: async ({ address, name, args }) => {
        const to = mustParseAddress(address);
        let value: unknown;
        if (args !== undefined && args.trim() !== '') {
          try {
            value = JSON.parse(args) as unknown;
          } catch (e) {
            throw DhtError.invalidArgument(`args: not valid JSON (${(e as Error).message.slice(0, 120)})`);
          }
        }
        const r = await this.operation(() => this.node.call(to, name, value));
        return { value: jsonSafe(r.value, 0), id: r.id, rttMs: r.rttMs, address: endpointKey(to) };
      },
      broadcast: async ({ text, hopLimit }) => {
        const r = await this.operation(() => this.node.broadcast(text, hopLimit === undefined ? {} : { hopLimit }));
        return { id: r.id, reached: r.reached, failed: r.failed };
      },
      broadcasts: () => this.node.broadcasts().reverse().map(broadcastDto),
      settingsGet: () => this.store.settings(),
      settingsSet: async (changes) => {
        // The endpoint first: an address in use is refused without saving it.
        if (changes.metricsAddress !== undefined) await this.serveMetrics(changes.metricsAddress);
        return this.store.updateSettings(changes);
      },
      crawlStart: (args) => this.crawls.start(args),
      crawlCancel: () => this.crawls.cancel(),
      crawlStatus: () => this.crawls.current,
      crawlsList: () => this.crawls.list(),
      crawlGet: ({ id }) => this.crawls.get(id),
      crawlCompare: ({ from, to }) => this.crawls.compare(from, to),
    };
  }

  private async startLookup(target: string, kind: 'find-node' | 'find-value'): Promise<{ lookupId: string }> {
    if (this.activeLookups.size >= MAX_ACTIVE_LOOKUPS) {
      throw new DhtError('TOO_MANY_IN_FLIGHT', `${MAX_ACTIVE_LOOKUPS} lookups are running; wait for one to finish or cancel one`);
    }
    const abort = new AbortController();
    if (kind === 'find-value') {
      // find-value runs inside get(); its id comes from the first lookup event for this key.
      const records = this.node.records;
      let started: (id: string) => void = () => undefined;
      const idPromise = new Promise<string>((resolve) => (started = resolve));
      const run = this.captureLookup(target, () => this.operation(() => records.get(target, { signal: abort.signal })), started);
      const outcome = await Promise.race([idPromise.then((id) => ({ id })), run.then(() => ({ id: null }), () => ({ id: null }))]);
      if (outcome.id === null) throw DhtError.notFound('no find-value lookup ran (the value is held locally or there are no peers)');
      this.activeLookups.set(outcome.id, abort);
      run.catch(() => undefined).finally(() => this.activeLookups.delete(outcome.id as string));
      return { lookupId: outcome.id };
    }
    const lookup = this.node.lookup(target, { signal: abort.signal });
    const it = lookup[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) throw new DhtError('INTERNAL', 'the lookup produced no events');
    const lookupId = first.value.lookupId;
    this.activeLookups.set(lookupId, abort);
    // Drain in the background: the node emits every event on 'lookup', which is how the UI sees them.
    void (async () => {
      try {
        while (!(await it.next()).done);
      } catch {
        // a failing lookup reports itself through its events; nothing to add here
      } finally {
        this.activeLookups.delete(lookupId);
      }
    })();
    return { lookupId };
  }

  // ---- helpers ----

  private recordModel() {
    return this.node.protocol.records ?? KADSCOPE_RECORDS;
  }

  /**
   * Where answers leave a mutable record's public key out (HyperDHT), the public key of one of our
   * own key pairs whose record lives at `key`, so "Fetch it" after a mutable store just works.
   */
  private ownPublicKeyFor(key: string): string | undefined {
    const model = this.recordModel();
    if (model.answersCarryPublicKey !== false) return undefined;
    for (const name of this.node.keyPairs.names()) {
      const kp = this.node.keyPairs.get(name);
      if (bytesToHex(model.mutableKey(kp.publicKey, new Uint8Array(0))) === key) return bytesToHex(kp.publicKey);
    }
    return undefined;
  }

  /**
   * Restarts the user's node speaking another protocol (nothing when it already does). Its state
   * for that protocol lives apart (DATA_DIR/<protocol>), so a Mainline identity never meets
   * kadscope's records. The UI sees the old node stop and the new one start, and refetches.
   */
  private async switchProtocol(protocol: ProtocolChoice): Promise<void> {
    if (this.userNode?.protocol.name === protocol) return;
    // The new node first (it binds nothing yet): options it refuses (a udx socket for Mainline,
    // whose peers send datagrams udx-native cannot read) leave the running node as it was.
    const previous = this.protocol;
    this.protocol = protocol;
    let node: DhtNode;
    try {
      node = this.createNode(this.nodeOptions([]));
    } catch (e) {
      this.protocol = previous;
      throw e;
    }
    for (const c of this.activeLookups.values()) c.abort();
    this.activeLookups.clear();
    const old = this.userNode;
    for (const u of this.nodeUnsubs) u();
    this.nodeUnsubs = [];
    this.health.flush();
    this.health.reset();
    if (old) {
      this.publish({ type: 'node', id: old.id, address: old.address, state: 'stopped' });
      await old.stop();
    }
    this.attach(node);
    await node.start();
    this.publish({ type: 'node', id: node.id, address: node.address, state: 'started' });
  }

  private joinInBackground(bootstrap: string[]): void {
    const node = this.node;
    node.bootstrap(bootstrap).catch((e: unknown) => {
      // Stopping the service aborts the join; anything else is worth a line in the log.
      if (!isDhtError(e, 'STOPPED') && !isDhtError(e, 'ABORTED')) console.error('kadscope: joining the testnet failed:', e);
    });
  }

  private nodeOptions(bootstrap: string[]): DhtNodeOptions {
    const external = bootstrap.some((a) => {
      const r = parseAddress(a);
      return r.ok && !isLoopback(r.value.host);
    });
    const options: DhtNodeOptions = {
      protocol: this.protocol,
      host: this.options.nodeHost ?? (external ? '0.0.0.0' : '127.0.0.1'),
      port: this.options.nodePort ?? 0,
      ...(this.options.nodeHost6 !== undefined ? { host6: this.options.nodeHost6 } : {}),
      ...(this.options.socketLayer !== undefined ? { socketLayer: this.options.socketLayer } : {}),
      bootstrap,
      clock: this.clock,
      ...this.options.node,
    };
    // The node keeps its identity, key pairs, records and peers here (settings.json beside them is ours).
    if (this.options.dataDir !== null) options.dataDir = this.protocol === 'kadscope' ? this.options.dataDir : joinPath(this.options.dataDir, this.protocol);
    return options;
  }

  private attach(node: DhtNode): void {
    this.userNode = node;
    // So that custom methods can be tried at once: the embedded testnet's nodes have it too.
    if (node.capabilities.customMethods && !node.methods().some((m) => m.name === 'kadscope.info')) registerInfo(node);
    const on = <K extends keyof NodeEvents>(event: K, fn: (p: NodeEvents[K]) => void): void => {
      this.nodeUnsubs.push(node.on(event, fn));
    };
    on('peer-added', (peer) => this.publish({ type: 'peer-added', peer }));
    on('peer-removed', (p) => {
      this.health.removed(p.id);
      this.publish({ type: 'peer-removed', id: p.id, host: p.host, port: p.port, reason: p.reason });
    });
    // Three values per report, no PeerInfo: the coalescer builds one for what it sends.
    this.nodeUnsubs.push(
      node.subscribePeerHealth((id, state, failures) => {
        // Nobody to tell: what was shown is forgotten, so a new subscriber's first updates go out at once.
        if (this.batcher.subscriberCount === 0) this.health.reset();
        else this.health.update(id, state, failures);
      }),
    );
    on('observed-address', (address) => this.publish({ type: 'observed-address', address }));
    on('lookup', (e) => this.onLookupEvent(e));
    on('broadcast', (b) => this.publish({ type: 'broadcast', broadcast: broadcastDto(b) }));
    on('call', (c) => this.publish({ type: 'call', call: c }));
    on('record-stored', (record) => this.publish({ type: 'record-stored', record }));
    on('record-expired', (r) => this.publish({ type: 'record-expired', key: r.key }));
    on('record-refused', (r) => this.publish({ type: 'record-refused', key: r.key, code: r.code, message: r.reason, from: r.from }));
  }

  private onLookupEvent(e: LookupEvent): void {
    this.traces.ingest(e);
    if (e.type === 'started') {
      for (const w of this.lookupWaiters) {
        if (w.lookupId === null && w.target === e.target) {
          w.lookupId = e.lookupId;
          w.onStart?.(e.lookupId);
          break;
        }
      }
    }
    this.publish({ type: 'lookup', event: e });
  }

  /** Runs fn and reports the id of the first lookup toward `target` that started meanwhile. */
  private async captureLookup<T>(target: string, fn: () => Promise<T>, onStart?: (id: string) => void): Promise<{ value: T; lookupId: string | null }> {
    const waiter = { target, lookupId: null as string | null, onStart };
    this.lookupWaiters.add(waiter);
    try {
      const value = await fn();
      return { value, lookupId: waiter.lookupId };
    } finally {
      this.lookupWaiters.delete(waiter);
    }
  }

  /** Bounds the network work clients can have running at once. */
  private async operation<T>(fn: () => Promise<T>): Promise<T> {
    if (this.operations >= MAX_CONCURRENT_OPERATIONS) {
      throw new DhtError('TOO_MANY_IN_FLIGHT', `${MAX_CONCURRENT_OPERATIONS} operations are running; try again when some finish`);
    }
    this.operations++;
    try {
      return await fn();
    } finally {
      this.operations--;
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusiveChain.then(fn, fn);
    this.exclusiveChain = run.catch(() => undefined);
    return run;
  }

  /** key-1, key-2, ...: the first name the node does not hold yet. */
  private freshKeyPairName(): string {
    const taken = new Set(this.node.keyPairs.names());
    for (let i = taken.size + 1; ; i++) if (!taken.has(`key-${i}`)) return `key-${i}`;
  }

  private savedKeyPair(name: string): void {
    const names = this.node.keyPairs.names();
    if (names.includes(name)) return;
    const hint = names.length > 0 ? `; saved: ${names.slice(0, 10).join(', ')}` : '; generate one first';
    throw DhtError.notFound(`no saved key pair named "${name}"${hint}`);
  }

  private localRecords(): RecordInfo[] {
    return this.userNode?.records.held() ?? [];
  }

  private runningTestnet(): TestnetHandle {
    if (!this.testnet) throw new ServiceError('CONFLICT', 'no testnet is running; start one first');
    return this.testnet;
  }

  private publishTestnet(): TestnetStatus {
    const status = this.testnetStatus;
    this.publish({ type: 'testnet', status });
    return status;
  }

  private publish(event: ExplorerEvent): void {
    this.batcher.publish(event);
  }

  private scheduleTick(): void {
    const interval = this.options.tickIntervalMs ?? TICK_INTERVAL_MS;
    this.tickTimer = this.clock.setTimeout(() => {
      this.tickTimer = null;
      if (this.state !== 'running') return;
      if (this.batcher.subscriberCount === 0) this.health.reset();
      else this.health.flush();
      // Nobody listens: nothing to build.
      if (this.batcher.subscriberCount > 0 && this.userNode) {
        const f = this.userNode.tickFigures();
        this.publish({ type: 'tick', at: f.now, counters: f.counters, peers: f.peers, estimatedNetworkSize: f.estimatedNetworkSize, observedAddress: f.observedAddress });
      }
      this.scheduleTick();
    }, interval);
  }
}

function keyPairInfo(name: string, kp: KeyPair): KeyPairInfo {
  return { name, publicKey: bytesToHex(kp.publicKey) };
}

/** A remote that cannot be attached (refused, unreachable, untrusted) is UNAVAILABLE with its reason. */
async function remoteCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RemoteError) throw new ServiceError('UNAVAILABLE', e.message);
    throw e;
  }
}

function toErr(e: unknown): Result<never> {
  if (isDhtError(e)) return err(e.code, e.message);
  if (e instanceof ServiceError) return err(e.code, e.message);
  console.error('kadscope: internal error in the service:', e);
  return err('INTERNAL', e instanceof Error ? e.message : String(e));
}

function mustParseAddress(address: string): Endpoint {
  const r = parseAddress(address);
  if (!r.ok) throw DhtError.invalidArgument(r.message);
  return r.value;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function decodeValue(v: ValueInput): Uint8Array {
  return 'text' in v ? new TextEncoder().encode(v.text) : new Uint8Array(Buffer.from(v.base64, 'base64'));
}

function broadcastDto(b: BroadcastInfo): BroadcastDto {
  return { id: b.id, origin: b.origin, from: b.from, hops: b.hops, hopLimit: b.hopLimit, receivedAt: b.receivedAt, size: b.payload.length, text: utf8OrNull(b.payload), base64: toBase64(b.payload) };
}

/** Levels of nesting kept in a call's result; deeper ones read "…". */
const MAX_JSON_DEPTH = 16;
/** The key pair whose public key a HyperDHT announce from the app announces. */
const ANNOUNCE_KEY_PAIR = 'announce';

/** A decoded CBOR value as plain JSON: byte strings as { bytes: hex }, big integers as text, Maps as objects. */
function jsonSafe(v: unknown, depth: number): unknown {
  if (depth > MAX_JSON_DEPTH) return '…';
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return { bytes: bytesToHex(v) };
  if (Array.isArray(v)) return v.map((x) => jsonSafe(x, depth + 1));
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonSafe(x, depth + 1)]));
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x, depth + 1)]));
  return String(v);
}

function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function utf8OrNull(b: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return null;
  }
}
