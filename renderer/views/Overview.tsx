// Overview: is my node healthy? Identity and addresses, uptime, peers by health, bucket fill,
// traffic and RPCs with small charts over the last minutes, estimated network size.
import { Fragment, useMemo, type ReactElement } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Card, CopyButton, Empty } from '../components/common';
import { Sparkline, rates, windowRate } from '../components/Sparkline';
import { countHealth, useLive, type HealthCounts, type Sample } from '../state/live';
import { HEALTH_STATES } from '../state/contract-types';
import { useApi, useConnectionState } from '../state/sync';
import { useUi } from '../state/ui';
import { unwrap } from '../state/call';
import { endpointText, formatBytes, formatClock, formatCount, formatDuration } from '../lib/format';
import { useHostNow } from '../lib/hooks';
import { NodesSideBySide } from './Remote';

/** Samples the charts show: the last five minutes at one a second. */
const CHART_SAMPLES = 300;

const MODE_TEXT: Record<string, string> = {
  'embedded-testnet': 'joined the embedded local testnet',
  bootstrap: 'joined through bootstrap addresses',
  'saved-peers': 'rejoined through peers saved last time',
  standalone: 'standalone (not joined to a network yet)',
};

function series(history: Sample[], pick: (s: Sample) => number): { at: number; v: number }[] {
  return history.slice(-CHART_SAMPLES - 1).map((s) => ({ at: s.at, v: pick(s) }));
}

function last(xs: number[]): number {
  return xs.length > 0 ? xs[xs.length - 1] : 0;
}

export function HealthBar({ counts, total }: { counts: HealthCounts; total: number }): ReactElement {
  return (
    <div className="hbar" role="img" aria-label={HEALTH_STATES.map((h) => `${counts[h]} ${h}`).join(', ')}>
      {total > 0 &&
        HEALTH_STATES.map((h) => (counts[h] > 0 ? <span key={h} className={h} style={{ width: `${(counts[h] / total) * 100}%` }} /> : null))}
    </div>
  );
}

function RateCard({ title, history, pick, format, tone, testId }: { title: string; history: Sample[]; pick: (s: Sample) => number; format: (n: number) => string; tone: 'accent' | 'good' | 'warn' | 'bad'; testId?: string }): ReactElement {
  const points = series(history, pick);
  const r = rates(points);
  const avg = windowRate(points);
  return (
    <div className="card stat" data-testid={testId}>
      <div className="stat-label">{title}</div>
      <div className="stat-value">{format(last(r))}/s</div>
      <div className="stat-sub">
        {avg.spanMs > 0 ? `avg ${format(avg.perSecond)}/s over the last ${formatDuration(avg.spanMs)}` : 'avg —'} · total since start {history.length > 0 ? format(pick(history[history.length - 1])) : '—'}
      </div>
      <Sparkline values={r} tone={tone} label={`${title} per second over the last minutes`} min={0} />
    </div>
  );
}

