// Keeps the last MAX_TRACES lookups of the user's node as traces (issue 6 builds save, open, replay
// and compare on top). Fed the same LookupEvent stream the UI sees; bounded in traces and in events
// per trace.
import { MAX_TRACES, TRACE_FORMAT, TRACE_VERSION, type LookupEvent, type Trace, type TraceEvent, type TraceListItem, type TraceSummary } from './contract';
import { MAX_TRACE_EVENTS } from './trace-format';

export interface TraceRecorderOptions {
  maxTraces?: number;
  maxEventsPerTrace?: number;
}

export class TraceRecorder {
  private readonly traces = new Map<string, Trace>();
  private readonly maxTraces: number;
  private readonly maxEvents: number;

  constructor(options: TraceRecorderOptions = {}) {
    this.maxTraces = options.maxTraces ?? MAX_TRACES;
    this.maxEvents = options.maxEventsPerTrace ?? MAX_TRACE_EVENTS;
  }

  get size(): number {
    return this.traces.size;
  }

  ingest(e: LookupEvent): void {
    if (e.type === 'started') {
      this.insert({
        format: TRACE_FORMAT,
        version: TRACE_VERSION,
        id: e.lookupId,
        startedAt: e.at,
        self: e.self,
        target: e.target,
        kind: e.kind,
        params: { k: e.k, alpha: e.alpha, rpcTimeoutMs: e.rpcTimeoutMs },
        events: [toTraceEvent(e, e.at)],
        summary: emptySummary(),
        origin: 'live',
        truncated: false,
      });
      return;
    }
    const trace = this.traces.get(e.lookupId);
    if (!trace) return; // started before we listened, or already evicted
    const s = trace.summary;
    if (e.type === 'query') s.messages++;
    else if (e.type === 'response') s.responses++;
    else if (e.type === 'timeout') s.timeouts++;
    else if (e.type === 'error') s.errors++;
    else if (e.type === 'done') {
      s.reason = e.reason;
      s.durationMs = e.durationMs;
      s.hops = e.hops;
      s.messages = e.messages;
      s.timeToClosestMs = e.timeToClosestMs;
      s.closest = e.closest;
    }
    // Keep 'done' even past the cap: it carries the outcome the summary is built from.
    if (trace.events.length < this.maxEvents || e.type === 'done') trace.events.push(toTraceEvent(e, trace.startedAt));
    else trace.truncated = true;
  }

  /** Newest first. */
  list(): TraceListItem[] {
    const out: TraceListItem[] = [];
    for (const t of this.traces.values()) {
      out.push({ id: t.id, startedAt: t.startedAt, target: t.target, kind: t.kind, origin: t.origin, done: t.summary.reason !== null, summary: { ...t.summary } });
    }
    return out.reverse();
  }

  get(id: string): Trace | undefined {
    return this.traces.get(id);
  }

  /** Adds a validated trace from a file; an id already present is replaced. */
  import(trace: Trace): TraceListItem {
    const copy: Trace = { ...trace, origin: 'imported' };
    this.traces.delete(copy.id);
    this.insert(copy);
    return this.list()[0];
  }

  clear(): void {
    this.traces.clear();
  }

  private insert(t: Trace): void {
    this.traces.set(t.id, t);
    while (this.traces.size > this.maxTraces) {
      const oldest = this.traces.keys().next().value as string;
      this.traces.delete(oldest);
    }
  }
}

function emptySummary(): TraceSummary {
  return { reason: null, durationMs: null, hops: null, messages: 0, timeToClosestMs: null, closest: [], responses: 0, timeouts: 0, errors: 0 };
}

function toTraceEvent(e: LookupEvent, startedAt: number): TraceEvent {
  const { lookupId: _id, at, ...rest } = e;
  return { ...rest, t: Math.max(0, at - startedAt) } as TraceEvent;
}
