// The few CBOR primitives wire v1 needs, written by hand for speed: the codec's messages have fixed
// shapes, so it writes them straight into a slab and reads canonical datagrams straight into
// messages, without a generic encoder building or walking intermediate objects (cbor-x did both,
// and was far slower than a fixed-layout codec such as dht-rpc's; `npm run bench -- codec`).
//
// Writing produces exactly what cbor-x produced for the same map (shortest heads everywhere, uint64
// for integers of 2^32 and above, cbor-x's UTF-8 for text), so the bytes on the wire are unchanged.
// Reading handles only the canonical forms we write; anything else makes `readFail` be thrown and
// the codec falls back to its generic (cbor-x) decoder, which has the last word on odd input.

/** CBOR major types, shifted into the initial byte's top three bits. */
export const MAJOR_UINT = 0x00;
export const MAJOR_BYTES = 0x40;
export const MAJOR_TEXT = 0x60;
export const MAJOR_ARRAY = 0x80;
export const MAJOR_MAP = 0xa0;

/** Additional-information values for 1, 2, 4 and 8-byte arguments. */
const AI_1 = 24;
const AI_2 = 25;
const AI_4 = 26;
const AI_8 = 27;

const TWO_POW_32 = 0x1_0000_0000;
/** Largest high word of a uint64 that still fits a safe integer (2^53 - 1). */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Encoded messages are carved out of slabs: one allocation serves many messages, and a returned
 * message is a view that is never written again (a new slab is started when the free space could
 * not hold the largest message). A slab stays alive while any of its views does.
 */
const SLAB_BYTES = 32 * 1024;
/** More than any wire v1 message can take (~3 KB: a 1,000-byte mutable record, 20 IPv6 contacts, 32 peers). */
export const MAX_ENCODED_BYTES = 4096;

let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/** Where the next message starts: a slab with room for the largest message. */
export function beginWrite(): { buf: Uint8Array; start: number } {
  if (SLAB_BYTES - slabUsed < MAX_ENCODED_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  return { buf: slab, start: slabUsed };
}

/** Hands out buf[start..end] and reserves it (nothing is reserved if the caller throws before this). */
export function endWrite(buf: Uint8Array, start: number, end: number): Uint8Array {
  if (buf === slab) slabUsed = end;
  return buf.subarray(start, end);
}

/** A head (major type and argument) in the shortest form; n is a non-negative integer <= 2^53 - 1. */
export function writeHead(buf: Uint8Array, p: number, major: number, n: number): number {
  if (n < AI_1) {
    buf[p] = major | n;
    return p + 1;
  }
  if (n < 0x100) {
    buf[p] = major | AI_1;
    buf[p + 1] = n;
    return p + 2;
  }
  if (n < 0x1_0000) {
    buf[p] = major | AI_2;
    buf[p + 1] = n >>> 8;
    buf[p + 2] = n & 0xff;
    return p + 3;
  }
  if (n < TWO_POW_32) {
    buf[p] = major | AI_4;
    writeUint32(buf, p + 1, n);
    return p + 5;
  }
  buf[p] = major | AI_8;
  writeUint32(buf, p + 1, Math.floor(n / TWO_POW_32));
  writeUint32(buf, p + 5, n >>> 0);
  return p + 9;
}

/** Bytes writeHead() takes for argument n (a size check without writing). */
export function headBytes(n: number): number {
  return n < AI_1 ? 1 : n < 0x100 ? 2 : n < 0x1_0000 ? 3 : n < TWO_POW_32 ? 5 : 9;
}

function writeUint32(buf: Uint8Array, p: number, n: number): void {
  buf[p] = n >>> 24;
  buf[p + 1] = (n >>> 16) & 0xff;
  buf[p + 2] = (n >>> 8) & 0xff;
  buf[p + 3] = n & 0xff;
}

/** A byte string. */
export function writeBytes(buf: Uint8Array, p: number, b: Uint8Array): number {
  p = writeHead(buf, p, MAJOR_BYTES, b.length);
  buf.set(b, p);
  return p + b.length;
}

/**
 * The encoded form of a short ASCII text string (a map key such as "n4"), precomputed once so a
 * key costs a copy of two or three bytes.
 */
export function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(1 + key.length);
  writeText(out, 0, key);
  return out;
}

export function writeKey(buf: Uint8Array, p: number, key: Uint8Array): number {
  for (let i = 0; i < key.length; i++) buf[p + i] = key[i];
  return p + key.length;
}

/**
 * A text string, UTF-8 encoded as cbor-x encodes it (a lone surrogate becomes its 3-byte form
 * rather than U+FFFD). The buffer needs room for 3 bytes per UTF-16 unit plus the head.
 */
