// A small typed event emitter: no Node EventEmitter in core's public surface, a bounded number of
// listeners per event (a leak shows up as an error, not as slow growth), and listener errors are
// contained so one bad subscriber cannot break the node.

import { LazyMap } from './lazy-map';

export const MAX_LISTENERS_PER_EVENT = 64;

type Listener<T> = (payload: T) => void;

export class TypedEmitter<Events extends object> {
  private listeners = new LazyMap<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(event: K, fn: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    if (set.size >= MAX_LISTENERS_PER_EVENT) {
      throw new RangeError(`more than ${MAX_LISTENERS_PER_EVENT} listeners for "${String(event)}": a listener leak?`);
    }
    set.add(fn as Listener<never>);
    return () => this.off(event, fn);
  }

  off<K extends keyof Events>(event: K, fn: Listener<Events[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    set.delete(fn as Listener<never>);
    if (set.size === 0) this.listeners.delete(event);
  }

  /** True when someone listens; lets hot paths skip building payloads nobody reads. */
  has<K extends keyof Events>(event: K): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  listenerCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  removeAllListeners(): void {
    this.listeners.clear();
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<Events[K]>)(payload);
      } catch (err) {
        // A listener's bug must not break the protocol or the process; report it and go on.
        console.error(`kadscope: a "${String(event)}" listener threw:`, err);
      }
    }
  }
}
