// A simulated datagram network for tests, benchmarks and the in-app local testnet: latency, loss,
// partitions and an MTU, all driven by an injected Clock and one seeded PRNG, so a run is fully
// reproducible from its seed. Built to hold tens of thousands of transports and millions of
// datagrams: a send is O(1) (two Map lookups at delivery, no string building), and datagrams due
// at the same instant share one clock timer.
import type { Clock, TimerHandle } from '../clock';
import { DhtError } from '../errors';
import { seededRandom } from '../id';
import { dispatch, IGNORE_MESSAGES, isDestinationPort, newTransportStats, type TransportStats } from './stats';
import { endpointKey, type Endpoint, type MessageHandler, type Transport } from './types';

/** Matches wire v1's datagram limit; larger datagrams are dropped, as on a path that does not fragment. */
export const MEMORY_MTU_BYTES = 1400;
export const MEMORY_LATENCY_MS: Readonly<LatencyRange> = Object.freeze({ min: 2, max: 20 });
/** Datagrams scheduled and not yet delivered; beyond this new ones are dropped (a full router queue). */
export const MEMORY_MAX_IN_FLIGHT = 1_000_000;
export const MEMORY_DEFAULT_SEED = 0x6b616473; // "kads"

/** Port 0 draws from the IANA dynamic range, like an OS. */
const EPHEMERAL_PORT_MIN = 49_152;
const EPHEMERAL_PORT_MAX = 65_535;
/** Synthetic hosts are 10.a.b.c; the last octet skips 0 and 255 to look like ordinary host addresses. */
const SYNTHETIC_HOST_LIMIT = 1 << 24;

export interface LatencyRange {
  /** Whole milliseconds, 0 <= min <= max. */
  min: number;
  max: number;
}

export interface MemoryNetworkDeps {
  clock: Clock;
}

export interface MemoryNetworkOptions {
  /** Seed for latency and loss draws. Same seed, same sends, same clock: same deliveries. */
  seed?: number;
  latencyMs?: LatencyRange;
  /** Probability (0..1) that a datagram is lost. Default 0. */
  loss?: number;
  /** Largest datagram delivered; larger ones are dropped and counted as oversize. Default 1400. */
  mtuBytes?: number;
  maxInFlight?: number;
}

export interface MemoryTransportOptions {
  /** Any host string; default a fresh synthetic IPv4 address 10.a.b.c per transport. */
  host?: string;
  /** 0 (default) assigns a free port in 49152-65535. */
  port?: number;
}

export interface MemoryNetworkStats {
  /** Datagrams that entered the network (everything below started here). */
  sent: number;
  delivered: number;
  /** Dropped by the loss draw. */
  lost: number;
  /** Dropped because sender and receiver were on opposite sides of a partition. */
  partitioned: number;
  /** Nobody bound at the destination when the datagram arrived (never bound, or closed meanwhile). */
  undeliverable: number;
  /** Larger than the MTU. */
  oversize: number;
  /** Dropped because maxInFlight datagrams were already scheduled. */
  overflow: number;
  /** Bytes delivered. */
  bytes: number;
  /** Scheduled right now and not yet delivered. */
  inFlight: number;
}

interface Datagram {
  data: Uint8Array;
  from: Endpoint;
  toHost: string;
  toPort: number;
}

interface Batch {
  timer: TimerHandle;
  datagrams: Datagram[];
}

interface Partition {
  a: ReadonlySet<string>;
  b: ReadonlySet<string>;
}

/** What a MemoryTransport may ask of its network; kept off the network's public surface. */
interface Link {
  bind(t: MemoryTransport, host: string | undefined, port: number): Endpoint;
  unbind(t: MemoryTransport, address: Endpoint): void;
  /** Returns false when the datagram could not be sent at all (bad destination, network destroyed). */
  transmit(data: Uint8Array, from: Endpoint, to: Endpoint): boolean;
}

