// Traces: every lookup the node made (the host keeps the last 500) and trace files opened here. Save
// one to a .kadtrace.json file, open files (button or drag and drop), replay a trace with a scrubber
// (the waterfall and the graph show that moment), and compare two side by side.
import { useEffect, useMemo, useRef, useState, type CSSProperties, type DragEvent, type ReactElement } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Trace, TraceListItem } from '../../electron/host/contract';
import { Card, Empty, ErrorNote, Id, Progress, Segmented } from '../components/common';
import { useLive } from '../state/live';
import { REASON_TEXT, REASON_TONE } from '../state/lookups';
import { useApi, useConnectionState } from '../state/sync';
import { unwrap } from '../state/call';
import { endpointText, formatClock, formatDuration, plural } from '../lib/format';
import { shortId } from '../lib/id';
import { onActivateKey } from '../lib/hooks';
import { compareTraces, type CompareFigure, type PathStepSide } from '../trace/compare';
import { TRACE_FILE_ACCEPT, downloadTrace, dragHasFiles, readTraceFile } from '../trace/files';
import { Player } from '../trace/Player';
import { ReplayGraph } from '../trace/ReplayGraph';
import { advance, defaultPace, describeEvent, frameAt, prepareReplay, type ReplayPace } from '../trace/replay';
import { useTracesUi } from '../trace/store';
import { TraceWaterfall, replayWaterfallRows } from '../trace/TraceWaterfall';
import '../styles/traces.css';

/** Rows shown in the list (the host keeps up to 500). */
const LIST_ROWS = 500;
/** Files opened at once from one drop or pick. */
const MAX_FILES_AT_ONCE = 20;
const KIND_SHORT: Record<string, string> = { 'find-node': 'node', 'find-value': 'value', 'get-peers': 'peers' };

type Filter = 'all' | 'live' | 'imported';

interface OpenFailure {
  name: string;
  error: unknown;
}

/** Opens trace files: each is read, sent to the host (which validates it) and joins the list. */
function useOpenFiles(): { open(files: File[]): Promise<void>; busy: boolean; failures: OpenFailure[]; opened: string[]; dismiss(): void } {
  const api = useApi();
  const qc = useQueryClient();
  const openTrace = useTracesUi((s) => s.open);
  const [busy, setBusy] = useState(false);
  const [failures, setFailures] = useState<OpenFailure[]>([]);
  const [opened, setOpened] = useState<string[]>([]);
  const open = async (files: File[]): Promise<void> => {
    setBusy(true);
    const failed: OpenFailure[] = [];
    const ok: string[] = [];
    let last: string | null = null;
    if (files.length > MAX_FILES_AT_ONCE) failed.push({ name: `${files.length - MAX_FILES_AT_ONCE} more files`, error: new Error(`at most ${MAX_FILES_AT_ONCE} files are opened at once`) });
    for (const f of files.slice(0, MAX_FILES_AT_ONCE)) {
      try {
        const item = await unwrap(api.traceImport({ json: await readTraceFile(f) }));
        ok.push(f.name);
        last = item.id;
        // A file can replace a trace of the same id (one saved from here): drop what was loaded of it.
        await qc.invalidateQueries({ queryKey: ['trace', item.id] });
      } catch (error) {
        failed.push({ name: f.name, error });
      }
    }
    setFailures(failed);
    setOpened(ok);
    setBusy(false);
    if (last !== null) {
      await qc.invalidateQueries({ queryKey: ['traces'] });
      openTrace(last);
    }
  };
  return { open, busy, failures, opened, dismiss: () => (setFailures([]), setOpened([])) };
}

