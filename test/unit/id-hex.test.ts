import { describe, expect, it } from 'vitest';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { idHex } from '../../core/rpc/id-hex';

describe('idHex (memo of bytesToHex for ids seen on the wire)', () => {
  it('always answers what bytesToHex answers, whatever the memo holds', () => {
    const rand = seededRandomBytes(7);
    const ids = Array.from({ length: 2000 }, (_, i) => rand(i % 3 === 0 ? 20 : 32));
    // Twice over, so the second pass meets both hits and slots another id took meanwhile.
    for (let pass = 0; pass < 2; pass++) for (const id of ids) expect(idHex(id)).toBe(bytesToHex(id));
  });

  it('tells apart ids that share a slot (same last byte) and ids of other lengths', () => {
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    b[31] = 1;
    const short = new Uint8Array(20).fill(1);
    expect(idHex(a)).toBe(bytesToHex(a));
    expect(idHex(b)).toBe(bytesToHex(b));
    expect(idHex(short)).toBe(bytesToHex(short));
    expect(idHex(a)).toBe(bytesToHex(a));
    expect(idHex(new Uint8Array(0))).toBe('');
  });

  it('keeps its own copy: a datagram changed after its id was seen does not change the answer', () => {
    const datagram = new Uint8Array(40).fill(9);
    const view = datagram.subarray(4, 36);
    const before = bytesToHex(view);
    expect(idHex(view)).toBe(before);
    datagram.fill(8, 4, 35); // same last byte, other bytes
    expect(idHex(view)).toBe(bytesToHex(view));
    expect(idHex(view)).not.toBe(before);
  });

  it('reads a Buffer as its bytes', () => {
    const buf = Buffer.from('ab'.repeat(32), 'hex');
    expect(idHex(buf)).toBe('ab'.repeat(32));
  });
});