export class MemoryNetwork {
  private readonly statsData: MemoryNetworkStats = {
    sent: 0, delivered: 0, lost: 0, partitioned: 0, undeliverable: 0, oversize: 0, overflow: 0, bytes: 0, inFlight: 0,
  };
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly mtuBytes: number;
  private readonly maxInFlight: number;
  private latency: LatencyRange;
  private loss: number;
  private readonly transports = new AddressBook<MemoryTransport>();
  /** Pending deliveries keyed by due time; one clock timer per distinct due time. */
  private readonly batches = new Map<number, Batch>();
  private partitions: Partition[] = [];
  private nextSyntheticHost = 0;
  private nextEphemeralPort = EPHEMERAL_PORT_MIN;
  private destroyed = false;
  private readonly link: Link = {
    bind: (t, host, port) => this.bindTransport(t, host, port),
    unbind: (t, address) => {
      if (this.transports.get(address.host, address.port) === t) this.transports.delete(address.host, address.port);
    },
    transmit: (data, from, to) => this.transmit(data, from, to),
  };

  constructor(deps: MemoryNetworkDeps, options: MemoryNetworkOptions = {}) {
    this.clock = deps.clock;
    this.random = seededRandom(options.seed ?? MEMORY_DEFAULT_SEED);
    this.latency = checkLatency(options.latencyMs ?? MEMORY_LATENCY_MS);
    this.loss = checkLoss(options.loss ?? 0);
    this.mtuBytes = checkPositiveInteger(options.mtuBytes ?? MEMORY_MTU_BYTES, 'mtuBytes');
    this.maxInFlight = checkPositiveInteger(options.maxInFlight ?? MEMORY_MAX_IN_FLIGHT, 'maxInFlight');
  }

  /** Live counters (read-only view). */
  get stats(): Readonly<MemoryNetworkStats> {
    return this.statsData;
  }

  /** Transports bound right now. */
  get boundCount(): number {
    return this.transports.size;
  }

