// Live state: the snapshot plus every event batch applied on top, one store update per batch.
// A batch flagged `resync` (a sequence gap, a reconnect) makes the store ask for a fresh snapshot.
import { create } from 'zustand';
import type {
  BroadcastDto,
  BucketInfo,
  CallInfo,
  CrawlStatus,
  Counters,
  Endpoint,
  EventBatch,
  ExplorerEvent,
  HealthState,
  PeerInfo,
  RecordInfo,
  SnapshotDto,
  TestnetStatus,
} from './contract-types';
import { applyLookupEvent, type LookupModel } from './lookup-model';

/** Counter samples kept for the charts (one a second: ten minutes). */
export const MAX_HISTORY_SAMPLES = 600;
/** Lookups kept in memory; the host keeps older ones as traces. */
export const MAX_LIVE_LOOKUPS = 100;
/** Activity lines kept for the Testnet view. */
export const MAX_ACTIVITY = 200;
/** Received broadcasts kept for the Messages view (the host keeps as many). */
export const MAX_BROADCASTS = 200;
/** Custom method calls kept for the Messages view's call log. */
export const MAX_CALLS = 200;

export interface NodeInfo {
  id: string;
  address: Endpoint;
  /** Every bound address: one, or IPv4 and IPv6 for a dual-stack node. */
  addresses: Endpoint[];
  observedAddress: Endpoint | null;
  /** The UDP socket layer under the node ('kadscope-native', 'udx-native' or 'node:dgram'); absent on the memory network. */
  socketLayer?: string;
  startedAt: number;
  k: number;
  alpha: number;
  estimatedNetworkSize: number;
  diversityLimits: boolean;
  /** The network's protocol (kadscope, mainline), what it is called, and its id length in bytes. */
  protocol: { name: string; label: string; idBytes: number };
}

/** A node from a host that does not say its protocol speaks kadscope's. */
export const KADSCOPE_NETWORK: NodeInfo['protocol'] = { name: 'kadscope', label: 'kadscope', idBytes: 32 };

export interface HealthCounts {
  good: number;
  questionable: number;
  bad: number;
  unknown: number;
}

export interface Sample {
  at: number;
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rpcSent: number;
  rpcReceived: number;
  timeouts: number;
  /** Requests sent plus received, per method. */
  rpc: Record<string, number>;
  peers: number;
  health: HealthCounts;
  estimatedNetworkSize: number;
}

export interface Activity {
  at: number;
  kind: 'added' | 'removed' | 'health' | 'testnet' | 'node' | 'record' | 'message';
  text: string;
  /** Peer id or record key, for linking. */
  ref?: string;
  tone: 'good' | 'warn' | 'bad' | 'info';
}

export interface LiveState {
  loaded: boolean;
  /** Host clock minus our clock, ms (the host stamps times with its clock). */
  skewMs: number;
  node: NodeInfo | null;
  peers: ReadonlyMap<string, PeerInfo>;
  buckets: BucketInfo[];
  counters: Counters | null;
  history: Sample[];
  records: RecordInfo[];
  /** Broadcasts the node received, newest first (bounded). */
  broadcasts: BroadcastDto[];
  /** Custom method calls made and answered since the page connected, newest first (bounded). */
  calls: CallInfo[];
  testnet: TestnetStatus | null;
  /** The running or last crawl (from 'crawl' events; the Network view asks for it on first show). */
  crawl: CrawlStatus | null;
  lookups: ReadonlyMap<string, LookupModel>;
  /** Newest lookup id seen, for the graph to follow. */
  latestLookupId: string | null;
  activity: Activity[];
  /** Set by a resync; cleared when a snapshot arrives. */
  needsSnapshot: boolean;
  /** Batches applied since the page loaded (for the status bar and tests). */
  batches: number;
  applySnapshot(s: SnapshotDto): void;
  applyBatch(b: EventBatch): void;
}

export function countHealth(peers: Iterable<PeerInfo>): HealthCounts {
  const c: HealthCounts = { good: 0, questionable: 0, bad: 0, unknown: 0 };
  for (const p of peers) c[p.state]++;
  return c;
}

function pushBounded<T>(list: T[], items: T[], max: number): T[] {
  if (items.length === 0) return list;
  const out = list.concat(items);
  return out.length > max ? out.slice(out.length - max) : out;
}

