// The replay's graph: a cytoscape instance of its own (the Graph view's controller and styles)
// showing the lookup's world at the replayed moment, around the node that ran it, from the trace
// alone (nothing of today's routing table). Redrawn only when the moment shows a different set of
// events, as one diff inside one cytoscape batch.
import { useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import { GraphController } from '../graph/controller';
import type { GraphNode } from '../graph/model';
import type { LookupOverlay, PeerLookupState } from '../state/lookup-model';
import { useLive } from '../state/live';
import { effectiveDark, useUi } from '../state/ui';
import { endpointText } from '../lib/format';
import { shortId } from '../lib/id';
import { useRestyleOnTheme } from '../lib/hooks';
import { buildReplayGraph, replayGraphStyle } from './graph';

const LK_TEXT: Record<PeerLookupState, string> = { queried: 'asked, waiting for its answer', answered: 'answered', timeout: 'timed out', error: 'answered with an error' };

interface Props {
  origin: string;
  overlay: LookupOverlay;
  /** Changes whenever the overlay shows other events (the replay's event count). */
  version: number;
  /** Overlay at the end of the trace: the first draw fits it, so the view does not jump while playing. */
  finalOverlay: LookupOverlay;
}

export function ReplayGraph({ origin, overlay, version, finalOverlay }: Props): ReactElement {
  const container = useRef<HTMLDivElement>(null);
  const ctl = useRef<GraphController | null>(null);
  const ourId = useLive((s) => s.node?.id ?? null);
  const theme = useUi((s) => s.theme);
  const [hover, setHover] = useState<{ ref: string; kind: GraphNode['kind']; x: number; y: number } | null>(null);

  useEffect(() => {
    if (!container.current) return;
    const c = new GraphController(container.current, { onSelect: () => undefined, onHover: setHover }, { extraStyle: replayGraphStyle });
    ctl.current = c;
    // Fit the whole lookup once, then show the moment.
    c.apply(buildReplayGraph({ origin, ourId, overlay: finalOverlay, selected: null }));
    c.fit();
    const ro = new ResizeObserver(() => {
      c.resize();
      c.fit();
    });
    ro.observe(container.current);
    return () => {
      ro.disconnect();
      c.destroy();
      ctl.current = null;
    };
    // A new trace mounts a new graph (the caller keys it by trace), so this runs once per trace.
  }, []);

  useEffect(() => {
    ctl.current?.apply(buildReplayGraph({ origin, ourId, overlay, selected: null }));
    // `version` stands for the overlay: a new overlay object with the same events draws nothing new.
  }, [version, origin, ourId]);

  useRestyleOnTheme(ctl, theme);

  const contact = hover ? overlay.contacts.get(hover.ref) : undefined;
  const lk = hover ? overlay.peers.get(hover.ref) : undefined;
  const counts = useMemo(() => {
    let met = 0;
    let unasked = 0;
    for (const id of overlay.contacts.keys()) {
      if (id === origin) continue;
      met++;
      if (!overlay.peers.has(id)) unasked++;
    }
    return { met, unasked };
  }, [overlay, origin]);

  return (
    <div className="replay-graph" data-testid="replay-graph" data-met={counts.met} data-unasked={counts.unasked} data-dark={effectiveDark(theme) ? 'true' : 'false'}>
      <div className="replay-graph-canvas">
        <div className="cy" ref={container} />
      </div>
      <div className="replay-graph-legend" aria-label="Legend">
        <span>
          <span className="sw queried" /> asked
        </span>
        <span>
          <span className="sw answered" /> answered
        </span>
        <span>
          <span className="sw timeout" /> timed out
        </span>
        <span title="Nodes an answer named that the lookup never asked">
          <span className="sw ghost" /> heard of, not asked ({counts.unasked})
        </span>
        <span className="faint">★ target · rings: buckets from {origin === ourId ? 'us' : 'the origin'}</span>
        <button type="button" className="btn small ghost" onClick={() => ctl.current?.fit()} title="Fit the whole lookup in view">
          Fit
        </button>
      </div>
      {hover && hover.kind !== 'ring' && (
        <div className="tooltip" style={{ left: hover.x, top: hover.y }} role="tooltip">
          <div className="id">{hover.kind === 'self' ? (origin === ourId ? 'you: the lookup’s origin' : `origin ${shortId(origin, 16)}`) : hover.kind === 'target' ? 'lookup target' : shortId(hover.ref, 16)}</div>
          {contact && <div className="muted">{endpointText(contact)}</div>}
          <div>{lk ? LK_TEXT[lk] : hover.kind === 'ghost' ? 'named in an answer, not asked' : null}</div>
        </div>
      )}
    </div>
  );
}
