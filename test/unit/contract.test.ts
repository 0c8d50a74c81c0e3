// The contract's pure parts: argument validation messages, the typed client (over a fake socket),
// gap detection, the trace format and recorder, and the settings store's handling of bad files.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppStore } from '../../electron/host/app-store';
import { createWsClient, sequenceChecker, type SocketLike } from '../../electron/host/client';
import { DEFAULT_SETTINGS, METHOD_NAMES, MAX_VALUE_BYTES, parseArgs, type ClientMessage, type EventBatch, type LookupEvent, type TraceEvent } from '../../electron/host/contract';
import { seededRandom } from '../../core/id';
import type { Contact } from '../../core/types';
import { toTraceEvent } from '../../electron/host/trace-build';
import { parseTrace } from '../../electron/host/trace-format';
import { TraceRecorder } from '../../electron/host/trace-recorder';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

describe('parseArgs', () => {
  it('validates bootstrap addresses with the address parser\'s messages', () => {
    expect(parseArgs('join', { bootstrap: ['127.0.0.1:4000', '127.0.0.1:99999', '[::1]:5'] })).toEqual({
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: 'join: bootstrap.1: 127.0.0.1:99999: port must be 1-65535',
    });
    expect(parseArgs('join', { bootstrap: ['[::1]:4000', 'node.example:4000'] }).ok).toBe(true);
  });

  it('normalises ids to lowercase and fills defaults', () => {
    expect(parseArgs('startLookup', { target: 'AB'.repeat(32) })).toEqual({ ok: true, value: { target: 'ab'.repeat(32), kind: 'find-node' } });
    expect(parseArgs('testnetStart', { size: 32 })).toEqual({ ok: true, value: { size: 32, join: true } });
  });

  it('counts value bytes, not characters', () => {
    const euro = '€'.repeat(Math.floor(MAX_VALUE_BYTES / 3)); // 3 bytes each
    expect(parseArgs('put', { value: { text: euro } }).ok).toBe(true);
    const r = parseArgs('put', { value: { text: euro + '€' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe('put: value.text: is 1002 bytes as UTF-8; a value is at most 1000 bytes');
    expect(parseArgs('put', { value: { base64: Buffer.alloc(1000).toString('base64') } }).ok).toBe(true);
    expect(parseArgs('put', { value: { base64: Buffer.alloc(1001).toString('base64') } })).toMatchObject({ ok: false, message: /decodes to 1001 bytes/ });
  });

  it('lists at most a few problems', () => {
    const r = parseArgs('settingsSet', { theme: 1, savedBootstrap: ['a', 'b', 'c', 'd', 'e', 'f'] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/; and \d+ more$/);
  });

  it('accepts no arguments for the methods that take none', () => {
    for (const m of ['info', 'snapshot', 'records', 'listKeyPairs', 'testnetStop', 'testnetStatus', 'tracesList', 'settingsGet'] as const) {
      expect(parseArgs(m, undefined).ok, m).toBe(true);
      expect(parseArgs(m, {}).ok, m).toBe(true);
    }
    expect(METHOD_NAMES).toContain('putMutable');
  });
});

/** A socket that records what the client sends and lets the test play the host. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: ClientMessage[] = [];
  private handlers = new Map<string, Array<(ev: { data: unknown }) => void>>();
  send(data: string): void {
    this.sent.push(JSON.parse(data) as ClientMessage);
  }
  close(): void {
    this.readyState = 3;
    this.fire('close');
  }
  addEventListener(type: string, listener: (ev: { data: unknown }) => void): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), listener]);
  }
  open(): void {
    this.readyState = 1;
    this.fire('open');
  }
  receive(msg: unknown): void {
    this.fire('message', JSON.stringify(msg));
  }
  private fire(type: string, data?: unknown): void {
    for (const h of this.handlers.get(type) ?? []) h({ data });
  }
}

describe('createWsClient', () => {
  it('queues calls until the socket opens and matches results by id', async () => {
    const s = new FakeSocket();
    const c = createWsClient(s);
    const a = c.findNode({ target: ID_A });
    const b = c.ping({ address: '127.0.0.1:4000' });
    expect(s.sent).toEqual([]);
    s.open();
    expect(s.sent.map((m) => m.type === 'invoke' && m.method)).toEqual(['findNode', 'ping']);
    const [m1, m2] = s.sent as Array<Extract<ClientMessage, { type: 'invoke' }>>;
    s.receive({ type: 'result', id: m2.id, result: { ok: true, value: { id: ID_B, rttMs: 1, observed: { host: '127.0.0.1', port: 1 } } } });
    s.receive({ type: 'result', id: m1.id, result: { ok: false, code: 'TIMEOUT', message: 'slow' } });
    expect(await b).toMatchObject({ ok: true, value: { id: ID_B } });
    expect(await a).toEqual({ ok: false, code: 'TIMEOUT', message: 'slow' });
  });

  it('validates locally unless told not to', async () => {
    const s = new FakeSocket();
    s.open();
    const c = createWsClient(s);
    expect(await c.ping({ address: 'x:0' })).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT', message: 'ping: address: x:0: port must be 1-65535' });
    expect(s.sent).toEqual([]);
    void createWsClient(s, { validate: false }).ping({ address: 'x:0' });
    expect(s.sent).toHaveLength(1);
  });

  it('fails pending calls and tells subscribers to resync when the socket closes', async () => {
    const s = new FakeSocket();
    s.open();
    const c = createWsClient(s);
    const got: EventBatch[] = [];
    const unsubscribe = c.subscribe((b) => got.push(b));
    expect(s.sent).toEqual([{ type: 'subscribe' }]);
    s.receive({ type: 'batch', seq: 1, resync: false, contacts: [], lookups: [], events: [] });
    const pending = c.snapshot();
    s.close();
    expect(await pending).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    expect(got).toEqual([
      { seq: 1, events: [], resync: false },
      { seq: 2, events: [], resync: true },
    ]);
    expect(await c.snapshot()).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    unsubscribe();
  });

  it('subscribes once per connection and unsubscribes with the last listener', () => {
    const s = new FakeSocket();
    s.open();
    const c = createWsClient(s);
    const u1 = c.subscribe(() => undefined);
    const u2 = c.subscribe(() => undefined);
    u1();
    expect(s.sent).toEqual([{ type: 'subscribe' }]);
    u2();
    expect(s.sent).toEqual([{ type: 'subscribe' }, { type: 'unsubscribe' }]);
  });
});

describe('sequenceChecker', () => {
  it('marks the batch after a gap as resync and keeps its events', () => {
    const got: EventBatch[] = [];
    const check = sequenceChecker((b) => got.push(b));
    const ev = { type: 'record-expired' as const, key: ID_A };
    check({ seq: 1, events: [], resync: false });
    check({ seq: 2, events: [], resync: false });
    check({ seq: 4, events: [ev], resync: false });
    check({ seq: 5, events: [], resync: false });
    expect(got.map((b) => [b.seq, b.resync])).toEqual([
      [1, false],
      [2, false],
      [4, true],
      [5, false],
    ]);
    expect(got[2].events).toEqual([ev]);
    check.reset();
    check({ seq: 1, events: [], resync: false });
    expect(got.at(-1)?.resync).toBe(false);
  });
});

function lookupEvents(id: string, start: number): LookupEvent[] {
  const peer = { id: ID_B, host: '127.0.0.1', port: 4000 };
  return [
    { lookupId: id, at: start, type: 'started', kind: 'find-node', target: ID_A, self: ID_B, k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [peer] },
    { lookupId: id, at: start + 1, type: 'query', peer, hop: 1, bytes: 60 },
    { lookupId: id, at: start + 9, type: 'response', peer, hop: 1, rttMs: 8, bytes: 300, nodes: [] },
    { lookupId: id, at: start + 10, type: 'done', reason: 'exhausted', closest: [peer], hops: 1, messages: 1, durationMs: 10, timeToClosestMs: 9 },
  ];
}

describe('traces', () => {
  it('records lookups with time offsets and summaries, newest first, bounded', () => {
    const rec = new TraceRecorder({ maxTraces: 3 });
    for (let i = 0; i < 5; i++) for (const e of lookupEvents(`L${i}`, 1000 * i)) rec.ingest(e);
    expect(rec.size).toBe(3);
    expect(rec.list().map((t) => t.id)).toEqual(['L4', 'L3', 'L2']);
    const t = rec.get('L4')!;
    expect(t.events.map((e) => e.t)).toEqual([0, 1, 9, 10]);
    expect(t.summary).toMatchObject({ reason: 'exhausted', durationMs: 10, hops: 1, messages: 1, responses: 1, timeouts: 0 });
    expect(parseTrace(JSON.stringify(t))).toEqual({ ok: true, value: t });
  });

  it('caps events per trace but keeps the outcome', () => {
    const rec = new TraceRecorder({ maxEventsPerTrace: 2 });
    for (const e of lookupEvents('L', 0)) rec.ingest(e);
    const t = rec.get('L')!;
    expect(t.truncated).toBe(true);
    expect(t.events.map((e) => e.type)).toEqual(['started', 'query', 'done']);
    expect(t.summary.responses).toBe(1);
  });

  it('a trace asked for while its lookup runs has every event so far, and the rest when asked again', () => {
    const rec = new TraceRecorder();
    const [started, query, response, done] = lookupEvents('L', 100);
    rec.ingest(started);
    rec.ingest(query);
    expect(rec.get('L')!.events).toEqual([expect.objectContaining({ type: 'started', t: 0 }), expect.objectContaining({ type: 'query', t: 1 })]);
    expect(rec.list()[0]).toMatchObject({ done: false, summary: { messages: 1, responses: 0 } });
    rec.ingest(response);
    rec.ingest(done);
    // The summary follows every event at once, before anyone asks for the trace again.
    expect(rec.list()[0]).toMatchObject({ done: true, summary: { responses: 1, reason: 'exhausted' } });
    const t = rec.get('L')!;
    expect(t.events.map((e) => [e.type, e.t])).toEqual([['started', 0], ['query', 1], ['response', 9], ['done', 10]]);
    expect(rec.get('L')!.events).toHaveLength(4); // asked again: nothing added twice
  });

  it('counts the events it has not converted yet against the cap', () => {
    const rec = new TraceRecorder({ maxEventsPerTrace: 3 });
    const [started, query, response, done] = lookupEvents('L', 0);
    for (const e of [started, query, response, { ...query, at: 5 }, { ...response, at: 12 }, done]) rec.ingest(e);
    const t = rec.get('L')!;
    expect(t.truncated).toBe(true);
    expect(t.events.map((e) => e.type)).toEqual(['started', 'query', 'response', 'done']);
    expect(t.summary).toMatchObject({ responses: 2, messages: 1 });
  });

  it('gives back every kind of event as the lookup published it, however its contacts were shared', () => {
    // A stream like a lookup's (seeded): every kind, optional fields on and off, fractional times,
    // one contact object shared across events (as the node does per peer), and equal contacts as
    // separate objects. The trace must equal the one built from the events themselves.
    const rand = seededRandom(19);
    const int = (n: number): number => Math.floor(rand() * n);
    const pool = Array.from({ length: 12 }, (_, i) => ({ id: i.toString(16).padStart(2, '0').repeat(32), host: i % 3 === 0 ? '::1' : `127.0.0.${i}`, port: 4000 + i }));
    const contact = (): Contact => (rand() < 0.5 ? pool[int(pool.length)] : { ...pool[int(pool.length)] });
    const contacts = (): Contact[] => Array.from({ length: int(21) }, contact);
    const events: LookupEvent[] = [{ lookupId: 'L', at: 1_765_000_000_000.25, type: 'started', kind: 'find-value', target: ID_A, self: ID_B, k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: contacts() }];
    let at = events[0].at;
    for (let i = 0; i < 300; i++) {
      at += rand() * 3;
      // Now and then a number the recorder's compact form cannot hold (it keeps that event whole).
      const odd = rand() < 0.05;
      const base = { lookupId: 'L', at, peer: contact(), hop: odd && rand() < 0.5 ? 1.5 : 1 + int(5) };
      switch (int(5)) {
        case 0:
          events.push({ ...base, type: 'query', bytes: odd ? 2 ** 40 : 40 + int(60) });
          break;
        case 1: {
          const r: LookupEvent = { ...base, type: 'response', rttMs: rand() * 40, bytes: odd ? -1 : 300 + int(900), nodes: contacts() };
          if (rand() < 0.3) r.hasValue = rand() < 0.5;
          if (rand() < 0.3) r.peerCount = odd ? -1 : int(50);
          events.push(r);
          break;
        }
        case 2:
          events.push({ ...base, type: 'timeout', afterMs: 2000 });
          break;
        default:
          events.push({ ...base, type: 'error', code: rand() < 0.5 ? 'ID_MISMATCH' : 'INVALID_RECORD', message: `answered "${int(99)}" ünïcode` });
      }
    }
    events.push({ lookupId: 'L', at: at + 1, type: 'done', reason: 'value-found', closest: contacts(), hops: 3, messages: 120, durationMs: at + 1 - events[0].at, timeToClosestMs: 12.5 });
    const want = (es: LookupEvent[]): TraceEvent[] => JSON.parse(JSON.stringify(es.map((e) => toTraceEvent(e, events[0].at)))) as TraceEvent[];

    const rec = new TraceRecorder();
    // Asked for half-way (a live trace), then to the end: each part once, in order.
    for (const e of events.slice(0, 150)) rec.ingest(e);
    expect(JSON.parse(JSON.stringify(rec.get('L')!.events))).toEqual(want(events.slice(0, 150)));
    for (const e of events.slice(150)) rec.ingest(e);
    const t = rec.get('L')!;
    expect(JSON.parse(JSON.stringify(t.events))).toEqual(want(events));
    // The very contact objects come back, so a contact shared between events stays one object.
    events.forEach((e, i) => {
      const got = t.events[i];
      if ('peer' in e && 'peer' in got) expect(got.peer).toBe(e.peer);
      if (e.type === 'response' && got.type === 'response') got.nodes.forEach((c, j) => expect(c).toBe(e.nodes[j]));
    });
    // Absent optional fields stay absent (not undefined, not false).
    const responses = t.events.filter((e) => e.type === 'response');
    expect(responses.some((e) => !('hasValue' in e)) && responses.some((e) => e.hasValue === false) && responses.some((e) => e.hasValue === true)).toBe(true);
    expect(responses.some((e) => !('peerCount' in e)) && responses.some((e) => 'peerCount' in e)).toBe(true);
  });

  it('rejects foreign and corrupt files with a message naming the problem', () => {
    const rec = new TraceRecorder();
    for (const e of lookupEvents('L', 0)) rec.ingest(e);
    const good = rec.get('L')!;
    expect(parseTrace('{')).toMatchObject({ ok: false, message: /not valid JSON/ });
    expect(parseTrace('[]')).toMatchObject({ ok: false, message: /expected a JSON object/ });
    expect(parseTrace('{"format":"har"}')).toMatchObject({ ok: false, message: /format is "har"/ });
    expect(parseTrace(JSON.stringify({ ...good, version: 9 }))).toMatchObject({ ok: false, message: /newer kadscope \(format version 9\)/ });
    expect(parseTrace(JSON.stringify({ ...good, target: 'zz' }))).toMatchObject({ ok: false, message: /^invalid trace: target: / });
    const bad = JSON.parse(JSON.stringify(good));
    bad.events[3].reason = 'bored';
    expect(parseTrace(JSON.stringify(bad))).toMatchObject({ ok: false, message: /events\.3\.reason/ });
  });
});

describe('AppStore', () => {
  it('moves a corrupt settings file aside with one line and starts from the defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kadscope-store-'));
    try {
      await writeFile(join(dir, 'settings.json'), '{"theme": "neon"');
      const store = new AppStore({ dataDir: dir });
      const warnings = await store.load();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/settings\.json is corrupt: not valid JSON .* moved it to .*settings\.json\.corrupt-/);
      expect(store.settings()).toEqual(DEFAULT_SETTINGS);
      expect((await readdir(dir)).filter((f) => f.startsWith('settings.json.corrupt-'))).toHaveLength(1);

      // A file that parses but holds a bad value is moved aside too; a good one loads.
      await writeFile(join(dir, 'settings.json'), JSON.stringify({ theme: 'neon' }));
      expect(await new AppStore({ dataDir: dir }).load()).toEqual([expect.stringMatching(/theme: /)]);
      await new AppStore({ dataDir: dir }).updateSettings({ theme: 'light' });
      const again = new AppStore({ dataDir: dir });
      expect(await again.load()).toEqual([]);
      expect(again.settings()).toEqual({ ...DEFAULT_SETTINGS, theme: 'light' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