function sampleOf(at: number, counters: Counters, peers: ReadonlyMap<string, PeerInfo>, estimatedNetworkSize: number): Sample {
  let rpcSent = 0;
  let rpcReceived = 0;
  let timeouts = 0;
  const rpc: Record<string, number> = {};
  for (const [name, m] of Object.entries(counters.rpc)) {
    rpcSent += m.sent;
    rpcReceived += m.received;
    timeouts += m.timeouts;
    rpc[name] = m.sent + m.received;
  }
  return {
    at,
    rxPackets: counters.rxPackets,
    txPackets: counters.txPackets,
    rxBytes: counters.rxBytes,
    txBytes: counters.txBytes,
    rpcSent,
    rpcReceived,
    timeouts,
    rpc,
    peers: peers.size,
    health: countHealth(peers.values()),
    estimatedNetworkSize,
  };
}

const HEALTH_TONE: Record<HealthState, Activity['tone']> = { good: 'good', questionable: 'warn', bad: 'bad', unknown: 'info' };

/** Applies one batch's events to a copy of the state's collections. Pure apart from the clock. */
export function reduceBatch(s: LiveState, events: readonly ExplorerEvent[], localNow: number): Partial<LiveState> {
  let peers: Map<string, PeerInfo> | null = null;
  let lookups: Map<string, LookupModel> | null = null;
  let records: RecordInfo[] | null = null;
  let broadcasts: BroadcastDto[] | null = null;
  let calls: CallInfo[] | null = null;
  let node = s.node;
  let counters = s.counters;
  let testnet = s.testnet;
  let crawl = s.crawl;
  let latestLookupId = s.latestLookupId;
  let needsSnapshot = s.needsSnapshot;
  const samples: Sample[] = [];
  const activity: Activity[] = [];
  const hostNow = localNow + s.skewMs;
  const mutPeers = (): Map<string, PeerInfo> => (peers ??= new Map(s.peers));
  const mutLookups = (): Map<string, LookupModel> => (lookups ??= new Map(s.lookups));

  for (const e of events) {
    switch (e.type) {
      case 'peer-added':
        mutPeers().set(e.peer.id, e.peer);
        activity.push({ at: hostNow, kind: 'added', text: `peer joined bucket ${e.peer.bucket}`, ref: e.peer.id, tone: 'good' });
        break;
      case 'peer-removed':
        mutPeers().delete(e.id);
        activity.push({ at: hostNow, kind: 'removed', text: `peer removed (${e.reason})`, ref: e.id, tone: 'bad' });
        break;
      case 'peer-health': {
        const before = (peers ?? s.peers).get(e.peer.id);
        mutPeers().set(e.peer.id, e.peer);
        if (before && before.state !== e.peer.state) {
          activity.push({ at: hostNow, kind: 'health', text: `${before.state} → ${e.peer.state}`, ref: e.peer.id, tone: HEALTH_TONE[e.peer.state] });
        }
        break;
      }
      case 'lookup': {
        const ls = mutLookups();
        const id = e.event.lookupId;
        const next = applyLookupEvent(ls.get(id), e.event);
        if (!ls.has(id)) {
          latestLookupId = id;
          if (ls.size >= MAX_LIVE_LOOKUPS) evictOldest(ls);
        }
        ls.set(id, next);
        break;
      }
      case 'observed-address':
        if (node) node = { ...node, observedAddress: e.address };
        break;
      case 'record-stored': {
        const list: RecordInfo[] = records ?? s.records;
        records = [...list.filter((r) => r.key !== e.record.key), e.record];
        activity.push({ at: hostNow, kind: 'record', text: `record stored (${e.record.type}, ${e.record.size} B)`, ref: e.record.key, tone: 'info' });
        break;
      }
      case 'record-expired':
        records = (records ?? s.records).filter((r: RecordInfo) => r.key !== e.key);
        break;
      case 'call':
        calls = [e.call, ...(calls ?? s.calls)].slice(0, MAX_CALLS);
        break;
      case 'broadcast':
        broadcasts = [e.broadcast, ...(broadcasts ?? s.broadcasts).filter((b) => b.id !== e.broadcast.id || b.origin !== e.broadcast.origin)].slice(0, MAX_BROADCASTS);
        activity.push({ at: hostNow, kind: 'message', text: `broadcast received (${e.broadcast.hops} ${e.broadcast.hops === 1 ? 'hop' : 'hops'}, ${e.broadcast.size} B)`, ref: e.broadcast.origin, tone: 'info' });
        break;
      case 'record-refused':
        activity.push({ at: hostNow, kind: 'record', text: `record refused: ${e.message}`, ref: e.key ?? undefined, tone: 'warn' });
        break;
      case 'tick':
        counters = e.counters;
        if (node) node = { ...node, estimatedNetworkSize: e.estimatedNetworkSize, observedAddress: e.observedAddress ?? node.observedAddress };
        samples.push(sampleOf(e.at, e.counters, peers ?? s.peers, e.estimatedNetworkSize));
        break;
      case 'testnet':
        if (testnet && testnet.alive !== e.status.alive) {
          const d = e.status.alive - testnet.alive;
          activity.push({ at: hostNow, kind: 'testnet', text: `testnet: ${d > 0 ? `+${d}` : d} nodes, ${e.status.alive} alive`, tone: d > 0 ? 'good' : 'warn' });
        } else if (!testnet?.running !== !e.status.running) {
          activity.push({ at: hostNow, kind: 'testnet', text: e.status.running ? 'testnet started' : 'testnet stopped', tone: 'info' });
        }
        testnet = e.status;
        break;
      case 'crawl':
        crawl = e.status;
        break;
      case 'node':
        activity.push({ at: hostNow, kind: 'node', text: `our node ${e.state}`, tone: 'info' });
        needsSnapshot = true;
        break;
    }
  }

  const out: Partial<LiveState> = { node, counters, testnet, crawl, latestLookupId, needsSnapshot };
  if (peers) out.peers = peers;
  if (lookups) out.lookups = lookups;
  if (records) out.records = records;
  if (broadcasts) out.broadcasts = broadcasts;
  if (calls) out.calls = calls;
  if (samples.length > 0) out.history = pushBounded(s.history, samples, MAX_HISTORY_SAMPLES);
  if (activity.length > 0) out.activity = pushBounded(s.activity, activity, MAX_ACTIVITY);
  return out;
}

