// closest() sorts each group by a 48-bit prefix of the XOR distance and breaks ties on the full
// 32 bytes. Random ids almost never tie on 48 bits, so this covers the tie path on purpose: ids
// that share their first 8 bytes (so every key in a group is equal), checked against a brute force.
import { describe, expect, it } from 'vitest';
import { bytesToHex, compareDistance, seededRandomBytes } from '../../core/id';
import { RoutingTable } from '../../core/routing/table';

const T0 = 1_700_000_000_000;
const PREFIX_BYTES = 8;

describe('RoutingTable.closest() with ids that tie on their first bytes', () => {
  it('still orders by the full distance', () => {
    const rand = seededRandomBytes(0x7e1);
    const prefix = rand(PREFIX_BYTES);
    const clustered = (): Uint8Array => {
      const id = rand(32);
      id.set(prefix, 0);
      return id;
    };
    // Self outside the cluster: all clustered ids land in one bucket, which k = 64 keeps whole.
    const self = rand(32);
    self[0] = prefix[0] ^ 0x80;
    const t = new RoutingTable(self, { k: 64, diversity: { enabled: false } });
    for (let i = 0; i < 40; i++) t.observe({ id: bytesToHex(clustered()), host: '127.0.0.1', port: 1 + i }, T0 + i, { rttMs: 5 });
    const all = t.entries();
    expect(all).toHaveLength(40);
    for (let q = 0; q < 50; q++) {
      const target = clustered();
      const want = [...all].sort((a, b) => compareDistance(target, a.idBytes, b.idBytes)).map((e) => e.id);
      for (const n of [1, 7, 20, 40]) expect(t.closest(target, n).map((e) => e.id)).toEqual(want.slice(0, n));
    }
  });
});

describe('RoutingTable.closest() against a brute force, call after call', () => {
  it('groups of every size (insertion sort and the engine sort past 48), with exclude, in any order of calls', () => {
    const rand = seededRandomBytes(0x7e2);
    const self = rand(32);
    // k = 64: merged groups past bucket t can exceed 48 entries (the engine-sort path).
    const t = new RoutingTable(self, { k: 64, diversity: { enabled: false } });
    for (let i = 0; i < 300; i++) t.observe({ id: bytesToHex(rand(32)), host: '127.0.0.1', port: 1 + i }, T0 + i, { rttMs: 5 });
    const all = t.entries();
    expect(all.length).toBeGreaterThan(100);
    for (let q = 0; q < 200; q++) {
      // Targets near us too, so that bucket t is deep and the buckets past it are merged.
      const target = rand(32);
      if (q % 2 === 0) target.set(self.subarray(0, 1 + (q % 3)), 0);
      const exclude = q % 3 === 0 ? new Set(all.filter((_, i) => i % 5 === q % 5).map((e) => e.id)) : undefined;
      const pool = exclude ? all.filter((e) => !exclude.has(e.id)) : all;
      const want = [...pool].sort((a, b) => compareDistance(target, a.idBytes, b.idBytes)).map((e) => e.id);
      const n = [1, 20, 64, 500][q % 4];
      expect(t.closest(target, n, exclude ? { exclude } : {}).map((e) => e.id)).toEqual(want.slice(0, n));
    }
  });
});
