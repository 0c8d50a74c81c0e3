// Lookups: start a find-node or find-value; the recent lookups; the selected lookup's waterfall of
// every RPC in time (like a browser's network panel), highlighted on the graph.
import { useEffect, useMemo, useState, type FormEvent, type ReactElement } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { idHex, type LookupKind, type TraceListItem } from '../../electron/host/contract';
import { Card, Empty, ErrorNote, Id, Progress, Segmented } from '../components/common';
import { useLive } from '../state/live';
import { buildWaterfall, lookupDone, type LookupModel } from '../state/lookup-model';
import { LookupWaterfall } from '../components/LookupWaterfall';
import { useLookup } from '../state/lookups';
import { LookupTable, Outcome } from '../components/lookup';
import { useApi, useConnectionState } from '../state/sync';
import { useUi } from '../state/ui';
import { useTracesUi } from '../trace/store';
import { unwrap } from '../state/call';
import { formatDuration } from '../lib/format';
import { useHostNow } from '../lib/hooks';
import { randomIdHex } from '../lib/id';

/** Rows shown in the recent list. */
const RECENT_ROWS = 100;

export function Lookups(): ReactElement {
  const selected = useUi((s) => s.selectedLookup);
  return (
    <div className="split">
      <div className="stack">
        <StartLookup />
        <RecentLookups />
      </div>
      <div className="stack">{selected ? <LookupDetail id={selected} /> : <NoSelection />}</div>
    </div>
  );
}

function NoSelection(): ReactElement {
  return (
    <Card title="Waterfall">
      <Empty title="No lookup selected">Start a lookup on the left, or pick one from the recent list, to see every RPC it made on a timeline.</Empty>
    </Card>
  );
}

function StartLookup(): ReactElement {
  const api = useApi();
  const selfId = useLive((s) => s.node?.id ?? '');
  const idBytes = useLive((s) => s.node?.protocol.idBytes ?? 32);
  const selectLookup = useUi((s) => s.selectLookup);
  const [kind, setKind] = useState<Extract<LookupKind, 'find-node' | 'find-value'>>('find-node');
  const [target, setTarget] = useState('');
  const parsed = idHex.safeParse(target);
  const wrongLength = parsed.success && parsed.data.length !== idBytes * 2;
  const error = target.trim() === '' || (parsed.success && !wrongLength) ? null : wrongLength ? `this network's ids are ${idBytes * 2} hex characters (${idBytes * 8} bits)` : parsed.error?.issues[0]?.message;
  const start = useMutation({
    mutationFn: (t: string) => unwrap(api.startLookup({ target: t, kind })),
    onSuccess: (r) => selectLookup(r.lookupId),
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (parsed.success && !wrongLength) start.mutate(parsed.data);
  };
  return (
    <Card title="Start a lookup" testId="start-lookup">
      <form className="form" onSubmit={submit} aria-label="Start a lookup">
        <Segmented
          label="Lookup kind"
          value={kind}
          onChange={setKind}
          options={[
            { value: 'find-node', label: 'Find node' },
            { value: 'find-value', label: 'Find value' },
          ]}
        />
        <div className="field">
          <label htmlFor="lookup-target">{kind === 'find-node' ? 'Target id' : 'Key'}</label>
          <input
            id="lookup-target"
            className="input mono"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            placeholder={`${idBytes * 2} hex characters`}
            aria-invalid={error !== null && error !== undefined}
            autoComplete="off"
            spellCheck={false}
            data-testid="lookup-target"
          />
          {error && target.length >= 8 ? <span className="err">{error}</span> : <span className="hint">A lookup asks ever closer nodes until the k closest to the target have answered (on Mainline and HyperDHT the 2k closest; it shows the k).</span>}
          <div className="btn-row">
            <button type="button" className="btn small" onClick={() => setTarget(randomIdHex(idBytes))} data-testid="lookup-random">
              Random id
            </button>
            <button type="button" className="btn small" onClick={() => setTarget(selfId)} disabled={!selfId}>
              Our own id
            </button>
          </div>
        </div>
        <div className="btn-row">
          <button type="submit" className="btn primary" disabled={!parsed.success || wrongLength || start.isPending} data-testid="lookup-start">
            Start lookup
          </button>
          {start.isPending && <Progress>Starting…</Progress>}
        </div>
        <ErrorNote error={start.error} context="Lookup" />
      </form>
    </Card>
  );
}

function RecentLookups(): ReactElement {
  const api = useApi();
  const qc = useQueryClient();
  const open = useConnectionState().status === 'open';
  const selected = useUi((s) => s.selectedLookup);
  const selectLookup = useUi((s) => s.selectLookup);
  const lookups = useLive((s) => s.lookups);
  const doneCount = useMemo(() => [...lookups.values()].filter((l) => l.summary.reason !== null).length, [lookups]);
  const traces = useQuery({ queryKey: ['traces'], queryFn: () => unwrap(api.tracesList()), enabled: open });

  // A lookup finishing is the moment the host's list changes.
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: ['traces'] });
  }, [doneCount, qc]);

  const rows: TraceListItem[] = useMemo(() => {
    const list = traces.data ?? [];
    const known = new Set(list.map((t) => t.id));
    const running: TraceListItem[] = [];
    for (const m of lookups.values()) {
      if (known.has(m.id) || m.summary.reason !== null || m.target === '') continue;
      running.push({ id: m.id, startedAt: m.startedAt, target: m.target, kind: m.kind, origin: 'live', done: false, summary: { reason: null, durationMs: null, hops: null, messages: 0, timeToClosestMs: null, closest: [], responses: 0, timeouts: 0, errors: 0 } });
    }
    return [...running.reverse(), ...list].slice(0, RECENT_ROWS);
  }, [traces.data, lookups]);

  return (
    <Card title="Recent lookups" sub="yours and the node’s own" flush testId="recent-lookups">
      {traces.isLoading ? (
        <div className="card-body">
          <Progress>Loading lookups…</Progress>
        </div>
      ) : traces.error ? (
        <div className="card-body">
          <ErrorNote error={traces.error} context="Lookups" />
        </div>
      ) : rows.length === 0 ? (
        <Empty title="No lookups yet">Start one above; the node also runs its own to refresh buckets.</Empty>
      ) : (
        <div className="table-wrap recent-wrap">
          <LookupTable rows={rows} selected={selected} onSelect={selectLookup} rowTestId="recent-lookup" outcomeTestId="lookup-outcome" />
        </div>
      )}
    </Card>
  );
}