export function writeText(buf: Uint8Array, p: number, s: string): number {
  // Encode after a head of the largest size the string can need, then move it down if shorter.
  const headSize = s.length * 3 < AI_1 ? 1 : s.length * 3 < 0x100 ? 2 : 3;
  let q = p + headSize;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[q++] = c;
    } else if (c < 0x800) {
      buf[q++] = (c >> 6) | 0xc0;
      buf[q++] = (c & 0x3f) | 0x80;
    } else if ((c & 0xfc00) === 0xd800 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(++i) & 0x03ff);
      buf[q++] = (c >> 18) | 0xf0;
      buf[q++] = ((c >> 12) & 0x3f) | 0x80;
      buf[q++] = ((c >> 6) & 0x3f) | 0x80;
      buf[q++] = (c & 0x3f) | 0x80;
    } else {
      buf[q++] = (c >> 12) | 0xe0;
      buf[q++] = ((c >> 6) & 0x3f) | 0x80;
      buf[q++] = (c & 0x3f) | 0x80;
    }
  }
  const length = q - p - headSize;
  const end = writeHead(buf, p, MAJOR_TEXT, length);
  if (end !== p + headSize) buf.copyWithin(end, p + headSize, q);
  return end + length;
}

// ---------------------------------------------------------------------------------------------
// Reading (canonical input only)

/** Thrown by the readers for anything outside the canonical forms; the caller falls back. */
export const readFail: unique symbol = Symbol('cbor-io: not canonical');

/** V8's largest typed array kept inside its object (v8_typed_array_max_size_in_heap, 64 by default). */
const ON_HEAP_MAX_BYTES = 64;

/** A cursor over one datagram. */
export class Reader {
  pos = 0;
  /** Whether buf is a plain Uint8Array (not a Buffer or another subclass). */
  private readonly plain: boolean;
  /**
   * Whether byte strings are copied out rather than viewed: a plain datagram of at most
   * ON_HEAP_MAX_BYTES (a PING and its answer; udx-native's copy out of its slab, transport/udx.ts).
   * V8 keeps so small a typed array inside its object, and the first view into one moves its bytes
   * into a new ArrayBuffer of their own (~1 us: an allocation outside the heap, freed by GC); a copy
   * of a few bytes costs ~30 ns and pins nothing.
   */
  private readonly copy: boolean;

  constructor(readonly buf: Uint8Array) {
    this.plain = Object.getPrototypeOf(buf) === Uint8Array.prototype;
    this.copy = this.plain && buf.length <= ON_HEAP_MAX_BYTES;
  }

  get done(): boolean {
    return this.pos === this.buf.length;
  }

  /** The argument of a head of the given major type (any definite size up to 2^53 - 1). */
  head(major: number): number {
    const b = this.buf;
    const p = this.pos;
    if (p >= b.length) throw readFail;
    const initial = b[p];
    if ((initial & 0xe0) !== major) throw readFail;
    const ai = initial & 0x1f;
    if (ai < AI_1) {
      this.pos = p + 1;
      return ai;
    }
    if (ai === AI_1) {
      if (p + 2 > b.length) throw readFail;
      this.pos = p + 2;
      return b[p + 1];
    }
    if (ai === AI_2) {
      if (p + 3 > b.length) throw readFail;
      this.pos = p + 3;
      return (b[p + 1] << 8) | b[p + 2];
    }
    if (ai === AI_4) {
      if (p + 5 > b.length) throw readFail;
      this.pos = p + 5;
      return readUint32(b, p + 1);
    }
    if (ai === AI_8) {
      if (p + 9 > b.length) throw readFail;
      const high = readUint32(b, p + 1);
      if (high > MAX_SAFE_HIGH_WORD) throw readFail;
      this.pos = p + 9;
      return high * TWO_POW_32 + readUint32(b, p + 5);
    }
    throw readFail; // indefinite lengths and reserved values
  }

  uint(max: number): number {
    const n = this.head(MAJOR_UINT);
    if (n > max) throw readFail;
    return n;
  }

  /** A byte string of min..max bytes, as a plain Uint8Array: a view into the datagram, or a copy from a small one. */
  /** Passes over a byte string of min..max bytes (padding) without copying it; returns its length. */
  skipBytes(min: number, max: number): number {
    const n = this.head(MAJOR_BYTES);
    if (n < min || n > max || this.pos + n > this.buf.length) throw readFail;
    this.pos += n;
    return n;
  }

  bytes(min: number, max: number): Uint8Array {
    const n = this.head(MAJOR_BYTES);
    if (n < min || n > max || this.pos + n > this.buf.length) throw readFail;
    const b = this.buf;
    const start = this.pos;
    this.pos += n;
    if (this.copy) return b.slice(start, start + n);
    // subarray is the cheaper view, but on a Buffer it makes a Buffer.
    return this.plain ? b.subarray(start, start + n) : new Uint8Array(b.buffer, b.byteOffset + start, n);
  }

  /**
   * A map key of one or two ASCII characters, as a small number: c1 | c2 << 8 (0 for a missing
   * second character). Anything longer is not one of ours.
   */
  key(): number {
    const b = this.buf;
    const p = this.pos;
    if (p + 1 >= b.length) throw readFail;
    const initial = b[p];
    if (initial === (MAJOR_TEXT | 1)) {
      this.pos = p + 2;
      return b[p + 1];
    }
    if (initial === (MAJOR_TEXT | 2) && p + 3 <= b.length) {
      this.pos = p + 3;
      return b[p + 1] | (b[p + 2] << 8);
    }
    throw readFail;
  }
}

function readUint32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/** The number Reader.key() returns for a key string. */
export function keyCode(key: string): number {
  return key.charCodeAt(0) | (key.length > 1 ? key.charCodeAt(1) << 8 : 0);
}
