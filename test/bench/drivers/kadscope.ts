// kadscope driven by the benchmark harness, through its public API (core/index.ts) only.
//
// Network: `createTestnet({ size, transport: 'udp', host: '127.0.0.1', joinConcurrency: 16 })`, the
// product's own test network (ARCHITECTURE.md, habit 9) with as many nodes joining at once as the
// peers' drivers let join, then the same settle round the peers get (every node looks up its own id
// once more). Lookup: `node.findNode(targetHex)` with kadscope's defaults (k = 20, alpha = 3); ids
// are 32 bytes. Requests are counted by the datagram tap on the node's UDP socket like the peers'
// (the node's own `messages` figure is kept as a cross-check).
//
// Records: `node.records.put(value)` (immutable, key SHA-256(value), stored on the k closest that answered
// its lookup) and `node.records.get(key)` (iterative FIND_VALUE); holders are counted from `node.records.held()`.
// Nodes run with their defaults, rate limits and anti-amplification included, except where a
// workload asks for `unthrottled` (ping throughput), which turns the per-address rate limit off.
//
// core/ is loaded with a dynamic import so this file typechecks and the run goes on (kadscope
// skipped, with the reason printed) while core/index.ts or core/wire/codec.ts is missing or
// incomplete. The shapes below are the API the core issue names; the loader checks them at runtime.
import type { BenchNetwork, CodecCase, DatagramClass, DriverLookupResult, NetworkOptions, RecordOps, SystemDriver } from '../harness';
import { withTimeout } from '../harness';
import type { DecodeResult, Message, WireContact } from '../../../core/wire/types';
import { runBounded, settleUntil } from './common';

const HOST = '127.0.0.1';
const ID_BYTES = 32;
const SETTLE_CONCURRENCY = 16;
/** Nodes joining at once: the dht-rpc and bittorrent-dht drivers' JOIN_CONCURRENCY. */
const JOIN_CONCURRENCY = 16;
const SETTLE_LOOKUP_TIMEOUT_MS = 30_000;
const LOOKUP_TIMEOUT_MS = 30_000;
const TESTNET_TIMEOUT_MS = 120_000;
const RECORD_TIMEOUT_MS = 30_000;

const CORE_INDEX_URL = new URL('../../../core/index.ts', import.meta.url).href;
const CORE_CODEC_URL = new URL('../../../core/wire/codec.ts', import.meta.url).href;

interface Address {
  host: string;
  port: number;
}

interface KadscopeFindNodeResult {
  closest: { id: string; host: string; port: number }[];
  hops: number;
  messages: number;
  durationMs: number;
}

interface KadscopeNode {
  readonly id: string;
  readonly address: Address;
  ping(to: Address): Promise<unknown>;
  findNode(targetHex: string): Promise<KadscopeFindNodeResult>;
  records: {
    put(value: Uint8Array): Promise<{ key: string; storedAt: string[] }>;
    get(keyHex: string): Promise<{ value: Uint8Array }>;
    held(): { key: string }[];
  };
  snapshot?(): { counters?: { inFlight?: number }; peers?: unknown[] };
  /** Requests in flight (newer nodes): what snapshot().counters.inFlight says, without building the rest of the snapshot. */
  readonly inFlight?: number;
}

interface KadscopeTestnet {
  nodes: KadscopeNode[];
  bootstrap: string[];
  destroy(): unknown;
}

interface KadscopeCore {
  createTestnet(options: {
    size: number;
    transport: 'udp' | 'memory';
    host: string;
    joinConcurrency?: number;
    node?: { rateLimit?: false; socketLayer?: 'native' | 'udx' | 'dgram' };
  }): Promise<KadscopeTestnet>;
  immutableKey(value: Uint8Array): Uint8Array;
}

interface KadscopeTransportModule {
  socketLayerName(choice: 'native' | 'udx' | 'dgram' | undefined): 'kadscope-native' | 'udx-native' | 'node:dgram';
}

