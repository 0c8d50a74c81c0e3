// The Network view in Chromium against the real headless host and its embedded UDP testnet: crawl
// the network from the view (progress, then the map and figures), crawl again, open the past crawl,
// compare the two; screenshots of each step in both themes (test-results/screenshots/).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SCREENSHOT_DIR, expect, openView, test } from './fixtures';

/** A crawl of the 32-node testnet takes seconds; dead nodes (another spec stops some) add 4 s of timeouts. */
const CRAWL_TIMEOUT_MS = 60_000;

test('crawl the embedded testnet from the Network view: the map and the figures; a past crawl opens and compares', async ({ app: page }) => {
  // Two crawls and four full-page screenshots on a shared, loaded machine.
  test.setTimeout(180_000);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await openView(page, 'network');
  await expect(page.getByTestId('crawl-list')).toBeVisible();
  await page.getByTestId('crawl-start').click();
  // Progress shows while it runs, then crawl 1 opens by itself.
  await expect(page.getByTestId('crawl-progress')).toBeVisible();
  await expect(page.getByTestId('crawl-detail')).toHaveAttribute('data-crawl', '1', { timeout: CRAWL_TIMEOUT_MS });
  const found = Number(await page.getByTestId('crawl-found').textContent());
  expect(found, 'the testnet and more').toBeGreaterThanOrEqual(20);
  await expect(page.getByTestId('crawl-reachable')).toContainText('%');
  await expect(page.getByTestId('crawl-map')).toHaveAttribute('data-nodes', String(found));
  await expect(page.getByTestId('crawl-row-1')).toBeVisible();
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(SCREENSHOT_DIR, `network-crawl-${scheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('button', { name: 'Client' }).click();
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'network-by-client-light.png'), fullPage: true });

  // A second crawl, then the first opened from the list and compared with the second.
  await page.getByTestId('crawl-start').click();
  await expect(page.getByTestId('crawl-detail')).toHaveAttribute('data-crawl', '2', { timeout: CRAWL_TIMEOUT_MS });
  await page.getByTestId('crawl-row-1').click();
  await expect(page.getByTestId('crawl-detail')).toHaveAttribute('data-crawl', '1');
  await page.getByTestId('crawl-compare-with').selectOption('2');
  await expect(page.getByTestId('crawl-comparison')).toBeVisible();
  const stayed = Number(await page.getByTestId('compare-still-there').textContent());
  expect(stayed).toBeGreaterThan(0);
  await page.getByTestId('crawl-comparison').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'network-compare-light.png') });
});
