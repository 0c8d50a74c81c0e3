// State a node keeps per peer and per figure, packed so a process of many nodes stays small
// (core/routing/entry.ts, core/metrics): the packed fields read back what was written, counts that
// outgrow their bits keep their ratio, and figures nothing was recorded in read as zeros without
// costing each node a copy.
import { describe, expect, it } from 'vitest';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { COUNT_MAX, FAILURES_MAX, rttCode, rttFromCode, sharedContact, TableEntry } from '../../core/routing/entry';
import { RoutingTable } from '../../core/routing/table';
import { recordAnswer, recordTimeout } from '../../core/health/health';
import { LookupStats } from '../../core/metrics/lookup-stats';
import { createTestnet } from '../../core/testnet';
import { RetryPolicy } from '../../core/rpc/loss';

const rand = seededRandomBytes(0x5eed);

function entry(bucket: number, health = { rttMs: null as number | null, lastSeen: 1_000, failures: 0, answered: 0, queried: 0 }): TableEntry {
  const id = rand(32);
  return new TableEntry(sharedContact(bytesToHex(id), id, '127.0.0.1', 4000), bucket, 1_000, health);
}

describe('TableEntry packing', () => {
  it('reads back bucket, failures and counts as written, each independent of the others', () => {
    const e = entry(255, { rttMs: 1.5, lastSeen: 2_000, failures: 3, answered: 7, queried: 9 });
    expect([e.bucket, e.failures, e.answered, e.queried, e.rttMs, e.lastSeen, e.addedAt]).toEqual([255, 3, 7, 9, 1.5, 2_000, 1_000]);
    e.failures = 0;
    e.answered = 100;
    expect([e.bucket, e.failures, e.answered, e.queried]).toEqual([255, 0, 100, 9]);
    e.queried = 12_345;
    e.failures = 17;
    expect([e.bucket, e.failures, e.answered, e.queried]).toEqual([255, 17, 100, 12_345]);
    // A 64-byte id's deepest bucket still fits beside the failures.
    const deep = entry(511, { rttMs: null, lastSeen: 1_000, failures: 2, answered: 0, queried: 2 });
    expect([deep.bucket, deep.failures, deep.rttMs]).toEqual([511, 2, null]);
  });

  it('saturates the failures and never lets them spill into the bucket', () => {
    const e = entry(42);
    e.failures = FAILURES_MAX + 1_000;
    expect(e.failures).toBe(FAILURES_MAX);
    expect(e.bucket).toBe(42);
    e.failures = -5;
    expect(e.failures).toBe(0);
    expect(e.bucket).toBe(42);
  });

  it('failures in the top bits (the sign bit of the field) leave the bucket and round trip alone', () => {
    const e = entry(511, { rttMs: 52.5, lastSeen: 1_000, failures: 0, answered: 0, queried: 0 });
    for (const f of [63, 64, 100, FAILURES_MAX]) {
      e.failures = f;
      expect([e.failures, e.bucket]).toEqual([f, 511]);
      expect(e.rttMs).toBeCloseTo(52.5, 2);
    }
    e.rttMs = 3.2;
    expect([e.failures, e.bucket, e.rttMs]).toEqual([FAILURES_MAX, 511, 3.2]);
    e.rttMs = null;
    expect([e.failures, e.bucket, e.rttMs]).toEqual([FAILURES_MAX, 511, null]);
    e.failures = 0;
    expect([e.failures, e.bucket, e.rttMs]).toEqual([0, 511, null]);
  });

  it('keeps round trips exact to the microsecond below 4.096 ms and to 1 part in 4,096 above, in order', () => {
    const rand = seededRandomBytes(7);
    let prevMs = -1;
    let prevCode = -1;
    // Every whole microsecond up to 5 ms, then random round trips up to 40 minutes, ascending.
    const samples: number[] = [];
    for (let us = 0; us <= 5_000; us++) samples.push(us / 1000);
    for (let i = 0; i < 5_000; i++) {
      const b = rand(4);
      samples.push(((b[0] << 16) | (b[1] << 8) | b[2]) / 2 ** 24 * 10 ** (1 + (b[3] % 6)));
    }
    samples.push(40 * 60_000);
    samples.sort((a, b) => a - b);
    for (const ms of samples) {
      const code = rttCode(ms);
      expect(code).toBeGreaterThanOrEqual(0);
      expect(code).toBeLessThan(0xffff);
      expect(code).toBeGreaterThanOrEqual(prevCode); // an order-keeping code
      const back = rttFromCode(code)!;
      if (ms <= 4.095) expect(back).toBe(Math.round(ms * 1000) / 1000);
      // 1 part in 4,096 of the whole microseconds the round trip is first rounded to (half a us off at most).
      else if (ms <= 0x7fff_ffff / 1000) expect(Math.abs(back - ms)).toBeLessThanOrEqual(ms / 4096 + 0.0005);
      else expect(back).toBeCloseTo(0x7fff_ffff / 1000, -3); // kept up to ~35.8 minutes
      expect(back).toBeGreaterThanOrEqual(prevMs);
      prevMs = back;
      prevCode = code;
    }
    expect(rttCode(null)).toBe(0xffff);
    expect(rttFromCode(0xffff)).toBeNull();
    expect(rttFromCode(rttCode(-3))).toBe(0);
  });

  it('the table refuses a bad-failures threshold its entries could not count to', () => {
    const self = rand(32);
    expect(() => new RoutingTable(self, { health: { badFailures: FAILURES_MAX + 1 } })).toThrow(/badFailures must be an integer in 1\.\.127/);
    expect(() => new RoutingTable(self, { health: { badFailures: 0 } })).toThrow(/badFailures/);
    expect(new RoutingTable(self, { health: { badFailures: FAILURES_MAX } }).size).toBe(0);
  });

  it('halves answered and queried together once either outgrows its bits, keeping the answer ratio', () => {
    const e = entry(3);
    // Three answers in four requests, far past what 15 bits hold.
    for (let i = 0; i < 50_000; i++) {
      if (i % 4 === 3) recordTimeout(e);
      else recordAnswer(e, 1_000 + i);
    }
    expect(e.queried).toBeLessThanOrEqual(COUNT_MAX);
    expect(e.queried).toBeGreaterThan(COUNT_MAX / 2);
    expect(e.answered).toBeLessThanOrEqual(e.queried);
    expect(e.answered / e.queried).toBeCloseTo(0.75, 2);
    expect(e.bucket).toBe(3);
    expect(e.failures).toBe(1); // the last request (i = 49,999) went unanswered
  });

  it('a peer that always answers keeps answered equal to queried through the halving', () => {
    const e = entry(9);
    for (let i = 0; i < 70_000; i++) recordAnswer(e, 1_000 + i);
    expect(e.answered).toBe(e.queried);
    expect(e.queried).toBeLessThanOrEqual(COUNT_MAX);
  });
});

