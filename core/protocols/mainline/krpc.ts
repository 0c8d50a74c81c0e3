// KRPC codec for the Mainline DHT: one bencoded dictionary per datagram (BEP 5), with the
// extensions kadscope speaks: BEP 32 (nodes6, want), BEP 42 (ip), BEP 43 (ro), BEP 44 (get, put)
// and BEP 51 (sample_infohashes).
//
// decodeKrpc meets the network: it never throws, and returns a MainlineDropReason for anything it
// cannot accept. It checks every field it uses for type and length and ignores keys it does not
// know (KRPC is extensible: clients add keys freely, unlike kadscope's closed wire v1). Value
// limits that have their own KRPC error (a BEP 44 value over 1,000 bytes: 205, a salt over 64: 207)
// are left to the handler, which answers with that code. Compact lists must be whole entries;
// entries with port 0 are skipped (they cannot be contacted), the rest kept.
//
// encodeKrpc is for our own messages: it validates what it is given and throws
// DhtError('INVALID_ARGUMENT') for anything out of range.
//
// Byte fields of a decoded message are views into the datagram; copy one to keep it long-term.
import { DhtError } from '../../errors';
import { formatIPv4, formatIPv6, ipToBytes } from '../../wire/compact';
import { bdecode, bencode, bytesEqualAscii, type BDict, type BEncodable, type BValue } from './bencode';
import {
  BEP44_PUBLIC_KEY_BYTES,
  BEP44_SIGNATURE_BYTES,
  MAINLINE_ID_BYTES,
  MAX_CLIENT_VERSION_BYTES,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_MAINLINE_DATAGRAM_BYTES,
  MAX_METHOD_NAME_BYTES,
  MAX_NODES_ACCEPTED,
  MAX_SAMPLES_ACCEPTED,
  MAX_TID_BYTES,
  MAX_TOKEN_BYTES,
  MAX_VALUES_ACCEPTED,
  type ErrorMessage,
  type MainlineContact,
  type MainlineDecodeResult,
  type MainlineDropReason,
  type MainlineMessage,
  type MainlinePeer,
  type PutItem,
  type QueryArgs,
  type QueryMessage,
  type ResponseMessage,
  type Want,
} from './types';

export const COMPACT_V4_NODE_BYTES = MAINLINE_ID_BYTES + 6; // 26
export const COMPACT_V6_NODE_BYTES = MAINLINE_ID_BYTES + 18; // 38
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------
// Decoding

class Drop {
  constructor(
    readonly reason: MainlineDropReason,
    readonly detail: string,
  ) {}
}

function drop(reason: MainlineDropReason, detail: string): never {
  throw new Drop(reason, detail);
}

function describe(v: BValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v instanceof Uint8Array) return `a ${v.length}-byte string`;
  if (typeof v === 'number') return 'an integer';
  if (Array.isArray(v)) return 'a list';
  return 'a dictionary';
}

function bytesField(d: BDict, key: string, reason: MainlineDropReason, min: number, max: number, where: string): Uint8Array {
  const v = d.get(key);
  if (!(v instanceof Uint8Array)) return drop(reason, `${where}.${key}: ${describe(v)}, expected a byte string`);
  if (v.length < min || v.length > max) {
    return drop(reason, `${where}.${key}: ${v.length} bytes, expected ${min === max ? min : `${min}..${max}`}`);
  }
  return v;
}

function optionalBytes(d: BDict, key: string, reason: MainlineDropReason, min: number, max: number, where: string): Uint8Array | undefined {
  return d.has(key) ? bytesField(d, key, reason, min, max, where) : undefined;
}

function intField(d: BDict, key: string, reason: MainlineDropReason, min: number, max: number, where: string): number {
  const v = d.get(key);
  if (typeof v !== 'number') return drop(reason, `${where}.${key}: ${describe(v)}, expected an integer`);
  if (v < min || v > max) return drop(reason, `${where}.${key}: ${v} outside ${min}..${max}`);
  return v;
}

function optionalInt(d: BDict, key: string, reason: MainlineDropReason, min: number, max: number, where: string): number | undefined {
  return d.has(key) ? intField(d, key, reason, min, max, where) : undefined;
}

