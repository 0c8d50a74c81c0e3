import { describe, expect, it } from 'vitest';
import {
  BUCKET_COUNT,
  RoutingTable,
  diversityForHost,
  distanceFraction,
  ipKey,
  isLoopbackOrPrivate,
  parseIPv6,
  subnetKey,
  type ObserveResult,
  type RoutingEntry,
  type RoutingTableOptions,
} from '../../core/routing';
import { BAD_FAILURES } from '../../core/health/health';
import { bytesToHex, compareDistance, hexToBytes, randomIdInBucket, seededRandom, seededRandomBytes } from '../../core/id';
import { isDhtError } from '../../core/errors';
import type { BucketInfo, Contact, PeerInfo } from '../../core/types';

const T0 = 1_700_000_000_000;
const MIN = 60_000;

/** A 64-hex-digit id: `prefix`, zeros, and `tail` in the last two bytes (to tell ids of one bucket apart). */
function hid(prefix: string, tail = 0): string {
  return prefix + '0'.repeat(64 - prefix.length - 4) + tail.toString(16).padStart(4, '0');
}

// The fixed topology most tests use. Bucket = number of leading bits shared with SELF.
const SELF = hid('00'); //       0000 0000 ...
const A1 = hid('80', 1); //      1000 0000 ... first bit differs       -> bucket 0
const A2 = hid('80', 2); //      1000 0000 ...                         -> bucket 0
const A3 = hid('c0', 3); //      1100 0000 ...                         -> bucket 0
const A4 = hid('ff', 4); //      1111 1111 ...                         -> bucket 0
const A5 = hid('a0', 5); //      1010 0000 ...                         -> bucket 0
const A6 = hid('90', 6); //      1001 0000 ...                         -> bucket 0
const B1 = hid('40', 1); //      0100 0000 ... shares 1 bit            -> bucket 1
const B2 = hid('60', 2); //      0110 0000 ...                         -> bucket 1
const C1 = hid('01', 1); //      0000 0001 ... shares 7 bits           -> bucket 7
const D1 = hid('', 1); //        0000 0000 ... 0000 0001: only the last bit differs -> bucket 255

let nextPort = 1000;
/** A contact at a fresh loopback port, so no two ids share an address unless a test says so. */
function c(id: string, host = '127.0.0.1', port = nextPort++): Contact {
  return { id, host, port };
}

function table(opts: RoutingTableOptions = {}): RoutingTable {
  return new RoutingTable(hexToBytes(SELF), { diversity: { enabled: false }, ...opts });
}

const ids = (es: readonly { id: string }[]): string[] => es.map((e) => e.id);
const bucketOf = (t: RoutingTable, index: number) => t.buckets().find((b) => b.index === index);

function expectKind<K extends ObserveResult['kind']>(r: ObserveResult, kind: K): Extract<ObserveResult, { kind: K }> {
  expect(r.kind).toBe(kind);
  return r as Extract<ObserveResult, { kind: K }>;
}

