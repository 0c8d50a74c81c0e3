// The HyperDHT seam codec's records (core/protocols/hyperdht/protocol.ts): the engine's FIND_VALUE,
// STORE, GET_PEERS and ANNOUNCE as hyperdht's commands, answers read by the command remembered per
// transaction id, 32-byte tokens, and hostile answers (fixed seed) that never throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandomBytes } from '../../core/id';
import { HYPERDHT_COMMANDS, decodeHyperMessage, encodeHyperRequest, encodeHyperResponse, type HyperRequest } from '../../core/protocols/hyperdht/messages';
import { MAX_REMEMBERED_COMMANDS, hyperdhtProtocol } from '../../core/protocols/hyperdht/protocol';
import { HYPERDHT_RECORDS, decodeSeq, encodeLookupReply, encodeMutablePut, encodeMutableValue, signMutable } from '../../core/protocols/hyperdht/records';
import { keyPairFromSecretKey } from '../../core/records/signing';
import { validateRecord, withPublicKey } from '../../core/records/validate';
import type { Message, RequestMessage, ResponseMessage } from '../../core/wire/types';

const rand = seededRandomBytes(77);
const PEER = { host: '127.0.0.1', port: 40001 };
const ME = { host: '127.0.0.1', port: 40002 };
const id = rand(32);

function sentRequest(d: Uint8Array): HyperRequest {
  const m = decodeHyperMessage(d);
  if (!m.ok || m.message.type !== 'request') throw new Error('not a request');
  return m.message;
}

function response(codec: ReturnType<typeof hyperdhtProtocol>['codec'], tid: number, value: Uint8Array | null, token: Uint8Array | null = null): ResponseMessage {
  const r = codec.decode(encodeHyperResponse({ tid, to: ME, id: null, token, closerNodes: [], error: 0, value }), PEER);
  if (!r.ok || r.message.kind !== 'response') throw new Error('not a response');
  return r.message;
}

