// Every lookup the user's node makes becomes a trace in the service: find node, find value, and the
// lookups inside put, get, announce and lookupPeers (startLookup's find-value runs inside get). Each
// trace is complete, saves and loads back identical, and an opened file joins the list. Real UDP on
// 127.0.0.1 (an 8-node testnet).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryClient, type KadscopeClient } from '../../electron/host/client';
import type { Result, Trace } from '../../electron/host/contract';
import { ExplorerService } from '../../electron/host/service';
import { parseTrace, serializeTrace } from '../../electron/host/trace-format';

let service: ExplorerService;
let c: KadscopeClient;

function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r.value;
}

async function traceOf(id: string | null): Promise<Trace> {
  expect(id, 'the call reports its lookup id').not.toBeNull();
  return unwrap(await c.traceGet({ id: id! }));
}

/** What every recorded trace must hold, whatever the operation. */
function expectComplete(t: Trace, selfId: string): void {
  expect(t).toMatchObject({ format: 'kadtrace', version: 3, protocol: 'kadscope', self: selfId, origin: 'live', truncated: false });
  expect(t.params).toEqual({ k: 20, alpha: 3, rpcTimeoutMs: expect.any(Number), lookupTimeoutMs: expect.any(Number) });
  expect(t.events[0]).toMatchObject({ type: 'started', t: 0, target: t.target, kind: t.kind });
  const done = t.events.at(-1);
  expect(done?.type).toBe('done');
  expect(t.summary.reason).not.toBeNull();
  expect(t.summary.durationMs).toBeGreaterThanOrEqual(0);
  expect(t.summary.hops).toBeGreaterThanOrEqual(1);
  expect(t.summary.timeToClosestMs).not.toBeNull();
  const queries = t.events.filter((e) => e.type === 'query');
  expect(queries.length).toBe(t.summary.messages);
  for (const e of t.events) {
    if (e.type === 'started' || e.type === 'done') continue;
    expect(e.peer.id).toMatch(/^[0-9a-f]{64}$/);
    expect(e.peer).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) });
    if (e.type === 'query') expect(e.bytes).toBeGreaterThan(0);
    if (e.type === 'response') {
      expect(e.bytes).toBeGreaterThan(0);
      expect(Array.isArray(e.nodes)).toBe(true);
    }
  }
  // Offsets never run backwards, and the file round trip is exact.
  for (let i = 1; i < t.events.length; i++) expect(t.events[i].t).toBeGreaterThanOrEqual(t.events[i - 1].t);
  expect(parseTrace(serializeTrace(t))).toEqual({ ok: true, value: t });
}

describe('traces in the service', () => {
  beforeAll(async () => {
    service = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir: null, bootstrap: [], testnetSize: 8 });
    await service.start();
    c = createMemoryClient(service);
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('records find node, find value and the lookups inside put, get, announce and lookupPeers', async () => {
    const self = service.node.id;
    const found = unwrap(await c.findNode({ target: 'a'.repeat(64) }));
    const fn = await traceOf(found.lookupId);
    expect(fn).toMatchObject({ kind: 'find-node', target: 'a'.repeat(64) });
    expect(fn.summary).toMatchObject({ reason: found.reason, hops: found.hops, messages: found.messages, closest: found.closest });
    expectComplete(fn, self);

    const put = unwrap(await c.put({ value: { text: 'traced put' } }));
    const putTrace = await traceOf(put.lookupId);
    expect(putTrace.target).toBe(put.key);
    expectComplete(putTrace, self);

    // A key nobody holds: the get fails, and its find-value lookup is still kept.
    const missing = 'b'.repeat(64);
    expect(await c.get({ key: missing })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    const getItem = unwrap(await c.tracesList()).find((t) => t.target === missing);
    expect(getItem).toMatchObject({ kind: 'find-value', done: true });
    expectComplete(await traceOf(getItem!.id), self);

    const ann = unwrap(await c.announce({ topic: 'traced topic', port: 4242 }));
    const annTrace = await traceOf(ann.lookupId);
    expect(annTrace).toMatchObject({ kind: 'get-peers', target: ann.key });
    expectComplete(annTrace, self);

    const peers = unwrap(await c.lookupPeers({ topic: 'traced topic' }));
    const peersTrace = await traceOf(peers.lookupId);
    expect(peersTrace).toMatchObject({ kind: 'get-peers', target: peers.key });
    expect(peersTrace.events.some((e) => e.type === 'response' && (e.peerCount ?? 0) > 0)).toBe(true);
    expectComplete(peersTrace, self);

    const kinds = new Set(unwrap(await c.tracesList()).map((t) => t.kind));
    expect([...kinds].sort()).toEqual(['find-node', 'find-value', 'get-peers']);
  });

  it('an opened file joins the list as imported, identical but for its origin', async () => {
    const found = unwrap(await c.findNode({ target: 'c'.repeat(64) }));
    const live = await traceOf(found.lookupId);
    const text = serializeTrace(live);
    // As from another machine: a different id, so it sits beside the live one.
    const other = text.replace(JSON.stringify(live.id), JSON.stringify('from-elsewhere'));
    const item = unwrap(await c.traceImport({ json: other }));
    expect(item).toMatchObject({ id: 'from-elsewhere', origin: 'imported', done: true, summary: live.summary });
    expect(unwrap(await c.tracesList())[0].id).toBe('from-elsewhere');
    expect(unwrap(await c.traceGet({ id: 'from-elsewhere' }))).toEqual({ ...live, id: 'from-elsewhere', origin: 'imported' });

    const bad = await c.traceImport({ json: text.replace('"hop":1', '"hop":-1') });
    expect(bad).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^invalid trace: events\.\d+\.hop: /) });
  });
});
