// A lookup as the UI holds it: built from the live LookupEvent stream or from a stored Trace, so the
// waterfall, the graph overlay and the list treat both alike. Pure functions, unit-tested.
import type { Contact, LookupEvent, LookupKind, LookupTermination, Trace, TraceEvent } from '../../electron/host/contract';
import { closerTo } from '../lib/id';

/** Events kept per lookup; a lookup past this is marked truncated (a normal one has well under 200). */
export const MAX_EVENTS_PER_LOOKUP = 4000;

export interface LookupDone {
  reason: LookupTermination;
  closest: Contact[];
  hops: number;
  messages: number;
  durationMs: number;
  timeToClosestMs: number | null;
}

export interface LookupModel {
  id: string;
  kind: LookupKind;
  /** Empty when we joined mid-lookup and never saw 'started'. */
  target: string;
  self: string;
  /** Clock ms of the start (host clock). */
  startedAt: number;
  params: { k: number; alpha: number; rpcTimeoutMs: number } | null;
  events: TraceEvent[];
  done: LookupDone | null;
  truncated: boolean;
  origin: 'live' | 'imported' | 'stored';
}

function stripEvent(e: LookupEvent, startedAt: number): TraceEvent {
  const { lookupId: _id, at, ...rest } = e;
  return { ...rest, t: Math.max(0, at - startedAt) } as TraceEvent;
}

/** Applies one live event; returns a new model (the input is not changed). */
export function applyLookupEvent(prev: LookupModel | undefined, e: LookupEvent): LookupModel {
  let m: LookupModel =
    prev ??
    ({
      id: e.lookupId,
      kind: e.type === 'started' ? e.kind : 'find-node',
      target: e.type === 'started' ? e.target : '',
      self: e.type === 'started' ? e.self : '',
      startedAt: e.at,
      params: null,
      events: [],
      done: null,
      truncated: false,
      origin: 'live',
    } satisfies LookupModel);
  if (e.type === 'started') {
    m = { ...m, kind: e.kind, target: e.target, self: e.self, startedAt: e.at, params: { k: e.k, alpha: e.alpha, rpcTimeoutMs: e.rpcTimeoutMs } };
  }
  if (e.type === 'done') {
    m = {
      ...m,
      done: { reason: e.reason, closest: e.closest, hops: e.hops, messages: e.messages, durationMs: e.durationMs, timeToClosestMs: e.timeToClosestMs },
    };
  }
  if (m.events.length >= MAX_EVENTS_PER_LOOKUP) return m.truncated ? m : { ...m, truncated: true };
  return { ...m, events: [...m.events, stripEvent(e, m.startedAt)] };
}

export function modelFromTrace(t: Trace): LookupModel {
  const s = t.summary;
  return {
    id: t.id,
    kind: t.kind,
    target: t.target,
    self: t.self,
    startedAt: t.startedAt,
    params: t.params,
    events: t.events,
    done:
      s.reason === null
        ? null
        : { reason: s.reason, closest: s.closest, hops: s.hops ?? 0, messages: s.messages, durationMs: s.durationMs ?? 0, timeToClosestMs: s.timeToClosestMs },
    truncated: false,
    origin: t.origin === 'imported' ? 'imported' : 'stored',
  };
}

// ---------------------------------------------------------------------------------------------
// Waterfall: one row per RPC, like a browser's network panel.

export type RpcOutcome = 'pending' | 'response' | 'timeout' | 'error';

export interface WaterfallRow {
  /** Stable key: peer id and the how-many-th query to it. */
  key: string;
  peer: Contact;
  hop: number;
  /** ms since the lookup started. */
  start: number;
  /** null while pending. */
  end: number | null;
  outcome: RpcOutcome;
  rttMs: number | null;
  bytesOut: number;
  bytesIn: number | null;
  /** Contacts the answer returned. */
  returned: Contact[];
  hasValue: boolean;
  message: string | null;
}

export interface Waterfall {
  rows: WaterfallRow[];
  /** Extent of the time axis, ms. */
  spanMs: number;
  /** Offset of 'done', if seen. */
  doneAt: number | null;
}

/**
 * Pairs each query with the next answer, timeout or error from the same peer (FIFO per peer), in the
 * order queries were sent. `now` (ms since start) closes pending rows' bars for drawing.
 */
