// A local network of real nodes, over UDP on loopback or over the simulated memory network.
// Product code (ARCHITECTURE.md, habit 9): the app's embedded default, the tests and the benchmarks all use it.
import { FakeClock, systemClock, type Clock } from './clock';
import { DhtError } from './errors';
import { bytesToHex, cryptoRandomBytes, seededRandom, seededRandomBytes, type RandomBytes } from './id';
import { DhtNode, resolveProtocol, type DhtNodeOptions } from './node';
import { MEMORY_MTU_BYTES, MemoryNetwork } from './transport/memory';
import { UdpTransport } from './transport/udp';
import { endpointKey } from './transport/types';

export const MAX_TESTNET_SIZE = 100_000;
/** Nodes joining at once while a testnet is built (default). */
export const JOIN_CONCURRENCY = 8;
/** The most nodes a testnet lets join at once. */
export const MAX_JOIN_CONCURRENCY = 256;
/** Each joining node bootstraps through this many nodes already in the network. */
export const JOIN_BOOTSTRAP_PEERS = 3;

export interface TestnetOptions {
  size: number;
  transport?: 'udp' | 'memory';
  /** UDP: the address to bind (default 127.0.0.1; '::1' for IPv6). Memory: ignored. */
  host?: string;
  k?: number;
  alpha?: number;
  /** Makes ids, joins, latency and loss reproducible. */
  seed?: number;
  /** Memory transport: default a new FakeClock that the testnet drives. UDP: the system clock. */
  clock?: Clock;
  /** Memory transport: one-way latency range, ms (default 5-40). */
  latencyMs?: { min: number; max: number };
  /** Memory transport: packet loss 0..1 (default 0). */
  loss?: number;
  /** Extra options for every node. */
  node?: Partial<DhtNodeOptions>;
  /** Called with every node made, before it starts (to register custom methods, say). */
  onNode?: (node: DhtNode) => void;
  /** Nodes joining at once, 1..MAX_JOIN_CONCURRENCY (default JOIN_CONCURRENCY, 8). */
  joinConcurrency?: number;
}

export interface Testnet {
  readonly nodes: DhtNode[];
  /** `host:port` of a few nodes to join through. */
  readonly bootstrap: string[];
  readonly transport: 'udp' | 'memory';
  readonly clock: Clock;
  /** The simulated network (memory transport only): loss, latency, partitions. */
  readonly network: MemoryNetwork | null;
  /** Awaits a promise, driving fake time when the testnet runs on a FakeClock. */
  run<T>(promise: Promise<T>): Promise<T>;
  /** Starts n more nodes and joins them to the network; returns them. */
  addNodes(n: number): Promise<DhtNode[]>;
  /** Stops n nodes picked at random (never the first, which others bootstrap through); returns their ids. */
  stopRandom(n: number): Promise<string[]>;
  /** Stops the node with this id; false if there is none running. */
  stopNode(id: string): Promise<boolean>;
  /** Running nodes. */
  live(): DhtNode[];
  destroy(): Promise<void>;
}

