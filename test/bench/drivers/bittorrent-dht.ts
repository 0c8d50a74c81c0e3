// bittorrent-dht (webtorrent) driven by the benchmark harness.
//
// Network: the first node has `bootstrap: false`; the others bootstrap from it on 127.0.0.1 and we
// wait for each one's 'ready' (its find_node lookup of its own id has finished). Ids are 20 random
// bytes (SHA-1 sized), so correctness is computed over 160-bit XOR distances.
//
// Lookup: k-rpc's iterative closest-nodes lookup, `dht._rpc.closest(target, find_node, visit, cb)`,
// the same routine `dht.lookup()` / `get()` / `put()` run internally, with its defaults (k = 20,
// concurrency 16). We send `find_node` rather than use `dht.lookup(infoHash)` (get_peers) because
// find_node is the pure node lookup that kadscope's FIND_NODE and dht-rpc's findNode also are:
// get_peers answers carry tokens and peers and would weigh bittorrent-dht's messages down unfairly.
// k-rpc does not return the closest nodes, so the result is the k closest of the nodes that
// answered (collected through the visit callback), as dht-rpc's closestReplies is.
//
// Records: BEP 44 immutable items, `dht.put({ v })` (a `get` walk to the key, then `put` with the
// tokens to the k closest; its callback reports how many acknowledged) and `dht.get(key)` (a `get`
// walk that stops at the first value hashing to the key). Keys are SHA-1(bencode(v)). A node's own
// `_values` LRU is where it holds values; holders are counted there.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import DHT from 'bittorrent-dht';
import type { BenchNetwork, CodecCase, DatagramClass, DriverLookupResult, RecordOps, SystemDriver } from '../harness';
import { sortByDistance, withTimeout } from '../harness';
import { runBounded, settleUntil } from './common';

const HOST = '127.0.0.1';
const ID_BYTES = 20;
const JOIN_CONCURRENCY = 16;
const JOIN_TIMEOUT_MS = 30_000;
const LOOKUP_TIMEOUT_MS = 30_000;
const RECORD_TIMEOUT_MS = 30_000;
/** A bencoded KRPC query is a dict whose last key is y = "q": it ends with `1:y1:qe`. */
const QUERY_SUFFIX = Buffer.from('1:y1:qe');
const ERROR_SUFFIX = Buffer.from('1:y1:ee');

function hex(b: Buffer): string {
  return b.toString('hex');
}

function isId(x: unknown): x is Buffer {
  return Buffer.isBuffer(x) && x.length === ID_BYTES;
}

/** BEP 44's immutable key: SHA-1 of the bencoded value (a byte string: `<length>:<bytes>`). */
function immutableKey(value: Uint8Array): Buffer {
  return createHash('sha1').update(`${value.byteLength}:`).update(value).digest();
}

class BittorrentNetwork implements BenchNetwork {
  readonly ids: string[];
  readonly records: RecordOps;

  constructor(private readonly nodes: DHT[]) {
    this.ids = nodes.map((n) => hex(n.nodeId));
    this.records = {
      keyOf: (value) => hex(immutableKey(value)),
      put: (fromIndex, value) => {
        const expected = immutableKey(value);
        const done = new Promise<{ acknowledged: number }>((resolve, reject) => {
          nodes[fromIndex].put({ v: Buffer.from(value) }, (err, key, n) => {
            if (err) return reject(err);
            if (!key.equals(expected)) return reject(new Error('bittorrent-dht stored under another key than SHA-1(bencode(v))'));
            resolve({ acknowledged: n });
          });
        });
        return withTimeout(done, RECORD_TIMEOUT_MS, 'bittorrent-dht put');
      },
      get: (fromIndex, keyHex) => {
        const done = new Promise<Uint8Array | null>((resolve, reject) => {
          nodes[fromIndex].get(Buffer.from(keyHex, 'hex'), (err, res) => (err ? reject(err) : resolve(res?.v ?? null)));
        });
        return withTimeout(done, RECORD_TIMEOUT_MS, 'bittorrent-dht get');
      },
      holds: (index, keyHex) => nodes[index]._values.peek(keyHex) !== undefined,
    };
  }

  get size(): number {
    return this.nodes.length;
  }

  portsOf(index: number): number[] {
    return [this.nodes[index].address().port];
  }