interface KadscopeCodec {
  encodeMessage(message: Message): Uint8Array;
  decodeMessage(bytes: Uint8Array): DecodeResult;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/** Loads core/ or says why not. */
async function loadKadscope(): Promise<{ core: KadscopeCore; codec: KadscopeCodec } | { reason: string }> {
  let core: unknown;
  let codec: unknown;
  try {
    core = await import(CORE_INDEX_URL);
  } catch (err) {
    return { reason: `core/index.ts did not load: ${(err as Error).message.split('\n')[0]}` };
  }
  try {
    codec = await import(CORE_CODEC_URL);
  } catch (err) {
    return { reason: `core/wire/codec.ts did not load: ${(err as Error).message.split('\n')[0]}` };
  }
  if (!isObject(core) || typeof core.createTestnet !== 'function') return { reason: 'core/index.ts exports no createTestnet()' };
  if (typeof core.immutableKey !== 'function') return { reason: 'core/index.ts exports no immutableKey()' };
  if (!isObject(codec) || typeof codec.encodeMessage !== 'function' || typeof codec.decodeMessage !== 'function') {
    return { reason: 'core/wire/codec.ts exports no encodeMessage() / decodeMessage()' };
  }
  return { core: core as unknown as KadscopeCore, codec: codec as unknown as KadscopeCodec };
}

class KadscopeNetwork implements BenchNetwork {
  readonly ids: string[];
  readonly records: RecordOps;

  constructor(
    private readonly testnet: KadscopeTestnet,
    core: KadscopeCore,
  ) {
    this.ids = testnet.nodes.map((n) => n.id);
    const nodes = testnet.nodes;
    this.records = {
      keyOf: (value) => Buffer.from(core.immutableKey(value)).toString('hex'),
      put: async (fromIndex, value) => {
        const r = await withTimeout(nodes[fromIndex].records.put(value), RECORD_TIMEOUT_MS, 'kadscope put');
        return { acknowledged: r.storedAt.length };
      },
      get: async (fromIndex, keyHex) => {
        try {
          return (await withTimeout(nodes[fromIndex].records.get(keyHex), RECORD_TIMEOUT_MS, 'kadscope get')).value;
        } catch (err) {
          if ((err as { code?: unknown }).code === 'NOT_FOUND') return null;
          throw err;
        }
      },
      holds: (index, keyHex) => nodes[index].records.held().some((r) => r.key === keyHex),
    };
  }

  get size(): number {
    return this.testnet.nodes.length;
  }

  portsOf(index: number): number[] {
    return [this.testnet.nodes[index].address.port];
  }

  async lookup(fromIndex: number, targetHex: string): Promise<DriverLookupResult> {
    const r = await withTimeout(this.testnet.nodes[fromIndex].findNode(targetHex), LOOKUP_TIMEOUT_MS, 'kadscope findNode');
    return { closest: r.closest.map((c) => ({ id: c.id })), hops: r.hops, selfReportedMessages: r.messages };
  }

  async ping(fromIndex: number, toIndex: number): Promise<void> {
    const to = this.testnet.nodes[toIndex].address;
    await this.testnet.nodes[fromIndex].ping({ host: to.host, port: to.port });
  }

  /**
   * Requests in flight across the network: the node's count, as the other drivers read their
   * systems' (a full snapshot() per node per poll, its peer list and counters, cost the build
   * ~2% of its CPU in the settle polls); snapshot() where a node has no inFlight (0 without either).
   */
  inflight(): number {
    return this.testnet.nodes.reduce((a, n) => a + (n.inFlight ?? n.snapshot?.().counters?.inFlight ?? 0), 0);
  }

  tableSizes(): number[] | null {
    const sizes = this.testnet.nodes.map((n) => n.snapshot?.().peers?.length);
    return sizes.every((s): s is number => typeof s === 'number') ? sizes : null;
  }

