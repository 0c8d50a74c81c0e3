// State a node keeps per peer and per figure, packed so a process of many nodes stays small
// (core/routing/entry.ts, core/metrics): the packed fields read back what was written, counts that
// outgrow their bits keep their ratio, and figures nothing was recorded in read as zeros without
// costing each node a copy.
import { describe, expect, it } from 'vitest';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { COUNT_MAX, FAILURES_MAX, sharedContact, TableEntry } from '../../core/routing/entry';
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