  lookup(fromIndex: number, targetHex: string): Promise<DriverLookupResult> {
    const dht = this.nodes[fromIndex];
    const target = Buffer.from(targetHex, 'hex');
    const responders = new Set<string>();
    const done = new Promise<DriverLookupResult>((resolve, reject) => {
      dht._rpc.closest(
        target,
        { q: 'find_node', a: { id: dht._rpc.id, target } },
        (res) => {
          if (isId(res.r?.id)) responders.add(hex(res.r.id));
          return true;
        },
        (err) => {
          if (err) return reject(err);
          const closest = sortByDistance(targetHex, [...responders])
            .slice(0, dht._rpc.k)
            .map((id) => ({ id }));
          resolve({ closest, hops: null, selfReportedMessages: null });
        },
      );
    });
    return withTimeout(done, LOOKUP_TIMEOUT_MS, 'bittorrent-dht closest');
  }

  ping(fromIndex: number, toIndex: number): Promise<void> {
    const to = { host: HOST, port: this.nodes[toIndex].address().port };
    return new Promise((resolve, reject) => {
      // What DHT#_sendPing does: a KRPC ping query through k-rpc (its in-flight cap applies).
      this.nodes[fromIndex]._rpc.query(to, { q: 'ping' }, (err, res) => {
        if (err) return reject(err);
        if (!isId(res?.r?.id)) return reject(new Error('bittorrent-dht: bad ping reply'));
        resolve();
      });
    });
  }

  inflight(): number {
    return this.nodes.reduce((a, n) => a + n._rpc.socket.inflight + n._rpc.pending.length, 0);
  }

  tableSizes(): number[] {
    return this.nodes.map((n) => n._rpc.nodes.count());
  }

  async destroy(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => new Promise<void>((r) => n.destroy(() => r()))));
  }
}

async function startNode(bootstrap: string[] | false): Promise<DHT> {
  const dht = new DHT({ bootstrap });
  // k-rpc emits socket errors as 'error'; an unhandled one would end the process mid-run.
  dht.on('error', () => {});
  dht.on('warning', () => {});
  const ready = once(dht, 'ready');
  dht.listen(0, HOST);
  if (!dht.listening) await withTimeout(once(dht, 'listening'), JOIN_TIMEOUT_MS, 'bittorrent-dht listen');
  await withTimeout(ready, JOIN_TIMEOUT_MS, 'bittorrent-dht bootstrap');
  return dht;
}

export function bittorrentDhtDriver(): SystemDriver {
  return {
    name: 'bittorrent-dht',
    idBytes: ID_BYTES,
    socketLayer: 'node:dgram',

    async unavailableReason() {
      return null;
    },

    async createNetwork(size: number): Promise<BenchNetwork> {
      if (size < 2) throw new RangeError('a bittorrent-dht network needs at least two nodes');
      const first = await startNode(false);
      const bootstrap = [`${HOST}:${first.address().port}`];
      const nodes: DHT[] = [first];
      try {
        await runBounded(size - 1, JOIN_CONCURRENCY, async () => {
          nodes.push(await startNode(bootstrap));
        });
        // Settle: every node runs its bootstrap lookup (find_node of its own id) once more, now
        // that everyone has joined, as dht-rpc's nodes do in their driver.
        await runBounded(nodes.length, JOIN_CONCURRENCY, async (i) => {
          const n = nodes[i];
          await withTimeout(
            new Promise<void>((resolve, reject) =>
              n._rpc.populate(n.nodeId, { q: 'find_node', a: { id: n.nodeId, target: n.nodeId } }, (err) => (err ? reject(err) : resolve())),
            ),
            JOIN_TIMEOUT_MS,
            'bittorrent-dht settle lookup',
          );
        });
        const net = new BittorrentNetwork(nodes);
        await settleUntil(() => net.inflight() === 0);
        return net;
      } catch (err) {
        await Promise.allSettled(nodes.map((n) => new Promise<void>((r) => n.destroy(() => r()))));
        throw err;
      }
    },

    classifyDatagram(bytes: Uint8Array): DatagramClass {
      const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (b.subarray(-QUERY_SUFFIX.length).equals(QUERY_SUFFIX)) {
        // The method is the value of key q: `1:q<len>:<name>`.
        const m = /1:q(\d+):/.exec(b.toString('latin1'));
        return { request: true, method: m ? b.toString('latin1', m.index + m[0].length, m.index + m[0].length + Number(m[1])) : 'unreadable' };
      }
      return { request: false, method: b.subarray(-ERROR_SUFFIX.length).equals(ERROR_SUFFIX) ? 'error' : 'response' };
    },

    async codecCases(): Promise<CodecCase[]> {
      return bittorrentCodecCases();
    },
  };
}

