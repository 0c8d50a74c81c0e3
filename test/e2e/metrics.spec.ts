// The app's Prometheus metrics setting: port 0 asks for any free port, and the setting then shows
// the address the system gave, which serves the node's /metrics.
import { join } from 'node:path';
import { expect, openView, SCREENSHOT_DIR, test } from './fixtures';

test('the metrics setting takes port 0 and shows the address it got', async ({ app: page }) => {
  await openView(page, 'settings');
  const input = page.getByTestId('setting-metrics');
  const form = page.getByRole('form', { name: 'Prometheus metrics' });
  await input.fill('127.0.0.1:0');
  await form.getByRole('button', { name: 'Save' }).click();
  const hint = page.getByTestId('metrics-url');
  await expect(hint).toContainText(/Serving http:\/\/127\.0\.0\.1:\d+\/metrics for Prometheus to scrape \(the port the system chose/);
  const url = /http:\/\/127\.0\.0\.1:\d+\/metrics/.exec((await hint.textContent()) ?? '')![0];
  expect(url).not.toContain(':0/');
  const text = await (await fetch(url)).text();
  expect(text).toContain('kadscope_node_info{protocol="kadscope",node="self"');
  await form.screenshot({ path: join(SCREENSHOT_DIR, 'metrics-setting-port-0.png') });

  // Turned off again (the worker's host is shared with other tests).
  await input.fill('');
  await form.getByRole('button', { name: 'Turn off' }).click();
  await expect(hint).toHaveCount(0);
  await expect(fetch(url)).rejects.toThrow();
});
