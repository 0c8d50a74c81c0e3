// Buckets: every non-empty k-bucket with its fill out of k (split by health), its replacement
// cache and its last refresh. A bucket opens to its peers.
import { useMemo, useState, type ReactElement } from 'react';
import { Empty, Health, Id, StartOrJoin } from '../components/common';
import { Icon } from '../components/Icons';
import { useLive } from '../state/live';
import { HEALTH_STATES, type Contact, type PeerInfo } from '../state/contract-types';
import { useUi } from '../state/ui';
import { endpointText, formatAgo, formatRtt, plural } from '../lib/format';
import { useHostNow } from '../lib/hooks';

interface BucketRow {
  index: number;
  peers: PeerInfo[];
  replacements: Contact[];
  lastRefresh: number | null;
}

export function Buckets(): ReactElement {
  const peers = useLive((s) => s.peers);
  const buckets = useLive((s) => s.buckets);
  const k = useLive((s) => s.node?.k ?? 20);
  const now = useHostNow();
  const go = useUi((s) => s.go);
  const setPeerFilter = useUi((s) => s.setPeerFilter);
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());

  const rows = useMemo(() => {
    // Live peers decide the fill; the snapshot adds replacement caches and refresh times.
    const byIndex = new Map<number, BucketRow>();
    const row = (i: number): BucketRow => {
      let r = byIndex.get(i);
      if (!r) byIndex.set(i, (r = { index: i, peers: [], replacements: [], lastRefresh: null }));
      return r;
    };
    for (const p of peers.values()) row(p.bucket).peers.push(p);
    for (const b of buckets) {
      if (b.peers.length === 0 && b.replacements.length === 0 && !byIndex.has(b.index)) continue;
      const r = row(b.index);
      r.replacements = b.replacements;
      r.lastRefresh = b.lastRefresh;
    }
    for (const r of byIndex.values()) r.peers.sort((a, b) => (a.lastSeen ?? 0) - (b.lastSeen ?? 0));
    return [...byIndex.values()].sort((a, b) => a.index - b.index);
  }, [peers, buckets]);

  if (rows.length === 0)
    return (
      <Empty
        title="The routing table is empty"
        action={<StartOrJoin go={go} />}
      >
        Buckets fill as peers answer us. Join a network or start a local testnet.
      </Empty>
    );

  const toggle = (i: number): void =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(i)) n.delete(i);
      else n.add(i);
      return n;
    });

  const full = rows.filter((r) => r.peers.length >= k).length;
  return (
    <div className="stack">
      <p className="muted" data-testid="buckets-summary">
        {rows.length} non-empty bucket{rows.length === 1 ? '' : 's'}, {full} full (k = {k}). Bucket <i>i</i> holds peers whose ids share exactly <i>i</i> leading
        bits with ours: bucket 0 covers the far half of the id space, higher buckets ever closer ranges.
      </p>
      <div className="bucket-list" role="list">
        {rows.map((r) => {
          const isOpen = open.has(r.index);
          const counts = { good: 0, questionable: 0, bad: 0, unknown: 0 };
          for (const p of r.peers) counts[p.state]++;
          return (
            <div key={r.index} className={isOpen ? 'bucket open' : 'bucket'} role="listitem" data-testid="bucket-row" data-bucket={r.index} data-fill={r.peers.length}>
              <button type="button" className="bucket-head" aria-expanded={isOpen} onClick={() => toggle(r.index)}>
                <span className="bucket-name">
                  Bucket {r.index}
                  <small>{r.index === 0 ? 'far half' : plural(r.index, 'shared bit')}</small>
                </span>
                <span className="fill-bar" role="img" aria-label={`${r.peers.length} of ${k} slots used`}>
                  {HEALTH_STATES.map((h) => (counts[h] > 0 ? <span key={h} className={h} style={{ width: `${(counts[h] / k) * 100}%` }} /> : null))}
                </span>
                <span className="bucket-fill-text">
                  <b>{r.peers.length}</b>
                  <span className="muted"> / {k}</span>
                  {counts.bad > 0 && <span className="c-bad"> · {counts.bad} bad</span>}
                </span>
                <span className="muted">{r.replacements.length > 0 ? `${r.replacements.length} in replacement cache` : 'no replacements waiting'}</span>
                <span className="muted">refreshed {r.lastRefresh === null ? '—' : formatAgo(r.lastRefresh, now)}</span>
                <Icon name="chevron" className="chev" />
              </button>
              {isOpen && (
                <div className="bucket-detail">
                  <div className="subhead">
                    Peers, least recently seen first (the first to be checked when the bucket is full)
                    <a
                      href="#/peers"
                      onClick={(e) => {
                        e.preventDefault();
                        setPeerFilter({ bucket: r.index, text: '', health: 'all' });
                        go('peers');
                      }}
                    >
                      Open in Peers
                    </a>
                  </div>
                  <div className="table-wrap">
                    <table className="table">
                      <thead>
                        <tr>
                          <th>Id</th>
                          <th>Address</th>
                          <th>Health</th>
                          <th className="num">RTT</th>
                          <th>Last seen</th>
                          <th className="num">Failures</th>
                        </tr>
                      </thead>
                      <tbody>
                        {r.peers.map((p) => (
                          <tr key={p.id}>
                            <td>
                              <Id id={p.id} chars={16} />
                            </td>
                            <td className="mono">{endpointText(p)}</td>
                            <td>
                              <Health state={p.state} />
                            </td>
                            <td className="num">{formatRtt(p.rttMs)}</td>
                            <td>{formatAgo(p.lastSeen, now)}</td>
                            <td className={p.failures > 0 ? 'num c-bad' : 'num'}>{p.failures}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                  {r.replacements.length > 0 && (
                    <>
                      <div className="subhead">Replacement cache: candidates waiting for a slot, newest last</div>
                      <div className="card-body">
                        <ul className="list-inline">
                          {r.replacements.map((c) => (
                            <li key={c.id}>
                              <Id id={c.id} /> <span className="muted mono">{endpointText(c)}</span>
                            </li>
                          ))}
                        </ul>
                      </div>
                    </>
                  )}
                </div>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
