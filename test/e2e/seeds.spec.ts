// Two features from the systems kadscope grew from, in the explorer: a value stored "at a name"
// (go-dht's StoreAt) and fetched back by the name; and a dual-stack node (`kadscope serve --host6
// ::1`) whose Overview lists both bound addresses and peers of both families, with a node on ::1
// (started here) in its Peers table beside the IPv4 testnet.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DhtNode } from '../../core/node';
import { SCREENSHOT_DIR, expect, openView, startHost, test } from './fixtures';

const ROOT = resolve(import.meta.dirname, '../..');

test('store a value at a name, then fetch it by the name', async ({ app: page }) => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const name = `config/greeting-${Date.now()}`;
  await openView(page, 'records');
  await page.getByRole('button', { name: 'At a name' }).click();
  await expect(page.getByTestId('store-card')).toContainText('anyone can store another value at the same name');
  await page.getByTestId('store-name').fill('');
  await page.getByTestId('store-text').fill('hello, named world');
  await expect(page.getByTestId('store-submit')).toBeDisabled();
  await page.getByTestId('store-name').fill(name);
  await page.getByTestId('store-submit').click();
  await expect(page.getByTestId('store-result-key')).toHaveText(createHash('sha256').update(name).digest('hex'));
  await expect(page.getByTestId('store-result-name')).toContainText(name);

  await page.getByRole('button', { name: 'Name', exact: true }).click();
  await page.getByTestId('fetch-name').fill(name);
  await page.getByTestId('fetch-submit').click();
  await expect(page.getByTestId('fetch-value')).toHaveText('hello, named world');
  await expect(page.getByTestId('fetch-result')).toContainText(`at the name “${name}”`);
  // The local store lists it as named, with its name.
  await expect(page.getByTestId('local-records')).toContainText(`named · ${name}`);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'named-key-store-fetch.png'), fullPage: true });
});

test('Topics: announce this node under a topic and find it there', async ({ app: page }) => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const topic = `lan-party-${Date.now()}`;
  await openView(page, 'records');
  const card = page.getByTestId('topics-card');
  await expect(card.getByTestId('topic-find')).toBeDisabled();
  await card.getByTestId('topic-text').fill(topic);
  await card.getByTestId('topic-port').fill('70000');
  await expect(card).toContainText('a port is 1-65535');
  await expect(card.getByTestId('topic-announce')).toBeDisabled();
  await card.getByTestId('topic-port').fill('4321');
  await card.getByTestId('topic-announce').click();
  await expect(card.getByTestId('topic-announced')).toContainText(/Announced at [1-9]\d* nodes?/);
  await card.getByTestId('topic-find').click();
  // On loopback every peer shares 127.0.0.1 and shares no other address: the public one only.
  await expect(card.getByTestId('topic-peers')).toContainText(`under “${topic}”`);
  await expect(card.getByTestId('topic-peer')).toHaveText([/^127\.0\.0\.1:4321$/]);
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'topics-announce-find.png'), fullPage: true });
});

test('a dual-stack node: both addresses in the Overview, peers of both families', async ({ page }) => {
  test.setTimeout(120_000);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const { host, stop } = await startHost((dataDir) => [resolve(ROOT, 'electron/bin/kadscope.mjs'), 'serve', '--port', '0', '--data-dir', dataDir, '--testnet-size', '6', '--host6', '::1']);
  const extra: DhtNode[] = [];
  try {
    const line = host.log.find((l) => /^kadscope: node .* on /.test(l)) ?? '';
    const m = /on 127\.0\.0\.1:(\d+) and \[::1\]:(\d+)$/.exec(line);
    expect(m, host.log.join('\n')).not.toBeNull();
    // Two nodes that speak only IPv6 join through the node's IPv6 address (a multiaddr, as a user types it).
    for (let i = 0; i < 2; i++) {
      const n = DhtNode.create({ host: '::1', bootstrap: [`/ip6/::1/udp/${m![2]}`] });
      extra.push(n);
      await n.start();
    }
    await page.goto(host.url);
    await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
    await openView(page, 'overview');
    const bound = page.getByTestId('bound-addresses');
    await expect(bound).toHaveAttribute('data-count', '2');
    await expect(bound).toContainText(`127.0.0.1:${m![1]}`);
    await expect(bound).toContainText(`[::1]:${m![2]}`);
    await expect(page.getByTestId('peer-families')).toHaveText(/^[1-9]\d* IPv4 · 2 IPv6$/, { timeout: 15_000 });
    await page.getByTestId('node-card').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'dual-stack-overview.png') });
    await openView(page, 'peers');
    await expect(page.getByTestId('view-peers')).toContainText('[::1]:');
    await expect(page.getByTestId('view-peers')).toContainText('127.0.0.1:');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'dual-stack-peers.png') });
  } finally {
    await Promise.all(extra.map((n) => n.stop()));
    await stop();
  }
});

test('custom method calls show in the Messages view’s call log, answered and refused', async ({ app: page }) => {
  test.setTimeout(90_000);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await openView(page, 'messages');
  await expect(page.getByTestId('calls-card')).toContainText('No calls yet');
  const option = page.locator('#call-peers option').first();
  await expect(option).toBeAttached({ timeout: 15_000 });
  const peer = (await option.getAttribute('value'))!;
  await page.getByTestId('call-address').fill(peer);
  await page.getByTestId('call-submit').click();
  const rows = page.getByTestId('call-row');
  await expect(rows.first()).toHaveAttribute('data-outcome', 'ok', { timeout: 15_000 });
  await expect(rows.first()).toContainText('sent →');
  await expect(rows.first()).toContainText('kadscope.info');
  await expect(rows.first()).toContainText(peer);

  await page.getByTestId('call-name').fill('no.such.method');
  await page.getByTestId('call-submit').click();
  await expect(rows.first()).toHaveAttribute('data-outcome', 'UNKNOWN_METHOD', { timeout: 15_000 });
  await expect(rows.first()).toContainText('no method "no.such.method" is registered on this node');
  await expect(rows).toHaveCount(2);
  // The refusal names who refused: the same peer id as the answered call, not only the address.
  const answeredId = await rows.nth(1).locator('[data-id]').getAttribute('data-id');
  expect(answeredId).toMatch(/^[0-9a-f]{64}$/);
  await expect(rows.first().locator('[data-id]')).toHaveAttribute('data-id', answeredId!);
  await page.getByTestId('calls-card').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'call-log.png') });
});
