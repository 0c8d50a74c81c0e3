// A lookup as the UI holds it is a Trace: the live LookupEvent stream is recorded with the host's own
// trace builder (electron/host/trace-build.ts), and a stored or opened trace is used as it is, so the
// waterfall, the graph overlay, the replay and the list treat both alike. Pure functions, unit-tested.
import { TRACE_FORMAT, TRACE_VERSION, type Contact, type LookupEvent, type Trace, type TraceEvent } from '../../electron/host/contract';
import { appendTraceEvent, emptySummary, startTrace, traceRoute, traceRpcs, type TraceRpc } from '../../electron/host/trace-build';

/** Events kept per lookup; a lookup past this is marked truncated (a normal one has well under 200). */
export const MAX_EVENTS_PER_LOOKUP = 4000;

/** A lookup seen live, or a stored trace. `target` is '' when we joined mid-lookup and never saw 'started'. */
export type LookupModel = Trace;

/** The lookup's end as its 'done' event told it; null while it runs (or when the trace ends first). */
export interface LookupDone {
  reason: NonNullable<Trace['summary']['reason']>;
  closest: Contact[];
  hops: number;
  messages: number;
  durationMs: number;
  timeToClosestMs: number | null;
}

export function lookupDone(m: Trace): LookupDone | null {
  const s = m.summary;
  if (s.reason === null) return null;
  return { reason: s.reason, closest: s.closest, hops: s.hops ?? 0, messages: s.messages, durationMs: s.durationMs ?? 0, timeToClosestMs: s.timeToClosestMs };
}

/** A trace of a lookup whose start we missed: what its later events can tell. */
function partialTrace(e: LookupEvent): Trace {
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    protocol: 'kadscope',
    id: e.lookupId,
    startedAt: e.at,
    self: '',
    target: '',
    kind: 'find-node',
    params: { k: 0, alpha: 0, rpcTimeoutMs: 0 },
    events: [],
    summary: emptySummary(),
    origin: 'live',
    truncated: false,
  };
}

/** Applies one live event; returns a new trace (the input is not changed, so stores see the change). */
export function applyLookupEvent(prev: Trace | undefined, e: LookupEvent): Trace {
  if (e.type === 'started') return startTrace(e);
  const base = prev ?? partialTrace(e);
  const next: Trace = { ...base, events: base.events.slice(), summary: { ...base.summary } };
  appendTraceEvent(next, e, MAX_EVENTS_PER_LOOKUP);
  return next;
}

// ---------------------------------------------------------------------------------------------
// Waterfall: one row per RPC, like a browser's network panel.

export type RpcOutcome = TraceRpc['outcome'];
export type WaterfallRow = TraceRpc;

export interface Waterfall {
  rows: WaterfallRow[];
  /** Extent of the time axis, ms. */
  spanMs: number;
  /** Offset of 'done', if seen. */
  doneAt: number | null;
}

/** The trace's RPCs (traceRpcs: the one pairing) on a time axis. `now` (ms since start) closes pending rows' bars for drawing. */
export function buildWaterfall(events: readonly TraceEvent[], now?: number): Waterfall {
  let last = 0;
  let doneAt: number | null = null;
  for (const e of events) {
    last = Math.max(last, e.t);
    if (e.type === 'done') doneAt = e.t;
  }
  const end = doneAt ?? Math.max(last, now ?? 0);
  return { rows: traceRpcs(events), spanMs: Math.max(end, 1), doneAt };
}

// ---------------------------------------------------------------------------------------------
// Graph overlay: what a lookup did to each peer, and the route it took, for highlighting.

export type PeerLookupState = 'queried' | 'answered' | 'timeout' | 'error';

export interface LookupOverlay {
  lookupId: string;
  /** The node that ran the lookup: the route starts there. */
  self: string;
  target: string;
  running: boolean;
  peers: Map<string, PeerLookupState>;
  /**
   * The route (traceRoute): one arrow per peer asked, from the node that named it (the origin for
   * the seeds) with the round that asked it; once done, one arrow from the nearest answering node
   * to the target. Nothing else: the hundreds of other referrals would hide the route.
   */
  edges: OverlayEdge[];
  /** Contacts seen in the lookup (answers, seeds), by id, so nodes not in our table can be drawn. */
  contacts: Map<string, Contact>;
  /** The final closest set, when done. */
  closest: Set<string>;
}

export interface OverlayEdge {
  from: string;
  /** A node id, or for the 'goal' edge the target id. */
  to: string;
  kind: 'route' | 'goal';
  /** The round that asked `to` (route edges); 0 for the goal edge. */
  round: number;
}

export function buildOverlay(m: LookupModel): LookupOverlay {
  const peers = new Map<string, PeerLookupState>();
  const contacts = new Map<string, Contact>();
  for (const e of m.events) {
    if (e.type === 'started') {
      for (const c of e.seeds) contacts.set(c.id, c);
      continue;
    }
    if (e.type === 'done') continue;
    contacts.set(e.peer.id, e.peer);
    if (e.type === 'query') {
      if (!peers.has(e.peer.id)) peers.set(e.peer.id, 'queried');
    } else if (e.type === 'response') {
      peers.set(e.peer.id, 'answered');
      for (const c of e.nodes) if (c.id !== m.self && !contacts.has(c.id)) contacts.set(c.id, c);
    } else if (peers.get(e.peer.id) !== 'answered') {
      peers.set(e.peer.id, e.type);
    }
  }
  const done = lookupDone(m);
  const edges: OverlayEdge[] = m.self === '' ? [] : traceRoute(m).map((r) => ({ from: r.from, to: r.to, kind: 'route', round: r.round }));
  const nearest = done?.closest[0];
  if (nearest && m.target !== '' && nearest.id !== m.target) edges.push({ from: nearest.id, to: m.target, kind: 'goal', round: 0 });
  return {
    lookupId: m.id,
    self: m.self,
    target: m.target,
    running: done === null,
    peers,
    edges,
    contacts,
    closest: new Set((done?.closest ?? []).map((c) => c.id)),
  };
}