  createTransport(options: MemoryTransportOptions = {}): MemoryTransport {
    if (this.destroyed) throw new DhtError('STOPPED', 'the memory network was destroyed');
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw DhtError.invalidArgument(`port ${String(port)} is not valid; use 0 (any free port) or 1-65535`);
    }
    if (options.host !== undefined && (typeof options.host !== 'string' || options.host === '')) {
      throw DhtError.invalidArgument('host must be a non-empty string');
    }
    return new MemoryTransport(this.link, options.host, port);
  }

  /** Drops all traffic between the two groups, both ways, until heal(). Partitions accumulate. */
  partition(groupA: Endpoint[], groupB: Endpoint[]): void {
    this.partitions.push({ a: new Set(groupA.map(endpointKey)), b: new Set(groupB.map(endpointKey)) });
  }

  /** Removes every partition. */
  heal(): void {
    this.partitions = [];
  }

  isPartitioned(a: Endpoint, b: Endpoint): boolean {
    return this.separated(endpointKey(a), endpointKey(b));
  }

  /** Changes the loss probability for datagrams sent from now on. */
  setLoss(p: number): void {
    this.loss = checkLoss(p);
  }

  /** Changes the latency for datagrams sent from now on; those in flight keep their due time. */
  setLatency(range: LatencyRange): void {
    this.latency = checkLatency(range);
  }

  /** Closes every transport and cancels every pending delivery. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const batch of this.batches.values()) this.clock.clearTimeout(batch.timer);
    this.batches.clear();
    this.statsData.inFlight = 0;
    for (const t of [...this.transports.values()]) void t.close();
    this.transports.clear();
    this.partitions = [];
  }

  private bindTransport(t: MemoryTransport, requestedHost: string | undefined, requestedPort: number): Endpoint {
    if (this.destroyed) throw new DhtError('STOPPED', 'the memory network was destroyed');
    const host = requestedHost ?? this.syntheticHost();
    const port = requestedPort === 0 ? this.freePort(host) : requestedPort;
    const address: Endpoint = Object.freeze({ host, port });
    if (this.transports.get(host, port) !== undefined) {
      throw new DhtError('BIND_FAILED', `cannot bind memory ${endpointKey(address)}: address already in use (EADDRINUSE)`);
    }
    this.transports.set(host, port, t);
    return address;
  }

  private syntheticHost(): string {
    for (;;) {
      const n = ++this.nextSyntheticHost;
      if (n >= SYNTHETIC_HOST_LIMIT) throw new DhtError('BIND_FAILED', 'cannot bind memory transport: synthetic 10.0.0.0/8 addresses exhausted');
      const last = n & 0xff;
      if (last !== 0 && last !== 0xff) return `10.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${last}`;
    }
  }

  /** Next free ephemeral port on host, scanning from a rotating cursor (O(1) unless the host is crowded). */
  private freePort(host: string): number {
    const span = EPHEMERAL_PORT_MAX - EPHEMERAL_PORT_MIN + 1;
    for (let i = 0; i < span; i++) {
      const port = this.nextEphemeralPort;
      this.nextEphemeralPort = port === EPHEMERAL_PORT_MAX ? EPHEMERAL_PORT_MIN : port + 1;
      if (this.transports.get(host, port) === undefined) return port;
    }
    throw new DhtError('BIND_FAILED', `cannot bind memory ${host}:0: every port in ${EPHEMERAL_PORT_MIN}-${EPHEMERAL_PORT_MAX} is in use`);
  }

  private separated(fromKey: string, toKey: string): boolean {
    for (const p of this.partitions) {
      if ((p.a.has(fromKey) && p.b.has(toKey)) || (p.b.has(fromKey) && p.a.has(toKey))) return true;
    }
    return false;
  }

  private transmit(data: Uint8Array, from: Endpoint, to: Endpoint): boolean {
    if (this.destroyed || to == null || typeof to.host !== 'string' || to.host === '' || !isDestinationPort(to.port)) return false;
    const s = this.statsData;
    s.sent++;
    const toHost = to.host;
    const toPort = to.port;
    if (data.byteLength > this.mtuBytes) {
      s.oversize++;
      return true;
    }
    if (this.partitions.length > 0 && this.separated(endpointKey(from), endpointKey(to))) {
      s.partitioned++;
      return true;
    }
    // Draws happen only when they matter, in a fixed order (loss, then latency), so a seed replays.
    if (this.loss > 0 && this.random() < this.loss) {
      s.lost++;
      return true;
    }
    if (s.inFlight >= this.maxInFlight) {
      s.overflow++;
      return true;
    }
    const { min, max } = this.latency;
    const delayMs = max > min ? min + Math.floor(this.random() * (max - min + 1)) : min;
    // Copy: the sender may reuse its buffer; what arrives is what was sent. Each datagram owns its
    // ArrayBuffer, as with dgram, so a receiver keeping a slice pins only that datagram.
    const datagram: Datagram = { data: new Uint8Array(data), from, toHost, toPort };
    const at = this.clock.now() + delayMs;
    const batch = this.batches.get(at);
    if (batch) {
      batch.datagrams.push(datagram);
    } else {
      const timer = this.clock.setTimeout(() => this.deliver(at), delayMs);
      this.batches.set(at, { timer, datagrams: [datagram] });
    }
    s.inFlight++;
    return true;
  }

  private deliver(at: number): void {
    const batch = this.batches.get(at);
    if (!batch) return;
    // Removed first: a handler that answers with zero latency starts a new batch for this instant.
    this.batches.delete(at);
    const s = this.statsData;
    s.inFlight -= batch.datagrams.length;
    for (const d of batch.datagrams) {
      const receiver = this.transports.get(d.toHost, d.toPort);
      if (receiver === undefined) {
        s.undeliverable++;
        continue;
      }
      s.delivered++;
      s.bytes += d.data.byteLength;
      receiver.receive(d.data, d.from);
    }
  }
}

/** One endpoint on a MemoryNetwork; create it with network.createTransport(). */
export class MemoryTransport implements Transport {
  readonly kind = 'memory';
  readonly stats: TransportStats = newTransportStats();

