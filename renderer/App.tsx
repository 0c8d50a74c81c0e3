// The shell: left navigation, a header with the node's identity and status, banners, and the view.
import { useEffect, type ReactElement } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Icon, type IconName } from './components/Icons';
import { CopyButton, Empty, Progress } from './components/common';
import { useLive } from './state/live';
import { useApi, useConnection, useConnectionState, useHostSync } from './state/sync';
import { useUi, VIEW_TITLES, type ViewName } from './state/ui';
import { unwrap } from './state/call';
import { shortId } from './lib/id';
import { Overview } from './views/Overview';
import { GraphView } from './views/GraphView';
import { Buckets } from './views/Buckets';
import { Peers } from './views/Peers';
import { Records } from './views/Records';
import { Lookups } from './views/Lookups';
import { Traces } from './views/Traces';
import { Messages } from './views/Messages';
import { Testnet } from './views/Testnet';
import { Network } from './views/Network';
import { Join } from './views/Join';
import { SettingsView } from './views/Settings';
import { NodeSwitcher } from './views/Remote';

const NAV: { section: string; items: { view: ViewName; icon: IconName }[] }[] = [
  { section: 'Node', items: [{ view: 'overview', icon: 'overview' }, { view: 'graph', icon: 'graph' }, { view: 'buckets', icon: 'buckets' }, { view: 'peers', icon: 'peers' }] },
  { section: 'Data', items: [{ view: 'records', icon: 'records' }, { view: 'lookups', icon: 'lookups' }, { view: 'traces', icon: 'traces' }, { view: 'messages', icon: 'messages' }] },
  { section: 'Network', items: [{ view: 'testnet', icon: 'testnet' }, { view: 'network', icon: 'network' }, { view: 'join', icon: 'join' }, { view: 'settings', icon: 'settings' }] },
];

const NAV_LABEL: Partial<Record<ViewName, string>> = { join: 'Join', messages: 'Messages' };

/** Views that fill the content area edge to edge (their own scrolling). */
const FLUSH_VIEWS: ReadonlySet<ViewName> = new Set(['graph', 'peers']);

function ViewBody({ view }: { view: ViewName }): ReactElement {
  switch (view) {
    case 'overview':
      return <Overview />;
    case 'graph':
      return <GraphView />;
    case 'buckets':
      return <Buckets />;
    case 'peers':
      return <Peers />;
    case 'records':
      return <Records />;
    case 'lookups':
      return <Lookups />;
    case 'traces':
      return <Traces />;
    case 'messages':
      return <Messages />;
    case 'testnet':
      return <Testnet />;
    case 'network':
      return <Network />;
    case 'join':
      return <Join />;
    case 'settings':
      return <SettingsView />;
  }
}

function NavBadge({ view }: { view: ViewName }): ReactElement | null {
  const peers = useLive((s) => (view === 'peers' ? s.peers.size : null));
  const records = useLive((s) => (view === 'records' ? s.records.length : null));
  const n = peers ?? records;
  return n === null ? null : <span className="nav-badge">{n}</span>;
}

function Sidebar(): ReactElement {
  const view = useUi((s) => s.view);
  const conn = useConnectionState();
  const kind = useConnection().kind;
  const batches = useLive((s) => s.batches);
  return (
    <aside className="sidebar">
      <div className="brand">
        <Icon name="logo" className="brand-mark" />
        kadscope
      </div>
      <nav className="nav" aria-label="Views">
        {NAV.map((g) => (
          <div key={g.section} role="group" aria-label={g.section}>
            <div className="nav-section">{g.section}</div>
            {g.items.map((it) => (
              <a key={it.view} href={`#/${it.view}`} aria-current={view === it.view ? 'page' : undefined} data-testid={`nav-${it.view}`}>
                <Icon name={it.icon} />
                {NAV_LABEL[it.view] ?? VIEW_TITLES[it.view]}
                <NavBadge view={it.view} />
              </a>
            ))}
          </div>
        ))}
      </nav>
      <div className="sidebar-foot" data-testid="connection" data-status={conn.status}>
        <span className="status-line">
          <span className={`dot ${conn.status === 'open' ? 'good live' : conn.status === 'connecting' ? 'warn' : 'bad'}`} aria-hidden="true" />
          {conn.status === 'open' ? (kind === 'electron' ? 'Connected to the app' : 'Connected to host') : conn.status === 'connecting' ? 'Connecting…' : 'Disconnected'}
        </span>
        {conn.status === 'open' && batches === 0 && <span className="faint">waiting for live updates…</span>}
      </div>
    </aside>
  );
}

