// dht-rpc (holepunch) driven by the benchmark harness.
//
// Network: one DHT.bootstrapper on 127.0.0.1 (it must know its own address, since nobody can tell
// it) and size-1 nodes bootstrapping from it. Nodes are created with `ephemeral: false` so they turn
// persistent during bootstrap and other nodes put them in their routing tables (the default,
// adaptive mode waits ~20 minutes), and `firewalled: false` since nothing on loopback is behind a
// NAT (it only skips the NAT probe; lookups are unaffected). A node's id is blake2b(ip:port), 32 bytes.
//
// Lookup: `node.findNode(target)`, dht-rpc's own iterative FIND_NODE query with its defaults
// (k = 20, concurrency 10); the result is `closestReplies`, the k closest nodes that answered.
//
// Records: dht-rpc has no storage of its own. Its README's recipe (and hyperdht's immutablePut /
// immutableGet, which follow it) is two user commands on every node: GET answers with the value
// stored under the target, PUT stores a value whose hash is the target when the request echoes a
// valid round-trip token. A put is a query walking to the target with GET, then a commit of PUT
// to the k closest replies with their tokens; a get is a query with GET that stops at the first
// reply whose value hashes to the key. Keys are SHA-256(value), as in the README. Each node keeps
// at most MAX_STORED_VALUES values (oldest dropped), like bittorrent-dht's LRU of 1,000.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import DHT, { type DhtRpcRequest } from 'dht-rpc';
import type { BenchNetwork, CodecCase, DatagramClass, DriverLookupResult, RecordOps, SystemDriver } from '../harness';
import { withTimeout } from '../harness';
import { freeUdpPort, runBounded, settleUntil } from './common';

const HOST = '127.0.0.1';
const ID_BYTES = 32;
/** Nodes joining at once while a network is built. */
const JOIN_CONCURRENCY = 16;
const JOIN_TIMEOUT_MS = 30_000;
const LOOKUP_TIMEOUT_MS = 30_000;

// Wire constants of dht-rpc (lib/io.js, lib/commands.js).
const VERSION = 0b11;
const REQUEST_ID = (0b0000 << 4) | VERSION;
const RESPONSE_ID = (0b0001 << 4) | VERSION;
const CMD_PING = 0;
const CMD_FIND_NODE = 2;

const INTERNAL_COMMANDS = ['PING', 'PING_NAT', 'FIND_NODE', 'DOWN_HINT', 'DELAYED_PING'];

// The benchmark's own user commands (README: "define a command enum").
const CMD_IMMUTABLE_PUT = 0;
const CMD_IMMUTABLE_GET = 1;
/** User error codes start at 16 (README), clear of dht-rpc's own. */
const ERR_INVALID_VALUE = 16;
const MAX_VALUE_BYTES = 1000;
const MAX_STORED_VALUES = 1000;
const RECORD_TIMEOUT_MS = 30_000;

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

/** A node's value store and the request handler that serves it. */
function installImmutableStore(node: DHT): Map<string, Buffer> {
  const values = new Map<string, Buffer>();
  node.on('request', (req: DhtRpcRequest) => {
    if (req.command === CMD_IMMUTABLE_GET) {
      req.reply(req.target ? (values.get(hex(req.target)) ?? null) : null);
      return;
    }
    if (req.command === CMD_IMMUTABLE_PUT) {
      // Only with a valid round-trip token (the requester proved its address) and a value that is
      // what the key says it is.
      if (!req.token || !req.target || !req.value || req.value.byteLength > MAX_VALUE_BYTES) return req.error(ERR_INVALID_VALUE);
      if (!sha256(req.value).equals(req.target)) return req.error(ERR_INVALID_VALUE);
      const key = hex(req.target);
      values.delete(key);
      values.set(key, Buffer.from(req.value));
      if (values.size > MAX_STORED_VALUES) values.delete(values.keys().next().value as string);
      req.reply(null);
      return;
    }
    req.error(DHT.ERROR_UNKNOWN_COMMAND);
  });
  return values;
}

