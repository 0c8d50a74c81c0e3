// The crawler speaking Mainline (BEP 43 read-only) to a loopback network of 100 real bittorrent-dht
// nodes (explicit loopback bootstrap: bittorrent-dht's default is the public routers): >= 99% of them
// found and reachable; 20 destroyed and crawled again: each gone or unreachable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../core/id';
import { crawl, type CrawlResult } from '../../core/crawl';
import { openCrawlClient, type OpenedCrawlClient } from '../../electron/host/crawl-clients';
import { createReferenceNetwork, type ReferenceNetwork } from './mainline-reference';

const SIZE = 100;
const STOPPED = 20;
let net: ReferenceNetwork;
let opened: OpenedCrawlClient;

beforeAll(async () => {
  net = await createReferenceNetwork(SIZE);
  opened = await openCrawlClient('mainline');
}, 180_000);

afterAll(async () => {
  await opened?.close();
  await net?.close();
});

const byId = (r: CrawlResult): Map<string, CrawlResult['nodes'][number]> => new Map(r.nodes.map((n) => [n.id!, n]));

describe(`crawl of ${SIZE} bittorrent-dht nodes (Mainline, read-only)`, () => {
  it('finds and reaches >= 99% of them, with 160-bit ids', async () => {
    expect(opened.client).toMatchObject({ protocol: 'mainline', idBytes: 20, readOnly: true });
    const r = await crawl(opened.client, { bootstrap: [net.bootstrap] });
    const found = byId(r);
    const reached = net.nodes.filter((d) => found.get(bytesToHex(new Uint8Array(d.nodeId)))?.status === 'reachable').length;
    expect(reached / SIZE).toBeGreaterThanOrEqual(0.99);
    for (const n of r.nodes) expect(n.id).toMatch(/^[0-9a-f]{40}$/);
    expect(r.protocol).toBe('mainline');
  }, 180_000);

  it(`shows the ${STOPPED} destroyed nodes as gone or unreachable`, async () => {
    const gone = net.nodes.splice(SIZE - STOPPED, STOPPED);
    await Promise.all(gone.map((d) => new Promise<void>((resolve) => d.destroy(() => resolve()))));
    const r = await crawl(opened.client, { bootstrap: [net.bootstrap] });
    const found = byId(r);
    for (const d of gone) {
      const n = found.get(bytesToHex(new Uint8Array(d.nodeId)));
      if (n) expect(n.status).toBe('unreachable');
    }
    const reached = net.nodes.filter((d) => found.get(bytesToHex(new Uint8Array(d.nodeId)))?.status === 'reachable').length;
    expect(reached / net.nodes.length).toBeGreaterThanOrEqual(0.99);
  }, 180_000);
});