export function Traces(): ReactElement {
  const files = useOpenFiles();
  const mode = useTracesUi((s) => s.mode);
  const setMode = useTracesUi((s) => s.setMode);
  const selected = useTracesUi((s) => s.selected);
  const listOpen = useTracesUi((s) => s.listOpen);
  const setListOpen = useTracesUi((s) => s.setListOpen);
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0);

  // Drag and drop anywhere on the view. Enter/leave fire for every child, so count them.
  const onDragEnter = (e: DragEvent): void => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    depth.current++;
    setDragging(true);
  };
  const onDragLeave = (): void => {
    depth.current = Math.max(0, depth.current - 1);
    if (depth.current === 0) setDragging(false);
  };
  const onDragOver = (e: DragEvent): void => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onDrop = (e: DragEvent): void => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    depth.current = 0;
    setDragging(false);
    void files.open(Array.from(e.dataTransfer.files));
  };

  return (
    <div className="traces-view" onDragEnter={onDragEnter} onDragLeave={onDragLeave} onDragOver={onDragOver} onDrop={onDrop} data-testid="traces-view">
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div>Drop .kadtrace.json files to open them</div>
        </div>
      )}
      <div className={listOpen ? 'traces-layout' : 'traces-layout list-hidden'}>
        {listOpen && <TraceList files={files} />}
        <div className="stack traces-main">
          <div className="traces-tabs">
            <button type="button" className="btn small ghost" onClick={() => setListOpen(!listOpen)} aria-expanded={listOpen} data-testid="toggle-list" title={listOpen ? 'Hide the list: the replay shows its waterfall and graph side by side' : 'Show the list of traces'}>
              {listOpen ? '‹ Hide list' : '› Show list'}
            </button>
            <Segmented
              label="Traces mode"
              value={mode}
              onChange={setMode}
              options={[
                { value: 'replay', label: 'Replay' },
                { value: 'compare', label: 'Compare' },
              ]}
            />
            <span className="muted">{mode === 'replay' ? 'Step through a lookup as it happened.' : 'Two lookups side by side: figures, and where their paths split.'}</span>
          </div>
          {selected === null ? (
            <Card title={mode === 'replay' ? 'Replay' : 'Compare'}>
              <Empty title="No trace open">Pick a trace from the list to {mode === 'replay' ? 'replay it' : 'compare it with another'}, or open a .kadtrace.json file (the button, or drop it here).</Empty>
            </Card>
          ) : mode === 'replay' ? (
            <ReplayPanel key={selected} id={selected} />
          ) : (
            <ComparePanel a={selected} />
          )}
        </div>
      </div>
    </div>
  );
}

function useTraceList(): { items: TraceListItem[]; loading: boolean; error: unknown } {
  const api = useApi();
  const qc = useQueryClient();
  const open = useConnectionState().status === 'open';
  const lookups = useLive((s) => s.lookups);
  const doneCount = useMemo(() => [...lookups.values()].filter((l) => l.done).length, [lookups]);
  const q = useQuery({ queryKey: ['traces'], queryFn: () => unwrap(api.tracesList()), enabled: open });
  // A lookup finishing is when the host's list changes.
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: ['traces'] });
  }, [doneCount, qc]);
  return { items: q.data ?? [], loading: q.isLoading, error: q.error };
}

function Outcome({ item }: { item: Pick<TraceListItem, 'done' | 'summary'> }): ReactElement {
  const reason = item.summary.reason;
  if (!item.done || reason === null)
    return (
      <span className="outcome info" data-outcome="running">
        <span className="spinner" aria-hidden="true" /> running
      </span>
    );
  return (
    <span className={`outcome ${REASON_TONE[reason] ?? 'info'}`} data-outcome={reason}>
      {REASON_TEXT[reason] ?? reason}
    </span>
  );
}

