import { describe, expect, it } from 'vitest';
import type { DhtErrorCode } from '../../core/errors';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { immutableKey, keyPairFromSecretKey, mutableKey, signMutable, type KeyPair } from '../../core/records/signing';
import { RecordStore, toRecordInfo, type PutResult, type StoredRecord } from '../../core/records/store';
import type { WireRecord } from '../../core/wire/types';

const enc = (s: string) => new TextEncoder().encode(s);
const T0 = 1_700_000_000_000;
const TTL = 2 * 3_600_000;
const A = { host: '10.0.0.1', port: 4000 };
const B = { host: '10.0.0.2', port: 4000 };
const kp: KeyPair = keyPairFromSecretKey(seededRandomBytes(31)(32));
const salt = enc('s');
const mkey = mutableKey(kp.publicKey, salt);
const mut = (seq: number, value = `v${seq}`) => signMutable({ keyPair: kp, salt, seq, value: enc(value) });
const imm = (text: string): [Uint8Array, WireRecord] => [immutableKey(enc(text)), { type: 'immutable', value: enc(text) }];

/** Everything observable about the store, for "a refused put changes nothing". */
function dump(store: RecordStore, now: number) {
  const rec = (s: StoredRecord) => ({
    ...s,
    record: Object.fromEntries(Object.entries(s.record).map(([k, v]) => [k, v instanceof Uint8Array ? bytesToHex(v) : v])),
  });
  return JSON.stringify({ entries: store.entries().map(rec), live: store.entries(now).length, stats: store.stats(), a: store.countFor(A), b: store.countFor(B) });
}

function expectRefused(r: PutResult, code: DhtErrorCode, message?: RegExp) {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe(code);
  if (message) expect(r.error.message).toMatch(message);
}

describe('RecordStore: immutable records', () => {
  it('stores, gets, refreshes (extending expiry, keeping storedAt) and copies the bytes', () => {
    const store = new RecordStore();
    const [key, rec] = imm('hello');
    const r1 = store.put(key, rec, { from: A, now: T0 });
    expect(r1).toMatchObject({ ok: true, outcome: 'created', replaced: false });
    (rec.value as Uint8Array)[0] = 0; // the caller reusing its buffer must not change what we hold
    expect(new TextDecoder().decode(store.get(key, T0)!.record.value)).toBe('hello');
    expect(store.get(bytesToHex(key), T0)?.publisher).toEqual(A);

    const r2 = store.put(key, imm('hello')[1], { from: B, now: T0 + 1000 });
    expect(r2).toMatchObject({ ok: true, outcome: 'refreshed', replaced: false });
    const s = store.get(key, T0 + 1000)!;
    expect(s.storedAt).toBe(T0);
    expect(s.expiresAt).toBe(T0 + 1000 + TTL);
    expect(s.publisher).toEqual(A); // the first storer keeps the slot
    expect(store.size).toBe(1);
  });

  it('refuses a value that does not hash to the key or is too large, changing nothing', () => {
    const store = new RecordStore();
    const [key, rec] = imm('a');
    store.put(key, rec, { from: A, now: T0 });
    const before = dump(store, T0);
    expectRefused(store.put(key, { type: 'immutable', value: enc('b') }, { from: A, now: T0 + 1 }), 'HASH_MISMATCH');
    const big = new Uint8Array(1001);
    expectRefused(store.put(immutableKey(big), { type: 'immutable', value: big }, { from: A, now: T0 + 1 }), 'VALUE_TOO_LARGE');
    expect(dump(store, T0)).toBe(before);
  });
});

