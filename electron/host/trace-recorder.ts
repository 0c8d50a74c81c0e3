// Keeps the last MAX_TRACES lookups of the user's node as traces, for the Traces view to list, save,
// replay and compare. Fed the same LookupEvent stream the UI sees (every lookup the node makes: find
// node, find value, and those inside put, get, announce and lookupPeers); bounded in traces and in
// events per trace. Traces are built by trace-build.ts, which the CLI's --trace uses too.
//
// Most traces are never opened, so an event is kept as the node published it and turned into the
// trace's form (toTraceEvent) only when its trace is asked for: at 20 lookups a second that is
// ~800 copies a second not made, and less for the garbage collector to move.
import { MAX_TRACES, type LookupEvent, type Trace, type TraceListItem } from './contract';
import { countTraceEvent, startTrace, toTraceEvent } from './trace-build';
import { MAX_TRACE_EVENTS } from './trace-format';

/** A trace, and its events received since it was last asked for (not yet in trace.events). */
interface Held {
  trace: Trace;
  pending: LookupEvent[];
}

export interface TraceRecorderOptions {
  maxTraces?: number;
  maxEventsPerTrace?: number;
}

export class TraceRecorder {
  private readonly traces = new Map<string, Held>();
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
      this.insert({ trace: startTrace(e), pending: [] });
      return;
    }
    const held = this.traces.get(e.lookupId);
    if (!held) return; // started before we listened, or already evicted
    if (countTraceEvent(held.trace, e, held.trace.events.length + held.pending.length, this.maxEvents)) held.pending.push(e);
  }

  /** Newest first. */
  list(): TraceListItem[] {
    const out: TraceListItem[] = [];
    for (const h of this.traces.values()) out.push(listItem(h.trace));
    return out.reverse();
  }

  /** The trace with every event received so far (a live trace goes on growing after). */
  get(id: string): Trace | undefined {
    const held = this.traces.get(id);
    if (!held) return undefined;
    const { trace, pending } = held;
    if (pending.length > 0) {
      for (const e of pending) trace.events.push(toTraceEvent(e, trace.startedAt));
      held.pending = [];
    }
    return trace;
  }

  /** Adds a validated trace from a file; an id already present is replaced. */
  import(trace: Trace): TraceListItem {
    const copy: Trace = { ...trace, origin: 'imported' };
    this.traces.delete(copy.id);
    this.insert({ trace: copy, pending: [] });
    return listItem(copy);
  }

  clear(): void {
    this.traces.clear();
  }

  private insert(t: Held): void {
    this.traces.set(t.trace.id, t);
    while (this.traces.size > this.maxTraces) {
      const oldest = this.traces.keys().next().value as string;
      this.traces.delete(oldest);
    }
  }
}

function listItem(t: Trace): TraceListItem {
  return { id: t.id, startedAt: t.startedAt, target: t.target, kind: t.kind, origin: t.origin, done: t.summary.reason !== null, summary: { ...t.summary } };
}
