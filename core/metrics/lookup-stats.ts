// Finished lookups by kind and outcome, with their duration and messages: the node records each
// lookup's `done` here (whether or not anyone listens to its events), and exporters read it.
import type { LookupKind, LookupTermination } from '../types';
import { Histogram, LOOKUP_DURATION_BOUNDS_MS, LOOKUP_MESSAGES_BOUNDS } from './histogram';

export const LOOKUP_KINDS: readonly LookupKind[] = ['find-node', 'find-value', 'get-peers'];
export const LOOKUP_TERMINATIONS: readonly LookupTermination[] = ['converged', 'value-found', 'exhausted', 'no-peers', 'aborted', 'timeout'];

export interface LookupKindStats {
  /** Finished lookups by how they ended. */
  outcomes: Record<LookupTermination, number>;
  durationMs: Histogram;
  messages: Histogram;
}

export class LookupStats {
  readonly byKind: Record<LookupKind, LookupKindStats>;

  constructor() {
    const byKind = {} as Record<LookupKind, LookupKindStats>;
    for (const kind of LOOKUP_KINDS) {
      const outcomes = {} as Record<LookupTermination, number>;
      for (const t of LOOKUP_TERMINATIONS) outcomes[t] = 0;
      byKind[kind] = { outcomes, durationMs: new Histogram(LOOKUP_DURATION_BOUNDS_MS), messages: new Histogram(LOOKUP_MESSAGES_BOUNDS) };
    }
    this.byKind = byKind;
  }

  record(kind: LookupKind, done: { reason: LookupTermination; durationMs: number; messages: number }): void {
    const s = this.byKind[kind];
    s.outcomes[done.reason]++;
    s.durationMs.observe(done.durationMs);
    s.messages.observe(done.messages);
  }
}