describe('RoutingTable: placement and order', () => {
  it('puts each id in the bucket of its shared-prefix length with self', () => {
    const t = table();
    for (const id of [A1, B1, C1, D1]) expectKind(t.observe(c(id), T0), 'added');
    expect(t.size).toBe(4);
    expect(t.buckets().map((b) => [b.index, ids(b.entries)])).toEqual([
      [0, [A1]],
      [1, [B1]],
      [7, [C1]],
      [255, [D1]],
    ]);
    expect(t.get(C1)?.bucket).toBe(7);
    expect(t.bucketIndexOf(hexToBytes(D1))).toBe(255);
    expect(t.has(A1.toUpperCase())).toBe(true); // ids are case-insensitive on the way in
  });

  it('rejects our own id', () => {
    const t = table();
    expect(t.observe(c(SELF), T0)).toEqual({ kind: 'rejected', reason: 'self' });
    expect(t.size).toBe(0);
    expect(t.buckets()).toEqual([]);
  });

  it('keeps least-recently-seen order and moves a peer seen again to the tail', () => {
    const t = table({ k: 3 });
    t.observe(c(A1), T0 + 1);
    t.observe(c(A2), T0 + 2);
    t.observe(c(A3), T0 + 3);
    expect(ids(bucketOf(t, 0)!.entries)).toEqual([A1, A2, A3]);

    const a1 = t.get(A1)!;
    const r = expectKind(t.observe({ id: A1, host: a1.host, port: a1.port }, T0 + 4, { rttMs: 30 }), 'updated');
    expect(r.entry.lastSeen).toBe(T0 + 4);
    expect(r.entry.addedAt).toBe(T0 + 1);
    expect(r.entry.rttMs).toBe(30);
    expect(r.entry.answered).toBe(1);
    expect(ids(bucketOf(t, 0)!.entries)).toEqual([A2, A3, A1]);

    t.recordSuccess(A2, T0 + 5, 10);
    expect(ids(bucketOf(t, 0)!.entries)).toEqual([A3, A1, A2]);
  });

  it('an incoming request (no rttMs) refreshes lastSeen but is not an answer', () => {
    const t = table();
    t.observe(c(A1), T0);
    const e = t.get(A1)!;
    t.observe({ id: A1, host: e.host, port: e.port }, T0 + 10);
    expect(e).toMatchObject({ lastSeen: T0 + 10, answered: 0, queried: 0, rttMs: null });
    expect(t.peerInfo(A1, T0 + 10)?.state).toBe('unknown');
  });

  it('a known peer seen again is matched however its id is spelled, and a malformed address still throws', () => {
    const t = table({ k: 3 });
    const x = hid('8a', 0xbeef); // bucket 0, with hex letters to spell in upper case
    t.observe(c(x), T0 + 1);
    t.observe(c(A2), T0 + 2);
    const e = t.get(x)!;
    expectKind(t.observe({ id: x.toUpperCase(), host: e.host, port: e.port }, T0 + 3), 'updated');
    expect(e.lastSeen).toBe(T0 + 3);
    expect(ids(bucketOf(t, 0)!.entries)).toEqual([A2, x]);
    const a2 = t.get(A2)!;
    expect(() => t.observe({ id: A2, host: a2.host, port: String(a2.port) as unknown as number }, T0 + 4)).toThrow(/port/);
    expect(a2.lastSeen).toBe(T0 + 2);
  });
});

