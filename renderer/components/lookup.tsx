// What the Lookups and Traces views both show of a lookup: its kind in a word, its outcome badge,
// and the table of lookups (one row per lookup or trace, click to pick). One definition each.
import type { ReactElement } from 'react';
import type { TraceListItem } from '../../electron/host/contract';
import { Id } from './common';
import { outcomeView } from '../state/lookups';
import { formatClock, formatDuration } from '../lib/format';
import { onActivateKey } from '../lib/hooks';

export const KIND_SHORT: Record<string, string> = { 'find-node': 'node', 'find-value': 'value', 'get-peers': 'peers' };

interface OutcomeProps {
  kind: string;
  /** null while running (or for a trace that ended without a 'done'). */
  reason: string | null;
  running: boolean;
  testId?: string;
  /** Said when the lookup has no outcome and is not running (a replay before its end, a cut trace). */
  pendingText?: string;
}

/** A lookup's outcome as a badge: "running", "converged", or for a find-value "found" / "not found". */
export function Outcome({ kind, reason, running, testId, pendingText }: OutcomeProps): ReactElement {
  const v = running ? null : outcomeView(kind, reason);
  if (v === null)
    return (
      <span className="outcome info" data-testid={testId} data-outcome="running">
        {running && <span className="spinner" aria-hidden="true" />} {running || pendingText === undefined ? 'running' : pendingText}
      </span>
    );
  return (
    <span className={`outcome ${v.tone}`} data-testid={testId} data-outcome={reason ?? ''} data-verdict={v.verdict}>
      {v.text}
    </span>
  );
}

interface TableProps {
  rows: TraceListItem[];
  selected: string | null;
  onSelect(id: string): void;
  /** data-testid of each row. */
  rowTestId: string;
  /** data-testid of each row's outcome badge. */
  outcomeTestId?: string;
  /** Leave out the hops column (a narrow list beside the replay). */
  narrow?: boolean;
}

/** The lookups as a table, in the order given: started, kind and target, time, hops, messages, outcome. */
export function LookupTable({ rows, selected, onSelect, rowTestId, outcomeTestId, narrow = false }: TableProps): ReactElement {
  return (
    <table className="table compact">
      <thead>
        <tr>
          <th>Started</th>
          <th>Lookup</th>
          <th className="num">Time</th>
          {!narrow && <th className="num">Hops</th>}
          <th className="num" title="Messages sent">
            Msgs
          </th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((t) => (
          <tr
            key={t.id}
            className={t.id === selected ? 'clickable selected' : 'clickable'}
            onClick={() => onSelect(t.id)}
            onKeyDown={onActivateKey(() => onSelect(t.id))}
            tabIndex={0}
            aria-selected={t.id === selected}
            data-testid={rowTestId}
            title={`${t.kind} ${t.target}\ntrace ${t.id}`}
            data-id={t.id}
            data-origin={t.origin}
            data-target={t.target}
          >
            <td className="muted">{formatClock(t.startedAt)}</td>
            <td className="nowrap">
              <span className="kind" title={t.kind}>
                {KIND_SHORT[t.kind] ?? t.kind}
              </span>{' '}
              <Id id={t.target} />
              {t.origin === 'imported' && (
                <span className="tag" title="Opened from a file">
                  file
                </span>
              )}
            </td>
            <td className="num">{formatDuration(t.summary.durationMs)}</td>
            {!narrow && <td className="num">{t.summary.hops ?? '—'}</td>}
            <td className="num">{t.summary.messages}</td>
            <td>
              <Outcome kind={t.kind} reason={t.summary.reason} running={!t.done} testId={outcomeTestId} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