export function Overview(): ReactElement {
  const node = useLive((s) => s.node);
  const peers = useLive((s) => s.peers);
  const buckets = useLive((s) => s.buckets);
  const history = useLive((s) => s.history);
  const counters = useLive((s) => s.counters);
  const records = useLive((s) => s.records);
  const go = useUi((s) => s.go);
  const setPeerFilter = useUi((s) => s.setPeerFilter);
  const now = useHostNow();
  const api = useApi();
  const open = useConnectionState().status === 'open';
  const info = useQuery({ queryKey: ['info'], queryFn: () => unwrap(api.info()), enabled: open, staleTime: 60_000 });

  const health = useMemo(() => countHealth(peers.values()), [peers]);
  const fill = useMemo(() => {
    const byBucket = new Map<number, number>();
    for (const p of peers.values()) byBucket.set(p.bucket, (byBucket.get(p.bucket) ?? 0) + 1);
    const max = Math.max(-1, ...byBucket.keys());
    return { byBucket, max };
  }, [peers]);
  // A dual-stack node holds peers of both families in one table: how many of each.
  const families = useMemo(() => {
    let v6 = 0;
    for (const p of peers.values()) if (p.host.includes(':')) v6++;
    return { v4: peers.size - v6, v6 };
  }, [peers]);

  if (!node) return <Empty title="No node">The host has not started a node yet.</Empty>;
  const k = node.k;
  const sizeSeries = history.slice(-CHART_SAMPLES).map((s) => s.estimatedNetworkSize);
  const rpcNames = counters ? Object.keys(counters.rpc) : [];
  // Custom methods, each under CALL (counted there too): calls made by name, calls received by name when registered here.
  const customNames = counters?.custom ? Object.keys(counters.custom).sort() : [];

  return (
    <div className="stack">
      <NodesSideBySide />
      <div className="grid cols-4">
        <div className="card stat" data-testid="stat-peers">
          <div className="stat-label">Peers in the routing table</div>
          <div className="stat-value">{peers.size}</div>
          <HealthBar counts={health} total={peers.size} />
          <div className="legend-row">
            {HEALTH_STATES.map((h) => (
              <span key={h}>
                <span className={`dot ${h}`} aria-hidden="true" />
                {h} <b>{health[h]}</b>
              </span>
            ))}
          </div>
        </div>
        <div className="card stat" data-testid="stat-network-size">
          <div className="stat-label">Estimated network size</div>
          <div className="stat-value">~{formatCount(node.estimatedNetworkSize)}</div>
          <div className="stat-sub">from the density of ids near ours</div>
          <Sparkline values={sizeSeries} label="Estimated network size over time" min={0} />
        </div>
        <div className="card stat">
          <div className="stat-label">Uptime</div>
          <div className="stat-value" data-testid="uptime">{formatDuration(now - node.startedAt).replace(/\.\d+ s$/, ' s')}</div>
          <div className="stat-sub">since {formatClock(node.startedAt)}</div>
          <div className="stat-sub">{info.data ? (MODE_TEXT[info.data.mode] ?? info.data.mode) : ' '}</div>
        </div>
        <div className="card stat">
          <div className="stat-label">Records stored here</div>
          <div className="stat-value">{records.length}</div>
          <div className="stat-sub">{formatBytes(records.reduce((a, r) => a + r.size, 0))} of values</div>
          <div className="btn-row">
            <button type="button" className="btn small" onClick={() => go('records')}>
              Store or fetch a value
            </button>
          </div>
        </div>
      </div>

      <div className="grid cols-2">
        <Card title="This node" testId="node-card">
          <dl className="kv">
            <dt>Node id</dt>
            <dd>
              <span className="copy">
                <span className="id full" data-testid="node-id" data-id={node.id}>
                  {node.id}
                </span>
                <CopyButton text={node.id} />
              </span>
            </dd>
            <dt>{node.addresses.length > 1 ? 'Bound addresses' : 'Bound address'}</dt>
            <dd data-testid="bound-addresses" data-count={node.addresses.length}>
              {node.addresses.length > 1 ? (
                <ul className="plain-list">
                  {node.addresses.map((a) => (
                    <li key={endpointText(a)}>
                      <span className="mono">{endpointText(a)}</span> <span className="muted">{a.host.includes(':') ? 'IPv6' : 'IPv4'}</span>
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="mono">{endpointText(node.address)}</span>
              )}
            </dd>
            {node.socketLayer !== undefined && (
              <>
                <dt>UDP socket</dt>
                <dd data-testid="socket-layer">
                  <span className="mono">{node.socketLayer}</span>
                </dd>
              </>
            )}
            {(node.addresses.length > 1 || families.v6 > 0) && (
              <>
                <dt>Peers by family</dt>
                <dd data-testid="peer-families">
                  {families.v4} IPv4 · {families.v6} IPv6
                </dd>
              </>
            )}
            <dt>Observed address</dt>
            <dd>
              {node.observedAddress ? (
                <span className="mono" data-testid="observed-address">{endpointText(node.observedAddress)}</span>
              ) : (
                <span className="muted">not seen yet: peers report it in their answers</span>
              )}
            </dd>
            <dt>Parameters</dt>
            <dd>
              k = {node.k}, α = {node.alpha}
            </dd>
            <dt>Diversity limits</dt>
            <dd>{node.diversityLimits ? 'on' : <span className="c-warn">off (loopback or private network)</span>}</dd>
            {info.data && (
              <>
                <dt>Data directory</dt>
                <dd className="mono">{info.data.dataDir}</dd>
              </>
            )}
          </dl>
        </Card>

        <Card
          title="Bucket fill"
          sub={`peers per bucket, out of k = ${k}`}
          right={
            <button type="button" className="btn small" onClick={() => go('buckets')}>
              Open buckets
            </button>
          }
          testId="bucket-fill"
        >
          {fill.max < 0 ? (
            <Empty title="No buckets yet">Join a network or start a testnet to fill the routing table.</Empty>
          ) : (
            <>
              <div className="bucket-strip">
                {Array.from({ length: fill.max + 1 }, (_, i) => {
                  const n = fill.byBucket.get(i) ?? 0;
                  return (
                    <button
                      type="button"
                      key={i}
                      className="col"
                      title={`bucket ${i}: ${n}/${k}`}
                      aria-label={`bucket ${i}: ${n} of ${k} peers`}
                      onClick={() => {
                        setPeerFilter({ bucket: i, text: '', health: 'all' });
                        go('peers');
                      }}
                    >
                      {/* On a plate of its own: a nearly full bar reaches the count, which then sat on the bar unreadable. */}
                      <span className="col-label">
                        <span>{n}</span>
                      </span>
                      <span className={n >= k ? 'fill full' : 'fill'} style={{ height: `${Math.min(1, n / k) * 100}%` }} />
                    </button>
                  );
                })}
              </div>
              <div className="bucket-axis">
                <span>bucket 0 · far half of the space</span>
                <span>
                  bucket {fill.max} · nearest · {buckets.reduce((a, b) => a + b.replacements.length, 0)} waiting in replacement caches
                </span>
              </div>
            </>
          )}
        </Card>
      </div>

      <div className="grid cols-4">
        <RateCard title="Packets in" history={history} pick={(s) => s.rxPackets} format={formatCount} tone="accent" testId="rate-rx" />
        <RateCard title="Packets out" history={history} pick={(s) => s.txPackets} format={formatCount} tone="accent" />
        <RateCard title="Bytes in" history={history} pick={(s) => s.rxBytes} format={formatBytes} tone="good" />
        <RateCard title="Bytes out" history={history} pick={(s) => s.txBytes} format={formatBytes} tone="good" />
      </div>

      <Card title="RPCs by method" sub="since the node started; chart: requests per second over the last minutes" flush testId="rpc-table">
        {!counters ? (
          <Empty title="No counters yet">They arrive with the first tick, within a second.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th>Method</th>
                  <th className="num">Sent</th>
                  <th className="num">Answered</th>
                  <th className="num">Timeouts</th>
                  <th className="num">Errors</th>
                  <th className="num">Received</th>
                  <th>Activity</th>
                </tr>
              </thead>
              <tbody>
                {rpcNames.map((name) => {
                  const m = counters.rpc[name as keyof typeof counters.rpc];
                  const r = rates(series(history, (s) => s.rpc[name] ?? 0));
                  return (
                    <Fragment key={name}>
                    <tr>
                      <td className="mono">{name}</td>
                      <td className="num">{formatCount(m.sent)}</td>
                      <td className="num">{formatCount(m.responses)}</td>
                      <td className={m.timeouts > 0 ? 'num c-bad' : 'num'}>{formatCount(m.timeouts)}</td>
                      <td className={m.errors > 0 ? 'num c-warn' : 'num'}>{formatCount(m.errors)}</td>
                      <td className="num">{formatCount(m.received)}</td>
                      <td className="spark-cell">
                        <Sparkline values={r} label={`${name} requests per second`} min={0} />
                      </td>
                    </tr>
                    {name === 'CALL' && customNames.map((name) => {
                  const m = counters.custom![name];
                  return (
                    <tr key={`custom:${name}`} className="sub-row" data-testid="rpc-custom-row">
                      <td className="mono">
                        <span className="muted">CALL ·</span> {name}
                      </td>
                      <td className="num">{formatCount(m.sent)}</td>
                      <td className="num">{formatCount(m.responses)}</td>
                      <td className={m.timeouts > 0 ? 'num c-bad' : 'num'}>{formatCount(m.timeouts)}</td>
                      <td className={m.errors > 0 ? 'num c-warn' : 'num'}>{formatCount(m.errors)}</td>
                      <td className="num">{formatCount(m.received)}</td>
                      <td className="muted">custom method</td>
                    </tr>
                  );
                    })}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}
