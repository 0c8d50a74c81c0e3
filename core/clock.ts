// Every timer in core/ goes through a Clock (ARCHITECTURE.md, habit 5), so tests run hours of protocol time
// in milliseconds with FakeClock, and no test ever sleeps on the wall clock.

export type TimerHandle = { readonly __timer: unique symbol } | number | object;

export interface Clock {
  /** Milliseconds, monotonic for the purposes of the protocol. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Read once: the getter costs more than performance.now() itself, and now() runs per datagram. */
const TIME_ORIGIN_MS = performance.timeOrigin;

export const systemClock: Clock = {
  now: () => TIME_ORIGIN_MS + performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A node's maintenance timers never keep a process alive by themselves.
    t.unref?.();
    return t as unknown as TimerHandle;
  },
  clearTimeout: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
};

interface FakeTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A deterministic clock for tests and simulations. Timers live in a binary heap ordered by
 * (due time, insertion order). Time moves only when the test says so.
 */
export class FakeClock implements Clock {
  private t: number;
  private heap: FakeTimer[] = [];
  private live = new Map<number, FakeTimer>();
  private nextId = 1;
  private seq = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, at: this.t + Math.max(0, ms | 0), seq: this.seq++, fn };
    this.live.set(timer.id, timer);
    this.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.live.delete(handle);
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.live.size;
  }

  /** Due time of the next live timer, or undefined. */
  nextDue(): number | undefined {
    this.dropDead();
    return this.heap[0]?.at;
  }

  /**
   * Runs every timer due up to now + ms synchronously, in order, moving time to each as it fires.
   * Callbacks that await promises will not have continued; use tickAsync for async code.
   */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      this.dropDead();
      const top = this.heap[0];
      if (!top || top.at > until) break;
      this.pop();
      this.live.delete(top.id);
      this.t = Math.max(this.t, top.at);
      top.fn();
    }
    this.t = until;
  }

  /**
   * Advances time by ms, firing timers in order and letting promise chains run between distinct
   * due times (one macrotask turn per step, never a wall-clock wait).
   */
  async tickAsync(ms: number): Promise<void> {
    const until = this.t + ms;
    await flushMicrotasks();
    for (;;) {
      const due = this.nextDue();
      if (due === undefined || due > until) break;
      this.t = Math.max(this.t, due);
      // Fire everything due at this instant, then let async continuations run.
      this.fireDue();
      await flushMicrotasks();
    }
    this.t = until;
    await flushMicrotasks();
  }

  /**
   * Drives fake time forward until the promise settles (or maxMs of fake time pass, then rejects).
   * The usual way to await a network operation under FakeClock.
   */
  async run<T>(promise: Promise<T>, maxMs = 3_600_000): Promise<T> {
    let settled = false;
    let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    promise.then(
      (value) => { settled = true; result = { ok: true, value }; },
      (error) => { settled = true; result = { ok: false, error }; },
    );
    const deadline = this.t + maxMs;
    await flushMicrotasks();
    // One macrotask turn per distinct due time (not tickAsync's three): a 5,000-node testnet build
    // takes hundreds of thousands of steps.
    while (!settled) {
      const due = this.nextDue();
      if (due === undefined || due > deadline) {
        throw new Error(`FakeClock.run: promise did not settle within ${maxMs} ms of fake time (${this.pendingTimers} timers pending)`);
      }
      this.t = Math.max(this.t, due);
      this.fireDue();
      await flushMicrotasks();
    }
    const r = result!;
    if (r.ok) return r.value;
    throw r.error;
  }

  /** Fires, in order, every live timer due at or before the current time. */
  private fireDue(): void {
    for (;;) {
      this.dropDead();
      const top = this.heap[0];
      if (!top || top.at > this.t) break;
      this.pop();
      this.live.delete(top.id);
      top.fn();
    }
  }

  private dropDead(): void {
    while (this.heap.length > 0 && !this.live.has(this.heap[0].id)) this.pop();
  }

  private less(a: FakeTimer, b: FakeTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(x: FakeTimer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): FakeTimer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** Lets every queued promise continuation run (one macrotask turn). Not a wall-clock wait. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
