// The same app in Electron, through Playwright's _electron, where the Electron binary exists. The
// `electron` package downloads its binary lazily on first run; where that cannot happen (no
// internet), this file is skipped with the reason, and the scenarios run in Chromium against the
// headless host (explorer.spec.ts) instead. Never triggers the download: it reads the path file.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';

const ROOT = resolve(import.meta.dirname, '../..');
const ELECTRON_DIR = join(ROOT, 'node_modules/electron');
const MAIN = join(ROOT, 'out/main/main.js');

/** The binary's path as the electron package would resolve it, or null when it is not installed. */
function electronBinary(): string | null {
  const pathFile = join(ELECTRON_DIR, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const rel = readFileSync(pathFile, 'utf8').trim();
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(ELECTRON_DIR, 'dist');
  const full = join(dist, rel);
  return existsSync(full) ? full : null;
}

const binary = electronBinary();

test.describe('Electron app', () => {
  test.skip(binary === null, 'the Electron binary is not installed here (it downloads on first run, which needs the internet); the Chromium e2e covers the UI');
  test.skip(binary !== null && !existsSync(MAIN), 'out/main/main.js is missing: run `npx electron-vite build` first');

  test('launches, shows the node id and the embedded network', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kadscope-electron-'));
    const app = await electron.launch({ executablePath: binary!, args: [MAIN, `--data-dir=${dataDir}`], cwd: ROOT });
    try {
      const page = await app.firstWindow();
      await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
      await expect(page.getByTestId('header-node-id')).toHaveAttribute('data-id', /^[0-9a-f]{64}$/);
      await page.getByTestId('nav-graph').click();
      await expect.poll(async () => Number(await page.getByTestId('graph-peer-count').getAttribute('data-count')), { timeout: 20_000 }).toBeGreaterThanOrEqual(20);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
