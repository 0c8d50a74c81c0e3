// Compact address forms for wire v1 (see README.md, "Compact forms"):
//   peer    = ip (4 or 16 bytes) + port (2 bytes, big-endian)           ->  6 / 18 bytes
//   contact = id (32 bytes) + ip + port                                 -> 38 / 50 bytes
// A list is one byte string per address family: the entries concatenated.
//
// Hosts are IP literals only, never names. Decoded hosts are formatted exactly as Node reports a
// datagram's source (`rinfo.address`, libuv's inet_ntop): dotted IPv4, and IPv6 compressed with the
// longest run of zero words as "::" and an embedded IPv4 tail for ::a.b.c.d and ::ffff:a.b.c.d.
// That way a host learned from a compact list and the same host seen as a packet source are the
// same string, so endpointKey() matches them without further normalisation.
//
// Decoders never throw: they return the decoded value or a string naming what is wrong.
// Encoders throw DhtError('INVALID_ARGUMENT') because bad input to them is a bug of ours.
import { DhtError } from '../errors';
import { ID_BYTES } from '../id';
import type { WireContact, WirePeer } from './types';

export const IPV4_BYTES = 4;
export const IPV6_BYTES = 16;
export const PORT_BYTES = 2;
export const COMPACT_IPV4_PEER_BYTES = IPV4_BYTES + PORT_BYTES; // 6
export const COMPACT_IPV6_PEER_BYTES = IPV6_BYTES + PORT_BYTES; // 18

const MAX_PORT = 65535;
/** Longest IPv6 text we parse: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255". */
const MAX_IPV6_TEXT_CHARS = 45;
const IPV6_WORDS = 8;

// ---------------------------------------------------------------------------------------------
// IP text <-> bytes

/** True for a valid port on the wire: an integer 1..65535 (0 means "no port" and is never sent). */
export function isValidPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= MAX_PORT;
}

/**
 * Writes the dotted-quad IPv4 `s` into out[off..off+4]. Strict like node:net isIP: four decimal
 * octets 0..255, no leading zeros, nothing else. Returns false (leaving `out` partly written) if not.
 */