export function buildWaterfall(events: readonly TraceEvent[], now?: number): Waterfall {
  const rows: WaterfallRow[] = [];
  const open = new Map<string, WaterfallRow[]>();
  const sent = new Map<string, number>();
  let last = 0;
  let doneAt: number | null = null;
  for (const e of events) {
    last = Math.max(last, e.t);
    if (e.type === 'done') {
      doneAt = e.t;
      continue;
    }
    if (e.type === 'started') continue;
    const pid = e.peer.id;
    if (e.type === 'query') {
      const n = (sent.get(pid) ?? 0) + 1;
      sent.set(pid, n);
      const row: WaterfallRow = {
        key: `${pid}#${n}`,
        peer: e.peer,
        hop: e.hop,
        start: e.t,
        end: null,
        outcome: 'pending',
        rttMs: null,
        bytesOut: e.bytes,
        bytesIn: null,
        returned: [],
        hasValue: false,
        message: null,
      };
      rows.push(row);
      const q = open.get(pid);
      if (q) q.push(row);
      else open.set(pid, [row]);
      continue;
    }
    const row = open.get(pid)?.shift();
    if (!row) continue; // an answer without its query (truncated trace): nothing to pair it with
    row.end = e.t;
    if (e.type === 'response') {
      row.outcome = 'response';
      row.rttMs = e.rttMs;
      row.bytesIn = e.bytes;
      row.returned = e.nodes;
      row.hasValue = e.hasValue === true;
    } else if (e.type === 'timeout') {
      row.outcome = 'timeout';
      row.message = `no answer after ${Math.round(e.afterMs)} ms`;
    } else {
      row.outcome = 'error';
      row.message = `${e.code}: ${e.message}`;
    }
  }
  const end = doneAt ?? Math.max(last, now ?? 0);
  return { rows, spanMs: Math.max(end, 1), doneAt };
}

// ---------------------------------------------------------------------------------------------
// Graph overlay: what a lookup did to each peer, for highlighting.

export type PeerLookupState = 'queried' | 'answered' | 'timeout' | 'error';

export interface LookupOverlay {
  lookupId: string;
  target: string;
  running: boolean;
  peers: Map<string, PeerLookupState>;
  /**
   * Edges from answers. 'path': the answer that first told us of a node we then queried (the route
   * the lookup took); 'answer': other returned nodes closer to the target than the responder (where
   * the answer pointed). Returned nodes farther than the responder are left out: they are noise.
   */
  edges: OverlayEdge[];
  /** Contacts seen in the lookup (answers, seeds), by id, so nodes not in our table can be drawn. */
  contacts: Map<string, Contact>;
  /** The final closest set, when done. */
  closest: Set<string>;
}

/** Answer edges drawn per lookup at most (k × a few dozen answers is typical). */
export const MAX_OVERLAY_EDGES = 1500;

export interface OverlayEdge {
  from: string;
  to: string;
  kind: 'path' | 'answer';
}

export function buildOverlay(m: LookupModel): LookupOverlay {
  const peers = new Map<string, PeerLookupState>();
  const contacts = new Map<string, Contact>();
  /** Who first returned each node (seeds come from us and have no entry). */
  const referrer = new Map<string, string>();
  const answerEdges = new Map<string, OverlayEdge>();
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
      for (const c of e.nodes) {
        if (c.id === e.peer.id || c.id === m.self) continue;
        if (!contacts.has(c.id)) {
          contacts.set(c.id, c);
          referrer.set(c.id, e.peer.id);
        }
        const key = `${e.peer.id}>${c.id}`;
        if (m.target !== '' && answerEdges.size < MAX_OVERLAY_EDGES && closerTo(m.target, c.id, e.peer.id)) answerEdges.set(key, { from: e.peer.id, to: c.id, kind: 'answer' });
      }
    } else if (e.type === 'timeout') {
      if (peers.get(e.peer.id) !== 'answered') peers.set(e.peer.id, 'timeout');
    } else if (e.type === 'error') {
      if (peers.get(e.peer.id) !== 'answered') peers.set(e.peer.id, 'error');
    }
  }
  // A path edge replaces the answer edge between the same two nodes.
  for (const id of peers.keys()) {
    const from = referrer.get(id);
    if (from) answerEdges.set(`${from}>${id}`, { from, to: id, kind: 'path' });
  }
  return {
    lookupId: m.id,
    target: m.target,
    running: m.done === null,
    peers,
    edges: [...answerEdges.values()],
    contacts,
    closest: new Set((m.done?.closest ?? []).map((c) => c.id)),
  };
}