describe('RoutingTable: full buckets, pings and replacements', () => {
  /** k = 2; bucket 0 holds A1 (oldest) and A2. */
  function fullBucket(opts: RoutingTableOptions = {}): RoutingTable {
    const t = table({ k: 2, ...opts });
    t.observe(c(A1), T0 + 1, { rttMs: 50 });
    t.observe(c(A2), T0 + 2, { rttMs: 50 });
    return t;
  }

  it('a full bucket asks to ping the oldest and caches the candidate', () => {
    const t = fullBucket();
    const a3 = c(A3);
    const r = expectKind(t.observe(a3, T0 + 3), 'pending-ping');
    expect(r.oldest.id).toBe(A1);
    expect(r.candidate).toEqual(a3);
    expect(t.has(A3)).toBe(false);
    expect(t.size).toBe(2);
    expect(ids(bucketOf(t, 0)!.replacements)).toEqual([A3]);

    // Another candidate while the ping is out: same oldest, both cached, newest last.
    const r2 = expectKind(t.observe(c(A4), T0 + 4), 'pending-ping');
    expect(r2.oldest.id).toBe(A1);
    expect(ids(bucketOf(t, 0)!.replacements)).toEqual([A3, A4]);
    // Other buckets are unaffected.
    expectKind(t.observe(c(B1), T0 + 5), 'added');
  });

  it('ping answered: the oldest stays and moves to the tail; the candidates wait', () => {
    const t = fullBucket();
    t.observe(c(A3), T0 + 3);
    const kept = t.pingAnswered(A1, T0 + 4, 70);
    expect(kept?.id).toBe(A1);
    expect(kept?.rttMs).toBeCloseTo(50 + (70 - 50) / 8);
    expect(ids(bucketOf(t, 0)!.entries)).toEqual([A2, A1]);
    expect(ids(bucketOf(t, 0)!.replacements)).toEqual([A3]);
    expect(t.has(A3)).toBe(false);
  });

  it('ping failed: the oldest is evicted and the newest replacement promoted', () => {
    const t = fullBucket();
    t.observe(c(A3), T0 + 3);
    t.observe(c(A4), T0 + 4, { rttMs: 20 });
    const ev = t.pingFailed(A1, T0 + 10);
    expect(ev?.evicted.id).toBe(A1);
    expect(ev?.evicted.failures).toBe(1);
    expect(ev?.promoted.id).toBe(A4);
    expect(ev?.promoted).toMatchObject({ addedAt: T0 + 10, lastSeen: T0 + 4, rttMs: 20, answered: 1, failures: 0, bucket: 0 });
    expect(t.has(A1)).toBe(false);
    // Ordered by lastSeen: A2 (T0+2) before A4 (T0+4).
    expect(ids(bucketOf(t, 0)!.entries)).toEqual([A2, A4]);
    expect(ids(bucketOf(t, 0)!.replacements)).toEqual([A3]);
  });

  it('ping failed with no replacement: the entry stays with one more failure', () => {
    const t = fullBucket();
    expect(t.pingFailed(A1, T0 + 10)).toBeNull();
    expect(t.get(A1)?.failures).toBe(1);
    expect(t.pingFailed('f'.repeat(64), T0)).toBeNull(); // unknown id: nothing to do
  });

  it('a stale candidate (now in the table, or its address taken) is skipped at promotion', () => {
    const t = fullBucket({ k: 2 });
    const a3 = c(A3);
    t.observe(a3, T0 + 3); // cached
    t.observe(c(B1, a3.host, a3.port), T0 + 4); // B1 takes A3's address (A3 is not in the table)
    expect(t.pingFailed(A1, T0 + 5)).toBeNull();
    expect(t.has(A1)).toBe(true);
    expect(bucketOf(t, 0)!.replacements).toEqual([]);
  });

  it('a full bucket whose oldest is bad replaces it at once', () => {
    const t = fullBucket();
    for (let i = 0; i < BAD_FAILURES; i++) expect(t.recordFailure(A1, T0 + 3)).toBeNull(); // no replacement yet: kept
    expect(t.peerInfo(A1, T0 + 3)?.state).toBe('bad');
    const r = expectKind(t.observe(c(A3), T0 + 4), 'replaced');
    expect(r.entry.id).toBe(A3);
    expect(r.evicted.id).toBe(A1);
    expect(ids(bucketOf(t, 0)!.entries)).toEqual([A2, A3]);
  });

  it('recordFailure swaps in a replacement when the entry turns bad', () => {
    const t = fullBucket();
    t.observe(c(A3), T0 + 3); // cached
    expect(t.recordFailure(A2, T0 + 4)).toBeNull();
    expect(t.recordFailure(A2, T0 + 5)).toBeNull();
    expect(t.peerInfo(A2, T0 + 5)?.state).toBe('questionable');
    const ev = t.recordFailure(A2, T0 + 6);
    expect(ev?.evicted.id).toBe(A2);
    expect(ev?.promoted.id).toBe(A3);
    expect(t.recordSuccess(A2, T0 + 7, 10)).toBeUndefined();
  });

  it('a success resets the failure count', () => {
    const t = fullBucket();
    t.recordFailure(A1, T0 + 3);
    t.recordFailure(A1, T0 + 3);
    t.recordSuccess(A1, T0 + 4, 40);
    expect(t.get(A1)?.failures).toBe(0);
    expect(t.peerInfo(A1, T0 + 4)?.state).toBe('good');
  });

  it('the replacement cache keeps the newest, one slot per id and per address', () => {
    const t = table({ k: 1, replacementCacheSize: 3 });
    t.observe(c(A1), T0);
    for (const [i, id] of [A2, A3, A4, A5, A6].entries()) t.observe(c(id), T0 + 1 + i);
    expect(ids(bucketOf(t, 0)!.replacements)).toEqual([A4, A5, A6]);
    // A4 seen again: refreshed as the newest, not duplicated.
    const a4 = bucketOf(t, 0)!.replacements[0];
    t.observe({ id: A4, host: a4.host, port: a4.port }, T0 + 10);
    expect(ids(bucketOf(t, 0)!.replacements)).toEqual([A5, A6, A4]);
    // A new id at A5's address takes A5's slot.
    const a5 = bucketOf(t, 0)!.replacements[0];
    t.observe({ id: A2, host: a5.host, port: a5.port }, T0 + 11);
    expect(ids(bucketOf(t, 0)!.replacements)).toEqual([A6, A4, A2]);
  });

  it('with replacementCacheSize 0 nothing is cached', () => {
    const t = table({ k: 1, replacementCacheSize: 0 });
    t.observe(c(A1), T0);
    expectKind(t.observe(c(A2), T0), 'pending-ping');
    expect(bucketOf(t, 0)!.replacements).toEqual([]);
  });

  it('remove() takes a peer out; its address and slot are free again', () => {
    const t = table({ k: 1 });
    const a1 = c(A1);
    t.observe(a1, T0);
    t.observe(c(A2), T0); // cached
    expect(t.remove(A1)?.id).toBe(A1);
    expect(t.remove(A1)).toBeUndefined();
    expect(t.size).toBe(0);
    expectKind(t.observe(c(B1, a1.host, a1.port), T0 + 1), 'added');
    expect(t.remove(A2)).toBeUndefined(); // a candidate: dropped from the cache
    expect(bucketOf(t, 0)).toBeUndefined();
  });
});

