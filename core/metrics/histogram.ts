// Fixed-bound histograms for the figures an operator watches (RPC round trips, lookup durations and
// messages). Observing is a short scan and two additions, so it can run per answer; exporters
// (electron/metrics.ts) read the counts at scrape time and make them cumulative there.

/** Round trip of one answered request, ms. */
export const RPC_LATENCY_BOUNDS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000] as const;
/** One whole lookup, ms. */
export const LOOKUP_DURATION_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000] as const;
/** Requests one lookup sent. */
export const LOOKUP_MESSAGES_BOUNDS = [5, 10, 15, 20, 30, 50, 75, 100, 150, 250] as const;

export class Histogram {
  readonly bounds: readonly number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) throw new RangeError(`histogram bounds must increase; got ${bounds.join(', ')}`);
    }
    this.bounds = bounds;
  }

  /**
   * Allocated on first use: a node keeps a dozen histograms, most of which never see a value, and a
   * network of 100,000 nodes in one process pays for each. A plain array of small integers (120
   * bytes for 13 slots), not a Float64Array, which costs a typed-array and an ArrayBuffer object
   * besides its data (~300 bytes).
   */
  private slots: number[] | null = null;

  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot holds those above every bound. */
  get counts(): number[] {
    // Sized at once (an array grown by push keeps room for 17 here).
    return (this.slots ??= new Array<number>(this.bounds.length + 1).fill(0));
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** Counts at or below each bound, then the total (the +Inf bucket). */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (const c of this.counts) out.push((acc += c));
    return out;
  }
}

/**
 * A histogram that stays empty, for a figure nothing was recorded in yet (shared; frozen, so
 * observing it throws instead of counting in every owner's copy at once).
 */
export function emptyHistogram(bounds: readonly number[]): Histogram {
  const h = new Histogram(bounds);
  Object.freeze(h.counts); // its slots made now (a frozen object can't make them on first read), and frozen too
  Object.freeze(h);
  return h;
}