describe('figures made on first use', () => {
  it('a lookup kind that never ran reads as zeros, and recording one kind leaves the others at zero', () => {
    const stats = new LookupStats();
    const empty = stats.byKind['get-peers'];
    expect(empty.outcomes.converged).toBe(0);
    expect(empty.durationMs.count).toBe(0);
    expect([...empty.durationMs.counts].every((c) => c === 0)).toBe(true);
    // The shared empty figure can't be written through.
    expect(() => empty.durationMs.observe(5)).toThrow(TypeError);
    // ...nor half-written: the refused observation left no count behind in it.
    expect([...empty.durationMs.counts].every((c) => c === 0)).toBe(true);
    expect(empty.durationMs.sum).toBe(0);
    stats.record('find-value', { reason: 'value-found', durationMs: 12, messages: 7 });
    stats.record('find-value', { reason: 'exhausted', durationMs: 40, messages: 20 });
    const fv = stats.byKind['find-value'];
    expect(fv.outcomes['value-found']).toBe(1);
    expect(fv.outcomes.exhausted).toBe(1);
    expect(fv.durationMs.count).toBe(2);
    expect(fv.messages.sum).toBe(27);
    expect(stats.byKind['get-peers'].durationMs.count).toBe(0);
    expect(stats.byKind['find-node'].outcomes['value-found']).toBe(0);
  });

  it('RPC latency: methods never answered read as empty, an answered method counts its answers', async () => {
    const tn = await createTestnet({ size: 4, transport: 'memory', seed: 0xc0de });
    try {
      const node = tn.nodes[1];
      const before = node.metrics().rpcLatencyMs;
      expect(before.STORE.count).toBe(0);
      expect(before.ANNOUNCE.count).toBe(0);
      const pings = before.PING.count;
      await tn.run(node.ping(tn.nodes[2].address));
      const after = node.metrics();
      expect(after.rpcLatencyMs.PING.count).toBe(pings + 1);
      expect(after.rpcLatencyMs.PING.count).toBe(after.counters.rpc.PING.responses);
      expect(after.rpcLatencyMs.STORE.count).toBe(0);
    } finally {
      await tn.destroy();
    }
  });
  it('RPC counters: a method never used reads zeros, its first use makes this node its own row', async () => {
    const tn = await createTestnet({ size: 4, transport: 'memory', seed: 0xc0de });
    try {
      const [a, b] = [tn.nodes[1], tn.nodes[2]];
      const rowsOf = (n: typeof a): Record<string, { sent: number; received: number }> => n.metrics().counters.rpc;
      expect(rowsOf(a).BROADCAST).toMatchObject({ sent: 0, received: 0, responses: 0 });
      // Unused rows are one shared frozen row: nobody outside the RPC layer can write through it.
      expect(Object.isFrozen(rowsOf(a).BROADCAST)).toBe(true);
      expect(rowsOf(a).BROADCAST).toBe(rowsOf(b).BROADCAST);
      const pings = rowsOf(a).PING.sent;
      await tn.run(a.ping(b.address));
      expect(rowsOf(a).PING.sent).toBe(pings + 1);
      expect(Object.isFrozen(rowsOf(a).PING)).toBe(false);
      // b's own row counted the PING it received; a's BROADCAST row is still the shared zero one.
      expect(rowsOf(b).PING.received).toBeGreaterThan(0);
      expect(rowsOf(a).BROADCAST).toMatchObject({ sent: 0, received: 0 });
      expect(a.snapshot().counters.rpc.BROADCAST).toEqual({ sent: 0, responses: 0, timeouts: 0, errors: 0, received: 0 });
    } finally {
      await tn.destroy();
    }
  });
});

