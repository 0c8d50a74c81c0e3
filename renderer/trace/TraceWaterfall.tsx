// The replay's waterfall: the Lookups view's waterfall (components/LookupWaterfall) as it stood at
// the replayed moment. The axis spans the whole trace, so bars keep their place while playing; a
// playhead marks the moment; RPCs still waiting run to it. Every row shows (no box of its own to
// scroll): the slowest RPCs, which set the lookup's time, are never hidden.
import type { ReactElement } from 'react';
import type { Waterfall } from '../state/lookup-model';
import { LookupWaterfall } from '../components/LookupWaterfall';


interface Props {
  waterfall: Waterfall;
  /** The replayed moment, ms since the start. */
  t: number;
}

export function TraceWaterfall({ waterfall, t }: Props): ReactElement {
  return (
    <LookupWaterfall
      waterfall={waterfall}
      testIds={{ root: 'replay-waterfall', row: 'replay-row', detail: 'replay-row-detail' }}
      className="trace-wf"
      playhead={t}
      empty={<div className="trace-wf-empty muted">No RPC sent yet at this moment.</div>}
      pendingText="no answer yet at this moment"
    />
  );
}
