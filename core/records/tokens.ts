// Write tokens: proof that a requester can receive datagrams at the address it writes from, so an
// attacker cannot STORE or ANNOUNCE with a spoofed source. A token is a keyed hash (a PRF) of the
// address under a secret that rotates; we accept the current and the previous secret, so a token
// is good for between one and two rotation periods. No state per requester, no timers: rotation
// happens lazily on the injected clock when a token is issued or checked.
//
// The PRF is SipHash-2-4, twice, under the two independent 128-bit halves of the secret: 128 bits
// of token. SipHash is made for exactly this (short inputs, secret key; Linux keys its TCP SYN
// cookies with it), and every FIND_NODE, FIND_VALUE and GET_PEERS answer carries a token: an
// HMAC-SHA256 through node:crypto cost ~2.5 us and a native object per answer, as much as encoding
// the answer itself; this costs well under 1 us and allocates only the token.
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock';
import { DhtError } from '../errors';
import { cryptoRandomBytes, type RandomBytes } from '../id';
import { endpointKey, type Endpoint } from '../transport/types';

export const TOKEN_ROTATE_MS = 5 * 60_000;
/** Two 64-bit SipHash outputs: 128 bits is far beyond guessing within a token's lifetime. */
export const TOKEN_BYTES = 16;
/** Two 128-bit SipHash keys. */
const SECRET_BYTES = 32;
/** Hosts longer than this (never an IP literal) are hashed from a fresh buffer instead of the scratch one. */
const SCRATCH_HOST_BYTES = 256;
const PORT_BYTES = 2;
const utf8 = new TextEncoder();
/** The hashed message, UTF-8(host) || port (big-endian): the port's fixed size makes it unambiguous. */
const scratch = new Uint8Array(SCRATCH_HOST_BYTES + PORT_BYTES);
const scratchHost = scratch.subarray(0, SCRATCH_HOST_BYTES);
const expected = new Uint8Array(TOKEN_BYTES);

export interface TokenManagerDeps {
  clock: Clock;
  /** Source of secrets; tests inject a seeded one. */
  randomBytes?: RandomBytes;
}

export interface TokenManagerOptions {
  /** How often the secret rotates, ms (default TOKEN_ROTATE_MS). */
  rotateMs?: number;
}

export class TokenManager {
  private readonly clock: Clock;
  private readonly randomBytes: RandomBytes;
  readonly rotateMs: number;
  /** The current secret as SipHash key words (two keys of four little-endian uint32). */
  private current: Uint32Array;
  /** null right after start or when more than one period passed: nothing older is valid. */
  private previous: Uint32Array | null = null;
  private rotatedAt: number;

  constructor(deps: TokenManagerDeps, options: TokenManagerOptions = {}) {
    this.clock = deps.clock;
    this.randomBytes = deps.randomBytes ?? cryptoRandomBytes;
    this.rotateMs = options.rotateMs ?? TOKEN_ROTATE_MS;
    if (!(this.rotateMs > 0)) throw DhtError.invalidArgument(`rotateMs must be positive; got ${this.rotateMs}`);
    this.current = this.newSecret();
    this.rotatedAt = this.clock.now();
  }

  /** The token for a requester at address; hand it out in FIND_* and GET_PEERS responses. */
  issue(address: Endpoint): Uint8Array {
    this.rotate();
    const token = new Uint8Array(TOKEN_BYTES);
    mac(this.current, address, token);
    return token;
  }

  /** Whether token was issued to address under the current or the previous secret. Constant-time. */
  verify(address: Endpoint, token: Uint8Array): boolean {
    this.rotate();
    if (token.length !== TOKEN_BYTES) return false;
    // Check both secrets unconditionally so timing does not reveal which one matched.
    mac(this.current, address, expected);
    const cur = timingSafeEqual(token, expected);
    let prev = false;
    if (this.previous !== null) {
      mac(this.previous, address, expected);
      prev = timingSafeEqual(token, expected);
    }
    return cur || prev;
  }

  /** null for a valid token; otherwise the INVALID_TOKEN refusal to answer with. */
  check(address: Endpoint, token: Uint8Array | undefined): DhtError | null {
    if (token === undefined || token.length === 0) {
      return DhtError.refusal('INVALID_TOKEN', 'missing write token; get one from a FIND_NODE, FIND_VALUE or GET_PEERS response first');
    }
    if (this.verify(address, token)) return null;
    return DhtError.refusal('INVALID_TOKEN', `write token is not valid for ${endpointKey(address)} (expired, or issued to another address)`);
  }

  private rotate(): void {
    const periods = Math.floor((this.clock.now() - this.rotatedAt) / this.rotateMs);
    if (periods < 1) return;
    // After two or more periods even the last secret is too old to honour.
    this.previous = periods === 1 ? this.current : null;
    this.current = this.newSecret();
    this.rotatedAt += periods * this.rotateMs;
  }

  private newSecret(): Uint32Array {
    const b = this.randomBytes(SECRET_BYTES);
    const words = new Uint32Array(SECRET_BYTES / 4);
    for (let i = 0; i < words.length; i++) words[i] = b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16) | (b[4 * i + 3] << 24);
    return words;
  }
}

