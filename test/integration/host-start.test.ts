// `npm start` where the Electron binary is missing: one clear line, then the headless host serving
// the UI; the printed URL gives a working API (the node id is readable). Plus the binary detection.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createWsClient, type SocketLike } from '../../electron/host/client';
import { findElectronBinary } from '../../electron/desktop/electron-binary';
import { withTempDir } from '../temp-dir';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX_CLI = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
/** Bounded real waits: a child process and sockets are real here. */
const START_WAIT_MS = 30_000;

describe('findElectronBinary', () => {
  let dir: string;
  withTempDir('kadscope-electron-', (d) => (dir = d), 'block');

  it('reports a missing binary without trying to download it', async () => {
    expect(findElectronBinary(null, {})).toEqual({ ok: false, reason: 'the electron package is not installed' });
    const r = findElectronBinary(dir, {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^the Electron binary is not installed/);
    await writeFile(join(dir, 'path.txt'), 'electron');
    const missing = findElectronBinary(dir, {});
    expect(missing).toEqual({ ok: false, reason: `the Electron binary is missing (${join(dir, 'dist', 'electron')} does not exist)` });
  });

  it('finds the binary named by path.txt, or under ELECTRON_OVERRIDE_DIST_PATH', async () => {
    await mkdir(join(dir, 'dist'), { recursive: true });
    await writeFile(join(dir, 'path.txt'), 'electron');
    await writeFile(join(dir, 'dist', 'electron'), '');
    expect(findElectronBinary(dir, {})).toEqual({ ok: true, path: join(dir, 'dist', 'electron') });
    expect(findElectronBinary(dir, { ELECTRON_OVERRIDE_DIST_PATH: join(dir, 'nowhere') }).ok).toBe(false);
    expect(findElectronBinary(dir, { ELECTRON_OVERRIDE_DIST_PATH: join(dir, 'dist') })).toEqual({ ok: true, path: join(dir, 'dist', 'electron') });
  });
});

describe('npm start without the Electron binary', () => {
  let dataDir: string;
  let child: ChildProcess | null = null;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kadscope-start-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  interface Launched {
    child: ChildProcess;
    lines: string[];
    exit: Promise<number | null>;
    /** Resolves when a printed line matches (bounded; rejects if the process exits first). */
    line(pred: (l: string) => boolean): Promise<string>;
  }

  function launch(args: string[]): Launched {
    const c = spawn(process.execPath, [TSX_CLI, 'electron/desktop/start.ts', ...args], {
      cwd: ROOT,
      // An empty override directory: "no binary" here even on a machine that has one.
      env: { ...process.env, KADSCOPE_SKIP_BUILD: '1', ELECTRON_OVERRIDE_DIST_PATH: join(dataDir, 'no-electron') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const waiters = new Set<() => void>();
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      lines.push(...parts);
      for (const w of [...waiters]) w();
    };
    c.stdout!.on('data', onData);
    c.stderr!.on('data', onData);
    const exit = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
    const line = (pred: (l: string) => boolean): Promise<string> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(pred);
          if (found === undefined) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no such line within ${START_WAIT_MS} ms:\n${lines.join('\n')}`));
        }, START_WAIT_MS);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        void exit.then(() => {
          done();
          reject(new Error(`exited before printing it:\n${lines.join('\n')}`));
        });
        waiters.add(check);
        check();
      });
    return { child: c, lines, exit, line };
  }

  it('refuses a bad option with exit code 2 and a usage line', async () => {
    const r = launch(['--bootstrap', '127.0.0.1:99999']);
    expect(await r.exit).toBe(2);
    expect(r.lines[0]).toBe('kadscope: --bootstrap: 127.0.0.1:99999: port must be 1-65535');
  });

  it('says so in one line, serves the UI and the API at the printed URL, and stops on SIGTERM', async () => {
    const r = launch(['--port', '0', '--testnet-size', '4', '--data-dir', dataDir]);
    child = r.child;
    const printed = await r.line((l) => l.startsWith('kadscope: open '));
    const mine = r.lines.filter((l) => l.startsWith('kadscope:'));
    expect(mine[0]).toMatch(/^kadscope: ELECTRON_OVERRIDE_DIST_PATH has no Electron binary at .*; serving the UI headless instead\.$/);
    expect(mine).toHaveLength(2); // that one line, then the URL
    const url = new URL(printed.slice('kadscope: open '.length));
    expect(url.hostname).toBe('127.0.0.1');
    const token = url.searchParams.get('token')!;
    expect(token).toMatch(/^[0-9a-f]{64}$/);

    const ws = new WebSocket(`ws://${url.host}/ws?token=${token}`, { origin: url.origin });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const client = createWsClient(ws as unknown as SocketLike);
    const snap = await client.snapshot();
    expect(snap.ok).toBe(true);
    if (snap.ok) {
      expect(snap.value.node.id).toMatch(/^[0-9a-f]{64}$/);
      expect(snap.value.testnet).toMatchObject({ running: true, alive: 4 });
    }
    expect(await client.info()).toMatchObject({ ok: true, value: { host: 'web', dataDir, mode: 'embedded-testnet' } });
    client.close();

    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
  });
});
