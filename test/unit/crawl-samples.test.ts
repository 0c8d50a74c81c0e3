// BEP 51 in the crawler: each reachable node of a Mainline network is asked sample_infohashes once;
// per node the samples' count and the `num` it reports (or 'not-supported': error 204, silence, an
// answer without samples), per crawl the distinct infohashes seen, bounded and marked when capped.
// A protocol without sample_infohashes (kadscope) is asked nothing and its results carry no samples.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { crawl, kadscopeCrawlClient, nodeCrawlClient, type CrawlClient } from '../../core/crawl';
import { DhtError } from '../../core/errors';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { mainlineProtocol } from '../../core/protocols/mainline/protocol';
import { createTestnet } from '../../core/testnet';
import { withCrawlNetwork } from '../crawl-network';

const SIZE = 40;
const TOPICS = 6;
const topics: string[] = [];
// Read-only, as the CLI's and the app's Mainline crawler is (BEP 43).
const f = withCrawlNetwork({
  size: SIZE,
  seed: 0x51,
  node: { protocol: 'mainline' },
  crawler: { protocol: mainlineProtocol({ readOnly: true }) },
  // Announced by a few nodes: each topic lands on the 8 nodes nearest it.
  populate: async (net) => {
    for (let i = 0; i < TOPICS; i++) {
      const r = await net.run(net.nodes[i].records.announce(`bep51 topic ${i}`, 6881 + i));
      topics.push(r.key);
    }
  },
});

