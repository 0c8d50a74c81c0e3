// BEP 44 through DhtNode on a memory network of kadscope nodes speaking Mainline (FakeClock): the
// record model's keys (SHA-1 of the bencoded value, SHA-1 of public key || salt), the signed
// fragment, seq and cas rules, tokens from get, and what a user's bytes become on the wire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, idFromHex } from '../../core/id';
import { bep42Status } from '../../core/protocols/mainline/bep42';
import { describeClientVersion } from '../../core/protocols/mainline/protocol';
import { bencode } from '../../core/protocols/mainline/bencode';
import { bep44Signable, immutableTarget, mutableTarget, verifyMutableItem } from '../../core/protocols/mainline/bep44';
import { MAINLINE_RECORDS } from '../../core/protocols/mainline/records';
import { keyPairFromSecretKey, sign } from '../../core/records/signing';
import { validateRecord } from '../../core/records/validate';
import { createTestnet, type Testnet } from '../../core/testnet';
import type { DhtError } from '../../core/errors';

const keyPair = keyPairFromSecretKey(new Uint8Array(32).fill(7));
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

let net: Testnet;
beforeAll(async () => {
  net = await createTestnet({ size: 30, transport: 'memory', seed: 44, node: { protocol: 'mainline' } });
});
afterAll(async () => {
  await net?.destroy();
});

describe('the BEP 44 record model', () => {
  it('keys an immutable value by SHA-1 of its bencoding, a mutable one by SHA-1(k || salt)', () => {
    const v = MAINLINE_RECORDS.encodeValue(new TextEncoder().encode('hello'));
    expect(text(v)).toBe('5:hello');
    expect(bytesToHex(MAINLINE_RECORDS.immutableKey(v))).toBe(bytesToHex(immutableTarget(v)));
    expect(text(MAINLINE_RECORDS.decodeValue(v))).toBe('hello');
    // A value some other client stored as a list comes back as its bencoded bytes.
    const list = bencode([1, 'a']);
    expect(MAINLINE_RECORDS.decodeValue(list)).toEqual(list);
    const salt = new TextEncoder().encode('foobar');
    expect(MAINLINE_RECORDS.mutableKey(keyPair.publicKey, salt)).toEqual(mutableTarget(keyPair.publicKey, salt));
  });

  it("signs BEP 44's fragment: a record signed here verifies as a BEP 44 item", () => {
    const v = MAINLINE_RECORDS.encodeValue(new TextEncoder().encode('Hello World!'));
    const salt = new TextEncoder().encode('foobar');
    expect(text(MAINLINE_RECORDS.signable(salt, 1, v))).toBe('4:salt6:foobar3:seqi1e1:v12:Hello World!');
    const sig = sign(bep44Signable(salt, 1, v), keyPair.secretKey);
    expect(verifyMutableItem({ type: 'mutable', v, k: keyPair.publicKey, salt, seq: 1, sig })).toBe(true);
    const record = { type: 'mutable' as const, value: v, publicKey: keyPair.publicKey, salt, seq: 1, sig };
    expect(validateRecord(mutableTarget(keyPair.publicKey, salt), record, MAINLINE_RECORDS)).toBeNull();
    expect(validateRecord(mutableTarget(keyPair.publicKey, salt), { ...record, seq: 2 }, MAINLINE_RECORDS)?.code).toBe('BAD_SIGNATURE');
    expect(validateRecord(immutableTarget(v), { type: 'immutable', value: new TextEncoder().encode('5:hel') }, MAINLINE_RECORDS)?.code).toBe('PROTOCOL');
  });
});

describe('node.records on a Mainline network (memory transport)', () => {
  it('put stores at SHA-1 of the bencoded value; get on another node returns the bytes', async () => {
    const [a, b] = [net.nodes[1], net.nodes[17]];
    const put = await net.run(a.records.put('hello mainline'));
    expect(put.key).toBe(bytesToHex(immutableTarget(bencode(new TextEncoder().encode('hello mainline')))));
    expect(put.storedAt.length).toBeGreaterThan(0);
    const got = await net.run(b.records.get(put.key));
    expect(text(got.value)).toBe('hello mainline');
    expect(got.from).toMatch(/^[0-9a-f]{40}$/);
  });

  it('a 64-hex key is refused with the protocol\'s length', async () => {
    await expect(net.nodes[2].records.get('ab'.repeat(32))).rejects.toThrow(/40 hex characters \(a SHA-1 key\)/);
  });

  it('mutable with salt: a higher seq replaces, the same seq with another value and a lower seq are refused, cas is checked', async () => {
    const [a, b] = [net.nodes[3], net.nodes[22]];
    const salt = 'profile';
    const one = await net.run(a.records.putMutable({ keyPair, salt, seq: 1, value: 'v1' }));
    expect(one.key).toBe(bytesToHex(mutableTarget(keyPair.publicKey, new TextEncoder().encode(salt))));
    // BEP 44 get answers carry no salt: without it the item cannot be checked.
    await expect(net.run(b.records.get(one.key))).rejects.toThrow(/needs its salt/);
    const got = await net.run(b.records.get(one.key, { salt }));
    expect(text(got.value)).toBe('v1');
    expect(got.seq).toBe(1);

    await net.run(a.records.putMutable({ keyPair, salt, seq: 2, value: 'v2' }));
    expect(text((await net.run(b.records.get(one.key, { salt }))).value)).toBe('v2');

    const reuse = await net.run(b.records.putMutable({ keyPair, salt, seq: 2, value: 'other' })).catch((e: DhtError) => e);
    expect((reuse as DhtError).code).toBe('SEQ_REUSED');
    const low = await net.run(b.records.putMutable({ keyPair, salt, seq: 1, value: 'v1' })).catch((e: DhtError) => e);
    expect((low as DhtError).code).toBe('SEQ_TOO_LOW');
    const cas = await net.run(b.records.putMutable({ keyPair, salt, seq: 3, value: 'v3', cas: 1 })).catch((e: DhtError) => e);
    expect((cas as DhtError).code).toBe('CAS_MISMATCH');
    await net.run(b.records.putMutable({ keyPair, salt, seq: 3, value: 'v3', cas: 2 }));
    expect(text((await net.run(net.nodes[9].records.get(one.key, { salt }))).value)).toBe('v3');
  });

  it("peers carry their client version (Mainline's v) and their BEP 42 verdict", () => {
    const peers = net.nodes[1].snapshot().peers;
    expect(peers.length).toBeGreaterThan(0);
    for (const p of peers) {
      expect(p.client).toBe('KS 0.1');
      expect(p.idCompliance).toBe(bep42Status(idFromHex(p.id, 20), p.host));
    }
    expect(describeClientVersion(new Uint8Array([0x4c, 0x54, 1, 2]))).toBe('LT 1.2');
    expect(describeClientVersion(new Uint8Array([0xff, 0]))).toBe('ff00');
  });

  it('a value over 1,000 bytes as bencoded is refused before any network trip', async () => {
    await expect(net.nodes[4].records.put('x'.repeat(997))).rejects.toMatchObject({ code: 'VALUE_TOO_LARGE' });
    await expect(net.run(net.nodes[4].records.put('x'.repeat(990)))).resolves.toMatchObject({ key: expect.stringMatching(/^[0-9a-f]{40}$/) });
  });
});