function Header(): ReactElement {
  const view = useUi((s) => s.view);
  const go = useUi((s) => s.go);
  const node = useLive((s) => s.node);
  const testnet = useLive((s) => s.testnet);
  return (
    <header className="header">
      <h1>{VIEW_TITLES[view]}</h1>
      <div className="header-spacer" />
      <NodeSwitcher />
      {node && !node.diversityLimits && (
        <span
          className="chip warn"
          data-testid="diversity-off"
          title="Routing-table IP diversity limits are off: many peers from one address or subnet are accepted. This is normal on loopback and private test networks, and unsafe on the open internet."
        >
          <span className="dot warn" aria-hidden="true" />
          Diversity limits off
        </span>
      )}
      {testnet?.running && (
        <button type="button" className="chip" onClick={() => go('testnet')} title="A local testnet is running on 127.0.0.1">
          <span className="dot accent" aria-hidden="true" />
          Testnet · {testnet.alive} {testnet.protocol === 'mainline' ? 'Mainline ' : testnet.protocol === 'hyperdht' ? 'HyperDHT ' : ''}nodes
        </button>
      )}
      {node && (
        <span className="chip" data-testid="header-network" data-protocol={node.protocol.name} title={`The node speaks ${node.protocol.label}: ${node.protocol.idBytes * 8}-bit ids`}>
          {node.protocol.label}
        </span>
      )}
      {node && (
        <span className="chip" title={node.id}>
          Node <span className="id" data-testid="header-node-id" data-id={node.id}>{shortId(node.id, 12)}</span>
          <CopyButton text={node.id} label="Copy id" />
        </span>
      )}
    </header>
  );
}

function Banners(): ReactElement | null {
  const c = useConnection();
  const conn = useConnectionState();
  if (conn.status === 'closed')
    return (
      <div className="banner bad" role="alert">
        <strong>{conn.message}</strong>
        <span>Reconnecting{conn.retryInMs ? ` in ${Math.ceil(conn.retryInMs / 1000)} s` : ''}; what you see may be out of date.</span>
        <button type="button" className="btn small" onClick={() => c.reconnect()}>
          Retry now
        </button>
      </div>
    );
  if (conn.status === 'fatal')
    return (
      <div className="banner bad" role="alert">
        <strong>{conn.message}</strong>
      </div>
    );
  return null;
}

function useSettingsTheme(): void {
  const api = useApi();
  const open = useConnectionState().status === 'open';
  const settings = useQuery({ queryKey: ['settings'], queryFn: () => unwrap(api.settingsGet()), enabled: open, staleTime: Infinity });
  const setTheme = useUi((s) => s.setTheme);
  useEffect(() => {
    if (settings.data) setTheme(settings.data.theme);
  }, [settings.data, setTheme]);
}

export function App(): ReactElement {
  useHostSync();
  useSettingsTheme();
  const view = useUi((s) => s.view);
  const loaded = useLive((s) => s.loaded);
  const conn = useConnectionState();

  useEffect(() => {
    document.title = `${VIEW_TITLES[view]} · kadscope`;
  }, [view]);

  return (
    <div className="app">
      <Sidebar />
      <div className="main">
        <Header />
        <Banners />
        <main className={FLUSH_VIEWS.has(view) ? 'content flush' : 'content'} data-testid={`view-${view}`}>
          {loaded ? (
            <ViewBody view={view} />
          ) : conn.status === 'fatal' ? (
            <Empty title="Not connected">{conn.message}</Empty>
          ) : (
            <div className="boot-screen">
              <Progress>{conn.status === 'open' ? 'Loading the node’s state…' : 'Connecting to the host…'}</Progress>
            </div>
          )}
        </main>
      </div>
    </div>
  );
}
