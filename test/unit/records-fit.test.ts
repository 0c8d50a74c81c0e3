// A FIND_VALUE answer with the largest record, or a GET_PEERS answer with many peers, must still be
// one datagram: contacts give way first (as many of the nearest as fit), then peers.
import { describe, expect, it } from 'vitest';
import { seededRandomBytes } from '../../core/id';
import { fitResponse } from '../../core/records/fit';
import { encodeMessage } from '../../core/wire/codec';
import { mainlineCodec } from '../../core/protocols/mainline/protocol';
import { MAX_MAINLINE_SEND_BYTES } from '../../core/protocols/mainline/types';
import { MAX_DATAGRAM_BYTES, MAX_PEERS_PER_RESPONSE, MAX_SALT_BYTES, MAX_VALUE_BYTES, type WireContact, type WireRecord } from '../../core/wire/types';

const rand = seededRandomBytes(0xf17);
const SELF = rand(32);
const V6 = '2001:db8:85a3:1:2:8a2e:370:7334';
const V4 = '10.1.2.3';
const contacts = (host: string, n: number): WireContact[] => Array.from({ length: n }, (_, i) => ({ id: rand(32), host, port: 1000 + i }));
const BIG: WireRecord = { type: 'mutable', value: rand(MAX_VALUE_BYTES), publicKey: rand(32), salt: rand(MAX_SALT_BYTES), seq: 2 ** 50, sig: rand(64) };

function encodedSize(body: ReturnType<typeof fitResponse>, observed: { host: string; port: number }, tid = 0xffff_ffff): number {
  return encodeMessage({ ...body, kind: 'response', tid, id: SELF, observed }).length;
}

describe('fitResponse', () => {
  it('leaves an answer that fits untouched', () => {
    const body = { nodes: contacts(V4, 20), token: rand(16) };
    expect(fitResponse(body, SELF, { host: V4, port: 1 })).toBe(body);
  });

  it('sends the largest record with as many of the nearest contacts as fit, for IPv4 and IPv6', () => {
    for (const host of [V4, V6]) {
      const nodes = contacts(host, 20);
      const observed = { host, port: 65535 };
      const fitted = fitResponse({ nodes, token: rand(16), record: BIG }, SELF, observed);
      expect(fitted.record).toBe(BIG);
      expect(encodedSize(fitted, observed)).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
      const n = fitted.nodes!.length;
      expect(n).toBeLessThan(20);
      expect(fitted.nodes).toEqual(nodes.slice(0, n)); // the nearest ones, in order
      // One more contact would not have fit: the cut is as generous as the datagram allows.
      expect(() => encodeMessage({ ...fitted, nodes: nodes.slice(0, n + 1), kind: 'response', tid: 0xffff_ffff, id: SELF, observed })).toThrow(/datagram limit/);
    }
  });

  it('cuts contacts, then peers, for a GET_PEERS answer of IPv6 addresses', () => {
    const nodes = contacts(V6, 20);
    const peers = Array.from({ length: MAX_PEERS_PER_RESPONSE }, (_, i) => ({ host: V6, port: 2000 + i }));
    const observed = { host: V6, port: 1 };
    const fitted = fitResponse({ nodes, token: rand(16), peers }, SELF, observed);
    expect(fitted.peers).toEqual(peers); // every peer kept: the contacts made room
    expect(fitted.nodes!.length).toBeGreaterThan(0);
    expect(encodedSize(fitted, observed)).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
  });

  it("Mainline: the limit is the protocol's (1,452): a 1,000-byte BEP 44 item goes with all 8 nodes (26 bytes each), which 1,400 would cut", () => {
    const encode = mainlineCodec().encode;
    const id20 = rand(20);
    const nodes = Array.from({ length: 8 }, (_, i) => ({ id: rand(20), host: '203.0.113.9', port: 6881 + i }));
    // A BEP 44 value is one bencoded value of at most 1,000 bytes: a 996-byte string.
    const v = new Uint8Array([...Buffer.from('996:'), ...rand(996)]);
    const record: WireRecord = { type: 'mutable', value: v, publicKey: rand(32), salt: new Uint8Array(0), seq: 2 ** 40, sig: rand(64) };
    const body = { nodes, token: rand(20), record };
    const observed = { host: '198.51.100.7', port: 6881 };
    const size = (b: ReturnType<typeof fitResponse>): number => encode({ ...b, kind: 'response', tid: 0xffff_ffff, id: id20, observed }).length;
    expect(size(body)).toBeGreaterThan(MAX_DATAGRAM_BYTES);
    expect(size(body)).toBeLessThanOrEqual(MAX_MAINLINE_SEND_BYTES);
    expect(mainlineCodec().maxDatagramBytes).toBe(MAX_MAINLINE_SEND_BYTES);
    expect(fitResponse(body, id20, observed, encode, MAX_MAINLINE_SEND_BYTES)).toBe(body);
    // The wire v1 limit would have dropped nodes from the same answer.
    expect(fitResponse(body, id20, observed, encode).nodes!.length).toBeLessThan(8);
  });
});
