// Record lifetimes under fake time, on the simulated network: expiry, the publisher's republish,
// storers' replication after holders leave, hand-off to a closer node that joins, and churn.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { DhtError } from '../../core/errors';
import { bytesToHex, compareDistance, hexToBytes, seededRandom } from '../../core/id';
import { DhtNode } from '../../core/node';
import { RECORD_TTL_MS } from '../../core/records/store';
import { HYPERDHT_RECORD_TTL_MS } from '../../core/protocols/hyperdht/records';
import { REPUBLISH_INTERVAL_MS, REPLICATE_INTERVAL_MS } from '../../core/records/config';
import { createTestnet, type Testnet } from '../../core/testnet';
import type { RecordInfo } from '../../core/types';

const HOUR = 3_600_000;
/** Bucket refreshes add traffic and nothing to these tests; keep them out of the fake hours. */
const QUIET = { refreshIntervalMs: 24 * HOUR };

let open: Testnet[] = [];
afterEach(async () => {
  await Promise.all(open.map((t) => t.destroy()));
  open = [];
});

async function testnet(size: number, seed: number, node: Parameters<typeof createTestnet>[0]['node'] = {}): Promise<Testnet & { clock: FakeClock }> {
  const tn = await createTestnet({ size, transport: 'memory', seed, node: { ...QUIET, ...node } });
  open.push(tn);
  return tn as Testnet & { clock: FakeClock };
}

/** Advances fake time in steps, letting the nodes' timers and messages run. */
async function pass(tn: Testnet & { clock: FakeClock }, ms: number, stepMs = 60_000): Promise<void> {
  for (let left = ms; left > 0; left -= stepMs) await tn.clock.tickAsync(Math.min(stepMs, left));
}

async function putMany(tn: Testnet, n: number, pick: () => number): Promise<Array<{ key: string; value: string; by: DhtNode }>> {
  const live = tn.live();
  return tn.run(
    Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const by = live[Math.floor(pick() * live.length)];
        const value = `record ${i}`;
        const r = await by.records.put(value);
        return { key: r.key, value, by };
      }),
    ),
  );
}

/** How many of the records some live node (not a given one) can fetch. */
async function fetchable(tn: Testnet, records: Array<{ key: string; value: string }>, pick: () => number): Promise<number> {
  const live = tn.live();
  const got = await tn.run(
    Promise.all(
      records.map(async (r) => {
        const asker = live[Math.floor(pick() * live.length)];
        try {
          const v = await asker.records.get(r.key);
          return new TextDecoder().decode(v.value) === r.value;
        } catch (e) {
          if (e instanceof DhtError && e.code === 'NOT_FOUND') return false;
          throw e;
        }
      }),
    ),
  );
  return got.filter(Boolean).length;
}

const holdersOf = (tn: Testnet, key: string): DhtNode[] => tn.live().filter((n) => n.records.held().some((r) => r.key === key));

