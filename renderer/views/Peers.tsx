// Peers: every peer in the routing table in a sortable, filterable table. Rows are virtualized
// (@tanstack/react-virtual) so thousands stay smooth: only the visible rows are in the DOM.
import { useMemo, useRef, useState, type KeyboardEvent, type ReactElement } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Empty, Health, Id } from '../components/common';
import { countHealth, useLive } from '../state/live';
import { HEALTH_STATES, type PeerInfo } from '../state/contract-types';
import { useUi, type PeerFilter } from '../state/ui';
import { endpointText, formatAgo, formatRtt } from '../lib/format';
import { useHostNow } from '../lib/hooks';

const ROW_PX = 32;
const OVERSCAN_ROWS = 12;

type SortKey = 'id' | 'address' | 'bucket' | 'health' | 'rtt' | 'lastSeen' | 'failures';
const COLUMNS: { key: SortKey; label: string; num?: boolean }[] = [
  { key: 'id', label: 'Id' },
  { key: 'address', label: 'Address' },
  { key: 'bucket', label: 'Bucket', num: true },
  { key: 'health', label: 'Health' },
  { key: 'rtt', label: 'RTT', num: true },
  { key: 'lastSeen', label: 'Last seen' },
  { key: 'failures', label: 'Failures', num: true },
];

const HEALTH_ORDER: Record<PeerInfo['state'], number> = { bad: 0, questionable: 1, unknown: 2, good: 3 };

