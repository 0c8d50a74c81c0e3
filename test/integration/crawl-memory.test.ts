// A crawl of a 2,000-node network on the simulated transport under fake time: from one bootstrap
// address, every node is found and reached. Building the network is what costs (10,000 nodes did not
// finish building within 15 minutes on the shared 2-core machine; 100,000 need ~5 GB of heap), so
// larger sizes are the benchmark's (KADSCOPE_CRAWL_BENCH_MEMORY_SIZE with npm run bench -- crawl);
// KADSCOPE_CRAWL_MEMORY_SIZE sets this test's size.
import { describe, expect, it } from 'vitest';
import { crawl, kadscopeCrawlClient } from '../../core/crawl';
import { seededRandomBytes } from '../../core/id';
import { withCrawlNetwork } from '../crawl-network';

const SIZE = Number(process.env.KADSCOPE_CRAWL_MEMORY_SIZE ?? 2_000);
const f = withCrawlNetwork({ size: SIZE, seed: 0x10000, timeoutMs: 1_200_000 });

describe(`crawl of a ${SIZE}-node memory network under fake time`, () => {
  it('finds and reaches every node from one bootstrap address', async () => {
    const r = await f.net.run(crawl(kadscopeCrawlClient(f.crawler), { bootstrap: [f.net.bootstrap[0]], clock: f.clock, randomBytes: seededRandomBytes(12), concurrency: 64 }));
    const found = new Set(r.nodes.map((n) => n.id));
    const missing = f.net.nodes.filter((n) => !found.has(n.id)).length;
    expect(missing).toBe(0);
    expect(r.found).toBe(SIZE);
    expect(r.reachable).toBe(SIZE);
    // About log2(N / k) + 2 bucket requests per node.
    expect(r.requests / r.found).toBeLessThan(Math.log2(SIZE / 20) + 6);
    console.log(`crawl of ${SIZE} memory nodes: ${r.requests} requests (${(r.requests / r.found).toFixed(1)} per node), ${r.durationMs} ms of fake time, size estimate ${r.sizeEstimate}`);
  }, 900_000);
});