  private state: 'idle' | 'bound' | 'closed' = 'idle';
  private bound: Endpoint | undefined;
  private handler: MessageHandler = IGNORE_MESSAGES;
  /**
   * Bound, not an arrow: under tsx (keepNames) a named arrow is renamed with defineProperty, which
   * leaves each instance a 256-byte property dictionary; a bound method has none.
   */
  private readonly label: () => string = this.describe.bind(this);

  /** @internal Use MemoryNetwork.createTransport. */
  constructor(
    private readonly link: Link,
    private readonly host: string | undefined,
    private readonly port: number,
  ) {}

  private describe(): string {
    return `kadscope memory transport ${this.bound ? endpointKey(this.bound) : '(unbound)'}`;
  }

  get address(): Endpoint {
    if (!this.bound) throw new DhtError('NOT_STARTED', 'the memory transport is not bound; await bind() first');
    return this.bound;
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** A second transport on this one's host (its bound host, else the one it will bind), on a free port. */
  sibling(): MemoryTransport {
    return new MemoryTransport(this.link, this.bound?.host ?? this.host, 0);
  }

  bind(): Promise<Endpoint> {
    if (this.state === 'closed') return Promise.reject(new DhtError('STOPPED', 'the memory transport is closed; create a new one to bind again'));
    if (this.bound) return Promise.resolve(this.bound);
    try {
      this.bound = this.link.bind(this, this.host, this.port);
    } catch (err) {
      return Promise.reject(err);
    }
    this.state = 'bound';
    return Promise.resolve(this.bound);
  }

  send(data: Uint8Array, to: Endpoint): void {
    if (this.state !== 'bound' || !this.bound || !this.link.transmit(data, this.bound, to)) {
      this.stats.sendErrors++;
      return;
    }
    this.stats.sent++;
    this.stats.bytesSent += data.byteLength;
  }

  /** Idempotent. Datagrams already in flight to this address are dropped when they arrive. */
  close(): Promise<void> {
    if (this.state === 'bound' && this.bound) this.link.unbind(this, this.bound);
    this.state = 'closed';
    this.handler = IGNORE_MESSAGES;
    return Promise.resolve();
  }

  /** @internal Called by the network at delivery time. */
  receive(data: Uint8Array, from: Endpoint): void {
    dispatch(this.handler, data, from, this.stats, this.label);
  }
}

/**
 * host -> port -> value. Two lookups on strings and numbers the caller already holds beat one
 * lookup on a freshly built 'host:port' string (which must be concatenated, flattened and hashed
 * per datagram); keys stay strings and numbers (ARCHITECTURE.md, habit 7).
 */
class AddressBook<T> {
  private readonly hosts = new Map<string, Map<number, T>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(host: string, port: number): T | undefined {
    return this.hosts.get(host)?.get(port);
  }

  set(host: string, port: number, value: T): void {
    let ports = this.hosts.get(host);
    if (!ports) this.hosts.set(host, (ports = new Map()));
    if (!ports.has(port)) this.count++;
    ports.set(port, value);
  }

  delete(host: string, port: number): void {
    const ports = this.hosts.get(host);
    if (!ports?.delete(port)) return;
    this.count--;
    if (ports.size === 0) this.hosts.delete(host);
  }

  *values(): IterableIterator<T> {
    for (const ports of this.hosts.values()) yield* ports.values();
  }

  clear(): void {
    this.hosts.clear();
    this.count = 0;
  }
}

function checkLatency(range: LatencyRange): LatencyRange {
  const { min, max } = range ?? ({} as Partial<LatencyRange>);
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) {
    throw DhtError.invalidArgument(`latency must be whole milliseconds with 0 <= min <= max; got ${JSON.stringify(range)}`);
  }
  return { min, max };
}

function checkLoss(p: number): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw DhtError.invalidArgument(`loss must be a probability between 0 and 1; got ${String(p)}`);
  return p;
}

function checkPositiveInteger(n: number, name: string): number {
  if (!Number.isInteger(n) || n <= 0) throw DhtError.invalidArgument(`${name} must be a positive integer; got ${String(n)}`);
  return n;
}
