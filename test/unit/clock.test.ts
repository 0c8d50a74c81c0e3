import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';

describe('FakeClock', () => {
  it('fires timers in due order, ties in scheduling order, and only when time moves', () => {
    const clock = new FakeClock(1000);
    const log: string[] = [];
    clock.setTimeout(() => log.push('c@30'), 30);
    clock.setTimeout(() => log.push('a@10'), 10);
    clock.setTimeout(() => log.push('b1@20'), 20);
    clock.setTimeout(() => log.push('b2@20'), 20);
    clock.setTimeout(() => log.push('zero'), 0);
    expect(log).toEqual([]);
    clock.advance(0);
    expect(log).toEqual(['zero']);
    clock.advance(20);
    expect(log).toEqual(['zero', 'a@10', 'b1@20', 'b2@20']);
    expect(clock.now()).toBe(1020);
    clock.advance(100);
    expect(log).toEqual(['zero', 'a@10', 'b1@20', 'b2@20', 'c@30']);
    expect(clock.now()).toBe(1120);
    expect(clock.pendingTimers).toBe(0);
  });

  it('shows the time of each timer to its callback, and runs timers scheduled by callbacks', () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    clock.setTimeout(() => {
      seen.push(clock.now());
      clock.setTimeout(() => seen.push(clock.now()), 5);
    }, 10);
    clock.advance(100);
    expect(seen).toEqual([10, 15]);
  });

  it('clearTimeout cancels, pendingTimers counts only live timers, nextDue skips cancelled ones', () => {
    const clock = new FakeClock(0);
    const log: number[] = [];
    const a = clock.setTimeout(() => log.push(1), 10);
    clock.setTimeout(() => log.push(2), 20);
    expect(clock.pendingTimers).toBe(2);
    expect(clock.nextDue()).toBe(10);
    clock.clearTimeout(a);
    clock.clearTimeout(a); // twice is harmless
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextDue()).toBe(20);
    clock.advance(50);
    expect(log).toEqual([2]);
    expect(clock.nextDue()).toBeUndefined();
  });

  it('tickAsync lets promise chains continue between timers', async () => {
    const clock = new FakeClock(0);
    const log: string[] = [];
    const sleep = (ms: number): Promise<void> => new Promise((r) => clock.setTimeout(r, ms));
    const task = (async () => {
      await sleep(10);
      log.push(`woke ${clock.now()}`);
      await sleep(10); // scheduled only after the first await resumed
      log.push(`woke ${clock.now()}`);
    })();
    // advance() alone would fire the first timer but not let the continuation schedule the second.
    await clock.tickAsync(25);
    await task;
    expect(log).toEqual(['woke 10', 'woke 20']);
    expect(clock.now()).toBe(25);
  });

  it('run() drives fake time until the promise settles, and reports a promise that never does', async () => {
    const clock = new FakeClock(0);
    const sleep = (ms: number): Promise<number> => new Promise((r) => clock.setTimeout(() => r(clock.now()), ms));
    await expect(clock.run(sleep(5_000))).resolves.toBe(5_000);
    const failing = new Promise<never>((_, reject) => clock.setTimeout(() => reject(new Error('boom')), 10));
    await expect(clock.run(failing)).rejects.toThrow('boom');
    await expect(clock.run(new Promise(() => undefined), 1_000)).rejects.toThrow(/did not settle within 1000 ms/);
    // A timer beyond the limit is not fired to settle the promise.
    const late = sleep(10_000);
    await expect(clock.run(late, 1_000)).rejects.toThrow(/did not settle/);
  });
});
