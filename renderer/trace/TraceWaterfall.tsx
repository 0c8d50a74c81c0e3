// The replay's waterfall: the Lookups view's rows (one per RPC, bars on the lookup's time axis) as
// they stood at the replayed moment. The axis spans the whole trace, so bars keep their place while
// playing; a playhead marks the moment; RPCs still waiting run to it.
import { useEffect, useRef, useState, type ReactElement } from 'react';
import type { Waterfall, WaterfallRow } from '../state/lookup-model';
import { Id } from '../components/common';
import { endpointText, formatBytes, formatDuration, formatRtt } from '../lib/format';

/** Tick marks on the time axis. */
const AXIS_TICKS = 5;
const OUTCOME_TEXT: Record<WaterfallRow['outcome'], string> = { pending: 'waiting', response: 'answered', timeout: 'timeout', error: 'error' };

interface Props {
  waterfall: Waterfall;
  /** The replayed moment, ms since the start. */
  t: number;
  /** Keep the newest row in view (while playing). */
  follow: boolean;
}

export function TraceWaterfall({ waterfall: w, t, follow }: Props): ReactElement {
  const [open, setOpen] = useState<string | null>(null);
  const body = useRef<HTMLDivElement>(null);
  const pct = (ms: number): string => `${Math.min(100, Math.max(0, (ms / w.spanMs) * 100)).toFixed(3)}%`;
  const ticks = Array.from({ length: AXIS_TICKS }, (_, i) => (w.spanMs * i) / (AXIS_TICKS - 1));
  const rows = w.rows.length;

  useEffect(() => {
    const el = body.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [rows, follow]);

  const openRow = w.rows.find((r) => r.key === open);
  return (
    <div className="wf trace-wf" data-testid="replay-waterfall" data-rows={rows}>
      <div className="wf-body" ref={body}>
        <div className="wf-head" role="row">
          <div>#</div>
          <div>Peer</div>
          <div>Hop</div>
          <div>Status</div>
          <div className="num">RTT</div>
          <div className="wf-axis-cell" aria-hidden="true">
            <div className="wf-lane">
              {ticks.map((x) => (
                <span key={x} style={{ left: pct(x) }}>
                  {formatDuration(x)}
                </span>
              ))}
              <i className="trace-playhead" style={{ left: pct(t) }} />
            </div>
          </div>
        </div>
        {rows === 0 && <div className="trace-wf-empty muted">No RPC sent yet at this moment.</div>}
        {w.rows.map((r, i) => {
          const end = r.end ?? t;
          const cls = r.outcome === 'response' && r.hasValue ? 'value' : r.outcome;
          return (
            <div
              key={r.key}
              className={r.key === open ? 'wf-row is-sel' : 'wf-row'}
              role="row"
              tabIndex={0}
              onClick={() => setOpen(r.key === open ? null : r.key)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  setOpen(r.key === open ? null : r.key);
                }
              }}
              data-testid="replay-row"
              data-outcome={r.outcome}
              title={`${r.peer.id}\n${endpointText(r.peer)}`}
            >
              <div className="faint">{i + 1}</div>
              <div className="id">{r.peer.id.slice(0, 10)}</div>
              <div>{r.hop}</div>
              <div className={r.outcome === 'timeout' ? 'c-bad' : r.outcome === 'error' ? 'c-warn' : r.outcome === 'pending' ? 'muted' : undefined}>{r.hasValue ? 'value' : OUTCOME_TEXT[r.outcome]}</div>
              <div className="num">{r.outcome === 'response' ? formatRtt(r.rttMs) : r.end !== null ? formatDuration(r.end - r.start) : '…'}</div>
              <div className="wf-track">
                <div className="wf-lane">
                  <span className={`wf-bar ${cls}`} style={{ left: pct(r.start), width: `max(2px, ${pct(end - r.start)})` }} />
                  <i className="trace-playhead" style={{ left: pct(t) }} />
                </div>
              </div>
            </div>
          );
        })}
      </div>
      {openRow && (
        <div className="wf-detail" data-testid="replay-row-detail">
          <dl className="kv">
            <dt>Peer</dt>
            <dd>
              <Id id={openRow.peer.id} full copy /> <span className="mono muted">{endpointText(openRow.peer)}</span>
            </dd>
            <dt>Sent</dt>
            <dd>
              at {formatDuration(openRow.start)}, {formatBytes(openRow.bytesOut)}
            </dd>
            <dt>Result</dt>
            <dd>
              {openRow.outcome === 'response'
                ? `answered after ${formatRtt(openRow.rttMs)} with ${formatBytes(openRow.bytesIn ?? 0)}${openRow.hasValue ? ', carrying the value' : ''}`
                : (openRow.message ?? 'no answer yet at this moment')}
            </dd>
            {openRow.returned.length > 0 && (
              <>
                <dt>Returned</dt>
                <dd>
                  <ul className="list-inline">
                    {openRow.returned.map((c) => (
                      <li key={c.id}>
                        <Id id={c.id} />
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            )}
          </dl>
        </div>
      )}
    </div>
  );
}