function readPort(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

/** A compact node list (26 or 38 bytes an entry) appended to `into`; port-0 entries are skipped. */
function compactNodes(b: Uint8Array, family: 4 | 6, into: MainlineContact[], key: string): void {
  const size = family === 4 ? COMPACT_V4_NODE_BYTES : COMPACT_V6_NODE_BYTES;
  if (b.length % size !== 0) drop('bad-response', `r.${key}: ${b.length} bytes, not a multiple of ${size}`);
  if (into.length + b.length / size > MAX_NODES_ACCEPTED) drop('bad-response', `r.${key}: more than ${MAX_NODES_ACCEPTED} contacts`);
  for (let off = 0; off < b.length; off += size) {
    const ip = off + MAINLINE_ID_BYTES;
    const port = readPort(b, off + size - 2);
    if (port === 0) continue;
    into.push({ id: b.subarray(off, ip), host: family === 4 ? formatIPv4(b, ip) : formatIPv6(b, ip), port });
  }
}

/** A compact peer (6 or 18 bytes), or a string saying what is wrong. */
function decodeCompactPeer(b: Uint8Array): MainlinePeer | string {
  if (b.length !== 6 && b.length !== 18) return `${b.length} bytes, expected 6 or 18`;
  const port = readPort(b, b.length - 2);
  if (port === 0) return 'port 0';
  return { host: b.length === 6 ? formatIPv4(b, 0) : formatIPv6(b, 0), port };
}

function decodeQuery(top: BDict, tid: Uint8Array, version: Uint8Array | undefined): QueryMessage {
  const name = bytesField(top, 'q', 'bad-args', 1, MAX_METHOD_NAME_BYTES, 'q');
  const ro = optionalInt(top, 'ro', 'bad-header', 0, 1, 'top');
  const a = top.get('a');
  if (!(a instanceof Map)) return drop('bad-args', `a: ${describe(a)}, expected a dictionary`);
  const id = bytesField(a, 'id', 'bad-args', MAINLINE_ID_BYTES, MAINLINE_ID_BYTES, 'a');
  let want: Want[] | undefined;
  const w = a.get('want');
  if (w !== undefined) {
    if (!Array.isArray(w)) drop('bad-args', `a.want: ${describe(w)}, expected a list`);
    want = [];
    for (const item of w) {
      if (!(item instanceof Uint8Array)) drop('bad-args', `a.want: an item is ${describe(item)}`);
      // Families we do not know are ignored, as BEP 32 intends for future ones.
      if (bytesEqualAscii(item, 'n4') && !want.includes('n4')) want.push('n4');
      else if (bytesEqualAscii(item, 'n6') && !want.includes('n6')) want.push('n6');
    }
  }
  const args = decodeArgs(Buffer.from(name).toString('latin1'), a);
  const msg = { kind: 'query', tid, id, readOnly: ro === 1, ...args } as QueryMessage;
  if (version !== undefined) msg.version = version;
  if (want !== undefined) msg.want = want;
  return msg;
}

const ID = MAINLINE_ID_BYTES;

function decodeArgs(name: string, a: BDict): QueryArgs {
  switch (name) {
    case 'ping':
      return { method: 'ping' };
    case 'find_node':
      return { method: 'find_node', target: bytesField(a, 'target', 'bad-args', ID, ID, 'a') };
    case 'get_peers':
      return { method: 'get_peers', infoHash: bytesField(a, 'info_hash', 'bad-args', ID, ID, 'a') };
    case 'sample_infohashes':
      return { method: 'sample_infohashes', target: bytesField(a, 'target', 'bad-args', ID, ID, 'a') };
    case 'announce_peer': {
      const infoHash = bytesField(a, 'info_hash', 'bad-args', ID, ID, 'a');
      const token = bytesField(a, 'token', 'bad-args', 1, MAX_TOKEN_BYTES, 'a');
      const impliedPort = optionalInt(a, 'implied_port', 'bad-args', 0, 1, 'a') === 1;
      // With implied_port the port argument is ignored (clients still send one, sometimes 0).
      const port = impliedPort ? (optionalInt(a, 'port', 'bad-args', 0, 65535, 'a') ?? 0) : intField(a, 'port', 'bad-args', 1, 65535, 'a');
      return { method: 'announce_peer', infoHash, port, token, impliedPort };
    }
    case 'get': {
      const target = bytesField(a, 'target', 'bad-args', ID, ID, 'a');
      const seq = optionalInt(a, 'seq', 'bad-args', 0, MAX_SEQ, 'a');
      return seq === undefined ? { method: 'get', target } : { method: 'get', target, seq };
    }
    case 'put': {
      const token = bytesField(a, 'token', 'bad-args', 1, MAX_TOKEN_BYTES, 'a');
      if (!a.has('v')) drop('bad-args', 'a.v: missing');
      const v = bencode(a.get('v') as BValue); // canonical input: the same bytes the author signed
      const cas = optionalInt(a, 'cas', 'bad-args', 0, MAX_SEQ, 'a');
      let item: PutItem;
      if (a.has('k')) {
        const k = bytesField(a, 'k', 'bad-args', BEP44_PUBLIC_KEY_BYTES, BEP44_PUBLIC_KEY_BYTES, 'a');
        const sig = bytesField(a, 'sig', 'bad-args', BEP44_SIGNATURE_BYTES, BEP44_SIGNATURE_BYTES, 'a');
        const seq = intField(a, 'seq', 'bad-args', 0, MAX_SEQ, 'a');
        // The salt's size limit has its own error (207): any length passes here.
        const salt = optionalBytes(a, 'salt', 'bad-args', 0, MAX_MAINLINE_DATAGRAM_BYTES, 'a') ?? new Uint8Array(0);
        item = { type: 'mutable', v, k, salt, seq, sig };
      } else {
        for (const key of ['sig', 'seq', 'salt', 'cas']) if (a.has(key)) drop('bad-args', `a.${key}: only for a mutable item (no k)`);
        item = { type: 'immutable', v };
      }
      return cas === undefined ? { method: 'put', token, item } : { method: 'put', token, item, cas };
    }
    default:
      return { method: 'unknown', name };
  }
}

function decodeResponse(top: BDict, tid: Uint8Array, version: Uint8Array | undefined): ResponseMessage {
  const r = top.get('r');
  if (!(r instanceof Map)) return drop('bad-response', `r: ${describe(r)}, expected a dictionary`);
  const id = bytesField(r, 'id', 'bad-response', ID, ID, 'r');
  const msg: ResponseMessage = { kind: 'response', tid, id };
  if (version !== undefined) msg.version = version;
  const ip = top.get('ip');
  if (ip !== undefined) {
    if (!(ip instanceof Uint8Array)) drop('bad-response', `ip: ${describe(ip)}, expected a compact address`);
    const peer = decodeCompactPeer(ip);
    if (typeof peer === 'string') drop('bad-response', `ip: ${peer}`);
    msg.observed = peer;
  }
  const n4 = optionalBytes(r, 'nodes', 'bad-response', 0, MAX_MAINLINE_DATAGRAM_BYTES, 'r');
  const n6 = optionalBytes(r, 'nodes6', 'bad-response', 0, MAX_MAINLINE_DATAGRAM_BYTES, 'r');
  if (n4 !== undefined || n6 !== undefined) {
    const nodes: MainlineContact[] = [];
    if (n4 !== undefined) compactNodes(n4, 4, nodes, 'nodes');
    if (n6 !== undefined) compactNodes(n6, 6, nodes, 'nodes6');
    msg.nodes = nodes;
  }
  const token = optionalBytes(r, 'token', 'bad-response', 1, MAX_TOKEN_BYTES, 'r');
  if (token !== undefined) msg.token = token;
  const values = r.get('values');
  if (values !== undefined) {
    if (!Array.isArray(values)) drop('bad-response', `r.values: ${describe(values)}, expected a list`);
    if (values.length > MAX_VALUES_ACCEPTED) drop('bad-response', `r.values: more than ${MAX_VALUES_ACCEPTED} peers`);
    const peers: MainlinePeer[] = [];
    for (const item of values) {
      if (!(item instanceof Uint8Array)) drop('bad-response', `r.values: an item is ${describe(item)}`);
      const peer = decodeCompactPeer(item);
      if (typeof peer === 'string') {
        if (peer === 'port 0') continue;
        drop('bad-response', `r.values: ${peer}`);
      }
      peers.push(peer);
    }
    msg.values = peers;
  }
  if (r.has('v')) msg.v = bencode(r.get('v') as BValue);
  const k = optionalBytes(r, 'k', 'bad-response', BEP44_PUBLIC_KEY_BYTES, BEP44_PUBLIC_KEY_BYTES, 'r');
  const sig = optionalBytes(r, 'sig', 'bad-response', BEP44_SIGNATURE_BYTES, BEP44_SIGNATURE_BYTES, 'r');
  const seq = optionalInt(r, 'seq', 'bad-response', 0, MAX_SEQ, 'r');
  if (k !== undefined) msg.k = k;
  if (sig !== undefined) msg.sig = sig;
  if (seq !== undefined) msg.seq = seq;
  const samples = optionalBytes(r, 'samples', 'bad-response', 0, MAX_MAINLINE_DATAGRAM_BYTES, 'r');
  if (samples !== undefined) {
    if (samples.length % ID !== 0) drop('bad-response', `r.samples: ${samples.length} bytes, not a multiple of ${ID}`);
    if (samples.length / ID > MAX_SAMPLES_ACCEPTED) drop('bad-response', `r.samples: more than ${MAX_SAMPLES_ACCEPTED}`);
    msg.samples = [];
    for (let off = 0; off < samples.length; off += ID) msg.samples.push(samples.subarray(off, off + ID));
  }
  const interval = optionalInt(r, 'interval', 'bad-response', 0, MAX_SEQ, 'r');
  const num = optionalInt(r, 'num', 'bad-response', 0, MAX_SEQ, 'r');
  if (interval !== undefined) msg.interval = interval;
  if (num !== undefined) msg.num = num;
  return msg;
}

const UTF8 = new TextDecoder('utf-8', { fatal: false });

function decodeError(top: BDict, tid: Uint8Array, version: Uint8Array | undefined): ErrorMessage {
  const e = top.get('e');
  if (!Array.isArray(e) || e.length !== 2) return drop('bad-error', `e: ${describe(e)}, expected [code, message]`);
  const [code, text] = e;
  if (typeof code !== 'number' || code < 0 || code > 0xffff) return drop('bad-error', `e[0]: ${describe(code)}, expected a code 0..65535`);
  if (!(text instanceof Uint8Array)) return drop('bad-error', `e[1]: ${describe(text)}, expected a byte string`);
  const message = Array.from(UTF8.decode(text)).slice(0, MAX_ERROR_MESSAGE_CHARS).join('');
  const msg: ErrorMessage = { kind: 'error', tid, code, message };
  if (version !== undefined) msg.version = version;
  return msg;
}

/** Decodes one KRPC datagram. Never throws. */
export function decodeKrpc(data: Uint8Array): MainlineDecodeResult {
  if (!(data instanceof Uint8Array) || data.length === 0) return { ok: false, reason: 'empty' };
  if (data.length > MAX_MAINLINE_DATAGRAM_BYTES) return { ok: false, reason: 'oversize', detail: `${data.length} bytes` };
  const parsed = bdecode(data);
  if (!parsed.ok) return { ok: false, reason: 'not-bencode', detail: parsed.error };
  const top = parsed.value;
  if (!(top instanceof Map)) return { ok: false, reason: 'not-a-dict', detail: describe(top) };
  let replyTid: Uint8Array | undefined;
  try {
    const y = top.get('y');
    if (!(y instanceof Uint8Array) || y.length !== 1) return { ok: false, reason: 'bad-kind', detail: `y: ${describe(y)}` };
    const kind = y[0];
    if (kind !== 0x71 && kind !== 0x72 && kind !== 0x65) return { ok: false, reason: 'bad-kind', detail: `y: ${JSON.stringify(String.fromCharCode(kind))}` };
    const tid = bytesField(top, 't', 'bad-header', 1, MAX_TID_BYTES, 'top');
    if (kind === 0x71) replyTid = tid;
    const version = optionalBytes(top, 'v', 'bad-header', 0, MAX_CLIENT_VERSION_BYTES, 'top');
    const message: MainlineMessage =
      kind === 0x71 ? decodeQuery(top, tid, version) : kind === 0x72 ? decodeResponse(top, tid, version) : decodeError(top, tid, version);
    return { ok: true, message };
  } catch (e) {
    if (e instanceof Drop) {
      const out: MainlineDecodeResult = { ok: false, reason: e.reason, detail: e.detail.slice(0, 160) };
      if (replyTid !== undefined) out.replyTid = replyTid;
      return out;
    }
    return { ok: false, reason: 'not-bencode', detail: `undecodable (${String(e).slice(0, 80)})` };
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

function checkBytes(b: unknown, min: number, max: number, what: string): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length < min || b.length > max) {
    throw DhtError.invalidArgument(`${what} must be ${min === max ? min : `${min}..${max}`} bytes`);
  }
  return b;
}

function checkInt(n: unknown, min: number, max: number, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) throw DhtError.invalidArgument(`${what} must be an integer ${min}..${max}`);
  return n;
}

