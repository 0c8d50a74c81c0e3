// Network map: crawl the whole network (every node's every bucket, as Nebula does) with progress and
// cancel, browse the crawl history, and see one crawl as a map in ID space with its figures and
// charts beside it; two crawls compared (joined, left, still there).
import { useEffect, useMemo, useState, type FormEvent, type ReactElement } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Card, Empty, ErrorNote, Id, Progress, Segmented } from '../components/common';
import { clientColours, CrawlMap, type CrawlColouring } from '../components/CrawlMap';
import type { CrawlStatus, CrawlSummaryDto } from '../state/contract-types';
import { CRAWL_PROTOCOLS, type CrawlProtocol } from '../../electron/host/contract';
import { useLive } from '../state/live';
import { useApi, useConnectionState } from '../state/sync';
import { unwrap } from '../state/call';
import { useUi } from '../state/ui';
import { formatClock, formatCount, formatDuration } from '../lib/format';
import '../styles/network.css';

/** Ids listed per side in a comparison. */
const COMPARE_LIST = 8;

function pct(n: number, of: number): string {
  return of > 0 ? `${((100 * n) / of).toFixed(1)}%` : '—';
}

export function Network(): ReactElement {
  const api = useApi();
  const qc = useQueryClient();
  const open = useConnectionState().status === 'open';
  const node = useLive((s) => s.node);
  const testnet = useLive((s) => s.testnet);
  const live = useLive((s) => s.crawl);
  const theme = useUi((s) => s.theme);
  const initial = useQuery({ queryKey: ['crawlStatus'], queryFn: () => unwrap(api.crawlStatus()), enabled: open });
  const status: CrawlStatus | null = live ?? initial.data ?? null;
  const list = useQuery({ queryKey: ['crawls'], queryFn: () => unwrap(api.crawlsList()), enabled: open });
  const [selected, setSelected] = useState<number | null>(null);
  const [compareWith, setCompareWith] = useState<number | null>(null);
  const [colouring, setColouring] = useState<CrawlColouring>('reachability');
  const [bootstrap, setBootstrap] = useState('');
  // The node's own protocol unless the user picks another.
  const [picked, setPicked] = useState<CrawlProtocol | null>(null);

  // A finished crawl appears in the list and opens.
  const lastId = status?.lastId ?? null;
  useEffect(() => {
    if (lastId === null) return;
    void qc.invalidateQueries({ queryKey: ['crawls'] });
    setSelected(lastId);
  }, [lastId, qc]);

  const shown = selected ?? list.data?.[0]?.id ?? null;
  const detail = useQuery({ queryKey: ['crawl', shown], queryFn: () => unwrap(api.crawlGet({ id: shown! })), enabled: open && shown !== null, staleTime: Infinity });
  const compare = useQuery({
    queryKey: ['crawlCompare', compareWith, shown],
    // Always from the earlier crawl to the later one, whichever is shown.
    queryFn: () => unwrap(api.crawlCompare({ from: Math.min(compareWith!, shown!), to: Math.max(compareWith!, shown!) })),
    enabled: open && shown !== null && compareWith !== null && compareWith !== shown,
    staleTime: Infinity,
  });

  const nodeProtocol = status?.nodeProtocol ?? null;
  const protocol: string = picked ?? nodeProtocol ?? CRAWL_PROTOCOLS[0];
  const foreign = nodeProtocol !== null && protocol !== nodeProtocol;
  const start = useMutation({
    mutationFn: (addresses: string[]) => unwrap(api.crawlStart({ ...(addresses.length > 0 ? { bootstrap: addresses } : {}), ...(picked !== null ? { protocol: picked } : {}) })),
  });
  const cancel = useMutation({ mutationFn: () => unwrap(api.crawlCancel()) });

  const onStart = (e: FormEvent): void => {
    e.preventDefault();
    start.mutate(addresses);
  };

  const running = status?.running ?? false;
  const p = status?.progress ?? null;
  const defaultFrom = testnet?.running ? `the testnet (${testnet.bootstrap.slice(0, 2).join(', ')}…)` : 'peers in your routing table';
  const addresses = bootstrap.split(/[\s,]+/).filter((s) => s !== '');
  // Another protocol's network is not the testnet's nor our table's: it needs addresses of its own.
  const needsAddresses = foreign && addresses.length === 0;

  return (
    <div className="stack">
      <div className="grid cols-3">
        <Card title="Crawl the network" className="span-2" testId="crawl-now">
          <form className="form" onSubmit={onStart} aria-label="Crawl the network">
            <p className="muted">
              Asks every node it reaches for the contents of each of its buckets until no new node appears, and keeps the crawl in the history. {foreign ? `A ${protocol} crawl runs from a crawling node of its own and starts from the addresses you give.` : `With no address it starts from ${defaultFrom}.`}
            </p>
            <div className="row">
              <div className="field crawl-protocol">
                <label htmlFor="crawl-protocol">Protocol</label>
                <select id="crawl-protocol" className="input" value={protocol} onChange={(e) => setPicked(e.target.value as CrawlProtocol)} disabled={running} data-testid="crawl-protocol">
                  {CRAWL_PROTOCOLS.map((p) => (
                    <option key={p} value={p}>
                      {p}
                      {p === nodeProtocol ? ' (your node’s)' : ''}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor="crawl-bootstrap">Start from (host:port, comma-separated{foreign ? `; ${protocol} nodes, required` : '; optional'})</label>
                <input
                  id="crawl-bootstrap"
                  className="input mono"
                  value={bootstrap}
                  onChange={(e) => setBootstrap(e.target.value)}
                  placeholder={foreign ? 'host:port of a node of that network' : (testnet?.bootstrap[0] ?? '127.0.0.1:4000')}
                  disabled={running}
                  aria-invalid={needsAddresses}
                  data-testid="crawl-bootstrap"
                />
              </div>
              <div className="field crawl-go">
                {running ? (
                  <button type="button" className="btn danger" onClick={() => cancel.mutate()} disabled={cancel.isPending} data-testid="crawl-cancel">
                    Cancel crawl
                  </button>
                ) : (
                  <button type="submit" className="btn primary" disabled={start.isPending || needsAddresses} title={needsAddresses ? `Give the address of a ${protocol} node to start from` : undefined} data-testid="crawl-start">
                    Crawl now
                  </button>
                )}
              </div>
            </div>
            <ErrorNote error={start.error} context="Crawl" />
            <ErrorNote error={cancel.error} context="Cancel" />
            {status?.error && !running && <div className="alert error" role="alert">The last crawl failed: {status.error}</div>}
          </form>
          {p && (
            <div className="crawl-progress" data-testid="crawl-progress" data-running={running}>
              {running && <Progress>Crawling… {formatCount(p.done)} nodes crawled, {formatCount(p.queued)} queued, {formatCount(p.active)} in progress</Progress>}
              <div className="crawl-progress-bar" aria-hidden="true">
                <span style={{ width: `${p.found > 0 ? (100 * p.done) / p.found : 0}%` }} />
              </div>
              <div className="muted">
                {formatCount(p.found)} found · <span className="c-good">{formatCount(p.reachable)} reachable</span> · <span className="c-bad">{formatCount(p.unreachable)} unreachable</span> · {p.ratePerSec.toFixed(1)} nodes/s ·{' '}
                {formatDuration(p.elapsedMs)}
              </div>
            </div>
          )}
        </Card>
        <Card title="Past crawls" sub={list.data ? `${list.data.length}` : undefined} testId="crawl-list" flush>
          <ErrorNote error={list.error} context="History" />
          {list.data && list.data.length === 0 && <Empty title="No crawls yet">Crawl the network to see it here.</Empty>}
          {list.data && list.data.length > 0 && (
            <div className="table-wrap crawl-list">
              <table className="table">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Started</th>
                    <th className="num">Reachable</th>
                    <th className="num">Found</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.map((c) => (
                    <tr key={c.id} aria-selected={c.id === shown} className={c.id === shown ? 'selected' : undefined} onClick={() => setSelected(c.id)} data-testid={`crawl-row-${c.id}`} tabIndex={0} onKeyDown={(e) => (e.key === 'Enter' ? setSelected(c.id) : undefined)}>
                      <td>{c.id}</td>
                      <td>
                        {formatClock(c.startedAt)}
                        {c.cancelled && <span className="faint"> · cancelled</span>}
                      </td>
                      <td className="num">{formatCount(c.reachable)}</td>
                      <td className="num">{formatCount(c.found)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      </div>
      {shown === null ? null : detail.isPending ? (
        <Progress>Loading crawl {shown}…</Progress>
      ) : detail.error ? (
        <ErrorNote error={detail.error} context={`Crawl ${shown}`} />
      ) : detail.data ? (
        <CrawlDetail
          self={node?.id ?? '0'.repeat(64)}
          crawl={detail.data.crawl}
          nodes={detail.data.nodes}
          colouring={colouring}
          setColouring={setColouring}
          theme={theme}
          others={(list.data ?? []).filter((c) => c.id !== shown)}
          compareWith={compareWith}
          setCompareWith={setCompareWith}
          comparison={compare.data ?? null}
          compareError={compare.error}
        />
      ) : null}
    </div>
  );
}

function CrawlDetail(props: {
  self: string;
  crawl: CrawlSummaryDto;
  nodes: Parameters<typeof CrawlMap>[0]['nodes'];
  colouring: CrawlColouring;
  setColouring: (c: CrawlColouring) => void;
  theme: string;
  others: CrawlSummaryDto[];
  compareWith: number | null;
  setCompareWith: (id: number | null) => void;
  comparison: { joined: number; left: number; stayed: number; joinedIds: string[]; leftIds: string[]; from: number; to: number } | null;
  compareError: unknown;
}): ReactElement {
  const { crawl: c, nodes } = props;
  const legend = useMemo(() => clientColours(nodes), [nodes]);
  return (
    <div className="grid cols-3 crawl-detail" data-testid="crawl-detail" data-crawl={c.id}>
      <Card
        title={`Crawl ${c.id} in ID space`}
        sub={`${formatCount(nodes.length)} nodes`}
        className="span-2"
        right={
          <Segmented
            label="Colour by"
            value={props.colouring}
            onChange={props.setColouring}
            options={[
              { value: 'reachability', label: 'Reachability' },
              { value: 'client', label: 'Client' },
            ]}
          />
        }
      >
        <CrawlMap self={props.self} nodes={nodes} colouring={props.colouring} theme={props.theme} />
        <div className="legend-row crawl-legend" data-testid="crawl-legend">
          {props.colouring === 'reachability' ? (
            <>
              <span>
                <i className="swatch" style={{ background: 'var(--good)' }} /> reachable {formatCount(c.reachable)}
              </span>
              <span>
                <i className="swatch" style={{ background: 'var(--bad)' }} /> unreachable {formatCount(c.unreachable)}
              </span>
              {c.notCrawled > 0 && (
                <span>
                  <i className="swatch" style={{ background: 'var(--unknown)' }} /> not crawled {formatCount(c.notCrawled)}
                </span>
              )}
            </>
          ) : (
            legend.map((l) => (
              <span key={l.name}>
                <i className="swatch" style={{ background: l.colour }} /> {l.name} {formatCount(l.count)}
              </span>
            ))
          )}
        </div>
      </Card>
      <div className="stack">
        <Card title="Figures" testId="crawl-figures">
          <dl className="kv">
            <dt>Found</dt>
            <dd data-testid="crawl-found">{formatCount(c.found)}</dd>
            <dt>Reachable</dt>
            <dd data-testid="crawl-reachable">
              {formatCount(c.reachable)} <span className="faint">({pct(c.reachable, c.found)})</span>
            </dd>
            <dt>Unreachable</dt>
            <dd>
              {formatCount(c.unreachable)}
              {c.unreachable > 0 && (
                <span className="faint">
                  {' '}
                  (timeout {c.failures.timeout}, refused {c.failures.refused}, error {c.failures.error})
                </span>
              )}
            </dd>
            {c.notCrawled > 0 && (
              <>
                <dt>Not crawled</dt>
                <dd>{formatCount(c.notCrawled)}</dd>
              </>
            )}
            <dt>Network size</dt>
            <dd title="From the density of the ids the crawl found, and from your node's routing table">
              ~{formatCount(c.sizeEstimate)} from the crawl
              {c.nodeEstimate !== null && <span className="faint"> · ~{formatCount(c.nodeEstimate)} by your node</span>}
            </dd>
            <dt>Took</dt>
            <dd>
              {formatDuration(c.durationMs)} · {formatCount(c.requests)} requests
            </dd>
            <dt>Started</dt>
            <dd>
              {new Date(c.startedAt).toLocaleString()}
              {c.cancelled ? ' · cancelled' : ''}
            </dd>
            <dt>Protocol</dt>
            <dd>{c.protocol}</dd>
            {c.facts?.bep42 && (
              <>
                <dt title="Whether each reachable node's id derives from the address it answered from (BEP 42); loopback, private and link-local addresses are exempt">BEP 42 ids</dt>
                <dd data-testid="crawl-bep42">
                  {formatCount(c.facts.bep42.compliant ?? 0)} compliant · {formatCount(c.facts.bep42.exempt ?? 0)} exempt · {formatCount(c.facts.bep42['non-compliant'] ?? 0)} not
                </dd>
              </>
            )}
            {c.facts?.idMatchesAddress && (
              <>
                <dt title="Whether each reachable node's id is the hash of the address it answered from">Id fits address</dt>
                <dd data-testid="crawl-id-address">
                  {formatCount(c.facts.idMatchesAddress.yes)} yes · {formatCount(c.facts.idMatchesAddress.no)} no
                </dd>
              </>
            )}
            {c.samples && (
              <>
                <dt title="What the reachable nodes said to sample_infohashes (BEP 51), asked once each; silence and error 204 count as not supported">Infohash samples</dt>
                <dd data-testid="crawl-samples">
                  {formatCount(c.samples.answered)} answered · {formatCount(c.samples.notSupported)} not supported · {formatCount(c.samples.error)} error ·{' '}
                  {formatCount(c.samples.infohashes)} infohashes{c.samples.capped ? ' (capped)' : ''}
                </dd>
              </>
            )}
          </dl>
        </Card>
        <Card title="Clients" sub="reachable nodes">
          <Bars rows={legend.map((l) => ({ label: l.name, value: l.count, colour: l.colour }))} total={c.reachable} />
          {legend.length === 1 && legend[0].name === 'unknown' && <p className="faint crawl-note">This protocol carries no client version.</p>}
        </Card>
        <Card title="Neighbours returned" sub="per reachable node">
          <Histogram counts={c.neighbourCounts} />
        </Card>
      </div>
      <Card title="Compared with an earlier crawl" className="span-all" testId="crawl-compare">
        {props.others.length === 0 ? (
          <p className="muted">Crawl again later to see which nodes joined, left and stayed.</p>
        ) : (
          <div className="stack">
            <div className="row">
              <div className="field">
                <label htmlFor="crawl-compare-with">Compare crawl {c.id} with</label>
                <select id="crawl-compare-with" className="input" value={props.compareWith ?? ''} onChange={(e) => props.setCompareWith(e.target.value === '' ? null : Number(e.target.value))} data-testid="crawl-compare-with">
                  <option value="">choose a crawl…</option>
                  {props.others.map((o) => (
                    <option key={o.id} value={o.id}>
                      #{o.id} · {formatClock(o.startedAt)} · {o.reachable} reachable
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <ErrorNote error={props.compareError} context="Compare" />
            {props.comparison && props.compareWith !== null && (
              <div className="grid cols-3" data-testid="crawl-comparison">
                <CompareColumn title="Joined" tone="good" n={props.comparison.joined} ids={props.comparison.joinedIds} note={`reachable in #${props.comparison.to}, not in #${props.comparison.from}`} />
                <CompareColumn title="Left" tone="bad" n={props.comparison.left} ids={props.comparison.leftIds} note={`reachable in #${props.comparison.from}, not in #${props.comparison.to}`} />
                <CompareColumn title="Still there" tone="accent" n={props.comparison.stayed} ids={[]} note={`reachable in #${props.comparison.from} and #${props.comparison.to}`} />
              </div>
            )}
          </div>
        )}
      </Card>
    </div>
  );
}

function CompareColumn({ title, tone, n, ids, note }: { title: string; tone: string; n: number; ids: string[]; note: string }): ReactElement {
  return (
    <div className="compare-col">
      <div className={`big-number c-${tone}`} data-testid={`compare-${title.toLowerCase().replace(/ /g, '-')}`}>
        {formatCount(n)}
      </div>
      <div className="muted">
        {title} · {note}
      </div>
      {ids.length > 0 && (
        <ul className="id-list">
          {ids.slice(0, COMPARE_LIST).map((id) => (
            <li key={id}>
              <Id id={id} chars={16} />
            </li>
          ))}
          {n > COMPARE_LIST && <li className="faint">and {formatCount(n - COMPARE_LIST)} more</li>}
        </ul>
      )}
    </div>
  );
}

function Bars({ rows, total }: { rows: { label: string; value: number; colour: string }[]; total: number }): ReactElement {
  if (rows.length === 0) return <p className="faint">No reachable nodes.</p>;
  return (
    <div className="crawl-bars">
      {rows.slice(0, 8).map((r) => (
        <div key={r.label} className="crawl-bar">
          <span className="crawl-bar-label">{r.label}</span>
          <span className="crawl-bar-track">
            <span style={{ width: `${total > 0 ? (100 * r.value) / total : 0}%`, background: r.colour }} />
          </span>
          <span className="crawl-bar-value">{formatCount(r.value)}</span>
        </div>
      ))}
    </div>
  );
}

/** Neighbour counts as columns, binned to at most 24. */
function Histogram({ counts }: { counts: Array<[number, number]> }): ReactElement {
  if (counts.length === 0) return <p className="faint">No reachable nodes.</p>;
  const lo = counts[0][0];
  const hi = counts[counts.length - 1][0];
  const bins = Math.min(24, hi - lo + 1);
  const width = (hi - lo + 1) / bins;
  const values = new Array<number>(bins).fill(0);
  for (const [k, n] of counts) values[Math.min(bins - 1, Math.floor((k - lo) / width))] += n;
  const max = Math.max(...values);
  return (
    <div className="histogram" role="img" aria-label={`neighbours returned per node: ${lo} to ${hi}`}>
      <div className="histogram-bars">
        {values.map((v, i) => (
          <span key={i} style={{ height: `${max > 0 ? (100 * v) / max : 0}%` }} title={`${Math.round(lo + i * width)}–${Math.round(lo + (i + 1) * width - 1)}: ${v} nodes`} />
        ))}
      </div>
      <div className="histogram-axis faint">
        <span>{lo}</span>
        <span>{hi}</span>
      </div>
    </div>
  );
}
