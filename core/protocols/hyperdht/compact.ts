// The compact-encoding primitives that dht-rpc 6 and hyperdht frame their messages with, as far as
// those messages use them: unsigned varints (one byte up to 0xfc; 0xfd, 0xfe, 0xff announce a
// little-endian uint16, uint32, uint64), little-endian uint16, fixed 32 / 64 byte strings,
// length-prefixed byte strings, arrays with a varint count, and IPv4 addresses (4 address bytes,
// then the port as a little-endian uint16; note the byte order differs from wire v1's compact peer).
//
// Reader never throws: a read past the end (or a number we cannot represent exactly) sets `error`
// and returns a zero value, so a decoder reads straight through and checks `error` once. Writer
// is sized exactly by the caller (sizeOf* below) and throws only on a bug of ours.
import { DhtError } from '../../errors';
import { formatIPv4, ipToBytes, isValidPort } from '../../wire/compact';
import type { Endpoint } from '../../transport/types';

export const IPV4_ADDRESS_BYTES = 6;
const EMPTY = new Uint8Array(0);

export function sizeOfUint(n: number): number {
  return n <= 0xfc ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

export function sizeOfBuffer(b: Uint8Array): number {
  return sizeOfUint(b.length) + b.length;
}

export class Reader {
  pos: number;
  error: string | null = null;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string): void {
    if (this.error === null) this.error = what;
    this.pos = this.end;
  }

  uint8(): number {
    if (this.pos >= this.end) {
      this.fail('truncated');
      return 0;
    }
    return this.buf[this.pos++];
  }

  uint16(): number {
    if (this.end - this.pos < 2) {
      this.fail('truncated');
      return 0;
    }
    const n = this.buf[this.pos] + this.buf[this.pos + 1] * 0x100;
    this.pos += 2;
    return n;
  }

  uint32(): number {
    if (this.end - this.pos < 4) {
      this.fail('truncated');
      return 0;
    }
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return b[p] + b[p + 1] * 0x100 + b[p + 2] * 0x10000 + b[p + 3] * 0x1000000;
  }

  /** A varint; values beyond Number.MAX_SAFE_INTEGER are an error (we never round a number silently). */
  uint(): number {
    const a = this.uint8();
    if (a <= 0xfc) return a;
    if (a === 0xfd) return this.uint16();
    if (a === 0xfe) return this.uint32();
    const lo = this.uint32();
    const hi = this.uint32();
    if (hi > 0x1fffff) {
      this.fail('integer beyond 2^53');
      return 0;
    }
    return hi * 0x100000000 + lo;
  }

  fixed(n: number): Uint8Array {
    if (this.end - this.pos < n) {
      this.fail('truncated');
      return EMPTY;
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length-prefixed byte string, at most `max` bytes. */
  buffer(max = Number.MAX_SAFE_INTEGER): Uint8Array {
    const len = this.uint();
    if (this.error !== null) return EMPTY;
    if (len > max) {
      this.fail(`byte string of ${len} bytes (at most ${max})`);
      return EMPTY;
    }
    return this.fixed(len);
  }

  /** An IPv4 address. Port 0 decodes as sent: whoever uses an address decides whether it is reachable. */
  ipv4(): Endpoint {
    if (this.end - this.pos < IPV4_ADDRESS_BYTES) {
      this.fail('truncated');
      return { host: '0.0.0.0', port: 0 };
    }
    const host = formatIPv4(this.buf, this.pos);
    const port = this.buf[this.pos + 4] + this.buf[this.pos + 5] * 0x100;
    this.pos += IPV4_ADDRESS_BYTES;
    return { host, port };
  }

  /**
   * A varint count, then that many items of `itemBytes` bytes at least. The count is checked
   * against what is left before anything is allocated, so a hostile count costs nothing.
   */
  count(minItemBytes: number, max: number): number {
    const n = this.uint();
    if (this.error !== null) return 0;
    if (n > max) {
      this.fail(`list of ${n} items (at most ${max})`);
      return 0;
    }
    if (n * minItemBytes > this.remaining) {
      this.fail('truncated');
      return 0;
    }
    return n;
  }

  ipv4Array(max: number): Endpoint[] {
    const n = this.count(IPV4_ADDRESS_BYTES, max);
    const out: Endpoint[] = [];
    for (let i = 0; i < n && this.error === null; i++) out.push(this.ipv4());
    return out;
  }
}

export class Writer {
  readonly buf: Uint8Array;
  pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  uint8(n: number): void {
    this.buf[this.pos++] = n;
  }

  uint16(n: number): void {
    this.buf[this.pos++] = n & 0xff;
    this.buf[this.pos++] = (n >>> 8) & 0xff;
  }

  uint32(n: number): void {
    this.buf[this.pos++] = n & 0xff;
    this.buf[this.pos++] = (n >>> 8) & 0xff;
    this.buf[this.pos++] = (n >>> 16) & 0xff;
    this.buf[this.pos++] = (n >>> 24) & 0xff;
  }

  uint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw DhtError.invalidArgument(`a varint must be a non-negative safe integer; got ${n}`);
    if (n <= 0xfc) this.uint8(n);
    else if (n <= 0xffff) {
      this.uint8(0xfd);
      this.uint16(n);
    } else if (n <= 0xffffffff) {
      this.uint8(0xfe);
      this.uint32(n);
    } else {
      this.uint8(0xff);
      this.uint32(n % 0x100000000);
      this.uint32(Math.floor(n / 0x100000000));
    }
  }

  fixed(b: Uint8Array, n: number, what: string): void {
    if (b.length !== n) throw DhtError.invalidArgument(`${what} must be ${n} bytes; got ${b.length}`);
    this.buf.set(b, this.pos);
    this.pos += n;
  }

  buffer(b: Uint8Array): void {
    this.uint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  ipv4(e: Endpoint, what = 'address'): void {
    const ip = ipToBytes(e.host);
    if (ip === null || ip.length !== 4) throw DhtError.invalidArgument(`${what}: dht-rpc carries IPv4 addresses only; got ${e.host}`);
    if (!isValidPort(e.port)) throw DhtError.invalidArgument(`${what}: bad port ${e.port}`);
    this.buf.set(ip, this.pos);
    this.pos += 4;
    this.uint16(e.port);
  }

  ipv4Array(list: readonly Endpoint[], what = 'addresses'): void {
    this.uint(list.length);
    for (const e of list) this.ipv4(e, what);
  }

  /** The written bytes; throws if the size the caller computed was wrong (a bug of ours). */
  finish(): Uint8Array {
    if (this.pos !== this.buf.length) throw new Error(`hyperdht encoder: wrote ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
  }
}

export function sizeOfIpv4Array(list: readonly Endpoint[]): number {
  return sizeOfUint(list.length) + list.length * IPV4_ADDRESS_BYTES;
}
