// The graph: our node at the centre, peers by ID-space geometry, coloured by health. Hover for a
// tooltip, click for the side panel, search by id prefix, pan and zoom. The lookup being followed
// (the newest, or the one picked in Lookups) draws its route: an arrow per peer asked, from whoever
// named it, labelled with the round; queried peers pulse, timeouts turn red. A loopback lookup is
// over in a blink, so a finished one can be replayed here event by event at a watchable pace.
import { useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { GraphController, type DrawnSummary } from '../graph/controller';
import { nodeId, type GraphNode } from '../graph/model';
import { routeNote } from '../graph/labels';
import { PULSE_MS } from '../graph/style';
import { CopyButton, Empty, ErrorNote, Health, Id, Progress, StartOrJoin } from '../components/common';
import { useLive } from '../state/live';
import { buildOverlay, type LookupModel, type PeerLookupState } from '../state/lookup-model';
import { STEP_BEAT_MS, describeEvent, frameAt, nextStop, prepareReplay, type Replay } from '../trace/replay';
import { outcomeView, useLookup } from '../state/lookups';
import { useApi, useConnectionState } from '../state/sync';
import { effectiveDark, useUi } from '../state/ui';
import { unwrap } from '../state/call';
import { normalisePrefix, shortId } from '../lib/id';
import { endpointText, formatAgo, formatRtt, plural } from '../lib/format';
import { useHostNow, useRestyleOnTheme } from '../lib/hooks';
import type { PeerInfo } from '../state/contract-types';

/** A finished lookup stays on the graph this long when following, ms. */
const LINGER_MS = 6000;
const ZOOM_STEP = 1.3;

/**
 * The lookup the graph shows: the one picked in Lookups, else the newest. A followed lookup stays
 * until it has finished and lingered, even when others start meanwhile (the node runs its own), so
 * the picture does not flicker between concurrent lookups.
 */
function useFollowedLookup(): { model: LookupModel | null; pinned: boolean } {
  const selected = useUi((s) => s.selectedLookup);
  const latestId = useLive((s) => s.latestLookupId);
  const lookups = useLive((s) => s.lookups);
  const now = useHostNow(1000);
  const picked = useLookup(selected);
  const followed = useRef<string | null>(null);
  if (selected) return { model: picked.model, pinned: true };
  const expired = (m: LookupModel | undefined): boolean => !m || (m.summary.durationMs !== null && now - (m.startedAt + m.summary.durationMs) > LINGER_MS);
  if (followed.current === null || expired(lookups.get(followed.current))) followed.current = latestId;
  const m = followed.current ? lookups.get(followed.current) : undefined;
  return { model: m && !expired(m) ? m : null, pinned: false };
}

/**
 * A finished lookup replayed on the graph, one event time per beat (STEP_BEAT_MS): `t` is the moment
 * shown (null: not replaying). A new lookup ends the replay.
 */
function useGraphReplay(model: LookupModel | null): { replay: Replay | null; t: number | null; play(): void; stop(): void } {
  const replay = useMemo(() => (model && model.summary.reason !== null && model.target !== '' && model.events.length > 1 ? prepareReplay(model) : null), [model]);
  const [t, setT] = useState<number | null>(null);
  const replayId = replay?.trace.id ?? null;
  useEffect(() => setT(null), [replayId]);
  useEffect(() => {
    if (t === null || !replay || t >= replay.durationMs) return;
    const timer = setTimeout(() => setT(nextStop(replay, t)), STEP_BEAT_MS);
    return () => clearTimeout(timer);
  }, [t, replay]);
  return { replay, t, play: () => setT(0), stop: () => setT(null) };
}

function usePulse(active: boolean): boolean {
  const [on, setOn] = useState(false);
  useEffect(() => {
    if (!active) {
      setOn(false);
      return;
    }
    const t = setInterval(() => setOn((v) => !v), PULSE_MS);
    return () => clearInterval(t);
  }, [active]);
  return on;
}

function useSettingsMaxPeers(): number {
  const api = useApi();
  const open = useConnectionState().status === 'open';
  const s = useQuery({ queryKey: ['settings'], queryFn: () => unwrap(api.settingsGet()), enabled: open, staleTime: Infinity });
  return s.data?.graphMaxPeers ?? 5000;
}

const LK_TEXT: Record<PeerLookupState, string> = { queried: 'queried, waiting', answered: 'answered', timeout: 'timed out', error: 'answered with an error' };

export function GraphView(): ReactElement {
  const node = useLive((s) => s.node);
  const peers = useLive((s) => s.peers);
  const selected = useUi((s) => s.selectedPeer);
  const selectPeer = useUi((s) => s.selectPeer);
  const selectLookup = useUi((s) => s.selectLookup);
  const theme = useUi((s) => s.theme);
  const go = useUi((s) => s.go);
  const maxPeers = useSettingsMaxPeers();
  const [search, setSearch] = useState('');
  const [legendOpen, setLegendOpen] = useState(true);
  const [hover, setHover] = useState<{ ref: string; kind: GraphNode['kind']; x: number; y: number } | null>(null);
  const stage = useRef<HTMLDivElement>(null);
  const container = useRef<HTMLDivElement>(null);
  const ctl = useRef<GraphController | null>(null);

  const followed = useFollowedLookup();
  const graphReplay = useGraphReplay(followed.model);
  const frame = useMemo(() => (graphReplay.replay && graphReplay.t !== null ? frameAt(graphReplay.replay, graphReplay.t) : null), [graphReplay.replay, graphReplay.t]);
  const liveOverlay = useMemo(() => (followed.model ? buildOverlay(followed.model) : null), [followed.model]);
  const overlay = frame ? frame.overlay : liveOverlay;
  const pulse = usePulse(overlay?.running === true);
  const prefix = normalisePrefix(search);

  const [drawn, setDrawn] = useState<DrawnSummary>({ drawn: 0, total: 0, matches: 0, health: { good: 0, questionable: 0, bad: 0, unknown: 0 } });
  const drawnHealth = drawn.health;
  const stats = drawn;

  useEffect(() => {
    if (!container.current) return;
    const c = new GraphController(container.current, {
      onSelect: (ref, kind) => useUi.getState().selectPeer(kind === 'ring' || kind === 'target' ? null : ref),
      onHover: setHover,
      onDrawn: setDrawn,
    });
    ctl.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(container.current);
    return () => {
      ro.disconnect();
      c.destroy();
      ctl.current = null;
    };
  }, []);

  useEffect(() => {
    ctl.current?.schedule({ self: node?.id ?? null, peers: peers.values(), maxPeers, overlay, pulse, search: prefix ?? '', selected });
  }, [node?.id, peers, maxPeers, overlay, pulse, prefix, selected]);

  useRestyleOnTheme(ctl, theme);

  const firstMatch = (): string | null => {
    if (!prefix) return null;
    for (const p of peers.values()) if (p.id.startsWith(prefix)) return p.id;
    return null;
  };

  const hoverPeer = hover ? peers.get(hover.ref) : undefined;
  const hoverLk = hover ? overlay?.peers.get(hover.ref) : undefined;
  // Round numbers left off a crowded arrow (graph/labels.ts) are in the tooltip.
  const hoverRoute = hover ? routeNote(overlay, hover.ref) : null;
  const selectedPeer = selected ? peers.get(selected) : undefined;
  const selectedContact = selected && !selectedPeer ? overlay?.contacts.get(selected) : undefined;
  const isSelf = selected !== null && selected === node?.id;

  return (
    <div className="graph-layout">
      <div className="graph-stage" ref={stage} data-testid="graph" data-peers={stats.drawn} data-dark={effectiveDark(theme) ? 'true' : 'false'}>
        <div className="cy" ref={container} />
        <div className="graph-top">
          <form
            className="graph-search"
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              const id = firstMatch();
              if (id) {
                selectPeer(id);
                ctl.current?.focus(nodeId(id));
              }
            }}
          >
            <label className="sr-only" htmlFor="graph-search">
              Search peers by id prefix
            </label>
            <input
              id="graph-search"
              className="input mono"
              placeholder="Search by id prefix, e.g. 3fa2"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              aria-invalid={search !== '' && prefix === null}
              autoComplete="off"
              spellCheck={false}
            />
            {search !== '' && (
              <span className="matches" data-testid="graph-matches">
                {prefix === null ? 'ids are hex (0-9, a-f)' : `${stats.matches} match${stats.matches === 1 ? '' : 'es'}${stats.matches > 0 ? ' · Enter to focus' : ''}`}
              </span>
            )}
          </form>
          <div className="graph-tools" role="toolbar" aria-label="Zoom">
            <button type="button" className="btn icon ghost" onClick={() => ctl.current?.zoomBy(ZOOM_STEP)} aria-label="Zoom in" title="Zoom in">
              +
            </button>
            <button type="button" className="btn icon ghost" onClick={() => ctl.current?.zoomBy(1 / ZOOM_STEP)} aria-label="Zoom out" title="Zoom out">
              −
            </button>
            <button type="button" className="btn ghost small" onClick={() => ctl.current?.fit()} title="Fit the whole graph">
              Fit
            </button>
          </div>
        </div>

        {peers.size === 0 && (
          <div className="graph-empty">
            <div className="card">
              <Empty
                title="No peers yet"
                action={<StartOrJoin go={go} />}
              >
                Your node is alone. Start a testnet on this machine or join a network through a bootstrap address, and peers appear here as they enter the routing table.
              </Empty>
            </div>
          </div>
        )}

        <div className={legendOpen ? 'graph-legend' : 'graph-legend closed'} aria-label="Legend">
          <h4>
            <span data-testid="graph-peer-count" data-count={stats.drawn}>
              {stats.drawn} peers{stats.total > stats.drawn ? ` of ${stats.total} (nearest drawn)` : ''}
            </span>
            <button type="button" className="btn small ghost legend-toggle" onClick={() => setLegendOpen((v) => !v)} aria-expanded={legendOpen}>
              {legendOpen ? 'Hide legend' : 'Legend'}
            </button>
          </h4>
          <div className="item">
            <span className="sw self" /> you
          </div>
          {(['good', 'questionable', 'bad', 'unknown'] as const).map((h) => (
            <div className="item" key={h} data-testid={`legend-${h}`} data-count={drawnHealth[h]}>
              <span className={`sw ${h}`} /> {h}
              <b>{drawnHealth[h]}</b>
            </div>
          ))}
          <div className="sep" />
          <div className="item faint">rings: buckets, far (0) outside</div>
          {overlay && (
            <div className="item faint" title="Numbers that would overlap are left off; hover a node for its round">
              arrows: the route the lookup took, numbered by round (1: asked by us)
            </div>
          )}
          <div className="item faint">angle: the id&apos;s leading bits</div>
          {overlay && (
            <>
              <div className="sep" />
              <div className="item">
                <span className="sw queried" /> queried
              </div>
              <div className="item">
                <span className="sw answered" /> answered
              </div>
              <div className="item">
                <span className="sw timeout" /> timed out
              </div>
              <div className="item">
                <span className="sw ghost" /> met in lookup, not in table
              </div>
            </>
          )}
        </div>

        {followed.model && overlay && (
          <div className="graph-lookup" data-testid="graph-lookup" data-route={overlay.edges.filter((e) => e.kind === 'route').length} aria-live="polite">
            <div className="title">
              {overlay.running && !frame ? <span className="spinner" aria-hidden="true" /> : <span className={`dot ${outcomeView(followed.model.kind, followed.model.summary.reason)?.tone === 'good' ? 'good' : 'warn'}`} />}
              {followed.model.kind} {followed.model.target ? <Id id={followed.model.target} /> : null}
              {followed.pinned && (
                <button type="button" className="btn small ghost" onClick={() => selectLookup(null)} title="Stop highlighting this lookup">
                  Clear
                </button>
              )}
            </div>
            {frame ? (
              <span data-testid="graph-replay-caption" data-shown={frame.shown} data-total={frame.total}>
                <span className="faint">
                  replay · event {frame.shown} of {frame.total}
                  {frame.last && frame.last.type !== 'started' && frame.last.type !== 'done' ? ` · round ${frame.last.hop}` : ''}
                </span>
                <br />
                {describeEvent(frame.last)}
              </span>
            ) : (
              <span className="muted">
                {overlay.running
                  ? `running · ${[...overlay.peers.values()].filter((s) => s === 'queried').length} waiting, ${[...overlay.peers.values()].filter((s) => s === 'answered').length} answered`
                  : `${outcomeView(followed.model.kind, followed.model.summary.reason)?.text ?? 'done'} · ${plural(followed.model.summary.hops ?? 0, 'hop')} · ${plural(followed.model.summary.messages, 'message')}`}
                {[...overlay.peers.values()].some((s) => s === 'timeout') && ` · ${plural([...overlay.peers.values()].filter((s) => s === 'timeout').length, 'timeout')}`}
              </span>
            )}
            <div className="btn-row">
              {graphReplay.replay && (frame && !frame.atEnd ? (
                <button type="button" className="btn small" onClick={graphReplay.stop} data-testid="graph-replay-stop">
                  Stop replay
                </button>
              ) : (
                <button
                  type="button"
                  className="btn small"
                  onClick={() => {
                    // Pinned, so the lookup stays on the graph while it replays.
                    if (!followed.pinned && followed.model) selectLookup(followed.model.id);
                    graphReplay.play();
                  }}
                  title="Replay this lookup on the graph, one event per beat"
                  data-testid="graph-replay"
                >
                  {frame ? 'Replay again' : 'Replay on graph'}
                </button>
              ))}
              <a
                href="#/lookups"
                onClick={() => {
                  if (!followed.pinned && followed.model) selectLookup(followed.model.id);
                }}
              >
                Open its waterfall
              </a>
            </div>
          </div>
        )}

        {hover && hover.kind !== 'ring' && (
          <div className="tooltip" style={{ left: hover.x, top: hover.y }} role="tooltip">
            <div className="id">{hover.kind === 'self' ? 'you' : hover.kind === 'target' ? 'lookup target' : shortId(hover.ref, 16)}</div>
            {hoverPeer && (
              <div className="muted">
                {endpointText(hoverPeer)} · bucket {hoverPeer.bucket} · {hoverPeer.state} · RTT {formatRtt(hoverPeer.rttMs)}
              </div>
            )}
            {hover.kind === 'ghost' && <div className="muted">not in our routing table; met during the lookup</div>}
            {hoverLk && <div>lookup: {LK_TEXT[hoverLk]}</div>}
            {hoverRoute && <div className="muted">{hoverRoute}</div>}
          </div>
        )}
      </div>

      {selected && (
        <aside className="side-panel" aria-label="Selected node" data-testid="side-panel">
          <header className="card-head">
            <h2>{isSelf ? 'Your node' : selectedPeer ? 'Peer' : 'Node met in a lookup'}</h2>
            <div className="right">
              <button type="button" className="btn small ghost" onClick={() => selectPeer(null)} aria-label="Close panel">
                ✕
              </button>
            </div>
          </header>
          {isSelf && node ? (
            <div className="section">
              <Id id={node.id} full copy />
              <dl className="kv">
                <dt>Address</dt>
                <dd className="mono">{endpointText(node.address)}</dd>
                <dt>Peers</dt>
                <dd>{peers.size}</dd>
              </dl>
            </div>
          ) : (
            <PeerPanel key={selected} id={selected} peer={selectedPeer} contact={selectedContact} lookupState={overlay?.peers.get(selected)} />
          )}
        </aside>
      )}
    </div>
  );
}

