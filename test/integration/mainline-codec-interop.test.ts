// The Mainline codec against the reference: KRPC queries encoded by kadscope, sent over UDP on
// 127.0.0.1 to one bittorrent-dht node (no bootstrap: it never looks for the public routers), and
// its answers decoded by kadscope. Covers BEP 5 (ping, find_node, get_peers, announce_peer with
// implied_port) and BEP 44 (immutable and salted mutable put/get, seq and cas errors, bad token).
// Waits are bounded: each answer is awaited for at most ANSWER_WAIT_MS.
import { createSocket, type Socket } from 'node:dgram';
import DHT from 'bittorrent-dht';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPairFromSecretKey, verify } from '../../core/records/signing';
import { bencode } from '../../core/protocols/mainline/bencode';
import { immutableTarget, mutableTarget, signMutableItem } from '../../core/protocols/mainline/bep44';
import { decodeKrpc, encodeKrpc } from '../../core/protocols/mainline/krpc';
import { KRPC_ERROR, type MainlineMessage, type QueryArgs, type QueryMessage } from '../../core/protocols/mainline/types';

const ANSWER_WAIT_MS = 5_000;
const OUR_ID = new Uint8Array(20).fill(0xab);
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

let ref: DHT;
let refPort: number;
let sock: Socket;
let nextTid = 1;

async function ask(args: QueryArgs, extra: Partial<QueryMessage> = {}): Promise<MainlineMessage> {
  const tid = new Uint8Array([nextTid >> 8, nextTid++ & 0xff]);
  const data = encodeKrpc({ kind: 'query', tid, id: OUR_ID, readOnly: true, ...args, ...extra } as QueryMessage);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.off('message', onMessage);
      reject(new Error(`no answer to ${args.method} within ${ANSWER_WAIT_MS} ms`));
    }, ANSWER_WAIT_MS);
    function onMessage(msg: Buffer): void {
      const r = decodeKrpc(new Uint8Array(msg));
      if (!r.ok) return reject(new Error(`undecodable answer: ${r.reason} ${r.detail}`));
      if (Buffer.compare(r.message.tid, tid) !== 0) return;
      clearTimeout(timer);
      sock.off('message', onMessage);
      resolve(r.message);
    }
    sock.on('message', onMessage);
    sock.send(data, refPort, '127.0.0.1');
  });
}

function expectResponse(m: MainlineMessage): Extract<MainlineMessage, { kind: 'response' }> {
  if (m.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(m)}`);
  return m;
}

beforeAll(async () => {
  const opts = { bootstrap: false as const, verify: (sig: Buffer, msg: Buffer, pk: Buffer) => verify(msg, sig, pk) };
  ref = new DHT(opts);
  await new Promise<void>((resolve) => ref.listen(0, '127.0.0.1', resolve));
  refPort = ref.address().port;
  sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  await new Promise<void>((resolve) => ref.destroy(() => resolve()));
});

describe('kadscope KRPC <-> bittorrent-dht', () => {
  it('ping and find_node', async () => {
    const pong = expectResponse(await ask({ method: 'ping' }));
    expect(Buffer.from(pong.id).equals(ref.nodeId)).toBe(true);
    const found = expectResponse(await ask({ method: 'find_node', target: new Uint8Array(20) }));
    expect(Array.isArray(found.nodes)).toBe(true);
  });

  it('get_peers, announce_peer (implied_port) and get_peers again', async () => {
    const infoHash = new Uint8Array(20).fill(7);
    const first = expectResponse(await ask({ method: 'get_peers', infoHash }));
    expect(first.token).toBeInstanceOf(Uint8Array);
    expectResponse(await ask({ method: 'announce_peer', infoHash, port: 0, token: first.token as Uint8Array, impliedPort: true }));
    const second = expectResponse(await ask({ method: 'get_peers', infoHash }));
    expect(second.values).toEqual([{ host: '127.0.0.1', port: sock.address().port }]);
    const bad = await ask({ method: 'announce_peer', infoHash, port: 6881, token: ascii('not-a-token'), impliedPort: false });
    expect(bad).toMatchObject({ kind: 'error', code: KRPC_ERROR.PROTOCOL });
  });

  it('BEP 44 immutable: put with the token from get, then get the value back', async () => {
    const v = bencode(ascii('hello mainline'));
    const target = immutableTarget(v);
    const { token } = expectResponse(await ask({ method: 'get', target }));
    expectResponse(await ask({ method: 'put', token: token as Uint8Array, item: { type: 'immutable', v } }));
    const got = expectResponse(await ask({ method: 'get', target }));
    expect(got.v).toEqual(v);
  });

  it('BEP 44 mutable with salt: put, get, then seq reuse (302), cas mismatch (301) and a bad token', async () => {
    const kp = keyPairFromSecretKey(new Uint8Array(32).fill(5));
    const salt = ascii('profile');
    const target = mutableTarget(kp.publicKey, salt);
    const { token } = expectResponse(await ask({ method: 'get', target }));
    const item = signMutableItem({ ...kp, v: bencode(ascii('v1')), seq: 1, salt });
    expectResponse(await ask({ method: 'put', token: token as Uint8Array, item }));
    const got = expectResponse(await ask({ method: 'get', target }));
    expect({ v: got.v, k: got.k, seq: got.seq, sig: got.sig }).toEqual({ v: item.v, k: item.k, seq: 1, sig: item.sig });

    const again = signMutableItem({ ...kp, v: bencode(ascii('v1 again')), seq: 1, salt });
    expect(await ask({ method: 'put', token: token as Uint8Array, item: again })).toMatchObject({ kind: 'error', code: KRPC_ERROR.SEQ_TOO_LOW });
    const next = signMutableItem({ ...kp, v: bencode(ascii('v2')), seq: 2, salt });
    expect(await ask({ method: 'put', token: token as Uint8Array, item: next, cas: 7 })).toMatchObject({ kind: 'error', code: KRPC_ERROR.CAS_MISMATCH });
    expect(await ask({ method: 'put', token: ascii('bad'), item: next })).toMatchObject({ kind: 'error', code: KRPC_ERROR.PROTOCOL });
    expectResponse(await ask({ method: 'put', token: token as Uint8Array, item: next, cas: 1 }));
  });
});
