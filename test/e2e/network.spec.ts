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
  // The crawl speaks the node's protocol unless another is picked; another network needs addresses.
  const picker = page.getByTestId('crawl-protocol');
  await expect(picker).toHaveValue('kadscope');
  await expect(picker.locator('option')).toHaveText(['kadscope (your node’s)', 'mainline', 'hyperdht']);
  await picker.selectOption('mainline');
  await expect(page.getByTestId('crawl-start')).toBeDisabled();
  await page.getByTestId('crawl-bootstrap').fill('127.0.0.1:6881');
  await expect(page.getByTestId('crawl-start')).toBeEnabled();
  await page.getByTestId('crawl-bootstrap').fill('');
  await picker.selectOption('kadscope');
  await page.getByTestId('crawl-start').click();
  // Progress shows while it runs, then crawl 1 opens by itself.
  await expect(page.getByTestId('crawl-progress')).toBeVisible();
  await expect(page.getByTestId('crawl-detail')).toHaveAttribute('data-crawl', '1', { timeout: CRAWL_TIMEOUT_MS });
  const found = Number(await page.getByTestId('crawl-found').textContent());
  expect(found, 'the testnet and more').toBeGreaterThanOrEqual(20);
  await expect(page.getByTestId('crawl-reachable')).toContainText('%');
  await expect(page.getByTestId('crawl-map')).toHaveAttribute('data-nodes', String(found));
  await expect(page.getByTestId('crawl-row-1')).toBeVisible();
  // At 1440x900 the map, its legend and the figures are in view together, without scrolling.
  const vp = page.viewportSize()!;
  for (const id of ['crawl-map', 'crawl-legend', 'crawl-figures']) {
    const box = (await page.getByTestId(id).boundingBox())!;
    expect(box.y + box.height, `${id} bottom`).toBeLessThanOrEqual(vp.height);
  }
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'network-crawl-fold-light.png') });
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