function checkId(b: unknown, what: string): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length !== ID) {
    throw DhtError.invalidArgument(`${what} must be a ${ID}-byte Mainline id; got ${b instanceof Uint8Array ? `${b.length} bytes` : typeof b}`);
  }
  return b;
}

/** A compact peer: 6 bytes for IPv4, 18 for IPv6. */
function encodeCompactPeer(peer: MainlinePeer, what = 'peer'): Uint8Array {
  const ip = ipToBytes(peer.host);
  if (ip === null) throw DhtError.invalidArgument(`${what}: ${JSON.stringify(String(peer.host).slice(0, 60))} is not an IP literal`);
  checkInt(peer.port, 1, 65535, `${what}: port`);
  const out = new Uint8Array(ip.length + 2);
  out.set(ip);
  out[ip.length] = peer.port >>> 8;
  out[ip.length + 1] = peer.port & 0xff;
  return out;
}

/** `nodes` and `nodes6` for a list of contacts (each family in its list's order). */
function encodeCompactNodes(contacts: readonly MainlineContact[]): { nodes: Uint8Array; nodes6: Uint8Array } {
  const v4: Uint8Array[] = [];
  const v6: Uint8Array[] = [];
  for (const c of contacts) {
    const id = checkId(c.id, 'contact id');
    const peer = encodeCompactPeer(c, 'contact');
    const entry = new Uint8Array(ID + peer.length);
    entry.set(id);
    entry.set(peer, ID);
    (peer.length === 6 ? v4 : v6).push(entry);
  }
  return { nodes: Buffer.concat(v4), nodes6: Buffer.concat(v6) };
}

