// Remote attach in the explorer: a second host (`kadscope serve --listen`, TLS with a generated
// certificate, its own 6-node testnet) plays the remote machine; the page of the worker's host
// attaches to it from Join, shows it (header, peers, Overview side by side) and switches back.
import { join, resolve } from 'node:path';
import { expect, openView, SCREENSHOT_DIR, startHost, test } from './fixtures';

const ROOT = resolve(import.meta.dirname, '../..');

interface Remote {
  url: string;
  token: string;
  fingerprint: string;
  stop: () => Promise<void>;
}

let remote: Remote | null = null;

test.beforeAll(async () => {
  const { host, stop } = await startHost((dataDir) => [
    resolve(ROOT, 'electron/bin/kadscope.mjs'),
    'serve',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--testnet-size',
    '6',
    '--listen',
    '127.0.0.1:0',
  ]);
  // The attach lines follow the URL line the fixture waited for.
  await expect.poll(() => host.log.join('\n'), { timeout: 15_000 }).toMatch(/certificate SHA-256 [0-9A-F:]{95}/);
  const text = host.log.join('\n');
  remote = {
    url: /remote attach at (https:\/\/\S+)/.exec(text)![1],
    token: /token ([0-9a-f]{64})/.exec(text)![1],
    fingerprint: /certificate SHA-256 ([0-9A-F:]{95})/.exec(text)![1],
    stop,
  };
});

test.afterAll(async () => {
  await remote?.stop();
});

test('attaches to a remote node over TLS, shows it, and switches between nodes', async ({ app: page }) => {
  test.setTimeout(240_000);
  const r = remote!;
  const localId = await page.getByTestId('header-node-id').getAttribute('data-id');
  await openView(page, 'join');

  // A wrong token: refused, and the form says why.
  await page.getByTestId('attach-url').fill(r.url);
  await page.getByTestId('attach-token').fill('0'.repeat(64));
  await page.getByTestId('attach-fingerprint').fill(r.fingerprint);
  await page.getByTestId('attach-submit').click();
  await expect(page.getByTestId('attach-card')).toContainText('refused the session token: wrong session token');
  await page.getByTestId('attach-card').screenshot({ path: join(SCREENSHOT_DIR, 'remote-01-wrong-token.png') });

  // Plain HTTP is refused before anything is sent.
  await page.getByTestId('attach-url').fill(r.url.replace('https://', 'http://'));
  await expect(page.getByTestId('attach-card')).toContainText('attached over TLS only');
  await expect(page.getByTestId('attach-submit')).toBeDisabled();

  await page.getByTestId('attach-url').fill(r.url);
  await page.getByTestId('attach-token').fill(r.token);
  await page.getByTestId('attach-submit').click();
  await expect(page.getByTestId('attach-result')).toContainText(/Attached 127\.0\.0\.1:\d+: node [0-9a-f]+ with \d+ peers/);
  await expect(page.getByTestId('remote-row-r1')).toContainText('connected');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'remote-02-attached.png') });

  // Show it: the page now shows the remote node, as it shows ours.
  await page.getByTestId('attach-open').click();
  await expect(page).toHaveURL(/[?&]node=r1/);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
  await expect(page.getByTestId('node-switcher')).toHaveValue('r1');
  const remoteId = await page.getByTestId('header-node-id').getAttribute('data-id');
  expect(remoteId).not.toBe(localId);
  await openView(page, 'overview');
  await expect(page.getByTestId('side-by-side')).toBeVisible();
  await expect(page.getByTestId('tile-local')).toBeVisible();
  await expect(page.getByTestId('tile-r1')).toContainText('shown');
  // Its peers: the remote's own testnet of 6 (our node has the 32-node one).
  await expect(page.getByTestId('stat-peers')).toContainText(/^Peers in the routing table[67]good/);
  await expect.poll(async () => page.getByTestId('tile-r1').getByTestId('tile-peers').textContent(), { timeout: 10_000 }).toMatch(/^[67]$/);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'remote-03-overview-remote.png') });
  await openView(page, 'peers');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'remote-04-peers-remote.png') });

  // Switch back to this host's node from the header.
  await page.getByTestId('node-switcher').selectOption('');
  await expect(page).not.toHaveURL(/[?&]node=/);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
  await expect(page.getByTestId('header-node-id')).toHaveAttribute('data-id', localId!);
  await openView(page, 'overview');
  await expect(page.getByTestId('tile-local')).toContainText('shown');
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'remote-05-overview-local.png') });

  // And to the remote again from the side-by-side tiles.
  await page.getByTestId('tile-r1').click();
  await expect(page).toHaveURL(/[?&]node=r1/);
  await expect(page.getByTestId('header-node-id')).toHaveAttribute('data-id', remoteId!);
});
