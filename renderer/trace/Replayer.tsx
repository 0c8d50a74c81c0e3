// The replayer: one trace stepped through in time with a scrubber; the figures, the waterfall and
// the graph show the lookup as it stood at that moment (trace/replay.ts computes the moment).
import { useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import type { Trace } from '../../electron/host/contract';
import { Card, Empty, ErrorNote, Id, Progress } from '../components/common';
import { Outcome } from '../components/lookup';
import { useLive } from '../state/live';
import { endpointText, formatClock, formatDuration } from '../lib/format';
import { downloadTrace } from './files';
import { useTrace } from './hooks';
import { lookupDone } from '../state/lookup-model';
import { Player } from './Player';
import { ReplayGraph } from './ReplayGraph';
import { advance, defaultPace, describeEvent, frameAt, prepareReplay, type ReplayPace } from './replay';
import { TraceWaterfall } from './TraceWaterfall';

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

export function ReplayPanel({ id }: { id: string }): ReactElement {
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

export function Replayer({ trace }: { trace: Trace }): ReactElement {
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
  const d = lookupDone(frame.model);
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
          <Outcome kind={trace.kind} reason={d?.reason ?? null} running={false} pendingText={frame.atEnd ? 'unfinished' : 'in progress'} testId="replay-outcome" />
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
        <span data-testid="replay-params">
          k {p.k}
          {p.width !== undefined && (
            <span title={`the lookup ended once the ${p.width} closest live nodes it knew had answered, and returned the ${p.k} closest`}> · waits for {p.width}</span>
          )}{' '}
          · alpha {p.alpha} · RPC timeout {formatDuration(p.rpcTimeoutMs)}
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
        <div className="replay-stage">
          <ReplayGraph key={trace.id} origin={trace.self} overlay={frame.overlay} version={frame.shown} finalOverlay={finalOverlay} />
          <TraceWaterfall waterfall={frame.waterfall} t={frame.t} />
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
