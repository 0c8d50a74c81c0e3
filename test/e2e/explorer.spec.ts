// The explorer in Chromium against the real headless host and its embedded 32-node UDP testnet.
// Scenarios: a newcomer's first minute, store and fetch, a lookup's waterfall, nodes
// going away, and a screenshot of every view in both themes (test-results/screenshots/).
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { LOOKUP_END_TIMEOUT_MS, SCREENSHOT_DIR, expect, openView, test } from './fixtures';

/** How long the poll waits for the embedded network to fill the graph: a bound on a hung page, not a
 *  speed assertion (tests never assert timings; how fast a newcomer sees peers is a benchmark's figure). */
const FIRST_PEERS_POLL_MS = 45_000;
const MIN_PEERS_ON_GRAPH = 20;
/** Dead peers turn bad after three unanswered requests (2 s timeout each, plus a retry). */
const BAD_PEERS_TIMEOUT_MS = 45_000;
const NODES_TO_STOP = 10;

async function count(page: Page, testId: string, attr = 'data-count'): Promise<number> {
  return Number(await page.getByTestId(testId).first().getAttribute(attr));
}

test('a newcomer sees the embedded network come alive: peers on the graph and filled buckets', async ({ page, host }) => {
  await page.goto(`${host.url}#/graph`);
  await expect(page.getByTestId('view-graph')).toBeVisible();
  await expect
    .poll(() => count(page, 'graph-peer-count'), { timeout: FIRST_PEERS_POLL_MS, message: `at least ${MIN_PEERS_ON_GRAPH} peers on the graph` })
    .toBeGreaterThanOrEqual(MIN_PEERS_ON_GRAPH);
  // Cytoscape drew into its canvas and the legend counts healthy peers.
  await expect(page.locator('[data-testid="graph"] canvas').first()).toBeVisible();
  expect(await count(page, 'legend-good')).toBeGreaterThan(0);

  await openView(page, 'buckets');
  const rows = page.getByTestId('bucket-row');
  await expect(rows.first()).toBeVisible();
  const fills = await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-fill'))));
  expect(fills.filter((n) => n > 0).length, 'several non-empty buckets').toBeGreaterThanOrEqual(2);
  expect(fills.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(MIN_PEERS_ON_GRAPH);

  // The header and the overview agree on who we are; the diversity limits are flagged as off.
  await openView(page, 'overview');
  const id = await page.getByTestId('node-id').getAttribute('data-id');
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  await expect(page.getByTestId('header-node-id')).toHaveAttribute('data-id', id!);
  await expect(page.getByTestId('diversity-off')).toBeVisible();
});

test('store a value in Records, fetch it by its key: same value, and the nodes that held it', async ({ app: page }) => {
  const value = `hello from the e2e suite ${Date.now()}`;
  await openView(page, 'records');
  await page.getByTestId('store-text').fill(value);
  await page.getByTestId('store-submit').click();
  const key = page.getByTestId('store-result-key');
  await expect(key).toHaveText(createHash('sha256').update(value).digest('hex'));
  expect(await count(page, 'store-result-nodes')).toBeGreaterThan(0);

  await page.getByTestId('store-fetch-it').click();
  await expect(page.getByTestId('fetch-key')).toHaveValue(createHash('sha256').update(value).digest('hex'));
  await page.getByTestId('fetch-submit').click();
  await expect(page.getByTestId('fetch-value')).toHaveText(value);
  await expect.poll(() => count(page, 'fetch-holders')).toBeGreaterThan(0);
  // We hold it, so the user chooses. The network (the default) ran a lookup and links to it; our own
  // copy is read with no lookup and offers none.
  await expect(page.getByTestId('fetch-source')).toBeVisible();
  await expect(page.getByTestId('fetch-result').getByTestId('lookup-link')).toBeVisible();
  await page.getByRole('button', { name: 'This node’s copy' }).click();
  await page.getByTestId('fetch-submit').click();
  await expect(page.getByTestId('fetch-route')).toHaveText('Answered from this node’s own copy: no lookup ran.');
  await expect(page.getByTestId('fetch-value')).toHaveText(value);
  await expect(page.getByTestId('fetch-result').getByTestId('lookup-link')).toHaveCount(0);
});

test('a value of only spaces is refused with a word, before anything is stored', async ({ app: page }) => {
  await openView(page, 'records');
  await page.getByTestId('store-text').fill('   \n  ');
  await expect(page.getByTestId('store-size')).toContainText('only spaces or line breaks');
  await expect(page.getByTestId('store-submit')).toBeDisabled();
  await page.getByRole('button', { name: 'Mutable (signed)' }).click();
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, '23-records-blank-mutable-light.png') });
});

