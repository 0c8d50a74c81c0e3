// The kadtrace file format: what a recorded trace holds (from a real lookup on the simulated network
// under fake time), that record -> save -> load gives the identical trace, and that the schema rejects
// each kind of corruption with a message naming the field. (contract.test.ts covers the recorder's
// bounds and the service path.)
import { afterEach, describe, expect, it } from 'vitest';
import { LOOKUP_TIMEOUT_MS } from '../../core/lookup/lookup';
import type { LookupEvent } from '../../core/types';
import { MAX_TRACE_JSON_CHARS, TRACE_VERSION, type Trace } from '../../electron/host/contract';
import { TraceBuilder, appendTraceEvent, startTrace } from '../../electron/host/trace-build';
import { MAX_TRACE_EVENTS, TRACE_FILE_SUFFIX, parseTrace, serializeTrace, traceFileName } from '../../electron/host/trace-format';
import { TraceRecorder } from '../../electron/host/trace-recorder';
import { LATENCY_MS, RTT_MS, Topology, hid, ofType } from './topology';

const RPC_TIMEOUT_MS = 2_000;
// Target 0xf0…: B (0x8…) is a seed, C (0xc…) and D (0xe…) are closer and only B knows them; D is
// stopped, so asking it times out; E (0xf…) is the nearest and only C knows it.
const T = hid('f0');
const IDS = { A: hid('00'), B: hid('80'), C: hid('c0'), D: hid('e0'), E: hid('f8') };
const KNOWS = { A: ['B'], B: ['C', 'D'], C: ['E'] };

let topo: Topology | null = null;
afterEach(async () => {
  await topo?.destroy();
  topo = null;
});

/** One real lookup from A, with a timeout in it; its events and its trace built from them. */
async function recorded(): Promise<{ t: Topology; events: LookupEvent[]; trace: Trace }> {
  topo = await Topology.create({ ids: IDS, knows: KNOWS, node: { k: 4, alpha: 2, rpcTimeoutMs: RPC_TIMEOUT_MS } });
  await topo.node('D').stop();
  const events = await topo.collect('A', T);
  const b = new TraceBuilder();
  for (const e of events) b.ingest(e);
  return { t: topo, events, trace: b.trace! };
}

