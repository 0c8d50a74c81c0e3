// The same app in Electron, through Playwright's _electron, where the Electron binary exists. The
// `electron` package downloads its binary lazily on first run; where that cannot happen (no
// internet), this file is skipped with the reason, and the scenarios run in Chromium against the
// headless host (explorer.spec.ts) instead. Never triggers the download (findElectronBinary reads
// the package's path file instead of require('electron')).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { findElectronBinary } from '../../electron/desktop/electron-binary';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'out/main/main.js');
const binary = findElectronBinary();

test.describe('Electron app', () => {
  test.skip(!binary.ok, `${binary.ok ? '' : binary.reason}; the same UI is covered in Chromium against the headless host (explorer.spec.ts)`);
  test.skip(binary.ok && !existsSync(MAIN), 'out/main/main.js is missing: run `npx electron-vite build` first');

  test('launches, shows the node id and the embedded network', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kadscope-electron-'));
    const app = await electron.launch({ executablePath: binary.ok ? binary.path : '', args: [MAIN, `--data-dir=${dataDir}`], cwd: ROOT });
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