test('a mutable record: signed with a generated key pair, then updated with the next seq', async ({ app: page }) => {
  await openView(page, 'records');
  await page.getByRole('button', { name: 'Mutable (signed)' }).click();
  await page.getByTestId('store-text').fill('version 1');
  await page.getByTestId('store-submit').click();
  const result = page.getByTestId('store-result');
  await expect(result).toContainText('seq 0');
  const key = await page.getByTestId('store-result-key').textContent();
  expect(key).toMatch(/^[0-9a-f]{64}$/);
  // The form moved on to the new key pair and the next seq: storing again updates the same key.
  await expect(page.getByLabel('seq')).toHaveValue('1');
  await page.getByTestId('store-text').fill('version 2');
  await page.getByTestId('store-submit').click();
  await expect(result).toContainText('seq 1');
  await expect(page.getByTestId('store-result-key')).toHaveText(key!);
  await page.getByTestId('store-fetch-it').click();
  await page.getByTestId('fetch-submit').click();
  await expect(page.getByTestId('fetch-value')).toHaveText('version 2');
});

test('graph: search by id prefix focuses a peer; its panel pings it', async ({ app: page }) => {
  await openView(page, 'peers');
  const id = await page.getByTestId('peer-row').first().locator('[data-id]').getAttribute('data-id');
  await openView(page, 'graph');
  await page.getByLabel('Search peers by id prefix').fill(id!.slice(0, 10));
  await expect(page.getByTestId('graph-matches')).toContainText('1 match');
  await page.getByLabel('Search peers by id prefix').press('Enter');
  const panel = page.getByTestId('side-panel');
  await expect(panel.getByTestId('panel-id')).toHaveAttribute('data-id', id!);
  await panel.getByTestId('panel-ping').click();
  await expect(panel.getByTestId('ping-result')).toContainText('Answered in');
});

test('a lookup shows its waterfall of RPCs and its outcome, and its route on the graph', async ({ app: page }) => {
  test.setTimeout(120_000); // a lookup, then a replay at one event per beat, on a loaded machine
  await openView(page, 'lookups');
  await page.getByTestId('lookup-random').click();
  await page.getByTestId('lookup-start').click();
  const detail = page.getByTestId('lookup-detail');
  await expect(detail.getByTestId('lookup-outcome')).toHaveAttribute('data-outcome', /converged|exhausted/, { timeout: LOOKUP_END_TIMEOUT_MS });
  const rows = detail.getByTestId('waterfall-row');
  expect(await rows.count()).toBeGreaterThanOrEqual(3);
  await expect(detail.locator('[data-testid="waterfall-row"][data-outcome="response"]').first()).toBeVisible();
  await expect(page.getByTestId('recent-lookup').first()).toBeVisible();

  // A row opens what that peer answered.
  await rows.first().click();
  await expect(page.getByTestId('waterfall-detail')).toContainText('answered');

  // The route on the graph: an arrow per peer asked (the box counts them), replayable event by event.
  const asked = await rows.count();
  await page.getByTestId('show-on-graph').click();
  const box = page.getByTestId('graph-lookup');
  await expect(box).toBeVisible();
  await expect(box).toHaveAttribute('data-route', String(asked));
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, '20-lookup-route-light.png') });
  await page.getByTestId('graph-replay').click();
  const caption = page.getByTestId('graph-replay-caption');
  await expect.poll(async () => Number(await caption.getAttribute('data-shown'))).toBeGreaterThanOrEqual(3);
  await page.screenshot({ path: join(SCREENSHOT_DIR, '21-lookup-route-replaying-light.png') });
  await page.getByTestId('graph-replay-stop').click();
  await expect(caption).toHaveCount(0);
});

test('a find-value for a key nobody holds says not found, not a green converged', async ({ app: page }) => {
  await openView(page, 'lookups');
  await page.getByRole('button', { name: 'Find value' }).click();
  await page.getByTestId('lookup-random').click();
  await page.getByTestId('lookup-start').click();
  const outcome = page.getByTestId('lookup-detail').getByTestId('lookup-outcome');
  await expect(outcome).toHaveAttribute('data-verdict', 'not-found', { timeout: LOOKUP_END_TIMEOUT_MS });
  await expect(outcome).toHaveText('not found');
  await expect(page.locator('[data-testid="waterfall-row"][data-value="true"]')).toHaveCount(0);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, '22-find-value-miss-light.png') });
});