function LookupDetail({ id }: { id: string }): ReactElement {
  const { model, loading, error } = useLookup(id);
  const go = useUi((s) => s.go);
  const selectLookup = useUi((s) => s.selectLookup);
  if (loading)
    return (
      <Card title="Waterfall">
        <Progress>Loading the lookup’s trace…</Progress>
      </Card>
    );
  if (!model)
    return (
      <Card title="Waterfall">
        {error ? <ErrorNote error={error} context="Trace" /> : <Empty title="Lookup not found">It may have been dropped from the host’s history (the last 500 are kept).</Empty>}
        <div className="btn-row">
          <button type="button" className="btn small" onClick={() => selectLookup(null)}>
            Clear selection
          </button>
        </div>
      </Card>
    );
  return (
    <Card
      title={
        <>
          {model.kind} <Id id={model.target} copy />
        </>
      }
      right={
        <>
          <Outcome kind={model.kind} reason={model.summary.reason} running={model.summary.reason === null} testId="lookup-outcome" />
          <button type="button" className="btn small" onClick={() => go('graph')} data-testid="show-on-graph">
            Show on graph
          </button>
          <button
            type="button"
            className="btn small"
            onClick={() => {
              useTracesUi.getState().open(model.id);
              go('traces');
            }}
            disabled={model.summary.reason === null}
            title="Replay this lookup step by step, save it to a file, or compare it with another (Traces)"
            data-testid="replay-lookup"
          >
            Replay…
          </button>
        </>
      }
      flush
      testId="lookup-detail"
    >
      <Summary model={model} />
      <WaterfallView model={model} />
    </Card>
  );
}

function Summary({ model }: { model: LookupModel }): ReactElement {
  const counts = useMemo(() => {
    let responses = 0;
    let timeouts = 0;
    let errors = 0;
    for (const e of model.events) {
      if (e.type === 'response') responses++;
      else if (e.type === 'timeout') timeouts++;
      else if (e.type === 'error') errors++;
    }
    return { responses, timeouts, errors };
  }, [model.events]);
  const d = lookupDone(model);
  const cells: [string, string][] = [
    ['Duration', d ? formatDuration(d.durationMs) : 'running'],
    ['Hops', d ? String(d.hops) : '—'],
    ['Messages', String(d?.messages ?? model.events.filter((e) => e.type === 'query').length)],
    ['Answers', String(counts.responses)],
    ['Timeouts', String(counts.timeouts)],
    ['Errors', String(counts.errors)],
    ['Closest set at', d?.timeToClosestMs != null ? formatDuration(d.timeToClosestMs) : '—'],
  ];
  return (
    <div className="summary-grid" data-testid="lookup-summary">
      {cells.map(([k, v]) => (
        <div key={k}>
          <div className="k">{k}</div>
          <div className="v">{v}</div>
        </div>
      ))}
    </div>
  );
}

function WaterfallView({ model }: { model: LookupModel }): ReactElement {
  const done = lookupDone(model);
  const running = done === null;
  const now = useHostNow(running ? 200 : 60_000);
  const w = useMemo(() => buildWaterfall(model.events, running ? now - model.startedAt : undefined), [model.events, running, now, model.startedAt]);
  if (w.rows.length === 0)
    return (
      <div className="card-body">
        {running ? <Progress>Waiting for the first query…</Progress> : <Empty title="No RPCs">This lookup sent no queries: {done?.reason === 'no-peers' ? 'the node knew no peers to start from.' : 'nothing to ask.'}</Empty>}
      </div>
    );
  return (
    <LookupWaterfall waterfall={w} testIds={{ root: 'waterfall', row: 'waterfall-row', detail: 'waterfall-detail' }} pendingText="waiting for an answer">
      {done && done.closest.length > 0 && (
        <div className="wf-detail">
          <div className="field-label">Final closest set ({done.closest.length}), nearest first</div>
          <ul className="list-inline" data-testid="closest-set">
            {done.closest.map((c) => (
              <li key={c.id}>
                <Id id={c.id} />
              </li>
            ))}
          </ul>
        </div>
      )}
      {model.truncated && <div className="wf-detail c-warn">This lookup had more events than the page keeps; the waterfall is cut short.</div>}
    </LookupWaterfall>
  );
}
