// Keeps the last MAX_TRACES lookups of the user's node as traces, for the Traces view to list, save,
// replay and compare. Fed the same LookupEvent stream the UI sees (every lookup the node makes: find
// node, find value, and those inside put, get, announce and lookupPeers); bounded in traces and in
// events per trace. Traces are built by trace-build.ts, which the CLI's --trace uses too.
//
// Most traces are never opened, so an event is turned into the trace's form (toTraceEvent) only when
// its trace is asked for. Until then it is not kept as an object either: the last 500 lookups' events
// (~40 objects and 20 referral lists a lookup) all survived into the old generation, and the
// collector's copying and marking of them was the largest part of what the explorer cost the node
// (README, the explorer's cost: same-run A/B, this recorder against keeping the objects). A trace
// keeps its events on a tape of bytes outside V8's heap, each contact it names once in a list of
// its own and by index on the tape; the few events with strings ('error', 'done') stay objects.
import { MAX_TRACES, type Contact, type LookupEvent, type Trace, type TraceListItem } from './contract';
import { countTraceEvent, startTrace, toTraceEvent } from './trace-build';
import { MAX_TRACE_EVENTS } from './trace-format';

/** Tape codes: the first byte of each event on a tape. */
const QUERY = 0;
const RESPONSE = 1;
const TIMEOUT = 2;
const OBJECT = 3;
/** A response's hasValue byte when the event has none. */
const ABSENT = 2;
/** A new tape's bytes: about one find-node lookup of 20 queries and 20 answers of 20 contacts. */
const FIRST_TAPE_BYTES = 4096;

/**
 * A trace, and its events received since it was last asked for (not yet in trace.events), on a tape
 * of bytes (little-endian; a contact is its index in `contacts`, u32):
 * - query:    QUERY, at f64, peer, hop u32, bytes u32
 * - response: RESPONSE, at f64, peer, hop u32, rttMs f64, bytes u32, hasValue (0, 1, ABSENT),
 *             peerCount + 1 u32 (0: absent), n u32, n contacts
 * - timeout:  TIMEOUT, at f64, peer, hop u32, afterMs f64
 * - OBJECT, u32 index in `objects`: 'error' and 'done', and any event with a number the layout
 *   cannot hold exactly (a hop, byte count or peer count that is not an unsigned 32-bit integer).
 */
interface Held {
  trace: Trace;
  tape: DataView | null;
  /** Bytes used on the tape. */
  used: number;
  /** Events on the tape. */
  pending: number;
  objects: LookupEvent[];
  /** Every contact the tape names, each object once (equal contacts that are separate objects stay separate). */
  contacts: Contact[];
  /** contacts' indexes; dropped when the lookup is done (no event names a contact after 'done'). */
  index: Map<Contact, number> | null;
}

