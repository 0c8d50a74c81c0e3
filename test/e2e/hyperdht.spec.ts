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

test('HyperDHT values stored and fetched through Records: immutable at BLAKE2b-256 of the value, mutable at BLAKE2b-256 of the public key', async ({ page }) => {
  test.setTimeout(120_000);
  await open(page);
  // The node needs peers before a store can reach the closest nodes.
  await openView(page, 'peers');
  await expect.poll(async () => Number(await page.getByTestId('peers-count').getAttribute('data-count')), { timeout: 20_000 }).toBeGreaterThanOrEqual(10);

  const value = `hello hyperdht ${Date.now()}`;
  await openView(page, 'records');
  await expect(page.getByText('HyperDHT: the key is BLAKE2b-256 of the value')).toBeVisible();
  await expect(page.getByRole('button', { name: 'At a name' })).toHaveCount(0);
  await page.getByTestId('store-text').fill(value);
  await page.getByTestId('store-submit').click();
  const key = await page.getByTestId('store-result-key').textContent();
  expect(key).toMatch(/^[0-9a-f]{64}$/);
  expect(Number(await page.getByTestId('store-result-nodes').getAttribute('data-count'))).toBeGreaterThanOrEqual(5);
  await page.getByTestId('store-fetch-it').click();
  await expect(page.getByTestId('fetch-key')).toHaveValue(key!);
  await page.getByTestId('fetch-submit').click();
  await expect(page.getByTestId('fetch-value')).toHaveText(value);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'hyperdht-04-records-immutable.png'), fullPage: true });

  // Mutable: signed with a fresh key pair; "Fetch it" works because the node knows its own public key.
  await page.getByRole('button', { name: 'Mutable (signed)' }).click();
  await expect(page.getByText('HyperDHT: the key is BLAKE2b-256 of your public key')).toBeVisible();
  await expect(page.locator('#store-salt')).toHaveCount(0);
  await page.getByTestId('store-text').fill('mutable on hyperdht');
  await page.getByTestId('store-submit').click();
  await expect(page.getByTestId('store-result')).toContainText('seq 0');
  const mutableKey = await page.getByTestId('store-result-key').textContent();
  await page.getByTestId('store-fetch-it').click();
  await expect(page.getByTestId('fetch-key')).toHaveValue(mutableKey!);
  await page.getByTestId('fetch-submit').click();
  await expect(page.getByTestId('fetch-value')).toHaveText('mutable on hyperdht');
  await expect(page.getByTestId('fetch-result')).toContainText('seq 0');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'hyperdht-05-records-mutable.png'), fullPage: true });
});
