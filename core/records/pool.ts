// Background network work (republishing, replication, hand-off) runs a few tasks at a time from a
// bounded queue, so a store of thousands of records never floods the RPC layer. Tasks are keyed:
// a key already queued or running is not queued twice.

import { LazySet } from '../lazy-map';

export class TaskPool {
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly queue: Array<{ key: string; run: () => Promise<void> }> = [];
  private readonly keys = new LazySet<string>();
  private running = 0;
  private closed = false;

  constructor(options: { concurrency: number; maxQueued: number }) {
    this.concurrency = options.concurrency;
    this.maxQueued = options.maxQueued;
  }

  /** Tasks queued or running. */
  get size(): number {
    return this.keys.size;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /**
   * Queues a task; false when it is already queued or running, the queue is full, or the pool is
   * closed (the caller's next periodic pass will offer it again). A task's failure is its own business:
   * tasks are expected to catch what they care about; anything else is dropped here.
   */
  add(key: string, run: () => Promise<void>): boolean {
    if (this.closed || this.keys.has(key) || this.queue.length >= this.maxQueued) return false;
    this.keys.add(key);
    this.queue.push({ key, run });
    this.pump();
    return true;
  }

  /** Drops everything queued; running tasks finish on their own (their signals are aborted by the owner). */
  close(): void {
    this.closed = true;
    for (const t of this.queue.splice(0)) this.keys.delete(t.key);
  }

  private pump(): void {
    while (!this.closed && this.running < this.concurrency && this.queue.length > 0) {
      const task = this.queue.shift()!;
      this.running++;
      task
        .run()
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.keys.delete(task.key);
          this.pump();
        });
    }
  }
}
