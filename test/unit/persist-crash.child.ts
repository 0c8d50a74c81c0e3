// Child process for persist-crash.test.ts: stores records as a node would (store, append to the
// log, await the commit, then acknowledge on stdout) with debounced snapshots running alongside,
// until the parent SIGKILLs it. Run: node --import tsx persist-crash.child.ts <dataDir> <run>
import { systemClock } from '../../core/clock';
import { randomId, bytesToHex } from '../../core/id';
import { NodeStateStore, type PersistedState } from '../../core/persist/state';
import { immutableKey, keyPairFromSecretKey, mutableKey, signMutable } from '../../core/records/signing';
import { RecordStore } from '../../core/records/store';

const WORKERS = 4;
const SNAPSHOT_DEBOUNCE_MS = 5;

const [dataDir, run] = process.argv.slice(2);
const state = new NodeStateStore({ clock: systemClock }, { dataDir, debounceMs: SNAPSHOT_DEBOUNCE_MS });
const loaded = await state.load();
const store = new RecordStore({ maxRecords: 100_000, maxPerAddressFraction: 1 });
const now = () => systemClock.now();
for (const r of loaded.state?.records ?? []) store.restore(r, now());
const identity = loaded.state?.identity ?? { id: bytesToHex(randomId()), keyPairs: [] };
const getState = (): PersistedState => ({ identity, records: store.entries(now()), peers: [] });

const kp = keyPairFromSecretKey(new Uint8Array(32).fill(7));
const salt = new TextEncoder().encode('crash');
const mkey = mutableKey(kp.publicKey, salt);
const held = store.get(mkey, now())?.record;
let seq = held?.type === 'mutable' ? held.seq : 0;
let n = 0;

async function worker(w: number): Promise<never> {
  for (;;) {
    if (w === 0) {
      // one worker keeps publishing a newer version of a mutable record
      seq += 1;
      const r = store.put(mkey, signMutable({ keyPair: kp, salt, seq, value: new TextEncoder().encode(`seq ${seq}`) }), { local: true, now: now() });
      if (!r.ok) throw r.error;
      await state.appendRecord(r.stored);
      process.stdout.write(`seq ${r.stored.record.type === 'mutable' ? r.stored.record.seq : -1}\n`);
    } else {
      const value = new TextEncoder().encode(`run ${run} worker ${w} record ${n++}`);
      const r = store.put(immutableKey(value), { type: 'immutable', value }, { from: { host: '127.0.0.1', port: 5000 + w }, now: now() });
      if (!r.ok) throw r.error;
      await state.appendRecord(r.stored);
      process.stdout.write(`ack ${r.stored.key}\n`);
    }
    state.scheduleSave(getState);
  }
}

process.stdout.write(`ready ${loaded.state?.records.length ?? 0}\n`);
await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