/** The token for `address` under `key` (8 words: two SipHash keys) into out[0..16). */
function mac(key: Uint32Array, address: Endpoint, out: Uint8Array): void {
  const host = String(address.host);
  let data = scratch;
  const r = utf8.encodeInto(host, scratchHost);
  let hostBytes = r.written;
  if (r.read < host.length) {
    const bytes = utf8.encode(host);
    data = new Uint8Array(bytes.length + PORT_BYTES);
    data.set(bytes);
    hostBytes = bytes.length;
  }
  data[hostBytes] = (address.port >>> 8) & 0xff;
  data[hostBytes + 1] = address.port & 0xff;
  const len = hostBytes + PORT_BYTES;
  siphash24(key, 0, data, len, out, 0);
  siphash24(key, 4, data, len, out, 8);
}

/** SipHash state: v0..v3 as (lo, hi) uint32 pairs. One scratch array: hashing allocates nothing. */
const V = new Uint32Array(8);

/** One SipRound on V: 64-bit add, rotate and xor, on uint32 pairs. */
function sipRound(): void {
  let v0lo = V[0];
  let v0hi = V[1];
  let v1lo = V[2];
  let v1hi = V[3];
  let v2lo = V[4];
  let v2hi = V[5];
  let v3lo = V[6];
  let v3hi = V[7];
  let t = 0;
  let u = 0;
  // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
  t = (v0lo + v1lo) >>> 0;
  v0hi = (v0hi + v1hi + (t < v0lo ? 1 : 0)) >>> 0;
  v0lo = t;
  t = (v1hi << 13) | (v1lo >>> 19);
  u = (v1lo << 13) | (v1hi >>> 19);
  v1hi = (t ^ v0hi) >>> 0;
  v1lo = (u ^ v0lo) >>> 0;
  t = v0hi;
  v0hi = v0lo;
  v0lo = t;
  // v2 += v3; v3 = rotl(v3, 16) ^ v2
  t = (v2lo + v3lo) >>> 0;
  v2hi = (v2hi + v3hi + (t < v2lo ? 1 : 0)) >>> 0;
  v2lo = t;
  t = (v3hi << 16) | (v3lo >>> 16);
  u = (v3lo << 16) | (v3hi >>> 16);
  v3hi = (t ^ v2hi) >>> 0;
  v3lo = (u ^ v2lo) >>> 0;
  // v0 += v3; v3 = rotl(v3, 21) ^ v0
  t = (v0lo + v3lo) >>> 0;
  v0hi = (v0hi + v3hi + (t < v0lo ? 1 : 0)) >>> 0;
  v0lo = t;
  t = (v3hi << 21) | (v3lo >>> 11);
  u = (v3lo << 21) | (v3hi >>> 11);
  v3hi = (t ^ v0hi) >>> 0;
  v3lo = (u ^ v0lo) >>> 0;
  // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32) (the swap is in the store below)
  t = (v2lo + v1lo) >>> 0;
  v2hi = (v2hi + v1hi + (t < v2lo ? 1 : 0)) >>> 0;
  v2lo = t;
  t = (v1hi << 17) | (v1lo >>> 15);
  u = (v1lo << 17) | (v1hi >>> 15);
  v1hi = (t ^ v2hi) >>> 0;
  v1lo = (u ^ v2lo) >>> 0;
  V[0] = v0lo;
  V[1] = v0hi;
  V[2] = v1lo;
  V[3] = v1hi;
  V[4] = v2hi;
  V[5] = v2lo;
  V[6] = v3lo;
  V[7] = v3hi;
}

/** Absorbs one 64-bit message word: two rounds (the "2" of SipHash-2-4). */
function absorb(mlo: number, mhi: number): void {
  V[6] ^= mlo;
  V[7] ^= mhi;
  sipRound();
  sipRound();
  V[0] ^= mlo;
  V[1] ^= mhi;
}

/**
 * SipHash-2-4 (Aumasson & Bernstein, 2012), 64-bit output, of data[0..len) under the 128-bit key
 * key[k..k+4) (little-endian uint32 words). Writes the result, little-endian, to out[at..at+8).
 * Exported for its test vectors.
 */
export function siphash24(key: Uint32Array, k: number, data: Uint8Array, len: number, out: Uint8Array, at: number): void {
  const k0lo = key[k];
  const k0hi = key[k + 1];
  const k1lo = key[k + 2];
  const k1hi = key[k + 3];
  // The key XOR "somepseudorandomlygeneratedbytes".
  V[0] = k0lo ^ 0x70736575;
  V[1] = k0hi ^ 0x736f6d65;
  V[2] = k1lo ^ 0x6e646f6d;
  V[3] = k1hi ^ 0x646f7261;
  V[4] = k0lo ^ 0x6e657261;
  V[5] = k0hi ^ 0x6c796765;
  V[6] = k1lo ^ 0x79746573;
  V[7] = k1hi ^ 0x74656462;
  const full = len & ~7;
  for (let i = 0; i < full; i += 8) {
    absorb(data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24), data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24));
  }
  // The last word: the remaining bytes, and the length (mod 256) in its top byte.
  let lo = 0;
  let hi = (len & 0xff) << 24;
  for (let i = full; i < len; i++) {
    const shift = (i - full) * 8;
    if (shift < 32) lo |= data[i] << shift;
    else hi |= data[i] << (shift - 32);
  }
  absorb(lo, hi);
  V[4] ^= 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  lo = V[0] ^ V[2] ^ V[4] ^ V[6];
  hi = V[1] ^ V[3] ^ V[5] ^ V[7];
  out[at] = lo;
  out[at + 1] = lo >>> 8;
  out[at + 2] = lo >>> 16;
  out[at + 3] = lo >>> 24;
  out[at + 4] = hi;
  out[at + 5] = hi >>> 8;
  out[at + 6] = hi >>> 16;
  out[at + 7] = hi >>> 24;
}