describe('the tick figures (what the explorer shows once a second)', () => {
  it('equal those fields of a full snapshot, at start and after lookups, a stored value and a stopped peer', async () => {
    const tn = await createTestnet({ size: 12, transport: 'memory', seed: 0x71c });
    try {
      const node = tn.nodes[3];
      const same = (): void => {
        const s = node.snapshot();
        expect(node.tickFigures()).toEqual({ now: s.now, counters: s.counters, peers: s.peers.length, estimatedNetworkSize: s.estimatedNetworkSize, observedAddress: s.observedAddress });
      };
      same();
      await tn.run(node.findNode(bytesToHex(rand(32))));
      await tn.run(node.records.put('a value'));
      same();
      await tn.nodes[5].stop();
      await tn.run(node.findNode(bytesToHex(rand(32))));
      same();
      expect(node.tickFigures().peers).toBeGreaterThan(0);
      expect(node.tickFigures().counters.rpc.FIND_NODE.sent).toBeGreaterThan(0);
    } finally {
      await tn.destroy();
    }
  });
});

describe('RetryPolicy ring (late flag and allowed attempts in one slot)', () => {
  it('forgets answers that left the window exactly: the estimate depends only on the last 64', () => {
    const feed = (p: RetryPolicy, n: number, allowed: number): void => {
      for (let i = 0; i < n; i++) p.answered(i % 3 === 0 ? 2 : 1, allowed);
    };
    const old = new RetryPolicy({ baseRetries: 1 });
    feed(old, 200, 255); // many attempts allowed, then...
    feed(old, 64, 3); // ...a full window at three
    const fresh = new RetryPolicy({ baseRetries: 1 });
    feed(fresh, 64, 3);
    expect(fresh.estimatedLoss).toBeGreaterThan(0);
    // Within what the fast average still remembers of the earlier answers (0.9^64 of them).
    expect(old.estimatedLoss).toBeCloseTo(fresh.estimatedLoss, 2);
  });
});
