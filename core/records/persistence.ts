// The node's state in its data directory: identity and key pairs, the records it holds, its
// routing-table peers. Reads it all back on open (corrupt files become warnings), writes new records
// to the log before a STORE is acknowledged, and saves snapshots debounced. No data directory, no I/O.
import type { Clock } from '../clock';
import { DhtError } from '../errors';
import { IDENTITY_FILE, NodeStateStore, SAVE_DEBOUNCE_MS, type PersistedPeer, type PersistedState } from '../persist/state';
import type { KeyPairRegistry } from './keys';
import type { PutResult, RecordStore, StoredRecord } from './store';

export interface RecordPersistenceDeps {
  clock: Clock;
  selfHex: string;
  store: RecordStore;
  keys: KeyPairRegistry;
  peersToSave(): PersistedPeer[];
}

export interface OpenResult {
  warnings: string[];
  savedPeers: PersistedPeer[];
  /** Our own records read back (their republishing is due again). */
  ownRecords: StoredRecord[];
}

export class RecordPersistence {
  private readonly state: NodeStateStore | null;
  private running = false;

  constructor(
    private readonly deps: RecordPersistenceDeps,
    options: { dataDir?: string; saveDebounceMs?: number },
  ) {
    this.state =
      options.dataDir !== undefined
        ? new NodeStateStore(
            { clock: deps.clock, onError: (e) => console.error(`kadscope: saving node state failed: ${e.message}`) },
            { dataDir: options.dataDir, debounceMs: options.saveDebounceMs ?? SAVE_DEBOUNCE_MS },
          )
        : null;
  }

  get dataDir(): string | null {
    return this.state?.dataDir ?? null;
  }

  /** Loads the data directory (if any): key pairs, records, saved peers. Corrupt files are reported in warnings. */
  async open(): Promise<OpenResult> {
    if (!this.state) return { warnings: [], savedPeers: [], ownRecords: [] };
    const { state, warnings } = await this.state.load();
    const now = this.deps.clock.now();
    const selfHex = this.deps.selfHex;
    const identity = state?.identity ?? null;
    for (const kp of identity?.keyPairs ?? []) this.deps.keys.restore(kp.name, kp.keyPair);
    if (identity && identity.id !== selfHex) {
      warnings.push(`${IDENTITY_FILE} holds node id ${identity.id.slice(0, 16)}…, but this node was given id ${selfHex.slice(0, 16)}…; saving the new id`);
    }
    const ownRecords: StoredRecord[] = [];
    let dropped = 0;
    let firstProblem = '';
    for (const r of state?.records ?? []) {
      const res = this.deps.store.restore(r, now);
      if (res === 'restored') {
        if (r.local) ownRecords.push(r);
      } else if (res instanceof DhtError) {
        if (dropped++ === 0) firstProblem = `${r.key.slice(0, 16)}…: ${res.message}`;
      }
    }
    if (dropped > 0) warnings.push(`dropped ${dropped} saved record(s) that did not validate or fit the store (first: ${firstProblem})`);
    this.state.scheduleSave(this.persistedState);
    // The identity must be on disk before anything else happens, or a crash would cost us our id;
    // and a file moved aside is replaced by a good one at once.
    if (!identity || identity.id !== selfHex || warnings.length > 0) await this.state.flush();
    return { warnings, savedPeers: state?.peers ?? [], ownRecords };
  }

  start(): void {
    this.running = true;
  }

  stop(): void {
    this.running = false;
  }

  /** stop(), then a last save of everything to the data directory. Never rejects. */
  async close(): Promise<void> {
    this.stop();
    if (!this.state) return;
    try {
      await this.state.close();
    } catch (e) {
      console.error(`kadscope: could not save node state to ${this.state.dataDir}: ${(e as Error).message}`);
    }
  }

  scheduleSave(): void {
    if (this.state && this.running) this.state.scheduleSave(this.persistedState);
  }

  /**
   * A put the store accepted: the write to await before acknowledging it, or null when nothing is
   * written (no data directory, or not running).
   */
  recordAccepted(r: Extract<PutResult, { ok: true }>): Promise<void> | null {
    if (!this.state || !this.running) return null;
    // New content goes to the log first. A refresh changes only the expiry (the next snapshot has
    // it), but its content may still be on its way to disk from an earlier STORE: wait for that.
    const write = r.outcome === 'refreshed' ? this.state.commit() : this.state.appendRecord(r.stored);
    this.scheduleSave();
    return write;
  }

  /** A key pair lost in a crash would orphan every record published with it: save now. */
  keyPairAdded(name: string): void {
    if (!this.state || !this.running) return;
    this.state.scheduleSave(this.persistedState);
    this.state.flush().catch((e: unknown) => console.error(`kadscope: could not save key pair "${name}": ${(e as Error).message}`));
  }

  /**
   * What scheduleSave reads, one function per node. Bound, not an arrow: under tsx (keepNames) a
   * named arrow is renamed with defineProperty, which leaves each instance a property dictionary; a
   * bound method has none.
   */
  private readonly persistedState: () => PersistedState = this.takeState.bind(this);

  private takeState(): PersistedState {
    return {
      identity: { id: this.deps.selfHex, keyPairs: this.deps.keys.entries() },
      records: this.deps.store.entries(this.deps.clock.now()),
      peers: this.deps.peersToSave(),
    };
  }
}