describe('a recorded trace', () => {
  it('holds our id, the target, the parameters, every event timed from the start, and the outcome', async () => {
    const { t, events, trace } = await recorded();
    const started = events[0];
    expect(trace).toMatchObject({ format: 'kadtrace', version: TRACE_VERSION, id: started.lookupId, startedAt: started.at, self: t.id('A'), target: T, kind: 'find-node', origin: 'live', truncated: false });
    expect(trace.params).toEqual({ k: 4, alpha: 2, rpcTimeoutMs: RPC_TIMEOUT_MS, lookupTimeoutMs: LOOKUP_TIMEOUT_MS });
    expect(trace.events).toHaveLength(events.length);
    expect(trace.events.map((e) => e.t)).toEqual(events.map((e) => e.at - started.at));
    expect(trace.events.map((e) => e.type)).toEqual(events.map((e) => e.type));

    // Every RPC: the peer's id and address, bytes each way, what it returned; the timeout's wait.
    const queries = trace.events.filter((e) => e.type === 'query');
    expect(queries.map((q) => t.name(q.peer.id))).toEqual(['B', 'D', 'C', 'E']);
    for (const q of queries) {
      expect(q.peer).toEqual({ id: q.peer.id, host: t.node(t.name(q.peer.id)).address.host, port: 4000 });
      expect(q.bytes).toBeGreaterThan(0);
    }
    const fromB = trace.events.find((e) => e.type === 'response' && t.name(e.peer.id) === 'B');
    expect(fromB).toMatchObject({ rttMs: RTT_MS, t: 2 * LATENCY_MS, hop: 1 });
    if (fromB?.type !== 'response') throw new Error('no response from B');
    expect(fromB.nodes.map((c) => t.name(c.id)).sort()).toEqual(['C', 'D']);
    expect(fromB.bytes).toBeGreaterThan(0);
    const timeout = trace.events.find((e) => e.type === 'timeout');
    expect(timeout).toMatchObject({ peer: { id: t.id('D') }, afterMs: 2 * RPC_TIMEOUT_MS });

    // The summary: the done event's figures plus counts of answers, timeouts and errors.
    const done = ofType(events, 'done')[0];
    expect(trace.summary).toEqual({
      reason: done.reason,
      durationMs: done.durationMs,
      hops: done.hops,
      messages: done.messages,
      timeToClosestMs: done.timeToClosestMs,
      closest: done.closest,
      responses: 3,
      timeouts: 1,
      errors: 0,
    });
    expect(trace.summary.closest.map((c) => t.name(c.id))).toEqual(['E', 'C', 'B']);
  });

  it('keeps each event as the lookup emitted it, but for lookupId and at: t first, the same fields in the same order', async () => {
    const { events, trace } = await recorded();
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['started', 'query', 'response', 'timeout', 'done']));
    events.forEach((e, i) => {
      const { lookupId: _id, at, ...rest } = e;
      const expected = { t: at - events[0].at, ...rest };
      expect(trace.events[i]).toStrictEqual(expected);
      expect(Object.keys(trace.events[i])).toEqual(Object.keys(expected));
    });
  });

  it('keeps the optional fields an event has (hasValue, peerCount, protocol) and adds none it lacks; errors too', () => {
    const peer = { id: 'ab'.repeat(32), host: '127.0.0.1', port: 4000 };
    const base = { lookupId: 'l1', self: 'cd'.repeat(32), target: 'ef'.repeat(32), k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [peer] };
    const bare = startTrace({ type: 'started', at: 100, kind: 'find-node', ...base });
    expect(bare.events[0]).toStrictEqual({ t: 0, type: 'started', kind: 'find-node', target: base.target, self: base.self, k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [peer] });
    const trace = startTrace({ type: 'started', at: 100, kind: 'get-peers', ...base, lookupTimeoutMs: 9000, protocol: 'mainline' });
    expect(Object.keys(trace.events[0])).toEqual(['t', 'type', 'kind', 'target', 'self', 'k', 'alpha', 'rpcTimeoutMs', 'lookupTimeoutMs', 'seeds', 'protocol']);
    const response = { type: 'response' as const, lookupId: 'l1', peer, hop: 1, rttMs: 3, bytes: 90, nodes: [peer] };
    appendTraceEvent(trace, { ...response, at: 103 });
    appendTraceEvent(trace, { ...response, at: 104, hasValue: true, peerCount: 7 });
    appendTraceEvent(trace, { type: 'error', lookupId: 'l1', at: 105, peer, hop: 1, code: 'INVALID_RECORD', message: 'bad' });
    expect(trace.events.slice(1)).toStrictEqual([
      { t: 3, type: 'response', peer, hop: 1, rttMs: 3, bytes: 90, nodes: [peer] },
      { t: 4, type: 'response', peer, hop: 1, rttMs: 3, bytes: 90, nodes: [peer], hasValue: true, peerCount: 7 },
      { t: 5, type: 'error', peer, hop: 1, code: 'INVALID_RECORD', message: 'bad' },
    ]);
    expect(trace.summary).toMatchObject({ responses: 2, errors: 1 });
  });

  it('round trip: record, save, load gives the identical trace', async () => {
    const { trace } = await recorded();
    const text = serializeTrace(trace);
    expect(JSON.parse(text)).toEqual(trace);
    expect(parseTrace(text)).toEqual({ ok: true, value: trace });
    // Plain JSON that reads well: header first, one event per line.
    const lines = text.split('\n');
    expect(lines[1]).toBe('  "format": "kadtrace",');
    expect(lines[2]).toBe('  "version": 3,');
    expect(lines.filter((l) => l.startsWith('    {"t":')).length).toBe(trace.events.length);
    const loaded = parseTrace(text);
    expect(loaded.ok && JSON.parse(serializeTrace(loaded.value))).toEqual(trace);
  });

  it('the service recorder and the CLI builder make the same trace from the same events', async () => {
    const { events, trace } = await recorded();
    const rec = new TraceRecorder();
    // Another lookup interleaved: each trace gets only its own events.
    const other: LookupEvent = { ...events[0], lookupId: 'other', target: hid('11') } as LookupEvent;
    rec.ingest(other);
    const b = new TraceBuilder();
    b.ingest(events[1]); // before 'started': nothing to attach it to
    expect(b.trace).toBeNull();
    for (const e of events) {
      rec.ingest(e);
      b.ingest(e);
      b.ingest({ ...e, lookupId: 'other' });
    }
    expect(rec.get(trace.id)).toEqual(trace);
    expect(b.trace).toEqual(trace);
    expect(rec.get('other')?.events).toHaveLength(1);
  });

  it('names its file by kind, target and UTC start time', () => {
    expect(traceFileName({ kind: 'find-value', target: 'ab'.repeat(32), startedAt: Date.UTC(2025, 0, 2, 3, 4, 5, 678) })).toBe('find-value-abababab-20250102-030405.kadtrace.json');
    expect(traceFileName({ kind: 'find-node', target: 'ab'.repeat(32), startedAt: Number.MAX_VALUE })).toBe(`find-node-abababab-unknown-time${TRACE_FILE_SUFFIX}`);
  });
});

