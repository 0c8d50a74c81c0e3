// A small typed event emitter: no Node EventEmitter in core's public surface, a bounded number of
// listeners per event (a leak shows up as an error, not as slow growth), and listener errors are
// contained so one bad subscriber cannot break the node.

import { LazyMap } from './lazy-map';

export const MAX_LISTENERS_PER_EVENT = 64;

type Listener<T> = (payload: T) => void;

/**
 * A listener list with `fn` added: a new array (lists are replaced, never changed, so a loop that
 * is calling them keeps its own), the same one if `fn` is already in it. Past
 * MAX_LISTENERS_PER_EVENT it throws a RangeError naming `what`.
 */
export function withListener<F>(list: ReadonlyArray<F>, fn: F, what: string): ReadonlyArray<F> {
  if (list.includes(fn)) return list;
  if (list.length >= MAX_LISTENERS_PER_EVENT) throw new RangeError(`more than ${MAX_LISTENERS_PER_EVENT} listeners for ${what}: a listener leak?`);
  return [...list, fn];
}

/** A listener list without `fn`: a new array, the same one if `fn` is not in it. */
export function withoutListener<F>(list: ReadonlyArray<F>, fn: F): ReadonlyArray<F> {
  const i = list.indexOf(fn);
  return i < 0 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
}

export class TypedEmitter<Events extends object> {
  /**
   * Each event's listeners as an array that is replaced, never changed, when one is added or
   * removed: emit() walks the array it found, so a listener added or removed during an emit takes
   * effect from the next one, without a copy of the listeners per emit (the explorer's node emits
   * ~60 events per lookup).
   */
  private listeners = new LazyMap<keyof Events, ReadonlyArray<Listener<never>>>();

  on<K extends keyof Events>(event: K, fn: Listener<Events[K]>): () => void {
    this.listeners.set(event, withListener(this.listeners.get(event) ?? [], fn as Listener<never>, `"${String(event)}"`));
    return () => this.off(event, fn);
  }

  off<K extends keyof Events>(event: K, fn: Listener<Events[K]>): void {
    const list = this.listeners.get(event);
    if (!list) return;
    const rest = withoutListener(list, fn as Listener<never>);
    if (rest.length === 0) this.listeners.delete(event);
    else this.listeners.set(event, rest);
  }

  /** True when someone listens; lets hot paths skip building payloads nobody reads. */
  has<K extends keyof Events>(event: K): boolean {
    return this.listeners.get(event) !== undefined;
  }

  listenerCount(): number {
    let n = 0;
    for (const list of this.listeners.values()) n += list.length;
    return n;
  }

  removeAllListeners(): void {
    this.listeners.clear();
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const fn of list) {
      try {
        (fn as Listener<Events[K]>)(payload);
      } catch (err) {
        // A listener's bug must not break the protocol or the process; report it and go on.
        console.error(`kadscope: a "${String(event)}" listener threw:`, err);
      }
    }
  }
}
