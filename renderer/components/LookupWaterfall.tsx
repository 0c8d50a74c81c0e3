// A lookup's waterfall: one row per RPC on the lookup's time axis, like a browser's network panel;
// a row opens to what was sent and what came back. Rows sort by start (the order sent) or by
// duration (the slowest, which set the lookup's time, first); a row that returned the value says so. Shared by the Lookups view (a live or finished
// lookup: waiting RPCs run to the axis' end, the lookup's end is a dashed line) and the Traces
// replay (a moment in a trace: a playhead on every row, waiting RPCs run to it).
import { useState, type ReactElement, type ReactNode } from 'react';
import type { Waterfall, WaterfallRow } from '../state/lookup-model';
import { Id, Segmented } from './common';
import { endpointText, formatBytes, formatDuration, formatRtt } from '../lib/format';
import { onActivateKey } from '../lib/hooks';

/** Tick marks on the time axis. */
export const AXIS_TICKS = 5;

const OUTCOME_TEXT: Record<WaterfallRow['outcome'], string> = { pending: 'waiting', response: 'answered', timeout: 'timeout', error: 'error' };
const OUTCOME_CLASS: Record<WaterfallRow['outcome'], string | undefined> = { pending: 'muted', response: undefined, timeout: 'c-bad', error: 'c-warn' };

/** Where `ms` falls on an axis of `spanMs`, as a CSS percentage (clamped to the axis). */
export function axisPct(ms: number, spanMs: number): string {
  return `${Math.min(100, Math.max(0, (ms / spanMs) * 100)).toFixed(3)}%`;
}

/** The axis' tick times, ms: AXIS_TICKS evenly from 0 to the span. */
export function axisTicks(spanMs: number): number[] {
  return Array.from({ length: AXIS_TICKS }, (_, i) => (spanMs * i) / (AXIS_TICKS - 1));
}

export type WaterfallSort = 'start' | 'duration';

/**
 * The rows in the order asked, each with its number in the order sent (#). 'duration': longest
 * first, a waiting row counted to `pendingEnd`; ties keep the order sent.
 */
export function sortRows(rows: readonly WaterfallRow[], sort: WaterfallSort, pendingEnd: number): Array<{ row: WaterfallRow; n: number }> {
  const numbered = rows.map((row, i) => ({ row, n: i + 1 }));
  if (sort === 'start') return numbered;
  const length = (r: WaterfallRow): number => (r.end ?? pendingEnd) - r.start;
  return numbered.sort((x, y) => length(y.row) - length(x.row) || x.n - y.n);
}

/** What a row shows: its status text and class, the RTT column, and its bar (start, length, colour class). */
export function rowView(r: WaterfallRow, pendingEnd: number): { status: string; statusClass: string | undefined; rtt: string; barStart: number; barMs: number; barClass: string } {
  const end = r.end ?? pendingEnd;
  return {
    status: r.hasValue ? 'returned the value' : OUTCOME_TEXT[r.outcome],
    statusClass: r.hasValue ? 'c-good' : OUTCOME_CLASS[r.outcome],
    rtt: r.outcome === 'response' ? formatRtt(r.rttMs) : r.end !== null ? formatDuration(r.end - r.start) : '…',
    barStart: r.start,
    barMs: Math.max(0, end - r.start),
    barClass: r.outcome === 'response' && r.hasValue ? 'value' : r.outcome,
  };
}

interface Props {
  waterfall: Waterfall;
  /** data-testid of the waterfall, of each row and of the open row's detail. */
  testIds: { root: string; row: string; detail: string };
  className?: string;
  /**
   * A replayed moment, ms since the start: a playhead on the axis and every row, and RPCs still
   * waiting run to it. Without one they run to the axis' end and the lookup's end is marked.
   */
  playhead?: number;
  /** Shown in place of the rows when there are none. */
  empty?: ReactNode;
  /** The open row's result while it has no answer. */
  pendingText: string;
  /** After the rows and the open row's detail (the lookup's closest set, notes). */
  children?: ReactNode;
}

export function LookupWaterfall({ waterfall: w, testIds, className, playhead, empty, pendingText, children }: Props): ReactElement {
  const [open, setOpen] = useState<string | null>(null);
  const [sort, setSort] = useState<WaterfallSort>('start');
  const rows = w.rows.length;
  const pct = (ms: number): string => axisPct(ms, w.spanMs);
  const pendingEnd = playhead ?? w.spanMs;
  const doneAt = playhead === undefined ? w.doneAt : null;

  const values = w.rows.filter((r) => r.hasValue).length;

  const toggle = (key: string): void => setOpen(key === open ? null : key);
  const openRow = w.rows.find((r) => r.key === open);
  return (
    <div className={className ? `wf ${className}` : 'wf'} data-testid={testIds.root} data-rows={rows} data-sort={sort}>
      {rows > 1 && (
        <div className="wf-tools">
          <Segmented
            label="Sort the RPCs"
            value={sort}
            onChange={setSort}
            options={[
              { value: 'start', label: 'By start' },
              { value: 'duration', label: 'Slowest first' },
            ]}
          />
          <span className="faint">
            {rows} RPCs{values > 0 ? ` · ${values} returned the value` : ''}
          </span>
        </div>
      )}
      <div className="wf-body">
        <div className="wf-head" role="row">
          <div>#</div>
          <div>Peer</div>
          <div>Hop</div>
          <div>Status</div>
          <div className="num">RTT</div>
          <div className="wf-axis-cell" aria-hidden="true">
            <div className="wf-lane">
              {axisTicks(w.spanMs).map((x) => (
                <span key={x} style={{ left: pct(x) }}>
                  {formatDuration(x)}
                </span>
              ))}
              {playhead !== undefined && <i className="wf-playhead" style={{ left: pct(playhead) }} />}
            </div>
          </div>
        </div>
        {rows === 0 && empty}
        {sortRows(w.rows, sort, pendingEnd).map(({ row: r, n }) => {
          const v = rowView(r, pendingEnd);
          return (
            <div
              key={r.key}
              className={`wf-row${r.key === open ? ' is-sel' : ''}${r.hasValue ? ' has-value' : ''}`}
              role="row"
              tabIndex={0}
              onClick={() => toggle(r.key)}
              onKeyDown={onActivateKey(() => toggle(r.key))}
              data-testid={testIds.row}
              data-outcome={r.outcome}
              data-value={r.hasValue ? 'true' : undefined}
              title={`${r.peer.id}\n${endpointText(r.peer)}`}
            >
              <div className="faint">{n}</div>
              <div className="id">{r.peer.id.slice(0, 10)}</div>
              <div>{r.hop}</div>
              <div className={v.statusClass}>{v.status}</div>
              <div className="num">{v.rtt}</div>
              <div className="wf-track">
                <div className="wf-lane">
                  <span className={`wf-bar ${v.barClass}`} style={{ left: pct(v.barStart), width: `max(2px, ${pct(v.barMs)})` }} />
                  {doneAt !== null && <span className="wf-done" style={{ left: pct(doneAt) }} />}
                  {playhead !== undefined && <i className="wf-playhead" style={{ left: pct(playhead) }} />}
                </div>
              </div>
            </div>
          );
        })}
      </div>
      {openRow && (
        <div className="wf-detail" data-testid={testIds.detail}>
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
                : (openRow.message ?? pendingText)}
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
      {children}
    </div>
  );
}