describe('RoutingTable: one id per address', () => {
  it('rejects a second id at a host:port while the first is healthy; replaces it once bad', () => {
    const t = table();
    const addr = { host: '127.0.0.1', port: 4000 };
    expectKind(t.observe({ id: A1, ...addr }, T0, { rttMs: 5 }), 'added');
    expect(t.observe({ id: B1, ...addr }, T0 + 1)).toEqual({ kind: 'rejected', reason: 'id-address-conflict' });
    expect(t.has(B1)).toBe(false);
    for (let i = 0; i < BAD_FAILURES; i++) t.recordFailure(A1, T0 + 2);
    const r = expectKind(t.observe({ id: B1, ...addr }, T0 + 3), 'replaced');
    expect(r.evicted.id).toBe(A1);
    expect(r.entry).toMatchObject({ id: B1, ...addr, bucket: 1 });
    expect(t.has(A1)).toBe(false);
  });

  it('keeps a healthy id at its address when it shows up elsewhere; moves it once the old address is bad', () => {
    const t = table();
    t.observe({ id: A1, host: '127.0.0.1', port: 4000 }, T0, { rttMs: 5 });
    expect(t.observe({ id: A1, host: '127.0.0.1', port: 4001 }, T0 + 1)).toEqual({ kind: 'rejected', reason: 'id-address-conflict' });
    expect(t.get(A1)?.port).toBe(4000);
    for (let i = 0; i < BAD_FAILURES; i++) t.recordFailure(A1, T0 + 2);
    const r = expectKind(t.observe({ id: A1, host: '127.0.0.1', port: 4001 }, T0 + 3, { rttMs: 9 }), 'updated');
    expect(r.entry).toMatchObject({ port: 4001, failures: 0, answered: 1, rttMs: 9, addedAt: T0 });
    // The old address is free again.
    expectKind(t.observe({ id: B1, host: '127.0.0.1', port: 4000 }, T0 + 4), 'added');
  });

  it('does not evict a bad address holder when that would need a second eviction', () => {
    const t = table({ k: 1 });
    t.observe({ id: B1, host: '127.0.0.1', port: 4000 }, T0); // bucket 1
    t.observe(c(A1), T0); // bucket 0, full
    for (let i = 0; i < BAD_FAILURES; i++) t.recordFailure(B1, T0);
    expect(t.observe({ id: A2, host: '127.0.0.1', port: 4000 }, T0 + 1)).toEqual({ kind: 'rejected', reason: 'id-address-conflict' });
    expect(t.has(B1)).toBe(true);
  });
});

