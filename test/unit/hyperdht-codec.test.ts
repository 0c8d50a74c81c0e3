// Known answers for the HyperDHT codec: every message is encoded by us and by the reference
// (dht-rpc's io.js, hyperdht's messages.js and persistent.js, loaded in this test only) and the
// bytes compared; each side's bytes are decoded by the other. Ids, namespaces and signatures are
// checked against the reference's own functions.
import { describe, expect, it } from 'vitest';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { keyPairFromSecretKey } from '../../core/records/signing';
import { HYPERDHT_NS, blake2b256, hyperNodeId, idMatchesSource, immutableKey, publicKeyTarget } from '../../core/protocols/hyperdht/crypto';
import {
  HYPERDHT_COMMANDS,
  HYPERDHT_ERRORS,
  INTERNAL_COMMANDS,
  decodeHyperMessage,
  encodeHyperRequest,
  encodeHyperResponse,
  type HyperRequest,
  type HyperResponse,
} from '../../core/protocols/hyperdht/messages';
import {
  decodeAnnounce,
  decodeLookupReply,
  decodeMutablePut,
  decodeMutableValue,
  encodeAnnounce,
  encodeLookupReply,
  encodeMutablePut,
  encodeMutableValue,
  encodePeerRecord,
  signAnnounce,
  signMutable,
  verifyAnnounce,
  verifyMutable,
} from '../../core/protocols/hyperdht/records';
import { ReferenceIo, c, refCommands, refConstants, refCrypto, refMessages, refPeer, refPersistent } from './hyperdht-reference';

const rand = seededRandomBytes(13);
const hex = (b: Uint8Array | null | undefined): string | null => (b ? Buffer.from(b).toString('hex') : null);
const ME = { host: '127.0.0.1', port: 49737 };
const YOU = { host: '10.1.2.3', port: 40001 };

describe('hyperdht constants', () => {
  it('has dht-rpc and hyperdht command numbers and error codes', () => {
    for (const [name, n] of Object.entries(INTERNAL_COMMANDS)) expect(refCommands[name], name).toBe(n);
    for (const [name, n] of Object.entries(HYPERDHT_COMMANDS)) expect(refConstants.COMMANDS[name], name).toBe(n);
    expect(refConstants.ERROR.SEQ_REUSED).toBe(HYPERDHT_ERRORS.SEQ_REUSED);
    expect(refConstants.ERROR.SEQ_TOO_LOW).toBe(HYPERDHT_ERRORS.SEQ_TOO_LOW);
  });

  it('derives the signature namespaces as hyperdht does', () => {
    expect(hex(HYPERDHT_NS.ANNOUNCE)).toBe(hex(refConstants.NS.ANNOUNCE));
    expect(hex(HYPERDHT_NS.UNANNOUNCE)).toBe(hex(refConstants.NS.UNANNOUNCE));
    expect(hex(HYPERDHT_NS.MUTABLE_PUT)).toBe(hex(refConstants.NS.MUTABLE_PUT));
  });
});

describe('hyperdht ids', () => {
  it('is BLAKE2b-256 of ip:port, as dht-rpc computes it', () => {
    for (const a of [ME, YOU, { host: '255.255.255.255', port: 65535 }, { host: '0.0.0.0', port: 1 }]) {
      expect(hex(hyperNodeId(a)), `${a.host}:${a.port}`).toBe(hex(refPeer.id(a.host, a.port)));
    }
    const data = rand(100);
    expect(hex(blake2b256(data))).toBe(hex(refCrypto.hash(data)));
    expect(hex(immutableKey(data))).toBe(hex(refCrypto.hash(data)));
    expect(hex(publicKeyTarget(data.subarray(0, 32)))).toBe(hex(refCrypto.hash(data.subarray(0, 32))));
  });

  it('accepts an id only from the address it belongs to', () => {
    const id = hyperNodeId(YOU)!;
    expect(idMatchesSource(id, YOU)).toBe(true);
    expect(idMatchesSource(id, { ...YOU, port: YOU.port + 1 })).toBe(false);
    expect(idMatchesSource(id, { ...YOU, host: '10.1.2.4' })).toBe(false);
    expect(idMatchesSource(id.subarray(0, 31), YOU)).toBe(false);
    expect(idMatchesSource(id, { host: '::1', port: 1 })).toBe(false);
    expect(hyperNodeId({ host: 'example.org', port: 1 })).toBeNull();
  });
});