/** Drops the oldest finished lookup (or the oldest of all when every one is running). */
function evictOldest(ls: Map<string, LookupModel>): void {
  for (const [id, m] of ls) {
    if (m.summary.reason !== null) {
      ls.delete(id);
      return;
    }
  }
  const first = ls.keys().next();
  if (!first.done) ls.delete(first.value);
}

export const useLive = create<LiveState>()((set, get) => ({
  loaded: false,
  skewMs: 0,
  node: null,
  peers: new Map(),
  buckets: [],
  counters: null,
  history: [],
  records: [],
  broadcasts: [],
  calls: [],
  testnet: null,
  crawl: null,
  lookups: new Map(),
  latestLookupId: null,
  activity: [],
  needsSnapshot: false,
  batches: 0,
  applySnapshot(snap) {
    const n = snap.node;
    const peers = new Map(n.peers.map((p) => [p.id, p] as const));
    const s = get();
    const history = s.history.length === 0 ? [sampleOf(n.now, n.counters, peers, n.estimatedNetworkSize)] : s.history;
    set({
      loaded: true,
      skewMs: n.now - Date.now(),
      node: {
        id: n.id,
        address: n.address,
        addresses: n.addresses ?? [n.address],
        observedAddress: n.observedAddress,
        ...(n.socketLayer !== undefined ? { socketLayer: n.socketLayer } : {}),
        startedAt: n.startedAt,
        k: n.k,
        alpha: n.alpha,
        estimatedNetworkSize: n.estimatedNetworkSize,
        diversityLimits: n.diversityLimits,
        protocol: n.protocol ?? KADSCOPE_NETWORK,
      },
      peers,
      buckets: n.buckets,
      counters: n.counters,
      history,
      records: snap.records,
      testnet: snap.testnet,
      needsSnapshot: false,
    });
  },
  applyBatch(b) {
    const s = get();
    if (b.resync) {
      set({ needsSnapshot: true, batches: s.batches + 1 });
      return;
    }
    if (b.events.length === 0) return;
    set({ ...reduceBatch(s, b.events, Date.now()), batches: s.batches + 1 });
  },
}));

/** The host's clock now, as our best estimate. */
export function hostNow(): number {
  return Date.now() + useLive.getState().skewMs;
}