function parseIPv4Into(s: string, start: number, end: number, out: Uint8Array, off: number): boolean {
  let octet = 0;
  let digits = 0;
  let index = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (digits === 0 || index === 3) return false;
      out[off + index++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return false; // leading zero ("01")
      octet = octet * 10 + (c - 0x30);
      if (++digits > 3 || octet > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || index !== 3) return false;
  out[off + 3] = octet;
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Parses an IPv6 literal (RFC 4291 text forms: hex groups, one "::", optional dotted IPv4 tail) into
 * out[off..off+16]. Zone ids ("fe80::1%eth0") are refused: they mean nothing to another host.
 */
function parseIPv6Into(s: string, out: Uint8Array, off: number): boolean {
  const len = s.length;
  if (len < 2 || len > MAX_IPV6_TEXT_CHARS) return false;
  const words = new Array<number>(IPV6_WORDS);
  let count = 0; // words written
  let gap = -1; // index in `words` where "::" stands
  let i = 0;
  if (s.charCodeAt(0) === 0x3a /* : */) {
    if (s.charCodeAt(1) !== 0x3a) return false; // a single leading ":" is not allowed
    gap = 0;
    i = 2;
    if (i === len) {
      out.fill(0, off, off + IPV6_BYTES);
      return true; // "::"
    }
  }
  while (i < len) {
    if (count === IPV6_WORDS) return false;
    // One group: hex digits up to ':' or end, or a dotted IPv4 tail.
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < len) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      value = (value << 4) | h;
      digits++;
      i++;
    }
    if (i < len && s.charCodeAt(i) === 0x2e /* . */) {
      // Embedded IPv4: must be the last thing in the text and leave room for two words.
      if (count > IPV6_WORDS - 2) return false;
      const v4 = new Uint8Array(IPV4_BYTES);
      if (!parseIPv4Into(s, groupStart, len, v4, 0)) return false;
      words[count++] = (v4[0] << 8) | v4[1];
      words[count++] = (v4[2] << 8) | v4[3];
      i = len;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    words[count++] = value;
    if (i === len) break;
    if (s.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < len && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false; // a second "::"
      gap = count;
      i++;
    } else if (i === len) {
      return false; // a trailing single ":"
    }
  }
  if (gap < 0) {
    if (count !== IPV6_WORDS) return false;
  } else if (count > IPV6_WORDS - 1) {
    return false; // "::" must stand for at least one zero word
  }
  const zeros = IPV6_WORDS - count;
  let w = 0;
  for (let k = 0; k < IPV6_WORDS; k++) {
    let word: number;
    if (gap >= 0 && k >= gap && k < gap + zeros) word = 0;
    else word = words[w++];
    out[off + 2 * k] = word >>> 8;
    out[off + 2 * k + 1] = word & 0xff;
  }
  return true;
}

/** The 4 or 16 bytes of an IP literal, or null if `host` is not one (names and zone ids are not). */
export function ipToBytes(host: string): Uint8Array | null {
  if (typeof host !== 'string') return null;
  if (host.includes(':')) {
    const out = new Uint8Array(IPV6_BYTES);
    return parseIPv6Into(host, out, 0) ? out : null;
  }
  const out = new Uint8Array(IPV4_BYTES);
  return parseIPv4Into(host, 0, host.length, out, 0) ? out : null;
}

/**
 * Recently formatted IPv4 hosts, direct-mapped by address (a slot keeps the last address that fell
 * in it). Every FIND_NODE answer names ~20 contacts, mostly on hosts seen before; building each
 * host string again cost a chain of intermediate strings per contact (~200 bytes). Fixed arrays,
 * not a Map: nothing here is rebuilt as addresses come and go. '' marks an empty slot.
 */
const V4_HOST_CACHE_SLOTS = 256;
const v4HostCacheIps = new Int32Array(V4_HOST_CACHE_SLOTS);
const v4HostCache: string[] = new Array<string>(V4_HOST_CACHE_SLOTS).fill('');

/** Dotted quad of b[off..off+4]. */
export function formatIPv4(b: Uint8Array, off = 0): string {
  const ip = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) | 0;
  const slot = (ip ^ (ip >>> 8) ^ (ip >>> 16) ^ (ip >>> 24)) & (V4_HOST_CACHE_SLOTS - 1);
  const cached = v4HostCache[slot];
  if (cached !== '' && v4HostCacheIps[slot] === ip) return cached;
  const host = `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  v4HostCacheIps[slot] = ip;
  v4HostCache[slot] = host;
  return host;
}

/**
 * b[off..off+16] as Node prints an IPv6 address (libuv inet_ntop): lowercase hex without leading
 * zeros; the first longest run of two or more zero words becomes "::"; ::ffff:a.b.c.d and
 * ::a.b.c.d (first six words zero, not "::" or "::1") keep a dotted IPv4 tail.
 */
export function formatIPv6(b: Uint8Array, off = 0): string {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let k = 0; k < IPV6_WORDS; k++) {
    const word = (b[off + 2 * k] << 8) | b[off + 2 * k + 1];
    if (word === 0) {
      if (curBase < 0) {
        curBase = k;
        curLen = 1;
      } else {
        curLen++;
      }
    } else if (curBase >= 0) {
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase >= 0 && curLen > bestLen) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestLen < 2) bestBase = -1;

  let out = '';
  for (let k = 0; k < IPV6_WORDS; k++) {
    if (bestBase >= 0 && k >= bestBase && k < bestBase + bestLen) {
      if (k === bestBase) out += ':';
      continue;
    }
    if (k !== 0) out += ':';
    if (k === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && b[off + 10] === 0xff && b[off + 11] === 0xff))) {
      out += formatIPv4(b, off + 12);
      return out;
    }
    out += ((b[off + 2 * k] << 8) | b[off + 2 * k + 1]).toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === IPV6_WORDS) out += ':';
  return out;
}

/** The form Node would report for this IP literal ("2001:DB8:0::1" -> "2001:db8::1"), or null. */
export function canonicalIp(host: string): string | null {
  const b = ipToBytes(host);
  if (b === null) return null;
  return b.length === IPV4_BYTES ? formatIPv4(b) : formatIPv6(b);
}

// ---------------------------------------------------------------------------------------------
// Peers (address only)

function hostError(host: unknown, what: string): DhtError {
  return DhtError.invalidArgument(`${what}: host ${JSON.stringify(String(host).slice(0, 60))} is not an IPv4 or IPv6 literal`);
}

function parsedHost(host: string, what: string): Uint8Array {
  const ip = ipToBytes(host);
  if (ip === null) throw hostError(host, what);
  return ip;
}

function checkedPort(port: number, what: string): number {
  if (!isValidPort(port)) throw DhtError.invalidArgument(`${what}: port ${String(port)} is not an integer 1..65535`);
  return port;
}

function writePort(out: Uint8Array, off: number, port: number): void {
  out[off] = port >>> 8;
  out[off + 1] = port & 0xff;
}

function readPort(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

/** One peer in compact form (6 bytes for IPv4, 18 for IPv6). Throws on a bad host or port. */
export function encodePeer(peer: WirePeer, what = 'peer'): Uint8Array {
  const ip = parsedHost(peer.host, what);
  const port = checkedPort(peer.port, what);
  const out = new Uint8Array(ip.length + PORT_BYTES);
  out.set(ip, 0);
  writePort(out, ip.length, port);
  return out;
}

/** Reads one compact peer (6 or 18 bytes); a string says what is wrong. */
export function decodePeer(b: Uint8Array): WirePeer | string {
  if (b.length === COMPACT_IPV4_PEER_BYTES) {
    const port = readPort(b, IPV4_BYTES);
    if (port === 0) return 'port 0';
    return { host: formatIPv4(b, 0), port };
  }
  if (b.length === COMPACT_IPV6_PEER_BYTES) {
    const port = readPort(b, IPV6_BYTES);
    if (port === 0) return 'port 0';
    return { host: formatIPv6(b, 0), port };
  }
  return `length ${b.length}, expected ${COMPACT_IPV4_PEER_BYTES} (IPv4) or ${COMPACT_IPV6_PEER_BYTES} (IPv6)`;
}

/** Compact lists split by family; the relative order within each family is kept. */
export interface CompactLists {
  v4: Uint8Array;
  v6: Uint8Array;
}

/** A list of peers as two concatenated compact byte strings. Throws on a bad entry. */
export function encodePeers(peers: readonly WirePeer[], what = 'peers'): CompactLists {
  return encodeList(peers, 0, what);
}

/** A list of contacts as two concatenated compact byte strings. Throws on a bad entry or id. */
export function encodeContacts(contacts: readonly WireContact[], what = 'nodes'): CompactLists {
  return encodeList(contacts, ID_BYTES, what);
}

function encodeList(items: readonly (WirePeer & { id?: Uint8Array })[], idBytes: number, what: string): CompactLists {
  // Sizes the two outputs first (a ':' marks IPv6), then parses each host straight into place, so a
  // list costs two allocations however long it is.
  const n6 = countIPv6(items);
  const v4 = new Uint8Array((items.length - n6) * (idBytes + COMPACT_IPV4_PEER_BYTES));
  const v6 = new Uint8Array(n6 * (idBytes + COMPACT_IPV6_PEER_BYTES));
  writeListsInto(items, idBytes, what, v4, 0, v6, 0);
  return { v4, v6 };
}

function isIPv6Host(host: unknown): boolean {
  return typeof host === 'string' && host.includes(':');
}

/** How many of the items have an IPv6 host (go in the "6" list). */
export function countIPv6(items: readonly WirePeer[]): number {
  let n6 = 0;
  for (let i = 0; i < items.length; i++) if (isIPv6Host(items[i].host)) n6++;
  return n6;
}

/**
 * Writes the compact form of every item, in order, IPv4 ones at out4[off4..] and IPv6 ones at
 * out6[off6..] (the codec passes its datagram for both, so lists go straight into place). The
 * first bad item throws INVALID_ARGUMENT naming `what[index]`. The outputs must have room
 * (countIPv6 gives the split).
 */
export function writeListsInto(
  items: readonly (WirePeer & { id?: Uint8Array })[],
  idBytes: number,
  what: string,
  out4: Uint8Array,
  off4: number,
  out6: Uint8Array,
  off6: number,
): void {
  for (let i = 0; i < items.length; i++) {
    const { host, port, id } = items[i];
    const isV6 = isIPv6Host(host);
    const out = isV6 ? out6 : out4;
    const off = isV6 ? off6 : off4;
    if (idBytes > 0) {
      if (!(id instanceof Uint8Array && id.length === idBytes)) throw DhtError.invalidArgument(`${what}[${i}]: id must be ${idBytes} bytes`);
      out.set(id, off);
    }
    const ok = isV6 ? parseIPv6Into(host, out, off + idBytes) : typeof host === 'string' && parseIPv4Into(host, 0, host.length, out, off + idBytes);
    if (!ok) throw hostError(host, `${what}[${i}]`);
    writePort(out, off + idBytes + (isV6 ? IPV6_BYTES : IPV4_BYTES), checkedPort(port, `${what}[${i}]`));
    if (isV6) off6 += idBytes + COMPACT_IPV6_PEER_BYTES;
    else off4 += idBytes + COMPACT_IPV4_PEER_BYTES;
  }
}

/** Writes one peer's compact form into out at off and returns the end offset; throws like encodePeer. */
export function writePeerInto(out: Uint8Array, off: number, peer: WirePeer, what: string): number {
  const host = peer.host;
  const v6 = isIPv6Host(host);
  const ok = v6 ? parseIPv6Into(host, out, off) : typeof host === 'string' && parseIPv4Into(host, 0, host.length, out, off);
  if (!ok) throw hostError(host, what);
  const ipBytes = v6 ? IPV6_BYTES : IPV4_BYTES;
  writePort(out, off + ipBytes, checkedPort(peer.port, what));
  return off + ipBytes + PORT_BYTES;
}

export type IpFamily = 4 | 6;

/**
 * Reads a concatenated compact contact list of one family, appending to `into` (so two families
 * can share one array). At most `max` entries in `into` overall. Ids are views into `b`, not copies.
 */
export function decodeContactsInto(b: Uint8Array, family: IpFamily, into: WireContact[], max: number): string | null {
  const ipBytes = family === 4 ? IPV4_BYTES : IPV6_BYTES;
  const size = ID_BYTES + ipBytes + PORT_BYTES;
  if (b.length % size !== 0) return `length ${b.length} is not a multiple of ${size}`;
  const n = b.length / size;
  if (into.length + n > max) return `more than ${max} entries`;
  for (let off = 0; off < b.length; off += size) {
    const port = readPort(b, off + ID_BYTES + ipBytes);
    if (port === 0) return `entry ${off / size} has port 0`;
    const host = family === 4 ? formatIPv4(b, off + ID_BYTES) : formatIPv6(b, off + ID_BYTES);
    into.push({ id: b.subarray(off, off + ID_BYTES), host, port });
  }
  return null;
}

/** Like decodeContactsInto, for peers (no ids). */
export function decodePeersInto(b: Uint8Array, family: IpFamily, into: WirePeer[], max: number): string | null {
  const ipBytes = family === 4 ? IPV4_BYTES : IPV6_BYTES;
  const size = ipBytes + PORT_BYTES;
  if (b.length % size !== 0) return `length ${b.length} is not a multiple of ${size}`;
  const n = b.length / size;
  if (into.length + n > max) return `more than ${max} entries`;
  for (let off = 0; off < b.length; off += size) {
    const port = readPort(b, off + ipBytes);
    if (port === 0) return `entry ${off / size} has port 0`;
    const host = family === 4 ? formatIPv4(b, off) : formatIPv6(b, off);
    into.push({ host, port });
  }
  return null;
}
