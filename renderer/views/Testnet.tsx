// Testnet: a local network of nodes on 127.0.0.1. Start and stop it, add nodes, stop some at random,
// and watch the network react: peers' health, the size estimate and a log of what changed.
import { useState, type FormEvent, type ReactElement } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { MAX_TESTNET_CHANGE, MAX_TESTNET_SIZE, type ProtocolChoice } from '../../electron/host/contract';
import { Card, CopyButton, Empty, ErrorNote, Id, Progress } from '../components/common';
import { Sparkline } from '../components/Sparkline';
import { useLive } from '../state/live';
import { useApi, useConnectionState } from '../state/sync';
import { unwrap } from '../state/call';
import { formatAgo, formatClock } from '../lib/format';
import { useHostNow } from '../lib/hooks';
import { countError } from '../lib/messages';
import { randomIdHex } from '../lib/id';
import { HealthBar } from './Overview';

/** Samples in the reaction charts: the last three minutes. */
const REACTION_SAMPLES = 180;
/** Lookups "Probe now" starts: each asks ~k peers, so dead ones are noticed quickly. */
const PROBE_LOOKUPS = 3;

export function Testnet(): ReactElement {
  const api = useApi();
  const qc = useQueryClient();
  const open = useConnectionState().status === 'open';
  const testnet = useLive((s) => s.testnet);
  const history = useLive((s) => s.history);
  const activity = useLive((s) => s.activity);
  const peers = useLive((s) => s.peers);
  const now = useHostNow();
  const settings = useQuery({ queryKey: ['settings'], queryFn: () => unwrap(api.settingsGet()), enabled: open, staleTime: Infinity });
  const [size, setSize] = useState<string | null>(null);
  const [protocol, setProtocol] = useState<ProtocolChoice>('kadscope');
  const idBytes = useLive((s) => s.node?.protocol.idBytes ?? 32);
  const [add, setAdd] = useState('8');
  const [kill, setKill] = useState('8');

  const refresh = (): void => void qc.invalidateQueries({ queryKey: ['snapshot'] });
  const start = useMutation({ mutationFn: (n: number) => unwrap(api.testnetStart({ size: n, join: true, protocol })), onSuccess: refresh });
  const stop = useMutation({ mutationFn: () => unwrap(api.testnetStop()), onSuccess: refresh });
  const addNodes = useMutation({ mutationFn: (n: number) => unwrap(api.testnetAdd({ count: n })), onSuccess: refresh });
  const stopRandom = useMutation({ mutationFn: (n: number) => unwrap(api.testnetStopRandom({ count: n })), onSuccess: refresh });
  const probe = useMutation({
    mutationFn: async () => {
      for (let i = 0; i < PROBE_LOOKUPS; i++) await unwrap(api.startLookup({ target: randomIdHex(idBytes), kind: 'find-node' }));
    },
  });

  const sizeText = size ?? String(settings.data?.defaultTestnetSize ?? 32);
  const sizeError = countError(sizeText, MAX_TESTNET_SIZE);
  const addError = countError(add, MAX_TESTNET_CHANGE);
  const killError = countError(kill, MAX_TESTNET_CHANGE);
  const busy = start.isPending || stop.isPending || addNodes.isPending || stopRandom.isPending;
  const recent = history.slice(-REACTION_SAMPLES);
  const health = recent.length > 0 ? recent[recent.length - 1].health : { good: 0, questionable: 0, bad: 0, unknown: 0 };

  const onStart = (e: FormEvent): void => {
    e.preventDefault();
    if (!sizeError) start.mutate(Number(sizeText));
  };

  return (
    <div className="stack">
      <div className="grid cols-3">
        <Card title="Local testnet" testId="testnet-status" className="span-2">
          {!testnet?.running ? (
            <form className="form" onSubmit={onStart} aria-label="Start a testnet">
              <p className="muted">
                No testnet is running. Start one to get a network of real nodes on 127.0.0.1 {testnet && testnet.stopped > 0 ? '(the last one was stopped)' : ''}; your node joins it, and
                everything it does shows up live.
              </p>
              <div className="row">
                <div className="field narrow">
                  <label htmlFor="tn-size">Nodes</label>
                  <input id="tn-size" className="input" inputMode="numeric" value={sizeText} onChange={(e) => setSize(e.target.value)} aria-invalid={sizeError !== null} />
                </div>
                <div className="field">
                  <label htmlFor="tn-protocol">Protocol</label>
                  <select id="tn-protocol" className="select input" value={protocol} onChange={(e) => setProtocol(e.target.value as ProtocolChoice)} data-testid="testnet-protocol">
                    <option value="kadscope">kadscope</option>
                    <option value="mainline">BitTorrent Mainline DHT</option>
                    <option value="hyperdht">HyperDHT (Hyperswarm)</option>
                  </select>
                </div>
                <div className="field">
                  <button type="submit" className="btn primary" disabled={!!sizeError || busy} data-testid="testnet-start">
                    Start testnet
                  </button>
                </div>
              </div>
              {sizeError && <span className="err">Nodes: {sizeError}</span>}
              {start.isPending && <Progress>Starting {sizeText} nodes and joining them…</Progress>}
              <ErrorNote error={start.error} context="Start" />
            </form>
          ) : (
            <div className="stack">
              <div className="testnet-figures">
                <div>
                  <div className="big-number" data-testid="testnet-alive" data-alive={testnet.alive}>
                    {testnet.alive}
                  </div>
                  <div className="muted">nodes alive</div>
                </div>
                <div>
                  <div className="big-number faint">{testnet.stopped}</div>
                  <div className="muted">stopped</div>
                </div>
                <dl className="kv">
                  <dt>Transport</dt>
                  <dd>
                    UDP on 127.0.0.1
                    {testnet.inWorker ? ' · in a worker thread' : ''}
                  </dd>
                  <dt>Running for</dt>
                  <dd>{testnet.startedAt ? formatAgo(testnet.startedAt, now).replace(' ago', '') : '—'}</dd>
                  <dt>Bootstrap</dt>
                  <dd>
                    {testnet.bootstrap.length > 0 ? (
                      <span className="copy">
                        <span className="mono">
                          {testnet.bootstrap.slice(0, 2).join(', ')}
                          {testnet.bootstrap.length > 2 ? ` +${testnet.bootstrap.length - 2} more` : ''}
                        </span>
                        <CopyButton text={testnet.bootstrap.join(',')} label="Copy all" />
                      </span>
                    ) : (
                      '—'
                    )}
                  </dd>
                </dl>
              </div>
              <div className="controls">
                <form
                  className="control"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (!addError) addNodes.mutate(Number(add));
                  }}
                >
                  <label htmlFor="tn-add">Add nodes</label>
                  <div className="btn-row">
                    <input id="tn-add" className="input" inputMode="numeric" value={add} onChange={(e) => setAdd(e.target.value)} aria-invalid={addError !== null} data-testid="testnet-add-count" />
                    <button type="submit" className="btn" disabled={!!addError || busy} data-testid="testnet-add">
                      {addError ? 'Add' : `Add ${Number(add)}`}
                    </button>
                  </div>
                </form>
                <form
                  className="control"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (!killError) stopRandom.mutate(Number(kill));
                  }}
                >
                  <label htmlFor="tn-kill">Stop random nodes</label>
                  <div className="btn-row">
                    <input id="tn-kill" className="input" inputMode="numeric" value={kill} onChange={(e) => setKill(e.target.value)} aria-invalid={killError !== null} data-testid="testnet-kill-count" />
                    <button type="submit" className="btn danger" disabled={!!killError || busy} data-testid="testnet-kill">
                      {killError ? 'Stop' : `Stop ${Number(kill)}`}
                    </button>
                  </div>
                </form>
                <div className="control push">
                  <button type="button" className="btn danger" onClick={() => stop.mutate()} disabled={busy} data-testid="testnet-stop">
                    Stop the whole testnet
                  </button>
                </div>
              </div>
              {addError && (
                <span className="err" data-testid="testnet-add-error">
                  Add: {addError}
                </span>
              )}
              {killError && (
                <span className="err" data-testid="testnet-kill-error">
                  Stop: {killError}
                </span>
              )}
              {busy && <Progress>Updating the testnet…</Progress>}
              <ErrorNote error={addNodes.error} context="Add" />
              <ErrorNote error={stopRandom.error} context="Stop nodes" />
              <ErrorNote error={stop.error} context="Stop" />
              {stopRandom.isSuccess && (
                <div className="alert info" role="status">
                  Stopped nodes do not say goodbye: your node notices when it next asks them something. A peer that leaves a request unanswered turns questionable (about 4 s: a 2 s timeout and one retry); your node PINGs it twice more, so it is bad and out of the size estimate about 12 s after it was first asked. Wait for your node's own bucket refreshes (every 15 min), or
                  <button type="button" className="btn small" onClick={() => probe.mutate()} disabled={probe.isPending} data-testid="testnet-probe">
                    Probe now
                  </button>
                </div>
              )}
              <ErrorNote error={probe.error} context="Probe" />
            </div>
          )}
        </Card>
        <Card title="Your node's view" sub="peers by health">
          <div className="stat-value">{peers.size} peers</div>
          <HealthBar counts={health} total={Math.max(1, health.good + health.questionable + health.bad + health.unknown)} />
          <div className="legend-row">
            <span>
              <span className="dot good" /> good <b>{health.good}</b>
            </span>
            <span>
              <span className="dot questionable" /> questionable <b>{health.questionable}</b>
            </span>
            <span>
              <span className="dot bad" /> bad <b data-testid="testnet-bad">{health.bad}</b>
            </span>
          </div>
          <div className="btn-row">
            <button type="button" className="btn small" onClick={() => probe.mutate()} disabled={probe.isPending || peers.size === 0} title={`Run ${PROBE_LOOKUPS} lookups to random ids now`}>
              {probe.isPending ? 'Probing…' : 'Probe peers now'}
            </button>
          </div>
        </Card>
      </div>

      <div className="grid cols-3">
        <Card title="Good peers" sub="last 3 minutes" right={<span className="chart-now c-good">{health.good}</span>}>
          <Sparkline values={recent.map((s) => s.health.good)} tone="good" label="good peers over time" min={0} />
        </Card>
        <Card title="Bad and questionable peers" sub="last 3 minutes" right={<span className="chart-now c-bad">{health.bad + health.questionable}</span>}>
          <Sparkline values={recent.map((s) => s.health.bad + s.health.questionable)} tone="bad" label="bad and questionable peers over time" min={0} />
        </Card>
        <Card title="Estimated network size" sub="last 3 minutes" right={<span className="chart-now">~{recent.length > 0 ? recent[recent.length - 1].estimatedNetworkSize : 0}</span>}>
          <Sparkline values={recent.map((s) => s.estimatedNetworkSize)} label="estimated network size over time" min={0} />
        </Card>
      </div>

      <Card title="What changed" sub="newest first" flush testId="activity">
        {activity.length === 0 ? (
          <Empty title="Nothing has changed yet">Add or stop nodes above and watch peers join, turn questionable, go bad and get replaced.</Empty>
        ) : (
          <ul className="activity">
            {[...activity].reverse().map((a, i) => (
              <li key={`${a.at}-${i}`}>
                <time>{formatClock(a.at)}</time>
                <span className={`dot ${a.tone === 'good' ? 'good' : a.tone === 'bad' ? 'bad' : a.tone === 'warn' ? 'warn' : 'accent'}`} aria-hidden="true" />
                <span>
                  {a.ref && a.kind !== 'testnet' ? (
                    <>
                      <Id id={a.ref} />{' '}
                    </>
                  ) : null}
                  {a.text}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
