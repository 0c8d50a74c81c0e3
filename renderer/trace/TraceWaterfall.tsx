// The replay's waterfall: the Lookups view's waterfall (components/LookupWaterfall) as it stood at
// the replayed moment. The axis spans the whole trace, so bars keep their place while playing; a
// playhead marks the moment; RPCs still waiting run to it.
import type { ReactElement } from 'react';
import type { Waterfall } from '../state/lookup-model';
import { LookupWaterfall } from '../components/LookupWaterfall';

/** Rows the replay's waterfall shows before it scrolls (when stacked above the graph). */
export const REPLAY_WATERFALL_ROWS = 5;

/**
 * How many rows tall the replay's waterfall is, from the whole trace's row count: as many as it has
 * (at least 2), up to the cap, then half a row more so the cut row says "scroll for more". Set by
 * the trace, not the moment, so the list does not grow and push the graph down while playing.
 */
export function replayWaterfallRows(totalRows: number): number {
  return totalRows > REPLAY_WATERFALL_ROWS ? REPLAY_WATERFALL_ROWS + 0.5 : Math.max(totalRows, 2);
}

interface Props {
  waterfall: Waterfall;
  /** The replayed moment, ms since the start. */
  t: number;
  /** Keep the newest row in view (while playing). */
  follow: boolean;
}

export function TraceWaterfall({ waterfall, t, follow }: Props): ReactElement {
  return (
    <LookupWaterfall
      waterfall={waterfall}
      testIds={{ root: 'replay-waterfall', row: 'replay-row', detail: 'replay-row-detail' }}
      className="trace-wf"
      playhead={t}
      follow={follow}
      empty={<div className="trace-wf-empty muted">No RPC sent yet at this moment.</div>}
      pendingText="no answer yet at this moment"
    />
  );
}
