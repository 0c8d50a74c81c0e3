// Bencode (BEP 3), strict and bounded, for the Mainline DHT's KRPC messages.
//
// Our own rather than the `bencode` package that bittorrent-dht pulls in: that one decodes
// leniently (leading zeros, unsorted keys, trailing bytes) and throws on bad input, and nothing
// bounds its nesting, while a datagram from the network must decode to a value or a reason.
//
// Decoding accepts canonical bencode only: integers without leading zeros or "-0", lengths without
// leading zeros, dictionary keys in strictly ascending byte order (so no duplicates), nothing after
// the value. Canonical input re-encodes to the very same bytes, which BEP 44 relies on: a mutable
// item's signature covers the bencoded `v` as its author wrote it, and we keep `v` by re-encoding it.
// Every real DHT client writes canonical bencode (libtorrent, bittorrent-dht, mldht).
//
// Values: byte strings are Uint8Array views into the input (not copies); integers are JavaScript
// numbers and must be safe integers; lists are arrays; dictionaries are Maps keyed by the key's
// bytes read as latin1 (one char per byte, so every key is representable and string order is byte
// order).
import { DhtError } from '../../errors';

export type BValue = Uint8Array | number | BValue[] | BDict;
export type BDict = Map<string, BValue>;

/** What the encoder takes: a BValue, or a JS string written as its UTF-8 bytes. */
export type BEncodable = Uint8Array | number | string | BEncodable[] | Map<string, BEncodable>;

export interface BDecodeLimits {
  /** Nesting of lists and dictionaries; a top-level list or dictionary is depth 1. */
  maxDepth: number;
  /** Values of any kind (strings, integers, lists, dictionaries) in the whole input. */
  maxItems: number;
}

/** KRPC needs depth 3 (message, args, a list in them); BEP 44 values may nest a little more. */
export const DEFAULT_BDECODE_LIMITS: BDecodeLimits = { maxDepth: 16, maxItems: 2048 };

export type BDecodeResult = { ok: true; value: BValue } | { ok: false; error: string };

const CH_I = 0x69; // i
const CH_L = 0x6c; // l
const CH_D = 0x64; // d
const CH_E = 0x65; // e
const CH_COLON = 0x3a;
const CH_MINUS = 0x2d;
const CH_0 = 0x30;
const CH_9 = 0x39;
/** 2^53 - 1 has 16 digits. */
const MAX_INT_DIGITS = 16;

class Fail {
  constructor(readonly error: string) {}
}

class Parser {
  pos = 0;
  items = 0;

  constructor(
    private readonly b: Uint8Array,
    private readonly limits: BDecodeLimits,
  ) {}

  fail(what: string): never {
    throw new Fail(`${what} at byte ${this.pos}`);
  }

  value(depth: number): BValue {
    if (++this.items > this.limits.maxItems) this.fail(`more than ${this.limits.maxItems} values`);
    if (this.pos >= this.b.length) this.fail('truncated');
    const c = this.b[this.pos];
    if (c === CH_I) return this.integer();
    if (c >= CH_0 && c <= CH_9) return this.bytes();
    if (c === CH_L || c === CH_D) {
      if (depth + 1 > this.limits.maxDepth) this.fail(`nested deeper than ${this.limits.maxDepth}`);
      return c === CH_L ? this.list(depth + 1) : this.dict(depth + 1);
    }
    return this.fail(`unexpected byte 0x${c.toString(16).padStart(2, '0')}`);
  }

  /** Digits up to `end`: a non-negative decimal without leading zeros, at most MAX_INT_DIGITS long. */
  digits(end: number, what: string): number {
    const start = this.pos;
    let n = 0;
    while (this.pos < this.b.length && this.b[this.pos] !== end) {
      const c = this.b[this.pos];
      if (c < CH_0 || c > CH_9) this.fail(`${what}: not a digit`);
      if (this.pos - start >= MAX_INT_DIGITS) this.fail(`${what}: too many digits`);
      n = n * 10 + (c - CH_0);
      this.pos++;
    }
    if (this.pos >= this.b.length) this.fail(`${what}: truncated`);
    const len = this.pos - start;
    if (len === 0) this.fail(`${what}: no digits`);
    if (len > 1 && this.b[start] === CH_0) this.fail(`${what}: leading zero`);
    if (!Number.isSafeInteger(n)) this.fail(`${what}: beyond 2^53-1`);
    this.pos++; // the terminator
    return n;
  }

