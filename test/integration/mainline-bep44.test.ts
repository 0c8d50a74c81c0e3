// BEP 44 between a kadscope node speaking Mainline and a loopback network of 100 real
// bittorrent-dht nodes (explicit loopback bootstrap): immutable and mutable (salted) items put by
// kadscope and got by reference nodes, and the reverse; then the error codes a storer answers a
// put with (bad token 203, seq reuse and a lower seq 302, cas mismatch 301, a value over 1,000
// bytes 205, a bad signature 206, a salt over 64 bytes 207), sent as raw KRPC to the kadscope node
// and, for the codes bittorrent-dht implements, to a reference node: both answer the same.
import { createSocket, type Socket } from 'node:dgram';
import DHT from 'bittorrent-dht';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { bencode } from '../../core/protocols/mainline/bencode';
import { immutableTarget, mutableTarget, signMutableItem } from '../../core/protocols/mainline/bep44';
import { decodeKrpc, encodeKrpc } from '../../core/protocols/mainline/krpc';
import type { MainlineMessage, PutItem } from '../../core/protocols/mainline/types';
import type { DhtError } from '../../core/errors';
import { keyPairFromSecretKey, sign } from '../../core/records/signing';
import { createReferenceNetwork, type ReferenceNetwork } from './mainline-reference';

const REFERENCE_NODES = 100;
const WAIT_MS = 30_000;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const keyPair = keyPairFromSecretKey(new Uint8Array(32).fill(0x44));

let net: ReferenceNetwork;
let node: DhtNode;

beforeAll(async () => {
  net = await createReferenceNetwork(REFERENCE_NODES);
  node = DhtNode.create({ protocol: 'mainline', host: '127.0.0.1', bootstrap: [net.bootstrap], randomBytes: seededRandomBytes(4444) });
  await node.start();
}, 180_000);

afterAll(async () => {
  await node?.stop();
  await net?.close();
});

