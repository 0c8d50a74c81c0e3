// What a node keeps in its data directory, and how it survives crashes.
//
// One file per concern, because they change at very different rates and matter differently:
//   identity.json        { version, id, keyPairs: [{ name, ...key file fields }] }      mode 0600 (secret keys)
//   peers.json           { version, savedAt, peers: [{ id, host, port }] }              rejoin without bootstrap
//   records.json         { version, savedAt, walFrom, records: [RecordJson] }           snapshot of the store
//   records-<gen>.log    one JSON line per accepted put / delete since the snapshot     write-ahead log
// The three JSON files are replaced atomically (temp file, fsync, rename, fsync dir) by a debounced
// save. Records also go to the write-ahead log so that a STORE can be acknowledged only once it is
// durable: the node calls `await appendRecord(stored)` (or `commit()`) before answering, and lines
// appended while one fsync runs are written together by the next one (group commit, no timers).
//
// Log generations make compaction safe without stopping writers: a save takes the state
// synchronously, switches new appends to generation g+1, writes records.json with walFrom = g+1,
// and only then deletes logs older than g+1. A crash at any point leaves either the old snapshot
// with its logs or the new one (replaying a put twice is harmless: the newest copy wins).
// On load, a truncated last line of a log (a write cut short by SIGKILL, never acknowledged) is
// ignored and reported; any other bad line, or a JSON file that does not validate, is reported and
// the file moved aside as `<name>.corrupt-<time>` (never deleted).
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock, TimerHandle } from '../clock';
import { DhtError } from '../errors';
import { bytesToHex, hexToBytes } from '../id';
import { keyPairFromJson, keyPairToJson, type KeyPair } from '../records/signing';
import type { StoredRecord } from '../records/store';
import { MAX_NAME_BYTES, type WireRecord } from '../wire/types';
import { fsyncDir, moveAside, readJsonFile, STATE_FILE_MODE, writeFileAtomic, zodValidator, type ReadJsonResult } from './atomic';

export const STATE_VERSION = 1;
export const SAVE_DEBOUNCE_MS = 1_000;
/** Enough to rejoin and refill a table; the rest of a routing table is rediscovered. */
export const MAX_PERSISTED_PEERS = 1_000;
export const MAX_PERSISTED_KEY_PAIRS = 64;
/** Far above any sane maxRecords; a bound so a hostile file cannot make us allocate without limit. */
export const MAX_PERSISTED_RECORDS = 1_000_000;

export const IDENTITY_FILE = 'identity.json';
export const PEERS_FILE = 'peers.json';
export const RECORDS_FILE = 'records.json';
const LOG_NAME = /^records-(\d{1,15})\.log$/;
const logName = (gen: number): string => `records-${gen}.log`;
const DATA_DIR_MODE = 0o700;

