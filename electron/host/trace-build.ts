// From a lookup's LookupEvent stream to a `kadtrace` Trace: the one builder behind the service's
// recorder (the app) and `kadscope lookup --trace` (the CLI), so both write the same file. Pure and
// Node-free; bounded in events per trace.
import { TRACE_FORMAT, TRACE_VERSION, type Contact, type LookupEvent, type Trace, type TraceEvent, type TraceSummary } from './contract';
import { MAX_TRACE_EVENTS } from './trace-format';

export type StartedEvent = Extract<LookupEvent, { type: 'started' }>;

export function emptySummary(): TraceSummary {
  return { reason: null, durationMs: null, hops: null, messages: 0, timeToClosestMs: null, closest: [], responses: 0, timeouts: 0, errors: 0 };
}

/**
 * A LookupEvent as the trace keeps it: without its lookup id, timed from the lookup's start, t first
 * (a saved event reads "at 12 ms, a query to …"), the other fields in the event's order, optional
 * ones only when the event has them. One literal per type: a rest-and-spread copy took V8's slow
 * path (~1 us an event; a fifth of the time in the explorer's own functions at 20 lookups/s).
 */
export function toTraceEvent(e: LookupEvent, startedAt: number): TraceEvent {
  const t = Math.max(0, e.at - startedAt);
  switch (e.type) {
    case 'started': {
      const { kind, target, self, k, alpha, rpcTimeoutMs, lookupTimeoutMs, seeds } = e;
      const s: Extract<TraceEvent, { type: 'started' }> =
        lookupTimeoutMs !== undefined
          ? { t, type: 'started', kind, target, self, k, alpha, rpcTimeoutMs, lookupTimeoutMs, seeds }
          : { t, type: 'started', kind, target, self, k, alpha, rpcTimeoutMs, seeds };
      if (e.protocol !== undefined) s.protocol = e.protocol;
      if (e.width !== undefined) s.width = e.width;
      return s;
    }
    case 'query':
      return { t, type: 'query', peer: e.peer, hop: e.hop, bytes: e.bytes };
    case 'response': {
      const r: Extract<TraceEvent, { type: 'response' }> = { t, type: 'response', peer: e.peer, hop: e.hop, rttMs: e.rttMs, bytes: e.bytes, nodes: e.nodes };
      if (e.hasValue !== undefined) r.hasValue = e.hasValue;
      if (e.peerCount !== undefined) r.peerCount = e.peerCount;
      return r;
    }
    case 'timeout':
      return { t, type: 'timeout', peer: e.peer, hop: e.hop, afterMs: e.afterMs };
    case 'error':
      return { t, type: 'error', peer: e.peer, hop: e.hop, code: e.code, message: e.message };
    case 'done':
      return { t, type: 'done', reason: e.reason, closest: e.closest, hops: e.hops, messages: e.messages, durationMs: e.durationMs, timeToClosestMs: e.timeToClosestMs };
  }
}

/** A new, live trace from a lookup's 'started' event (which it holds as its first event). */
export function startTrace(e: StartedEvent): Trace {
  const params: Trace['params'] = { k: e.k, alpha: e.alpha, rpcTimeoutMs: e.rpcTimeoutMs };
  if (e.lookupTimeoutMs !== undefined) params.lookupTimeoutMs = e.lookupTimeoutMs;
  if (e.width !== undefined) params.width = e.width;
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    protocol: e.protocol ?? 'kadscope',
    id: e.lookupId,
    startedAt: e.at,
    self: e.self,
    target: e.target,
    kind: e.kind,
    params,
    events: [toTraceEvent(e, e.at)],
    summary: emptySummary(),
    origin: 'live',
    truncated: false,
  };
}

/**
 * Adds one later event of the trace's lookup: counts it in the summary and keeps it while the trace
 * has fewer than `maxEvents` events. 'done' is kept even past the cap: it carries the outcome.
 */
export function appendTraceEvent(trace: Trace, e: LookupEvent, maxEvents = MAX_TRACE_EVENTS): void {
  if (countTraceEvent(trace, e, trace.events.length, maxEvents)) trace.events.push(toTraceEvent(e, trace.startedAt));
}

/**
 * appendTraceEvent's bookkeeping without the event itself: counts `e` in the trace's summary and
 * says whether the trace keeps it, given that it holds `held` events (counted, when the caller
 * holds some not yet converted, as the service's recorder does). False past the cap, which marks
 * the trace truncated; false for a second 'started'.
 */
export function countTraceEvent(trace: Trace, e: LookupEvent, held: number, maxEvents = MAX_TRACE_EVENTS): boolean {
  if (e.type === 'started') return false; // a lookup starts once; a second start is not this trace's
  const s = trace.summary;
  if (e.type === 'query') s.messages++;
  else if (e.type === 'response') s.responses++;
  else if (e.type === 'timeout') s.timeouts++;
  else if (e.type === 'error') s.errors++;
  else {
    s.reason = e.reason;
    s.durationMs = e.durationMs;
    s.hops = e.hops;
    s.messages = e.messages;
    s.timeToClosestMs = e.timeToClosestMs;
    s.closest = e.closest;
  }
  if (held < maxEvents || e.type === 'done') return true;
  trace.truncated = true;
  return false;
}