type Mutate = (t: Record<string, unknown> & { events: Array<Record<string, unknown>> }) => unknown;

describe("a lookup's width in a trace (format version 3)", () => {
  it('a lookup wider than k records its width; one k wide records none; a version 2 file opens as k wide', async () => {
    const { trace } = await recorded();
    expect(trace.version).toBe(3);
    expect(trace.params.width).toBeUndefined();
    expect('width' in trace.events[0]).toBe(false);
    const r2 = parseTrace(JSON.stringify({ ...trace, version: 2 }));
    expect(r2.ok && r2.value).toEqual(trace);
    const wide = JSON.parse(JSON.stringify(trace)) as typeof trace;
    wide.params.width = 40;
    (wide.events[0] as { width?: number }).width = 40;
    const r3 = parseTrace(JSON.stringify(wide));
    expect(r3.ok && r3.value.params.width).toBe(40);
    // Not a count: named.
    const bad = parseTrace(JSON.stringify({ ...wide, params: { ...wide.params, width: -1 } }));
    expect(!bad.ok && bad.message).toMatch(/params\.width/);
  });

  it('the trace of a HyperDHT lookup records the width it ran at (2k)', () => {
    const started: LookupEvent = { type: 'started', lookupId: 'L', at: 10, kind: 'find-node', target: 'a'.repeat(64), self: 'b'.repeat(64), k: 20, alpha: 3, rpcTimeoutMs: 1000, seeds: [], protocol: 'hyperdht', width: 40 };
    const trace = startTrace(started);
    expect(trace.params).toMatchObject({ k: 20, width: 40 });
    expect(trace.events[0]).toMatchObject({ type: 'started', k: 20, width: 40 });
    expect(parseTrace(JSON.stringify(trace))).toEqual({ ok: true, value: trace });
  });
});

describe('the protocol in a trace (format version 2)', () => {
  it('a trace records its network\'s protocol; a version 1 file (no protocol) still opens, as kadscope\'s', async () => {
    const { trace } = await recorded();
    expect(trace).toMatchObject({ version: TRACE_VERSION, protocol: 'kadscope' });
    const { protocol: _p, ...v1 } = { ...trace, version: 1 };
    const r = parseTrace(JSON.stringify(v1));
    expect(r.ok && r.value).toEqual(trace);
  });

  it('a Mainline lookup\'s trace says so and keeps its 40-hex ids', async () => {
    const { trace } = await recorded();
    const short = (h: string): string => h.slice(0, 40);
    const ml = JSON.parse(JSON.stringify(trace), (k, v: unknown) => (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? short(v) : v)) as typeof trace;
    ml.protocol = 'mainline';
    (ml.events[0] as { protocol?: string }).protocol = 'mainline';
    const r = parseTrace(JSON.stringify(ml));
    expect(r.ok && r.value).toMatchObject({ protocol: 'mainline', self: short(trace.self), target: short(trace.target) });
    expect(parseTrace(JSON.stringify({ ...ml, protocol: 'Main Line!' }))).toMatchObject({ ok: false, message: /protocol/ });
  });
});

