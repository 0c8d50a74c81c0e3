// The crawler on a real 300-node kadscope network over UDP on 127.0.0.1: from one bootstrap address
// it finds and reaches (nearly) every node; after 20 nodes stop, a second crawl shows each of them
// gone (not named) or unreachable, and none of them reachable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crawl, kadscopeCrawlClient, type CrawlResult } from '../../core/crawl';
import { DhtNode } from '../../core/node';
import { createTestnet, type Testnet } from '../../core/testnet';

const SIZE = 300;
const STOPPED = 20;
let net: Testnet;
let crawler: DhtNode;

beforeAll(async () => {
  net = await createTestnet({ size: SIZE, transport: 'udp', seed: 0x300, node: { refreshOnBootstrap: false } });
  crawler = DhtNode.create({ host: '127.0.0.1' });
  await crawler.start();
}, 300_000);

afterAll(async () => {
  await crawler?.stop();
  await net?.destroy();
});

function byId(r: CrawlResult): Map<string, CrawlResult['nodes'][number]> {
  return new Map(r.nodes.map((n) => [n.id!, n]));
}

describe(`crawl of a ${SIZE}-node UDP network`, () => {
  it('finds and reaches >= 99% of the nodes', async () => {
    const r = await crawl(kadscopeCrawlClient(crawler), { bootstrap: [net.bootstrap[0]] });
    const found = byId(r);
    const live = net.nodes.filter((n) => found.get(n.id)?.status === 'reachable').length;
    expect(live / SIZE).toBeGreaterThanOrEqual(0.99);
    expect(r.found).toBeGreaterThanOrEqual(Math.ceil(SIZE * 0.99));
    expect(r.reachable).toBe(live);
    expect(r.cancelled).toBe(false);
  }, 300_000);

  it(`shows the ${STOPPED} stopped nodes as gone or unreachable`, async () => {
    const stopped = await net.stopRandom(STOPPED);
    const r = await crawl(kadscopeCrawlClient(crawler), { bootstrap: [net.bootstrap[0]] });
    const found = byId(r);
    for (const id of stopped) {
      const n = found.get(id);
      if (n) expect(n.status).toBe('unreachable');
    }
    const live = net.live().filter((n) => found.get(n.id)?.status === 'reachable').length;
    expect(live / (SIZE - STOPPED)).toBeGreaterThanOrEqual(0.99);
    expect(r.reachable).toBe(live);
  }, 300_000);
});
