// Remote attach between two processes on 127.0.0.1: `kadscope serve --listen` in a child process
// (TLS with a certificate it generates, its own small testnet), and this process attaching to it as
// an explorer's host does. The explorer sees the remote node's peers, directly and through the web
// host's relay and through the handler Electron's main answers its window with; a wrong token, no
// token, plain HTTP and a bad certificate are refused, each with a message that says what is wrong.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createMemoryClient, createWsClient } from '../../electron/host/client';
import type { EventBatch, RemotesDto, SnapshotDto } from '../../electron/host/contract';
import { handlerForPage, openRemoteSocket, verifyRemote } from '../../electron/host/remote';
import { ExplorerService } from '../../electron/host/service';
import { startWebHost, type WebHost } from '../../electron/host/web-host';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_WAIT_MS = 45_000;

interface Remote {
  url: string;
  token: string;
  fingerprint: string;
  child: ChildProcess;
}

async function startRemote(dataDir: string): Promise<Remote> {
  const child = spawn(process.execPath, [join(ROOT, 'electron/bin/kadscope.mjs'), 'serve', '--port', '0', '--data-dir', dataDir, '--testnet-size', '6', '--listen', '127.0.0.1:0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  return new Promise<Remote>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the remote printed no fingerprint within ${START_WAIT_MS} ms:\n${lines.join('\n')}`)), START_WAIT_MS);
    const onData = (b: Buffer): void => {
      lines.push(...b.toString().split('\n').filter(Boolean));
      const text = lines.join('\n');
      const url = /remote attach at (https:\/\/\S+)/.exec(text)?.[1];
      const token = /token ([0-9a-f]{64})/.exec(text)?.[1];
      const fingerprint = /certificate SHA-256 ([0-9A-F:]{95})/.exec(text)?.[1];
      if (url && token && fingerprint) {
        clearTimeout(timer);
        resolve({ url, token, fingerprint, child });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the remote exited (${code}):\n${lines.join('\n')}`));
    });
  });
}

describe('remote attach over TLS, two processes on 127.0.0.1', () => {
  let dir: string;
  let remote: Remote;
  let local: ExplorerService | null = null;
  let web: WebHost | null = null;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kadscope-remote-'));
    remote = await startRemote(join(dir, 'remote'));
  }, START_WAIT_MS + 5_000);

  afterAll(async () => {
    await web?.close();
    await local?.stop();
    if (remote && remote.child.exitCode === null) {
      const exited = new Promise((r) => remote.child.once('exit', r));
      remote.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (remote.child.exitCode === null) remote.child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the remote node and its peers, pinned to the fingerprint it printed', async () => {
    const target = await verifyRemote(remote.url, remote.token, remote.fingerprint.toLowerCase().replaceAll(':', ''));
    expect(target.fingerprint).toBe(remote.fingerprint);
    const socket = await openRemoteSocket(target);
    const client = createWsClient(socket as never);
    try {
      const snap = await client.snapshot();
      expect(snap.ok).toBe(true);
      const s = (snap as { value: SnapshotDto }).value;
      expect(s.node.peers.length).toBeGreaterThanOrEqual(6);
      expect(s.testnet.running).toBe(true);
    } finally {
      client.close();
    }
  });

  it('refuses a wrong token and no token, saying which', async () => {
    const target = await verifyRemote(remote.url, remote.token, remote.fingerprint);
    await expect(openRemoteSocket({ ...target, token: 'f'.repeat(64) })).rejects.toThrow(/refused the session token: wrong session token/);
    await expect(openRemoteSocket({ ...target, token: '' })).rejects.toThrow(/refused the session token: no session token/);
    await expect(verifyRemote(remote.url, '  ', remote.fingerprint)).rejects.toThrow(/a session token is needed/);
  });

  it('refuses plain HTTP, on both sides', async () => {
    const plain = remote.url.replace('https://', 'http://');
    await expect(verifyRemote(plain, remote.token, remote.fingerprint)).rejects.toThrow(/refusing plain HTTP: remote nodes are attached over TLS only; use https:\/\//);
    // A plain-HTTP client that ignores that is told the same by the server, and gets nothing else.
    const r = await fetch(`${plain}/ws?token=${remote.token}`);
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/speaks TLS only; use https:\/\//);
  });

  it('refuses a certificate that does not match the pinned fingerprint, or that nothing vouches for', async () => {
    const wrong = 'AB:'.repeat(31) + 'AB';
    await expect(verifyRemote(remote.url, remote.token, wrong)).rejects.toThrow(
      new RegExp(`certificate mismatch: .* presented a certificate with SHA-256 fingerprint ${remote.fingerprint}, not the pinned ${wrong}; not sending the token`),
    );
    await expect(verifyRemote(remote.url, remote.token)).rejects.toThrow(/is not trusted \(.*\); .* pin its SHA-256 fingerprint/);
    await expect(verifyRemote(remote.url, remote.token, 'not-a-fingerprint')).rejects.toThrow(/not a SHA-256 fingerprint/);
  });

  it('attaches through a local host, which relays the page to the remote and answers the list itself', async () => {
    local = new ExplorerService({}, { host: 'web', appVersion: 'test', dataDir: join(dir, 'local'), bootstrap: [], testnetSize: 0 });
    await local.start();
    web = await startWebHost(local, { port: 0, remotes: local.remotes });
    const bad = await local.invoke('remoteAttach', { url: remote.url, token: 'nope', fingerprint: remote.fingerprint });
    expect(bad).toMatchObject({ ok: false, code: 'UNAVAILABLE', message: expect.stringMatching(/refused the session token: wrong session token/) });
    const attached = await local.invoke('remoteAttach', { url: remote.url, token: remote.token, fingerprint: remote.fingerprint });
    expect(attached).toMatchObject({ ok: true, value: { id: 'r1', state: 'connected', fingerprint: remote.fingerprint } });
    const remoteId = (attached as { value: { summary: { nodeId: string } } }).value.summary.nodeId;

    // The page's connection, as the renderer opens it for ?node=r1.
    const ws = new WebSocket(`${web.origin.replace('http', 'ws')}/ws/remote/r1?token=${web.token}`, { origin: web.origin });
    const client = createWsClient(ws as never);
    try {
      const snap = await client.snapshot();
      expect(snap.ok ? snap.value.node.id : snap).toBe(remoteId);
      expect(snap.ok && snap.value.node.peers.length).toBeGreaterThanOrEqual(6);
      const list = await client.remoteList();
      expect(list.ok).toBe(true);
      const l = (list as { value: RemotesDto }).value;
      expect(l.local.nodeId).toBe(local.node.id);
      expect(l.remotes.map((r) => r.id)).toEqual(['r1']);
    } finally {
      client.close();
    }
    // An id that is not attached: the relay says so rather than hanging.
    const missing = new WebSocket(`${web.origin.replace('http', 'ws')}/ws/remote/r9?token=${web.token}`, { origin: web.origin });
    const status = await new Promise<number>((resolve) => missing.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(404);
    expect(await local.invoke('remoteDetach', { id: 'r1' })).toEqual({ ok: true, value: { detached: true } });
  });

  it("answers an Electron window showing the attached node through this host's own connection, and follows a reconnect", async () => {
    if (!local) {
      local = new ExplorerService({}, { host: 'electron', appVersion: 'test', dataDir: join(dir, 'local'), bootstrap: [], testnetSize: 0 });
      await local.start();
    }
    const svc = local;
    const attached = await svc.invoke('remoteAttach', { url: remote.url, token: remote.token, fingerprint: remote.fingerprint });
    expect(attached).toMatchObject({ ok: true, value: { state: 'connected' } });
    const { id, summary } = (attached as { value: { id: string; summary: { nodeId: string } } }).value;
    // Main's choice for the window's page: its own node without ?node=, the attached one with it.
    expect(handlerForPage('app://kadscope/index.html', svc, svc.remotes)).toBe(svc);
    const page = createMemoryClient(handlerForPage(`app://kadscope/index.html?node=${id}`, svc, svc.remotes));
    const batches: EventBatch[] = [];
    let wake: (() => void) | null = null;
    const next = (ok: (b: EventBatch) => boolean): Promise<EventBatch> =>
      new Promise((resolve) => {
        const check = (): void => {
          const b = batches.find(ok);
          if (b) resolve(b);
          else wake = check;
        };
        check();
      });
    const unsubscribe = page.subscribe((b) => {
      batches.push(b);
      wake?.();
    });
    try {
      const snap = await page.snapshot();
      expect(snap.ok ? snap.value.node.id : snap).toBe(summary.nodeId);
      expect(snap.ok && snap.value.node.peers.length).toBeGreaterThanOrEqual(6);
      // The list is this host's, whichever node the page shows.
      const list = await page.remoteList();
      expect(list.ok && list.value.local.nodeId).toBe(svc.node.id);
      // The remote's events reach the page: a lookup started on the remote node.
      const started = await page.startLookup({ target: 'cd'.repeat(32) });
      expect(started.ok).toBe(true);
      await next((b) => b.events.some((e) => e.type === 'lookup'));

      // The connection drops: the page gets a resync, then the host reconnects (its 2 s poll) and
      // subscribes the page again, which gets another resync and the remote's answers once more.
      batches.length = 0;
      (svc.remotes as unknown as { nodes: Map<string, { socket: WebSocket }> }).nodes.get(id)!.socket.terminate();
      await next((b) => b.resync === true);
      const down = await page.snapshot();
      expect(down).toMatchObject({ ok: false, code: 'UNAVAILABLE', message: expect.stringMatching(/is not connected \(the connection closed\); retrying every 2 s$/) });
      await next((b) => b.seq === 0 && b.resync === true);
      const again = await page.snapshot();
      expect(again.ok ? again.value.node.id : again).toBe(summary.nodeId);

      // Detached: the page is told so, not left waiting.
      expect(await svc.invoke('remoteDetach', { id })).toEqual({ ok: true, value: { detached: true } });
      expect(await page.snapshot()).toMatchObject({ ok: false, code: 'UNAVAILABLE', message: expect.stringMatching(new RegExp(`no remote node "${id}" is attached`)) });
    } finally {
      unsubscribe();
      page.close();
    }
  });
});
