// The node's event emitter (core/events.ts): order, what a listener added or removed during an emit
// sees, duplicates, unsubscribing, a throwing listener, and the bound on listeners.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_LISTENERS_PER_EVENT, TypedEmitter } from '../../core/events';

interface Events {
  tick: number;
  other: string;
}

class Emitter extends TypedEmitter<Events> {
  fire<K extends keyof Events>(event: K, payload: Events[K]): void {
    this.emit(event, payload);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('TypedEmitter', () => {
  it('calls listeners in the order they were added, per event', () => {
    const e = new Emitter();
    const got: string[] = [];
    e.on('tick', (n) => got.push(`a${n}`));
    e.on('tick', (n) => got.push(`b${n}`));
    e.on('other', (s) => got.push(`o${s}`));
    e.fire('tick', 1);
    e.fire('other', 'x');
    expect(got).toEqual(['a1', 'b1', 'ox']);
    expect(e.has('tick')).toBe(true);
    expect(e.listenerCount()).toBe(3);
  });

  it('a listener added during an emit gets the next event, not this one; one removed during an emit still gets this one', () => {
    const e = new Emitter();
    const got: string[] = [];
    const late = (n: number): void => {
      got.push(`late${n}`);
    };
    const second = (n: number): void => {
      got.push(`second${n}`);
    };
    e.on('tick', (n) => {
      got.push(`first${n}`);
      if (n === 1) {
        e.on('tick', late);
        e.off('tick', second);
      }
    });
    e.on('tick', second);
    e.fire('tick', 1);
    e.fire('tick', 2);
    expect(got).toEqual(['first1', 'second1', 'first2', 'late2']);
  });

  it('adding the same function twice registers it once; unsubscribing twice is nothing', () => {
    const e = new Emitter();
    const got: number[] = [];
    const fn = (n: number): void => {
      got.push(n);
    };
    const off = e.on('tick', fn);
    e.on('tick', fn);
    e.fire('tick', 1);
    expect(got).toEqual([1]);
    off();
    off();
    e.fire('tick', 2);
    expect(got).toEqual([1]);
    expect(e.has('tick')).toBe(false);
    expect(e.listenerCount()).toBe(0);
  });

  it('removes the right one of several, and keeps the others in order', () => {
    const e = new Emitter();
    const got: string[] = [];
    const offs = ['a', 'b', 'c'].map((name) => e.on('tick', () => got.push(name)));
    offs[1]();
    e.fire('tick', 0);
    expect(got).toEqual(['a', 'c']);
  });

  it("a throwing listener is reported and the others still run", () => {
    const e = new Emitter();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const got: number[] = [];
    e.on('tick', () => {
      throw new Error('boom');
    });
    e.on('tick', (n) => got.push(n));
    e.fire('tick', 7);
    expect(got).toEqual([7]);
    expect(errors).toHaveBeenCalledTimes(1);
    expect(String(errors.mock.calls[0][0])).toContain('"tick" listener threw');
  });

  it(`refuses listener number ${MAX_LISTENERS_PER_EVENT + 1} for one event, and removeAllListeners() empties it`, () => {
    const e = new Emitter();
    for (let i = 0; i < MAX_LISTENERS_PER_EVENT; i++) e.on('tick', () => {});
    expect(() => e.on('tick', () => {})).toThrow(RangeError);
    e.on('other', () => {});
    expect(e.listenerCount()).toBe(MAX_LISTENERS_PER_EVENT + 1);
    e.removeAllListeners();
    expect(e.listenerCount()).toBe(0);
    expect(e.has('tick')).toBe(false);
  });
});
