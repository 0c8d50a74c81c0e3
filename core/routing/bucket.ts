// One k-bucket: up to k entries in least-recently-seen order (oldest first, as in the Kademlia
// paper) and a bounded replacement cache (newest last). Pure bookkeeping; the policy (who gets in,
// who is evicted) lives in table.ts.
import { packTime, unpackTime, type CachedCandidate, type TableEntry } from './entry';

/*
 * Both lists are replaced, not grown, when something enters or leaves (toSpliced): an array grown by
 * push or splice keeps room for ~twice its length (43 slots for 18 entries), and a node holds ~10
 * buckets in each of thousands of tables per process. Entering and leaving are rare next to the
 * reads and moveToTail (in place); nobody holds a list across a change.
 */
const NO_ENTRIES: TableEntry[] = [];
const NO_CANDIDATES: CachedCandidate[] = [];

/** A table's bounds, one object its buckets share (a field each per bucket was 16 bytes of ~10 buckets per node). */
export interface BucketLimits {
  readonly k: number;
  readonly replacementCacheSize: number;
}

export class Bucket {
  /** Least recently seen first. Never longer than k. */
  entries: TableEntry[] = NO_ENTRIES;
  /** Newest last. Never longer than replacementCacheSize. */
  replacements: CachedCandidate[] = NO_CANDIDATES;
  /** lastRefresh packed as the entries keep their times (a small integer, not a 16-byte boxed number). */
  private refreshedAt: number;

  constructor(
    private readonly limits: BucketLimits,
    createdAt: number,
  ) {
    this.refreshedAt = packTime(createdAt);
  }

  /** Clock ms of the last lookup into this bucket's range, or of its creation (whole ms, as entries' times). */
  get lastRefresh(): number {
    return unpackTime(this.refreshedAt);
  }

  set lastRefresh(ms: number) {
    this.refreshedAt = packTime(ms);
  }

  get isFull(): boolean {
    return this.entries.length >= this.limits.k;
  }

  get isEmpty(): boolean {
    return this.entries.length === 0 && this.replacements.length === 0;
  }

  /** Least recently seen entry, the one to ping when the bucket is full. */
  oldest(): TableEntry | undefined {
    return this.entries[0];
  }

  /**
   * Inserts keeping the order by lastSeen (a fresh entry lands at the tail; a promoted replacement
   * last heard long ago lands nearer the head, where it is the next to be checked).
   */
  insert(entry: TableEntry): void {
    if (this.isFull) throw new Error(`bucket is full (k=${this.limits.k}); the table must evict first`);
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1].lastSeen > entry.lastSeen) i--;
    this.entries = this.entries.toSpliced(i, 0, entry);
  }

  /** Moves an entry to the tail (most recently seen). */
  moveToTail(entry: TableEntry): void {
    const entries = this.entries;
    const i = entries.indexOf(entry);
    if (i < 0) return;
    // Shifted by hand: splice() would build an array of the removed entry on every answer.
    const last = entries.length - 1;
    for (let j = i; j < last; j++) entries[j] = entries[j + 1];
    entries[last] = entry;
  }

  remove(entry: TableEntry): boolean {
    const i = this.entries.indexOf(entry);
    if (i < 0) return false;
    this.entries = this.entries.toSpliced(i, 1);
    return true;
  }

  /** The least recently seen entry for which `pred` holds. */
  findOldest(pred: (e: TableEntry) => boolean): TableEntry | undefined {
    return this.entries.find(pred);
  }

  /**
   * Adds or refreshes a candidate as the newest. One slot per id and per address: a newer claim
   * for the same host:port replaces the older one, so one address cannot flood the cache with ids.
   * The oldest candidate is dropped when the cache is full.
   */
  addReplacement(r: CachedCandidate): void {
    const kept = this.replacements.filter((x) => x.id !== r.id && !(x.host === r.host && x.port === r.port));
    const next = kept.toSpliced(kept.length, 0, r);
    const over = next.length - this.limits.replacementCacheSize;
    this.replacements = over > 0 ? next.toSpliced(0, over) : next;
  }

  findReplacement(id: string): CachedCandidate | undefined {
    return this.replacements.find((r) => r.id === id);
  }

  removeReplacement(id: string): boolean {
    const i = this.replacements.findIndex((r) => r.id === id);
    if (i < 0) return false;
    this.replacements = this.replacements.toSpliced(i, 1);
    return true;
  }

  /** Takes the newest candidate out of the cache. */
  popNewestReplacement(): CachedCandidate | undefined {
    const list = this.replacements;
    if (list.length === 0) return undefined;
    this.replacements = list.toSpliced(list.length - 1, 1);
    return list[list.length - 1];
  }
}
