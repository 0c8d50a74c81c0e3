// Mainline DHT codec, known answers: BEP 5's example packets byte for byte, BEP 42's id table,
// BEP 44's signature and target vectors, and the strict bencode rules the codec relies on.
import { describe, expect, it } from 'vitest';
import { DhtError } from '../../core/errors';
import { seededRandomBytes } from '../../core/id';
import { keyPairFromSecretKey } from '../../core/records/signing';
import { bdecode, bencode, type BValue } from '../../core/protocols/mainline/bencode';
import { bep42Status, crc32c, generateBep42Id, isBep42Exempt } from '../../core/protocols/mainline/bep42';
import { bep44Signable, checkPutItem, immutableTarget, mutableTarget, signMutableItem, verifyMutableItem } from '../../core/protocols/mainline/bep44';
import { decodeKrpc, encodeKrpc } from '../../core/protocols/mainline/krpc';
import { KRPC_ERROR, type MainlineMessage } from '../../core/protocols/mainline/types';

const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

function decoded(s: string): MainlineMessage {
  const r = decodeKrpc(ascii(s));
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.message;
}

describe('bencode', () => {
  it('decodes and re-encodes canonical values exactly', () => {
    for (const s of ['i0e', 'i-42e', 'i9007199254740991e', '0:', '4:spam', 'le', 'li1e4:spame', 'de', 'd3:bar4:spam3:fooi42ee', 'd1:ald1:bi1eeee']) {
      const r = bdecode(ascii(s));
      expect(r.ok, s).toBe(true);
      if (r.ok) expect(Buffer.from(bencode(r.value)).toString('latin1')).toBe(s);
    }
  });

  it('refuses non-canonical and malformed input with a reason, never a throw', () => {
    const bad: Record<string, RegExp> = {
      '': /empty/,
      'i01e': /leading zero/,
      'i-0e': /-0/,
      'ie': /no digits/,
      'i9007199254740992e': /2\^53/,
      'i12345678901234567e': /too many digits/,
      '03:abc': /leading zero/,
      '5:abc': /truncated/,
      'd3:fooi1e3:bari2ee': /out of order/,
      'd3:fooi1e3:fooi2ee': /duplicate/,
      'di1ei2ee': /key: not a string/,
      'i1ei2e': /after the value/,
      'l': /truncated/,
      'x': /unexpected byte/,
    };
    for (const [s, why] of Object.entries(bad)) {
      const r = bdecode(ascii(s));
      expect(r.ok, s).toBe(false);
      if (!r.ok) expect(r.error, s).toMatch(why);
    }
  });

  it('bounds nesting and the number of values', () => {
    expect(bdecode(ascii(`${'l'.repeat(16)}${'e'.repeat(16)}`)).ok).toBe(true);
    const deep = bdecode(ascii(`${'l'.repeat(17)}${'e'.repeat(17)}`));
    expect(deep.ok).toBe(false);
    if (!deep.ok) expect(deep.error).toMatch(/nested deeper than 16/);
    const many = bdecode(ascii(`l${'i1e'.repeat(3000)}e`));
    expect(many.ok).toBe(false);
    if (!many.ok) expect(many.error).toMatch(/more than 2048 values/);
  });

  it('sorts dictionary keys by bytes when encoding', () => {
    const m = new Map<string, BValue>([['b', 1], ['a', 2], ['\xff', 3], ['B', 4]]);
    expect(Buffer.from(bencode(m)).toString('latin1')).toBe('d1:Bi4e1:ai2e1:bi1e1:\xffi3ee');
    expect(() => bencode(1.5)).toThrow(DhtError);
  });
});

