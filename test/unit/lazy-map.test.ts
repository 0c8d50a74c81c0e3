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
