// UI state that is not host data: the current view (kept in the URL hash so reload and the back
// button work), selections shared between views, and the theme.
import { create } from 'zustand';
import type { Theme } from '../../electron/host/contract';

export const VIEWS = ['overview', 'graph', 'buckets', 'peers', 'records', 'lookups', 'traces', 'messages', 'testnet', 'network', 'join', 'settings'] as const;
export type ViewName = (typeof VIEWS)[number];

export const VIEW_TITLES: Record<ViewName, string> = {
  overview: 'Overview',
  graph: 'Graph',
  buckets: 'Buckets',
  peers: 'Peers',
  records: 'Records',
  lookups: 'Lookups',
  traces: 'Traces',
  messages: 'Methods & broadcasts',
  testnet: 'Testnet',
  network: 'Network map',
  join: 'Join a network',
  settings: 'Settings',
};

export function viewFromHash(hash: string): ViewName {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return (VIEWS as readonly string[]).includes(name) ? (name as ViewName) : 'overview';
}

export interface PeerFilter {
  text: string;
  bucket: number | null;
  health: 'all' | 'good' | 'questionable' | 'bad' | 'unknown';
}

export interface UiState {
  view: ViewName;
  /** Peer selected in the graph (hex id). */
  selectedPeer: string | null;
  /** Lookup selected in Lookups, highlighted on the graph. */
  selectedLookup: string | null;
  /** The graph follows new lookups unless one is pinned. */
  followLookups: boolean;
  peerFilter: PeerFilter;
  /** A key to prefill in Records' fetch form. */
  fetchKey: string;
  /** The salt that goes with it (Mainline: BEP 44 answers leave a mutable item's salt out). */
  fetchSalt: string;
  theme: Theme;
  go(view: ViewName): void;
  selectPeer(id: string | null): void;
  selectLookup(id: string | null): void;
  setFollow(on: boolean): void;
  setPeerFilter(f: Partial<PeerFilter>): void;
  /** With a salt, the salt is set too (a store's "Fetch it", '' for none); without, it stays as typed. */
  setFetchKey(key: string, salt?: string): void;
  setFetchSalt(salt: string): void;
  setTheme(t: Theme): void;
}

export const useUi = create<UiState>()((set) => ({
  view: viewFromHash(window.location.hash),
  selectedPeer: null,
  selectedLookup: null,
  followLookups: true,
  peerFilter: { text: '', bucket: null, health: 'all' },
  fetchKey: '',
  fetchSalt: '',
  theme: 'system',
  go(view) {
    if (window.location.hash !== `#/${view}`) window.location.hash = `#/${view}`;
    set({ view });
  },
  selectPeer: (id) => set({ selectedPeer: id }),
  selectLookup: (id) => set({ selectedLookup: id, followLookups: id === null }),
  setFollow: (on) => set({ followLookups: on }),
  setPeerFilter: (f) => set((s) => ({ peerFilter: { ...s.peerFilter, ...f } })),
  setFetchKey: (key, salt) => set(salt === undefined ? { fetchKey: key } : { fetchKey: key, fetchSalt: salt }),
  setFetchSalt: (salt) => set({ fetchSalt: salt }),
  setTheme: (theme) => {
    applyTheme(theme);
    set({ theme });
  },
}));

export function applyTheme(theme: Theme): void {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

/** The effective theme (system resolved), for code that paints canvas (the graph). */
export function effectiveDark(theme: Theme): boolean {
  if (theme === 'dark') return true;
  if (theme === 'light') return false;
  return window.matchMedia('(prefers-color-scheme: dark)').matches;
}

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => useUi.setState({ view: viewFromHash(window.location.hash) }));
}
