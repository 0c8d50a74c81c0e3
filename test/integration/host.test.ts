// The headless web host: the contract suite over a real WebSocket, and the host's own guarantees:
// loopback only, the session token and our Origin required, static files with the right types and
// a strict CSP, nothing outside the renderer directory served.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FakeClock } from '../../core/clock';
import { EventBatcher, FLUSH_INTERVAL_MS } from '../../electron/host/batcher';
import { createWsClient, type ContractHandler, type KadscopeClient, type SocketLike } from '../../electron/host/client';
import { err, type EventBatch, type ExplorerEvent } from '../../electron/host/contract';
import { startWebHost, type WebHost } from '../../electron/host/web-host';
import { contractSuite, startService, type Harness } from './service-contract-suite';

/** Bounded real waits: sockets are real here. */
const SOCKET_WAIT_MS = 10_000;

function connect(host: WebHost, options: { token?: string | null; origin?: string | null; path?: string } = {}): WebSocket {
  const token = options.token === undefined ? host.token : options.token;
  const url = `${host.origin.replace('http', 'ws')}${options.path ?? '/ws'}${token === null ? '' : `?token=${token}`}`;
  const origin = options.origin === undefined ? host.origin : options.origin;
  return new WebSocket(url, origin === null ? {} : { origin });
}

async function openClient(host: WebHost, validate = false): Promise<KadscopeClient> {
  const ws = connect(host);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return createWsClient(ws as unknown as SocketLike, { validate });
}

/** Resolves with the HTTP status a refused handshake got (or 101 if it was accepted). */
function handshakeStatus(ws: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no handshake answer')), SOCKET_WAIT_MS);
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(101);
      ws.close();
    });
    ws.once('error', () => undefined);
  });
}

function get(host: WebHost, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { port } = host.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

contractSuite('the WebSocket host', async (): Promise<Harness> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kadscope-host-'));
  const service = await startService(dataDir);
  const host = await startWebHost(service, { port: 0, rendererDir: join(dataDir, 'no-renderer') });
  const client = await openClient(host);
  return {
    client,
    service,
    dataDir,
    async close() {
      client.close();
      await host.close();
      await service.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

describe('web host', () => {
  let dir: string;
  let host: WebHost;
  let clock: FakeClock;
  let batcher: EventBatcher;
  const handler: ContractHandler = {
    invoke: async (method, args) => (method === 'echo' ? { ok: true, value: args } : err('UNKNOWN_METHOD', method)),
    subscribe: (sink) => batcher.subscribe(sink),
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kadscope-web-'));
    await mkdir(join(dir, 'renderer', 'assets'), { recursive: true });
    await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
    await writeFile(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(dir, 'renderer', 'assets', 'app.css'), 'body{}');
    await writeFile(join(dir, 'secret.txt'), 'do not serve');
    clock = new FakeClock();
    batcher = new EventBatcher({ clock });
    host = await startWebHost(handler, { port: 0, rendererDir: join(dir, 'renderer') });
  });
  afterAll(async () => {
    await host.close();
    await host.close();
    batcher.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only and prints a URL with the session token', () => {
    const addr = host.server.address() as AddressInfo;
    expect(addr.address).toBe('127.0.0.1');
    expect(addr.family).toBe('IPv4');
    expect(host.token).toMatch(/^[0-9a-f]{64}$/);
    expect(host.url).toBe(`http://127.0.0.1:${addr.port}/?token=${host.token}`);
  });

  it('refuses a WebSocket without the token, with a wrong one, from another origin or path', async () => {
    expect(await handshakeStatus(connect(host, { token: null }))).toBe(401);
    expect(await handshakeStatus(connect(host, { token: 'f'.repeat(64) }))).toBe(401);
    expect(await handshakeStatus(connect(host, { token: host.token.slice(1) }))).toBe(401);
    expect(await handshakeStatus(connect(host, { origin: 'http://evil.example' }))).toBe(403);
    expect(await handshakeStatus(connect(host, { origin: null }))).toBe(403);
    expect(await handshakeStatus(connect(host, { path: '/other' }))).toBe(404);
    expect(await handshakeStatus(connect(host))).toBe(101);
  });

  it('serves the renderer with the right types and a strict CSP, and nothing outside it', async () => {
    const index = await get(host, '/?token=abc');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toContain(`connect-src 'self' ${host.origin.replace('http', 'ws')}`);
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await get(host, '/assets/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(host, '/assets/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(host, '/lookups')).body).toContain('<!doctype html>'); // client-side route
    expect((await get(host, '/assets/missing.js')).status).toBe(404);
    // Escapes out of the renderer directory: the URL parser folds some, the host refuses the rest.
    for (const path of ['/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/%00index.html']) {
      const r = await get(host, path);
      expect([400, 403, 404], path).toContain(r.status);
      expect(r.body).not.toContain('do not serve');
    }
    expect((await get(host, '/assets/..%2f..%2fsecret.txt')).status).toBe(403);
    expect((await get(host, '/', {}, 'POST')).status).toBe(405);
    expect((await get(host, '/', { Host: 'evil.example' })).status).toBe(403); // DNS rebinding
  });

  it('answers requests by id and ignores what is not the protocol', async () => {
    const ws = connect(host);
    const replies: unknown[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send('not json');
    ws.send(JSON.stringify({ type: 'invoke', id: 'x', method: 'echo' }));
    ws.send(JSON.stringify({ type: 'invoke', id: 7, method: 'echo', args: { a: 1 } }));
    await waitFor(() => replies.length >= 2);
    expect(replies).toEqual([
      { type: 'hello', contractVersion: 2 },
      { type: 'result', id: 7, result: { ok: true, value: { a: 1 } } },
    ]);
    ws.close();
  });

  it('delivers 10,000 events published within one second of fake time in at most 40 batches, nothing lost', async () => {
    const client = await openClient(host);
    const batches: EventBatch[] = [];
    client.subscribe((b) => batches.push(b));
    await waitFor(() => batcher.subscriberCount === 1);
    const N = 10_000;
    for (let ms = 0; ms < 1000; ms++) {
      for (let i = ms * 10; i < (ms + 1) * 10; i++) batcher.publish(ev(i));
      clock.advance(1);
    }
    clock.advance(FLUSH_INTERVAL_MS);
    await waitFor(() => batches.reduce((n, b) => n + b.events.length, 0) >= N);
    expect(batches.length).toBeLessThanOrEqual(40);
    expect(batches.map((b) => b.seq)).toEqual(batches.map((_, i) => i + 1));
    expect(batches.some((b) => b.resync)).toBe(false);
    expect(batches.flatMap((b) => b.events.map(indexOf))).toEqual(Array.from({ length: N }, (_, i) => i));
    client.close();
    await waitFor(() => batcher.subscriberCount === 0);
  });

  it('resolves pending requests with UNAVAILABLE when the connection drops', async () => {
    const slowHost = await startWebHost({ invoke: () => new Promise(() => undefined), subscribe: () => () => undefined }, { port: 0, rendererDir: dir });
    const client = await openClient(slowHost);
    const pending = client.invoke('info');
    await slowHost.close();
    expect(await pending).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    expect(await client.info()).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
  });
});

const ev = (i: number): ExplorerEvent => ({ type: 'record-expired', key: i.toString(16).padStart(64, '0') });
const indexOf = (e: ExplorerEvent): number => (e.type === 'record-expired' ? parseInt(e.key, 16) : -1);

async function waitFor(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + SOCKET_WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the socket');
    await new Promise((r) => setImmediate(r));
  }
}