// ---- JSON shapes ----

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes * 2} lowercase hex characters`);
const hexUpTo = (bytes: number) => z.string().regex(new RegExp(`^(?:[0-9a-f]{2}){0,${bytes}}$`), `expected at most ${bytes * 2} lowercase hex characters`);
const base64 = z.string().max(4096).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const clockMs = z.number().finite();
const endpointJson = z.object({ host: z.string().min(1).max(255), port: z.number().int().min(1).max(65535) });

const recordCommon = {
  key: hex(32),
  value: base64,
  storedAt: clockMs,
  expiresAt: clockMs,
  publisher: endpointJson.optional(),
  local: z.boolean(),
};
const recordJsonSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('immutable'), ...recordCommon }),
  z.object({ type: z.literal('named'), ...recordCommon, name: z.string().min(1).max(MAX_NAME_BYTES) }),
  z.object({
    type: z.literal('mutable'),
    ...recordCommon,
    publicKey: hex(32),
    salt: hexUpTo(255),
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    sig: hex(64),
  }),
]);
export type RecordJson = z.infer<typeof recordJsonSchema>;

const peerJsonSchema = z.object({ id: hex(32), host: z.string().min(1).max(255), port: z.number().int().min(1).max(65535) });

const identityFileSchema = z.object({
  version: z.literal(STATE_VERSION),
  id: hex(32),
  keyPairs: z
    .array(z.object({ name: z.string().min(1).max(100) }).loose())
    .max(MAX_PERSISTED_KEY_PAIRS),
});
const peersFileSchema = z.object({ version: z.literal(STATE_VERSION), savedAt: clockMs, peers: z.array(peerJsonSchema).max(MAX_PERSISTED_PEERS) });
const recordsFileSchema = z.object({
  version: z.literal(STATE_VERSION),
  savedAt: clockMs,
  walFrom: z.number().int().min(0),
  records: z.array(recordJsonSchema).max(MAX_PERSISTED_RECORDS),
});
const logLineSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('put'), rec: recordJsonSchema }),
  z.object({ op: z.literal('del'), key: hex(32) }),
]);

// ---- public shapes ----

export interface PersistedPeer {
  id: string;
  host: string;
  port: number;
}

export interface NamedKeyPair {
  /** A label the user chose (CLI --keys, UI), unique within the identity. */
  name: string;
  keyPair: KeyPair;
}

export interface PersistedIdentity {
  /** Hex node id. */
  id: string;
  keyPairs: NamedKeyPair[];
}

/** What the node hands to scheduleSave: the whole state, taken synchronously. */
export interface PersistedState {
  identity: PersistedIdentity;
  /** The store's records (RecordStore.entries(now)). */
  records: StoredRecord[];
  peers: PersistedPeer[];
}

/** What load found; identity is null when identity.json was missing or corrupt. */
export interface LoadedState {
  identity: PersistedIdentity | null;
  /** Snapshot plus log replay, newest copy of each key, expired ones dropped. Not yet signature-checked: restore them through RecordStore.restore. */
  records: StoredRecord[];
  peers: PersistedPeer[];
}

export interface LoadResult {
  /** null when the data directory held no state at all (a first start). */
  state: LoadedState | null;
  /** One line per problem found (corrupt files moved aside, truncated log lines ignored). */
  warnings: string[];
}

export function recordToJson(s: StoredRecord): RecordJson {
  const common = {
    key: s.key,
    value: Buffer.from(s.record.value).toString('base64'),
    storedAt: s.storedAt,
    expiresAt: s.expiresAt,
    ...(s.publisher ? { publisher: { host: s.publisher.host, port: s.publisher.port } } : {}),
    local: s.local,
  };
  const r = s.record;
  if (r.type === 'immutable') return { type: 'immutable', ...common };
  if (r.type === 'named') return { type: 'named', ...common, name: r.name };
  return { type: 'mutable', ...common, publicKey: bytesToHex(r.publicKey), salt: bytesToHex(r.salt), seq: r.seq, sig: bytesToHex(r.sig) };
}

function recordFromJson(j: RecordJson): StoredRecord {
  const value = new Uint8Array(Buffer.from(j.value, 'base64'));
  const record: WireRecord =
    j.type === 'immutable'
      ? { type: 'immutable', value }
      : j.type === 'named'
        ? { type: 'named', name: j.name, value }
        : { type: 'mutable', value, publicKey: hexToBytes(j.publicKey), salt: hexToBytes(j.salt), seq: j.seq, sig: hexToBytes(j.sig) };
  return { key: j.key, record, storedAt: j.storedAt, expiresAt: j.expiresAt, ...(j.publisher ? { publisher: j.publisher } : {}), local: j.local };
}

function identityToJson(id: PersistedIdentity): z.infer<typeof identityFileSchema> {
  return { version: STATE_VERSION, id: id.id, keyPairs: id.keyPairs.slice(0, MAX_PERSISTED_KEY_PAIRS).map((k) => ({ name: k.name, ...keyPairToJson(k.keyPair) })) };
}

const identityValidator = (raw: unknown): { ok: true; value: PersistedIdentity } | { ok: false; message: string } => {
  const base = zodValidator(identityFileSchema)(raw);
  if (!base.ok) return base;
  const keyPairs: NamedKeyPair[] = [];
  for (const [i, entry] of base.value.keyPairs.entries()) {
    const { name, ...rest } = entry as { name: string } & Record<string, unknown>;
    const kp = keyPairFromJson(rest);
    if (!kp.ok) return { ok: false, message: `keyPairs.${i} (${name}): ${kp.message}` };
    keyPairs.push({ name, keyPair: kp.value });
  }
  return { ok: true, value: { id: base.value.id, keyPairs } };
};

/**
 * The node id saved in dataDir's identity.json, or null (no file, or one that does not validate).
 * Synchronous because a node needs its id when it is constructed, before anything async runs;
 * load() reads the file again and reports (and moves aside) a corrupt one.
 */
export function readSavedNodeId(dataDir: string): string | null {
  try {
    const r = identityValidator(JSON.parse(readFileSync(join(dataDir, IDENTITY_FILE), 'utf8')));
    return r.ok ? r.value.id : null;
  } catch {
    return null;
  }
}

// ---- the store ----

export interface NodeStateStoreDeps {
  clock: Clock;
  /** Called when a background (debounced) save fails; flush() rejects instead. */
  onError?: (error: DhtError) => void;
}

export interface NodeStateStoreOptions {
  dataDir: string;
  /** A change is saved at most this long after it is scheduled (default SAVE_DEBOUNCE_MS). */
  debounceMs?: number;
}

interface Batch {
  lines: string[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: DhtError) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: DhtError) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers may fire and forget an append; its failure must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { lines: [], promise, resolve, reject };
}

function ioError(what: string, e: unknown): DhtError {
  return new DhtError('INTERNAL', `${what}: ${(e as Error).message}`, { cause: e });
}

export class NodeStateStore {
  readonly dataDir: string;
  readonly debounceMs: number;
  private readonly clock: Clock;
  private readonly onError?: (error: DhtError) => void;

  private loaded = false;
  private closed = false;
  /** Generation new log lines go to. */
  private gen = 0;
  private file: { gen: number; fh: FileHandle } | null = null;
  private pending: Batch | null = null;
  private inFlight: Batch | null = null;
  private kickQueued = false;

  private getState: (() => PersistedState) | null = null;
  private timer: TimerHandle | null = null;
  private saving: Promise<void> = Promise.resolve();
  private lastIdentityText: string | null = null;
  /** The peers list last written or loaded, to skip rewriting an unchanged peers.json. */
  private lastPeersText: string | null = null;
  /** The most recent background save failure, if any (also passed to onError). */
  lastError: DhtError | null = null;

  constructor(deps: NodeStateStoreDeps, options: NodeStateStoreOptions) {
    this.clock = deps.clock;
    if (deps.onError) this.onError = deps.onError;
    this.dataDir = options.dataDir;
    this.debounceMs = options.debounceMs ?? SAVE_DEBOUNCE_MS;
  }

  private path(name: string): string {
    return join(this.dataDir, name);
  }

  /**
   * Reads the data directory (creating it if needed). Corrupt files are moved aside and reported in
   * `warnings`; the parts that were fine are returned. Compacts any logs into records.json, so the
   * returned records are durable in one place. Call once, before any append or save.
   */
  async load(): Promise<LoadResult> {
    if (this.loaded) throw DhtError.invalidArgument('NodeStateStore.load() was already called');
    await mkdir(this.dataDir, { recursive: true, mode: DATA_DIR_MODE });
    const warnings: string[] = [];
    const now = this.clock.now();
    const readOpts = { now: () => now };
    let found = false;

    const note = <T>(r: ReadJsonResult<T>): T | null => {
      if (r.ok) {
        found = true;
        return r.value;
      }
      if (!r.missing) {
        found = true;
        warnings.push(r.message);
      }
      return null;
    };

    const identity = note(await readJsonFile(this.path(IDENTITY_FILE), identityValidator, readOpts));
    if (identity) this.lastIdentityText = JSON.stringify(identityToJson(identity));
    const peersFile = note(await readJsonFile(this.path(PEERS_FILE), zodValidator(peersFileSchema), readOpts));
    const peers = peersFile?.peers ?? [];
    if (peersFile) this.lastPeersText = JSON.stringify(peers);
    const snapshot = note(await readJsonFile(this.path(RECORDS_FILE), zodValidator(recordsFileSchema), readOpts));

    // Snapshot, then every log from walFrom on, in order; the last word on a key wins.
    const walFrom = snapshot?.walFrom ?? 0;
    const byKey = new Map<string, RecordJson>();
    for (const r of snapshot?.records ?? []) byKey.set(r.key, r);
    const logs = await this.listLogs();
    const replayed: number[] = [];
    const corruptLogs = new Set<number>();
    for (const gen of logs) {
      if (gen < walFrom) continue; // already folded into the snapshot (a crash came before cleanup)
      found = true;
      replayed.push(gen);
      const text = await readFile(this.path(logName(gen)), 'utf8');
      const lines = text.split('\n');
      const tail = lines.pop() ?? '';
      if (tail !== '') {
        warnings.push(`${this.path(logName(gen))}: ignored a truncated last line (${Buffer.byteLength(tail)} bytes), a write cut short before it was acknowledged`);
      }
      for (const [i, line] of lines.entries()) {
        if (line === '') continue;
        const op = parseLogLine(line);
        if (!op.ok) {
          warnings.push(`${this.path(logName(gen))} line ${i + 1}: ${op.message}; skipped it`);
          corruptLogs.add(gen);
          continue;
        }
        if (op.value.op === 'put') byKey.set(op.value.rec.key, newer(byKey.get(op.value.rec.key), op.value.rec));
        else byKey.delete(op.value.key);
      }
    }
    const records: StoredRecord[] = [];
    for (const r of byKey.values()) if (r.expiresAt > now) records.push(recordFromJson(r));

    this.gen = Math.max(walFrom, (logs.length > 0 ? logs[logs.length - 1] : -1) + 1);
    this.loaded = true;

    if (logs.length > 0) {
      // Fold the logs into one durable snapshot now, then retire them (bad ones moved aside as evidence).
      await this.writeRecords(records, this.gen);
      for (const gen of logs) {
        const p = this.path(logName(gen));
        if (corruptLogs.has(gen)) {
          const movedTo = await moveAside(p, now);
          warnings.push(`moved ${p} to ${movedTo}; its valid lines were kept`);
        } else {
          await unlink(p).catch(() => undefined);
        }
      }
      await fsyncDir(this.dataDir);
    }
    return { state: found ? { identity, records, peers } : null, warnings };
  }

  /**
   * Appends a record the store just accepted to the write-ahead log. The promise resolves once the
   * line is on disk (fsync'd): await it before acknowledging a STORE. Call after the RecordStore
   * holds the record, so a concurrent snapshot always covers what the log may lose.
   */
  appendRecord(stored: StoredRecord): Promise<void> {
    return this.append(JSON.stringify({ op: 'put', rec: recordToJson(stored) }));
  }

  /** Logs that a record was deleted (not for expiry: expired records are dropped on load anyway). */
  appendDelete(keyHex: string): Promise<void> {
    return this.append(JSON.stringify({ op: 'del', key: keyHex }));
  }

  /** Resolves when every line appended so far is durable; rejects if writing any of them failed. */
  async commit(): Promise<void> {
    await Promise.all([this.inFlight?.promise, this.pending?.promise]);
  }

  /**
   * Remembers how to take the state and saves it within debounceMs. Later calls before the save
   * do not postpone it, so a steady stream of changes is still saved (and the log compacted) every
   * debounceMs.
   */
  scheduleSave(getState: () => PersistedState): void {
    this.requireLoaded();
    if (this.closed) return;
    this.getState = getState;
    if (this.timer !== null) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.save().catch((e: unknown) => {
        this.lastError = e instanceof DhtError ? e : ioError('saving state', e);
        this.onError?.(this.lastError);
      });
    }, this.debounceMs);
  }

  /** Saves now (cancelling a scheduled save) and waits for the log; used on stop. Rejects on failure. */
  async flush(): Promise<void> {
    this.requireLoaded();
    if (this.closed) return;
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    await this.save();
    await this.commit();
  }

  /** Waits for a save or log write already under way (tests use it after advancing a fake clock). */
  async whenIdle(): Promise<void> {
    await this.saving.catch(() => undefined);
    await this.commit().catch(() => undefined);
  }

  /** Flushes and releases the log file. Idempotent; appends after close are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.loaded) await this.flush();
    this.closed = true;
    await this.commit().catch(() => undefined);
    const f = this.file;
    this.file = null;
    await f?.fh.close();
  }

  // ---- snapshot ----

  private save(): Promise<void> {
    // One save at a time, in order; a failed save does not stop the next one.
    const next = this.saving.catch(() => undefined).then(() => this.saveSnapshot());
    this.saving = next;
    return next;
  }

  private async saveSnapshot(): Promise<void> {
    const getState = this.getState;
    if (!getState) return;
    // Everything appended to the log before this instant is in `state` (the node appends after the
    // store accepts); everything after goes to the next generation, which the new snapshot replays.
    const state = getState();
    const covered = this.gen;
    this.gen = covered + 1;
    const now = this.clock.now();

    const identityText = JSON.stringify(identityToJson(state.identity));
    if (identityText !== this.lastIdentityText) {
      await this.writeJson(IDENTITY_FILE, identityText);
      this.lastIdentityText = identityText;
    }
    const peers = state.peers.slice(0, MAX_PERSISTED_PEERS).map((p) => ({ id: p.id, host: p.host, port: p.port }));
    const peersText = JSON.stringify(peers);
    if (peersText !== this.lastPeersText) {
      await this.writeJson(PEERS_FILE, JSON.stringify({ version: STATE_VERSION, savedAt: now, peers }));
      this.lastPeersText = peersText;
    }
    await this.writeRecords(state.records, this.gen);
    for (const gen of await this.listLogs()) {
      if (gen <= covered) await unlink(this.path(logName(gen))).catch(() => undefined);
    }
  }

  private async writeRecords(records: StoredRecord[], walFrom: number): Promise<void> {
    const text = JSON.stringify({ version: STATE_VERSION, savedAt: this.clock.now(), walFrom, records: records.map(recordToJson) });
    await this.writeJson(RECORDS_FILE, text);
  }

  private async writeJson(name: string, text: string): Promise<void> {
    try {
      await writeFileAtomic(this.path(name), `${text}\n`, { mode: STATE_FILE_MODE });
    } catch (e) {
      throw ioError(`could not write ${this.path(name)}`, e);
    }
  }

  private async listLogs(): Promise<number[]> {
    const names = await readdir(this.dataDir);
    const gens: number[] = [];
    for (const n of names) {
      const m = LOG_NAME.exec(n);
      if (m) gens.push(Number(m[1]));
    }
    return gens.sort((a, b) => a - b);
  }

  // ---- write-ahead log ----

  private append(line: string): Promise<void> {
    this.requireLoaded();
    if (this.closed) return Promise.reject(DhtError.stopped());
    this.pending ??= newBatch();
    this.pending.lines.push(`${line}\n`);
    // Let every append of this turn join the batch, then write it (or wait for the fsync in flight).
    if (!this.kickQueued) {
      this.kickQueued = true;
      queueMicrotask(() => {
        this.kickQueued = false;
        this.kick();
      });
    }
    return this.pending.promise;
  }

  private kick(): void {
    if (this.inFlight || !this.pending) return;
    const batch = this.pending;
    this.pending = null;
    this.inFlight = batch;
    this.writeBatch(batch.lines).then(
      () => batch.resolve(),
      (e: unknown) => batch.reject(ioError(`could not write to the record log in ${this.dataDir}`, e)),
    ).finally(() => {
      this.inFlight = null;
      this.kick();
    });
  }

  private async writeBatch(lines: string[]): Promise<void> {
    try {
      if (!this.file || this.file.gen !== this.gen) {
        const old = this.file;
        this.file = null;
        await old?.fh.close();
        const gen = this.gen;
        const fh = await open(this.path(logName(gen)), 'a', STATE_FILE_MODE);
        this.file = { gen, fh };
        // The new file's directory entry must be durable before anything in it is acknowledged.
        await fsyncDir(this.dataDir);
      }
      const { fh } = this.file;
      await fh.appendFile(lines.join(''));
      await fh.datasync();
    } catch (e) {
      // The file may now end in a partial line; later lines go to a fresh generation so that a
      // torn line can only ever be the last line of a file.
      const f = this.file;
      this.file = null;
      await f?.fh.close().catch(() => undefined);
      if (f && f.gen === this.gen) this.gen += 1;
      throw e;
    }
  }

  private requireLoaded(): void {
    if (!this.loaded) throw new DhtError('NOT_STARTED', 'NodeStateStore: call load() before saving or appending');
  }
}

function parseLogLine(line: string): { ok: true; value: z.infer<typeof logLineSchema> } | { ok: false; message: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { ok: false, message: `not valid JSON (${(e as Error).message})` };
  }
  return zodValidator(logLineSchema)(raw);
}

/** Of two copies of one key, the one a store would keep: the higher seq, else the later one. */
function newer(a: RecordJson | undefined, b: RecordJson): RecordJson {
  if (a && a.type === 'mutable' && b.type === 'mutable' && a.seq > b.seq) return a;
  return b;
}
