// When each request's current attempt times out, with one clock timer per distinct timeout rather
// than one per request. Requests given the same timeout fall due in the order they were armed (the
// clock only moves forward), so each timeout keeps its requests in an intrusive doubly linked list:
// arming appends, settling unlinks (both O(1), nothing allocated), and the list's one timer is
// armed for its head. A per-request timer was a Timeout object, its async-resource bookkeeping and
// a closure for every request; on the ping workload that was ~2% of a ping's cost.
import type { Clock, TimerHandle } from '../clock';
import { LazyMap } from '../lazy-map';

/** What a list holds: the fields are the list's, written only by Deadlines. */
export interface Deadline {
  /** When it falls due (clock ms); meaningful while armed. */
  dueAt: number;
  /** The list it is in, null when not armed. */
  dueList: DueList | null;
  dueNext: Deadline | null;
  duePrev: Deadline | null;
}

/** The requests armed with one timeout, oldest first, and the timer armed for the oldest. */
export interface DueList {
  readonly timeoutMs: number;
  head: Deadline | null;
  tail: Deadline | null;
  timer: TimerHandle | null;
}

export class Deadlines<T extends Deadline> {
  /**
   * Lists by timeout. An emptied list stays until its timer fires (at most its timeout), so this
   * holds the timeouts used within the last timeout's span: bounded by the requests made in it.
   * Lazy: an idle node (the RPC layer clears this when nothing is in flight) keeps no table.
   */
  private readonly lists = new LazyMap<number, DueList>();

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (item: T) => void,
  ) {}

  /** Arms `item` to fall due `timeoutMs` from now. An item already armed is moved. */
  arm(item: T, timeoutMs: number): void {
    if (item.dueList !== null) this.disarm(item);
    const now = this.clock.now();
    let list = this.lists.get(timeoutMs);
    if (list === undefined) {
      list = { timeoutMs, head: null, tail: null, timer: null };
      this.lists.set(timeoutMs, list);
    }
    item.dueAt = now + timeoutMs;
    item.dueList = list;
    item.duePrev = list.tail;
    item.dueNext = null;
    if (list.tail !== null) list.tail.dueNext = item;
    else list.head = item;
    list.tail = item;
    if (list.timer === null) this.schedule(list, now);
  }

  /** Takes `item` out of its list; nothing if it is not armed. */
  disarm(item: T): void {
    const list = item.dueList;
    if (list === null) return;
    if (item.duePrev !== null) item.duePrev.dueNext = item.dueNext;
    else list.head = item.dueNext;
    if (item.dueNext !== null) item.dueNext.duePrev = item.duePrev;
    else list.tail = item.duePrev;
    item.dueList = null;
    item.dueNext = null;
    item.duePrev = null;
    // The list keeps its timer even when its head left or it emptied: when the timer fires it
    // re-arms for the head then, or drops the list if it is still empty. So a request answered
    // before its timeout costs no timer work, and a node sending one request at a time arms one
    // timer per timeout period, not one per request. (The RPC layer calls clear() once nothing is
    // in flight, so an idle node holds no timer.)
  }

  /** Disarms everything and releases every timer (the owner is closing, or has nothing armed). */
  clear(): void {
    if (this.lists.size === 0) return;
    for (const list of [...this.lists.values()]) {
      for (let item = list.head; item !== null; ) {
        const next = item.dueNext;
        item.dueList = null;
        item.dueNext = null;
        item.duePrev = null;
        item = next;
      }
      list.head = null;
      list.tail = null;
      this.drop(list);
    }
  }

  /** Timers armed (at most one per timeout used within its span); for tests and leak checks. */
  get timers(): number {
    let n = 0;
    for (const list of this.lists.values()) if (list.timer !== null) n++;
    return n;
  }

  private schedule(list: DueList, now: number): void {
    const head = list.head;
    if (head === null) return;
    list.timer = this.clock.setTimeout(() => this.fire(list), Math.max(0, head.dueAt - now));
  }

  private fire(list: DueList): void {
    list.timer = null;
    // Everything due now, oldest first. onDue may arm again (a retry), on this list or another:
    // a re-armed item goes to the tail with a later due time, so the loop ends.
    const now = this.clock.now();
    for (let item = list.head; item !== null && item.dueAt <= now; item = list.head) {
      this.disarm(item as T);
      this.onDue(item as T);
    }
    if (this.lists.get(list.timeoutMs) !== list || list.timer !== null) return;
    if (list.head === null) this.drop(list);
    else this.schedule(list, this.clock.now());
  }

  private drop(list: DueList): void {
    if (list.timer !== null) this.clock.clearTimeout(list.timer);
    list.timer = null;
    if (this.lists.get(list.timeoutMs) === list) this.lists.delete(list.timeoutMs);
  }
}
