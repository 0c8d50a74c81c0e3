// Compare two traces: figures side by side and the step where their paths split (the arithmetic is
// trace/compare.ts).
import { useMemo, type ReactElement } from 'react';
import type { TraceListItem } from '../../electron/host/contract';
import { Card, Empty, ErrorNote, Id, Progress } from '../components/common';
import { endpointText, formatClock, formatDuration, formatDurationDelta, plural } from '../lib/format';
import { shortId } from '../lib/id';
import { compareTraces, type CompareFigure, type PathStepSide } from './compare';
import { useTrace, useTraceList } from './hooks';
import { useTracesUi } from './store';


function figureText(f: CompareFigure, v: number | null): string {
  if (v === null) return '—';
  return f.unit === 'ms' ? formatDuration(v) : String(v);
}

function deltaText(f: CompareFigure): string {
  if (f.delta === null) return '—';
  if (f.delta === 0) return 'same';
  if (f.unit === 'ms') return formatDurationDelta(f.delta);
  return `${f.delta > 0 ? '+' : '−'}${Math.abs(f.delta)}`;
}

function StepCell({ s, diverged }: { s: PathStepSide | null; diverged: boolean }): ReactElement {
  if (!s) return <td className="faint">{diverged ? 'stopped asking' : ''}</td>;
  return (
    <td title={`${s.peer.id}\n${endpointText(s.peer)}`}>
      <span className="id">{shortId(s.peer.id, 10)}</span> <span className="faint">hop {s.hop}</span>{' '}
      <span className={s.outcome === 'timeout' ? 'c-bad' : s.outcome === 'error' ? 'c-warn' : 'muted'}>{s.outcome === 'response' ? 'answered' : s.outcome === 'pending' ? 'no answer' : s.outcome}</span>
    </td>
  );
}

function TraceLabel({ item, side }: { item: TraceListItem | undefined; side: 'A' | 'B' }): ReactElement {
  if (!item) return <span className="muted">—</span>;
  return (
    <span className="compare-label">
      <b className={`side side-${side.toLowerCase()}`}>{side}</b> {item.kind} <Id id={item.target} /> <span className="faint">{formatClock(item.startedAt)}</span>
      {item.origin === 'imported' && <span className="tag">file</span>}
    </span>
  );
}

