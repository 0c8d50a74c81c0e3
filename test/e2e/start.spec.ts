// `npm start` where the Electron binary is missing (as on these machines): the launcher says so in
// one line, serves the UI headless and prints a URL; Chromium opens it and sees our node's id.
import { resolve } from 'node:path';
import { test as base, expect } from '@playwright/test';
import { findElectronBinary } from '../../electron/desktop/electron-binary';
import { startHost } from './fixtures';

const ROOT = resolve(import.meta.dirname, '../..');
const electron = findElectronBinary();

base.describe('npm start without the Electron binary', () => {
  base.skip(electron.ok, 'the Electron binary is present here: npm start launches Electron (electron.spec.ts covers it)');

  base('says why in one line, serves the UI, and the page shows the node id', async ({ page }) => {
    // The global setup has built the renderer; the launcher would otherwise build it first.
    const { host, stop } = await startHost(
      (dataDir) => ['--import', 'tsx', resolve(ROOT, 'electron/desktop/start.ts'), '--port', '0', '--testnet-size', '8', '--data-dir', dataDir],
      { KADSCOPE_SKIP_BUILD: '1' },
    );
    try {
      const why = host.log.filter((l) => /serving the UI headless instead/.test(l));
      expect(why, host.log.join('\n')).toHaveLength(1);
      await page.goto(host.url);
      await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
      const id = page.getByTestId('header-node-id');
      await expect(id).toHaveAttribute('data-id', /^[0-9a-f]{64}$/);
      await expect(id).toHaveText(/^[0-9a-f]{12}/);
    } finally {
      await stop();
    }
  });
});
