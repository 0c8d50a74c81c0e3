// The extension points in the explorer, against the real headless host and its embedded UDP
// testnet (whose nodes, like the user's, answer the custom method kadscope.info): call it on a
// peer from the Messages view and see the answer, see an unknown method refused by name, find the
// calls in the Overview's method table, send a broadcast, and see one that another node (started
// here, on 127.0.0.1, joined through the testnet) sends arrive in "Broadcasts received".
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DhtNode } from '../../core/node';
import { SCREENSHOT_DIR, expect, openView, test } from './fixtures';

const CALL_TIMEOUT_MS = 15_000;

test('custom methods and broadcasts in the explorer', async ({ app: page }) => {
  // Several round trips on a shared, loaded machine, and a node that joins.
  test.setTimeout(150_000);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await openView(page, 'messages');
  // The node's own methods.
  await expect(page.getByTestId('methods-table')).toContainText('kadscope.info');

  // A peer from the routing table (the address field offers them).
  const option = page.locator('#call-peers option').first();
  await expect(option).toBeAttached({ timeout: CALL_TIMEOUT_MS });
  const peer = (await option.getAttribute('value'))!;
  expect(peer).toMatch(/^127\.0\.0\.1:\d+$/);

  await page.getByTestId('call-address').fill(peer);
  await page.getByTestId('call-submit').click();
  const value = page.getByTestId('call-value');
  await expect(value).toContainText('"methods"', { timeout: CALL_TIMEOUT_MS });
  await expect(value).toContainText('"kadscope.info"');
  await expect(value).toContainText('"peers"');

  // A name the peer does not have: refused with the reason, by name.
  await page.getByTestId('call-name').fill('no.such.method');
  await page.getByTestId('call-submit').click();
  await expect(page.getByTestId('call-card')).toContainText('no method "no.such.method" is registered on this node', { timeout: CALL_TIMEOUT_MS });
  // Arguments the method's schema refuses.
  await page.getByTestId('call-name').fill('kadscope.info');
  await page.getByTestId('call-args').fill('{"verbose": true}');
  await page.getByTestId('call-submit').click();
  await expect(page.getByTestId('call-card')).toContainText('kadscope.info takes no arguments', { timeout: CALL_TIMEOUT_MS });
  await page.getByTestId('call-args').fill('');

  // Our broadcast goes out to the bucket ranges.
  await page.getByTestId('broadcast-text').fill('hello from the explorer');
  await page.getByTestId('broadcast-submit').click();
  await expect(page.getByTestId('broadcast-sent')).toContainText(/handed to \d+ bucket range/, { timeout: CALL_TIMEOUT_MS });

  // Another node joins through the testnet and broadcasts: the explorer's node receives it once.
  const other = DhtNode.create({ host: '127.0.0.1', port: 0, bootstrap: [peer] });
  try {
    await other.start();
    const text = `hello from ${other.id.slice(0, 8)}, ${'a longer payload than the preview shows '.repeat(3)}`;
    await other.broadcast(text);
    const row = page.getByTestId('broadcast-row').first();
    await expect(row).toBeVisible({ timeout: CALL_TIMEOUT_MS });
    await expect(page.getByTestId('broadcast-preview').first()).toContainText(`hello from ${other.id.slice(0, 8)}`);
    await expect(page.getByTestId('broadcasts-table').locator(`[data-id="${other.id}"]`).first()).toBeVisible();
    await expect(page.getByTestId('broadcast-row')).toHaveCount(1);
    await row.click();
    await expect(page.getByTestId('broadcasts-card')).toContainText(text);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'messages.png'), fullPage: true });
  } finally {
    await other.stop();
  }

  // The calls count in the Overview's method table, under CALL and by name.
  await openView(page, 'overview');
  const rows = page.getByTestId('rpc-custom-row');
  await expect(rows.filter({ hasText: 'kadscope.info' })).toBeVisible({ timeout: CALL_TIMEOUT_MS });
  await expect(rows.filter({ hasText: 'no.such.method' })).toBeVisible();
  await page.getByTestId('rpc-table').scrollIntoViewIfNeeded();
  await page.getByTestId('rpc-table').screenshot({ path: join(SCREENSHOT_DIR, 'overview-rpc-custom.png') });
});