  async destroy(): Promise<void> {
    await this.testnet.destroy();
  }
}

export interface KadscopeDriverOptions {
  /**
   * The UDP socket layer the nodes run on: 'native' (kadscope's binding), 'udx' (udx-native) or
   * 'dgram' (node:dgram); default as the product: the first that loads, in that order. A driver
   * that names udx or dgram is listed as `kadscope (udx-native)` or `kadscope (node:dgram)`,
   * beside the product's.
   */
  socketLayer?: 'native' | 'udx' | 'dgram';
}

const CORE_SOCKET_LAYER_URL = new URL('../../../core/transport/socket-layer.ts', import.meta.url).href;

/** The socket layer a choice resolves to in this process (the native binding unless it cannot load). */
async function resolvedLayer(choice: 'native' | 'udx' | 'dgram' | undefined): Promise<'kadscope-native' | 'udx-native' | 'node:dgram'> {
  const m = (await import(CORE_SOCKET_LAYER_URL)) as KadscopeTransportModule;
  return m.socketLayerName(choice);
}

export function kadscopeDriver(options: KadscopeDriverOptions = {}): SystemDriver {
  const choice = options.socketLayer;
  let loaded: { core: KadscopeCore; codec: KadscopeCodec } | null = null;
  let loadError: string | null = null;
  const ensure = async (): Promise<{ core: KadscopeCore; codec: KadscopeCodec }> => {
    if (loaded) return loaded;
    const r = await loadKadscope();
    if ('reason' in r) {
      loadError = r.reason;
      throw new Error(r.reason);
    }
    loaded = r;
    return r;
  };

  const layer = choice === 'dgram' ? 'node:dgram' : choice === 'udx' ? 'udx-native' : null;
  const driver: SystemDriver = {
    name: layer ? `kadscope (${layer})` : 'kadscope',
    idBytes: ID_BYTES,
    // The product's default is resolved when the driver is made ready (kadscopeDriverReady).
    socketLayer: layer ?? 'kadscope-native',

    async unavailableReason() {
      try {
        await ensure();
        driver.socketLayer = await resolvedLayer(choice);
        return null;
      } catch {
        return loadError;
      }
    },

    async createNetwork(size: number, options: NetworkOptions = {}): Promise<BenchNetwork> {
      const { core } = await ensure();
      const testnet = await withTimeout(
        core.createTestnet({
          size,
          transport: 'udp',
          host: HOST,
          // As many joining at once as the other drivers let join (an older core ignores it).
          joinConcurrency: JOIN_CONCURRENCY,
          node: { ...(options.unthrottled ? { rateLimit: false as const } : {}), ...(choice ? { socketLayer: choice } : {}) },
        }),
        TESTNET_TIMEOUT_MS,
        'kadscope createTestnet',
      );
      try {
        await runBounded(testnet.nodes.length, SETTLE_CONCURRENCY, async (i) => {
          const n = testnet.nodes[i];
          await withTimeout(n.findNode(n.id), SETTLE_LOOKUP_TIMEOUT_MS, 'kadscope settle lookup');
        });
        const net = new KadscopeNetwork(testnet, core);
        await settleUntil(() => net.inflight() === 0);
        return net;
      } catch (err) {
        await testnet.destroy();
        throw err;
      }
    },

    classifyDatagram(bytes: Uint8Array): DatagramClass {
      if (!loaded) throw new Error('kadscope codec not loaded');
      const r = loaded.codec.decodeMessage(bytes);
      if (!r.ok) return { request: false, method: 'unreadable' };
      return r.message.kind === 'request' ? { request: true, method: r.message.method } : { request: false, method: r.message.kind };
    },

    async codecCases(): Promise<CodecCase[]> {
      const { codec } = await ensure();
      return kadscopeCodecCases(codec);
    },
  };
  return driver;
}

export function kadscopeDiagnostics(net: BenchNetwork): Record<string, unknown> {
  if (!(net instanceof KadscopeNetwork)) return {};
  const sizes = net.tableSizes();
  return sizes ? { routingTableSizeMin: Math.min(...sizes), routingTableSizeMax: Math.max(...sizes) } : {};
}

/**
 * The same three messages as the peers', in wire v1. The FIND_NODE response carries what kadscope
 * sends for FIND_NODE (the observed address, up to k contacts and a write token); if the node
 * sends a shorter token than MAX_TOKEN_BYTES, shorten TOKEN_BYTES to match.
 */
const TOKEN_BYTES = 32;

function kadscopeCodecCases(codec: KadscopeCodec): CodecCase[] {
  const id = new Uint8Array(ID_BYTES).fill(0xab);
  const target = new Uint8Array(ID_BYTES).fill(0x5c);
  const nodes: WireContact[] = Array.from({ length: 20 }, (_, i) => ({
    id: new Uint8Array(ID_BYTES).fill(i),
    host: `10.0.${i}.${i + 1}`,
    port: 40_000 + i,
  }));
  const messages: Record<CodecCase['name'], Message> = {
    'ping request': { kind: 'request', tid: 0x12345678, id, method: 'PING' },
    'find_node request': { kind: 'request', tid: 0x12345678, id, method: 'FIND_NODE', target },
    'find_node response (20 contacts)': {
      kind: 'response',
      tid: 0x12345678,
      id,
      observed: { host: '192.168.7.20', port: 50_001 },
      nodes,
      token: new Uint8Array(TOKEN_BYTES).fill(7),
    },
  };
  const decode = (bytes: Uint8Array): unknown => {
    const r = codec.decodeMessage(bytes);
    if (!r.ok) throw new Error(`kadscope decode failed: ${r.reason}`);
    return r.message;
  };
  return (Object.keys(messages) as CodecCase['name'][]).map((name) => {
    const m = messages[name];
    decode(codec.encodeMessage(m)); // round-trip check before measuring
    return { name, encode: () => codec.encodeMessage(m), decode };
  });
}