describe('KRPC: BEP 5 example packets', () => {
  // From BEP 5, "KRPC Protocol", in the order given there.
  const examples = [
    'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe',
    'd1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re',
    'd1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee',
    'd1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe',
    'd1:rd2:id20:0123456789abcdefghij5:nodes26:mnopqrstuvwxyz123456axje.ue1:t2:aa1:y1:re',
    'd1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe',
    'd1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re',
    'd1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe',
  ];

  it('decode, and re-encode to the same bytes', () => {
    for (const s of examples) expect(Buffer.from(encodeKrpc(decoded(s))).toString('latin1'), s).toBe(s);
  });

  it('read as the BEP says', () => {
    const ping = decoded(examples[0]);
    expect(ping).toMatchObject({ kind: 'query', method: 'ping', readOnly: false });
    expect(Buffer.from(ping.tid).toString()).toBe('aa');
    const err = decoded(examples[2]);
    expect(err).toMatchObject({ kind: 'error', code: 201, message: 'A Generic Error Ocurred' });
    const nodes = decoded(examples[4]);
    // "axje.u": 97.120.106.101, port 0x2e75
    expect(nodes.kind === 'response' && nodes.nodes).toEqual([{ id: ascii('mnopqrstuvwxyz123456'), host: '97.120.106.101', port: 0x2e75 }]);
    const peers = decoded(examples[6]);
    expect(peers.kind === 'response' && peers.values).toEqual([
      { host: '97.120.106.101', port: 0x2e75 },
      { host: '105.100.104.116', port: 0x6e6d },
    ]);
    const announce = decoded(examples[7]);
    expect(announce).toMatchObject({ method: 'announce_peer', port: 6881, impliedPort: true });
  });

  it('keeps the client version, the read-only flag, the observed address and BEP 32 want', () => {
    const q = decoded('d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee1:q9:find_node2:roi1e1:t2:aa1:v4:LT\x01\x021:y1:qe');
    expect(q).toMatchObject({ kind: 'query', readOnly: true, want: ['n4', 'n6'] });
    expect(q.version).toEqual(ascii('LT\x01\x02'));
    expect(Buffer.from(encodeKrpc(q)).toString('latin1')).toBe('d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee1:q9:find_node2:roi1e1:t2:aa1:v4:LT\x01\x021:y1:qe');
    const r = decoded('d2:ip6:\x7f\x00\x00\x01\x1a\xe11:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re');
    expect(r.kind === 'response' && r.observed).toEqual({ host: '127.0.0.1', port: 6881 });
  });

  it('answers what it cannot parse with the transaction id of a query (for error 203)', () => {
    const r = decodeKrpc(ascii('d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe'));
    expect(r).toMatchObject({ ok: false, reason: 'bad-args' });
    expect(!r.ok && r.detail).toMatch(/a\.id: 3 bytes, expected 20/);
    expect(!r.ok && r.replyTid).toEqual(ascii('xy'));
    // An unknown method is a query (answered with 204), not a drop.
    expect(decoded('d1:ad2:id20:abcdefghij0123456789e1:q5:vote!1:t2:aa1:y1:qe')).toMatchObject({ method: 'unknown', name: 'vote!' });
  });

  it('drops the ~70-byte datagram with an integer where a byte string belongs (it crashes bittorrent-dht)', () => {
    for (const s of [
      'd1:ad2:id20:abcdefghij0123456789e1:qi1e1:t2:aa1:y1:qe', // q an integer
      'd1:ad2:idi1ee1:q4:ping1:t2:aa1:y1:qe', // id an integer
      'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:ti1e1:y1:qe', // t an integer
      'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:yi1ee', // y an integer
      'd1:rd2:id20:mnopqrstuvwxyz1234565:nodesi1ee1:t2:aa1:y1:re', // nodes an integer
      'd1:rd2:id20:mnopqrstuvwxyz1234566:valuesli1eee1:t2:aa1:y1:re', // a value an integer
      'd1:eli201ei1ee1:t2:aa1:y1:ee', // error message an integer
    ]) {
      expect(s.length).toBeLessThan(80);
      const r = decodeKrpc(ascii(s));
      expect(r.ok, s).toBe(false);
    }
  });
});

describe('BEP 42', () => {
  // BEP 42's table: IP, rand (the id's last byte), the example node id.
  const table: Array<[string, number, string]> = [
    ['124.31.75.21', 1, '5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401'],
    ['21.75.31.124', 86, '5a3ce9c14e7a08645677bbd1cfe7d8f956d53256'],
    ['65.23.51.170', 22, 'a5d43220bc8f112a3d426c84764f8c2a1150e616'],
    ['84.124.73.14', 65, '1b0321dd1bb1fe518101ceef99462b947a01ff41'],
    ['43.213.53.83', 90, 'e56f6cbf5b7c4be0237986d5243b87aa6d51305a'],
  ];

  it("checks the BEP's example ids as compliant", () => {
    for (const [ip, , id] of table) expect(bep42Status(fromHex(id), ip), ip).toBe('compliant');
  });

  it('generates ids with the first 21 bits the table has', () => {
    const rand = seededRandomBytes(7);
    for (const [ip, r, id] of table) {
      const mine = generateBep42Id(ip, rand, r) as Uint8Array;
      expect(hex(mine.subarray(0, 2))).toBe(id.slice(0, 4));
      expect(mine[2] & 0xf8).toBe(fromHex(id)[2] & 0xf8);
      expect(mine[19]).toBe(r);
      expect(bep42Status(mine, ip)).toBe('compliant');
    }
  });

  it('says non-compliant for an id from another address, exempt for loopback and private ones', () => {
    const [ip, , id] = table[0];
    expect(bep42Status(fromHex(id), table[1][0])).toBe('non-compliant');
    expect(bep42Status(fromHex(id).fill(0, 0, 3), ip)).toBe('non-compliant');
    for (const h of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.3.4', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) {
      expect(isBep42Exempt(h), h).toBe(true);
      expect(bep42Status(new Uint8Array(20), h)).toBe('exempt');
    }
    for (const h of ['172.32.0.1', '8.8.8.8', '2001:db8::1', '::ffff:8.8.8.8', 'not-an-ip']) expect(isBep42Exempt(h), h).toBe(false);
    expect(generateBep42Id('2001:db8::1') && bep42Status(generateBep42Id('2001:db8::1') as Uint8Array, '2001:db8::1')).toBe('compliant');
  });

  it('CRC32-C matches its check value', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
  });
});