function encodeArgs(q: QueryMessage): Map<string, BEncodable> {
  const a = new Map<string, BEncodable>([['id', checkId(q.id, 'id')]]);
  if (q.want !== undefined) a.set('want', [...q.want]);
  switch (q.method) {
    case 'ping':
      break;
    case 'find_node':
    case 'sample_infohashes':
      a.set('target', checkId(q.target, 'target'));
      break;
    case 'get_peers':
      a.set('info_hash', checkId(q.infoHash, 'info_hash'));
      break;
    case 'announce_peer':
      a.set('info_hash', checkId(q.infoHash, 'info_hash'));
      a.set('port', checkInt(q.port, q.impliedPort ? 0 : 1, 65535, 'port'));
      a.set('token', checkBytes(q.token, 1, MAX_TOKEN_BYTES, 'token'));
      if (q.impliedPort) a.set('implied_port', 1);
      break;
    case 'get':
      a.set('target', checkId(q.target, 'target'));
      if (q.seq !== undefined) a.set('seq', checkInt(q.seq, 0, MAX_SEQ, 'seq'));
      break;
    case 'put': {
      a.set('token', checkBytes(q.token, 1, MAX_TOKEN_BYTES, 'token'));
      const item = q.item;
      const v = bdecode(checkBytes(item.v, 1, MAX_MAINLINE_DATAGRAM_BYTES, 'v'));
      if (!v.ok) throw DhtError.invalidArgument(`v must be one canonical bencoded value: ${v.error}`);
      a.set('v', v.value as BEncodable);
      if (item.type === 'mutable') {
        a.set('k', checkBytes(item.k, BEP44_PUBLIC_KEY_BYTES, BEP44_PUBLIC_KEY_BYTES, 'k'));
        a.set('sig', checkBytes(item.sig, BEP44_SIGNATURE_BYTES, BEP44_SIGNATURE_BYTES, 'sig'));
        a.set('seq', checkInt(item.seq, 0, MAX_SEQ, 'seq'));
        if (item.salt.length > 0) a.set('salt', checkBytes(item.salt, 1, MAX_MAINLINE_DATAGRAM_BYTES, 'salt'));
        if (q.cas !== undefined) a.set('cas', checkInt(q.cas, 0, MAX_SEQ, 'cas'));
      } else if (q.cas !== undefined) {
        throw DhtError.invalidArgument('cas is only for a mutable item');
      }
      break;
    }
    case 'unknown':
      break;
  }
  return a;
}

