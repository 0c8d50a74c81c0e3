// Wire v5, verification by echo (core/wire/codec.ts, rpc/rpc.ts, node.ts): a node that receives a
// FIND_NODE from a stranger that says it echoes (the first byte of its padding) asks for an echo in
// its answer instead of PINGing it; the stranger's echo, an empty response with that tid from its
// address, verifies it and it enters the table: one datagram instead of a PING and its answer. A
// requester that does not echo (an older one, or an echo lost) is PINGed as before; an echo from
// another address or with another tid verifies nothing; and no one can make a node echo to a third
// party. Memory network under fake time.
import { afterEach, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../core/id';
import { DhtNode, type DhtNodeOptions } from '../../core/node';
import { KADSCOPE_PROTOCOL, type DhtProtocol } from '../../core/protocols/protocol';
import { answerBytes, contactsAnswerCeiling, paddedRequestBytes } from '../../core/rpc/amplification';
import { createTestnet } from '../../core/testnet';
import { decodeCanonical, decodeGeneric, decodeMessage, encodeMessage } from '../../core/wire/codec';
import { ECHO_MARK, WIRE_VERSION_ECHO, WIRE_VERSION_PADDED, type RequestMessage, type ResponseMessage } from '../../core/wire/types';
import { memoryWorld, RTT_MS } from './memory-world';

const id = new Uint8Array(32).fill(7);
const findNode = (extra: Partial<RequestMessage> = {}): RequestMessage => ({ kind: 'request', tid: 0xfffffff0, id, method: 'FIND_NODE', target: new Uint8Array(32).fill(1), ...extra }) as RequestMessage;
const answer = (extra: Partial<ResponseMessage> = {}): ResponseMessage => ({
  kind: 'response',
  tid: 77,
  id,
  observed: { host: '10.0.0.9', port: 4000 },
  nodes: [{ id: new Uint8Array(32).fill(3), host: '10.0.0.3', port: 4001 }],
  token: new Uint8Array(8).fill(9),
  ...extra,
});

describe('wire v5: the echo mark and the echo request', () => {
  it('a request that echoes marks its padding and stays v4; both decoders read the mark', () => {
    const marked = encodeMessage(findNode({ padding: 40, echoes: true }));
    expect(marked[3]).toBe(WIRE_VERSION_PADDED);
    expect(marked[marked.length - 40]).toBe(ECHO_MARK);
    expect(decodeCanonical(marked)).toEqual(findNode({ padding: 40, echoes: true }));
    expect(decodeGeneric(marked)).toEqual({ ok: true, message: findNode({ padding: 40, echoes: true }) });
    // v4 padding (zeros) does not say it.
    const plain = encodeMessage(findNode({ padding: 40 }));
    expect(decodeCanonical(plain)).toEqual(findNode({ padding: 40 }));
    expect(decodeGeneric(plain)).toEqual({ ok: true, message: findNode({ padding: 40 }) });
    // The mark lives in the padding: without padding there is nowhere to say it.
    expect(() => encodeMessage(findNode({ echoes: true }))).toThrow(/only a padded request says it echoes/);
  });

  it('an answer that asks for an echo is v5 and round-trips through both decoders; without one it is v1', () => {
    for (const tid of [0, 1, 0xffff_ffff]) {
      const m = answer({ echo: tid });
      const bytes = encodeMessage(m);
      expect(bytes[3]).toBe(WIRE_VERSION_ECHO);
      expect(decodeCanonical(bytes)).toEqual(m);
      expect(decodeGeneric(bytes)).toEqual({ ok: true, message: m });
    }
    expect(encodeMessage(answer())[3]).toBe(1);
    expect(() => encodeMessage(answer({ echo: -1 }))).toThrow(/echo must be an unsigned 32-bit integer/);
    expect(() => encodeMessage(answer({ echo: 1, record: { type: 'named', name: 'x', value: new Uint8Array(1) } }))).toThrow(/rides only on an answer of wire v1/);
  });

  it('refuses `c` outside v5 and v5 without `c`, on both decoders', () => {
    const v5 = encodeMessage(answer({ echo: 5 }));
    const asV1 = v5.slice();
    asV1[3] = 1;
    expect(decodeCanonical(asV1)).toBeNull();
    expect(decodeMessage(asV1)).toMatchObject({ ok: false, reason: 'bad-header' });
    const v1 = encodeMessage(answer());
    const asV5 = v1.slice();
    asV5[3] = WIRE_VERSION_ECHO;
    expect(decodeCanonical(asV5)).toBeNull();
    expect(decodeMessage(asV5)).toMatchObject({ ok: false, reason: 'bad-version' });
    // v5 on a request (padded or not).
    const req = encodeMessage(findNode());
    req[3] = WIRE_VERSION_ECHO;
    expect(decodeCanonical(req)).toBeNull();
    expect(decodeMessage(req)).toMatchObject({ ok: false, reason: 'bad-version' });
    // `c` that is not a uint32.
    const big = encodeMessage(answer({ echo: 0x1234_5678 }));
    expect([...big.slice(-7, -4)]).toEqual([0x61, 0x63, 0x1a]); // "c", then a uint32's head
    big[big.length - 5] = 0x64; // made the head of a 4-byte text string
    expect(decodeCanonical(big)).toBeNull();
    expect(decodeMessage(big)).toMatchObject({ ok: false, reason: 'bad-header' });
  });

  it("the guard's ceiling covers the echo request, and padding covers an answer with one and a PING", () => {
    const body = { nodes: Array.from({ length: 20 }, (_, i) => ({ id: new Uint8Array(32).fill(i), host: `10.0.0.${i}`, port: 65_535 })), token: new Uint8Array(32), echo: 0xffff_ffff };
    const exact = answerBytes(body, id, { host: '2001:db8::1', port: 9 });
    expect(contactsAnswerCeiling(body, 32)).toBeGreaterThanOrEqual(exact);
    const { echo: _e, ...without } = body;
    expect(exact - answerBytes(without, id, { host: '2001:db8::1', port: 9 })).toBe(7);
    const ping = encodeMessage({ kind: 'request', tid: 0xffff_ffff, id, method: 'PING' }).length;
    expect(3 * paddedRequestBytes(4)).toBeGreaterThanOrEqual(answerBytes(body, id, { host: '203.0.113.1', port: 65_535 }) + ping);
  });
});

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A kadscope node that never echoes: its responses' echo requests are read as absent (as an older node reads none). */
const NO_ECHO: DhtProtocol = {
  ...KADSCOPE_PROTOCOL,
  codec: {
    ...KADSCOPE_PROTOCOL.codec,
    decode: (data, from) => {
      const r = KADSCOPE_PROTOCOL.codec.decode(data, from);
      if (r.ok && r.message.kind === 'response' && r.message.echo !== undefined) {
        const { echo: _e, ...rest } = r.message;
        return { ok: true, message: rest };
      }
      return r;
    },
  },
};

/** A v4 node: it pads, with zeros (it does not say it echoes). */
const V4_WRITER: DhtProtocol = {
  ...NO_ECHO,
  codec: { ...NO_ECHO.codec, encode: (msg, to) => KADSCOPE_PROTOCOL.codec.encode(msg.kind === 'request' ? { ...msg, echoes: undefined } : msg, to) },
};

const counters = (n: DhtNode) => n.snapshot().counters;

describe('verifying a stranger by echo', () => {
  it('its padded FIND_NODE gets an answer that asks for an echo; the echo puts it in the table, and no PING goes either way', async () => {
    const w = await memoryWorld(cleanups);
    const server = await w.node('10.0.0.1');
    const stranger = await w.node('10.0.0.2');
    const t0 = w.clock.now();
    const serverTx = counters(server).txPackets;
    const strangerTx = counters(stranger).txPackets;
    const r = await w.clock.run(stranger.findNodeAt(server.address, new Uint8Array(32).fill(0x42)));
    expect(bytesToHex(r.id)).toBe(server.id);
    expect(r.rttMs).toBe(RTT_MS);
    await w.clock.tickAsync(10 * RTT_MS);
    expect(server.table.get(stranger.id)).toMatchObject({ host: '10.0.0.2', port: 4000 });
    // The server sent its answer and nothing else; the stranger its request and its echo.
    expect(counters(server).txPackets - serverTx).toBe(1);
    expect(counters(stranger).txPackets - strangerTx).toBe(2);
    expect(counters(server).echoRequests).toBe(1);
    expect(counters(stranger).echoesSent).toBe(1);
    expect(counters(stranger).rpc.PING.received).toBe(0);
    // The verification counts as the server's PING (answered), its round trip is the echo's.
    expect(counters(server).rpc.PING).toMatchObject({ sent: 1, responses: 1, timeouts: 0 });
    expect(server.table.get(stranger.id)!.rttMs).toBe(RTT_MS);
    expect(w.clock.now() - t0).toBeGreaterThan(0);
  });

  it('echoVerification: false PINGs instead, as does a node facing a v4 requester (zero padding)', async () => {
    for (const [serverOptions, strangerOptions] of [
      [{ echoVerification: false }, {}],
      [{}, { protocol: V4_WRITER }],
    ] as Array<[Partial<DhtNodeOptions>, Partial<DhtNodeOptions>]>) {
      const w = await memoryWorld(cleanups);
      const server = await w.node('10.0.0.1', serverOptions);
      const stranger = await w.node('10.0.0.2', strangerOptions);
      await w.clock.run(stranger.findNodeAt(server.address, new Uint8Array(32)));
      await w.clock.tickAsync(10 * RTT_MS);
      expect(server.table.get(stranger.id)).toBeDefined();
      expect(counters(server).echoRequests ?? 0).toBe(0);
      expect(counters(stranger).rpc.PING.received).toBe(1);
      expect(counters(stranger).echoesSent ?? 0).toBe(0);
    }
  });

  it('without an echo (lost, or a requester that marks but does not echo) the PING goes out after the verification timeout', async () => {
    const w = await memoryWorld(cleanups);
    const server = await w.node('10.0.0.1', { rpcTimeoutMs: 1000 });
    const stranger = await w.node('10.0.0.2', { protocol: NO_ECHO });
    const t0 = w.clock.now();
    await w.clock.run(stranger.findNodeAt(server.address, new Uint8Array(32)));
    expect(counters(server).echoRequests).toBe(1);
    expect(server.table.get(stranger.id)).toBeUndefined();
    // The verification waits min(1000, rpcTimeoutMs / 2) = 500 ms for the echo, then PINGs.
    await w.clock.tickAsync(500 - (w.clock.now() - t0) - 1);
    expect(counters(stranger).rpc.PING.received).toBe(0);
    await w.clock.tickAsync(1 + 2 * RTT_MS);
    expect(counters(stranger).rpc.PING.received).toBe(1);
    expect(server.table.get(stranger.id)).toBeDefined();
    expect(counters(server).rpc.PING).toMatchObject({ sent: 1, responses: 1, timeouts: 0 });
  });

  it('an echo from another address, or with another tid, verifies nothing', async () => {
    const w = await memoryWorld(cleanups);
    const server = await w.node('10.0.0.1', { rpcTimeoutMs: 1000 });
    // The stranger, by hand: a marked padded FIND_NODE, and we read the answer's echo request.
    const stranger = await w.raw('10.0.0.2');
    const strangerId = new Uint8Array(32).fill(0x5e);
    const req = encodeMessage({ kind: 'request', tid: 9, id: strangerId, method: 'FIND_NODE', target: new Uint8Array(32), padding: 300, echoes: true });
    stranger.transport.send(req, server.address);
    await w.clock.tickAsync(2 * RTT_MS);
    expect(stranger.received).toHaveLength(1);
    const got = decodeMessage(stranger.received[0].data);
    if (!got.ok || got.message.kind !== 'response') throw new Error('expected an answer');
    const echoTid = got.message.echo!;
    expect(echoTid).toBeTypeOf('number');
    const echo = (tid: number) => encodeMessage({ kind: 'response', tid, id: strangerId, observed: server.address });
    // The right tid from another address (someone who saw the answer pass, or guessed).
    const other = await w.raw('10.0.0.3');
    other.transport.send(echo(echoTid), server.address);
    // Another tid from the right address.
    stranger.transport.send(echo((echoTid + 1) >>> 0), server.address);
    await w.clock.tickAsync(2 * RTT_MS);
    expect(server.table.get(bytesToHex(strangerId))).toBeUndefined();
    expect(counters(server).dropped).toMatchObject({ 'wrong-source': 1, 'unexpected-response': 1 });
    // The real echo still counts.
    stranger.transport.send(echo(echoTid), server.address);
    await w.clock.tickAsync(2 * RTT_MS);
    expect(server.table.get(bytesToHex(strangerId))).toMatchObject({ host: '10.0.0.2' });
  });

  it('a node echoes only answers to its own requests, to the address it asked: a forged answer that asks for one is dropped', async () => {
    const w = await memoryWorld(cleanups);
    const victim = await w.node('10.0.0.1');
    const attacker = await w.raw('10.0.0.3');
    for (let tid = 0; tid < 50; tid++) attacker.transport.send(encodeMessage(answer({ tid, echo: 1 })), victim.address);
    await w.clock.tickAsync(2 * RTT_MS);
    expect(counters(victim).echoesSent ?? 0).toBe(0);
    expect(counters(victim).dropped['unexpected-response']).toBe(50);
    expect(attacker.received).toHaveLength(0);
  });

  it('a network joins with echoes: the same tables, and far fewer PINGs', async () => {
    const runs: Record<string, { pings: number; echoes: number; tx: number; entries: number }> = {};
    for (const echoVerification of [true, false]) {
      const tn = await createTestnet({ size: 60, transport: 'memory', seed: 0xec0, latencyMs: { min: 5, max: 40 }, node: { echoVerification } });
      cleanups.push(() => tn.destroy());
      const sum = (f: (n: DhtNode) => number) => tn.nodes.reduce((a, n) => a + f(n), 0);
      runs[String(echoVerification)] = {
        pings: sum((n) => counters(n).rpc.PING.received),
        echoes: sum((n) => counters(n).echoesSent ?? 0),
        tx: sum((n) => counters(n).txPackets),
        entries: sum((n) => n.table.size),
      };
    }
    expect(runs.false.echoes).toBe(0);
    expect(runs.true.echoes).toBeGreaterThan(runs.false.pings / 2);
    expect(runs.true.pings).toBeLessThan(runs.false.pings / 2);
    expect(runs.true.tx).toBeLessThan(runs.false.tx);
    expect(Math.abs(runs.true.entries - runs.false.entries)).toBeLessThanOrEqual(runs.false.entries * 0.02);
  });
});