describe('dht-rpc framing, byte for byte against dht-rpc', () => {
  const target = rand(32);
  const token = rand(32);
  const requests: Array<Omit<HyperRequest, 'type'>> = [
    { tid: 0, to: YOU, id: null, token: null, internal: true, command: INTERNAL_COMMANDS.PING, target: null, value: null },
    { tid: 65535, to: YOU, id: null, token: null, internal: true, command: INTERNAL_COMMANDS.FIND_NODE, target, value: null },
    { tid: 513, to: YOU, id: null, token: null, internal: true, command: INTERNAL_COMMANDS.DOWN_HINT, target: null, value: new Uint8Array([127, 0, 0, 1, 0x41, 0x9c]) },
    { tid: 7, to: YOU, id: null, token, internal: false, command: HYPERDHT_COMMANDS.IMMUTABLE_PUT, target, value: rand(300) },
    { tid: 8, to: YOU, id: null, token: null, internal: false, command: HYPERDHT_COMMANDS.LOOKUP, target, value: null },
    { tid: 9, to: YOU, id: null, token: null, internal: false, command: 300, target: null, value: new Uint8Array(0) },
  ];

  for (const persistent of [false, true]) {
    for (const m of requests) {
      it(`request ${m.internal ? 'internal' : 'hyperdht'} ${m.command} tid ${m.tid} (${persistent ? 'persistent' : 'ephemeral'})`, () => {
        const ref = new ReferenceIo(persistent ? hyperNodeId(ME) : null);
        const theirs = ref.encodeRequest(m);
        const ours = encodeHyperRequest({ ...m, id: persistent ? hyperNodeId(ME) : null });
        expect(hex(ours)).toBe(hex(theirs));

        const decoded = decodeHyperMessage(theirs);
        expect(decoded.ok).toBe(true);
        if (!decoded.ok || decoded.message.type !== 'request') throw new Error('not a request');
        expect(decoded.message.tid).toBe(m.tid);
        expect(decoded.message.to).toEqual(m.to);
        expect(decoded.message.command).toBe(m.command);
        expect(decoded.message.internal).toBe(m.internal);
        expect(hex(decoded.message.target)).toBe(hex(m.target));
        expect(hex(decoded.message.value)).toBe(hex(m.value));
        expect(hex(decoded.message.token)).toBe(hex(m.token));

        // dht-rpc drops a request whose token is not one it issued, so the token case is checked above only.
        if (m.token === null) {
          const back = ref.decodeRequest(ours, ME);
          expect(back).not.toBeNull();
          expect(back!.command).toBe(m.command);
          expect(back!.internal).toBe(m.internal);
          expect(hex(back!.target)).toBe(hex(m.target));
          expect(hex(back!.value)).toBe(hex(m.value));
          // dht-rpc keeps the sender's id only when it matches the source address.
          expect(hex(back!.from.id)).toBe(persistent ? hex(hyperNodeId(ME)) : null);
        }
      });
    }
  }

  it('dht-rpc ignores an id that does not match the source, as we do', () => {
    const ref = new ReferenceIo(null);
    const forged = encodeHyperRequest({ tid: 1, to: YOU, id: hyperNodeId(YOU), token: null, internal: true, command: 0, target: null, value: null });
    expect(ref.decodeRequest(forged, ME)!.from.id).toBeNull();
    const decoded = decodeHyperMessage(forged);
    expect(decoded.ok && decoded.message.id !== null && idMatchesSource(decoded.message.id, ME)).toBe(false);
  });

  const closer = [
    { host: '127.0.0.1', port: 10001 },
    { host: '192.168.1.254', port: 65535 },
    { host: '8.8.8.8', port: 1 },
  ];
  const replies: Array<{ name: string; error: number; value: Uint8Array | null; token: boolean; closer: boolean; target: Uint8Array | null }> = [
    { name: 'ping', error: 0, value: null, token: false, closer: false, target: null },
    { name: 'find_node', error: 0, value: null, token: true, closer: true, target },
    { name: 'value', error: 0, value: rand(200), token: true, closer: true, target },
    { name: 'error', error: HYPERDHT_ERRORS.SEQ_TOO_LOW, value: null, token: false, closer: true, target },
    { name: 'unknown command', error: HYPERDHT_ERRORS.UNKNOWN_COMMAND, value: null, token: false, closer: false, target: null },
  ];

  for (const persistent of [false, true]) {
    for (const r of replies) {
      it(`response ${r.name} (${persistent ? 'persistent' : 'ephemeral'})`, () => {
        const myId = persistent ? hyperNodeId(ME) : null;
        const ref = new ReferenceIo(myId, closer);
        // A request from YOU reaches the reference node; it answers with its own encoder.
        const req = encodeHyperRequest({ tid: 4242, to: ME, id: null, token: null, internal: false, command: 3, target: r.target, value: null });
        const got = ref.decodeRequest(req, YOU)!;
        got.sendReply(r.error, r.value ? Buffer.from(r.value) : null, r.token, r.closer);
        const theirs = ref.sent.pop()!;
        const ours = encodeHyperResponse({
          tid: 4242,
          to: YOU,
          id: myId,
          token: r.token ? ref.io.token(YOU, 1) : null,
          closerNodes: r.closer && r.target ? closer : [],
          error: r.error,
          value: r.value,
        });
        expect(hex(ours)).toBe(hex(theirs));

        const decoded = decodeHyperMessage(theirs);
        if (!decoded.ok || decoded.message.type !== 'response') throw new Error('not a response');
        const res: HyperResponse = decoded.message;
        expect(res.tid).toBe(4242);
        expect(res.to).toEqual(YOU);
        expect(hex(res.id)).toBe(hex(myId));
        expect(res.closerNodes).toEqual(r.closer && r.target ? closer : []);
        expect(res.error).toBe(r.error);
        expect(hex(res.value)).toBe(hex(r.value));

        const back = new ReferenceIo(null).decodeResponse(ours, 4242, ME);
        expect(back).not.toBeNull();
        expect(back!.error).toBe(r.error);
        expect(hex(back!.value)).toBe(hex(r.value));
        expect(hex(back!.from.id)).toBe(persistent ? hex(hyperNodeId(ME)) : null);
        expect((back!.closerNodes ?? []).map((n) => ({ host: n.host, port: n.port }))).toEqual(r.closer && r.target ? closer : []);
      });
    }
  }
});