/** Encodes one KRPC message. Throws INVALID_ARGUMENT for anything out of range. */
export function encodeKrpc(msg: MainlineMessage): Uint8Array {
  const top = new Map<string, BEncodable>([['t', checkBytes(msg.tid, 1, MAX_TID_BYTES, 'tid')]]);
  if (msg.version !== undefined) top.set('v', checkBytes(msg.version, 0, MAX_CLIENT_VERSION_BYTES, 'version'));
  if (msg.kind === 'query') {
    top.set('y', 'q');
    top.set('q', msg.method === 'unknown' ? checkBytes(Buffer.from(msg.name, 'latin1'), 1, MAX_METHOD_NAME_BYTES, 'method name') : msg.method);
    top.set('a', encodeArgs(msg));
    if (msg.readOnly) top.set('ro', 1);
  } else if (msg.kind === 'response') {
    top.set('y', 'r');
    if (msg.observed !== undefined) top.set('ip', encodeCompactPeer(msg.observed, 'observed'));
    const r = new Map<string, BEncodable>([['id', checkId(msg.id, 'id')]]);
    if (msg.nodes !== undefined) {
      const { nodes, nodes6 } = encodeCompactNodes(msg.nodes);
      // An empty `nodes` says "no nodes" (and is what a v4-only node sends), so it stays.
      if (nodes.length > 0 || nodes6.length === 0) r.set('nodes', nodes);
      if (nodes6.length > 0) r.set('nodes6', nodes6);
    }
    if (msg.token !== undefined) r.set('token', checkBytes(msg.token, 1, MAX_TOKEN_BYTES, 'token'));
    if (msg.values !== undefined) r.set('values', msg.values.map((p) => encodeCompactPeer(p, 'value')));
    if (msg.v !== undefined) {
      const v = bdecode(checkBytes(msg.v, 1, MAX_MAINLINE_DATAGRAM_BYTES, 'v'));
      if (!v.ok) throw DhtError.invalidArgument(`v must be one canonical bencoded value: ${v.error}`);
      r.set('v', v.value as BEncodable);
    }
    if (msg.k !== undefined) r.set('k', checkBytes(msg.k, BEP44_PUBLIC_KEY_BYTES, BEP44_PUBLIC_KEY_BYTES, 'k'));
    if (msg.sig !== undefined) r.set('sig', checkBytes(msg.sig, BEP44_SIGNATURE_BYTES, BEP44_SIGNATURE_BYTES, 'sig'));
    if (msg.seq !== undefined) r.set('seq', checkInt(msg.seq, 0, MAX_SEQ, 'seq'));
    if (msg.samples !== undefined) r.set('samples', Buffer.concat(msg.samples.map((s) => checkId(s, 'sample'))));
    if (msg.interval !== undefined) r.set('interval', checkInt(msg.interval, 0, MAX_SEQ, 'interval'));
    if (msg.num !== undefined) r.set('num', checkInt(msg.num, 0, MAX_SEQ, 'num'));
    top.set('r', r);
  } else {
    top.set('y', 'e');
    const text = Array.from(String(msg.message)).slice(0, MAX_ERROR_MESSAGE_CHARS).join('');
    top.set('e', [checkInt(msg.code, 0, 0xffff, 'error code'), text]);
  }
  return bencode(top);
}
