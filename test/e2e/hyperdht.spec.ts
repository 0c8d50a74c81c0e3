// HyperDHT in the explorer: `kadscope serve --protocol hyperdht` runs the user's node and a 16-node
// embedded testnet that speak dht-rpc (DhtNode on the protocol seam). The page says which network
// it is (and Join offers it), every peer's id is the BLAKE2b-256 of its address, and a lookup runs to its outcome.
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, LOOKUP_END_TIMEOUT_MS, openView, SCREENSHOT_DIR, startHost, test } from './fixtures';

const ROOT = resolve(import.meta.dirname, '../..');

let url = '';
let stopHost: (() => Promise<void>) | null = null;

test.beforeAll(async () => {
  const { host, stop } = await startHost((dataDir) => [
    resolve(ROOT, 'electron/bin/kadscope.mjs'),
    'serve',
    '--protocol',
    'hyperdht',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--testnet-size',
    '16',
  ]);
  url = host.url;
  stopHost = stop;
});

test.afterAll(async () => {
  await stopHost?.();
});

async function open(page: Page): Promise<void> {
  await page.goto(url);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
}

test('joins a HyperDHT testnet: the network named, peers whose ids match their addresses, a lookup', async ({ page }) => {
  test.setTimeout(120_000);
  await open(page);
  await expect(page.getByTestId('header-network')).toHaveAttribute('data-protocol', 'hyperdht');
  await expect(page.getByTestId('header-network')).toHaveText('HyperDHT (Hyperswarm)');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'hyperdht-01-overview.png') });

  await openView(page, 'peers');
  await expect.poll(async () => Number(await page.getByTestId('peers-count').getAttribute('data-count')), { timeout: 20_000 }).toBeGreaterThanOrEqual(10);
  await expect(page.getByTestId('id-checks')).toHaveText('· every id matches its address');
  const checks = page.getByTestId('peer-row').getByTestId('id-check');
  await expect(checks.first()).toHaveAttribute('data-ok', 'true');
  await expect(page.getByTestId('peer-row').getByTestId('id-check').and(page.locator('[data-ok="false"]'))).toHaveCount(0);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'hyperdht-02-peers.png') });

  await openView(page, 'join');
  await expect(page.getByTestId('join-protocol')).toHaveValue('hyperdht');

  await openView(page, 'lookups');
  await page.getByTestId('lookup-random').click();
  await page.getByTestId('lookup-start').click();
  const detail = page.getByTestId('lookup-detail');
  await expect(detail.getByTestId('lookup-outcome')).toHaveAttribute('data-outcome', /converged|exhausted/, { timeout: LOOKUP_END_TIMEOUT_MS });
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'hyperdht-03-lookup.png') });
});
