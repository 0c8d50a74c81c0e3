// Hostile datagrams at a kadscope node speaking Mainline, over UDP on 127.0.0.1: every one is
// dropped and counted under its reason, bad queries get KRPC error 203 and unknown methods 204,
// nothing enters the routing table, and the node keeps answering. Includes the ~70-byte datagram
// with an integer where a byte string belongs, which crashes bittorrent-dht itself.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DhtNode } from '../../core/node';
import { decodeKrpc, encodeKrpc } from '../../core/protocols/mainline/krpc';
import { KRPC_ERROR, type MainlineMessage } from '../../core/protocols/mainline/types';

const ANSWER_WAIT_MS = 5_000;
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

let node: DhtNode;
let sock: Socket;

beforeAll(async () => {
  node = DhtNode.create({ protocol: 'mainline', host: '127.0.0.1' });
  await node.start();
  sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  await node.stop();
});

/** Sends a datagram and resolves with the first answer, or null if none came within the wait. */
function send(data: Uint8Array, waitMs = 300): Promise<MainlineMessage | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sock.off('message', onMessage);
      resolve(null);
    }, waitMs);
    function onMessage(msg: Buffer): void {
      clearTimeout(timer);
      sock.off('message', onMessage);
      const r = decodeKrpc(new Uint8Array(msg));
      resolve(r.ok ? r.message : null);
    }
    sock.on('message', onMessage);
    sock.send(data, node.address.port, '127.0.0.1');
  });
}

/**
 * The node's drop counters. A datagram as long as udx-native's receive limit (2,048 bytes) never
 * reaches the node's decoder on that socket layer: the transport drops it (its `truncated`), and the
 * node counts it as dropped `oversize` all the same (DhtNode's withTransportDrops).
 */
const dropped = (): Record<string, number> => ({ ...node.snapshot().counters.dropped }) as Record<string, number>;

describe('hostile datagrams at a Mainline node', () => {
  it('drops and counts each, answers bad queries with 203 and unknown methods with 204, and keeps serving', async () => {
    const before = dropped();
    const cases: Array<[string, Buffer, string, number | null]> = [
      // [what, datagram, drop reason, KRPC error code answered (null: no answer)]
      ['q an integer (the bittorrent-dht crash)', ascii('d1:ad2:id20:abcdefghij0123456789e1:qi1e1:t2:aa1:y1:qe'), 'bad-args', KRPC_ERROR.PROTOCOL],
      ['id an integer', ascii('d1:ad2:idi1ee1:q4:ping1:t2:aa1:y1:qe'), 'bad-args', KRPC_ERROR.PROTOCOL],
      ['id 19 bytes', ascii('d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe'), 'bad-args', KRPC_ERROR.PROTOCOL],
      ['find_node without target', ascii('d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe'), 'bad-args', KRPC_ERROR.PROTOCOL],
      ['get_peers with a 21-byte info_hash', ascii('d1:ad2:id20:abcdefghij01234567899:info_hash21:mnopqrstuvwxyz1234567e1:q9:get_peers1:t2:aa1:y1:qe'), 'bad-args', KRPC_ERROR.PROTOCOL],
      ['announce_peer with port 0', ascii('d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token2:xxe1:q13:announce_peer1:t2:aa1:y1:qe'), 'bad-args', KRPC_ERROR.PROTOCOL],
      ['put with sig but no k', ascii('d1:ad2:id20:abcdefghij01234567893:sig64:' + 'x'.repeat(64) + '5:token2:xx1:v1:xe1:q3:put1:t2:aa1:y1:qe'), 'bad-args', KRPC_ERROR.PROTOCOL],
      ['unknown method', ascii('d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:aa1:y1:qe'), 'unknown-method', KRPC_ERROR.METHOD_UNKNOWN],
      ['truncated bencode', ascii('d1:ad2:id20:abcdefghij0123456789e1:q4:pi'), 'not-bencode', null],
      ['a list, not a dictionary', ascii('li1ei2ee'), 'not-a-dict', null],
      ['y missing', ascii('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aae'), 'bad-kind', null],
      ['t an integer', ascii('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:ti7e1:y1:qe'), 'bad-header', null],
      ['a response nobody asked for, full of nodes', ascii('d1:rd2:id20:mnopqrstuvwxyz1234565:nodes26:AAAAAAAAAAAAAAAAAAAA\x7f\x00\x00\x01\x1a\xe1e1:t4:zzzz1:y1:re'), 'unexpected-response', null],
      ['a response with nodes of 25 bytes', ascii('d1:rd2:id20:mnopqrstuvwxyz1234565:nodes25:AAAAAAAAAAAAAAAAAAAA\x7f\x00\x00\x01\x1ae1:t4:zzzz1:y1:re'), 'bad-response', null],
      ['an error with a text code', ascii('d1:el3:abc3:xyze1:t2:aa1:y1:ee'), 'bad-error', null],
      ['9,000 bytes', Buffer.alloc(9000, 0x64), 'oversize', null],
    ];
    for (const [what, data, , code] of cases) {
      const answer = await send(data, code === null ? 200 : ANSWER_WAIT_MS);
      if (code === null) expect(answer, what).toBeNull();
      else {
        expect(answer, what).toMatchObject({ kind: 'error', code });
        expect(Buffer.from(answer?.tid ?? []).toString(), what).toBe('aa');
      }
    }
    const after = dropped();
    const expected: Record<string, number> = {};
    for (const [, , reason] of cases) expected[reason] = (expected[reason] ?? 0) + 1;
    for (const [reason, n] of Object.entries(expected)) expect((after[reason] ?? 0) - (before[reason] ?? 0), reason).toBe(n);
    expect(node.table.size).toBe(0);

    // Still serving: a well-formed ping is answered with our id.
    const pong = await send(encodeKrpc({ kind: 'query', tid: new Uint8Array([1, 2]), id: new Uint8Array(20).fill(9), readOnly: true, method: 'ping' }), ANSWER_WAIT_MS);
    expect(pong?.kind).toBe('response');
    expect(pong?.kind === 'response' && Buffer.from(pong.id).toString('hex')).toBe(node.id);
    expect(node.running).toBe(true);
  }, 60_000);
});