test('the bootstrap form validates as you type with the contract’s messages', async ({ app: page }) => {
  await openView(page, 'join');
  const input = page.getByTestId('join-addresses');
  await input.fill('127.0.0.1:99999');
  await expect(page.getByTestId('join-error')).toHaveText('127.0.0.1:99999: port must be 1-65535');
  await expect(page.getByTestId('join-submit')).toBeDisabled();
  await input.fill('/ip4/127.0.0.1/tcp/4000');
  await expect(page.getByTestId('join-error')).toHaveText('/ip4/127.0.0.1/tcp/4000: kadscope speaks UDP: expected /udp/port, not /tcp');
  await input.fill('127.0.0.1:4000, [::1]:4000\n/ip6/::1/udp/4001');
  await expect(page.getByTestId('join-validation')).toContainText('3 addresses look right');
  await expect(page.getByTestId('join-submit')).toBeEnabled();
});

test('a join where nothing listens (127.0.0.1:9) says so, and that the node keeps the peers it has', async ({ app: page }) => {
  await openView(page, 'join');
  await page.getByTestId('join-addresses').fill('127.0.0.1:9');
  await page.getByTestId('join-submit').click();
  const result = page.getByTestId('join-result');
  // The node has the testnet's peers: it is not "still alone", whatever this address did.
  await expect(result).toContainText(/No bootstrap address answered; the node keeps the \d+ peers it already had\./, { timeout: LOOKUP_END_TIMEOUT_MS });
  await expect(result).not.toContainText('alone');
  const kept = Number(/keeps the (\d+) peers/.exec((await result.textContent()) ?? '')?.[1]);
  expect(kept).toBeGreaterThan(0);
  await expect(result.locator('.alert.error')).toContainText('127.0.0.1:9: ');
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, '24-join-nothing-listens-light.png') });
});

test('keyboard: the navigation is reachable with Tab and shows focus', async ({ app: page }) => {
  await page.keyboard.press('Tab');
  const first = page.getByTestId('nav-overview');
  await expect(first).toBeFocused();
  const outline = await first.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('nav-graph')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('view-graph')).toBeVisible();
});

test('stopping testnet nodes turns their health bad in Peers and on the graph', async ({ app: page }) => {
  await openView(page, 'testnet');
  const alive = await count(page, 'testnet-alive', 'data-alive');
  await page.getByTestId('testnet-kill-count').fill(String(NODES_TO_STOP));
  await page.getByTestId('testnet-kill').click();
  await expect(page.getByTestId('testnet-alive')).toHaveAttribute('data-alive', String(alive - NODES_TO_STOP));

  // Dead nodes are noticed when asked something: probe (lookups to random ids) until some are bad.
  await expect(async () => {
    await page.getByTestId('testnet-probe').click();
    await expect(page.getByTestId('testnet-bad')).not.toHaveText('0', { timeout: 8000 });
  }).toPass({ timeout: BAD_PEERS_TIMEOUT_MS });

  await openView(page, 'peers');
  await expect.poll(() => count(page, 'peers-count', 'data-bad')).toBeGreaterThan(0);
  await page.getByTestId('peer-health-filter').selectOption('bad');
  await expect(page.locator('[data-testid="peer-row"][data-health="bad"]').first()).toBeVisible();
  expect(await page.locator('[data-testid="peer-row"]:not([data-health="bad"])').count()).toBe(0);

  await openView(page, 'graph');
  await expect.poll(() => count(page, 'legend-bad')).toBeGreaterThan(0);
});

const VIEWS = ['overview', 'graph', 'buckets', 'peers', 'records', 'lookups', 'testnet', 'join', 'settings'] as const;

test('a screenshot of every view, light and dark', async ({ app: page }) => {
  test.slow(); // two schemes × every view, each waited for: on a loaded machine more than the default minute
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // Give the views something to show: a finished lookup (selected, so its waterfall is open).
  await openView(page, 'lookups');
  await page.getByTestId('lookup-random').click();
  await page.getByTestId('lookup-start').click();
  await expect(page.getByTestId('lookup-detail').getByTestId('lookup-outcome')).not.toHaveAttribute('data-outcome', 'running');

  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [i, view] of VIEWS.entries()) {
      await openView(page, view);
      if (view === 'graph') await expect.poll(() => count(page, 'graph-peer-count')).toBeGreaterThan(0);
      if (view === 'lookups') await expect(page.getByTestId('waterfall')).toBeVisible();
      if (view === 'peers') await expect(page.getByTestId('peer-row').first()).toBeVisible();
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${String(i + 1).padStart(2, '0')}-${view}-${scheme}.png`) });
    }
    // The graph with a peer selected: the side panel.
    await openView(page, 'peers');
    await page.getByTestId('peer-row').first().dblclick();
    await expect(page.getByTestId('side-panel')).toBeVisible();
    await page.screenshot({ path: join(SCREENSHOT_DIR, `10-graph-selected-${scheme}.png`) });
    await page.getByRole('button', { name: 'Close panel' }).click();
  }
});