function timed<T>(what: string, run: (done: (err: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not done within ${WAIT_MS} ms`)), WAIT_MS);
    run((err, value) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value);
    });
  });
}

type RefValue = { v: Buffer; seq?: number } | null;
const refGet = (dht: DHT, key: string, salt?: Uint8Array): Promise<RefValue> =>
  timed<RefValue>('reference get', (done) => dht.get(Buffer.from(key, 'hex'), { ...(salt ? { salt: Buffer.from(salt) } : {}), cache: false }, done));
const refPut = (dht: DHT, opts: Parameters<DHT['put']>[0]): Promise<string> =>
  timed<string>('reference put', (done) => dht.put(opts, (err, key) => done(err, key ? key.toString('hex') : '')));

describe('BEP 44 between kadscope (Mainline) and 100 bittorrent-dht nodes', () => {
  it('an immutable item put by kadscope is got by a reference node', async () => {
    const r = await node.records.put('hello from kadscope', { timeoutMs: WAIT_MS });
    expect(r.key).toBe(bytesToHex(immutableTarget(bencode(utf8('hello from kadscope')))));
    expect(r.storedAt.length).toBeGreaterThan(0);
    const got = await refGet(net.nodes[11], r.key);
    expect(got && text(got.v)).toBe('hello from kadscope');
  }, 60_000);

  it('an immutable item put by a reference node is got by kadscope', async () => {
    const key = await refPut(net.nodes[23], { v: Buffer.from('hello from bittorrent-dht') });
    const got = await node.records.get(key, { timeoutMs: WAIT_MS });
    expect(text(got.value)).toBe('hello from bittorrent-dht');
    expect(got.from).not.toBe(node.id);
  }, 60_000);

  it('a mutable item with salt put by kadscope is got by a reference node, and its update too', async () => {
    const salt = utf8('kadscope-salt');
    const one = await node.records.putMutable({ keyPair, salt, seq: 1, value: 'first' }, { timeoutMs: WAIT_MS });
    expect(one.key).toBe(bytesToHex(mutableTarget(keyPair.publicKey, salt)));
    const got = await refGet(net.nodes[31], one.key, salt);
    expect(got && text(got.v)).toBe('first');
    expect(got?.seq).toBe(1);
    await node.records.putMutable({ keyPair, salt, seq: 2, value: 'second' }, { timeoutMs: WAIT_MS });
    const again = await refGet(net.nodes[47], one.key, salt);
    expect(again && text(again.v)).toBe('second');
    expect(again?.seq).toBe(2);
  }, 90_000);

  it('a mutable item with salt put by a reference node is got by kadscope (with the salt)', async () => {
    const salt = Buffer.from('reference-salt');
    const key = await refPut(net.nodes[59], {
      k: Buffer.from(keyPair.publicKey),
      seq: 7,
      salt,
      v: Buffer.from('signed by bittorrent-dht'),
      sign: (buf) => Buffer.from(sign(buf, keyPair.secretKey)),
    });
    expect(key).toBe(bytesToHex(mutableTarget(keyPair.publicKey, salt)));
    const got = await node.records.get(key, { salt, timeoutMs: WAIT_MS });
    expect(text(got.value)).toBe('signed by bittorrent-dht');
    expect(got.seq).toBe(7);
    // kadscope's own put of a lower seq, or of seq 7 with another value, is refused with BEP 44's rules.
    const low = await node.records.putMutable({ keyPair, salt, seq: 6, value: 'older' }, { timeoutMs: WAIT_MS }).catch((e: DhtError) => e);
    expect((low as DhtError).code).toBe('SEQ_TOO_LOW');
    const cas = await node.records.putMutable({ keyPair, salt, seq: 8, value: 'newer', cas: 3 }, { timeoutMs: WAIT_MS }).catch((e: DhtError) => e);
    expect((cas as DhtError).code).toBe('CAS_MISMATCH');
    await node.records.putMutable({ keyPair, salt, seq: 8, value: 'newer', cas: 7 }, { timeoutMs: WAIT_MS });
    const after = await refGet(net.nodes[71], key, salt);
    expect(after && text(after.v)).toBe('newer');
  }, 120_000);
});

describe('KRPC error codes for a put, from kadscope and from bittorrent-dht', () => {
  let sock: Socket;
  let tidSeq = 0;
  const pending = new Map<string, (m: MainlineMessage) => void>();
  const me = new Uint8Array(20).fill(0xee);

  beforeAll(async () => {
    sock = createSocket('udp4');
    sock.on('message', (data) => {
      const d = decodeKrpc(new Uint8Array(data));
      if (!d.ok) return;
      const t = bytesToHex(d.message.tid);
      pending.get(t)?.(d.message);
      pending.delete(t);
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  });
  afterAll(() => {
    sock?.close();
  });

  function query(port: number, msg: Record<string, unknown>): Promise<MainlineMessage> {
    const tid = new Uint8Array([0x70, tidSeq++ & 0xff]);
    return timed<MainlineMessage>('raw KRPC query', (done) => {
      pending.set(bytesToHex(tid), (m) => done(null, m));
      sock.send(encodeKrpc({ kind: 'query', tid, id: me, readOnly: false, ...msg } as MainlineMessage), port, '127.0.0.1');
    });
  }

  async function tokenFrom(port: number, target: Uint8Array): Promise<Uint8Array> {
    const r = await query(port, { method: 'get', target });
    if (r.kind !== 'response' || !r.token) throw new Error(`no token from ${port}`);
    return r.token;
  }

  const codeOf = (m: MainlineMessage): number | 'ok' => (m.kind === 'error' ? m.code : 'ok');

  function mutable(seq: number, value: string, salt = utf8('codes')): Extract<PutItem, { type: 'mutable' }> {
    return signMutableItem({ secretKey: keyPair.secretKey, publicKey: keyPair.publicKey, v: bencode(utf8(value)), seq, salt });
  }

  async function putCodes(port: number, saltText: string): Promise<Record<string, number | 'ok'>> {
    const salt = utf8(saltText);
    const target = mutableTarget(keyPair.publicKey, salt);
    const token = await tokenFrom(port, target);
    const put = async (item: PutItem, cas?: number, t = token): Promise<number | 'ok'> =>
      codeOf(await query(port, { method: 'put', token: t, item, ...(cas !== undefined ? { cas } : {}) }));
    return {
      badToken: await put(mutable(5, 'five', salt), undefined, new Uint8Array(8).fill(1)),
      first: await put(mutable(5, 'five', salt)),
      seqReused: await put(mutable(5, 'another five', salt)),
      seqLower: await put(mutable(4, 'four', salt)),
      casMismatch: await put(mutable(6, 'six', salt), 2),
      casMatch: await put(mutable(6, 'six', salt), 5),
      tooBig: await put({ type: 'immutable', v: bencode(utf8('x'.repeat(1001))) }),
    };
  }

  it('kadscope answers 203, 302, 302, 301, 205 as bittorrent-dht does', async () => {
    const ours = await putCodes(node.address.port, 'codes-kadscope');
    const theirs = await putCodes(net.nodes[5].address().port, 'codes-reference');
    const expected = { badToken: 203, first: 'ok', seqReused: 302, seqLower: 302, casMismatch: 301, casMatch: 'ok', tooBig: 205 };
    expect(ours).toEqual(expected);
    expect(theirs).toEqual(expected);
  }, 60_000);

  it('kadscope answers a bad signature with 206 and a salt over 64 bytes with 207', async () => {
    const port = node.address.port;
    const salt = utf8('s'.repeat(65));
    const token = await tokenFrom(port, mutableTarget(keyPair.publicKey, salt));
    const forged = { ...mutable(1, 'one', utf8('sig')), seq: 2 };
    const bigSalt = mutable(1, 'one', salt);
    expect(codeOf(await query(port, { method: 'put', token, item: forged }))).toBe(206);
    expect(codeOf(await query(port, { method: 'put', token, item: bigSalt }))).toBe(207);
  }, 30_000);
});
