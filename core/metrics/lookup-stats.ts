// Finished lookups by kind and outcome, with their duration and messages: the node records each
// lookup's `done` here (whether or not anyone listens to its events), and exporters read it.
import type { LookupKind, LookupTermination } from '../types';
import { emptyHistogram, Histogram, LOOKUP_DURATION_BOUNDS_MS, LOOKUP_MESSAGES_BOUNDS } from './histogram';

export const LOOKUP_KINDS: readonly LookupKind[] = ['find-node', 'find-value', 'get-peers'];
export const LOOKUP_TERMINATIONS: readonly LookupTermination[] = ['converged', 'value-found', 'exhausted', 'no-peers', 'aborted', 'timeout'];

export interface LookupKindStats {
  /** Finished lookups by how they ended. */
  outcomes: Record<LookupTermination, number>;
  durationMs: Histogram;
  messages: Histogram;
}

function zeroOutcomes(): Record<LookupTermination, number> {
  const outcomes = {} as Record<LookupTermination, number>;
  for (const t of LOOKUP_TERMINATIONS) outcomes[t] = 0;
  return outcomes;
}

function newKindStats(): LookupKindStats {
  return { outcomes: zeroOutcomes(), durationMs: new Histogram(LOOKUP_DURATION_BOUNDS_MS), messages: new Histogram(LOOKUP_MESSAGES_BOUNDS) };
}

/** What a kind no lookup of ran reads as (shared, frozen). */
const NO_LOOKUPS: LookupKindStats = Object.freeze({
  outcomes: Object.freeze(zeroOutcomes()),
  durationMs: emptyHistogram(LOOKUP_DURATION_BOUNDS_MS),
  messages: emptyHistogram(LOOKUP_MESSAGES_BOUNDS),
});

export class LookupStats {
  /** Made on a kind's first lookup: most nodes only ever run find-node lookups. */
  private readonly kinds: Partial<Record<LookupKind, LookupKindStats>> = {};

  /** Every kind; one that never ran reads as zeros. Built per read: take it once per scrape (DhtNode.metrics() does). */
  get byKind(): Readonly<Record<LookupKind, LookupKindStats>> {
    const out = {} as Record<LookupKind, LookupKindStats>;
    for (const kind of LOOKUP_KINDS) out[kind] = this.kinds[kind] ?? NO_LOOKUPS;
    return out;
  }

  record(kind: LookupKind, done: { reason: LookupTermination; durationMs: number; messages: number }): void {
    const s = (this.kinds[kind] ??= newKindStats());
    s.outcomes[done.reason]++;
    s.durationMs.observe(done.durationMs);
    s.messages.observe(done.messages);
  }
}
