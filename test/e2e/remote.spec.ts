// Remote attach in the explorer: a second host (`kadscope serve --listen`, TLS with a generated
// certificate, its own 6-node testnet) plays the remote machine; the page of the worker's host
// attaches to it from Join (after a wrong token, a wrong certificate, an unpinned self-signed one and
// plain HTTP are refused), shows it (header, peers, Overview side by side), switches back, and
// attaches a second remote (a 3-node testnet) to show three nodes side by side.
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
let second: Remote | null = null;

/** A `kadscope serve --listen` with its own testnet of `size`, as another machine would run it. */
async function startRemote(size: number): Promise<Remote> {
  const { host, stop } = await startHost((dataDir) => [
    resolve(ROOT, 'electron/bin/kadscope.mjs'),
    'serve',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--testnet-size',
    String(size),
    '--listen',
    '127.0.0.1:0',
  ]);
  // The attach lines follow the URL line the fixture waited for.
  await expect.poll(() => host.log.join('\n'), { timeout: 15_000 }).toMatch(/certificate SHA-256 [0-9A-F:]{95}/);
  const text = host.log.join('\n');
  return {
    url: /remote attach at (https:\/\/\S+)/.exec(text)![1],
    token: /token ([0-9a-f]{64})/.exec(text)![1],
    fingerprint: /certificate SHA-256 ([0-9A-F:]{95})/.exec(text)![1],
    stop,
  };
}

test.beforeAll(async () => {
  remote = await startRemote(6);
  second = await startRemote(3);
});

test.afterAll(async () => {
  await Promise.all([remote?.stop(), second?.stop()]);
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

  // A certificate other than the pinned one: refused before the token is sent.
  await page.getByTestId('attach-token').fill(r.token);
  await page.getByTestId('attach-fingerprint').fill(second!.fingerprint);
  await page.getByTestId('attach-submit').click();
  await expect(page.getByTestId('attach-card')).toContainText(`certificate mismatch: 127.0.0.1:${new URL(r.url).port} presented a certificate with SHA-256 fingerprint ${r.fingerprint}`);
  await expect(page.getByTestId('attach-card')).toContainText('not sending the token');
  await page.getByTestId('attach-card').screenshot({ path: join(SCREENSHOT_DIR, 'remote-01b-bad-certificate.png') });
  // Nothing pinned, and nothing vouches for a generated certificate: refused, with the fingerprint to check.
  await page.getByTestId('attach-fingerprint').fill('');
  await page.getByTestId('attach-submit').click();
  await expect(page.getByTestId('attach-card')).toContainText(`is not trusted`);
  await expect(page.getByTestId('attach-card')).toContainText(`pin its SHA-256 fingerprint (printed at start): ${r.fingerprint}`);
  await page.getByTestId('attach-fingerprint').fill(r.fingerprint);

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

  // A second remote node, attached while the page shows the first: three nodes side by side.
  const s2 = second!;
  await openView(page, 'join');
  await page.getByTestId('attach-url').fill(s2.url);
  await page.getByTestId('attach-token').fill(s2.token);
  await page.getByTestId('attach-fingerprint').fill(s2.fingerprint);
  await page.getByTestId('attach-submit').click();
  await expect(page.getByTestId('attach-result')).toContainText(/Attached 127\.0\.0\.1:\d+: node [0-9a-f]+ with \d+ peers/);
  await expect(page.getByTestId('remote-row-r2')).toContainText('connected');
  await expect(page.getByTestId('remote-list')).toContainText('Shown');
  await page.getByTestId('attach-card').screenshot({ path: join(SCREENSHOT_DIR, 'remote-06-two-attached.png') });
  await page.getByTestId('node-switcher').selectOption('r2');
  await expect(page).toHaveURL(/[?&]node=r2/);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
  const secondId = await page.getByTestId('header-node-id').getAttribute('data-id');
  expect([localId, remoteId]).not.toContain(secondId);
  await openView(page, 'overview');
  await expect(page.getByTestId('tile-r2')).toContainText('shown');
  for (const tile of ['tile-local', 'tile-r1', 'tile-r2']) await expect(page.getByTestId(tile)).toBeVisible();
  // The second remote's own testnet of 3, beside the first's 6 and our 32.
  await expect.poll(async () => page.getByTestId('tile-r2').getByTestId('tile-peers').textContent(), { timeout: 10_000 }).toMatch(/^[34]$/);
  await expect.poll(async () => page.getByTestId('tile-r1').getByTestId('tile-peers').textContent(), { timeout: 10_000 }).toMatch(/^[67]$/);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'remote-07-overview-three-nodes.png') });
});
