// A simulated network under fake time with one extra node to crawl it from, for a describe block:
// built before all of its tests, destroyed after (and then no timer may be left pending).
import { afterAll, beforeAll, expect } from 'vitest';
import { FakeClock } from '../core/clock';
import { seededRandomBytes } from '../core/id';
import { DhtNode, type DhtNodeOptions } from '../core/node';
import { createTestnet, type Testnet, type TestnetOptions } from '../core/testnet';

export interface CrawlNetwork {
  net: Testnet;
  clock: FakeClock;
  /** The node the crawls run from: not one of the network's, joined through its bootstrap. */
  crawler: DhtNode;
}

export interface CrawlNetworkOptions {
  size: number;
  seed: number;
  /** Options of the network's nodes (refreshOnBootstrap is off unless set). */
  node?: TestnetOptions['node'];
  /** Options of the crawler besides its transport, clock and randomness. */
  crawler?: Partial<DhtNodeOptions>;
  crawlerSeed?: number;
  /** Runs before the crawler joins (announcements, stored values). */
  populate?: (net: Testnet) => Promise<void>;
  timeoutMs?: number;
}

/** Registers the hooks; the returned object is filled in before the first test runs. */
export function withCrawlNetwork(o: CrawlNetworkOptions): CrawlNetwork {
  const fixture = {} as CrawlNetwork;
  beforeAll(async () => {
    fixture.clock = new FakeClock();
    fixture.net = await createTestnet({ size: o.size, transport: 'memory', seed: o.seed, clock: fixture.clock, node: { refreshOnBootstrap: false, ...o.node } });
    await o.populate?.(fixture.net);
    fixture.crawler = DhtNode.create({ ...o.crawler, transport: fixture.net.network!.createTransport({}), clock: fixture.clock, randomBytes: seededRandomBytes(o.crawlerSeed ?? 11), diversity: false });
    await fixture.net.run(fixture.crawler.start());
  }, o.timeoutMs ?? 120_000);
  afterAll(async () => {
    await fixture.crawler?.stop();
    await fixture.net?.destroy();
    expect(fixture.clock.pendingTimers).toBe(0);
  });
  return fixture;
}