export async function createTestnet(options: TestnetOptions): Promise<Testnet> {
  const size = options.size;
  if (!Number.isInteger(size) || size < 1 || size > MAX_TESTNET_SIZE) {
    throw DhtError.invalidArgument(`testnet size must be an integer 1-${MAX_TESTNET_SIZE}; got ${size}`);
  }
  const joinConcurrency = options.joinConcurrency ?? JOIN_CONCURRENCY;
  if (!Number.isInteger(joinConcurrency) || joinConcurrency < 1 || joinConcurrency > MAX_JOIN_CONCURRENCY) {
    throw DhtError.invalidArgument(`joinConcurrency must be an integer 1-${MAX_JOIN_CONCURRENCY}; got ${joinConcurrency}`);
  }
  const kind = options.transport ?? 'udp';
  const clock = options.clock ?? (kind === 'memory' ? new FakeClock() : systemClock);
  const rand: RandomBytes = options.seed !== undefined ? seededRandomBytes(options.seed) : cryptoRandomBytes;
  const pick = options.seed !== undefined ? seededRandom(options.seed ^ 0x5eed) : Math.random;
  const host = options.host ?? '127.0.0.1';
  const nodes: DhtNode[] = [];
  const run = <T>(p: Promise<T>): Promise<T> => (clock instanceof FakeClock ? clock.run(p) : p);

  // Ids as long as the nodes' protocol wants (options.node.protocol: kadscope's 32 bytes, Mainline's 20).
  const protocol = resolveProtocol(options.node?.protocol);
  // A named protocol is resolved per node: HyperDHT's codec holds its node's persistent id.
  const protocolOfNode = (): typeof protocol => (typeof options.node?.protocol === 'string' ? resolveProtocol(options.node.protocol) : protocol);
  // The simulated MTU lets through the largest datagram the protocol sends (Mainline answers up to
  // 1,452 bytes: a 1,000-byte BEP 44 value beside 8 contacts), never less than the default.
  const mtuBytes = Math.max(MEMORY_MTU_BYTES, protocol.codec.maxDatagramBytes ?? MEMORY_MTU_BYTES);
  const network =
    kind === 'memory'
      ? new MemoryNetwork({ clock }, { seed: options.seed ?? 1, latencyMs: options.latencyMs ?? { min: 5, max: 40 }, loss: options.loss ?? 0, mtuBytes })
      : null;
  const makeNode = (): DhtNode => {
    const node = createNode();
    options.onNode?.(node);
    return node;
  };
  const createNode = (): DhtNode => {
    const nodeProtocol = protocolOfNode();
    const transport = network ? network.createTransport({}) : new UdpTransport({}, { host, port: 0, socketLayer: options.node?.socketLayer, peerDatagramBytes: nodeProtocol.peerDatagramBytes });
    return DhtNode.create({
      ...options.node,
      protocol: nodeProtocol,
      k: options.k ?? options.node?.k,
      alpha: options.alpha ?? options.node?.alpha,
      transport,
      clock,
      randomBytes: rand,
      id: bytesToHex(rand(protocol.idBytes)),
      // Loopback and simulated networks: every node shares one address or /24, so diversity limits are off.
      diversity: options.node?.diversity ?? false,
    });
  };

  const join = async (fresh: DhtNode[]): Promise<void> => {
    // Each joining node bootstraps through a few nodes that have already joined (or were there).
    const freshSet = new Set(fresh); // not fresh.includes(): that is O(size²) for a 5,000-node build
    const joined = nodes.filter((n) => n.running && !freshSet.has(n));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < fresh.length) {
        const node = fresh[next++];
        if (joined.length > 0) {
          const via = new Set<DhtNode>();
          const want = Math.min(JOIN_BOOTSTRAP_PEERS, joined.length);
          for (let i = 0; i < want * 4 && via.size < want; i++) via.add(joined[Math.floor(pick() * joined.length)]);
          await node.bootstrap([...via].map((n) => n.address));
        }
        joined.push(node);
      }
    };
    await Promise.all(Array.from({ length: Math.min(joinConcurrency, fresh.length) }, worker));
  };

  const addNodes = async (n: number): Promise<DhtNode[]> => {
    if (!Number.isInteger(n) || n < 1 || nodes.length + n > MAX_TESTNET_SIZE) {
      throw DhtError.invalidArgument(`can add 1-${MAX_TESTNET_SIZE - nodes.length} nodes; got ${n}`);
    }
    const fresh = Array.from({ length: n }, makeNode);
    try {
      await run(Promise.all(fresh.map((node) => node.start())));
    } catch (err) {
      await Promise.all(fresh.map((node) => node.stop()));
      throw err;
    }
    // A network whose ids follow the address (HyperDHT) starts from a node that knows its own, as
    // dht-rpc's bootstrapper does: the others join through a member.
    if (nodes.length === 0 && protocol.addressId) fresh[0].assumeAddress(fresh[0].address);
    nodes.push(...fresh);
    await run(join(fresh));
    return fresh;
  };

  const testnet: Testnet = {
    nodes,
    get bootstrap() {
      return nodes.filter((n) => n.running).slice(0, 3).map((n) => endpointKey(n.address));
    },
    transport: kind,
    clock,
    network,
    run,
    addNodes,
    async stopRandom(n) {
      const candidates = nodes.slice(1).filter((x) => x.running);
      const stopped: string[] = [];
      while (stopped.length < n && candidates.length > 0) {
        const [victim] = candidates.splice(Math.floor(pick() * candidates.length), 1);
        stopped.push(victim.id);
        await victim.stop();
      }
      return stopped;
    },
    async stopNode(id) {
      const node = nodes.find((x) => x.id === id && x.running);
      if (!node) return false;
      await node.stop();
      return true;
    },
    live: () => nodes.filter((n) => n.running),
    async destroy() {
      await Promise.all(nodes.map((n) => n.stop()));
      network?.destroy();
    },
  };

  try {
    await addNodes(size);
  } catch (err) {
    await testnet.destroy();
    throw err;
  }
  return testnet;
}
