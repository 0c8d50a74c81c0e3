// LazyMap: the Map subset per-node state uses, with its table made on first write.
import { describe, expect, it } from 'vitest';
import { LazyMap, LazySet } from '../../core/lazy-map';

describe('LazyMap', () => {
  it('reads as an empty map before the first write', () => {
    const m = new LazyMap<string, number>();
    expect(m.size).toBe(0);
    expect(m.get('a')).toBeUndefined();
    expect(m.has('a')).toBe(false);
    expect(m.delete('a')).toBe(false);
    expect([...m]).toEqual([]);
    expect([...m.keys()]).toEqual([]);
    expect([...m.values()]).toEqual([]);
  });

  it('keeps insertion order like a Map, and clear() ends an iteration in progress', () => {
    const m = new LazyMap<string, number>();
    m.set('b', 2).set('a', 1).set('b', 3);
    expect([...m.entries()]).toEqual([['b', 3], ['a', 1]]);
    expect(m.size).toBe(2);
    expect(m.delete('b')).toBe(true);
    m.set('c', 4);
    const seen: string[] = [];
    for (const [k] of m) {
      seen.push(k);
      m.clear();
    }
    expect(seen).toEqual(['a']);
    expect(m.size).toBe(0);
    m.set('d', 5);
    expect([...m.keys()]).toEqual(['d']);
  });
});

describe('emptied by delete', () => {
  // The point is memory: the table goes with the last entry. Read through the private field, the
  // only place that shows it.
  const table = (x: LazyMap<string, number> | LazySet<string>): unknown =>
    x instanceof LazyMap ? (x as unknown as { map: unknown }).map : (x as unknown as { set: unknown }).set;

  it('drops the table with the last entry and works as before afterwards', () => {
    const m = new LazyMap<string, number>();
    m.set('a', 1).set('b', 2);
    expect(m.delete('a')).toBe(true);
    expect(table(m)).not.toBeNull();
    expect(m.delete('zz')).toBe(false);
    expect(m.delete('b')).toBe(true);
    expect(table(m)).toBeNull();
    expect(m.size).toBe(0);
    expect(m.delete('b')).toBe(false);
    m.set('c', 3);
    expect([...m]).toEqual([['c', 3]]);
    const s = new LazySet<string>();
    s.add('x');
    expect(s.delete('y')).toBe(false);
    expect(table(s)).not.toBeNull();
    expect(s.delete('x')).toBe(true);
    expect(table(s)).toBeNull();
    s.add('y');
    expect([...s]).toEqual(['y']);
  });

  it('a loop that deletes each entry it visits still visits every one', () => {
    const m = new LazyMap<string, number>();
    for (const k of ['a', 'b', 'c']) m.set(k, 0);
    const seen: string[] = [];
    for (const [k] of m) {
      seen.push(k);
      m.delete(k);
    }
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(m.size).toBe(0);
  });
});

describe('LazySet', () => {
  it('reads as an empty set before the first add, keeps insertion order, and is empty again after clear()', () => {
    const s = new LazySet<string>();
    expect(s.size).toBe(0);
    expect(s.has('a')).toBe(false);
    expect(s.delete('a')).toBe(false);
    expect([...s]).toEqual([]);
    s.add('b').add('a').add('b');
    expect([...s]).toEqual(['b', 'a']);
    expect(s.has('a')).toBe(true);
    expect(s.delete('b')).toBe(true);
    expect([...s.values()]).toEqual(['a']);
    s.clear();
    expect(s.size).toBe(0);
    expect([...s]).toEqual([]);
    s.add('c');
    expect(s.size).toBe(1);
  });
});
