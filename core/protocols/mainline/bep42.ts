// BEP 42 (DHT security extension): a node id's first 21 bits are tied to the node's external IP
// by CRC32-C, so one address cannot pick ids anywhere in the space. We generate such an id once
// we know our external address, and report per peer whether its id complies. Loopback, private
// and link-local addresses are exempt (BEP 42 names the IPv4 ranges; for IPv6 we exempt the
// equivalents: ::1, fc00::/7 and fe80::/10).
import { ipToBytes } from '../../wire/compact';
import { cryptoRandomBytes, type RandomBytes } from '../../id';
import { MAINLINE_ID_BYTES } from './types';

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32-C (Castagnoli), as BEP 42 uses it. */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const V4_MASK = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/** The CRC32-C of the masked address with r (0..7) in its top bits: its first 21 bits are the id's. */
function bep42Crc(ip: Uint8Array, r: number): number {
  const mask = ip.length === 4 ? V4_MASK : V6_MASK;
  const buf = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) buf[i] = ip[i] & mask[i];
  buf[0] |= (r & 7) << 5;
  return crc32c(buf);
}

/** Whether BEP 42 exempts this address (loopback, private, link-local). Unparseable hosts are not exempt. */
export function isBep42Exempt(host: string): boolean {
  const ip = ipToBytes(host);
  if (ip === null) return false;
  if (ip.length === 4) return isExemptV4(ip, 0);
  // IPv4-mapped addresses follow their IPv4 address.
  if (ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff) return isExemptV4(ip, 12);
  if (ip.subarray(0, 15).every((b) => b === 0) && ip[15] === 1) return true; // ::1
  if ((ip[0] & 0xfe) === 0xfc) return true; // fc00::/7 unique local
  return ip[0] === 0xfe && (ip[1] & 0xc0) === 0x80; // fe80::/10 link-local
}

function isExemptV4(b: Uint8Array, o: number): boolean {
  const a = b[o];
  const c = b[o + 1];
  return a === 10 || a === 127 || (a === 172 && (c & 0xf0) === 16) || (a === 192 && c === 168) || (a === 169 && c === 254);
}

/**
 * A BEP 42 compliant id for an external address. The last byte (whose low 3 bits are BEP 42's r)
 * and the free bits come from `rand`; pass `lastByte` (BEP 42's "rand" column) to reproduce its
 * example table. Returns undefined for a host that is not an IP literal.
 */
export function generateBep42Id(host: string, rand: RandomBytes = cryptoRandomBytes, lastByte?: number): Uint8Array | undefined {
  const ip = ipToBytes(host);
  if (ip === null) return undefined;
  const id = rand(MAINLINE_ID_BYTES);
  const last = lastByte === undefined ? id[19] : lastByte & 0xff;
  const crc = bep42Crc(ip.length === 16 && isV4Mapped(ip) ? ip.subarray(12) : ip, last & 7);
  id[0] = (crc >>> 24) & 0xff;
  id[1] = (crc >>> 16) & 0xff;
  id[2] = ((crc >>> 8) & 0xf8) | (id[2] & 0x07);
  id[19] = last;
  return id;
}

function isV4Mapped(ip: Uint8Array): boolean {
  return ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
}

export type Bep42Status = 'compliant' | 'exempt' | 'non-compliant';

/** Whether `id` complies with BEP 42 for a node seen at `host`. */
export function bep42Status(id: Uint8Array, host: string): Bep42Status {
  if (isBep42Exempt(host)) return 'exempt';
  const ip = ipToBytes(host);
  if (ip === null || id.length !== MAINLINE_ID_BYTES) return 'non-compliant';
  const crc = bep42Crc(ip.length === 16 && isV4Mapped(ip) ? ip.subarray(12) : ip, id[19] & 7);
  const ok = id[0] === ((crc >>> 24) & 0xff) && id[1] === ((crc >>> 16) & 0xff) && (id[2] & 0xf8) === ((crc >>> 8) & 0xf8);
  return ok ? 'compliant' : 'non-compliant';
}