describe('record lifetimes (memory network, fake time)', () => {
  it('records vanish after their expiry when nobody republishes them, and every node says so', async () => {
    const tn = await testnet(30, 11, { republishIntervalMs: 0 });
    const expired: RecordInfo[] = [];
    for (const n of tn.nodes) n.on('record-expired', (r) => expired.push(r));
    const pick = seededRandom(1);
    const records = await putMany(tn, 20, pick);
    expect(await fetchable(tn, records, pick)).toBe(20);
    await pass(tn, RECORD_TTL_MS / 2);
    expect(await fetchable(tn, records, pick)).toBe(20); // half-way: still there
    // A copy made by replication lives at most a little longer than the last refresh: give it that.
    await pass(tn, RECORD_TTL_MS + REPLICATE_INTERVAL_MS * 2);
    expect(await fetchable(tn, records, pick)).toBe(0);
    expect(tn.nodes.flatMap((n) => n.records.held())).toEqual([]);
    expect(new Set(expired.map((r) => r.key))).toEqual(new Set(records.map((r) => r.key)));
    expect(expired.every((r) => r.expiresInMs === 0)).toBe(true);
  });

  it("a HyperDHT value lives hyperdht's 48 h, not kadscope's 2 h; a node's recordTtlMs still wins", async () => {
    const tn = await testnet(12, 13, { protocol: 'hyperdht', republishIntervalMs: 0 });
    const pick = seededRandom(3);
    const records = await putMany(tn, 4, pick);
    await pass(tn, 3 * HOUR, 10 * 60_000);
    expect(await fetchable(tn, records, pick)).toBe(4);
    const left = tn.nodes.flatMap((n) => n.records.held()).map((c) => c.expiresInMs);
    expect(left.length).toBeGreaterThan(0);
    expect(Math.min(...left)).toBeGreaterThan(HYPERDHT_RECORD_TTL_MS - 4 * HOUR);
    const short = await testnet(12, 14, { protocol: 'hyperdht', republishIntervalMs: 0, recordTtlMs: HOUR });
    const brief = await putMany(short, 4, pick);
    await pass(short, HOUR + REPLICATE_INTERVAL_MS * 2, 10 * 60_000);
    expect(await fetchable(short, brief, pick)).toBe(0);
  });

  it('records survive two lifetimes while their publishers republish them', async () => {
    const tn = await testnet(30, 12);
    const pick = seededRandom(2);
    const records = await putMany(tn, 20, pick);
    await pass(tn, 2 * RECORD_TTL_MS + REPLICATE_INTERVAL_MS);
    expect(await fetchable(tn, records, pick)).toBe(20);
    // The storers' copies were refreshed: each expires at most one lifetime from now.
    for (const r of records) {
      const copies = holdersOf(tn, r.key).flatMap((n) => n.records.held().filter((x) => x.key === r.key));
      expect(copies.length).toBeGreaterThanOrEqual(20);
      expect(Math.min(...copies.map((c) => c.expiresInMs))).toBeGreaterThan(RECORD_TTL_MS - REPUBLISH_INTERVAL_MS - 10 * 60_000);
    }
  });

  it('after 30% of the nodes stop (holders among them) and one republish interval, at least 99% of records are fetchable', async () => {
    const tn = await testnet(60, 13);
    const pick = seededRandom(3);
    const records = await putMany(tn, 100, pick);
    const stopped = new Set(await tn.stopRandom(18));
    const holdersStopped = records.filter((r) => tn.nodes.some((n) => stopped.has(n.id) && n.records.held().some((x) => x.key === r.key))).length;
    expect(holdersStopped).toBeGreaterThan(90); // nearly every record lost some of its holders
    const publishersStopped = records.filter((r) => stopped.has(r.by.id)).length;
    expect(publishersStopped).toBeGreaterThan(10); // and some lost their publisher: only storers keep those
    await pass(tn, REPUBLISH_INTERVAL_MS + 60_000);
    expect(await fetchable(tn, records, pick)).toBeGreaterThanOrEqual(99);
  });

  it('storers replicate to the current k closest after holders leave, before any republish', async () => {
    const tn = await testnet(60, 14);
    const pick = seededRandom(4);
    const [rec] = await putMany(tn, 1, pick);
    const key = hexToBytes(rec.key);
    const byDistance = (nodes: DhtNode[]) => [...nodes].sort((a, b) => compareDistance(key, a.idBytes, b.idBytes));
    // Stop the 5 nearest holders (never the publisher). The holders next in line wait one pass for
    // a nearer replicator, hear from none, and step in at the next one.
    const victims = byDistance(holdersOf(tn, rec.key)).filter((n) => n !== rec.by && n !== tn.nodes[0]).slice(0, 5);
    for (const v of victims) await v.stop();
    await pass(tn, 2 * REPLICATE_INTERVAL_MS + 2 * 60_000);
    expect(2 * REPLICATE_INTERVAL_MS + 2 * 60_000).toBeLessThan(REPUBLISH_INTERVAL_MS);
    const nearest = byDistance(tn.live()).slice(0, 20);
    const holding = nearest.filter((n) => n.records.held().some((r) => r.key === rec.key)).length;
    expect(holding).toBe(20);
  });

  it('hands a record to a closer node that joins', async () => {
    const tn = await testnet(30, 15);
    const pick = seededRandom(5);
    const [rec] = await putMany(tn, 1, pick);
    // A newcomer whose id shares all but the last bit with the key: nearer than any node there.
    const id = hexToBytes(rec.key);
    id[31] ^= 1;
    const transport = tn.network!.createTransport({});
    const newcomer = DhtNode.create({ transport, clock: tn.clock, id: bytesToHex(id), diversity: false, ...QUIET, bootstrap: tn.bootstrap });
    await tn.run(newcomer.start());
    try {
      await pass(tn, 30_000, 1_000); // well before any replication pass or republish
      expect(newcomer.records.held().map((r) => r.key)).toEqual([rec.key]);
      expect((await tn.run(newcomer.records.get(rec.key))).from).toBe(newcomer.id); // it answers for itself now
    } finally {
      await newcomer.stop();
    }
  });

  it('announcements expire unless their announcer refreshes them', async () => {
    const tn = await testnet(20, 16);
    const [a, b, asker] = [tn.nodes[1], tn.nodes[2], tn.nodes[3]];
    await tn.run(a.records.announce('refreshed', 1111));
    await tn.run(b.records.announce('one-shot', 2222));
    expect(b.records.unannounce('one-shot', 2222)).toBe(true);
    await pass(tn, HOUR);
    expect((await tn.run(asker.records.lookupPeers('refreshed'))).peers.map((p) => p.port)).toEqual([1111]);
    expect((await tn.run(asker.records.lookupPeers('one-shot'))).peers).toEqual([]);
  });

  it('stop() leaves no timer behind', async () => {
    const tn = await testnet(20, 17);
    await putMany(tn, 5, seededRandom(6));
    await pass(tn, 2 * 60_000);
    await tn.destroy();
    open = [];
    expect(tn.clock.pendingTimers).toBe(0);
  });
});