/** Builds the trace of one lookup from its events as they stream (the CLI's `--trace`). */
export class TraceBuilder {
  private current: Trace | null = null;
  private readonly maxEvents: number;

  constructor(options: { maxEvents?: number } = {}) {
    this.maxEvents = options.maxEvents ?? MAX_TRACE_EVENTS;
  }

  /** Events before 'started' and events of other lookups are ignored. */
  ingest(e: LookupEvent): void {
    if (e.type === 'started') {
      if (this.current === null) this.current = startTrace(e);
      return;
    }
    if (this.current !== null && e.lookupId === this.current.id) appendTraceEvent(this.current, e, this.maxEvents);
  }

  /** The trace so far; null before the lookup's 'started' event. */
  get trace(): Trace | null {
    return this.current;
  }
}

/** One RPC of a trace: a query paired with its answer, timeout or error. */
export interface TraceRpc {
  /** Stable key: the peer's id and the how-many-th query to it ("<id>#2"). */
  key: string;
  peer: Contact;
  /** The lookup's round that asked this peer: 1 for the seeds, n + 1 for a node an answer of round n named. */
  hop: number;
  /** ms since the lookup started. */
  start: number;
  /** null: no answer in the trace (it ends first, or events were cut). */
  end: number | null;
  outcome: 'response' | 'timeout' | 'error' | 'pending';
  rttMs: number | null;
  bytesOut: number;
  bytesIn: number | null;
  /** Nodes the answer returned. */
  returned: Contact[];
  hasValue: boolean;
  /** For errors: "CODE: message". */
  error: string | null;
  /** What a timeout or an error says in words ("no answer after 2000 ms", "CODE: message"); null otherwise. */
  message: string | null;
}

/**
 * The trace's RPCs in the order they were sent: the one pairing of queries and answers, used by the
 * app's waterfall and replay, `kadscope trace show` and compare. Each query pairs with the next
 * answer, timeout or error from the same peer (first in, first out: a peer asked twice answers in
 * order); an answer whose query was cut from a truncated trace is left out.
 */
export function traceRpcs(events: readonly TraceEvent[]): TraceRpc[] {
  const rpcs: TraceRpc[] = [];
  const open = new Map<string, TraceRpc[]>();
  const sent = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'started' || e.type === 'done') continue;
    const pid = e.peer.id;
    if (e.type === 'query') {
      const n = (sent.get(pid) ?? 0) + 1;
      sent.set(pid, n);
      const rpc: TraceRpc = { key: `${pid}#${n}`, peer: e.peer, hop: e.hop, start: e.t, end: null, outcome: 'pending', rttMs: null, bytesOut: e.bytes, bytesIn: null, returned: [], hasValue: false, error: null, message: null };
      rpcs.push(rpc);
      const q = open.get(pid);
      if (q) q.push(rpc);
      else open.set(pid, [rpc]);
      continue;
    }
    const rpc = open.get(pid)?.shift();
    if (!rpc) continue;
    rpc.end = e.t;
    if (e.type === 'response') {
      rpc.outcome = 'response';
      rpc.rttMs = e.rttMs;
      rpc.bytesIn = e.bytes;
      rpc.returned = e.nodes;
      rpc.hasValue = e.hasValue === true;
    } else if (e.type === 'timeout') {
      rpc.outcome = 'timeout';
      rpc.message = `no answer after ${Math.round(e.afterMs)} ms`;
    } else {
      rpc.outcome = 'error';
      rpc.error = `${e.code}: ${e.message}`;
      rpc.message = rpc.error;
    }
  }
  return rpcs;
}

/** One arrow of a lookup's route: who led it to a peer, and in which round that peer was asked. */
export interface RouteStep {
  /** The node whose answer named `to` (the lookup's origin, `self`, for its seeds). */
  from: string;
  to: string;
  /** The round that asked `to`: 1 for the seeds, n + 1 for a node an answer of round n named. */
  round: number;
}

/**
 * The route a lookup took: one step per peer it asked, in the order it asked them, from the node
 * that named that peer. When several answers named the same peer before it was asked, the one of the
 * earliest round is its referrer (the round the lookup gives the peer comes from that answer).
 */
export function traceRoute(trace: Pick<Trace, 'self' | 'events'>): RouteStep[] {
  const namedBy = new Map<string, { from: string; round: number }>();
  const steps: RouteStep[] = [];
  const asked = new Set<string>();
  for (const e of trace.events) {
    if (e.type === 'started') {
      for (const c of e.seeds) namedBy.set(c.id, { from: trace.self, round: 0 });
    } else if (e.type === 'response') {
      for (const c of e.nodes) {
        if (c.id === trace.self || c.id === e.peer.id || asked.has(c.id)) continue;
        const prev = namedBy.get(c.id);
        if (!prev || e.hop < prev.round) namedBy.set(c.id, { from: e.peer.id, round: e.hop });
      }
    } else if (e.type === 'query' && !asked.has(e.peer.id)) {
      asked.add(e.peer.id);
      steps.push({ from: namedBy.get(e.peer.id)?.from ?? trace.self, to: e.peer.id, round: e.hop });
    }
  }
  return steps;
}