/** The command of a request datagram, read as Request.decode does (lib/io.js). */
function dhtRpcCommand(bytes: Uint8Array): string {
  const flags = bytes[1]; // c.uint: one byte for values below 0xfd
  let at = 2 + 2 + 6; // type, flags, tid, to
  if (flags & 1) at += 32; // id
  if (flags & 2) at += 32; // token
  const command = bytes[at];
  if (command === undefined) return 'unreadable';
  return flags & 4 ? (INTERNAL_COMMANDS[command] ?? `internal:${command}`) : `user:${command}`;
}

function hex(b: Buffer): string {
  return b.toString('hex');
}

class DhtRpcNetwork implements BenchNetwork {
  readonly ids: string[];
  readonly records: RecordOps;

  constructor(
    private readonly nodes: DHT[],
    stores: Map<string, Buffer>[],
  ) {
    this.ids = nodes.map((n) => {
      if (!n.id) throw new Error('dht-rpc node still ephemeral after bootstrap');
      return hex(n.id);
    });
    this.records = {
      keyOf: (value) => hex(sha256(value)),
      put: async (fromIndex, value) => {
        const target = sha256(value);
        let acknowledged = 0;
        const q = nodes[fromIndex].query(
          { target, command: CMD_IMMUTABLE_GET, value: null },
          {
            commit: async (reply, dht) => {
              await dht.request({ token: reply.token, target, command: CMD_IMMUTABLE_PUT, value: Buffer.from(value) }, reply.from);
              acknowledged++;
            },
          },
        );
        await withTimeout(q.finished(), RECORD_TIMEOUT_MS, 'dht-rpc put');
        return { acknowledged };
      },
      get: async (fromIndex, keyHex) => {
        const local = stores[fromIndex].get(keyHex);
        if (local) return local;
        const target = Buffer.from(keyHex, 'hex');
        const q = nodes[fromIndex].query({ target, command: CMD_IMMUTABLE_GET, value: null });
        const found = (async (): Promise<Buffer | null> => {
          for await (const reply of q) {
            // Leaving the loop destroys the query: the rest of the walk is not needed.
            if (reply.value && sha256(reply.value).equals(target)) return reply.value;
          }
          return null;
        })();
        return withTimeout(found, RECORD_TIMEOUT_MS, 'dht-rpc get');
      },
      holds: (index, keyHex) => stores[index].has(keyHex),
    };
  }

  get size(): number {
    return this.nodes.length;
  }

  portsOf(index: number): number[] {
    const io = this.nodes[index].io;
    return [io.serverSocket?.address()?.port, io.clientSocket?.address()?.port].filter((p): p is number => !!p);
  }

  async lookup(fromIndex: number, targetHex: string): Promise<DriverLookupResult> {
    const q = this.nodes[fromIndex].findNode(Buffer.from(targetHex, 'hex'));
    await withTimeout(q.finished(), LOOKUP_TIMEOUT_MS, 'dht-rpc findNode');
    const closest = q.closestReplies.flatMap((r) => (r.from.id ? [{ id: hex(r.from.id) }] : []));
    return { closest, hops: null, selfReportedMessages: null };
  }

  async ping(fromIndex: number, toIndex: number): Promise<void> {
    const to = this.nodes[toIndex].io.serverSocket?.address();
    if (!to) throw new Error(`dht-rpc node ${toIndex} has no server socket`);
    await this.nodes[fromIndex].ping({ host: HOST, port: to.port });
  }

  /** Requests in flight across the network: 0 once bootstrap and refresh traffic has died down. */
  inflight(): number {
    return this.nodes.reduce((a, n) => a + n.io.inflight.length, 0);
  }

  tableSizes(): number[] {
    return this.nodes.map((n) => n.table.toArray().length);
  }

  async destroy(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.destroy()));
  }
}

