// Fans live events out to subscribers in numbered batches (ARCHITECTURE.md, habit 12).
//
// Each subscriber has its own stream: a queue, a flush timer on the injected clock and a batch
// sequence that starts at 1 and never skips, so a client that loses a batch sees the gap. Flushes
// happen at most every FLUSH_INTERVAL_MS (about 10 a second), or at once when a queue reaches
// MAX_BATCH_EVENTS. A subscriber that cannot keep up (its sink says it is congested) keeps queueing
// up to MAX_QUEUED_EVENTS; beyond that its queue is dropped and it gets one `resync` batch instead,
// telling it to reload the snapshot. Memory per subscriber is therefore bounded.
import type { Clock, TimerHandle } from '../../core/clock';
import type { BatchSink } from './client';
import type { EventBatch, ExplorerEvent } from './contract';

/**
 * 100 ms: what a person takes as immediate, and as often as the graph redraws at its fastest
 * (renderer/graph/controller.ts, APPLY_INTERVAL_MS.cheap), so the screen shows no less than at 33 ms.
 * Each flush is a wake-up of the node's process, and the node pays for it with cold code and
 * caches far beyond the batch's own encoding: the explorer's cost to the node is measured by
 * `npm run bench -- explorer-cost` (README, the explorer-cost goal).
 */
export const FLUSH_INTERVAL_MS = 100;
/** A queue this long is flushed without waiting for the timer. 10,000 events a second make at most 5 such batches. */
export const MAX_BATCH_EVENTS = 2000;
/** Events held for a congested subscriber before giving up on it and asking it to resync. */
export const MAX_QUEUED_EVENTS = 20_000;
export const MAX_SUBSCRIBERS = 64;

export interface BatcherOptions {
  flushIntervalMs?: number;
  maxBatchEvents?: number;
  maxQueuedEvents?: number;
  maxSubscribers?: number;
}

interface Stream {
  sink: BatchSink;
  seq: number;
  queue: ExplorerEvent[];
  timer: TimerHandle | null;
  /** The queue overflowed: the next delivery is a resync marker. */
  overflowed: boolean;
  closed: boolean;
}

export class EventBatcher {
  private readonly clock: Clock;
  private readonly flushIntervalMs: number;
  private readonly maxBatchEvents: number;
  private readonly maxQueuedEvents: number;
  private readonly maxSubscribers: number;
  /**
   * An array, not a Set: publish() walks it once per event, and iterating a Set makes an iterator
   * and a result object per step where V8 does not optimise them away. Replaced, not changed, when
   * a stream comes or goes, so a loop that is walking it keeps its own.
   */
  private streams: Stream[] = [];

  constructor(deps: { clock: Clock }, options: BatcherOptions = {}) {
    this.clock = deps.clock;
    this.flushIntervalMs = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
    this.maxBatchEvents = options.maxBatchEvents ?? MAX_BATCH_EVENTS;
    this.maxQueuedEvents = options.maxQueuedEvents ?? MAX_QUEUED_EVENTS;
    this.maxSubscribers = options.maxSubscribers ?? MAX_SUBSCRIBERS;
  }

  get subscriberCount(): number {
    return this.streams.length;
  }

  /** Adds a subscriber; throws a RangeError past MAX_SUBSCRIBERS. Returns unsubscribe (idempotent). */
  subscribe(sink: BatchSink): () => void {
    if (this.streams.length >= this.maxSubscribers) throw new RangeError(`more than ${this.maxSubscribers} subscribers`);
    const s: Stream = { sink, seq: 0, queue: [], timer: null, overflowed: false, closed: false };
    this.streams = [...this.streams, s];
    return () => this.close(s);
  }

  publish(event: ExplorerEvent): void {
    const streams = this.streams;
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i];
      // Closed meanwhile (a subscriber that failed a delivery in this loop), or overflowed: the resync covers everything until it is sent.
      if (s.closed || s.overflowed) continue;
      s.queue.push(event);
      if (s.queue.length > this.maxQueuedEvents) {
        s.queue = [];
        s.overflowed = true;
      } else if (s.queue.length >= this.maxBatchEvents && !this.congested(s)) {
        this.flush(s);
        continue;
      }
      this.schedule(s);
    }
  }

  /** Delivers everything queued now (used on shutdown and by tests). */
  flushAll(): void {
    for (const s of this.streams) {
      while (!s.closed && (s.queue.length > 0 || s.overflowed)) this.flush(s);
    }
  }

  /** Drops every subscriber and timer. Idempotent. */
  stop(): void {
    for (const s of this.streams) this.close(s);
  }

  private schedule(s: Stream): void {
    if (s.timer !== null || s.closed) return;
    s.timer = this.clock.setTimeout(() => {
      s.timer = null;
      if (s.closed) return;
      if (this.congested(s)) {
        this.schedule(s); // hold back; the queue cap bounds what we keep meanwhile
        return;
      }
      this.flush(s);
      if (s.queue.length > 0) this.schedule(s);
    }, this.flushIntervalMs);
  }

  private flush(s: Stream): void {
    let batch: EventBatch;
    if (s.overflowed) {
      s.overflowed = false;
      batch = { seq: ++s.seq, events: [], resync: true };
    } else {
      if (s.queue.length === 0) return;
      const events = s.queue.length <= this.maxBatchEvents ? s.queue : s.queue.slice(0, this.maxBatchEvents);
      s.queue = events === s.queue ? [] : s.queue.slice(this.maxBatchEvents);
      batch = { seq: ++s.seq, events, resync: false };
    }
    try {
      s.sink.deliver(batch);
    } catch (e) {
      // A sink that throws is gone (closed socket, destroyed window): drop it, keep serving the rest.
      console.error('kadscope: a subscriber failed and was dropped:', e);
      this.close(s);
    }
  }

  private congested(s: Stream): boolean {
    try {
      return s.sink.congested?.() ?? false;
    } catch {
      return false;
    }
  }

  private close(s: Stream): void {
    if (s.closed) return;
    s.closed = true;
    if (s.timer !== null) this.clock.clearTimeout(s.timer);
    s.timer = null;
    s.queue = [];
    this.streams = this.streams.filter((x) => x !== s);
  }
}