export function ComparePanel({ a }: { a: string }): ReactElement {
  const { items } = useTraceList();
  const compareWith = useTracesUi((s) => s.compareWith);
  const setCompareWith = useTracesUi((s) => s.setCompareWith);
  const open = useTracesUi((s) => s.open);
  const itemA = items.find((t) => t.id === a);
  const candidates = items.filter((t) => t.id !== a && t.done);
  // Default B: the newest other trace of the same target, else the newest other one.
  const b = compareWith ?? candidates.find((t) => t.target === itemA?.target)?.id ?? candidates[0]?.id ?? null;
  const itemB = items.find((t) => t.id === b);
  const ta = useTrace(a);
  const tb = useTrace(b);
  const cmp = useMemo(() => (ta.trace && tb.trace ? compareTraces(ta.trace, tb.trace) : null), [ta.trace, tb.trace]);

  return (
    <Card
      title="Compare"
      right={
        <label className="compare-pick">
          <span>Compare with</span>
          <select className="select" value={b ?? ''} onChange={(e) => setCompareWith(e.target.value || null)} data-testid="compare-with">
            {candidates.length === 0 && <option value="">no other finished trace</option>}
            {candidates.map((t) => (
              <option key={t.id} value={t.id}>
                {formatClock(t.startedAt)} · {t.kind} {t.target.slice(0, 8)}
                {t.target === itemA?.target ? ' (same target)' : ''}
                {t.origin === 'imported' ? ' · file' : ''}
              </option>
            ))}
          </select>
        </label>
      }
      flush
      testId="compare"
    >
      {b === null ? (
        <Empty title="Nothing to compare with">Run another lookup (the same target shows how its path can differ) or open a trace file, then come back here.</Empty>
      ) : !cmp ? (
        ta.error || tb.error ? (
          <div className="card-body">
            <ErrorNote error={ta.error ?? tb.error} context="Trace" />
          </div>
        ) : (
          <div className="card-body">
            <Progress>Loading both traces…</Progress>
          </div>
        )
      ) : (
        <>
          <div className="compare-heads">
            <TraceLabel item={itemA} side="A" />
            <TraceLabel item={itemB} side="B" />
          </div>
          {!cmp.sameTarget && <div className="alert info compare-note">The two lookups looked for different targets, so their paths differ from the start; the figures still compare.</div>}
          <Divergence cmp={cmp} />
          <table className="table compact compare-figures" data-testid="compare-figures">
            <thead>
              <tr>
                <th>Figure</th>
                <th className="num">A</th>
                <th className="num">B</th>
                <th className="num">B − A</th>
              </tr>
            </thead>
            <tbody>
              {cmp.figures.map((f) => (
                <tr key={f.key} data-testid={`cmp-${f.key}`}>
                  <td>{f.label}</td>
                  <td className={`num ${f.better === 'a' ? 'better' : ''}`}>{figureText(f, f.a)}</td>
                  <td className={`num ${f.better === 'b' ? 'better' : ''}`}>{figureText(f, f.b)}</td>
                  <td className={`num ${f.better === 'a' ? 'c-bad' : f.better === 'b' ? 'c-good' : 'muted'}`}>{deltaText(f)}</td>
                </tr>
              ))}
              <tr>
                <td>Final closest set</td>
                <td className="num" colSpan={3}>
                  {cmp.closest.common} in common · {cmp.closest.onlyA.length} only in A · {cmp.closest.onlyB.length} only in B
                </td>
              </tr>
            </tbody>
          </table>
          <div className="compare-steps-head">
            <span className="field-label">Paths: the peers each lookup asked, in the order it asked them</span>
            <span className="faint">{cmp.sharedPeers} peers asked by both</span>
          </div>
          <div className="table-wrap compare-steps">
            <table className="table compact" data-testid="compare-steps">
              <thead>
                <tr>
                  <th className="num">Step</th>
                  <th>A asked</th>
                  <th>B asked</th>
                </tr>
              </thead>
              <tbody>
                {cmp.steps.map((s) => {
                  const isDiv = cmp.divergence?.step === s.step;
                  return (
                    <tr key={s.step} className={isDiv ? 'diverged' : s.same ? 'same' : undefined} data-testid="compare-step" data-same={s.same ? 'true' : 'false'}>
                      <td className="num">
                        {s.step}
                        {isDiv && <span className="diverge-mark"> ◆</span>}
                      </td>
                      <StepCell s={s.a} diverged={isDiv || (cmp.divergence !== null && s.step > cmp.divergence.step)} />
                      <StepCell s={s.b} diverged={isDiv || (cmp.divergence !== null && s.step > cmp.divergence.step)} />
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div className="card-body btn-row">
            <button type="button" className="btn small" onClick={() => open(a)}>
              Replay A
            </button>
            <button type="button" className="btn small" onClick={() => b && (setCompareWith(null), open(b))}>
              Replay B
            </button>
          </div>
        </>
      )}
    </Card>
  );
}

function Divergence({ cmp }: { cmp: ReturnType<typeof compareTraces> }): ReactElement {
  const d = cmp.divergence;
  const peer = (s: PathStepSide): ReactElement => (
    <>
      <span className="id">{shortId(s.peer.id, 10)}</span> <span className="mono faint">{endpointText(s.peer)}</span> (hop {s.hop})
    </>
  );
  return (
    <div className={`compare-divergence ${d ? 'paths-split' : 'paths-same'}`} data-testid="divergence" data-step={d?.step ?? ''}>
      {d === null ? (
        <>
          <b>Same path.</b> Both lookups asked the same {plural(cmp.commonPrefix, 'peer')} in the same order.
        </>
      ) : d.kind === 'different-peer' ? (
        <>
          <b>The paths diverged at step {d.step}</b>
          {d.step > 1 ? ` after ${plural(cmp.commonPrefix, 'step')} in common` : ''}: A asked {peer(d.a!)}, B asked {peer(d.b!)}.
        </>
      ) : (
        <>
          <b>The paths diverged at step {d.step}</b>: {d.kind === 'a-ended' ? 'A' : 'B'} had stopped asking after {plural(cmp.commonPrefix, 'step')}; {d.kind === 'a-ended' ? 'B' : 'A'} went on with {peer((d.kind === 'a-ended' ? d.b : d.a)!)}.
        </>
      )}
    </div>
  );
}