export function dhtRpcDriver(): SystemDriver {
  return {
    name: 'dht-rpc',
    idBytes: ID_BYTES,
    socketLayer: 'udx-native',

    async unavailableReason() {
      return null; // a devDependency; an import failure would have stopped the run already
    },

    async createNetwork(size: number): Promise<BenchNetwork> {
      if (size < 2) throw new RangeError('a dht-rpc network needs a bootstrapper and at least one node');
      const port = await freeUdpPort(HOST);
      const boot = DHT.bootstrapper(port, HOST, { host: HOST });
      await withTimeout(boot.fullyBootstrapped(), JOIN_TIMEOUT_MS, 'dht-rpc bootstrapper');
      const bootstrap = [`${HOST}:${boot.address()?.port ?? port}`];
      const nodes: DHT[] = [boot];
      const stores = [installImmutableStore(boot)];
      try {
        await runBounded(size - 1, JOIN_CONCURRENCY, async () => {
          const node = new DHT({ bootstrap, ephemeral: false, firewalled: false, host: HOST });
          nodes.push(node);
          stores.push(installImmutableStore(node));
          await withTimeout(node.fullyBootstrapped(), JOIN_TIMEOUT_MS, 'dht-rpc node bootstrap');
        });
        // Settle: once everyone has joined, each node looks up its own id again (what its periodic
        // refresh would do), so the early joiners learn about the late ones.
        await runBounded(nodes.length, JOIN_CONCURRENCY, async (i) => {
          const self = nodes[i].id;
          if (self) await withTimeout(nodes[i].findNode(self).finished(), JOIN_TIMEOUT_MS, 'dht-rpc settle lookup');
        });
        const net = new DhtRpcNetwork(nodes, stores);
        await settleUntil(() => net.inflight() === 0);
        return net;
      } catch (err) {
        await Promise.allSettled(nodes.map((n) => n.destroy()));
        throw err;
      }
    },

    classifyDatagram(bytes: Uint8Array): DatagramClass {
      if (bytes[0] === RESPONSE_ID) return { request: false, method: 'response' };
      if (bytes[0] !== REQUEST_ID) return { request: false, method: 'unreadable' };
      return { request: true, method: dhtRpcCommand(bytes) };
    },

    async codecCases(): Promise<CodecCase[]> {
      return dhtRpcCodecCases();
    },
  };
}

/** Network diagnostics the lookup workload records (routing-table fill). */
export function dhtRpcDiagnostics(net: BenchNetwork): Record<string, unknown> {
  if (!(net instanceof DhtRpcNetwork)) return {};
  const sizes = net.tableSizes();
  return { routingTableSizeMin: Math.min(...sizes), routingTableSizeMax: Math.max(...sizes) };
}

// ---------------------------------------------------------------- codec

/**
 * dht-rpc's message codec is not exported on its own: encoding is Request._encodeRequest /
 * _sendReply and decoding is Request.decode / decodeReply, private to lib/io.js. These cases follow
 * those functions line by line with the same primitives (compact-encoding and lib/peer.js, the copies
 * dht-rpc loads), including the blake2b check of the sender id that decoding does.
 */