describe('crawl of a Mainline network asks sample_infohashes (BEP 51)', () => {
  it('records per node the samples and num, and per crawl the distinct infohashes', async () => {
    const r = await f.net.run(crawl(nodeCrawlClient(f.crawler, { readOnly: true }), { bootstrap: [f.net.bootstrap[0]], clock: f.clock, randomBytes: seededRandomBytes(1) }));
    expect(r.reachable).toBe(SIZE);
    for (const n of r.nodes) {
      expect(n.samples?.status).toBe('answered');
      // A node stores few topics here: it samples all it has, and num says how many.
      expect(n.samples!.count).toBe(n.samples!.num);
    }
    expect(r.nodes.some((n) => n.samples!.count > 0)).toBe(true);
    expect(r.samples).toEqual({ asked: SIZE, answered: SIZE, notSupported: 0, error: 0, infohashes: TOPICS, capped: false });
    expect([...r.infohashes!].sort()).toEqual([...topics].sort());
  });

  it('caps the distinct infohashes and says so', async () => {
    const r = await f.net.run(crawl(nodeCrawlClient(f.crawler, { readOnly: true }), { bootstrap: [f.net.bootstrap[0]], clock: f.clock, randomBytes: seededRandomBytes(2), maxInfohashes: 2 }));
    expect(r.samples).toMatchObject({ answered: SIZE, infohashes: 2, capped: true });
    expect(r.infohashes).toHaveLength(2);
  });

  it('asks nothing when told not to, and a kadscope crawl has no samples', async () => {
    const off = await f.net.run(crawl(nodeCrawlClient(f.crawler, { readOnly: true }), { bootstrap: [f.net.bootstrap[0]], clock: f.clock, randomBytes: seededRandomBytes(3), samples: false }));
    expect(off.samples).toBeUndefined();
    expect(off.infohashes).toBeUndefined();
    expect(off.nodes.every((n) => n.samples === undefined)).toBe(true);
    const k = await f.net.run(createTestnet({ size: 4, transport: 'memory', seed: 3, clock: f.clock }));
    const kc = DhtNode.create({ transport: k.network!.createTransport({}), clock: f.clock, randomBytes: seededRandomBytes(12) });
    await k.run(kc.start());
    try {
      const client = kadscopeCrawlClient(kc);
      expect(client.sampleInfohashes).toBeUndefined();
      const kr = await k.run(crawl(client, { bootstrap: [k.bootstrap[0]], clock: f.clock, randomBytes: seededRandomBytes(4) }));
      expect(kr.reachable).toBe(4);
      expect(kr.samples).toBeUndefined();
      await expect(kc.sampleInfohashesAt(k.nodes[0].address, new Uint8Array(32))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    } finally {
      await kc.stop();
      await k.destroy();
    }
  });
});

describe('crawl samples: peers that do not implement BEP 51', () => {
  it('counts error 204, silence and an answer without samples as not supported; another error as error', async () => {
    const rand = seededRandomBytes(5);
    const ids = Array.from({ length: 5 }, () => rand(20));
    const hash = (b: number): Uint8Array => new Uint8Array(20).fill(b);
    const fake = new FakeClock();
    let sampleRequests = 0;
    const client: CrawlClient = {
      protocol: 'test160',
      idBytes: 20,
      readOnly: true,
      async findNode(to) {
        const i = to.port - 2000;
        return { id: ids[i], nodes: ids.map((id, j) => ({ id, host: '10.0.0.2', port: 2000 + j })), rttMs: 2 };
      },
      async sampleInfohashes(to, _target, o) {
        sampleRequests++;
        expect(o.retries).toBe(0);
        const i = to.port - 2000;
        if (i === 0) return { id: ids[0], samples: [hash(1), hash(2)], num: 7 };
        if (i === 1) throw DhtError.fromWire(3, 'Method Unknown');
        if (i === 2) throw DhtError.timeout('FIND_NODE to 10.0.0.2:2002', o.timeoutMs);
        if (i === 3) return { id: ids[3], samples: null, num: null };
        throw DhtError.fromWire(1, 'Server Error');
      },
    };
    const r = await fake.run(crawl(client, { bootstrap: ['10.0.0.2:2000'], clock: fake, randomBytes: seededRandomBytes(6) }));
    expect(r.reachable).toBe(5);
    expect(sampleRequests).toBe(5);
    const at = (i: number) => r.nodes.find((n) => n.port === 2000 + i)!.samples;
    expect(at(0)).toEqual({ status: 'answered', count: 2, num: 7 });
    expect(at(1)).toEqual({ status: 'not-supported', count: 0, num: null });
    expect(at(2)).toEqual({ status: 'not-supported', count: 0, num: null });
    expect(at(3)).toEqual({ status: 'not-supported', count: 0, num: null });
    expect(at(4)).toEqual({ status: 'error', count: 0, num: null });
    expect(r.samples).toEqual({ asked: 5, answered: 1, notSupported: 3, error: 1, infohashes: 2, capped: false });
    expect(r.infohashes).toEqual([bytesToHex(hash(1)), bytesToHex(hash(2))]);
    // Still reachable: a node that does not sample is no less a node.
    expect(r.nodes.every((n) => n.status === 'reachable')).toBe(true);
  });
});

describe('crawl samples: silence does not hold the crawl', () => {
  it('a node silent to sample_infohashes does not keep its crawl slot: the waits run beside the crawl, which still ends with them', async () => {
    const rand = seededRandomBytes(8);
    const ids = Array.from({ length: 6 }, () => rand(20));
    const fake = new FakeClock();
    const client: CrawlClient = {
      protocol: 'test160',
      idBytes: 20,
      readOnly: true,
      async findNode(to) {
        return { id: ids[to.port - 3000], nodes: ids.map((id, j) => ({ id, host: '10.0.0.3', port: 3000 + j })), rttMs: 1 };
      },
      // Silence for the whole timeout, on the crawl's clock (bittorrent-dht's answer to BEP 51).
      sampleInfohashes: (_to, _target, o) =>
        new Promise((_resolve, reject) => {
          fake.setTimeout(() => reject(DhtError.timeout('FIND_NODE', o.timeoutMs)), o.timeoutMs);
        }),
    };
    const timeoutMs = 2_000;
    const r = await fake.run(crawl(client, { bootstrap: ['10.0.0.3:3000'], clock: fake, randomBytes: seededRandomBytes(9), concurrency: 1, timeoutMs }));
    expect(r.reachable).toBe(6);
    expect(r.samples).toMatchObject({ asked: 6, notSupported: 6 });
    // One node at a time: holding the slot through each silence would take 6 timeouts.
    expect(r.durationMs).toBeLessThan(2 * timeoutMs);
    expect(fake.pendingTimers).toBe(0);
  });
});
