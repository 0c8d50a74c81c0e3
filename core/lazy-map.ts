// A Map that allocates its table on the first write. V8 gives every new Map a hash table of ~180
// bytes even while it stays empty, and a node has a dozen maps (records, announcements, custom
// methods, validators, key pairs...) that most nodes never fill: in a process of thousands of nodes
// that was ~2 KiB per node of empty tables. This object costs 16 bytes until something is stored.
// It offers the part of Map's API the node uses; bounds stay the owner's job (ARCHITECTURE.md, habit 6).
export class LazyMap<K, V> implements Iterable<[K, V]> {
  private map: Map<K, V> | null = null;

  get size(): number {
    return this.map?.size ?? 0;
  }

  get(key: K): V | undefined {
    return this.map?.get(key);
  }

  has(key: K): boolean {
    return this.map?.has(key) ?? false;
  }

  set(key: K, value: V): this {
    (this.map ??= new Map()).set(key, value);
    return this;
  }

  /** Drops the table with the last entry. */
  delete(key: K): boolean {
    const map = this.map;
    if (map === null || !map.delete(key)) return false;
    if (map.size === 0) this.map = null;
    return true;
  }

  /** Drops the table too: an emptied map costs nothing again. */
  clear(): void {
    this.map?.clear(); // ends iterations in progress, as Map.clear() does
    this.map = null;
  }

  keys(): IterableIterator<K> {
    return (this.map ?? EMPTY).keys() as IterableIterator<K>;
  }

  values(): IterableIterator<V> {
    return (this.map ?? EMPTY).values() as IterableIterator<V>;
  }

  entries(): IterableIterator<[K, V]> {
    return (this.map ?? EMPTY).entries() as IterableIterator<[K, V]>;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}

const EMPTY: ReadonlyMap<unknown, unknown> = new Map();

/** LazyMap's twin for sets: 16 bytes until the first add, and free again once emptied. */
export class LazySet<T> implements Iterable<T> {
  private set: Set<T> | null = null;

  get size(): number {
    return this.set?.size ?? 0;
  }

  has(value: T): boolean {
    return this.set?.has(value) ?? false;
  }

  add(value: T): this {
    (this.set ??= new Set()).add(value);
    return this;
  }

  /** Drops the table with the last value. */
  delete(value: T): boolean {
    const set = this.set;
    if (set === null || !set.delete(value)) return false;
    if (set.size === 0) this.set = null;
    return true;
  }

  /** Drops the table too. */
  clear(): void {
    this.set?.clear();
    this.set = null;
  }

  values(): IterableIterator<T> {
    return (this.set ?? EMPTY_SET).values() as IterableIterator<T>;
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.values();
  }
}

const EMPTY_SET: ReadonlySet<unknown> = new Set();
