import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { isDhtError } from '../../core/errors';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import {
  NodeStateStore,
  recordToJson,
  type PersistedState,
} from '../../core/persist/state';
import { immutableKey, keyPairFromSecretKey, mutableKey, signMutable } from '../../core/records/signing';
import { RecordStore, type StoredRecord } from '../../core/records/store';

const enc = (s: string) => new TextEncoder().encode(s);
const T0 = 1_700_000_000_000;
const DEBOUNCE_MS = 1000;
const ID = 'ab'.repeat(32);
const kp = keyPairFromSecretKey(seededRandomBytes(41)(32));
const from = { host: '127.0.0.1', port: 4000 };

function immutable(store: RecordStore, text: string, now = T0): StoredRecord {
  const r = store.put(immutableKey(enc(text)), { type: 'immutable', value: enc(text) }, { from, now });
  if (!r.ok) throw r.error;
  return r.stored;
}

describe('NodeStateStore', () => {
  let dir: string;
  let clock: FakeClock;
  const open = () => new NodeStateStore({ clock }, { dataDir: dir, debounceMs: DEBOUNCE_MS });
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'kadscope-state-')), 'data');
    clock = new FakeClock(T0);
  });
  afterEach(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('starts fresh on an empty directory (creating it, owner-only)', async () => {
    const s = open();
    expect(await s.load()).toEqual({ state: null, warnings: [] });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    await s.close();
  });

  it('saves debounced on the injected clock and loads everything back', async () => {
    const s = open();
    await s.load();
    const records = new RecordStore();
    immutable(records, 'hello');
    const salt = enc('s');
    records.put(mutableKey(kp.publicKey, salt), signMutable({ keyPair: kp, salt, seq: 9, value: enc('m') }), { local: true, now: T0 });
    const state: PersistedState = {
      identity: { id: ID, keyPairs: [{ name: 'default', keyPair: kp }] },
      records: records.entries(),
      peers: [{ id: 'cd'.repeat(32), host: '::1', port: 4001 }],
    };
    s.scheduleSave(() => state);
    clock.advance(DEBOUNCE_MS - 500);
    s.scheduleSave(() => state); // does not postpone the save
    clock.advance(499);
    await s.whenIdle();
    expect(await readdir(dir)).toEqual([]);
    clock.advance(1);
    await s.whenIdle();
    expect((await readdir(dir)).sort()).toEqual(['identity.json', 'peers.json', 'records.json']);
    expect((await stat(join(dir, 'identity.json'))).mode & 0o777).toBe(0o600);
    expect(clock.pendingTimers).toBe(0);
    await s.close();

    const back = await open().load();
    expect(back.warnings).toEqual([]);
    expect(back.state!.identity!.id).toBe(ID);
    expect(back.state!.identity!.keyPairs.map((k) => [k.name, bytesToHex(k.keyPair.secretKey)])).toEqual([['default', bytesToHex(kp.secretKey)]]);
    expect(back.state!.peers).toEqual(state.peers);
    expect(back.state!.records.map(recordToJson)).toEqual(state.records.map(recordToJson));
    // and they pass the store's checks again
    const again = new RecordStore();
    for (const r of back.state!.records) expect(again.restore(r, T0)).toBe('restored');
  });

  it('makes an appended record durable before commit resolves, without any snapshot', async () => {
    const s = open();
    await s.load();
    const records = new RecordStore();
    const a = immutable(records, 'a');
    const b = immutable(records, 'b');
    const pa = s.appendRecord(a);
    const pb = s.appendRecord(b);
    expect(pa).toBe(pb); // same turn, same group commit
    await s.commit();
    expect(await readdir(dir)).toEqual(['records-0.log']);
    // a second process opening the directory sees both (as a restarted node would)
    const back = await open().load();
    expect(back.state!.records.map((r) => r.key).sort()).toEqual([a.key, b.key].sort());
    expect(back.warnings).toEqual([]);
    // load folded the log into records.json
    expect(await readdir(dir)).toEqual(['records.json']);
  });

  it('replays deletes, and a snapshot retires the logs it covers', async () => {
    const s = open();
    await s.load();
    const records = new RecordStore();
    const a = immutable(records, 'a');
    const b = immutable(records, 'b');
    await s.appendRecord(a);
    await s.appendRecord(b);
    records.delete(a.key);
    await s.appendDelete(a.key);
    const get = (): PersistedState => ({ identity: { id: ID, keyPairs: [] }, records: records.entries(), peers: [] });
    s.scheduleSave(get);
    clock.advance(DEBOUNCE_MS);
    await s.whenIdle();
    expect((await readdir(dir)).sort()).toEqual(['identity.json', 'peers.json', 'records.json']);
    const c = immutable(records, 'c');
    await s.appendRecord(c);
    expect((await readdir(dir)).sort()).toEqual(['identity.json', 'peers.json', 'records-1.log', 'records.json']);
    // simulate a crash: no close(); reload from disk
    const back = await open().load();
    expect(back.state!.records.map((r) => r.key).sort()).toEqual([b.key, c.key].sort());
  });

  it('ignores a truncated last log line (a torn write) and reports it', async () => {
    const records = new RecordStore();
    const a = immutable(records, 'a');
    const b = immutable(records, 'b');
    const lineA = JSON.stringify({ op: 'put', rec: recordToJson(a) });
    const lineB = JSON.stringify({ op: 'put', rec: recordToJson(b) });
    await open().load(); // creates the directory
    await writeFile(join(dir, 'records-0.log'), `${lineA}\n${lineB.slice(0, 40)}`);
    const back = await open().load();
    expect(back.state!.records.map((r) => r.key)).toEqual([a.key]);
    expect(back.warnings).toHaveLength(1);
    expect(back.warnings[0]).toMatch(/records-0\.log: ignored a truncated last line \(40 bytes\)/);
    expect(await readdir(dir)).toEqual(['records.json']); // expected after a crash: nothing moved aside
  });

  it('skips a corrupt log line, keeps the rest and moves the log aside', async () => {
    const records = new RecordStore();
    const a = immutable(records, 'a');
    const b = immutable(records, 'b');
    await open().load();
    const text = `${JSON.stringify({ op: 'put', rec: recordToJson(a) })}\n{"op":"put","rec":{"type":"immutable"}}\n${JSON.stringify({ op: 'put', rec: recordToJson(b) })}\n`;
    await writeFile(join(dir, 'records-3.log'), text);
    const back = await open().load();
    expect(back.state!.records.map((r) => r.key).sort()).toEqual([a.key, b.key].sort());
    expect(back.warnings[0]).toMatch(/records-3\.log line 2: rec\.key: .*; skipped it/);
    expect(back.warnings[1]).toMatch(/moved .*records-3\.log to .*records-3\.log\.corrupt-.*; its valid lines were kept/);
    const files = (await readdir(dir)).sort();
    expect(files[0]).toBe('records-3.log.corrupt-2023-11-14T22-13-20-000Z');
    expect(await readFile(join(dir, files[0]), 'utf8')).toBe(text);
    // writing continues in a newer generation than any seen
    const s = open();
    await s.load();
    await s.appendRecord(immutable(records, 'c'));
    expect(await readdir(dir)).toContain('records-4.log');
  });

  it('moves a truncated state file aside with one clear line and starts fresh for that part', async () => {
    const s = open();
    await s.load();
    const records = new RecordStore();
    immutable(records, 'keep me');
    s.scheduleSave(() => ({ identity: { id: ID, keyPairs: [{ name: 'k', keyPair: kp }] }, records: records.entries(), peers: [] }));
    await s.flush();
    await s.close();
    const idPath = join(dir, 'identity.json');
    const full = await readFile(idPath, 'utf8');
    await writeFile(idPath, full.slice(0, full.length / 2));

    const back = await open().load();
    expect(back.state!.identity).toBeNull();
    expect(back.state!.records).toHaveLength(1);
    expect(back.warnings).toHaveLength(1);
    expect(back.warnings[0]).toMatch(new RegExp(`^${idPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is corrupt: not valid JSON .*; moved it to .*identity\\.json\\.corrupt-.* and starting without it$`));
    expect((await readdir(dir)).filter((f) => f.startsWith('identity.json.corrupt-'))).toHaveLength(1);
  });

  it('reports a key pair whose halves do not match, and an unsupported version', async () => {
    await open().load();
    const other = keyPairFromSecretKey(seededRandomBytes(42)(32));
    await writeFile(join(dir, 'identity.json'), JSON.stringify({
      version: 1, id: ID, keyPairs: [{ name: 'k', version: 1, type: 'ed25519', publicKey: bytesToHex(other.publicKey), secretKey: bytesToHex(kp.secretKey) }],
    }));
    await writeFile(join(dir, 'peers.json'), JSON.stringify({ version: 2, savedAt: 0, peers: [] }));
    const back = await open().load();
    expect(back.warnings.join('\n')).toMatch(/identity\.json is corrupt: keyPairs\.0 \(k\): publicKey does not belong to secretKey/);
    expect(back.warnings.join('\n')).toMatch(/peers\.json is corrupt: version: /);
  });

  it('a corrupt records.json is moved aside and the logs are replayed from the start', async () => {
    const s = open();
    await s.load();
    const records = new RecordStore();
    await s.appendRecord(immutable(records, 'a'));
    await writeFile(join(dir, 'records.json'), '{"version":1,"savedAt":0,"walFrom":7,"records":[{}]}');
    const back = await open().load();
    expect(back.state!.records).toHaveLength(1);
    expect(back.warnings[0]).toMatch(/records\.json is corrupt: records\.0\.type/);
  });

  it('drops expired records on load', async () => {
    const s = open();
    await s.load();
    const records = new RecordStore({ recordTtlMs: 1000 });
    await s.appendRecord(immutable(records, 'short-lived'));
    clock.advance(1000);
    const back = await open().load();
    expect(back.state!.records).toEqual([]);
  });

  it('refuses use before load and appends after close; close is idempotent and leaves no timer', async () => {
    const s = open();
    const records = new RecordStore();
    expect(() => s.appendRecord(immutable(records, 'x'))).toThrow(/call load\(\)/);
    await s.load();
    s.scheduleSave(() => ({ identity: { id: ID, keyPairs: [] }, records: [], peers: [] }));
    expect(clock.pendingTimers).toBe(1);
    await s.close();
    await s.close();
    expect(clock.pendingTimers).toBe(0);
    const e = await s.appendRecord(immutable(records, 'y')).catch((x: unknown) => x);
    expect(isDhtError(e, 'STOPPED')).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['identity.json', 'peers.json', 'records.json']);
  });
});
