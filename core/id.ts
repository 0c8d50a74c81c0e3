// Node ids and keys, compared by XOR distance. kadscope's own protocol uses 256-bit ids (SHA-256
// sized, ID_BYTES); other protocols bring their own length (Mainline: 160 bits), so everything
// below works on ids of any length and takes it from the ids it is given (all ids of one node
// have the same length; the protocol layer checks that at the edges).
// Ids travel as lowercase hex strings in every public API and as Map keys (ARCHITECTURE.md, habit 7);
// the hot paths (distance sort, bucket index) work on the raw bytes.
import { createHash, randomBytes, randomFillSync } from 'node:crypto';

export const ID_BYTES = 32;
export const ID_BITS = ID_BYTES * 8;

const HEX_ID = /^[0-9a-f]{64}$/;
const HEX_BYTES = /^(?:[0-9a-f]{2})+$/;

/** Whether s is a lowercase hex id of `bytes` bytes (default kadscope's 32). */
export function isIdHex(s: unknown, bytes: number = ID_BYTES): s is string {
  if (typeof s !== 'string') return false;
  return bytes === ID_BYTES ? HEX_ID.test(s) : s.length === bytes * 2 && HEX_BYTES.test(s);
}

/** bytesToHex's staging area: copying up to an id's worth of bytes into it beats wrapping them in a new Buffer. */
const HEX_SCRATCH = Buffer.allocUnsafeSlow(64);