export function bittorrentDiagnostics(net: BenchNetwork): Record<string, unknown> {
  if (!(net instanceof BittorrentNetwork)) return {};
  const sizes = net.tableSizes();
  return { routingTableSizeMin: Math.min(...sizes), routingTableSizeMax: Math.max(...sizes) };
}

// ---------------------------------------------------------------- codec

interface Bencode {
  encode(value: unknown): Buffer;
  decode(bytes: Uint8Array): unknown;
}

/**
 * The KRPC messages as k-rpc-socket puts them on the wire: bencode (the 2.x copy k-rpc-socket itself
 * loads, not bittorrent-dht's own 4.x) plus k-rpc's compact node encoding, which is module-private
 * in k-rpc/index.js (encodeNodes / parseNodes) and followed here line by line.
 */
async function bittorrentCodecCases(): Promise<CodecCase[]> {
  // bittorrent-dht is ESM-only (its exports have no require condition), so resolve it the ESM way.
  const fromKrpc = createRequire(createRequire(import.meta.resolve('bittorrent-dht')).resolve('k-rpc'));
  const fromSocket = createRequire(fromKrpc.resolve('k-rpc-socket'));
  const bencode = fromSocket('bencode') as Bencode;

  const id = Buffer.alloc(ID_BYTES, 0xab);
  const target = Buffer.alloc(ID_BYTES, 0x5c);
  const t = Buffer.from([0x12, 0x34]);
  const contacts = Array.from({ length: 20 }, (_, i) => ({ id: Buffer.alloc(ID_BYTES, i), host: `10.0.${i}.${i + 1}`, port: 40_000 + i }));

  function encodeNodes(nodes: typeof contacts): Buffer {
    const buf = Buffer.allocUnsafe(nodes.length * (ID_BYTES + 6));
    let ptr = 0;
    for (const node of nodes) {
      if (!isId(node.id)) continue;
      node.id.copy(buf, ptr);
      ptr += ID_BYTES;
      const ip = node.host.split('.');
      for (let j = 0; j < 4; j++) buf[ptr++] = parseInt(ip[j] || '0', 10);
      buf.writeUInt16BE(node.port, ptr);
      ptr += 2;
    }
    return ptr === buf.length ? buf : buf.subarray(0, ptr);
  }

  function parseNodes(buf: Buffer): { id: Buffer; host: string; port: number }[] {
    const out: { id: Buffer; host: string; port: number }[] = [];
    for (let i = 0; i + ID_BYTES + 6 <= buf.length; i += ID_BYTES + 6) {
      const port = buf.readUInt16BE(i + ID_BYTES + 4);
      if (!port) continue;
      const o = i + ID_BYTES;
      out.push({ id: buf.subarray(i, i + ID_BYTES), host: `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`, port });
    }
    return out;
  }

  // k-rpc-socket's onmessage: decode, read y and the transaction id; k-rpc then parses r.nodes.
  function decodeKrpc(bytes: Uint8Array): unknown {
    const m = bencode.decode(bytes) as { y?: Buffer; t?: Buffer; r?: { nodes?: Buffer } };
    const type = m.y?.toString();
    const tid = m.t?.readUInt16BE(0);
    const nodes = m.r?.nodes ? parseNodes(m.r.nodes) : null;
    return { type, tid, m, nodes };
  }

  const check = decodeKrpc(bencode.encode({ t, y: 'r', r: { id, nodes: encodeNodes(contacts) } })) as { nodes: unknown[] };
  if (check.nodes.length !== 20) throw new Error('bittorrent-dht codec mirror does not round-trip');

  return [
    { name: 'ping request', encode: () => bencode.encode({ t, y: 'q', q: 'ping', a: { id } }), decode: decodeKrpc },
    { name: 'find_node request', encode: () => bencode.encode({ t, y: 'q', q: 'find_node', a: { id, target } }), decode: decodeKrpc },
    {
      name: 'find_node response (20 contacts)',
      encode: () => bencode.encode({ t, y: 'r', r: { id, nodes: encodeNodes(contacts) } }),
      decode: decodeKrpc,
    },
  ];
}