function compare(key: SortKey): (a: PeerInfo, b: PeerInfo) => number {
  switch (key) {
    case 'id':
      return (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    case 'address':
      return (a, b) => a.host.localeCompare(b.host) || a.port - b.port;
    case 'bucket':
      return (a, b) => a.bucket - b.bucket;
    case 'health':
      return (a, b) => HEALTH_ORDER[a.state] - HEALTH_ORDER[b.state];
    case 'rtt':
      // Unknown RTT sorts last either way round would be nicer, but stable and simple wins here.
      return (a, b) => (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity);
    case 'lastSeen':
      return (a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0);
    case 'failures':
      return (a, b) => a.failures - b.failures;
  }
}

export function filterPeers(peers: Iterable<PeerInfo>, f: PeerFilter): PeerInfo[] {
  const text = f.text.trim().toLowerCase();
  const out: PeerInfo[] = [];
  for (const p of peers) {
    if (f.bucket !== null && p.bucket !== f.bucket) continue;
    if (f.health !== 'all' && p.state !== f.health) continue;
    if (text && !p.id.startsWith(text) && !endpointText(p).includes(text)) continue;
    out.push(p);
  }
  return out;
}

/** What a peer's BEP 42 verdict means, on hover. */
const BEP42_TITLES: Record<NonNullable<PeerInfo['idCompliance']>, string> = {
  compliant: 'BEP 42: its id is derived from its IP address, as the DHT security extension asks',
  exempt: 'BEP 42: loopback and private addresses are exempt from the id rule',
  'non-compliant': 'BEP 42: its id is not derived from its IP address (old or misbehaving client, or an id chosen to attack a key)',
};

/** HyperDHT: whether a peer's id is the BLAKE2b-256 of its address (the only ids it accepts). */
function AddressCheck({ ok }: { ok: boolean }): ReactElement {
  return ok ? (
    <span className="id-check c-good" data-testid="id-check" data-ok="true" title="The id is BLAKE2b-256 of this address, as HyperDHT requires">
      ✓ addr
    </span>
  ) : (
    <span className="id-check c-bad" data-testid="id-check" data-ok="false" title="The id is not BLAKE2b-256 of this address">
      ✗ addr
    </span>
  );
}

export function Peers(): ReactElement {
  const peers = useLive((s) => s.peers);
  const filter = useUi((s) => s.peerFilter);
  const setFilter = useUi((s) => s.setPeerFilter);
  const selectPeer = useUi((s) => s.selectPeer);
  const selected = useUi((s) => s.selectedPeer);
  const go = useUi((s) => s.go);
  const now = useHostNow();
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'bucket', desc: false });
  const scroller = useRef<HTMLDivElement>(null);

  const rows = useMemo(() => {
    const list = filterPeers(peers.values(), filter);
    const cmp = compare(sort.key);
    const tie = compare('id');
    list.sort((a, b) => (sort.desc ? -1 : 1) * (cmp(a, b) || tie(a, b)));
    return list;
  }, [peers, filter, sort]);
  const health = useMemo(() => countHealth(peers.values()), [peers]);
  const idChecks = useMemo(() => {
    let checked = 0;
    let matching = 0;
    for (const p of peers.values()) {
      if (p.idMatchesAddress === undefined) continue;
      checked++;
      if (p.idMatchesAddress) matching++;
    }
    return { checked, matching };
  }, [peers]);
  const buckets = useMemo(() => [...new Set([...peers.values()].map((p) => p.bucket))].sort((a, b) => a - b), [peers]);

  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_PX, overscan: OVERSCAN_ROWS });

  const openInGraph = (id: string): void => {
    selectPeer(id);
    go('graph');
  };
  const onRowKey = (e: KeyboardEvent<HTMLDivElement>, index: number): void => {
    if (e.key === 'Enter') openInGraph(rows[index].id);
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = Math.max(0, Math.min(rows.length - 1, index + (e.key === 'ArrowDown' ? 1 : -1)));
      virtual.scrollToIndex(next);
      requestAnimationFrame(() => scroller.current?.querySelector<HTMLElement>(`[data-index="${next}"]`)?.focus());
    }
  };

  const filtered = filter.text !== '' || filter.bucket !== null || filter.health !== 'all';

  return (
    <div className="vt" data-testid="peers">
      <div className="toolbar" role="search">
        <label className="sr-only" htmlFor="peer-filter">
          Filter by id prefix or address
        </label>
        <input
          id="peer-filter"
          className="input small mono"
          placeholder="Filter: id prefix or address"
          value={filter.text}
          onChange={(e) => setFilter({ text: e.target.value })}
          autoComplete="off"
          spellCheck={false}
        />
        <label className="sr-only" htmlFor="peer-bucket">
          Bucket
        </label>
        <select id="peer-bucket" className="select input small" value={filter.bucket ?? ''} onChange={(e) => setFilter({ bucket: e.target.value === '' ? null : Number(e.target.value) })}>
          <option value="">All buckets</option>
          {buckets.map((b) => (
            <option key={b} value={b}>
              Bucket {b}
            </option>
          ))}
        </select>
        <label className="sr-only" htmlFor="peer-health">
          Health
        </label>
        <select id="peer-health" className="select input small" value={filter.health} onChange={(e) => setFilter({ health: e.target.value as PeerFilter['health'] })} data-testid="peer-health-filter">
          <option value="all">Any health</option>
          {HEALTH_STATES.map((h) => (
            <option key={h} value={h}>
              {h} ({health[h]})
            </option>
          ))}
        </select>
        {filtered && (
          <button type="button" className="btn small ghost" onClick={() => setFilter({ text: '', bucket: null, health: 'all' })}>
            Clear filters
          </button>
        )}
        <span className="count" data-testid="peers-count" data-count={rows.length} data-bad={health.bad}>
          {rows.length === peers.size ? `${peers.size} peers` : `${rows.length} of ${peers.size} peers`}
          {health.bad > 0 && <span className="c-bad"> · {health.bad} bad</span>}
          {health.questionable > 0 && <span className="c-warn"> · {health.questionable} questionable</span>}
          {idChecks.checked > 0 && (
            <span className={idChecks.matching === idChecks.checked ? 'c-good' : 'c-bad'} data-testid="id-checks">
              {' '}
              · {idChecks.matching === idChecks.checked ? 'every id matches its address' : `${idChecks.checked - idChecks.matching} ids do not match their address`}
            </span>
          )}
        </span>
      </div>
      <div className="vt-head" role="row">
        {COLUMNS.map((c) => {
          const active = sort.key === c.key;
          return (
            <button
              key={c.key}
              type="button"
              role="columnheader"
              className={c.num ? 'num' : undefined}
              aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'}
              onClick={() => setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : false }))}
              title={`Sort by ${c.label.toLowerCase()}`}
            >
              {c.label}
              <span aria-hidden="true">{active ? (sort.desc ? '▾' : '▴') : ''}</span>
            </button>
          );
        })}
      </div>
      {rows.length === 0 ? (
        peers.size === 0 ? (
          <Empty title="No peers yet" action={<button type="button" className="btn primary" onClick={() => go('join')}>Join a network</button>}>
            Peers appear here as they answer us. Join a network, or start a local testnet from the Testnet view.
          </Empty>
        ) : (
          <Empty title="No peer matches these filters" action={<button type="button" className="btn" onClick={() => setFilter({ text: '', bucket: null, health: 'all' })}>Clear filters</button>} />
        )
      ) : (
        <div className="vt-body" ref={scroller} role="grid" aria-rowcount={rows.length} aria-label="Peers" data-testid="peers-table">
          <div className="vt-spacer" style={{ height: virtual.getTotalSize() }}>
            {virtual.getVirtualItems().map((v) => {
              const p = rows[v.index];
              return (
                <div
                  key={p.id}
                  className={p.id === selected ? 'vt-row selected' : 'vt-row'}
                  role="row"
                  tabIndex={0}
                  data-index={v.index}
                  data-testid="peer-row"
                  data-health={p.state}
                  aria-rowindex={v.index + 1}
                  style={{ transform: `translateY(${v.start}px)` }}
                  onClick={() => selectPeer(p.id)}
                  onDoubleClick={() => openInGraph(p.id)}
                  onKeyDown={(e) => onRowKey(e, v.index)}
                  title="Double-click or Enter: show on the graph"
                >
                  <div role="gridcell">
                    <Id id={p.id} chars={16} />
                    {p.idMatchesAddress !== undefined && <AddressCheck ok={p.idMatchesAddress} />}
                  </div>
                  <div role="gridcell" className="mono">
                    {endpointText(p)}
                    {p.client !== undefined && (
                      <span className="faint" data-testid="peer-client" title="The client version it answered with (Mainline's v)">
                        {' '}· {p.client}
                      </span>
                    )}
                    {p.idCompliance !== undefined && (
                      <span className={p.idCompliance === 'non-compliant' ? 'c-warn' : 'faint'} data-testid="peer-bep42" data-compliance={p.idCompliance} title={BEP42_TITLES[p.idCompliance]}>
                        {' '}· BEP 42 {p.idCompliance}
                      </span>
                    )}
                  </div>
                  <div role="gridcell" className="num">
                    {p.bucket}
                  </div>
                  <div role="gridcell">
                    <Health state={p.state} />
                  </div>
                  <div role="gridcell" className="num">
                    {formatRtt(p.rttMs)}
                  </div>
                  <div role="gridcell">{formatAgo(p.lastSeen, now)}</div>
                  <div role="gridcell" className={p.failures > 0 ? 'num c-bad' : 'num'}>
                    {p.failures}
                  </div>
                </div>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}
