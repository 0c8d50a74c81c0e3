// Compare two traces: their figures side by side, and their paths step by step (the queries in the
// order each lookup sent them) with the step where they diverged. Pure: tested without a DOM.
import type { Contact, Trace } from '../../electron/host/contract';
import { traceRpcs, type TraceRpc } from '../../electron/host/trace-build';
import { shownDurationMs } from '../lib/format';

export interface CompareFigure {
  key: 'durationMs' | 'timeToClosestMs' | 'hops' | 'messages' | 'responses' | 'timeouts' | 'errors';
  label: string;
  unit: 'ms' | 'count';
  a: number | null;
  b: number | null;
  /** b - a as shown (durations rounded as formatDuration shows them), when both are known. */
  delta: number | null;
  /** Which trace did better on this figure (less is better for all of them); null on a tie. */
  better: 'a' | 'b' | null;
}

export interface PathStepSide {
  peer: Contact;
  hop: number;
  /** ms since that lookup started. */
  t: number;
  outcome: TraceRpc['outcome'];
}

export interface PathStep {
  /** 1-based, as shown. */
  step: number;
  a: PathStepSide | null;
  b: PathStepSide | null;
  /** Both asked the same peer at this step. */
  same: boolean;
}

export interface Divergence {
  /** 1-based step where the paths first differ. */
  step: number;
  a: PathStepSide | null;
  b: PathStepSide | null;
  /** 'different-peer': each asked someone else; 'a-ended' / 'b-ended': one stopped asking first. */
  kind: 'different-peer' | 'a-ended' | 'b-ended';
}

export interface TraceComparison {
  sameTarget: boolean;
  /** Both lookups ran on the same node. */
  sameSelf: boolean;
  figures: CompareFigure[];
  /** Aligned by step, as long as the longer path (capped at MAX_COMPARED_STEPS). */
  steps: PathStep[];
  /** Steps both took alike before the paths split (= all steps when they never split). */
  commonPrefix: number;
  /** null when both asked the same peers in the same order. */
  divergence: Divergence | null;
  closest: { common: number; onlyA: Contact[]; onlyB: Contact[] };
  /** Peers both lookups asked, at any step. */
  sharedPeers: number;
}

/** Steps listed side by side at most (a lookup sends a few dozen; a pathological one thousands). */
export const MAX_COMPARED_STEPS = 2000;

const FIGURES: Array<Pick<CompareFigure, 'key' | 'label' | 'unit'>> = [
  { key: 'durationMs', label: 'Duration', unit: 'ms' },
  { key: 'timeToClosestMs', label: 'Closest set at', unit: 'ms' },
  { key: 'hops', label: 'Hops', unit: 'count' },
  { key: 'messages', label: 'Messages', unit: 'count' },
  { key: 'responses', label: 'Answers', unit: 'count' },
  { key: 'timeouts', label: 'Timeouts', unit: 'count' },
  { key: 'errors', label: 'Errors', unit: 'count' },
];

function side(r: TraceRpc | undefined): PathStepSide | null {
  return r ? { peer: r.peer, hop: r.hop, t: r.start, outcome: r.outcome } : null;
}

export function compareTraces(a: Trace, b: Trace): TraceComparison {
  const figures = FIGURES.map((f): CompareFigure => {
    const va = a.summary[f.key];
    const vb = b.summary[f.key];
    // Durations are compared as shown (formatDuration rounds them), so A, B and B − A add up on screen.
    const shown = (v: number): number => (f.unit === 'ms' ? shownDurationMs(v) : v);
    const delta = va !== null && vb !== null ? shown(vb) - shown(va) : null;
    // "Answers" is the one figure where more is not worse in itself; it is shown, not judged.
    const judged = f.key !== 'responses';
    return { ...f, a: va, b: vb, delta, better: !judged || delta === null || delta === 0 ? null : delta > 0 ? 'a' : 'b' };
  });

  const pa = traceRpcs(a.events);
  const pb = traceRpcs(b.events);
  const n = Math.min(Math.max(pa.length, pb.length), MAX_COMPARED_STEPS);
  const steps: PathStep[] = [];
  let divergence: Divergence | null = null;
  let commonPrefix = 0;
  for (let i = 0; i < n; i++) {
    const sa = side(pa[i]);
    const sb = side(pb[i]);
    const same = sa !== null && sb !== null && sa.peer.id === sb.peer.id;
    steps.push({ step: i + 1, a: sa, b: sb, same });
    if (divergence === null) {
      if (same) commonPrefix++;
      else divergence = { step: i + 1, a: sa, b: sb, kind: sa === null ? 'a-ended' : sb === null ? 'b-ended' : 'different-peer' };
    }
  }

  const inA = new Set(a.summary.closest.map((c) => c.id));
  const inB = new Set(b.summary.closest.map((c) => c.id));
  const askedA = new Set(pa.map((r) => r.peer.id));
  let sharedPeers = 0;
  for (const id of new Set(pb.map((r) => r.peer.id))) if (askedA.has(id)) sharedPeers++;
  return {
    sameTarget: a.target === b.target,
    sameSelf: a.self === b.self,
    figures,
    steps,
    commonPrefix,
    divergence,
    closest: {
      common: a.summary.closest.filter((c) => inB.has(c.id)).length,
      onlyA: a.summary.closest.filter((c) => !inB.has(c.id)),
      onlyB: b.summary.closest.filter((c) => !inA.has(c.id)),
    },
    sharedPeers,
  };
}
