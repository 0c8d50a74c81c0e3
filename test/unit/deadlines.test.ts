// Attempt timeouts kept in per-timeout lists with one clock timer each (core/rpc/deadlines.ts), on a
// fake clock: exact due times, order, disarming, re-arming from the callback, and timers released.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { Deadlines, type Deadline } from '../../core/rpc/deadlines';

interface Item extends Deadline {
  name: string;
}

const item = (name: string): Item => ({ name, dueAt: 0, dueList: null, dueNext: null, duePrev: null });

function setup(onDue?: (it: Item, log: string[]) => void) {
  const clock = new FakeClock(0);
  const log: string[] = [];
  const d = new Deadlines<Item>(clock, (it) => {
    log.push(`${it.name}@${clock.now()}`);
    onDue?.(it, log);
  });
  return { clock, log, d };
}

describe('Deadlines', () => {
  it('fires each item at exactly its own due time, oldest first, with one timer per timeout', () => {
    const { clock, log, d } = setup();
    const a = item('a');
    const b = item('b');
    const c = item('c');
    d.arm(a, 100);
    clock.advance(30);
    d.arm(b, 100);
    d.arm(c, 50);
    expect(d.timers).toBe(2);
    expect(clock.pendingTimers).toBe(2);
    clock.advance(49);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual(['c@80']);
    clock.advance(19);
    expect(log).toEqual(['c@80']);
    clock.advance(1);
    expect(log).toEqual(['c@80', 'a@100']);
    clock.advance(29);
    expect(log).toEqual(['c@80', 'a@100']);
    clock.advance(1);
    expect(log).toEqual(['c@80', 'a@100', 'b@130']);
    // Everything fired: no timer left behind.
    expect(clock.pendingTimers).toBe(0);
    expect(d.timers).toBe(0);
  });

  it('a disarmed item never fires; the others keep their times when the head leaves', () => {
    const { clock, log, d } = setup();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    d.arm(a, 100);
    clock.advance(10);
    d.arm(b, 100);
    clock.advance(10);
    d.arm(c, 100);
    d.disarm(a);
    d.disarm(c);
    d.disarm(c); // twice is nothing
    clock.advance(200);
    expect(log).toEqual(['b@110']);
    expect(a.dueList).toBeNull();
    expect(clock.pendingTimers).toBe(0);
  });

  it('an emptied list keeps its timer until it fires, so the next request arms none', () => {
    const { clock, log, d } = setup();
    const a = item('a');
    d.arm(a, 100);
    d.disarm(a);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(40);
    const b = item('b');
    d.arm(b, 100);
    // Still the one timer, armed for a's time; at 100 it moves on to b's.
    expect(clock.pendingTimers).toBe(1);
    clock.advance(60);
    expect(log).toEqual([]);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(40);
    expect(log).toEqual(['b@140']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an item re-armed from its own callback (a retry) fires again a full timeout later', () => {
    let retries = 2;
    const { clock, log, d } = setup((it) => {
      if (retries-- > 0) d.arm(it, 100);
    });
    const a = item('a');
    d.arm(a, 100);
    clock.advance(1_000);
    expect(log).toEqual(['a@100', 'a@200', 'a@300']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('arming an armed item moves it', () => {
    const { clock, log, d } = setup();
    const a = item('a');
    d.arm(a, 100);
    clock.advance(50);
    d.arm(a, 20);
    clock.advance(100);
    expect(log).toEqual(['a@70']);
  });

  it('items due at the same moment fire in the order they were armed', () => {
    const { clock, log, d } = setup();
    for (const name of ['a', 'b', 'c', 'd']) d.arm(item(name), 100);
    clock.advance(100);
    expect(log).toEqual(['a@100', 'b@100', 'c@100', 'd@100']);
  });

  it('clear() disarms everything and releases every timer', () => {
    const { clock, log, d } = setup();
    const items = [item('a'), item('b'), item('c')];
    d.arm(items[0], 100);
    d.arm(items[1], 200);
    d.arm(items[2], 200);
    d.clear();
    expect(clock.pendingTimers).toBe(0);
    expect(d.timers).toBe(0);
    expect(items.every((i) => i.dueList === null && i.dueNext === null && i.duePrev === null)).toBe(true);
    clock.advance(1_000);
    expect(log).toEqual([]);
    // Usable again afterwards.
    d.arm(items[0], 10);
    clock.advance(10);
    expect(log).toEqual(['a@1010']);
  });
});
