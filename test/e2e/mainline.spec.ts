// The explorer on BitTorrent's Mainline DHT: `kadscope serve --protocol mainline` starts an embedded
// testnet of kadscope nodes speaking Mainline and joins it. The header names the network, the graph
// and a lookup's waterfall show 40-hex ids, a BEP 44 value is stored and fetched through Records,
// and the Testnet view switches the node back to kadscope and to Mainline again. Screenshots in
// test-results/screenshots/ (30-…).
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { LOOKUP_END_TIMEOUT_MS, SCREENSHOT_DIR, expect, openView, startHost, test as base, type Host } from './fixtures';

const ROOT = resolve(import.meta.dirname, '../..');
const MIN_PEERS = 8;

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- Playwright's extend takes test fixtures first
const test = base.extend<{}, { host: Host }>({
  host: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form
    async ({}, use) => {
      const { host, stop } = await startHost((dataDir) => [resolve(ROOT, 'electron/bin/kadscope.mjs'), 'serve', '--port', '0', '--data-dir', dataDir, '--protocol', 'mainline']);
      try {
        await use(host);
      } finally {
        await stop();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],
});

async function peerCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('graph-peer-count').first().getAttribute('data-count'));
}

test('the app on a Mainline testnet: the header names the network, the graph and a waterfall show 40-hex ids', async ({ app: page }) => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await expect(page.getByTestId('header-network')).toHaveAttribute('data-protocol', 'mainline');
  await expect(page.getByTestId('header-network')).toHaveText('BitTorrent Mainline DHT');
  await expect(page.getByTestId('header-node-id')).toHaveAttribute('data-id', /^[0-9a-f]{40}$/);

  await openView(page, 'graph');
  await expect.poll(() => peerCount(page), { timeout: 45_000 }).toBeGreaterThanOrEqual(MIN_PEERS);
  await page.screenshot({ path: join(SCREENSHOT_DIR, '30-mainline-graph-light.png') });

  await openView(page, 'peers');
  await expect(page.getByTestId('peer-client').first()).toHaveText('· KS 0.1');
  await expect(page.getByTestId('peer-bep42').first()).toHaveAttribute('data-compliance', 'exempt');
  await page.screenshot({ path: join(SCREENSHOT_DIR, '34-mainline-peers-light.png') });

  await openView(page, 'buckets');
  const buckets = await page.getByTestId('bucket-row').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-bucket'))));
  expect(buckets.length).toBeGreaterThan(0);
  for (const b of buckets) expect(b).toBeLessThan(160);

  await openView(page, 'lookups');
  await expect(page.getByTestId('lookup-target')).toHaveAttribute('placeholder', '40 hex characters');
  await page.getByTestId('lookup-random').click();
  await expect(page.getByTestId('lookup-target')).toHaveValue(/^[0-9a-f]{40}$/);
  await page.getByTestId('lookup-start').click();
  const detail = page.getByTestId('lookup-detail');
  await expect(detail.getByTestId('lookup-outcome')).toHaveAttribute('data-outcome', /converged|exhausted/, { timeout: LOOKUP_END_TIMEOUT_MS });
  const rows = detail.getByTestId('waterfall-row');
  expect(await rows.count()).toBeGreaterThanOrEqual(3);
  const titles = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
  for (const t of titles) expect(t.split('\n')[0]).toMatch(/^[0-9a-f]{40}$/);
  await page.screenshot({ path: join(SCREENSHOT_DIR, '31-mainline-lookup-light.png') });

  // Its trace says how wide it ran: 2k (16) had to answer, k (8) are the result.
  await detail.getByTestId('replay-lookup').click();
  await expect(page.getByTestId('view-traces')).toBeVisible();
  await expect(page.getByTestId('replay-params')).toContainText('k 8 · waits for 16 · alpha 3');
  await page.screenshot({ path: join(SCREENSHOT_DIR, '36-mainline-trace-light.png') });
});