function PeerPanel({ id, peer, contact, lookupState }: { id: string; peer?: PeerInfo; contact?: { host: string; port: number }; lookupState?: PeerLookupState }): ReactElement {
  const api = useApi();
  const now = useHostNow();
  const selectLookup = useUi((s) => s.selectLookup);
  const setPeerFilter = useUi((s) => s.setPeerFilter);
  const go = useUi((s) => s.go);
  const addr = peer ?? contact;
  const address = addr ? endpointText(addr) : null;
  const ping = useMutation({ mutationFn: (a: string) => unwrap(api.ping({ address: a })) });
  const lookup = useMutation({
    mutationFn: (target: string) => unwrap(api.startLookup({ target, kind: 'find-node' })),
    onSuccess: (r) => selectLookup(r.lookupId),
  });
  return (
    <>
      <div className="section">
        <Id id={id} full copy testId="panel-id" />
        <dl className="kv">
          <dt>Address</dt>
          <dd className="mono">{address ?? '—'}</dd>
          {peer ? (
            <>
              <dt>Bucket</dt>
              <dd>{peer.bucket}</dd>
              <dt>Health</dt>
              <dd>
                <Health state={peer.state} />
              </dd>
              <dt>RTT</dt>
              <dd>{formatRtt(peer.rttMs)}</dd>
              <dt>Last seen</dt>
              <dd>{formatAgo(peer.lastSeen, now)}</dd>
              <dt>Failures</dt>
              <dd className={peer.failures > 0 ? 'c-bad' : undefined}>{peer.failures} in a row</dd>
              <dt>Answered</dt>
              <dd>
                {peer.answered} of {peer.queried} requests
              </dd>
              <dt>In table since</dt>
              <dd>{formatAgo(peer.addedAt, now)}</dd>
            </>
          ) : (
            <>
              <dt>In our table</dt>
              <dd>no</dd>
            </>
          )}
          {lookupState && (
            <>
              <dt>In the lookup</dt>
              <dd>{LK_TEXT[lookupState]}</dd>
            </>
          )}
        </dl>
      </div>
      <div className="section">
        <div className="btn-row">
          <button type="button" className="btn" disabled={!address || ping.isPending} onClick={() => address && ping.mutate(address)} data-testid="panel-ping">
            {ping.isPending ? 'Pinging…' : 'Ping'}
          </button>
          <button type="button" className="btn" disabled={lookup.isPending} onClick={() => lookup.mutate(id)} data-testid="panel-lookup">
            Look up this id
          </button>
          <CopyButton text={id} label="Copy id" />
        </div>
        {ping.isPending && <Progress>Waiting for an answer (up to 2 s)…</Progress>}
        {ping.data && (
          <div className="alert success" role="status" data-testid="ping-result">
            Answered in {formatRtt(ping.data.rttMs)};{' '}
            {ping.data.observed ? (
              <>
                it sees us at <span className="mono">{endpointText(ping.data.observed)}</span>
              </>
            ) : (
              'it did not say where it sees us'
            )}
          </div>
        )}
        <ErrorNote error={ping.error} context="Ping" />
        <ErrorNote error={lookup.error} context="Lookup" />
        {lookup.data && <div className="muted">Lookup started: it animates on the graph.</div>}
        {peer && (
          <a
            href="#/peers"
            onClick={(e) => {
              e.preventDefault();
              setPeerFilter({ text: id.slice(0, 12), bucket: null, health: 'all' });
              go('peers');
            }}
          >
            Show in the peers table
          </a>
        )}
      </div>
    </>
  );
}
