import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { seededRandomBytes } from '../../core/id';
import { TOKEN_BYTES, TokenManager, siphash24 } from '../../core/records/tokens';

/** SipHash-2-4 of message 00 01 .. (n-1) under key 00 01 .. 0f, as 8 little-endian bytes in hex. */
function refVector(n: number): string {
  const key = new Uint32Array([0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
  const msg = Uint8Array.from({ length: n }, (_, i) => i);
  const out = new Uint8Array(8);
  siphash24(key, 0, msg, n, out, 0);
  return Buffer.from(out).toString('hex');
}

describe('SipHash-2-4', () => {
  it('matches the reference test vectors', () => {
    // From the SipHash paper (appendix A: 15-byte message -> a129ca6149be45e5) and the reference
    // implementation's vectors.h (messages of 0, 1, 7, 8 and 63 bytes), which libsodium's
    // crypto_shorthash reproduces; every block/tail boundary is among them.
    expect(refVector(15)).toBe('e545be4961ca29a1');
    expect(refVector(0)).toBe('310e0edd47db6f72');
    expect(refVector(1)).toBe('fd67dc93c539f874');
    expect(refVector(7)).toBe('37d1018bf50002ab');
    expect(refVector(8)).toBe('6224939a79f5f593');
    expect(refVector(63)).toBe('724506eb4c328a95');
  });

  it('writes where it is told and nowhere else', () => {
    const out = new Uint8Array(20).fill(0xee);
    siphash24(new Uint32Array(4), 0, new Uint8Array(3), 3, out, 6);
    expect([...out.subarray(0, 6), ...out.subarray(14)].every((b) => b === 0xee)).toBe(true);
  });
});

describe('TokenManager tokens', () => {
  const clock = new FakeClock();
  const tokens = new TokenManager({ clock, randomBytes: seededRandomBytes(9) });

  it('depend on every part of the address and on the secret', () => {
    const base = tokens.issue({ host: '10.0.0.1', port: 4000 });
    expect(base.length).toBe(TOKEN_BYTES);
    const others = [
      { host: '10.0.0.1', port: 4001 },
      { host: '10.0.0.10', port: 400 }, // same characters moved between host and port
      { host: '10.0.0.2', port: 4000 },
      { host: '::ffff:10.0.0.1', port: 4000 },
      { host: '10.0.0.1', port: 36768 }, // 4000 + 2^15: the port's high byte
    ];
    for (const a of others) expect(Buffer.from(tokens.issue(a)).equals(Buffer.from(base))).toBe(false);
    const twin = new TokenManager({ clock, randomBytes: seededRandomBytes(9) });
    const other = new TokenManager({ clock, randomBytes: seededRandomBytes(10) });
    expect(twin.issue({ host: '10.0.0.1', port: 4000 })).toEqual(base);
    expect(other.issue({ host: '10.0.0.1', port: 4000 })).not.toEqual(base);
  });

  it('both halves vary: 128 bits, not 64 repeated', () => {
    const t = tokens.issue({ host: '127.0.0.1', port: 1 });
    expect(Buffer.from(t.subarray(0, 8)).equals(Buffer.from(t.subarray(8)))).toBe(false);
  });

  it('handle hosts of any length (a long one is hashed from its own buffer)', () => {
    const long = { host: 'x'.repeat(1000), port: 7 };
    const t = tokens.issue(long);
    expect(tokens.verify(long, t)).toBe(true);
    expect(tokens.verify({ host: 'x'.repeat(999), port: 7 }, t)).toBe(false);
  });
});