describe('RecordStore: mutable records', () => {
  it('keeps the highest seq and refuses lower or reused ones with the record unchanged', () => {
    const store = new RecordStore();
    expect(store.put(mkey, mut(1), { from: A, now: T0 })).toMatchObject({ ok: true, outcome: 'created' });
    expect(store.put(mkey, mut(2), { from: B, now: T0 + 10 })).toMatchObject({ ok: true, outcome: 'replaced', replaced: true });
    const s2 = store.get(mkey, T0 + 10)!;
    expect(s2.record.type === 'mutable' && s2.record.seq).toBe(2);
    expect(s2.storedAt).toBe(T0 + 10);
    const before = dump(store, T0 + 20);

    expectRefused(store.put(mkey, mut(1), { from: A, now: T0 + 20 }), 'SEQ_TOO_LOW', /seq 1 is lower than the stored seq 2/);
    expectRefused(store.put(mkey, mut(2, 'other'), { from: A, now: T0 + 20 }), 'SEQ_REUSED', /seq 2/);
    const forged = { ...mut(3), value: enc('not what was signed') };
    expectRefused(store.put(mkey, forged, { from: A, now: T0 + 20 }), 'BAD_SIGNATURE');
    expectRefused(store.put(mkey, { ...mut(3), salt: new Uint8Array(65) }, { from: A, now: T0 + 20 }), 'SALT_TOO_LARGE');
    expectRefused(store.put(mkey, { ...mut(3), value: new Uint8Array(1001) }, { from: A, now: T0 + 20 }), 'VALUE_TOO_LARGE');
    expectRefused(store.put(mutableKey(kp.publicKey, enc('t')), mut(3), { from: A, now: T0 + 20 }), 'HASH_MISMATCH');
    expect(dump(store, T0 + 20)).toBe(before);

    // the same record again is an idempotent refresh
    const again = store.put(mkey, mut(2), { from: A, now: T0 + 30 });
    expect(again).toMatchObject({ ok: true, outcome: 'refreshed', replaced: false });
    expect(store.get(mkey, T0 + 30)!.expiresAt).toBe(T0 + 30 + TTL);
    expect(store.get(mkey, T0 + 30)!.storedAt).toBe(T0 + 10);
  });

  it('compare-and-swap: must equal the stored seq; a cas on a missing key fails', () => {
    const store = new RecordStore();
    expectRefused(store.put(mkey, mut(1), { from: A, now: T0, cas: 0 }), 'CAS_MISMATCH', /no record is stored/);
    expect(store.size).toBe(0);
    store.put(mkey, mut(1), { from: A, now: T0 });
    const before = dump(store, T0);
    expectRefused(store.put(mkey, mut(3), { from: A, now: T0 + 1, cas: 2 }), 'CAS_MISMATCH', /expected seq 2, but the stored seq is 1/);
    expect(dump(store, T0)).toBe(before);
    expect(store.put(mkey, mut(3), { from: A, now: T0 + 1, cas: 1 })).toMatchObject({ ok: true, outcome: 'replaced' });
    // cas means nothing for an immutable record and is ignored
    const [key, rec] = imm('x');
    expect(store.put(key, rec, { from: A, now: T0, cas: 5 }).ok).toBe(true);
  });

  it('marks our own records local, and a remote refresh keeps them local', () => {
    const store = new RecordStore();
    store.put(mkey, mut(1), { local: true, now: T0 });
    expect(store.get(mkey, T0)).toMatchObject({ local: true });
    expect(store.get(mkey, T0)!.publisher).toBeUndefined();
    store.put(mkey, mut(2), { from: A, now: T0 + 1 });
    expect(store.get(mkey, T0 + 1)).toMatchObject({ local: true });
    expect(store.countFor(A)).toBe(0);
  });
});

describe('RecordStore: expiry', () => {
  it('treats expired records as absent and expire() removes and returns them', () => {
    const store = new RecordStore({ recordTtlMs: 1000 });
    const [k1, r1] = imm('one');
    const [k2, r2] = imm('two');
    store.put(k1, r1, { from: A, now: T0 });
    store.put(k2, r2, { from: A, now: T0 + 500 });
    expect(store.get(k1, T0 + 999)).toBeDefined();
    expect(store.get(k1, T0 + 1000)).toBeUndefined();
    expect(store.entries(T0 + 1000).map((s) => s.key)).toEqual([bytesToHex(k2)]);
    expect(store.size).toBe(2); // not yet removed
    expect(store.expire(T0 + 1000).map((s) => s.key)).toEqual([bytesToHex(k1)]);
    expect(store.size).toBe(1);
    expect(store.countFor(A)).toBe(1);
    expect(store.expire(T0 + 1000)).toEqual([]);
    expect(store.expire(T0 + 1500).map((s) => s.key)).toEqual([bytesToHex(k2)]);
    expect(store.countFor(A)).toBe(0);
  });

  it('a put on an expired key starts over (a lower seq is fine then) and reports the old one as expired', () => {
    const store = new RecordStore({ recordTtlMs: 1000 });
    store.put(mkey, mut(5), { from: A, now: T0 });
    const r = store.put(mkey, mut(1), { from: B, now: T0 + 1000 });
    expect(r).toMatchObject({ ok: true, outcome: 'created' });
    expect(store.countFor(A)).toBe(0);
    expect(store.countFor(B)).toBe(1);
    const gone = store.expire(T0 + 1000);
    expect(gone).toHaveLength(1);
    expect(gone[0].record.type === 'mutable' && gone[0].record.seq).toBe(5);
  });
});

