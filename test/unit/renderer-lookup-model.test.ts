// Lookups as the UI holds them: live events and stored traces to one model; the waterfall rows.
import { describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_LOOKUP, applyLookupEvent, buildWaterfall, type LookupModel } from '../../renderer/state/lookup-model';
import type { Contact, LookupEvent } from '../../electron/host/contract';

const c = (digit: string): Contact => ({ id: digit.repeat(64), host: '127.0.0.1', port: 4000 + digit.charCodeAt(0) });
const A = c('a');
const B = c('b');
const C = c('c');

function run(events: LookupEvent[]): LookupModel {
  let m: LookupModel | undefined;
  for (const e of events) m = applyLookupEvent(m, e);
  return m!;
}

const base = { lookupId: 'L1' };
const started: LookupEvent = { ...base, at: 1000, type: 'started', kind: 'find-value', target: 'f'.repeat(64), self: '0'.repeat(64), k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [A, B] };

describe('lookup model', () => {
  it('times events from the start and records the outcome', () => {
    const m = run([
      started,
      { ...base, at: 1001, type: 'query', peer: A, hop: 1, bytes: 70 },
      { ...base, at: 1020, type: 'response', peer: A, hop: 1, rttMs: 19, bytes: 400, nodes: [C], hasValue: true },
      { ...base, at: 1021, type: 'done', reason: 'value-found', closest: [A], hops: 1, messages: 1, durationMs: 21, timeToClosestMs: 20 },
    ]);
    expect(m.kind).toBe('find-value');
    expect(m.events.map((e) => e.t)).toEqual([0, 1, 20, 21]);
    expect(m.summary.reason).toBe('value-found');
    expect(m.params).toEqual({ k: 20, alpha: 3, rpcTimeoutMs: 2000 });
  });

  it('starts a partial model when the start was missed', () => {
    const m = run([{ ...base, at: 5000, type: 'query', peer: A, hop: 2, bytes: 70 }]);
    expect(m.target).toBe('');
    expect(m.events[0].t).toBe(0);
  });

  it('is bounded', () => {
    let m: LookupModel = run([started]);
    for (let i = 0; i < MAX_EVENTS_PER_LOOKUP + 10; i++) m = applyLookupEvent(m, { ...base, at: 1000 + i, type: 'query', peer: A, hop: 1, bytes: 1 });
    expect(m.events).toHaveLength(MAX_EVENTS_PER_LOOKUP);
    expect(m.truncated).toBe(true);
  });
});

describe('waterfall', () => {
  it('pairs queries with answers, timeouts and errors per peer in order', () => {
    const m = run([
      started,
      { ...base, at: 1001, type: 'query', peer: A, hop: 1, bytes: 70 },
      { ...base, at: 1002, type: 'query', peer: B, hop: 1, bytes: 70 },
      { ...base, at: 1010, type: 'response', peer: A, hop: 1, rttMs: 9, bytes: 300, nodes: [C] },
      { ...base, at: 1011, type: 'query', peer: C, hop: 2, bytes: 70 },
      { ...base, at: 1015, type: 'error', peer: C, hop: 2, code: 'RATE_LIMITED', message: 'slow down' },
      { ...base, at: 3002, type: 'timeout', peer: B, hop: 1, afterMs: 2000 },
      { ...base, at: 3003, type: 'done', reason: 'exhausted', closest: [A], hops: 1, messages: 3, durationMs: 2003, timeToClosestMs: 10 },
    ]);
    const w = buildWaterfall(m.events);
    expect(w.rows.map((r) => [r.peer.id[0], r.outcome, r.start, r.end])).toEqual([
      ['a', 'response', 1, 10],
      ['b', 'timeout', 2, 2002],
      ['c', 'error', 11, 15],
    ]);
    expect(w.rows[0].returned).toEqual([C]);
    expect(w.rows[2].message).toBe('RATE_LIMITED: slow down');
    expect(w.doneAt).toBe(2003);
    expect(w.spanMs).toBe(2003);
  });

  it('leaves unanswered queries pending and stretches the axis to now', () => {
    const m = run([started, { ...base, at: 1001, type: 'query', peer: A, hop: 1, bytes: 70 }]);
    const w = buildWaterfall(m.events, 500);
    expect(w.rows[0].outcome).toBe('pending');
    expect(w.spanMs).toBe(500);
  });
});