  integer(): number {
    this.pos++; // i
    let negative = false;
    if (this.b[this.pos] === CH_MINUS) {
      negative = true;
      this.pos++;
    }
    const start = this.pos;
    const n = this.digits(CH_E, 'integer');
    if (negative && n === 0) {
      this.pos = start;
      this.fail('integer: -0');
    }
    return negative ? -n : n;
  }

  bytes(): Uint8Array {
    const len = this.digits(CH_COLON, 'string length');
    if (len > this.b.length - this.pos) this.fail(`string of ${len} bytes: truncated`);
    const out = this.b.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  list(depth: number): BValue[] {
    this.pos++; // l
    const out: BValue[] = [];
    for (;;) {
      if (this.pos >= this.b.length) this.fail('list: truncated');
      if (this.b[this.pos] === CH_E) {
        this.pos++;
        return out;
      }
      out.push(this.value(depth));
    }
  }

  dict(depth: number): BDict {
    this.pos++; // d
    const out: BDict = new Map();
    let previous: string | undefined;
    for (;;) {
      if (this.pos >= this.b.length) this.fail('dictionary: truncated');
      if (this.b[this.pos] === CH_E) {
        this.pos++;
        return out;
      }
      const c = this.b[this.pos];
      if (c < CH_0 || c > CH_9) this.fail('dictionary key: not a string');
      if (++this.items > this.limits.maxItems) this.fail(`more than ${this.limits.maxItems} values`);
      const keyBytes = this.bytes();
      const key = latin1(keyBytes);
      if (previous !== undefined && key <= previous) this.fail(key === previous ? `dictionary: duplicate key ${printable(key)}` : `dictionary: key ${printable(key)} out of order`);
      previous = key;
      out.set(key, this.value(depth));
    }
  }
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function printable(key: string): string {
  return JSON.stringify(key.length > 24 ? `${key.slice(0, 24)}...` : key);
}

/** Decodes exactly one canonical bencoded value filling `data`. Never throws. */
export function bdecode(data: Uint8Array, limits: BDecodeLimits = DEFAULT_BDECODE_LIMITS): BDecodeResult {
  const p = new Parser(data, limits);
  try {
    if (data.length === 0) return { ok: false, error: 'empty' };
    const value = p.value(0);
    if (p.pos !== data.length) return { ok: false, error: `${data.length - p.pos} bytes after the value` };
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: e instanceof Fail ? e.error : `undecodable (${String(e).slice(0, 80)})` };
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

const TEXT = new TextEncoder();

class Writer {
  buf = new Uint8Array(256);
  len = 0;

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  ascii(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  string(b: Uint8Array): void {
    this.ascii(`${b.length}:`);
    this.raw(b);
  }

  /** `depth`: lists and dictionaries around v. */
  value(v: BEncodable, depth: number): void {
    if ((Array.isArray(v) || v instanceof Map) && depth >= DEFAULT_BDECODE_LIMITS.maxDepth) {
      throw DhtError.invalidArgument(`bencode: nested deeper than ${DEFAULT_BDECODE_LIMITS.maxDepth}`);
    }
    if (v instanceof Uint8Array) return this.string(v);
    if (typeof v === 'string') return this.string(TEXT.encode(v));
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw DhtError.invalidArgument(`bencode: ${v} is not a safe integer`);
      return this.ascii(`i${v === 0 ? 0 : v}e`); // -0 is written as 0
    }
    if (Array.isArray(v)) {
      this.ascii('l');
      for (const item of v) this.value(item, depth + 1);
      return this.ascii('e');
    }
    if (v instanceof Map) {
      this.ascii('d');
      const keys = [...v.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const k of keys) {
        for (let i = 0; i < k.length; i++) {
          if (k.charCodeAt(i) > 0xff) throw DhtError.invalidArgument(`bencode: key ${printable(k)} is not latin1 (one char per byte)`);
        }
        this.string(Buffer.from(k, 'latin1'));
        this.value(v.get(k) as BEncodable, depth + 1);
      }
      return this.ascii('e');
    }
    throw DhtError.invalidArgument(`bencode: cannot encode ${typeof v}`);
  }
}

/** Bencodes a value canonically (dictionary keys sorted by bytes). Throws INVALID_ARGUMENT on what bencode cannot hold. */
export function bencode(value: BEncodable): Uint8Array {
  const w = new Writer();
  w.value(value, 0);
  return w.buf.slice(0, w.len);
}

/** Byte-string equality with an ASCII literal, for keys and tags such as `y` or `q`. */
export function bytesEqualAscii(b: Uint8Array, s: string): boolean {
  if (b.length !== s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[i] !== s.charCodeAt(i)) return false;
  return true;
}
