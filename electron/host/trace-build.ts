// From a lookup's LookupEvent stream to a `kadtrace` Trace: the one builder behind the service's
// recorder (the app) and `kadscope lookup --trace` (the CLI), so both write the same file. Pure and
// Node-free; bounded in events per trace.
import { TRACE_FORMAT, TRACE_VERSION, type Contact, type LookupEvent, type Trace, type TraceEvent, type TraceSummary } from './contract';
import { MAX_TRACE_EVENTS } from './trace-format';

export type StartedEvent = Extract<LookupEvent, { type: 'started' }>;

export function emptySummary(): TraceSummary {
  return { reason: null, durationMs: null, hops: null, messages: 0, timeToClosestMs: null, closest: [], responses: 0, timeouts: 0, errors: 0 };
}

/** A LookupEvent as the trace keeps it: without its lookup id, timed from the lookup's start. */
export function toTraceEvent(e: LookupEvent, startedAt: number): TraceEvent {
  const { lookupId: _id, at, ...rest } = e;
  // t first: a saved event reads "at 12 ms, a query to …".
  return { t: Math.max(0, at - startedAt), ...rest } as TraceEvent;
}

/** A new, live trace from a lookup's 'started' event (which it holds as its first event). */
export function startTrace(e: StartedEvent): Trace {
  const params: Trace['params'] = { k: e.k, alpha: e.alpha, rpcTimeoutMs: e.rpcTimeoutMs };
  if (e.lookupTimeoutMs !== undefined) params.lookupTimeoutMs = e.lookupTimeoutMs;
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
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
  if (e.type === 'started') return; // a lookup starts once; a second start is not this trace's
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
  if (trace.events.length < maxEvents || e.type === 'done') trace.events.push(toTraceEvent(e, trace.startedAt));
  else trace.truncated = true;
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
  peer: Contact;
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
}

/**
 * The trace's RPCs in the order they were sent. Each query pairs with the next answer, timeout or
 * error from the same peer (first in, first out: a peer asked twice answers in order).
 */
export function traceRpcs(events: readonly TraceEvent[]): TraceRpc[] {
  const rpcs: TraceRpc[] = [];
  const open = new Map<string, TraceRpc[]>();
  for (const e of events) {
    if (e.type === 'started' || e.type === 'done') continue;
    if (e.type === 'query') {
      const rpc: TraceRpc = { peer: e.peer, hop: e.hop, start: e.t, end: null, outcome: 'pending', rttMs: null, bytesOut: e.bytes, bytesIn: null, returned: [], hasValue: false, error: null };
      rpcs.push(rpc);
      const q = open.get(e.peer.id);
      if (q) q.push(rpc);
      else open.set(e.peer.id, [rpc]);
      continue;
    }
    const rpc = open.get(e.peer.id)?.shift();
    if (!rpc) continue; // its query was cut from a truncated trace
    rpc.end = e.t;
    if (e.type === 'response') {
      rpc.outcome = 'response';
      rpc.rttMs = e.rttMs;
      rpc.bytesIn = e.bytes;
      rpc.returned = e.nodes;
      rpc.hasValue = e.hasValue === true;
    } else if (e.type === 'timeout') {
      rpc.outcome = 'timeout';
    } else {
      rpc.outcome = 'error';
      rpc.error = `${e.code}: ${e.message}`;
    }
  }
  return rpcs;
}
