import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { seededRandom } from '../../core/id';
import { EventBatcher, FLUSH_INTERVAL_MS, MAX_BATCH_EVENTS } from '../../electron/host/batcher';
import type { EventBatch, ExplorerEvent } from '../../electron/host/contract';

const ev = (i: number): ExplorerEvent => ({ type: 'record-expired', key: i.toString(16).padStart(64, '0') });
const indexOf = (e: ExplorerEvent): number => (e.type === 'record-expired' ? parseInt(e.key, 16) : -1);

describe('EventBatcher', () => {
  it('delivers 10,000 events spread over one second in at most 40 batches, in order, seq continuous', async () => {
    const clock = new FakeClock();
    const batcher = new EventBatcher({ clock });
    const got: EventBatch[] = [];
    batcher.subscribe({ deliver: (b) => got.push(b) });
    const rand = seededRandom(42);
    // Bursty arrival: 10,000 events at random instants of one second, sometimes many at the same ms.
    const times = Array.from({ length: 10_000 }, () => Math.floor(rand() * rand() * 1000)).sort((a, b) => a - b);
    let t = 0;
    for (let i = 0; i < times.length; i++) {
      if (times[i] > t) {
        clock.advance(times[i] - t);
        t = times[i];
      }
      batcher.publish(ev(i));
    }
    clock.advance(1000 - t + FLUSH_INTERVAL_MS);
    expect(got.length).toBeLessThanOrEqual(40);
    expect(got.map((b) => b.seq)).toEqual(got.map((_, i) => i + 1));
    expect(got.every((b) => !b.resync)).toBe(true);
    const all = got.flatMap((b) => b.events.map(indexOf));
    expect(all).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(clock.pendingTimers).toBe(0);
  });

  it('10,000 events at a single instant arrive in batches of at most MAX_BATCH_EVENTS at once', () => {
    const clock = new FakeClock();
    const batcher = new EventBatcher({ clock });
    const got: EventBatch[] = [];
    batcher.subscribe({ deliver: (b) => got.push(b) });
    for (let i = 0; i < 10_000; i++) batcher.publish(ev(i));
    expect(got.length).toBe(10_000 / MAX_BATCH_EVENTS);
    expect(got.every((b) => b.events.length === MAX_BATCH_EVENTS)).toBe(true);
  });

  it('waits for the flush interval before sending a small batch', () => {
    const clock = new FakeClock();
    const batcher = new EventBatcher({ clock });
    const got: EventBatch[] = [];
    batcher.subscribe({ deliver: (b) => got.push(b) });
    batcher.publish(ev(1));
    batcher.publish(ev(2));
    clock.advance(FLUSH_INTERVAL_MS - 1);
    expect(got).toHaveLength(0);
    clock.advance(1);
    expect(got).toEqual([{ seq: 1, events: [ev(1), ev(2)], resync: false }]);
  });

  it('gives each subscriber its own sequence', () => {
    const clock = new FakeClock();
    const batcher = new EventBatcher({ clock });
    const a: EventBatch[] = [];
    const b: EventBatch[] = [];
    batcher.subscribe({ deliver: (x) => a.push(x) });
    batcher.publish(ev(1));
    clock.advance(FLUSH_INTERVAL_MS);
    batcher.subscribe({ deliver: (x) => b.push(x) });
    batcher.publish(ev(2));
    clock.advance(FLUSH_INTERVAL_MS);
    expect(a.map((x) => x.seq)).toEqual([1, 2]);
    expect(b.map((x) => x.seq)).toEqual([1]);
    expect(b[0].events).toEqual([ev(2)]);
  });

  it('holds events for a congested subscriber, then drops them past the cap and sends one resync', () => {
    const clock = new FakeClock();
    const batcher = new EventBatcher({ clock }, { maxQueuedEvents: 100, maxBatchEvents: 50 });
    let congested = true;
    const got: EventBatch[] = [];
    batcher.subscribe({ deliver: (b) => got.push(b), congested: () => congested });
    for (let i = 0; i < 80; i++) batcher.publish(ev(i));
    clock.advance(FLUSH_INTERVAL_MS * 3);
    expect(got).toHaveLength(0); // held back, nothing lost yet
    congested = false;
    clock.advance(FLUSH_INTERVAL_MS * 2);
    expect(got.map((b) => b.events.length)).toEqual([50, 30]);

    congested = true;
    for (let i = 0; i < 150; i++) batcher.publish(ev(i));
    congested = false;
    clock.advance(FLUSH_INTERVAL_MS);
    expect(got.slice(2)).toEqual([{ seq: 3, events: [], resync: true }]);
    batcher.publish(ev(7));
    clock.advance(FLUSH_INTERVAL_MS);
    expect(got[3]).toEqual({ seq: 4, events: [ev(7)], resync: false });
  });

  it('unsubscribe and stop clear every timer; a throwing sink is dropped', () => {
    const clock = new FakeClock();
    const batcher = new EventBatcher({ clock });
    const unsub = batcher.subscribe({ deliver: () => undefined });
    batcher.subscribe({
      deliver: () => {
        throw new Error('gone');
      },
    });
    batcher.publish(ev(1));
    expect(clock.pendingTimers).toBe(2);
    unsub();
    unsub();
    expect(clock.pendingTimers).toBe(1);
    const errors: unknown[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => errors.push(a);
    try {
      clock.advance(FLUSH_INTERVAL_MS);
    } finally {
      console.error = orig;
    }
    expect(errors).toHaveLength(1);
    expect(batcher.subscriberCount).toBe(0);
    batcher.subscribe({ deliver: () => undefined });
    batcher.publish(ev(2));
    batcher.stop();
    batcher.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('a subscriber dropped while an event is being handed out gets nothing more, and the others get it', () => {
    const clock = new FakeClock();
    // Batches of one event: each publish delivers at once, inside the publish.
    const batcher = new EventBatcher({ clock }, { maxBatchEvents: 1 });
    const got: Record<string, number[]> = { first: [], second: [], third: [] };
    const sink = (name: string, onDeliver?: () => void) => ({
      deliver: (b: EventBatch) => {
        got[name].push(...b.events.map(indexOf));
        onDeliver?.();
      },
    });
    let unsubscribeSecond = (): void => {};
    batcher.subscribe(sink('first', () => unsubscribeSecond()));
    unsubscribeSecond = batcher.subscribe(sink('second'));
    batcher.subscribe(sink('third'));
    batcher.publish(ev(1));
    batcher.publish(ev(2));
    clock.advance(FLUSH_INTERVAL_MS);
    expect(got).toEqual({ first: [1, 2], second: [], third: [1, 2] });
    expect(batcher.subscriberCount).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });
});
