// The renderer runs under a strict Content-Security-Policy with no inline script and no eval: the
// headless host serves the BUILT renderer (out/renderer, or a fresh vite build when it is missing)
// with the policy, and the built page has nothing the policy would have to allow (no inline
// script, event-handler attribute, javascript: URL or inline style; every script and stylesheet our
// own, same-origin file). Electron's policy (electron/host/csp.ts without a WebSocket) is held to the same
// rules. (host.test.ts checks the header on a stand-in page; this checks the real build.)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { err } from '../../electron/host/contract';
import { contentSecurityPolicy } from '../../electron/host/csp';
import { DEFAULT_RENDERER_DIR, startWebHost, type WebHost } from '../../electron/host/web-host';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD_TIMEOUT_MS = 180_000;

/** Directives of a policy, by name. */
function directives(policy: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

/** The rules a policy must follow: our own origin only, nothing inline, no eval, no plugins, no framing. */
function expectStrict(policy: string, websocket: string | null): void {
  const d = directives(policy);
  expect(d.get('default-src')).toEqual(["'self'"]);
  expect(d.get('script-src')).toEqual(["'self'"]);
  expect(d.get('style-src')).toEqual(["'self'"]);
  expect(d.get('object-src')).toEqual(["'none'"]);
  expect(d.get('base-uri')).toEqual(["'none'"]);
  expect(d.get('frame-ancestors')).toEqual(["'none'"]);
  expect(d.get('form-action')).toEqual(["'none'"]);
  expect(d.get('connect-src')).toEqual(websocket ? ["'self'", websocket] : ["'self'"]);
  for (const [name, values] of d) {
    for (const v of values) {
      expect(v, `${name} ${v}`).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|wasm-unsafe-eval|strict-dynamic|^\*$|^https?:$|^'nonce-|^'sha/);
    }
    // data: and blob: only where they cannot run code.
    if (values.includes('data:') || values.includes('blob:')) expect(['img-src', 'worker-src', 'font-src']).toContain(name);
  }
}

function get(host: WebHost, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(path, host.origin);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { Host: url.host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the built renderer under its Content-Security-Policy', () => {
  let rendererDir: string | null = null;
  let skipReason = '';
  let built: string | null = null;
  let host: WebHost | null = null;

  beforeAll(async () => {
    if (existsSync(join(DEFAULT_RENDERER_DIR, 'index.html'))) {
      rendererDir = DEFAULT_RENDERER_DIR;
    } else {
      // Not built yet (a fresh checkout): build into a temporary directory, leaving out/ alone.
      built = await mkdtemp(join(tmpdir(), 'kadscope-renderer-'));
      const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(ROOT, 'renderer', 'vite.config.ts'), '--outDir', built, '--emptyOutDir', '--logLevel', 'error'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: BUILD_TIMEOUT_MS,
      });
      if (r.status === 0 && existsSync(join(built, 'index.html'))) rendererDir = built;
      else skipReason = `out/renderer is not built and \`vite build\` failed here (${(r.stderr || r.error?.message || '').trim().slice(0, 300)})`;
    }
    if (rendererDir) host = await startWebHost({ invoke: async (m) => err('UNKNOWN_METHOD', m), subscribe: () => () => undefined }, { port: 0, rendererDir });
  }, BUILD_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await host?.close();
    if (built) await rm(built, { recursive: true, force: true });
  });

  it('the web host serves index.html with the strict policy and the other security headers', async (ctx) => {
    if (!host) return ctx.skip(skipReason);
    const index = await get(host, '/');
    expect(index.status).toBe(200);
    expectStrict(String(index.headers['content-security-policy']), host.origin.replace(/^http/, 'ws'));
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['x-frame-options']).toBe('DENY');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
  });

  it('the built page has no inline script, handler attribute, javascript: URL or inline style; its scripts and styles are our own files', async (ctx) => {
    if (!host || !rendererDir) return ctx.skip(skipReason);
    const html = await readFile(join(rendererDir, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    const sources: string[] = [];
    for (const [, attrs, body] of scripts) {
      expect(body.trim(), 'inline script').toBe('');
      const src = /\bsrc\s*=\s*"([^"]+)"/i.exec(attrs)?.[1];
      expect(src, `a <script> without src: ${attrs}`).toBeDefined();
      sources.push(src!);
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    const styles = [...html.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"/gi)].map((m) => m[1]);
    // A path on our own origin: absolute (`/assets/…`, the renderer's vite config) or relative to the
    // page at / (`./assets/…`, what `electron-vite build`, run by `kadscope serve` and `npm start`,
    // writes for file://); never another origin (`//host/…`, `https:`).
    const onOrigin = (path: string): string => {
      expect(path, 'same-origin path').toMatch(/^(\.\/|\/)(?![/\\])/);
      return new URL(path, 'http://origin.invalid/').pathname;
    };
    const sourcePaths = sources.map(onOrigin);
    for (const path of [...sourcePaths, ...styles.map(onOrigin)]) {
      const r = await get(host, path);
      expect(r.status, path).toBe(200);
      expect(String(r.headers['content-type'])).toMatch(path.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
    }
    // Code that would need 'unsafe-eval' fails under this policy; count it, so a new use shows up here.
    let evalUses = 0;
    for (const path of sourcePaths) {
      const js = (await get(host, path)).body;
      evalUses += (js.match(/\beval\(|new Function\(/g) ?? []).length;
    }
    console.log(`built renderer: ${sources.length} script(s), ${styles.length} stylesheet(s); eval/new Function sites in the bundle: ${evalUses} (blocked by the policy; libraries probe for eval and fall back)`);
  });

  it("Electron's page policy follows the same rules", () => {
    expectStrict(contentSecurityPolicy(), null);
  });
});