/** A trace's holder: `live` for a lookup still running (its contacts are indexed until 'done'). */
function held(trace: Trace, live: boolean): Held {
  return { trace, tape: null, used: 0, pending: 0, objects: [], contacts: [], index: live ? new Map() : null };
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
      this.insert(held(startTrace(e), true));
      return;
    }
    const h = this.traces.get(e.lookupId);
    if (!h) return; // started before we listened, or already evicted
    if (countTraceEvent(h.trace, e, h.trace.events.length + h.pending, this.maxEvents)) record(h, e);
    if (e.type === 'done') h.index = null;
  }

  /** Newest first. */
  list(): TraceListItem[] {
    const out: TraceListItem[] = [];
    for (const h of this.traces.values()) out.push(listItem(h.trace));
    return out.reverse();
  }

  /** The trace with every event received so far (a live trace goes on growing after). */
  get(id: string): Trace | undefined {
    const h = this.traces.get(id);
    if (!h) return undefined;
    if (h.pending > 0) replay(h, (e) => h.trace.events.push(toTraceEvent(e, h.trace.startedAt)));
    if (h.index === null) h.tape = null; // done and all converted: nothing more comes
    return h.trace;
  }

  /** Adds a validated trace from a file; an id already present is replaced. */
  import(trace: Trace): TraceListItem {
    const copy: Trace = { ...trace, origin: 'imported' };
    this.traces.delete(copy.id);
    this.insert(held(copy, false));
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

/** The contact's index in the trace's list, added when new. */
function contactIndex(h: Held, c: Contact): number {
  const index = h.index;
  if (index === null) {
    // An event after 'done' (not from a well-behaved lookup): the list is searched, not indexed.
    const at = h.contacts.indexOf(c);
    if (at >= 0) return at;
    h.contacts.push(c);
    return h.contacts.length - 1;
  }
  const at = index.get(c);
  if (at !== undefined) return at;
  const n = h.contacts.length;
  h.contacts.push(c);
  index.set(c, n);
  return n;
}

const isU32 = (x: number): boolean => x >>> 0 === x;

/** The tape with room for `bytes` more, grown (doubled) when short. */
function room(h: Held, bytes: number): DataView {
  const tape = h.tape;
  const need = h.used + bytes;
  if (tape !== null && need <= tape.byteLength) return tape;
  const size = Math.max(need, tape === null ? FIRST_TAPE_BYTES : tape.byteLength * 2);
  const grown = new DataView(new ArrayBuffer(size));
  if (tape !== null) new Uint8Array(grown.buffer).set(new Uint8Array(tape.buffer, 0, h.used));
  h.tape = grown;
  return grown;
}

/** Bytes of the head every query, response and timeout starts with: code, at, peer, hop. */
const HEAD = 17;

/** Writes an event's head at `at` on the tape. */
function writeHead(h: Held, tape: DataView, at: number, code: number, e: { at: number; peer: Contact; hop: number }): void {
  tape.setUint8(at, code);
  tape.setFloat64(at + 1, e.at, true);
  tape.setUint32(at + 9, contactIndex(h, e.peer), true);
  tape.setUint32(at + 13, e.hop, true);
}

/** Puts a kept event on the trace's tape. */
function record(h: Held, e: LookupEvent): void {
  h.pending++;
  let at = h.used;
  switch (e.type) {
    case 'query': {
      if (!isU32(e.hop) || !isU32(e.bytes)) break;
      const tape = room(h, HEAD + 4);
      writeHead(h, tape, at, QUERY, e);
      tape.setUint32(at + HEAD, e.bytes, true);
      h.used = at + HEAD + 4;
      return;
    }
    case 'response': {
      const count = e.peerCount;
      if (!isU32(e.hop) || !isU32(e.bytes) || (count !== undefined && !(isU32(count) && count < 0xffffffff))) break;
      const peerCount = count === undefined ? 0 : count + 1;
      const nodes = e.nodes;
      const n = nodes.length;
      const tape = room(h, 38 + 4 * n);
      writeHead(h, tape, at, RESPONSE, e);
      tape.setFloat64(at + HEAD, e.rttMs, true);
      tape.setUint32(at + 25, e.bytes, true);
      tape.setUint8(at + 29, e.hasValue === undefined ? ABSENT : e.hasValue ? 1 : 0);
      tape.setUint32(at + 30, peerCount, true);
      tape.setUint32(at + 34, n, true);
      at += 38;
      for (let i = 0; i < n; i++, at += 4) tape.setUint32(at, contactIndex(h, nodes[i]), true);
      h.used = at;
      return;
    }
    case 'timeout': {
      if (!isU32(e.hop)) break;
      const tape = room(h, HEAD + 8);
      writeHead(h, tape, at, TIMEOUT, e);
      tape.setFloat64(at + HEAD, e.afterMs, true);
      h.used = at + HEAD + 8;
      return;
    }
  }
  const tape = room(h, 5);
  tape.setUint8(at, OBJECT);
  tape.setUint32(at + 1, h.objects.length, true);
  h.objects.push(e);
  h.used = at + 5;
}

/** Gives the tape's events back as the node published them, in order, and empties the tape. */
function replay(h: Held, out: (e: LookupEvent) => void): void {
  const { tape, used, contacts, objects } = h;
  const lookupId = h.trace.id;
  let i = 0;
  while (tape !== null && i < used) {
    const code = tape.getUint8(i);
    if (code === OBJECT) {
      out(objects[tape.getUint32(i + 1, true)]);
      i += 5;
      continue;
    }
    const at = tape.getFloat64(i + 1, true);
    const peer = contacts[tape.getUint32(i + 9, true)];
    const hop = tape.getUint32(i + 13, true);
    if (code === QUERY) {
      out({ type: 'query', lookupId, at, peer, hop, bytes: tape.getUint32(i + HEAD, true) });
      i += HEAD + 4;
    } else if (code === TIMEOUT) {
      out({ type: 'timeout', lookupId, at, peer, hop, afterMs: tape.getFloat64(i + HEAD, true) });
      i += HEAD + 8;
    } else {
      const n = tape.getUint32(i + 34, true);
      const nodes = new Array<Contact>(n);
      for (let j = 0; j < n; j++) nodes[j] = contacts[tape.getUint32(i + 38 + 4 * j, true)];
      const e: Extract<LookupEvent, { type: 'response' }> = {
        type: 'response',
        lookupId,
        at,
        peer,
        hop,
        rttMs: tape.getFloat64(i + HEAD, true),
        bytes: tape.getUint32(i + 25, true),
        nodes,
      };
      const hasValue = tape.getUint8(i + 29);
      if (hasValue !== ABSENT) e.hasValue = hasValue === 1;
      const peerCount = tape.getUint32(i + 30, true);
      if (peerCount !== 0) e.peerCount = peerCount - 1;
      out(e);
      i += 38 + 4 * n;
    }
  }
  h.used = 0;
  h.pending = 0;
  h.objects = [];
}

function listItem(t: Trace): TraceListItem {
  return { id: t.id, startedAt: t.startedAt, target: t.target, kind: t.kind, origin: t.origin, done: t.summary.reason !== null, summary: { ...t.summary } };
}
