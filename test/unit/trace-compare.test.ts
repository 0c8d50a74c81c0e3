// Comparing two traces: figures side by side with who did better, and the paths step by step with
// the step where they diverged.
import { describe, expect, it } from 'vitest';
import type { Contact, LookupEvent, Trace } from '../../electron/host/contract';
import { TraceBuilder } from '../../electron/host/trace-build';
import { compareTraces } from '../../renderer/trace/compare';
import { formatDuration, formatDurationDelta } from '../../renderer/lib/format';

const hex = (prefix: string): string => prefix.padEnd(64, '0');
const c = (prefix: string): Contact => ({ id: hex(prefix), host: '127.0.0.1', port: 4000 + parseInt(prefix, 16) });
const SELF = hex('00');
const TARGET = hex('f0');
// Seeds A (0x80) and B (0x40). Both lookups first ask A and B. Then the first asks D (0xe0), which
// answers; the second asks C (0xc0) instead (in its run, A answered with C first), which times out,
// and only then D: the paths diverge at step 3.
const [A, B, C, D, E] = [c('80'), c('40'), c('c0'), c('e0'), c('f8')];

function build(id: string, steps: Array<[number, LookupEvent['type'], Contact?, number?, Contact[]?]>, done: { closest: Contact[]; hops: number; durationMs: number; timeToClosestMs: number }): Trace {
  const b = new TraceBuilder();
  const at = (t: number) => ({ lookupId: id, at: 1000 + t });
  b.ingest({ ...at(0), type: 'started', kind: 'find-node', target: TARGET, self: SELF, k: 3, alpha: 2, rpcTimeoutMs: 1000, seeds: [A, B] });
  let messages = 0;
  for (const [t, type, peer, hop = 1, nodes = []] of steps) {
    if (type === 'query') messages++;
    if (type === 'query') b.ingest({ ...at(t), type, peer: peer!, hop, bytes: 70 });
    else if (type === 'response') b.ingest({ ...at(t), type, peer: peer!, hop, rttMs: 10, bytes: 200, nodes });
    else if (type === 'timeout') b.ingest({ ...at(t), type, peer: peer!, hop, afterMs: 1000 });
  }
  b.ingest({ ...at(done.durationMs), type: 'done', reason: 'converged', messages, ...done });
  return b.trace!;
}

const fast = build(
  'fast',
  [
    [1, 'query', A],
    [2, 'query', B],
    [11, 'response', A, 1, [D, C]],
    [12, 'query', D, 2],
    [13, 'response', B],
    [22, 'response', D, 2, [E]],
    [23, 'query', E, 3],
    [33, 'response', E, 3],
  ],
  { closest: [E, D, A], hops: 3, durationMs: 34, timeToClosestMs: 33 },
);

const slow = build(
  'slow',
  [
    [1, 'query', A],
    [2, 'query', B],
    [11, 'response', A, 1, [C, D]],
    [12, 'query', C, 2],
    [13, 'response', B],
    [14, 'query', D, 2],
    [24, 'response', D, 2, [E]],
    [25, 'query', E, 3],
    [35, 'response', E, 3],
    [1012, 'timeout', C, 2],
  ],
  { closest: [E, D, B], hops: 3, durationMs: 1013, timeToClosestMs: 35 },
);

describe('compare traces', () => {
  it('puts the figures side by side, with the difference and who did better', () => {
    const cmp = compareTraces(fast, slow);
    expect(cmp.sameTarget).toBe(true);
    expect(cmp.sameSelf).toBe(true);
    const byKey = Object.fromEntries(cmp.figures.map((f) => [f.key, [f.a, f.b, f.delta, f.better]]));
    expect(byKey).toEqual({
      durationMs: [34, 1013, 976, 'a'], // as shown: 1.01 s − 34 ms
      timeToClosestMs: [33, 35, 2, 'a'],
      hops: [3, 3, 0, null],
      messages: [4, 5, 1, 'a'],
      responses: [4, 4, 0, null],
      timeouts: [0, 1, 1, 'a'],
      errors: [0, 0, 0, null],
    });
    expect(cmp.figures.map((f) => f.label)).toEqual(['Duration', 'Closest set at', 'Hops', 'Messages', 'Answers', 'Timeouts', 'Errors']);
  });

  it('finds the step where the paths diverged', () => {
    const cmp = compareTraces(fast, slow);
    expect(cmp.commonPrefix).toBe(2);
    expect(cmp.divergence).toEqual({
      step: 3,
      kind: 'different-peer',
      a: { peer: D, hop: 2, t: 12, outcome: 'response' },
      b: { peer: C, hop: 2, t: 12, outcome: 'timeout' },
    });
    expect(cmp.steps.map((s) => [s.step, s.a?.peer.id.slice(0, 2) ?? null, s.b?.peer.id.slice(0, 2) ?? null, s.same])).toEqual([
      [1, '80', '80', true],
      [2, '40', '40', true],
      [3, 'e0', 'c0', false],
      [4, 'f8', 'e0', false],
      [5, null, 'f8', false],
    ]);
    expect(cmp.sharedPeers).toBe(4);
    expect(cmp.closest).toEqual({ common: 2, onlyA: [A], onlyB: [B] });
  });

  it('a trace against itself never diverges; one that stops early ends the shared path', () => {
    const same = compareTraces(fast, fast);
    expect(same.divergence).toBeNull();
    expect(same.commonPrefix).toBe(4);
    expect(same.figures.every((f) => f.better === null)).toBe(true);

    const cut = { ...fast, events: fast.events.slice(0, 3) };
    const ended = compareTraces(cut, fast);
    expect(ended.divergence).toMatchObject({ step: 3, kind: 'a-ended', a: null, b: { peer: D } });
    expect(compareTraces(fast, cut).divergence).toMatchObject({ step: 3, kind: 'b-ended' });
  });

  it('says when the targets differ', () => {
    const other = { ...slow, target: hex('0f') };
    expect(compareTraces(fast, other).sameTarget).toBe(false);
  });
});

describe('compare figures add up as shown', () => {
  const withTimes = (t: Trace, durationMs: number, timeToClosestMs: number): Trace => ({ ...t, summary: { ...t.summary, durationMs, timeToClosestMs } });
  const shown = (f: { a: number | null; b: number | null; delta: number | null }): string => `${formatDuration(f.a)} vs ${formatDuration(f.b)}, ${formatDurationDelta(f.delta!)}`;

  it('takes the difference of the rounded figures: 7.6 ms vs 24.4 ms reads 8 ms vs 24 ms, +16 ms', () => {
    const cmp = compareTraces(withTimes(fast, 7.6, 7.6), withTimes(slow, 24.4, 24.4));
    const d = cmp.figures.find((f) => f.key === 'durationMs')!;
    expect(shown(d)).toBe('8 ms vs 24 ms, +16 ms');
  });

  it('adds up across units and signs, and calls equal-looking figures the same', () => {
    const at = (a: number, b: number): string => shown(compareTraces(withTimes(fast, a, a), withTimes(slow, b, b)).figures[0]);
    expect(at(850.4, 1234)).toBe('850 ms vs 1.23 s, +380 ms');
    expect(at(5, 12_340)).toBe('5 ms vs 12.3 s, +12.295 s');
    expect(at(4_567, 1_234)).toBe('4.57 s vs 1.23 s, −3.34 s');
    const same = compareTraces(withTimes(fast, 24.4, 1), withTimes(slow, 23.6, 1)).figures[0];
    expect([same.delta, same.better]).toEqual([0, null]);
  });
});
