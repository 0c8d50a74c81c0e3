// The replay's graph: a cytoscape instance of its own (the Graph view's controller and styles)
// showing the lookup's world at the replayed moment, around the node that ran it, from the trace
// alone (nothing of today's routing table). Redrawn only when the moment shows a different set of
// events (or the fitted zoom changes which labels fit), as one diff inside one cytoscape batch.
import { useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import { GraphController } from '../graph/controller';
import { routeNote } from '../graph/labels';
import type { GraphNode } from '../graph/model';
import type { LookupOverlay, PeerLookupState } from '../state/lookup-model';
import { useLive } from '../state/live';
import { effectiveDark, useUi } from '../state/ui';
import { endpointText } from '../lib/format';
import { shortId } from '../lib/id';
import { useRestyleOnTheme } from '../lib/hooks';
import { DEFAULT_UNITS_PER_PX, buildReplayGraph, replayBounds, replayGraphStyle } from './graph';

/** Room around the fitted lookup, px (its bounds include the origin's and target's labels). */
const REPLAY_FIT_PADDING_PX = 12;

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
  // Which labels fit depends on the zoom the lookup is fitted at (sizes are in screen px).
  const [unitsPerPx, setUnitsPerPx] = useState(DEFAULT_UNITS_PER_PX);

  useEffect(() => {
    if (!container.current) return;
    // Every fit frames the whole lookup (its end), whatever moment is shown, so nothing runs out of
    // the box as the replay plays on.
    const fitBounds = (u: number) => replayBounds(buildReplayGraph({ origin, ourId, overlay: finalOverlay, selected: null, unitsPerPx: u }), u);
    const c = new GraphController(container.current, { onSelect: () => undefined, onHover: setHover }, { extraStyle: replayGraphStyle, fitPaddingPx: REPLAY_FIT_PADDING_PX, fitBounds });
    ctl.current = c;
    c.apply(buildReplayGraph({ origin, ourId, overlay: finalOverlay, selected: null }));
    const refit = (): void => {
      c.fit();
      setUnitsPerPx(1 / Math.max(c.fittedZoom, 0.01));
    };
    refit();
    const ro = new ResizeObserver(() => {
      c.resize();
      refit();
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
    ctl.current?.apply(buildReplayGraph({ origin, ourId, overlay, selected: null, unitsPerPx }));
    // `version` stands for the overlay: a new overlay object with the same events draws nothing new.
  }, [version, origin, ourId, unitsPerPx]);

  useRestyleOnTheme(ctl, theme);

  const contact = hover ? overlay.contacts.get(hover.ref) : undefined;
  const lk = hover ? overlay.peers.get(hover.ref) : undefined;
  // Round numbers left off a crowded arrow are in the tooltip.
  const asked = hover ? routeNote(overlay, hover.ref) : null;
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
        <span className="faint">★ the target · rings: buckets from {origin === ourId ? 'us' : 'the origin'}</span>
        <span className="faint" title="Numbers that would overlap are left off; hover a node for its round">
          arrows: who named whom, numbered by the round that asked
        </span>
        <button type="button" className="btn small ghost" onClick={() => ctl.current?.fit()} title="Fit the whole lookup in view (after zooming or panning)">
          Fit
        </button>
      </div>
      {hover && hover.kind !== 'ring' && (
        <div className="tooltip" style={{ left: hover.x, top: hover.y }} role="tooltip">
          <div className="id">{hover.kind === 'self' ? (origin === ourId ? 'you: the lookup’s origin' : `origin ${shortId(origin, 16)}`) : hover.kind === 'target' ? 'lookup target' : shortId(hover.ref, 16)}</div>
          {contact && <div className="muted">{endpointText(contact)}</div>}
          <div>{lk ? LK_TEXT[lk] : hover.kind === 'ghost' ? 'named in an answer, not asked' : null}</div>
          {asked && <div className="muted">{asked}</div>}
        </div>
      )}
    </div>
  );
}
