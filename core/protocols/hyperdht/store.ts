// What a persistent HyperDHT node keeps for others (hyperdht's lib/persistent.js): announcements
// per topic, immutable values and mutable values. Pure data with expiry by the caller's clock; the
// node checks signatures and hashes before anything gets here. Every map is bounded: at the cap
// the oldest entry goes (Map iteration order is insertion order, and a write re-inserts).
import { bytesToHex } from '../../id';
import type { HyperPeerRecord, MutableValue } from './records';

/** hyperdht keeps announcements 20 minutes and values 48 hours. */
export const HYPER_ANNOUNCE_TTL_MS = 20 * 60_000;
export const HYPER_VALUE_TTL_MS = 48 * 60 * 60_000;
export const HYPER_MAX_TOPICS = 10_000;
export const HYPER_MAX_PEERS_PER_TOPIC = 20;
export const HYPER_MAX_VALUES = 10_000;
/** Larger values are not stored (hyperdht has no limit but the datagram). */
export const HYPER_MAX_VALUE_BYTES = 4_096;

interface Timed<T> {
  value: T;
  expires: number;
}

export interface HyperStoreOptions {
  announceTtlMs?: number;
  valueTtlMs?: number;
  maxTopics?: number;
  maxValues?: number;
}

function putBounded<T>(map: Map<string, T>, key: string, value: T, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as string);
}

function live<T>(map: Map<string, Timed<T>>, key: string, now: number): T | undefined {
  const e = map.get(key);
  if (!e) return undefined;
  if (e.expires <= now) {
    map.delete(key);
    return undefined;
  }
  return e.value;
}

export class HyperStore {
  private readonly topics = new Map<string, Map<string, Timed<HyperPeerRecord>>>();
  private readonly bumps = new Map<string, number>();
  private readonly immutables = new Map<string, Timed<Uint8Array>>();
  private readonly mutables = new Map<string, Timed<MutableValue>>();
  private readonly announceTtlMs: number;
  private readonly valueTtlMs: number;
  private readonly maxTopics: number;
  private readonly maxValues: number;

  constructor(options: HyperStoreOptions = {}) {
    this.announceTtlMs = options.announceTtlMs ?? HYPER_ANNOUNCE_TTL_MS;
    this.valueTtlMs = options.valueTtlMs ?? HYPER_VALUE_TTL_MS;
    this.maxTopics = options.maxTopics ?? HYPER_MAX_TOPICS;
    this.maxValues = options.maxValues ?? HYPER_MAX_VALUES;
  }

  announce(topic: Uint8Array, peer: HyperPeerRecord, now: number, bump = 0): void {
    const k = bytesToHex(topic);
    const peers = this.topics.get(k) ?? new Map<string, Timed<HyperPeerRecord>>();
    putBounded(peers, bytesToHex(peer.publicKey), { value: copyPeer(peer), expires: now + this.announceTtlMs }, HYPER_MAX_PEERS_PER_TOPIC);
    putBounded(this.topics, k, peers, this.maxTopics);
    if (bump > (this.bumps.get(k) ?? 0)) putBounded(this.bumps, k, bump, this.maxTopics);
  }

  unannounce(topic: Uint8Array, publicKey: Uint8Array): void {
    const k = bytesToHex(topic);
    const peers = this.topics.get(k);
    if (!peers) return;
    peers.delete(bytesToHex(publicKey));
    if (peers.size === 0) this.topics.delete(k);
  }

  peers(topic: Uint8Array, now: number): { peers: HyperPeerRecord[]; bump: number } {
    const k = bytesToHex(topic);
    const peers = this.topics.get(k);
    const out: HyperPeerRecord[] = [];
    if (peers) for (const key of [...peers.keys()]) {
      const p = live(peers, key, now);
      if (p) out.push(p);
    }
    return { peers: out, bump: this.bumps.get(k) ?? 0 };
  }

  putImmutable(key: Uint8Array, value: Uint8Array, now: number): void {
    putBounded(this.immutables, bytesToHex(key), { value: new Uint8Array(value), expires: now + this.valueTtlMs }, this.maxValues);
  }

  getImmutable(key: Uint8Array, now: number): Uint8Array | undefined {
    return live(this.immutables, bytesToHex(key), now);
  }

  putMutable(key: Uint8Array, v: MutableValue, now: number): void {
    const copy = { seq: v.seq, value: new Uint8Array(v.value), signature: new Uint8Array(v.signature) };
    putBounded(this.mutables, bytesToHex(key), { value: copy, expires: now + this.valueTtlMs }, this.maxValues);
  }

  getMutable(key: Uint8Array, now: number): MutableValue | undefined {
    return live(this.mutables, bytesToHex(key), now);
  }

  get size(): { topics: number; immutables: number; mutables: number } {
    return { topics: this.topics.size, immutables: this.immutables.size, mutables: this.mutables.size };
  }
}

function copyPeer(p: HyperPeerRecord): HyperPeerRecord {
  return { publicKey: new Uint8Array(p.publicKey), relayAddresses: p.relayAddresses.map((a) => ({ host: a.host, port: a.port })) };
}