async function dhtRpcCodecCases(): Promise<CodecCase[]> {
  const req = createRequire(createRequire(import.meta.url).resolve('dht-rpc'));
  const c = req('compact-encoding') as typeof import('compact-encoding');
  const peer = req('./lib/peer.js') as typeof import('dht-rpc/lib/peer.js');
  type State = { start: number; end: number; buffer: Uint8Array | null };

  const self = { host: '10.1.2.3', port: 49737 };
  const selfId = peer.id(self.host, self.port);
  const to = { host: '192.168.7.20', port: 50_001 };
  const target = peer.id('172.16.0.9', 4242);
  const contacts = Array.from({ length: 20 }, (_, i) => ({ host: `10.0.${i}.${i + 1}`, port: 40_000 + i }));

  function encodeRequest(command: number, tgt: Buffer | null): Uint8Array {
    const state: State = { start: 0, end: 1 + 1 + 6 + 2, buffer: null };
    state.end += 32; // id: a persistent node sends its id from the server socket
    c.uint.preencode(state, command);
    if (tgt) state.end += 32;
    const buf = Buffer.allocUnsafe(state.end);
    state.buffer = buf;
    buf[state.start++] = REQUEST_ID;
    buf[state.start++] = 1 | 4 | (tgt ? 8 : 0); // id | internal | target
    c.uint16.encode(state, 0x1234);
    peer.ipv4.encode(state, to);
    c.fixed32.encode(state, selfId);
    c.uint.encode(state, command);
    if (tgt) c.fixed32.encode(state, tgt);
    return buf;
  }

  function validateId(id: Uint8Array, from: { host: string; port: number }): Buffer | null {
    const expected = peer.id(from.host, from.port);
    return expected.equals(id) ? expected : null;
  }

  function decodeRequest(bytes: Uint8Array): unknown {
    const state: State = { start: 1, end: bytes.byteLength, buffer: bytes };
    const from = { id: null as Buffer | null, ...self };
    const flags = c.uint.decode(state);
    const tid = c.uint16.decode(state);
    const dest = peer.ipv4.decode(state);
    const id = flags & 1 ? c.fixed32.decode(state) : null;
    const token = flags & 2 ? c.fixed32.decode(state) : null;
    const internal = (flags & 4) !== 0;
    const command = c.uint.decode(state);
    const tgt = flags & 8 ? c.fixed32.decode(state) : null;
    const value = flags & 16 ? c.buffer.decode(state) : null;
    if (id !== null) from.id = validateId(id, from);
    return { tid, from, to: dest, token, internal, command, target: tgt, value };
  }

  function encodeFindNodeReply(): Uint8Array {
    // FIND_NODE is answered with sendReply(0, null, token = false, closerNodes = true).
    const state: State = { start: 0, end: 1 + 1 + 6 + 2, buffer: null };
    state.end += 32; // id
    peer.ipv4Array.preencode(state, contacts);
    const buf = Buffer.allocUnsafe(state.end);
    state.buffer = buf;
    buf[state.start++] = RESPONSE_ID;
    buf[state.start++] = 1 | 4; // id | closerNodes
    c.uint16.encode(state, 0x1234);
    peer.ipv4.encode(state, to);
    c.fixed32.encode(state, selfId);
    peer.ipv4Array.encode(state, contacts);
    return buf;
  }

  function decodeReply(bytes: Uint8Array): unknown {
    const state: State = { start: 1, end: bytes.byteLength, buffer: bytes };
    const from = { id: null as Buffer | null, ...self };
    const flags = c.uint.decode(state);
    const tid = c.uint16.decode(state);
    const dest = peer.ipv4.decode(state);
    const id = flags & 1 ? c.fixed32.decode(state) : null;
    const token = flags & 2 ? c.fixed32.decode(state) : null;
    const closerNodes = flags & 4 ? peer.ipv4Array.decode(state) : null;
    const error = flags & 8 ? c.uint.decode(state) : 0;
    const value = flags & 16 ? c.buffer.decode(state) : null;
    if (id !== null) from.id = validateId(id, from);
    return { tid, rtt: 0, from, to: dest, token, closerNodes, error, value };
  }

  // Sanity: what we decode is what we encoded (a wrong mirror would make the rates meaningless).
  const check = decodeReply(encodeFindNodeReply()) as { closerNodes: unknown[]; from: { id: unknown } };
  if (check.closerNodes.length !== 20 || check.from.id === null) throw new Error('dht-rpc codec mirror does not round-trip');

  return [
    { name: 'ping request', encode: () => encodeRequest(CMD_PING, null), decode: decodeRequest },
    { name: 'find_node request', encode: () => encodeRequest(CMD_FIND_NODE, target), decode: decodeRequest },
    { name: 'find_node response (20 contacts)', encode: encodeFindNodeReply, decode: decodeReply },
  ];
}
