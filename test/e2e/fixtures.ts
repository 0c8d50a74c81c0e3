// Fixtures for the e2e: a real headless host (`kadscope serve`, with its embedded 32-node UDP testnet
// on 127.0.0.1) per worker, a page opened on its URL, and a guard that fails a test on any page error
// or Content-Security-Policy violation.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';

const ROOT = resolve(import.meta.dirname, '../..');
/** The host prints its URL once the node, the testnet and the web server are up. */
const HOST_START_TIMEOUT_MS = 45_000;
const HOST_STOP_TIMEOUT_MS = 10_000;
/**
 * How long a lookup on the embedded testnet may run before the UI shows its outcome. The scenarios
 * share one network, and one stops 10 of its 32 nodes: a lookup then waits for the dead peers it
 * meets (2 attempts of 2 s each, in parallel, about 5 s; more if the node's loss estimate raises
 * the retries on a loaded machine).
 */
export const LOOKUP_END_TIMEOUT_MS = 30_000;
const URL_LINE = /kadscope: open (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/;
/** Lines of host output kept to explain a failure. */
const MAX_LOG_LINES = 200;

export interface Host {
  url: string;
  log: string[];
}

/** `kadscope serve`, the headless host. */
const SERVE = (dataDir: string): string[] => [resolve(ROOT, 'electron/bin/kadscope.mjs'), 'serve', '--port', '0', '--data-dir', dataDir];

/**
 * Starts a host process (by default `kadscope serve`; `command` gives node's arguments for another,
 * e.g. `npm start`'s launcher) and waits for the URL it prints.
 */
export async function startHost(
  command: (dataDir: string) => string[] = SERVE,
  env: NodeJS.ProcessEnv = {},
): Promise<{ host: Host; stop: () => Promise<void> }> {
  // A host someone already runs (`kadscope serve`), e.g. while developing the renderer.
  const given = process.env.KADSCOPE_E2E_URL;
  if (given && command === SERVE) return { host: { url: given, log: [] }, stop: async () => undefined };
  const dataDir = mkdtempSync(join(tmpdir(), 'kadscope-e2e-'));
  const child: ChildProcess = spawn(process.execPath, command(dataDir), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  // If this worker dies without teardown, the host goes with it.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const log: string[] = [];
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), HOST_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', killOnExit);
    rmSync(dataDir, { recursive: true, force: true });
  };
  let url: string;
  try {
    url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`the host printed no URL within ${HOST_START_TIMEOUT_MS} ms:\n${log.join('\n')}`)), HOST_START_TIMEOUT_MS);
      const onData = (chunk: Buffer): void => {
        for (const line of chunk.toString().split('\n')) {
          if (line === '') continue;
          log.push(line);
          if (log.length > MAX_LOG_LINES) log.shift();
          const m = URL_LINE.exec(line);
          if (m) {
            clearTimeout(timer);
            resolveUrl(m[1]);
          }
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the host exited (${code}) before printing its URL:\n${log.join('\n')}`));
      });
    });
  } catch (e) {
    await stop(); // never leave a half-started host behind
    throw e;
  }
  return { host: { url, log }, stop };
}

type WorkerFixtures = { host: Host };
type TestFixtures = { app: Page; problems: string[] };

export const test = base.extend<TestFixtures, WorkerFixtures>({
  host: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form
    async ({}, use) => {
      const { host, stop } = await startHost();
      try {
        await use(host);
      } finally {
        await stop();
      }
    },
    { scope: 'worker', timeout: HOST_START_TIMEOUT_MS + HOST_STOP_TIMEOUT_MS },
  ],
  problems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      // Chromium logs CSP violations to the console; the DOM event catches any it might not.
      await page.addInitScript(`
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));
      `);
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' || /Content[- ]Security[- ]Policy/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
      });
      await use(problems);
      if (!page.isClosed()) {
        const csp = await page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []).catch(() => [] as string[]);
        for (const v of csp as string[]) problems.push(`CSP violation: ${v}`);
      }
      expect(problems, 'no page errors, console errors or CSP violations').toEqual([]);
    },
    { auto: true },
  ],
  app: async ({ page, host }, use) => {
    await page.goto(host.url);
    await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
    await use(page);
  },
});

export { expect };

/** Goes to a view through the left navigation, as a user would. */
export async function openView(page: Page, view: string): Promise<void> {
  await page.getByTestId(`nav-${view}`).click();
  await expect(page.getByTestId(`view-${view}`)).toBeVisible();
}

export const SCREENSHOT_DIR = resolve(ROOT, 'test-results/screenshots');
