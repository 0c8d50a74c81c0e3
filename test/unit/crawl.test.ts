// The crawler on the simulated network under fake time: it finds every node from one bootstrap
// address, stops asking a node when its answers repeat, names why a node was unreachable, and a
// cancelled crawl resolves with what it had.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { crawl, estimateSize, kadscopeCrawlClient, type CrawlClient, type CrawlProgress } from '../../core/crawl';
import { seededRandomBytes } from '../../core/id';
import { withCrawlNetwork } from '../crawl-network';

const SIZE = 300;
const f = withCrawlNetwork({ size: SIZE, seed: 0xc4a1, crawlerSeed: 7 });

describe('crawl (kadscope protocol, memory network)', () => {
  it('finds and reaches every node from one bootstrap address, with bounded requests per node', async () => {
    const progress: CrawlProgress[] = [];
    const r = await f.net.run(
      crawl(kadscopeCrawlClient(f.crawler), { bootstrap: [f.net.bootstrap[0]], clock: f.clock, randomBytes: seededRandomBytes(1), onProgress: (p) => progress.push(p) }),
    );
    const ids = new Set(r.nodes.map((n) => n.id));
    for (const n of f.net.nodes) expect(ids.has(n.id)).toBe(true);
    expect(r.found).toBe(SIZE);
    expect(r.reachable).toBe(SIZE);
    expect(r.unreachable).toBe(0);
    expect(r.cancelled).toBe(false);
    // log2(300 / 20) ~ 4: a handful of bucket requests per node, never all 256.
    expect(r.requests / r.found).toBeLessThan(10);
    for (const n of r.nodes) {
      expect(n.status).toBe('reachable');
      expect(n.rttMs).toBeGreaterThan(0);
      expect(n.neighbours.length).toBeGreaterThanOrEqual(20);
      expect(n.client).toBeNull();
    }
    expect(r.clients).toEqual({ unknown: SIZE });
    expect(r.neighbourCounts.reduce((s, [, c]) => s + c, 0)).toBe(SIZE);
    // The crawl's density estimate is within a factor of two of the truth.
    expect(r.sizeEstimate).toBeGreaterThan(SIZE / 2);
    expect(r.sizeEstimate).toBeLessThan(SIZE * 2);
    expect(r.nodeEstimate).toBeGreaterThan(0);
    const last = progress[progress.length - 1];
    expect(last).toMatchObject({ queued: 0, active: 0, done: SIZE, found: SIZE, reachable: SIZE });
    expect(last.ratePerSec).toBeGreaterThan(0);
  });

  it('marks stopped nodes unreachable (timeout) and still finds the rest', async () => {
    const stopped = new Set(await f.net.stopRandom(10));
    const r = await f.net.run(crawl(kadscopeCrawlClient(f.crawler), { bootstrap: f.net.bootstrap, clock: f.clock, randomBytes: seededRandomBytes(2) }));
    for (const n of r.nodes) {
      if (stopped.has(n.id!)) {
        expect(n.status).toBe('unreachable');
        expect(n.failure).toBe('timeout');
        expect(n.rttMs).toBeNull();
      } else expect(n.status).toBe('reachable');
    }
    expect(r.reachable).toBe(SIZE - stopped.size);
    // Stopped nodes still sit in others' tables, so most are named; none is reachable.
    expect(r.unreachable).toBe(r.found - r.reachable);
    expect(r.failures.timeout).toBe(r.unreachable);
  });

  it('resolves a cancelled crawl with what it had, the rest marked not crawled', async () => {
    const ac = new AbortController();
    const r = await f.net.run(
      crawl(kadscopeCrawlClient(f.crawler), {
        bootstrap: [f.net.bootstrap[0]],
        clock: f.clock,
        signal: ac.signal,
        concurrency: 4,
        onProgress: (p) => {
          if (p.done >= 20) ac.abort();
        },
        progressIntervalMs: 0,
      }),
    );
    expect(r.cancelled).toBe(true);
    expect(r.reachable).toBeGreaterThanOrEqual(20);
    expect(r.reachable).toBeLessThan(SIZE);
    expect(r.notCrawled).toBe(r.found - r.reachable - r.unreachable);
    expect(r.notCrawled).toBeGreaterThan(0);
  });

  it('refuses bad options with a clear error', async () => {
    const client = kadscopeCrawlClient(f.crawler);
    await expect(crawl(client, { bootstrap: [] })).rejects.toThrow(/at least one bootstrap/);
    await expect(crawl(client, { bootstrap: ['nowhere'] })).rejects.toThrow(/nowhere: missing ":port"/);
    await expect(crawl(client, { bootstrap: ['127.0.0.1:1'], concurrency: 0 })).rejects.toThrow(/concurrency/);
  });
});

describe('crawl (a protocol with 160-bit ids)', () => {
  // A synthetic network of 20-byte ids: each node knows every other and answers the 8 nearest to the target.
  it('takes id lengths from the answers, and reports refusals and wrong ids', async () => {
    const rand = seededRandomBytes(9);
    const ids = Array.from({ length: 64 }, () => rand(20));
    const port = (i: number): number => 1000 + i;
    const xor = (a: Uint8Array, b: Uint8Array): bigint => BigInt('0x' + Buffer.from(a.map((x, i) => x ^ b[i])).toString('hex'));
    const fake = new FakeClock();
    const targets: number[] = [];
    const client: CrawlClient = {
      protocol: 'test160',
      idBytes: 20,
      readOnly: true,
      async findNode(to, target) {
        const i = to.port - 1000;
        targets.push(target.length);
        if (i === 5) throw Object.assign(new (await import('../../core/errors')).DhtError('RATE_LIMITED', 'slow down', { wireCode: 202 }));
        if (i === 6) return { id: rand(20), nodes: [], rttMs: 1 };
        const nodes = ids
          .map((id, j) => ({ id, host: '10.0.0.1', port: port(j) }))
          .sort((a, b) => (xor(a.id, target) < xor(b.id, target) ? -1 : 1))
          .slice(0, 8);
        return { id: ids[i], nodes, rttMs: 3, client: 'T1.0', facts: { bep42: i % 2 === 0 ? 'compliant' : 'non-compliant' } };
      },
    };
    const r = await fake.run(crawl(client, { bootstrap: ['10.0.0.1:1000'], clock: fake, randomBytes: seededRandomBytes(3) }));
    expect(targets.every((n) => n === 20)).toBe(true);
    expect(r.found).toBe(64);
    expect(r.reachable).toBe(62);
    const five = r.nodes.find((n) => n.port === 1005)!;
    expect(five).toMatchObject({ status: 'unreachable', failure: 'refused' });
    const six = r.nodes.find((n) => n.port === 1006)!;
    expect(six).toMatchObject({ status: 'unreachable', failure: 'error' });
    expect(six.error).toMatch(/instead of/);
    expect(r.clients).toEqual({ 'T1.0': 62 });
    expect(r.nodes.find((n) => n.port === 1002)!.facts).toEqual({ bep42: 'compliant' });
    // Over the reachable nodes (5 and 6 are not): even ports compliant, odd ones not.
    expect(r.facts).toEqual({ bep42: { compliant: 31, 'non-compliant': 31 } });
  });

  it('estimates size from id density', () => {
    const rand = seededRandomBytes(4);
    const nodes = Array.from({ length: 5000 }, () => ({ id: Buffer.from(rand(20)).toString('hex'), status: 'reachable' as const }));
    const est = estimateSize(nodes as never);
    expect(est).toBeGreaterThan(4000);
    expect(est).toBeLessThan(6000);
  });
});