describe('loading rejects corruption with a message naming the field', () => {
  const cases: Array<[string, Mutate, RegExp]> = [
    ['a foreign JSON file', () => ({ name: 'package', version: '1.0.0' }), /^not a trace file: format is undefined, expected "kadtrace"$/],
    ['a file cut short', (t) => serializeTrace(t as unknown as Trace).slice(0, 300), /^not a trace file: not valid JSON/],
    ['a wrong version type', (t) => ({ ...t, version: '1' }), /^invalid trace: version: /],
    ['a missing field', (t) => ({ ...t, truncated: undefined }), /^invalid trace: truncated: field truncated: missing \(it should be true or false\)$/],
    ['a missing field in an event', (t) => (delete t.events[2].rttMs, t), /^invalid trace: events\.2\.rttMs: event 3 \(a "response" event\), field rttMs: missing \(it should be a number\)$/],
    ['text where a number belongs', (t) => (((t.events[1].peer as { port: unknown }).port = 'x'), t), /^invalid trace: events\.1\.peer\.port: event 2 \(a "query" event\), field peer › port: should be a number, but it is the text "x"$/],
    ['an unknown top-level field', (t) => ({ ...t, comment: 'hi' }), /^invalid trace: \(top level\): the file: unknown field "comment"$/],
    ['a bad id', (t) => ({ ...t, self: 'XYZ' }), /^invalid trace: self: field self: expected 64 lowercase hex characters \(40 on Mainline\), but it is the text "XYZ"/],
    ['a negative parameter', (t) => ({ ...t, params: { ...(t.params as object), k: -1 } }), /^invalid trace: params\.k: /],
    ['an unknown parameter', (t) => ({ ...t, params: { ...(t.params as object), beta: 2 } }), /^invalid trace: params: field params: unknown field "beta"$/],
    ['an unknown event type', (t) => ((t.events[1].type = 'teleport'), t), /^invalid trace: events\.1\.type: /],
    ['a bad port in an event', (t) => (((t.events[1].peer as { port: number }).port = 70_000), t), /^invalid trace: events\.1\.peer\.port: event 2 \(a "query" event\), field peer › port: must be at most 65535, but it is the number 70000$/],
    ['a bad returned node', (t) => (((t.events[2].nodes as Array<{ id: string }>)[0].id = 'c0'), t), /^invalid trace: events\.2\.nodes\.0\.id: /],
    ['a negative time offset', (t) => ((t.events[1].t = -5), t), /^invalid trace: events\.1\.t: event 2 \(a "query" event\), field t: must be at least 0, but it is the number -5/],
    ['events out of order', (t) => ((t.events[2].t = 0), (t.events[1].t = 50), t), /^invalid trace: events\.2\.t: event 3 \(a "response" event\), field t: is earlier than the event before it \(0 < 50 ms\)$/],
    ['no started event first', (t) => ({ ...t, events: t.events.slice(1) }), /^invalid trace: events\.0\.type: event 1 \(a "query" event\), field type: the first event must be "started"$/],
    ['a started event for another target', (t) => ((t.events[0].target = 'f'.repeat(64)), t), /^invalid trace: events\.0\.target: event 1 \(a "started" event\), field target: differs from the trace's target/],
    ['a done event before the end', (t) => ({ ...t, events: [t.events[0], t.events.at(-1), ...t.events.slice(1, -1)].map((e, i) => ({ ...e, t: i })) }), /^invalid trace: events\.1\.type: event 2 \(a "done" event\), field type: a "done" event must be the last$/],
    ['an unknown termination reason', (t) => ({ ...t, summary: { ...(t.summary as object), reason: 'bored' } }), /^invalid trace: summary\.reason: /],
    ['a bad origin', (t) => ({ ...t, origin: 'stolen' }), /^invalid trace: origin: /],
    ['too many events', (t) => ({ ...t, events: [t.events[0], ...Array.from({ length: MAX_TRACE_EVENTS }, () => t.events[1])] }), /^invalid trace: events: field events: at most 20000 events$/],
  ];
  it.each(cases)('%s', async (_name, mutate, message) => {
    const { trace } = await recorded();
    const copy = JSON.parse(JSON.stringify(trace)) as Parameters<Mutate>[0];
    const out = mutate(copy);
    const r = parseTrace(typeof out === 'string' ? out : JSON.stringify(out));
    expect(r).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
    expect(r.ok ? '' : r.message).toMatch(message);
  });

  it('says when a file comes from a newer kadscope', async () => {
    const { trace } = await recorded();
    const r = parseTrace(JSON.stringify({ ...trace, version: 4, somethingNew: [] }));
    expect(r).toEqual({ ok: false, code: 'INVALID_ARGUMENT', message: 'this trace was written by a newer kadscope (format version 4); this one reads version 3' });
  });

  it('refuses a file over the size limit before parsing it', () => {
    expect(parseTrace(' '.repeat(MAX_TRACE_JSON_CHARS + 1))).toMatchObject({ ok: false, message: /a trace file is at most 8000000 \(8 MB\)/ });
  });
});