describe('hyperdht records, byte for byte against hyperdht', () => {
  const seed = rand(32);
  const kp = keyPairFromSecretKey(seed);
  const refKp = refCrypto.createKeyPair(Buffer.from(seed));

  it('derives the same ed25519 key pair from a seed', () => {
    expect(hex(kp.publicKey)).toBe(hex(refKp.publicKey));
  });

  it('peer records and lookup replies', () => {
    const peers = [
      { publicKey: rand(32), relayAddresses: [] },
      { publicKey: rand(32), relayAddresses: [YOU, ME] },
    ];
    for (const p of peers) expect(hex(encodePeerRecord(p))).toBe(hex(c.encode(refMessages.peer, p)));
    for (const bump of [0, 1, 1_700_000_000_000]) {
      const ours = encodeLookupReply({ peers, bump });
      const rawPeers = peers.map((p) => c.encode(refMessages.peer, p));
      expect(hex(ours)).toBe(hex(c.encode(refMessages.lookupRawReply, { peers: rawPeers, bump })));
      const decoded = decodeLookupReply(ours);
      if (typeof decoded === 'string') throw new Error(decoded);
      expect(decoded.bump).toBe(bump);
      expect(decoded.peers.map((p) => hex(p.publicKey))).toEqual(peers.map((p) => hex(p.publicKey)));
      expect(decoded.peers[1].relayAddresses).toEqual([YOU, ME]);
    }
    // A reply without the bump (older hyperdht) decodes with bump 0.
    const noBump = c.encode(refMessages.lookupRawReply, { peers: [], bump: 0 }).subarray(0, 1);
    expect(decodeLookupReply(noBump)).toEqual({ peers: [], bump: 0 });
  });

  it('announcements: encoding and signatures both ways', () => {
    const target = rand(32);
    const token = rand(32);
    const responderId = hyperNodeId(YOU)!;
    const peer = { publicKey: kp.publicKey, relayAddresses: [ME] };
    const signature = signAnnounce(target, token, responderId, peer, kp);
    const refSignature = refPersistent.signAnnounce(Buffer.from(target), Buffer.from(token), Buffer.from(responderId), { peer, refresh: null }, refKp);
    expect(hex(signature)).toBe(hex(refSignature));

    for (const ann of [
      { peer, refresh: null, signature, bump: 0 },
      { peer, refresh: rand(32), signature, bump: 12345 },
      { peer: null, refresh: rand(32), signature: null, bump: 0 },
    ]) {
      const ours = encodeAnnounce(ann);
      expect(hex(ours)).toBe(hex(c.encode(refMessages.announce, ann)));
      const decoded = decodeAnnounce(ours);
      if (typeof decoded === 'string') throw new Error(decoded);
      expect(hex(decoded.signature)).toBe(hex(ann.signature));
      expect(decoded.bump).toBe(ann.bump);
    }
    const ann = { peer, refresh: null, signature, bump: 0 };
    expect(verifyAnnounce(target, token, responderId, ann)).toBe(true);
    expect(verifyAnnounce(target, token, hyperNodeId(ME)!, ann)).toBe(false);
    expect(verifyAnnounce(target, rand(32), responderId, ann)).toBe(false);
    expect(verifyAnnounce(target, token, responderId, ann, HYPERDHT_NS.UNANNOUNCE)).toBe(false);
  });

  it('mutable values: encoding and signatures both ways', () => {
    for (const seq of [0, 1, 252, 253, 65536, 2 ** 32 + 5]) {
      const value = rand(seq % 50);
      const signature = signMutable(seq, value, kp);
      expect(hex(signature)).toBe(hex(refPersistent.signMutable(seq, Buffer.from(value), refKp)));
      expect(refPersistent.verifyMutable(signature, seq, value, kp.publicKey)).toBe(true);
      expect(verifyMutable(signature, seq, value, kp.publicKey)).toBe(true);
      expect(verifyMutable(signature, seq + 1, value, kp.publicKey)).toBe(false);

      const put = { publicKey: kp.publicKey, seq, value, signature };
      expect(hex(encodeMutablePut(put))).toBe(hex(c.encode(refMessages.mutablePutRequest, put)));
      expect(hex(encodeMutableValue(put))).toBe(hex(c.encode(refMessages.mutableGetResponse, put)));
      const d = decodeMutablePut(c.encode(refMessages.mutablePutRequest, put));
      if (typeof d === 'string') throw new Error(d);
      expect(d.seq).toBe(seq);
      expect(hex(d.value)).toBe(hex(value));
      const v = decodeMutableValue(c.encode(refMessages.mutableGetResponse, put));
      if (typeof v === 'string') throw new Error(v);
      expect(v.seq).toBe(seq);
    }
  });

  it('rejects truncated records with a reason', () => {
    const put = encodeMutablePut({ publicKey: kp.publicKey, seq: 3, value: rand(10), signature: rand(64) });
    expect(decodeMutablePut(put.subarray(0, put.length - 1))).toBe('truncated');
    expect(typeof decodeAnnounce(new Uint8Array([1]))).toBe('string');
    expect(bytesToHex(new Uint8Array([1]))).toBe('01');
  });
});
