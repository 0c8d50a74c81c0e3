// A node's records, one part per concern, built and run together here:
//   server.ts       answers FIND_VALUE, GET_PEERS, STORE and ANNOUNCE
//   client.ts       put, putMutable, get, announce, lookupPeers (the node exposes it as node.records)
//   maintenance.ts  expiry, republish, announcement refresh, replication, hand-off to newcomers
//   keys.ts         the named key pairs (node.keyPairs)
//   persistence.ts  the data directory
// The RecordStore and TokenManager stay pure data structures; the parts own the timers and the I/O,
// and reach the network only through what the node hands them (RecordLayerDeps in config.ts).
import { bytesToHex } from '../id';
import type { PersistedPeer } from '../persist/state';
import type { RoutingEntry } from '../routing';
import { RecordClient } from './client';
import { resolveLifetimes, type RecordLayerDeps, type RecordOptions } from './config';
import { KeyPairRegistry } from './keys';
import { RecordMaintenance } from './maintenance';
import { RecordPersistence } from './persistence';
import { RecordServer } from './server';
import { RecordStore } from './store';
import { TokenManager } from './tokens';

export interface OpenResult {
  warnings: string[];
  savedPeers: PersistedPeer[];
}

export class RecordLayer {
  readonly store: RecordStore;
  readonly tokens: TokenManager;
  readonly keys: KeyPairRegistry;
  readonly persistence: RecordPersistence;
  readonly maintenance: RecordMaintenance;
  readonly server: RecordServer;
  readonly client: RecordClient;

  constructor(deps: RecordLayerDeps, options: RecordOptions = {}) {
    const lifetimes = resolveLifetimes(options, deps.model?.recordTtlMs);
    this.store = new RecordStore({
      maxRecords: options.maxRecords,
      maxPerAddressFraction: options.maxPerAddressFraction,
      maxTopics: options.maxTopics,
      keyBytes: deps.selfId.length,
      ...(deps.model ? { model: deps.model } : {}),
      recordTtlMs: lifetimes.recordTtlMs,
      announceTtlMs: options.announceTtlMs,
    });
    this.tokens = new TokenManager({ clock: deps.clock, randomBytes: deps.randomBytes }, { rotateMs: options.tokenRotateMs });
    // The registry tells persistence about new key pairs; persistence reads the registry when saving.
    let persistence: RecordPersistence | null = null;
    this.keys = new KeyPairRegistry({
      onAdded(name) {
        persistence?.keyPairAdded(name);
      },
    });
    persistence = new RecordPersistence(
      {
        clock: deps.clock,
        selfHex: bytesToHex(deps.selfId),
        store: this.store,
        keys: this.keys,
        peersToSave() {
          return deps.peersToSave();
        },
      },
      { dataDir: options.dataDir, saveDebounceMs: options.saveDebounceMs },
    );
    this.persistence = persistence;
    this.maintenance = new RecordMaintenance(deps, lifetimes, this.store, this.persistence);
    this.server = new RecordServer(deps, this.store, this.tokens, this.maintenance);
    this.client = new RecordClient(deps, this.store, this.maintenance);
  }

  /** Loads the data directory (if any): key pairs, records, saved peers. Corrupt files are reported in warnings. */
  async open(): Promise<OpenResult> {
    const { warnings, savedPeers, ownRecords } = await this.persistence.open();
    this.maintenance.ownRecordsRestored(ownRecords);
    return { warnings, savedPeers };
  }

  /** Starts saving and the expiry / republish / replication timer. */
  start(): void {
    this.persistence.start();
    this.maintenance.start();
  }

  /** Clears timers and drops queued background work. Synchronous and idempotent. */
  stop(): void {
    this.maintenance.stop();
    this.persistence.stop();
  }

  /** stop(), then a last save of everything to the data directory. Never rejects. */
  async close(): Promise<void> {
    this.maintenance.stop();
    await this.persistence.close();
  }

  /** A node entered the routing table: its peers are saved, and it may be handed records. */
  peerAdded(entry: RoutingEntry): void {
    this.maintenance.onPeerAdded(entry);
    this.persistence.scheduleSave();
  }

  /** A node left the routing table: the saved peers change. */
  peerRemoved(): void {
    this.persistence.scheduleSave();
  }
}