describe('RoutingTable: IP diversity', () => {
  it('limits peers per /24 per bucket, per /24 in total, and ids per IP', () => {
    const t = new RoutingTable(hexToBytes(SELF), {
      diversity: { enabled: true, maxPerSubnet24PerBucket: 2, maxPerSubnet24Total: 3, maxIdsPerAddress: 1 },
    });
    expect(t.diversityEnabled).toBe(true);
    expectKind(t.observe(c(A1, '203.0.113.1'), T0), 'added');
    expectKind(t.observe(c(A2, '203.0.113.2'), T0), 'added');
    expect(t.observe(c(A3, '203.0.113.3'), T0)).toEqual({ kind: 'rejected', reason: 'diversity' }); // 3rd of the /24 in bucket 0
    expectKind(t.observe(c(A3, '198.51.100.3'), T0), 'added'); // another /24 is fine
    expectKind(t.observe(c(B1, '203.0.113.4'), T0), 'added'); // bucket 1: 3rd of the /24 in the table
    expect(t.observe(c(C1, '203.0.113.5'), T0)).toEqual({ kind: 'rejected', reason: 'diversity' }); // 4th in the table
    expect(t.observe(c(C1, '198.51.100.3', 9999), T0)).toEqual({ kind: 'rejected', reason: 'diversity' }); // 2nd id on one IP
    expectKind(t.observe(c(C1, '192.0.2.77'), T0), 'added');
    // Leaving frees the quota.
    t.remove(A1);
    expectKind(t.observe(c(B2, '203.0.113.9'), T0), 'added');
  });

  it('groups IPv6 peers by /48 and IPv4-mapped addresses with their IPv4 /24', () => {
    const t = new RoutingTable(hexToBytes(SELF), { diversity: { enabled: true, maxPerSubnet24PerBucket: 1 } });
    expectKind(t.observe(c(A1, '2001:db8:1:1::1'), T0), 'added');
    expect(t.observe(c(A2, '2001:db8:1:ffff::2'), T0).kind).toBe('rejected');
    expectKind(t.observe(c(A2, '2001:db8:2::2'), T0), 'added');
    expectKind(t.observe(c(B1, '203.0.113.1'), T0), 'added');
    expect(t.observe(c(B2, '::ffff:203.0.113.9'), T0)).toEqual({ kind: 'rejected', reason: 'diversity' });
  });

  it('is on by default and off for loopback / private bound hosts, where many nodes share an IP', () => {
    expect(new RoutingTable(hexToBytes(SELF)).diversityEnabled).toBe(true);
    for (const h of ['127.0.0.1', '10.1.2.3', '192.168.0.5', '::1']) expect(diversityForHost(h).enabled).toBe(false);
    for (const h of ['0.0.0.0', '::', '203.0.113.5']) expect(diversityForHost(h).enabled).toBe(true);
    const t = new RoutingTable(hexToBytes(SELF), { diversity: diversityForHost('127.0.0.1') });
    expect(t.diversityEnabled).toBe(false);
    for (const id of [A1, A2, A3, A4, B1, B2, C1]) expect(t.observe(c(id, '127.0.0.1'), T0).kind).toBe('added');
  });

  it('classifies loopback and private addresses', () => {
    const yes = ['127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.3.4',
      '::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'fe80::1%eth0', 'FEBF::1', '::ffff:192.168.1.1', '::ffff:127.0.0.1', 'localhost'];
    const no = ['8.8.8.8', '172.15.0.1', '172.32.0.1', '192.169.0.1', '11.0.0.1', '0.0.0.0', '::', '2001:db8::1', 'fec0::1',
      '::ffff:8.8.8.8', 'example.com', '256.1.1.1', 'not an ip'];
    for (const h of yes) expect(isLoopbackOrPrivate(h), h).toBe(true);
    for (const h of no) expect(isLoopbackOrPrivate(h), h).toBe(false);
  });

  it('parses IPv6 forms and computes subnet and IP keys', () => {
    expect(parseIPv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6('1::8')).toEqual([1, 0, 0, 0, 0, 0, 0, 8]);
    expect(parseIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::1', '12345::', '1.2.3.4', ':1']) expect(parseIPv6(bad), bad).toBeNull();
    expect(subnetKey('203.0.113.77')).toBe('203.0.113.0/24');
    expect(subnetKey('2001:DB8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(subnetKey('::ffff:203.0.113.9')).toBe('203.0.113.0/24');
    expect(ipKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(ipKey('2001:db8::1')).toBe(ipKey('2001:0db8:0:0:0:0:0:1'));
  });
});

describe('RoutingTable: closest()', () => {
  /** A table that observed `count` seeded random ids (k per bucket kept, the rest cached). */
  function randomTable(seed: number, count: number, k: number): RoutingTable {
    const rand = seededRandomBytes(seed);
    const t = new RoutingTable(rand(32), { k, diversity: { enabled: false } });
    for (let i = 0; i < count; i++) t.observe({ id: bytesToHex(rand(32)), host: '127.0.0.1', port: 1 + i }, T0 + i, { rttMs: 10 });
    return t;
  }

  function bruteForce(all: readonly RoutingEntry[], target: Uint8Array, n: number, exclude: Set<string>, includeBad: boolean): string[] {
    return all
      .filter((e) => !exclude.has(e.id) && (includeBad || e.failures < BAD_FAILURES))
      .sort((a, b) => compareDistance(target, a.idBytes, b.idBytes))
      .slice(0, n)
      .map((e) => e.id);
  }

  for (const k of [20, 100]) {
    it(`equals a brute-force sort over 2,000 random ids for 200 targets (k = ${k})`, () => {
      const t = randomTable(42 + k, 2000, k);
      const rand = seededRandomBytes(7 + k);
      const pick = seededRandom(99 + k);
      const all = t.entries();
      expect(all.length).toBeGreaterThan(4 * k);
      // Make some entries bad (replacementCacheSize: they may be swapped for candidates; either way
      // the brute force runs over the table as it then is).
      for (const e of all.filter(() => pick() < 0.1)) for (let i = 0; i < BAD_FAILURES; i++) t.recordFailure(e.id, T0);
      const now = t.entries();
      expect(now.some((e) => e.failures >= BAD_FAILURES)).toBe(true); // bad entries left where no candidate was cached
      const self = hexToBytes(t.selfId);
      for (let q = 0; q < 200; q++) {
        // Targets: random ids, ids in our own deep buckets, entries' own ids, and self.
        const r = pick();
        const target =
          q === 0 ? self
          : r < 0.5 ? rand(32)
          : r < 0.75 ? randomIdInBucket(self, Math.floor(pick() * 12), rand)
          : now[Math.floor(pick() * now.length)].idBytes;
        const n = [1, 3, k, 2 * k, 10_000][q % 5];
        const exclude = new Set(now.filter(() => pick() < 0.2).map((e) => e.id));
        const includeBad = q % 3 === 0;
        const got = ids(t.closest(target, n, { exclude, includeBad }));
        expect(got).toEqual(bruteForce(now, target, n, exclude, includeBad));
      }
    });
  }

  it('handles an empty table, n <= 0 and a bad target', () => {
    const t = table();
    expect(t.closest(hexToBytes(A1), 5)).toEqual([]);
    t.observe(c(A1), T0);
    expect(t.closest(hexToBytes(A1), 0)).toEqual([]);
    expect(() => t.closest(new Uint8Array(5), 3)).toThrow(/32 bytes/);
  });

  it('orders a small fixed topology', () => {
    const t = table();
    for (const id of [A1, A4, B1, C1, D1]) t.observe(c(id), T0);
    // Target 0x7f…: shares 1 bit with SELF; B1 (0x40) is nearest, then the deeper buckets
    // (C1, D1: distance 0x7e…, 0x7f…), then bucket 0 (A4 = 0xff: distance 0x80…, A1 = 0x80: 0xff…).
    expect(ids(t.closest(hexToBytes(hid('7f')), 10))).toEqual([B1, C1, D1, A4, A1]);
    expect(ids(t.closest(hexToBytes(SELF), 2))).toEqual([D1, C1]);
  });
});

describe('RoutingTable: refresh bookkeeping', () => {
  it('lists buckets not refreshed within the interval; touchBucket marks one', () => {
    const t = table();
    t.observe(c(A1), T0);
    t.observe(c(B1), T0 + 5 * MIN);
    t.observe(c(C1), T0 + 10 * MIN);
    const interval = 15 * MIN;
    expect(t.staleBuckets(T0 + 14 * MIN, interval)).toEqual([]);
    expect(t.staleBuckets(T0 + 15 * MIN, interval)).toEqual([0]);
    expect(t.staleBuckets(T0 + 25 * MIN, interval)).toEqual([0, 1, 7]);
    t.touchBucket(1, T0 + 25 * MIN);
    expect(t.staleBuckets(T0 + 25 * MIN, interval)).toEqual([0, 7]);
    expect(bucketOf(t, 1)!.lastRefresh).toBe(T0 + 25 * MIN);
    // Touching a bucket nobody is in creates it, so it is refreshed on schedule from then on.
    t.touchBucket(200, T0);
    expect(t.staleBuckets(T0 + 41 * MIN, interval)).toEqual([0, 1, 7, 200]);
    expect(() => t.touchBucket(BUCKET_COUNT, T0)).toThrow(/0\.\.255/);
  });
});

describe('RoutingTable: network size estimate', () => {
  /**
   * A network of `n` seeded random ids seen from one of them: the table observes every other id
   * once; each bucket keeps the first k that fall in it, as a node that met them in that order would.
   */
  function estimate(n: number, seed: number): number {
    const rand = seededRandomBytes(seed);
    const t = new RoutingTable(rand(32), { diversity: { enabled: false } });
    for (let i = 0; i < n - 1; i++) t.observe({ id: bytesToHex(rand(32)), host: '127.0.0.1', port: 1 + i }, T0, { rttMs: 10 });
    return t.estimateNetworkSize();
  }

  for (const n of [1_000, 10_000]) {
    it(`is within a factor of 2 for ${n.toLocaleString('en')} nodes`, () => {
      for (const seed of [1, 2, 3]) {
        const est = estimate(n, seed * 1_000_003 + n);
        expect(est, `seed ${seed}`).toBeGreaterThan(n / 2);
        expect(est, `seed ${seed}`).toBeLessThan(n * 2);
      }
    });
  }

  it('is 1 + known peers for tiny tables', () => {
    const t = table();
    expect(t.estimateNetworkSize()).toBe(1);
    t.observe(c(A1), T0);
    expect(t.estimateNetworkSize()).toBe(2);
    // Two peers far from us would suggest ~2 others; it never says fewer than we know.
    t.observe(c(B1), T0);
    expect(t.estimateNetworkSize()).toBeGreaterThanOrEqual(3);
  });

  it('falls when peers turn bad: neither the density nor the floor counts them', () => {
    // 40 peers, then 16 of them stop answering (3 failures each): the estimate must come down to
    // what a table of the 24 that remain says, not stay at the 41 the floor held it to before.
    const rand = seededRandomBytes(0x5e1f);
    const self = rand(32);
    const all = new RoutingTable(self, { k: 64, diversity: { enabled: false } });
    const alive = new RoutingTable(self, { k: 64, diversity: { enabled: false } });
    const ids = Array.from({ length: 40 }, () => bytesToHex(rand(32)));
    ids.forEach((id, i) => {
      all.observe({ id, host: '127.0.0.1', port: 1 + i }, T0, { rttMs: 10 });
      if (i >= 16) alive.observe({ id, host: '127.0.0.1', port: 1 + i }, T0, { rttMs: 10 });
    });
    const before = all.estimateNetworkSize();
    expect(before).toBeGreaterThanOrEqual(41);
    for (const id of ids.slice(0, 16)) for (let f = 0; f < BAD_FAILURES; f++) all.recordFailure(id, T0 + MIN);
    expect(all.size).toBe(40); // still held (no replacements), but bad
    expect(all.estimateNetworkSize()).toBe(alive.estimateNetworkSize());
    expect(all.estimateNetworkSize()).toBeLessThan(before);
  });

  it('distanceFraction measures XOR distance as a share of the space', () => {
    expect(distanceFraction(hexToBytes(SELF), hexToBytes(hid('80')))).toBe(0.5);
    expect(distanceFraction(hexToBytes(SELF), hexToBytes(hid('40')))).toBe(0.25);
    expect(distanceFraction(hexToBytes(SELF), hexToBytes(SELF))).toBe(0);
    expect(distanceFraction(hexToBytes(SELF), hexToBytes(D1))).toBeCloseTo(2 ** -256, 300);
  });
});

describe('RoutingTable: bounds, input checks and DTOs', () => {
  it('stays bounded however many peers it meets', () => {
    const rand = seededRandomBytes(5);
    const t = new RoutingTable(rand(32), { k: 8, replacementCacheSize: 4, diversity: { enabled: false } });
    for (let i = 0; i < 20_000; i++) t.observe({ id: bytesToHex(rand(32)), host: '127.0.0.1', port: 1 + (i % 60_000) }, T0 + i);
    const bs = t.buckets();
    for (const b of bs) {
      expect(b.entries.length).toBeLessThanOrEqual(8);
      expect(b.replacements.length).toBeLessThanOrEqual(4);
    }
    expect(bs.length).toBeLessThanOrEqual(BUCKET_COUNT);
    expect(t.size).toBe(bs.reduce((s, b) => s + b.entries.length, 0));
  });

  it('throws INVALID_ARGUMENT on malformed contacts and options, changing nothing', () => {
    const t = table();
    const bad: unknown[] = [
      { id: 'abc', host: '127.0.0.1', port: 1 },
      { id: A1, host: '', port: 1 },
      { id: A1, host: '127.0.0.1', port: 0 },
      { id: A1, host: '127.0.0.1', port: 70_000 },
      { id: A1, host: '127.0.0.1', port: 1.5 },
      null,
    ];
    for (const x of bad) {
      let err: unknown;
      try {
        t.observe(x as Contact, T0);
      } catch (e) {
        err = e;
      }
      expect(isDhtError(err, 'INVALID_ARGUMENT'), JSON.stringify(x)).toBe(true);
    }
    expect(t.size).toBe(0);
    expect(() => new RoutingTable(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => table({ k: 0 })).toThrow(/k must be/);
    expect(() => table({ replacementCacheSize: -1 })).toThrow(/replacementCacheSize/);
    expect(() => table({ diversity: { enabled: true, maxIdsPerAddress: 0 } })).toThrow(/maxIdsPerAddress/);
  });

  it('produces PeerInfo and BucketInfo DTOs', () => {
    const t = table({ k: 1 });
    t.observe({ id: A1, host: '127.0.0.1', port: 5000 }, T0, { rttMs: 12 });
    t.observe({ id: A2, host: '127.0.0.1', port: 5001 }, T0 + 1);
    const info: PeerInfo | undefined = t.peerInfo(A1, T0 + 2);
    expect(info).toEqual({
      id: A1, host: '127.0.0.1', port: 5000, state: 'good', rttMs: 12, lastSeen: T0,
      failures: 0, answered: 1, queried: 1, bucket: 0, addedAt: T0,
    });
    const buckets: BucketInfo[] = t.bucketInfos(T0 + 2);
    expect(buckets).toEqual([{ index: 0, peers: [info], replacements: [{ id: A2, host: '127.0.0.1', port: 5001 }], lastRefresh: T0 }]);
    expect(t.peerInfos(T0 + 2)).toEqual([info]);
  });
});

describe('RoutingTable: finding entries without an id or address index', () => {
  it('get, has and size agree with entries() through adds, caching, evictions, removals and moves', () => {
    const rand = seededRandomBytes(23);
    const pick = seededRandom(24);
    const self = rand(32);
    const t = new RoutingTable(self, { k: 4, diversity: { enabled: false } });
    const seen: Contact[] = [];
    let now = T0;
    let departures = 0;
    let lastHeld = new Set<string>();
    for (let step = 0; step < 600; step++) {
      now += 10;
      const roll = pick();
      if (roll < 0.55 || seen.length === 0) {
        // A new peer, or a new id at a known peer's address (one id per address).
        const reuse = seen.length > 0 && pick() < 0.1 ? seen[Math.floor(pick() * seen.length)] : undefined;
        const contact = { id: bytesToHex(randomIdInBucket(self, Math.floor(pick() * 6), rand)), host: '127.0.0.1', port: reuse?.port ?? 2000 + step };
        seen.push(contact);
        t.observe(contact, now, pick() < 0.5 ? { rttMs: 3 } : {});
      } else {
        const known = seen[Math.floor(pick() * seen.length)];
        if (roll < 0.75) t.recordFailure(known.id, now);
        else if (roll < 0.85) t.pingFailed(known.id, now);
        else if (roll < 0.9) t.remove(known.id.toUpperCase());
        else if (roll < 0.95) t.observe({ ...known, port: known.port + 10_000 }, now); // the same id elsewhere
        else t.observe(known, now, { rttMs: 2 });
      }
      const held = t.entries();
      const heldIds = new Set(held.map((e) => e.id));
      const wrong = seen.filter((x) => t.has(x.id) !== heldIds.has(x.id) || t.get(x.id.toUpperCase())?.id !== (heldIds.has(x.id) ? x.id : undefined));
      if (t.size !== held.length || wrong.length > 0) expect({ step, size: t.size, held: held.length, wrong: wrong.map((x) => x.id) }).toEqual({ step, size: held.length, held: held.length, wrong: [] });
      const byAddress = new Set(held.map((e) => `${e.host}:${e.port}`));
      if (byAddress.size !== held.length) expect(held.map((e) => `${e.host}:${e.port}`)).toEqual([...byAddress]); // still one id per address
      for (const id of lastHeld) if (!heldIds.has(id)) departures++; // evicted, replaced or removed
      lastHeld = heldIds;
    }
    expect(departures).toBeGreaterThan(10);
    expect(t.size).toBeGreaterThan(8);
  });

  it('finds nothing for ids it cannot hold', () => {
    const t = table();
    t.observe(c(A1), T0);
    expect(t.get(SELF)).toBeUndefined();
    expect(t.get('zz')).toBeUndefined();
    expect(t.get(A1.slice(0, 40))).toBeUndefined();
    expect(t.get(42 as unknown as string)).toBeUndefined();
    expect(t.has(A2)).toBe(false);
    expect(t.get(A1)?.id).toBe(A1);
  });
});
