import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDhtError } from '../../core/errors';
import { bytesToHex, hexToBytes, seededRandomBytes, sha256 } from '../../core/id';
import {
  encodeSignable,
  generateKeyPair,
  immutableKey,
  keyPairFromSecretKey,
  loadKeyPair,
  mutableKey,
  saveKeyPair,
  sign,
  signMutable,
  verify,
  verifyMutable,
} from '../../core/records/signing';
import { validateRecord } from '../../core/records/validate';
import { withTempDir } from '../temp-dir';

const enc = (s: string) => new TextEncoder().encode(s);
const seeded = (seed: number) => keyPairFromSecretKey(seededRandomBytes(seed)(32));

describe('ed25519 signing', () => {
  it('matches RFC 8032 test vector 1 (raw keys wrapped in DER prefixes correctly)', () => {
    const kp = keyPairFromSecretKey(hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'));
    expect(bytesToHex(kp.publicKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const sig = sign(new Uint8Array(0), kp.secretKey);
    expect(bytesToHex(sig)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('generates raw 32-byte keys whose public half derives from the secret half', () => {
    const kp = generateKeyPair();
    expect(kp.publicKey.length).toBe(32);
    expect(kp.secretKey.length).toBe(32);
    expect(bytesToHex(keyPairFromSecretKey(kp.secretKey).publicKey)).toBe(bytesToHex(kp.publicKey));
  });

  it('round-trips a signature and refuses a forged one or the wrong key', () => {
    const kp = seeded(1);
    const other = seeded(2);
    const msg = enc('hello');
    const sig = sign(msg, kp.secretKey);
    expect(sig.length).toBe(64);
    expect(verify(msg, sig, kp.publicKey)).toBe(true);
    const forged = new Uint8Array(sig);
    forged[10] ^= 0x01;
    expect(verify(msg, forged, kp.publicKey)).toBe(false);
    expect(verify(enc('hellO'), sig, kp.publicKey)).toBe(false);
    expect(verify(msg, sig, other.publicKey)).toBe(false);
    // malformed inputs are just invalid, never exceptions
    expect(verify(msg, sig.subarray(0, 63), kp.publicKey)).toBe(false);
    expect(verify(msg, sig, kp.publicKey.subarray(0, 31))).toBe(false);
    expect(verify(msg, sig, new Uint8Array(32).fill(0xff))).toBe(false);
  });
});

describe('encodeSignable', () => {
  it('is the documented layout: domain | u8 salt len | salt | u64 BE seq | u16 BE value len | value', () => {
    const bytes = encodeSignable(enc('s'), 258, enc('vv'));
    const domain = Buffer.from('kadscope/v1/mutable');
    expect(Buffer.from(bytes).toString('hex')).toBe(
      domain.toString('hex') + '01' + '73' + '0000000000000102' + '0002' + '7676',
    );
  });

  it('is injective across field boundaries', () => {
    const a = encodeSignable(enc('ab'), 1, enc('c'));
    const b = encodeSignable(enc('a'), 1, enc('bc'));
    expect(bytesToHex(a)).not.toBe(bytesToHex(b));
  });

  it('refuses a seq that is not a non-negative safe integer', () => {
    for (const seq of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) {
      expect(() => encodeSignable(new Uint8Array(0), seq, new Uint8Array(0))).toThrow(/seq must be/);
    }
    expect(encodeSignable(new Uint8Array(0), Number.MAX_SAFE_INTEGER, new Uint8Array(0)).length).toBe(19 + 1 + 8 + 2);
  });
});

describe('record keys and signMutable', () => {
  it('derives keys as SHA-256(pk || salt) and SHA-256(value)', () => {
    const kp = seeded(3);
    const salt = enc('salt');
    expect(bytesToHex(mutableKey(kp.publicKey, salt))).toBe(bytesToHex(sha256(new Uint8Array([...kp.publicKey, ...salt]))));
    expect(bytesToHex(mutableKey(kp.publicKey))).toBe(bytesToHex(sha256(kp.publicKey)));
    expect(bytesToHex(immutableKey(enc('v')))).toBe(bytesToHex(sha256(enc('v'))));
  });

  it('signs a record that validates under its key', () => {
    const kp = seeded(4);
    const rec = signMutable({ keyPair: kp, salt: enc('x'), seq: 7, value: enc('value') });
    expect(rec.type).toBe('mutable');
    expect(verifyMutable(rec)).toBe(true);
    expect(validateRecord(mutableKey(kp.publicKey, enc('x')), rec)).toBeNull();
  });

  it('refuses an oversize value or salt with the storer codes', () => {
    const kp = seeded(5);
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(isDhtError(err(() => signMutable({ keyPair: kp, seq: 1, value: new Uint8Array(1001) })), 'VALUE_TOO_LARGE')).toBe(true);
    expect(isDhtError(err(() => signMutable({ keyPair: kp, salt: new Uint8Array(65), seq: 1, value: enc('v') })), 'SALT_TOO_LARGE')).toBe(true);
    expect(() => signMutable({ keyPair: kp, seq: 1, value: new Uint8Array(1000) })).not.toThrow();
  });
});

describe('key files', () => {
  let dir: string;
  withTempDir('kadscope-keys-', (d) => (dir = d));

  it('saves and loads a key pair (owner-only, atomic, no temp file left)', async () => {
    const kp = seeded(6);
    const p = join(dir, 'me.key.json');
    await saveKeyPair(p, kp);
    expect((await stat(p)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['me.key.json']);
    const json = JSON.parse(await readFile(p, 'utf8'));
    expect(json).toEqual({ version: 1, type: 'ed25519', publicKey: bytesToHex(kp.publicKey), secretKey: bytesToHex(kp.secretKey) });
    const back = await loadKeyPair(p);
    expect(bytesToHex(back.publicKey)).toBe(bytesToHex(kp.publicKey));
    expect(bytesToHex(back.secretKey)).toBe(bytesToHex(kp.secretKey));
  });

  it('reports a bad key file clearly and leaves it in place', async () => {
    const p = join(dir, 'bad.json');
    const cases: [string, RegExp][] = [
      ['{not json', /not valid JSON/],
      [JSON.stringify({ version: 2, type: 'ed25519', publicKey: 'aa', secretKey: 'bb' }), /version/],
      [JSON.stringify({ version: 1, type: 'ed25519', publicKey: bytesToHex(seeded(7).publicKey), secretKey: bytesToHex(seeded(8).secretKey) }), /does not belong/],
    ];
    for (const [text, msg] of cases) {
      await writeFile(p, text);
      const e = await loadKeyPair(p).catch((x: unknown) => x);
      expect(isDhtError(e, 'CORRUPT_FILE')).toBe(true);
      expect((e as Error).message).toContain(p);
      expect((e as Error).message).toMatch(msg);
      expect(await readFile(p, 'utf8')).toBe(text);
    }
    const missing = await loadKeyPair(join(dir, 'nope.json')).catch((x: unknown) => x);
    expect(isDhtError(missing, 'INVALID_ARGUMENT')).toBe(true);
    expect((missing as Error).message).toMatch(/does not exist/);
  });
});
