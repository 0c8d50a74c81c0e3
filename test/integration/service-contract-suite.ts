// The contract test suite, written once and run against every way of reaching the service:
// service.test.ts (in-memory client pair) and host.test.ts (WebSocket through the web host).
// Behind it: a real ExplorerService with a small UDP testnet on 127.0.0.1.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, keyPairToJson } from '../../core/records/signing';
import type { KadscopeClient } from '../../electron/host/client';
import { METHOD_NAMES, type EventBatch, type MethodName, type Result, type Trace } from '../../electron/host/contract';
import { ExplorerService } from '../../electron/host/service';

/** A service with the embedded testnet (TESTNET_SIZE nodes over UDP on 127.0.0.1), state in dataDir. */
export async function startService(dataDir: string): Promise<ExplorerService> {
  const service = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir, bootstrap: [], testnetSize: TESTNET_SIZE });
  await service.start();
  return service;
}

export interface Harness {
  /** A client that does NOT validate locally, so every bad argument reaches the host. */
  client: KadscopeClient;
  service: ExplorerService;
  dataDir: string;
  close(): Promise<void>;
}

/** Waits for real events, bounded: real UDP and sockets are behind this suite. */
const EVENT_WAIT_MS = 10_000;
const TESTNET_SIZE = 8;

function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r.value;
}

/**
 * Each case: a method, bad arguments, and what the message must say (field and problem).
 * Every method of the contract appears at least once (checked below).
 */
