// Keeps the last MAX_TRACES lookups of the user's node as traces, for the Traces view to list, save,
// replay and compare. Fed the same LookupEvent stream the UI sees (every lookup the node makes: find
// node, find value, and those inside put, get, announce and lookupPeers); bounded in traces and in
// events per trace. Traces are built by trace-build.ts, which the CLI's --trace uses too.
import { MAX_TRACES, type LookupEvent, type Trace, type TraceListItem } from './contract';
import { appendTraceEvent, startTrace } from './trace-build';
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
      this.insert(startTrace(e));
      return;
    }
    const trace = this.traces.get(e.lookupId);
    if (!trace) return; // started before we listened, or already evicted
    appendTraceEvent(trace, e, this.maxEvents);
  }

  /** Newest first. */
  list(): TraceListItem[] {
    const out: TraceListItem[] = [];
    for (const t of this.traces.values()) out.push(listItem(t));
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
    return listItem(copy);
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

function listItem(t: Trace): TraceListItem {
  return { id: t.id, startedAt: t.startedAt, target: t.target, kind: t.kind, origin: t.origin, done: t.summary.reason !== null, summary: { ...t.summary } };
}