describe('RecordStore: caps', () => {
  it('gives each publisher address a share of the cap; updates and local puts are not limited by it', () => {
    const store = new RecordStore({ maxRecords: 200, maxPerAddressFraction: 0.1 });
    expect(store.maxPerAddress).toBe(20);
    for (let i = 0; i < 20; i++) {
      const [k, r] = imm(`a${i}`);
      expect(store.put(k, r, { from: A, now: T0 }).ok).toBe(true);
    }
    const before = dump(store, T0);
    const [k, r] = imm('a-too-many');
    expectRefused(store.put(k, r, { from: A, now: T0 }), 'STORE_FULL', /10\.0\.0\.1:4000 already holds 20 records here, its share/);
    expect(dump(store, T0)).toBe(before);
    expect(store.put(k, r, { from: B, now: T0 }).ok).toBe(true);
    expect(store.put(imm('mine')[0], imm('mine')[1], { local: true, from: A, now: T0 }).ok).toBe(true);
    // A refreshing one of its own records is fine
    expect(store.put(imm('a3')[0], imm('a3')[1], { from: A, now: T0 + 5 })).toMatchObject({ ok: true, outcome: 'refreshed' });
  });

  it('keeps a floor on the per-address share for small stores', () => {
    expect(new RecordStore({ maxRecords: 50 }).maxPerAddress).toBe(16);
    expect(new RecordStore({ maxRecords: 10 }).maxPerAddress).toBe(10);
  });

  it('refuses a new key when full, allows updates of held keys, and makes room as records expire', () => {
    const store = new RecordStore({ maxRecords: 20, maxPerAddressFraction: 1, recordTtlMs: 1000 });
    store.put(mkey, mut(1), { from: B, now: T0 + 100 });
    for (let i = 0; i < 19; i++) {
      const [k, r] = imm(`v${i}`);
      expect(store.put(k, r, { from: A, now: T0 }).ok).toBe(true);
    }
    const before = dump(store, T0 + 200);
    const [k, r] = imm('one-more');
    expectRefused(store.put(k, r, { from: B, now: T0 + 200 }), 'STORE_FULL', /the store is full \(20 records\)/);
    expectRefused(store.put(k, r, { local: true, now: T0 + 200 }), 'STORE_FULL');
    expect(dump(store, T0 + 200)).toBe(before);
    expect(store.put(mkey, mut(2), { from: B, now: T0 + 200 })).toMatchObject({ ok: true, outcome: 'replaced' });
    // at T0 + 1000 the 19 immutable records have expired: room again, and they are reported once
    expect(store.put(k, r, { from: B, now: T0 + 1000 }).ok).toBe(true);
    expect(store.size).toBe(2);
    expect(store.expire(T0 + 1000)).toHaveLength(19);
    expect(store.countFor(A)).toBe(0);
  });
});