export const BAD_ARGUMENTS: Array<[MethodName, unknown, RegExp]> = [
  ['info', { extra: 1 }, /^info: arguments: unknown field "extra"/],
  ['snapshot', 'all', /^snapshot: arguments: /],
  ['join', { bootstrap: ['127.0.0.1:99999'] }, /^join: bootstrap\.0: 127\.0\.0\.1:99999: port must be 1-65535$/],
  ['join', { bootstrap: [] }, /bootstrap: give at least one bootstrap address/],
  ['join', { bootstrap: ['10.0.0.1'] }, /bootstrap\.0: 10\.0\.0\.1: missing ":port"/],
  ['join', {}, /bootstrap: expected a list of "host:port" strings/],
  ['ping', { address: '[::1:4000' }, /address: \[::1:4000: missing "\]"/],
  ['ping', { address: '300.1.1.1:80' }, /address: 300\.1\.1\.1:80: "300\.1\.1\.1" is not a valid IPv4 address/],
  ['findNode', { target: 'xyz' }, /target: an id is 64 hex characters/],
  ['findNode', { target: 'ab'.repeat(32), hops: 3 }, /unknown field "hops"/],
  ['startLookup', { target: 'ab'.repeat(32), kind: 'sideways' }, /kind: expected "find-node" or "find-value"/],
  ['cancelLookup', {}, /lookupId: /],
  ['records', { all: true }, /unknown field "all"/],
  ['get', { key: 42 }, /key: expected a 64-character hex id/],
  ['put', { value: { text: 'x'.repeat(1001) } }, /value\.text: is 1001 bytes as UTF-8; a value is at most 1000 bytes/],
  ['put', { value: { base64: '@@@@' } }, /value\.base64: is not valid base64/],
  ['put', { value: 'hello' }, /value: expected \{ text \} or \{ base64 \}/],
  ['put', { value: { text: 'v' }, at: '' }, /at: a name cannot be empty/],
  ['put', { value: { text: 'v' }, at: 'n'.repeat(129) }, /at: a name is at most 128 bytes as UTF-8; got 129/],
  ['get', { key: 'ab'.repeat(32), name: 'both' }, /give either key \(64 hex characters\) or name/],
  ['get', {}, /give either key \(64 hex characters\) or name/],
  ['putMutable', { value: { text: 'a' }, seq: 1.5, keyPair: 'generate' }, /seq: must be a whole number/],
  ['putMutable', { value: { text: 'a' }, seq: 1, keyPair: '../etc/passwd' }, /keyPair: a key pair name uses letters, digits/],
  ['putMutable', { value: { text: 'a' }, seq: 1, keyPair: 'generate', salt: 's'.repeat(65) }, /salt: a salt is at most 64 bytes/],
  ['generateKeyPair', { name: 'my key' }, /name: a key pair name uses letters, digits/],
  ['listKeyPairs', { secret: true }, /unknown field "secret"/],
  ['importKeyPair', { name: 'k', json: '' }, /json: /],
  ['announce', { topic: 'chat', port: 0 }, /port: port must be 1-65535/],
  ['announce', { topic: '', port: 80 }, /topic: a topic cannot be empty/],
  ['lookupPeers', { topic: 't'.repeat(257) }, /topic: /],
  ['testnetStart', { size: 0 }, /size: must be at least 1/],
  ['testnetStart', { size: 8, transport: 'memory' }, /unknown field "transport"/],
  ['testnetStop', { force: true }, /unknown field "force"/],
  ['testnetAdd', { count: 501 }, /count: must be at most 500/],
  ['testnetStopRandom', { count: 'two' }, /count: expected a number/],
  ['testnetStatus', [1], /arguments: /],
  ['tracesList', { limit: 5 }, /unknown field "limit"/],
  ['traceGet', { id: '' }, /id: /],
  ['traceImport', { json: 5 }, /json: /],
  ['remoteList', { all: true }, /unknown field "all"/],
  ['remoteAttach', { url: 'https://127.0.0.1:1' }, /token: /],
  ['remoteAttach', { url: '', token: 'x' }, /url: give the remote URL/],
  ['remoteDetach', { id: 5 }, /id: /],
  ['methodsList', { all: true }, /unknown field "all"/],
  ['call', { address: '127.0.0.1:4000', name: 'Bad Name' }, /name: a method name is 1-32 characters/],
  ['call', { address: 'nowhere', name: 'kadscope.info' }, /address: /],
  ['call', { address: '127.0.0.1:4000', name: 'kadscope.info', args: 'x'.repeat(5000) }, /args: arguments are at most 4000 characters/],
  ['broadcast', { text: '' }, /text: a broadcast cannot be empty/],
  ['broadcast', { text: 'x'.repeat(1001) }, /text: a broadcast is at most 1000 bytes/],
  ['broadcast', { text: 'hi', hopLimit: 65 }, /hopLimit: /],
  ['broadcasts', { since: 1 }, /unknown field "since"/],
  ['crawlStart', { bootstrap: ['127.0.0.1:99999'] }, /bootstrap\.0: 127\.0\.0\.1:99999: port must be 1-65535/],
  ['crawlStart', { bootstrap: [], depth: 2 }, /unknown field "depth"|bootstrap: /],
  ['crawlStart', { protocol: 'ipfs' }, /protocol: protocol must be one of: kadscope, mainline, hyperdht/],
  ['crawlCancel', { now: true }, /unknown field "now"/],
  ['crawlStatus', { all: true }, /unknown field "all"/],
  ['crawlsList', { limit: 5 }, /unknown field "limit"/],
  ['crawlGet', { id: 0 }, /id: a crawl id is at least 1/],
  ['crawlGet', { id: 'latest' }, /id: expected a crawl id/],
  ['crawlCompare', { from: 1, to: 1.5 }, /to: a crawl id is a whole number/],
  ['settingsGet', { key: 'theme' }, /unknown field "key"/],
  ['settingsSet', { theme: 'neon' }, /theme: expected "system", "light" or "dark"/],
  ['settingsSet', { savedBootstrap: ['1.2.3.4:0'] }, /savedBootstrap\.0: 1\.2\.3\.4:0: port must be 1-65535/],
];

/** The parts of the service's state a bad call must not change. */
async function observableState(c: KadscopeClient) {
  const s = unwrap(await c.snapshot());
  const t = s.testnet;
  return {
    id: s.node.id,
    address: s.node.address,
    peers: s.node.peers.map((p) => p.id).sort(),
    testnet: { running: t.running, alive: t.alive, stopped: t.stopped },
    records: s.records.map((r) => r.key).sort(),
    settings: unwrap(await c.settingsGet()),
    keyPairs: unwrap(await c.listKeyPairs()),
    traces: unwrap(await c.tracesList()).map((x) => x.id),
  };
}

/** Collects batches from a subscription; `until` waits (bounded) for a condition on them. */
function collect(c: KadscopeClient) {
  const batches: EventBatch[] = [];
  const waiters = new Set<() => void>();
  const unsubscribe = c.subscribe((b) => {
    batches.push(b);
    for (const w of [...waiters]) w();
  });
  const until = (pred: (bs: EventBatch[]) => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (pred(batches)) return resolve();
      const check = (): void => {
        if (!pred(batches)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what} (${batches.length} batches so far)`));
      }, EVENT_WAIT_MS);
      waiters.add(check);
    });
  return { batches, until, unsubscribe };
}

export function contractSuite(name: string, makeHarness: () => Promise<Harness>): void {
  describe(`contract via ${name}`, () => {
    let h: Harness;
    let c: KadscopeClient;

    beforeAll(async () => {
      h = await makeHarness();
      c = h.client;
    });
    afterAll(async () => {
      await h?.close();
    });

    it('covers every method with bad-argument cases', () => {
      const covered = new Set(BAD_ARGUMENTS.map(([m]) => m));
      expect(METHOD_NAMES.filter((m) => !covered.has(m))).toEqual([]);
    });

    it('answers every bad argument with INVALID_ARGUMENT naming the field, and changes nothing', async () => {
      const before = await observableState(c);
      for (const [method, args, message] of BAD_ARGUMENTS) {
        const r = await c.invoke(method, args as never);
        expect(r, `${method} ${JSON.stringify(args).slice(0, 80)}`).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
        if (!r.ok) expect(r.message, method).toMatch(message);
      }
      expect(await observableState(c)).toEqual(before);
    });

    it('answers an unknown method with UNKNOWN_METHOD', async () => {
      const r = await c.invoke('shutdown' as MethodName, {} as never);
      expect(r).toMatchObject({ ok: false, code: 'UNKNOWN_METHOD' });
    });

    it('describes the host and snapshots the embedded testnet the node joined', async () => {
      const info = unwrap(await c.info());
      expect(info).toMatchObject({ contractVersion: 2, mode: 'embedded-testnet', dataDir: h.dataDir });
      const s = unwrap(await c.snapshot());
      expect(s.node.id).toMatch(/^[0-9a-f]{64}$/);
      expect(s.node.address.host).toBe('127.0.0.1');
      expect(s.node.peers.length).toBe(TESTNET_SIZE);
      expect(s.testnet).toMatchObject({ running: true, transport: 'udp', alive: TESTNET_SIZE, stopped: 0, inWorker: false });
    });

    it('pings a testnet node and joins through one', async () => {
      const { testnet } = unwrap(await c.snapshot());
      const ping = unwrap(await c.ping({ address: testnet.bootstrap[0] }));
      expect(ping.id).toMatch(/^[0-9a-f]{64}$/);
      expect(ping.observed?.host).toBe('127.0.0.1');
      const join = unwrap(await c.join({ bootstrap: [testnet.bootstrap[1]] }));
      expect(join.reached).toHaveLength(1);
      expect(join.failed).toEqual([]);
      expect(join.peers).toBe(TESTNET_SIZE);
    });

    it('runs findNode and keeps its trace, which exports and imports back', async () => {
      const target = 'c3'.repeat(32);
      const r = unwrap(await c.findNode({ target }));
      expect(r.closest.length).toBeGreaterThan(0);
      // 8 nodes are fewer than k = 20, so the lookup ends by asking them all
      expect(['converged', 'exhausted']).toContain(r.reason);
      expect(r.lookupId).not.toBeNull();
      const trace = unwrap(await c.traceGet({ id: r.lookupId! }));
      expect(trace).toMatchObject({ format: 'kadtrace', version: 3, protocol: 'kadscope', target, kind: 'find-node', origin: 'live', truncated: false });
      expect(trace.events[0].type).toBe('started');
      expect(trace.events.at(-1)?.type).toBe('done');
      expect(trace.summary.messages).toBe(r.messages);
      expect(unwrap(await c.tracesList())[0].id).toBe(r.lookupId);

      const copy: Trace = { ...trace, id: 'imported-copy' };
      const item = unwrap(await c.traceImport({ json: JSON.stringify(copy) }));
      expect(item).toMatchObject({ id: 'imported-copy', origin: 'imported', done: true });
      expect(unwrap(await c.traceGet({ id: 'imported-copy' })).events).toEqual(trace.events);

      const corrupt = JSON.parse(JSON.stringify(trace)) as { events: Array<{ peer?: { port: unknown } }> };
      corrupt.events[1].peer!.port = 'x';
      const bad = await c.traceImport({ json: JSON.stringify(corrupt) });
      expect(bad).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
      if (!bad.ok) expect(bad.message).toMatch(/events\.1\.peer\.port/);
      const newer = await c.traceImport({ json: JSON.stringify({ ...trace, version: 4 }) });
      if (!newer.ok) expect(newer.message).toMatch(/newer kadscope \(format version 4\)/);
      expect(newer.ok).toBe(false);
      expect(await c.traceGet({ id: 'nope' })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    });

    it('streams a started lookup to a subscriber in continuous batches', async () => {
      const sub = collect(c);
      try {
        const { lookupId } = unwrap(await c.startLookup({ target: '5a'.repeat(32) }));
        await sub.until(
          (bs) => bs.some((b) => b.events.some((e) => e.type === 'lookup' && e.event.lookupId === lookupId && e.event.type === 'done')),
          'the lookup to finish',
        );
        const events = sub.batches.flatMap((b) => b.events).filter((e) => e.type === 'lookup' && e.event.lookupId === lookupId);
        expect(events.map((e) => (e.type === 'lookup' ? e.event.type : '')).filter((t) => t === 'started')).toHaveLength(1);
        expect(sub.batches.map((b) => b.seq)).toEqual(sub.batches.map((_, i) => i + 1));
        expect(sub.batches.every((b) => !b.resync)).toBe(true);
        expect(unwrap(await c.cancelLookup({ lookupId }))).toEqual({ cancelled: false }); // already done
      } finally {
        sub.unsubscribe();
      }
    });

    it('saves settings in the data directory and keeps key pairs on the node', async () => {
      const s = unwrap(await c.settingsSet({ theme: 'dark', savedBootstrap: ['127.0.0.1:4000'] }));
      expect(s).toMatchObject({ theme: 'dark', savedBootstrap: ['127.0.0.1:4000'], defaultTestnetSize: 32 });
      expect(unwrap(await c.settingsGet())).toEqual(s);
      expect(JSON.parse(await readFile(join(h.dataDir, 'settings.json'), 'utf8'))).toEqual(s);

      const alice = unwrap(await c.generateKeyPair({ name: 'alice' }));
      expect(alice.publicKey).toMatch(/^[0-9a-f]{64}$/);
      const before = unwrap(await c.listKeyPairs());
      expect(before).toContainEqual(alice);
      expect(await c.generateKeyPair({ name: 'alice' })).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT', message: /already exists/ });
      expect(await c.putMutable({ value: { text: 'v' }, seq: 1, keyPair: 'nobody' })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
      expect(unwrap(await c.listKeyPairs())).toEqual(before);

      const kp = generateKeyPair();
      const forged = { ...keyPairToJson(kp), publicKey: 'ab'.repeat(32) };
      const bad = await c.importKeyPair({ name: 'mallory', json: JSON.stringify(forged) });
      expect(bad).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT', message: /publicKey does not belong to secretKey/ });
      const bob = unwrap(await c.importKeyPair({ name: 'bob', json: JSON.stringify(keyPairToJson(kp)) }));
      expect(bob.publicKey).toBe(Buffer.from(kp.publicKey).toString('hex'));
      expect(unwrap(await c.listKeyPairs()).map((k) => k.name)).toContain('bob');
      expect(await c.importKeyPair({ name: 'bob', json: JSON.stringify(keyPairToJson(generateKeyPair())) })).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT', message: /already exists/ });
    });

    it('stores a mutable record under a generated key pair and fetches it', async () => {
      const put = unwrap(await c.putMutable({ value: { text: 'v1' }, seq: 1, keyPair: 'generate', salt: 'profile' }));
      expect(put).toMatchObject({ seq: 1, salt: 'profile', keyPair: expect.stringMatching(/^key-\d+$/) });
      expect(put.storedAt.length).toBeGreaterThan(0);
      expect(unwrap(await c.listKeyPairs()).map((k) => k.name)).toContain(put.keyPair);
      const got = unwrap(await c.get({ key: put.key }));
      expect(got).toMatchObject({ text: 'v1', seq: 1 });
      const lower = await c.putMutable({ value: { text: 'v0' }, seq: 0, keyPair: put.keyPair, salt: 'profile' });
      expect(lower).toMatchObject({ ok: false, code: 'SEQ_TOO_LOW' });
    });

    it('stores and fetches a value, with the nodes that hold it and its lookup', async () => {
      const put = unwrap(await c.put({ value: { text: 'hello, kadscope' } }));
      expect(put.key).toMatch(/^[0-9a-f]{64}$/);
      expect(put.storedAt.length).toBeGreaterThan(0);
      const got = unwrap(await c.get({ key: put.key }));
      expect(got.text).toBe('hello, kadscope');
      expect(Buffer.from(got.base64, 'base64').toString()).toBe('hello, kadscope');
      const bytes = unwrap(await c.put({ value: { base64: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') } }));
      expect(unwrap(await c.get({ key: bytes.key }))).toMatchObject({ text: null, base64: '/wD+' });
      expect(await c.get({ key: '0'.repeat(64) })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    });

    it('stores a value at a name and fetches it by the name (and by its key)', async () => {
      const put = unwrap(await c.put({ value: { text: 'named value' }, at: 'suite/name' }));
      expect(put).toMatchObject({ key: createHash('sha256').update('suite/name').digest('hex'), name: 'suite/name' });
      expect(put.storedAt.length).toBeGreaterThan(0);
      expect(unwrap(await c.get({ name: 'suite/name' }))).toMatchObject({ key: put.key, text: 'named value', name: 'suite/name', seq: null });
      expect(unwrap(await c.get({ key: put.key }))).toMatchObject({ text: 'named value', name: 'suite/name' });
      expect(await c.get({ name: 'nobody wrote this' })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    });

    it('announces a topic and finds the address under it', async () => {
      const a = unwrap(await c.announce({ topic: 'chat', port: 4242 }));
      expect(a.storedAt.length).toBeGreaterThan(0);
      const found = unwrap(await c.lookupPeers({ topic: 'chat' }));
      expect(found.key).toBe(a.key);
      expect(found.peers.some((p) => p.endsWith(':4242'))).toBe(true);
      // On loopback nobody shares a local address beside its public one.
      expect(found.sameNetwork).toEqual([]);
    });

    it("crawls with the node's protocol unless told another, which needs addresses and crawls from a node of its own", async () => {
      const sub = collect(c);
      // The last crawl event says a crawl other than `before` was stored.
      const ended = (before: number | null) => (bs: EventBatch[]) => {
        const last = bs.flatMap((b) => b.events).filter((e) => e.type === 'crawl').at(-1);
        return last?.type === 'crawl' && !last.status.running && last.status.lastId !== before;
      };
      try {
        const before = unwrap(await c.crawlStatus());
        expect(before.nodeProtocol).toBe('kadscope');
        // The testnet and the routing table speak kadscope: a mainline crawl has nowhere to start.
        const refused = await c.crawlStart({ protocol: 'mainline' });
        expect(refused).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
        expect(!refused.ok && refused.message).toBe("crawling mainline needs bootstrap addresses of mainline nodes: the testnet and your node's routing table speak kadscope");
        // The default: the node crawls the testnet.
        unwrap(await c.crawlStart({}));
        await sub.until(ended(before.lastId), 'the kadscope crawl to end');
        const own = unwrap(await c.crawlsList())[0];
        expect(own).toMatchObject({ protocol: 'kadscope' });
        expect(own.reachable).toBeGreaterThanOrEqual(TESTNET_SIZE);
        // Mainline from a testnet node's address: a read-only Mainline node asks, a kadscope node cannot answer.
        const { testnet } = unwrap(await c.snapshot());
        unwrap(await c.crawlStart({ protocol: 'mainline', bootstrap: [testnet.bootstrap[0]] }));
        await sub.until(ended(own.id), 'the mainline crawl to end');
        const other = unwrap(await c.crawlsList())[0];
        expect(other).toMatchObject({ protocol: 'mainline', found: 1, reachable: 0, unreachable: 1 });
      } finally {
        sub.unsubscribe();
      }
    });

    it('controls the testnet and reports it in events', async () => {
      const sub = collect(c);
      try {
        expect(await c.testnetStart({ size: 4 })).toMatchObject({ ok: false, code: 'CONFLICT' });
        expect(unwrap(await c.testnetAdd({ count: 2 }))).toMatchObject({ alive: TESTNET_SIZE + 2, stopped: 0 });
        expect(unwrap(await c.testnetStopRandom({ count: 3 }))).toMatchObject({ alive: TESTNET_SIZE - 1, stopped: 3 });
        expect(unwrap(await c.testnetStatus())).toMatchObject({ alive: TESTNET_SIZE - 1 });
        expect(unwrap(await c.testnetStop())).toMatchObject({ running: false, alive: 0 });
        expect(await c.testnetAdd({ count: 1 })).toMatchObject({ ok: false, code: 'CONFLICT' });
        await sub.until((bs) => bs.flatMap((b) => b.events).filter((e) => e.type === 'testnet').length >= 3, 'testnet events');
        const last = sub.batches.flatMap((b) => b.events).filter((e) => e.type === 'testnet').at(-1);
        expect(last).toMatchObject({ type: 'testnet', status: { running: false } });

        const started = unwrap(await c.testnetStart({ size: 3 }));
        expect(started).toMatchObject({ running: true, alive: 3 });
        // join: true by default: the node joins the new testnet in the background, seen as peer-added events
        const fresh = new Set(started.bootstrap);
        await sub.until(
          (bs) => bs.some((b) => b.events.some((e) => e.type === 'peer-added' && fresh.has(`${e.peer.host}:${e.peer.port}`))),
          'a peer of the new testnet',
        );
      } finally {
        sub.unsubscribe();
      }
    });
  });
}