function TraceList({ files }: { files: ReturnType<typeof useOpenFiles> }): ReactElement {
  const { items, loading, error } = useTraceList();
  const selected = useTracesUi((s) => s.selected);
  const select = useTracesUi((s) => s.select);
  const [filter, setFilter] = useState<Filter>('all');
  const input = useRef<HTMLInputElement>(null);
  const rows = useMemo(() => items.filter((t) => filter === 'all' || t.origin === filter).slice(0, LIST_ROWS), [items, filter]);
  const importedCount = items.filter((t) => t.origin === 'imported').length;

  return (
    <Card
      title="Traces"
      sub={`${items.length} kept`}
      right={
        <>
          <input
            ref={input}
            type="file"
            accept={TRACE_FILE_ACCEPT}
            multiple
            hidden
            onChange={(e) => {
              const list = Array.from(e.target.files ?? []);
              e.target.value = ''; // the same file can be picked again
              if (list.length > 0) void files.open(list);
            }}
            data-testid="trace-file-input"
          />
          <button type="button" className="btn small" onClick={() => input.current?.click()} disabled={files.busy} data-testid="open-trace">
            Open file…
          </button>
        </>
      }
      flush
      testId="trace-list"
    >
      <div className="trace-list-tools">
        <Segmented
          label="Show"
          value={filter}
          onChange={setFilter}
          options={[
            { value: 'all', label: 'All' },
            { value: 'live', label: 'Recorded' },
            { value: 'imported', label: `Opened${importedCount > 0 ? ` (${importedCount})` : ''}` },
          ]}
        />
        <span className="faint">or drop files here</span>
      </div>
      {(files.busy || files.failures.length > 0 || files.opened.length > 0) && (
        <div className="trace-open-status" data-testid="open-status">
          {files.busy && <Progress>Opening…</Progress>}
          {files.opened.length > 0 && (
            <div className="alert success" role="status">
              Opened {files.opened.length === 1 ? files.opened[0] : plural(files.opened.length, 'file')}.
            </div>
          )}
          {files.failures.map((f) => (
            <ErrorNote key={f.name} error={f.error} context={`Could not open ${f.name}`} />
          ))}
          {!files.busy && (
            <button type="button" className="btn small ghost" onClick={files.dismiss}>
              Dismiss
            </button>
          )}
        </div>
      )}
      {loading ? (
        <div className="card-body">
          <Progress>Loading traces…</Progress>
        </div>
      ) : error ? (
        <div className="card-body">
          <ErrorNote error={error} context="Traces" />
        </div>
      ) : rows.length === 0 ? (
        <Empty title={filter === 'imported' ? 'No files opened' : 'No traces yet'}>
          {filter === 'imported' ? 'Open a .kadtrace.json file with the button above, or drop one here.' : 'Every lookup the node makes is recorded here. Run one in Lookups, or open a .kadtrace.json file.'}
        </Empty>
      ) : (
        <div className="table-wrap trace-list-wrap">
          <table className="table compact">
            <thead>
              <tr>
                <th>Started</th>
                <th>Lookup</th>
                <th className="num">Time</th>
                <th className="num" title="Messages sent">Msgs</th>
                <th>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr
                  key={t.id}
                  className={t.id === selected ? 'clickable selected' : 'clickable'}
                  onClick={() => select(t.id)}
                  onKeyDown={onActivateKey(() => select(t.id))}
                  tabIndex={0}
                  aria-selected={t.id === selected}
                  data-testid="trace-row"
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
                  <td className="num">{t.summary.messages}</td>
                  <td>
                    <Outcome item={t} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

/** A whole trace from the host; refetched once a running lookup has finished. */
function useTrace(id: string | null): { trace: Trace | undefined; loading: boolean; error: unknown } {
  const api = useApi();
  const open = useConnectionState().status === 'open';
  const item = useTraceList().items.find((t) => t.id === id);
  const q = useQuery({
    queryKey: ['trace', id, item?.done === false ? 'running' : 'done'],
    queryFn: () => unwrap(api.traceGet({ id: id as string })),
    enabled: open && id !== null,
    staleTime: Infinity,
    retry: false,
  });
  return { trace: q.data, loading: q.isLoading, error: q.error };
}

function SaveButton({ trace }: { trace: Trace }): ReactElement {
  const [saved, setSaved] = useState<string | null>(null);
  const running = trace.summary.reason === null;
  return (
    <>
      {saved && (
        <span className="muted save-note" role="status">
          Saved {saved}
        </span>
      )}
      <button
        type="button"
        className="btn small"
        onClick={() => setSaved(downloadTrace(trace))}
        disabled={running}
        title={running ? 'Wait for the lookup to finish' : 'Save this trace as a .kadtrace.json file, to attach to a bug report or open elsewhere'}
        data-testid="save-trace"
      >
        Save trace
      </button>
    </>
  );
}

function ReplayPanel({ id }: { id: string }): ReactElement {
  const { trace, loading, error } = useTrace(id);
  if (loading)
    return (
      <Card title="Replay">
        <Progress>Loading the trace…</Progress>
      </Card>
    );
  if (!trace)
    return (
      <Card title="Replay">
        {error ? <ErrorNote error={error} context="Trace" /> : <Empty title="Trace not found">It may have been dropped from the host’s history (the last 500 are kept).</Empty>}
      </Card>
    );
  return <Replayer trace={trace} />;
}

function Replayer({ trace }: { trace: Trace }): ReactElement {
  const ourId = useLive((s) => s.node?.id ?? null);
  const replay = useMemo(() => prepareReplay(trace), [trace]);
  const [t, setT] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const [pace, setPace] = useState<ReplayPace>(() => defaultPace(replay));
  const frame = useMemo(() => frameAt(replay, t), [replay, t]);
  const finalFrame = useMemo(() => frameAt(replay, replay.durationMs), [replay]);
  const finalOverlay = finalFrame.overlay;

  // Playback: one animation-frame loop while playing; time moves by wall time x speed (or a step a beat).
  const clock = useRef({ t, speed, pace, carry: 0 });
  clock.current.speed = speed;
  clock.current.pace = pace;
  useEffect(() => {
    if (!playing) return;
    let last = performance.now();
    let raf = requestAnimationFrame(function tick(now) {
      const c = clock.current;
      const next = advance(replay, c.t, now - last, c.speed, c.pace, c.carry);
      last = now;
      c.t = next.t;
      c.carry = next.carryMs;
      setT(next.t);
      if (next.t >= replay.durationMs) setPlaying(false);
      else raf = requestAnimationFrame(tick);
    });
    return () => cancelAnimationFrame(raf);
  }, [playing, replay]);

  const seek = (to: number): void => {
    clock.current.t = to;
    clock.current.carry = 0;
    setT(to);
  };
  const play = (on: boolean): void => {
    if (on && t >= replay.durationMs) seek(0);
    setPlaying(on);
  };

  const p = trace.params;
  const fromUs = ourId !== null && trace.self === ourId;
  const f = frame.figures;
  const d = frame.model.done;
  const cells: Array<[string, string, string]> = [
    // Once the lookup has ended, its own figures (what the live lookup showed); before, the replay's counts.
    ['Time', formatDuration(d ? d.durationMs : frame.t), 'time'],
    ['Messages', String(d ? d.messages : f.messages), 'messages'],
    ['Answers', String(f.answers), 'answers'],
    ['In flight', String(f.inFlight), 'in-flight'],
    ['Timeouts', String(f.timeouts), 'timeouts'],
    ['Errors', String(f.errors), 'errors'],
    ['Hops', String(d ? d.hops : f.hops), 'hops'],
    ['Closest set at', d ? formatDuration(d.timeToClosestMs) : '—', 'closest-at'],
  ];
  return (
    <Card
      title={
        <>
          {trace.kind} <Id id={trace.target} copy />
        </>
      }
      right={
        <>
          {d ? (
            <span className={`outcome ${REASON_TONE[d.reason] ?? 'info'}`} data-testid="replay-outcome" data-outcome={d.reason}>
              {REASON_TEXT[d.reason] ?? d.reason}
            </span>
          ) : (
            <span className="outcome info" data-testid="replay-outcome" data-outcome="running">
              {frame.atEnd ? 'unfinished' : 'in progress'}
            </span>
          )}
          <SaveButton trace={trace} />
        </>
      }
      flush
      testId="replay"
    >
      <div className="replay-meta">
        <span className={`tag ${trace.origin === 'imported' ? 'accent' : ''}`} data-testid="replay-origin">
          {trace.origin === 'imported' ? 'opened from a file' : 'recorded here'}
        </span>
        <span>
          from {fromUs ? 'this node' : <>node <Id id={trace.self} /> {ourId !== null && '(another node)'}</>}
        </span>
        <span>started {formatClock(trace.startedAt)}</span>
        <span>
          k {p.k} · alpha {p.alpha} · RPC timeout {formatDuration(p.rpcTimeoutMs)}
          {p.lookupTimeoutMs !== undefined && ` · deadline ${formatDuration(p.lookupTimeoutMs)}`}
        </span>
        {trace.truncated && <span className="c-warn">events past the limit were dropped; the figures still count them</span>}
      </div>
      <Player replay={replay} t={frame.t} playing={playing} speed={speed} pace={pace} onSeek={seek} onPlay={play} onSpeed={setSpeed} onPace={setPace} />
      <div className="replay-caption" aria-live="polite" data-testid="replay-caption">
        <span className="faint">
          event {frame.shown} of {frame.total}
        </span>{' '}
        {describeEvent(frame.last)}
      </div>
      <div className="summary-grid" data-testid="replay-figures">
        {cells.map(([k, v, key]) => (
          <div key={k} data-testid={`fig-${key}`} data-value={v}>
            <div className="k">{k}</div>
            <div className="v">{v}</div>
          </div>
        ))}
      </div>
      <div className="replay-stage-wrap">
        <div className="replay-stage" style={{ '--wf-rows': replayWaterfallRows(finalFrame.waterfall.rows.length) } as CSSProperties}>
          <TraceWaterfall waterfall={frame.waterfall} t={frame.t} follow={playing} />
          <ReplayGraph key={trace.id} origin={trace.self} overlay={frame.overlay} version={frame.shown} finalOverlay={finalOverlay} />
        </div>
      </div>
      <div className="replay-closest">
        <div className="field-label">
          {d ? `Final closest set (${frame.closest.length}), nearest first` : `Closest answered so far (${frame.closest.length} of k = ${p.k}), nearest first`}
        </div>
        {frame.closest.length === 0 ? (
          <p className="muted">No answers yet.</p>
        ) : (
          <ul className="list-inline" data-testid="replay-closest" data-final={d ? 'true' : 'false'}>
            {frame.closest.map((c) => (
              <li key={c.id} title={`${c.id}\n${endpointText(c)}`}>
                <Id id={c.id} />
              </li>
            ))}
          </ul>
        )}
      </div>
    </Card>
  );
}

// ---------------------------------------------------------------------------------------------
// Compare

function figureText(f: CompareFigure, v: number | null): string {
  if (v === null) return '—';
  return f.unit === 'ms' ? formatDuration(v) : String(v);
}

function deltaText(f: CompareFigure): string {
  if (f.delta === null) return '—';
  if (f.delta === 0) return 'same';
  const sign = f.delta > 0 ? '+' : '−';
  const abs = Math.abs(f.delta);
  return `${sign}${f.unit === 'ms' ? formatDuration(abs) : abs}`;
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

function ComparePanel({ a }: { a: string }): ReactElement {
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