describe('BEP 44', () => {
  const v = bencode(ascii('Hello World!'));
  const pk = fromHex('77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548');

  it('test vector 1: mutable, no salt', () => {
    expect(Buffer.from(bep44Signable(new Uint8Array(0), 1, v)).toString('latin1')).toBe('3:seqi1e1:v12:Hello World!');
    expect(hex(mutableTarget(pk))).toBe('4a533d47ec9c7d95b1ad75f576cffc641853b750');
    const sig = fromHex('305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01');
    expect(verifyMutableItem({ type: 'mutable', v, k: pk, salt: new Uint8Array(0), seq: 1, sig })).toBe(true);
    expect(verifyMutableItem({ type: 'mutable', v, k: pk, salt: new Uint8Array(0), seq: 2, sig })).toBe(false);
  });

  it('test vector 2: mutable with salt "foobar"', () => {
    const salt = ascii('foobar');
    expect(Buffer.from(bep44Signable(salt, 1, v)).toString('latin1')).toBe('4:salt6:foobar3:seqi1e1:v12:Hello World!');
    expect(hex(mutableTarget(pk, salt))).toBe('411eba73b6f087ca51a3795d9c8c938d365e32c1');
    const sig = fromHex('6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08');
    expect(verifyMutableItem({ type: 'mutable', v, k: pk, salt, seq: 1, sig })).toBe(true);
  });

  it('test vector 3: immutable', () => {
    expect(hex(immutableTarget(v))).toBe('e5f96f6f38320f0f33959cb4d3d656452117aadb');
  });

  it('signs what it verifies, and checkPutItem gives the BEP error codes', () => {
    const kp = keyPairFromSecretKey(new Uint8Array(32).fill(9));
    const item = signMutableItem({ ...kp, v, seq: 5, salt: ascii('s') });
    expect(verifyMutableItem(item)).toBe(true);
    expect(checkPutItem(item)).toEqual({ ok: true });
    expect(checkPutItem({ ...item, seq: 6 })).toMatchObject({ ok: false, code: KRPC_ERROR.INVALID_SIGNATURE });
    expect(checkPutItem({ ...item, salt: new Uint8Array(65) })).toMatchObject({ ok: false, code: KRPC_ERROR.SALT_TOO_BIG });
    expect(checkPutItem({ type: 'immutable', v: bencode(new Uint8Array(997)) })).toMatchObject({ ok: false, code: KRPC_ERROR.MESSAGE_TOO_BIG });
    expect(checkPutItem({ type: 'immutable', v: bencode(new Uint8Array(995)) })).toEqual({ ok: true });
    expect(checkPutItem({ type: 'immutable', v: ascii('i1ei2e') })).toMatchObject({ ok: false, code: KRPC_ERROR.PROTOCOL });
  });

  it('a put keeps v as the author encoded it, through decode and encode', () => {
    const kp = keyPairFromSecretKey(new Uint8Array(32).fill(3));
    const dictV = bencode(new Map<string, BValue>([['a', 1], ['b', ascii('x')]]));
    const item = signMutableItem({ ...kp, v: dictV, seq: 1 });
    const data = encodeKrpc({ kind: 'query', tid: ascii('ab'), id: new Uint8Array(20), readOnly: false, method: 'put', token: ascii('tok'), item, cas: 0 });
    const back = decodeKrpc(data);
    expect(back.ok && back.message.kind === 'query' && back.message.method === 'put' && back.message.item).toEqual(item);
    expect(back.ok && back.message.kind === 'query' && back.message.method === 'put' && back.message.cas).toBe(0);
    if (back.ok && back.message.kind === 'query' && back.message.method === 'put') expect(checkPutItem(back.message.item)).toEqual({ ok: true });
  });
});