describe('HyperDHT seam codec: records', () => {
  it('a mutable FIND_VALUE is MUTABLE_GET asking for the next seq; its answer is read as a mutable record without a public key', () => {
    const { codec } = hyperdhtProtocol();
    const kp = keyPairFromSecretKey(rand(32));
    const key = HYPERDHT_RECORDS.mutableKey(kp.publicKey, new Uint8Array(0));
    const req = sentRequest(codec.encode({ kind: 'request', tid: 9, id, method: 'FIND_VALUE', key, seq: 4, mutable: true }, PEER));
    expect([req.internal, req.command, decodeSeq(req.value!)]).toEqual([false, HYPERDHT_COMMANDS.MUTABLE_GET, 5]);
    const value = new TextEncoder().encode('v');
    const sig = signMutable(6, value, kp);
    const res = response(codec, 9, encodeMutableValue({ seq: 6, value, signature: sig }), rand(32));
    expect(res.record).toMatchObject({ type: 'mutable', seq: 6, publicKey: new Uint8Array(0) });
    expect(res.token).toHaveLength(32);
    // The getter supplies the key; then it checks under hyperdht's namespace.
    expect(validateRecord(key, withPublicKey(res.record!, kp.publicKey), HYPERDHT_RECORDS)).toBeNull();
    expect(validateRecord(key, res.record!, HYPERDHT_RECORDS)).not.toBeNull();
    // The command is forgotten once answered: a second answer to the same tid carries no record.
    expect(response(codec, 9, encodeMutableValue({ seq: 6, value, signature: sig })).record).toBeUndefined();
  });

  it('IMMUTABLE_GET, LOOKUP and the puts, and their answers', () => {
    const { codec } = hyperdhtProtocol();
    const key = rand(32);
    expect(sentRequest(codec.encode({ kind: 'request', tid: 1, id, method: 'FIND_VALUE', key }, PEER)).command).toBe(HYPERDHT_COMMANDS.IMMUTABLE_GET);
    expect(response(codec, 1, new Uint8Array([1, 2, 3])).record).toEqual({ type: 'immutable', value: new Uint8Array([1, 2, 3]) });
    expect(sentRequest(codec.encode({ kind: 'request', tid: 2, id, method: 'GET_PEERS', topic: key }, PEER)).command).toBe(HYPERDHT_COMMANDS.LOOKUP);
    const pk = rand(32);
    const peers = response(codec, 2, encodeLookupReply({ peers: [{ publicKey: pk, relayAddresses: [{ host: '10.0.0.1', port: 5 }] }], bump: 0 })).peers;
    expect(peers).toEqual([{ host: '10.0.0.1', port: 5, publicKey: pk, relayAddresses: [{ host: '10.0.0.1', port: 5 }] }]);
    const token = rand(32);
    const put = sentRequest(codec.encode({ kind: 'request', tid: 3, id, method: 'STORE', key, token, record: { type: 'immutable', value: new Uint8Array([7]) } }, PEER));
    expect([put.command, Buffer.from(put.token!).equals(Buffer.from(token))]).toEqual([HYPERDHT_COMMANDS.IMMUTABLE_PUT, true]);
    expect(() => codec.encode({ kind: 'request', tid: 4, id, method: 'STORE', key, token, cas: 1, record: { type: 'immutable', value: new Uint8Array([7]) } }, PEER)).toThrow(/compare-and-swap/);
    expect(() => codec.encode({ kind: 'request', tid: 5, id, method: 'ANNOUNCE', topic: key, port: 1, token }, PEER)).toThrow(/key pair/);
  });

  it("a bare dht-rpc node's UNKNOWN_COMMAND to a read still names closer nodes: a non-member answer to walk on from", () => {
    const { codec } = hyperdhtProtocol();
    codec.encode({ kind: 'request', tid: 12, id, method: 'FIND_VALUE', key: id }, PEER);
    const closer = [{ host: '127.0.0.1', port: 40010 }];
    const r = codec.decode(encodeHyperResponse({ tid: 12, to: ME, id: null, token: null, closerNodes: closer, error: 1, value: null }), PEER);
    expect(r.ok && r.message.kind === 'response' && [r.message.readOnly, r.message.nodes?.map((n) => n.port), r.message.token]).toEqual([true, [40010], undefined]);
    // An error to a write stays an error.
    codec.encode({ kind: 'request', tid: 13, id, method: 'STORE', key: id, token: rand(32), record: { type: 'immutable', value: new Uint8Array([1]) } }, PEER);
    const w = codec.decode(encodeHyperResponse({ tid: 13, to: ME, id: null, token: null, closerNodes: closer, error: 1, value: null }), PEER);
    expect(w.ok && w.message.kind).toBe('error');
  });

  it('our 16-byte tokens travel as 32 and come back as 16; a foreign 32-byte token stays 32', () => {
    const { codec } = hyperdhtProtocol();
    const ours = rand(16);
    const answer: Message = { kind: 'response', tid: 3, id, token: ours, observed: PEER };
    const wire = decodeHyperMessage(codec.encode(answer, PEER));
    expect(wire.ok && wire.message.token).toEqual(new Uint8Array([...ours, ...new Uint8Array(16)]));
    const put = (token: Uint8Array): RequestMessage => {
      const value = new Uint8Array([1]);
      const r = codec.decode(encodeHyperRequest({ tid: 8, to: ME, id: null, token, internal: false, command: HYPERDHT_COMMANDS.IMMUTABLE_PUT, target: HYPERDHT_RECORDS.immutableKey(value), value }), PEER);
      if (!r.ok || r.message.kind !== 'request') throw new Error('not a request');
      return r.message;
    };
    expect((put(wire.ok ? wire.message.token! : new Uint8Array(0)) as Extract<RequestMessage, { method: 'STORE' }>).token).toEqual(ours);
    expect((put(rand(32)) as Extract<RequestMessage, { method: 'STORE' }>).token).toHaveLength(32);
    // A value that does not hash to its target is dropped unanswered, as hyperdht does.
    const wrong = codec.decode(encodeHyperRequest({ tid: 9, to: ME, id: null, token: rand(32), internal: false, command: HYPERDHT_COMMANDS.IMMUTABLE_PUT, target: rand(32), value: new Uint8Array([1]) }), PEER);
    expect(wrong).toMatchObject({ ok: false, reason: 'bad-args' });
    expect('reply' in wrong).toBe(false);
  });

  it('an incoming MUTABLE_PUT is a STORE with the public key; a malformed one is dropped in silence', () => {
    const { codec } = hyperdhtProtocol();
    const kp = keyPairFromSecretKey(rand(32));
    const value = new Uint8Array([4, 2]);
    const body = encodeMutablePut({ publicKey: kp.publicKey, seq: 2, value, signature: signMutable(2, value, kp) });
    const target = HYPERDHT_RECORDS.mutableKey(kp.publicKey, new Uint8Array(0));
    const req = (v: Uint8Array) => codec.decode(encodeHyperRequest({ tid: 1, to: ME, id: null, token: rand(32), internal: false, command: HYPERDHT_COMMANDS.MUTABLE_PUT, target, value: v }), PEER);
    const ok = req(body);
    expect(ok.ok && ok.message.kind === 'request' && ok.message.method === 'STORE' && validateRecord(target, ok.message.record, HYPERDHT_RECORDS)).toBeNull();
    const bad = req(body.subarray(0, 40));
    expect(bad).toMatchObject({ ok: false, reason: 'bad-args' });
    expect('reply' in bad).toBe(false);
  });

  it('hostile answers to every remembered command never throw, and the memory stays bounded', () => {
    const { codec } = hyperdhtProtocol();
    const commands: Array<Extract<Message, { kind: 'request' }>> = [
      { kind: 'request', tid: 0, id, method: 'FIND_VALUE', key: id },
      { kind: 'request', tid: 0, id, method: 'FIND_VALUE', key: id, mutable: true },
      { kind: 'request', tid: 0, id, method: 'GET_PEERS', topic: id },
    ];
    fc.assert(
      fc.property(fc.nat({ max: 2 }), fc.integer({ min: 0, max: 0xffff }), fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }), (which, tid, value) => {
        codec.encode({ ...commands[which], tid }, PEER);
        const r = codec.decode(encodeHyperResponse({ tid, to: ME, id: null, token: null, closerNodes: [], error: 0, value }), PEER);
        expect(r.ok).toBe(true);
      }),
      { seed: 1313, numRuns: 400 },
    );
    for (let tid = 0; tid < MAX_REMEMBERED_COMMANDS + 50; tid++) codec.encode({ ...commands[0], tid }, PEER);
    // The oldest were forgotten: an answer to tid 0 is read without a command (no record).
    expect(response(codec, 0, new Uint8Array([1])).record).toBeUndefined();
    expect(response(codec, MAX_REMEMBERED_COMMANDS + 49, new Uint8Array([1])).record).toBeDefined();
  });
});