test('a BEP 44 value stored and fetched through Records: its key is SHA-1 of the bencoded value; the counter counts bencoded bytes; Fetch it carries a salt', async ({ app: page }) => {
  const value = `hello mainline ${Date.now()}`;
  const key = createHash('sha1').update(`${Buffer.byteLength(value)}:${value}`).digest('hex');
  await openView(page, 'records');
  await expect(page.getByText('BEP 44: the key is SHA-1 of the value')).toBeVisible();
  // Named keys are kadscope's (wire v2): neither "At a name" nor fetching by name is offered.
  await expect(page.getByTestId('store-card')).toBeVisible();
  await expect(page.getByRole('button', { name: 'At a name' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Name', exact: true })).toHaveCount(0);
  await page.getByTestId('store-text').fill(value);
  await page.getByTestId('store-submit').click();
  await expect(page.getByTestId('store-result-key')).toHaveText(key);
  await page.getByTestId('store-fetch-it').click();
  await expect(page.getByTestId('fetch-key')).toHaveValue(key);
  await page.getByTestId('fetch-submit').click();
  await expect(page.getByTestId('fetch-value')).toHaveText(value);
  await page.screenshot({ path: join(SCREENSHOT_DIR, '32-mainline-records-light.png') });

  // The counter shows what BEP 44 limits: the value bencoded ("996:" and 996 bytes is 1,000).
  await page.getByTestId('store-text').fill('x'.repeat(996));
  await expect(page.getByTestId('store-size')).toHaveText('1000 / 1000 bytes bencoded (BEP 44)');
  await page.getByTestId('store-text').fill('x'.repeat(997));
  await expect(page.getByTestId('store-size')).toContainText('1001 / 1000 bytes bencoded (BEP 44): too long');
  await expect(page.getByTestId('store-submit')).toBeDisabled();

  // A salted mutable item: "Fetch it" carries the salt, which BEP 44 answers leave out.
  await page.getByRole('button', { name: 'Mutable (signed)' }).click();
  await page.getByTestId('store-text').fill('salted on mainline');
  await page.locator('#store-salt').fill('my-salt');
  await page.getByTestId('store-submit').click();
  await expect(page.getByTestId('store-result')).toContainText('seq 0');
  await page.getByTestId('store-fetch-it').click();
  await expect(page.getByTestId('fetch-salt')).toHaveValue('my-salt');
  await page.getByTestId('fetch-submit').click();
  await expect(page.getByTestId('fetch-value')).toHaveText('salted on mainline');
  await page.screenshot({ path: join(SCREENSHOT_DIR, '35-mainline-records-salted-light.png'), fullPage: true });
});

test('the Testnet view starts a testnet in either protocol; the node follows it', async ({ app: page }) => {
  test.setTimeout(240_000); // two testnets started and joined, on a loaded machine
  await openView(page, 'testnet');
  await page.getByTestId('testnet-stop').click();
  await expect(page.getByTestId('testnet-start')).toBeVisible();
  await page.getByTestId('testnet-protocol').selectOption('kadscope');
  await page.getByTestId('testnet-start').click();
  await expect(page.getByTestId('header-network')).toHaveAttribute('data-protocol', 'kadscope', { timeout: 60_000 });
  await expect(page.getByTestId('header-node-id')).toHaveAttribute('data-id', /^[0-9a-f]{64}$/);
  await openView(page, 'graph');
  await expect.poll(() => peerCount(page), { timeout: 45_000 }).toBeGreaterThanOrEqual(MIN_PEERS);

  await openView(page, 'testnet');
  await page.getByTestId('testnet-stop').click();
  await page.getByTestId('testnet-protocol').selectOption('mainline');
  await page.getByTestId('testnet-start').click();
  await expect(page.getByTestId('header-network')).toHaveAttribute('data-protocol', 'mainline', { timeout: 60_000 });
  await expect(page.getByTestId('header-node-id')).toHaveAttribute('data-id', /^[0-9a-f]{40}$/);
  await openView(page, 'graph');
  await expect.poll(() => peerCount(page), { timeout: 45_000 }).toBeGreaterThanOrEqual(MIN_PEERS);
  await page.screenshot({ path: join(SCREENSHOT_DIR, '33-mainline-after-switch-light.png') });
});

test('a crawl of the Mainline testnet from the Network view: clients by their v, BEP 42 and BEP 51 figures', async ({ app: page }) => {
  test.setTimeout(120_000);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await openView(page, 'network');
  await expect(page.getByTestId('crawl-protocol')).toHaveValue('mainline');
  await page.getByTestId('crawl-start').click();
  await expect(page.getByTestId('crawl-detail')).toBeVisible({ timeout: 60_000 });
  const reachable = (await page.getByTestId('crawl-reachable').textContent())!.split(' ')[0];
  // kadscope's Mainline nodes send v = "KS" 0 1; every id on loopback is BEP 42 exempt.
  await expect(page.getByTestId('crawl-bep42')).toHaveText(`0 compliant · ${reachable} exempt · 0 not`);
  // Every kadscope Mainline node answers sample_infohashes (BEP 51).
  await expect(page.getByTestId('crawl-samples')).toContainText(`${reachable} answered · 0 not supported · 0 error`);
  await page.getByRole('button', { name: 'Client' }).click();
  await expect(page.getByTestId('crawl-legend')).toContainText(`KS 0.1 ${reachable}`);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'network-mainline-crawl-light.png') });
});