describe('RecordStore: topics', () => {
  const topic = immutableKey(enc('topic'));
  const peer = (i: number) => ({ host: '10.1.0.1', port: 5000 + i });

  it('returns announced peers newest first, bounded by max, and forgets them after expiry', () => {
    const store = new RecordStore({ announceTtlMs: 1000 });
    expect(store.announce(topic, peer(1), T0)).toEqual({ ok: true, refreshed: false });
    store.announce(topic, peer(2), T0 + 100);
    store.announce(topic, peer(3), T0 + 200);
    expect(store.peers(topic, T0 + 200)).toEqual([peer(3), peer(2), peer(1)]);
    expect(store.peers(topic, T0 + 200, 2)).toEqual([peer(3), peer(2)]);
    expect(store.announce(topic, peer(1), T0 + 300)).toEqual({ ok: true, refreshed: true });
    expect(store.peers(bytesToHex(topic), T0 + 300)).toEqual([peer(1), peer(3), peer(2)]);
    expect(store.peers(topic, T0 + 1100)).toEqual([peer(1), peer(3)]); // peer(2) announced at T0+100 expired
    expect(store.peers(topic, T0 + 1300)).toEqual([]);
    expect(store.topicKeys(T0 + 1200)).toEqual([bytesToHex(topic)]);
    store.expire(T0 + 1300);
    expect(store.stats().topics).toBe(0);
  });

  it('drops the oldest announcement of a full topic', () => {
    const store = new RecordStore({ maxPeersPerTopic: 3 });
    for (let i = 0; i < 3; i++) store.announce(topic, peer(i), T0 + i);
    store.announce(topic, peer(0), T0 + 10); // refresh: peer(1) is now the oldest
    store.announce(topic, peer(9), T0 + 11);
    expect(store.peers(topic, T0 + 11)).toEqual([peer(9), peer(0), peer(2)]);
    expect(store.stats().announcements).toBe(3);
  });

  it('refuses a new topic when maxTopics are held, until some expire', () => {
    const store = new RecordStore({ maxTopics: 2, announceTtlMs: 1000 });
    store.announce(immutableKey(enc('t1')), peer(1), T0);
    store.announce(immutableKey(enc('t2')), peer(1), T0 + 500);
    const r = store.announce(immutableKey(enc('t3')), peer(1), T0 + 600);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('STORE_FULL');
      expect(r.error.message).toMatch(/too many topics \(2\)/);
    }
    expect(store.stats().topics).toBe(2);
    expect(store.announce(immutableKey(enc('t2')), peer(2), T0 + 600).ok).toBe(true); // existing topic: fine
    expect(store.announce(immutableKey(enc('t3')), peer(1), T0 + 1000).ok).toBe(true); // t1 expired
    expect(store.stats().topics).toBe(2);
  });

  it('refuses a topic that is not a 32-byte key', () => {
    const r = new RecordStore().announce(new Uint8Array(5), peer(1), T0);
    expect(r.ok).toBe(false);
  });
});

describe('RecordStore: restore and DTOs', () => {
  it('restores records with their times, re-validating them and skipping expired ones', () => {
    const a = new RecordStore();
    a.put(mkey, mut(4), { from: A, now: T0 });
    const [k, r] = imm('keep');
    a.put(k, r, { local: true, now: T0 + 1 });
    const saved = a.entries();

    const b = new RecordStore();
    for (const s of saved) expect(b.restore(s, T0 + 10)).toBe('restored');
    expect(b.get(mkey, T0 + 10)).toEqual(a.get(mkey, T0 + 10));
    expect(b.countFor(A)).toBe(1);
    expect(b.restore(saved[0], T0 + TTL)).toBe('expired');
    const tampered: StoredRecord = { ...saved[0], record: { ...mut(4), value: enc('tampered') } };
    const e = new RecordStore().restore(tampered, T0 + 10);
    expect(typeof e === 'object' && e.code).toBe('BAD_SIGNATURE');
    // an older copy never overwrites a newer one
    b.put(mkey, mut(6), { from: A, now: T0 + 20 });
    expect(b.restore(saved[0], T0 + 20)).toBe('restored');
    const held = b.get(mkey, T0 + 20)!.record;
    expect(held.type === 'mutable' && held.seq).toBe(6);
  });

  it('toRecordInfo gives plain data for the UI', () => {
    const store = new RecordStore();
    const stored = (store.put(mkey, mut(2), { from: { host: '::1', port: 7 }, now: T0 }) as { stored: StoredRecord }).stored;
    expect(toRecordInfo(stored, T0 + 1000)).toEqual({
      key: bytesToHex(mkey),
      type: 'mutable',
      size: 2,
      seq: 2,
      publicKey: bytesToHex(kp.publicKey),
      salt: bytesToHex(salt),
      storedAt: T0,
      expiresInMs: TTL - 1000,
      publisher: '[::1]:7',
      local: false,
    });
    const [k, r] = imm('x');
    const s2 = (store.put(k, r, { local: true, now: T0 }) as { stored: StoredRecord }).stored;
    expect(toRecordInfo(s2, T0 + TTL + 5)).toEqual({ key: bytesToHex(k), type: 'immutable', size: 1, storedAt: T0, expiresInMs: 0, local: true });
  });

  it('validates its options', () => {
    expect(() => new RecordStore({ maxRecords: 0 })).toThrow(/maxRecords/);
    expect(() => new RecordStore({ maxPerAddressFraction: 0 })).toThrow(/maxPerAddressFraction/);
  });
});