export function bytesToHex(b: Uint8Array): string {
  const n = b.byteLength;
  if (n > HEX_SCRATCH.length) return Buffer.from(b.buffer, b.byteOffset, n).toString('hex');
  HEX_SCRATCH.set(b);
  return HEX_SCRATCH.toString('hex', 0, n);
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError(`not hex: ${hex.slice(0, 16)}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Parses a hex id of `bytes` bytes (default 32: 64 hex chars); throws a TypeError naming the problem. */
export function idFromHex(hex: string, bytes: number = ID_BYTES): Uint8Array {
  const h = String(hex).toLowerCase();
  if (!isIdHex(h, bytes)) throw new TypeError(`an id is ${bytes * 2} hex characters (${bytes * 8} bits); got ${JSON.stringify(String(hex).slice(0, 80))}`);
  return hexToBytes(h);
}

export function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A source of random bytes; tests inject a seeded one. */
export type RandomBytes = (n: number) => Uint8Array;

/**
 * Small requests (a transaction id per RPC, ids, secrets) are served from a pool refilled from the
 * CSPRNG a few KB at a time: one crypto.randomBytes call costs ~2 us, as much as the rest of a PING.
 * Every byte is handed out once, and each call gets its own copy.
 */
const RANDOM_POOL_BYTES = 4096;
/** Up to this many bytes are copied out of the pool by a loop rather than slice(). */
const RANDOM_COPY_LOOP_MAX = 16;
/** Larger requests go to the CSPRNG directly. */
const RANDOM_POOL_MAX_REQUEST = 64;
const randomPool = new Uint8Array(RANDOM_POOL_BYTES);
let randomPoolUsed = RANDOM_POOL_BYTES;

export const cryptoRandomBytes: RandomBytes = (n) => {
  // Anything but a small count (a large one, or one the CSPRNG refuses) goes straight to it.
  if (!(Number.isInteger(n) && n >= 0 && n <= RANDOM_POOL_MAX_REQUEST)) return new Uint8Array(randomBytes(n));
  if (randomPoolUsed + n > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomPoolUsed = 0;
  }
  const start = randomPoolUsed;
  randomPoolUsed += n;
  // Spent bytes are wiped, so the pool never holds a value that was handed out.
  if (n <= RANDOM_COPY_LOOP_MAX) {
    // A transaction id per request: a small array filled by hand costs half of slice() + fill().
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = randomPool[start + i];
      randomPool[start + i] = 0;
    }
    return out;
  }
  const out = randomPool.slice(start, start + n);
  randomPool.fill(0, start, start + n);
  return out;
};

/** splitmix32 from state `seed`: a function returning the next unsigned 32-bit number each call. */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A deterministic generator (splitmix32) for seeded tests and simulations. */
export function seededRandomBytes(seed: number): RandomBytes {
  const next = splitmix32(seed >>> 0 || 0x9e3779b9);
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = next();
      out[i] = v & 0xff;
      if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
      if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
      if (i + 3 < n) out[i + 3] = (v >>> 24) & 0xff;
    }
    return out;
  };
}

/** A seeded float in [0, 1) built on seededRandomBytes; for simulations (loss, latency, picks). */
export function seededRandom(seed: number): () => number {
  const rb = seededRandomBytes(seed);
  return () => {
    const b = rb(4);
    return (((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) / 0x1_0000_0000;
  };
}

export function randomId(rand: RandomBytes = cryptoRandomBytes, bytes: number = ID_BYTES): Uint8Array {
  return rand(bytes);
}

export function xorDistance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/**
 * Compares the distances of a and b to target: negative when a is closer, positive when b is, 0 if equal.
 * Allocation-free; this is the inner loop of every lookup.
 */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  const n = target.length;
  for (let i = 0; i < n; i++) {
    const da = a[i] ^ target[i];
    const db = b[i] ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
}

/** Number of leading bits a and b share (0..bits of a). All of a's bits means equal. */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return n * 8;
}

/**
 * The bucket an id falls in, seen from self: the length of their shared prefix (0..bits-1).
 * Bucket 0 holds the half of the space farthest from us; the last bucket the single id nearest.
 * Returns -1 for self.
 */
export function bucketIndex(self: Uint8Array, other: Uint8Array): number {
  const cpl = commonPrefixLength(self, other);
  return cpl === self.length * 8 ? -1 : cpl;
}

/** A hex digit's value, or -1 (lowercase only: table ids are lowercase). */
function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * bucketIndex for ids in lowercase hex, without parsing them: the shared-prefix length of `other`
 * with `selfHex` (a valid id), read off the first digit that differs. -1 for self, and for
 * anything that cannot be an id of self's length (not a string, another length, not lowercase hex
 * at the first differing digit; later digits are not checked).
 */
export function hexBucketIndex(selfHex: string, other: unknown): number {
  if (typeof other !== 'string' || other.length !== selfHex.length) return -1;
  for (let i = 0; i < selfHex.length; i++) {
    const a = selfHex.charCodeAt(i);
    const b = other.charCodeAt(i);
    if (a === b) continue;
    const x = nibble(b);
    if (x < 0) return -1;
    return i * 4 + Math.clz32(nibble(a) ^ x) - 28;
  }
  return -1;
}

/**
 * A random id that falls in bucket `index` of self: shares exactly `index` leading bits with self.
 * The id is as long as self (the crawler meets other protocols' 160-bit ids).
 */
export function randomIdInBucket(self: Uint8Array, index: number, rand: RandomBytes = cryptoRandomBytes): Uint8Array {
  const bits = self.length * 8;
  if (!Number.isInteger(index) || index < 0 || index >= bits) throw new RangeError(`bucket index ${index} outside 0..${bits - 1}`);
  const out = rand(self.length);
  const byte = index >> 3;
  const bit = 7 - (index & 7);
  for (let i = 0; i < byte; i++) out[i] = self[i];
  const keepMask = (0xff << (bit + 1)) & 0xff; // bits above `bit` come from self
  const flip = 1 << bit;
  out[byte] = (self[byte] & keepMask) | (~self[byte] & flip) | (out[byte] & (flip - 1));
  return out;
}

/** Sorts contacts (anything with idBytes) by distance to target, nearest first, in place. */
export function sortByDistance<T extends { idBytes: Uint8Array }>(target: Uint8Array, items: T[]): T[] {
  return items.sort((x, y) => compareDistance(target, x.idBytes, y.idBytes));
}

/** First n hex chars, for log lines and UI labels. */
export function shortId(hex: string, n = 8): string {
  return hex.slice(0, n);
}
