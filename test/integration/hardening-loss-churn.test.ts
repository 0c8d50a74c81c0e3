// Loss and churn on the simulated network, under fake time.
//  - At 30% packet loss (each way), lookups still find the true closest node in >= 99% of cases. A
//    round trip then fails half the time, so one retry is not enough (74% per live node): the
//    node's retries follow the loss its answers show (core/rpc/loss.ts).
//  - With a third of the nodes stopped, a lookup waits for the dead peers it meets once and in
//    parallel: stalled queries do not hold the alpha slots (core/lookup/lookup.ts).
//  - With 30% of the nodes stopped and replaced by newcomers, every stored value stays fetchable,
//    from the newcomers too, before any publisher republishes (records-lifetimes.test.ts covers
//    stopping alone, with a republish).
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../core/clock';
import { DhtError } from '../../core/errors';
import { bytesToHex, compareDistance, hexToBytes, seededRandom, seededRandomBytes } from '../../core/id';
import type { DhtNode } from '../../core/node';
import { REPLICATE_INTERVAL_MS, REPUBLISH_INTERVAL_MS } from '../../core/records/config';
import { createTestnet, type Testnet } from '../../core/testnet';
import { trueClosest } from './true-closest';

const HOUR = 3_600_000;
const QUIET = { refreshIntervalMs: 24 * HOUR };

let open: Testnet[] = [];
afterEach(async () => {
  await Promise.all(open.map((t) => t.destroy()));
  open = [];
});

async function testnet(size: number, seed: number): Promise<Testnet & { clock: FakeClock }> {
  const tn = await createTestnet({ size, transport: 'memory', seed, node: QUIET });
  open.push(tn);
  return tn as Testnet & { clock: FakeClock };
}

describe('30% packet loss', () => {
  const SIZE = 80;
  const ASKERS = 10;
  const LOOKUPS_EACH = 20;

  it(`lookups find the true closest node in >= 99% of ${ASKERS * LOOKUPS_EACH} cases, and the true 20 closest with >= 99% recall`, async () => {
    const tn = await testnet(SIZE, 0x1055);
    const before = { ...tn.network!.stats };
    tn.network!.setLoss(0.3);
    // The network lives with the loss for a while: one refresh of each node's own neighbourhood.
    await tn.run(Promise.all(tn.nodes.map((n) => n.findNode(n.id))));

    const pick = seededRandom(0x1056);
    const rand = seededRandomBytes(0x1057);
    let found = 0;
    let total = 0;
    let recalled = 0;
    let durationMs = 0;
    const reasons: Record<string, number> = {};
    await tn.run(
      Promise.all(
        Array.from({ length: ASKERS }, async () => {
          for (let i = 0; i < LOOKUPS_EACH; i++) {
            const asker = tn.nodes[Math.floor(pick() * SIZE)];
            const target = rand(32);
            const truth = trueClosest(tn.nodes, target, 20, asker);
            const r = await asker.findNode(bytesToHex(target));
            total++;
            if (r.closest[0]?.id === truth[0]) found++;
            durationMs += r.durationMs;
            recalled += r.closest.filter((c) => truth.includes(c.id)).length / truth.length;
            reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
          }
        }),
      ),
    );
    const lost = tn.network!.stats.lost - before.lost;
    const sent = tn.network!.stats.sent - before.sent;
    console.log(`30% loss: true closest found in ${found}/${total}, recall@20 ${((100 * recalled) / total).toFixed(2)}%, ${(durationMs / total / 1000).toFixed(1)} s per lookup (fake time); lookups ended ${JSON.stringify(reasons)}; the network lost ${lost} of ${sent} datagrams`);
    expect(lost / sent).toBeGreaterThan(0.28);
    expect(found / total).toBeGreaterThanOrEqual(0.99);
    expect(recalled / total).toBeGreaterThanOrEqual(0.99);
  });
});

describe('dead peers', () => {
  it('with 10 of 33 nodes stopped, a lookup waits for the dead ones once, in parallel, and finds the true closest live nodes', async () => {
    const tn = await testnet(33, 0xdead);
    const asker = tn.nodes[0];
    const stopped = tn.nodes.slice(1).filter((_, i) => i % 3 === 0);
    for (const n of stopped) await tn.run(tn.stopNode(n.id));
    const live = tn.live();
    const rand = seededRandomBytes(0xdeae);
    // A dead peer costs its attempts: 2 of 2 s. Holding an alpha slot each, the dead peers of a
    // lookup were timed out three at a time before stalled queries gave up their slot.
    const deadPeerMs = 2 * 2_000;
    const durations: number[] = [];
    for (let i = 0; i < 20; i++) {
      const target = rand(32);
      const truth = trueClosest(live, target, 20, asker);
      const r = await tn.run(asker.findNode(bytesToHex(target)));
      durations.push(r.durationMs);
      // The nearest live nodes, in order. (The first lookups find 13-17 of the 20: each answer lists
      // its 20 closest contacts, dead ones included, which crowds out the live ones farther off.)
      expect(r.closest.map((c) => c.id)).toEqual(truth.slice(0, r.closest.length));
      expect(r.closest.length).toBeGreaterThanOrEqual(10);
    }
    console.log(`dead peers: 10 of 33 stopped; lookup durations (fake time) ${durations.join(' ')} ms`);
    // Each dead peer is waited for once, and they are asked early: a lookup ends within one dead
    // peer's attempts plus the stall time before the first answer (500 ms) and a few round trips.
    for (const d of durations) expect(d).toBeLessThan(deadPeerMs + 1_000);
  });
});

describe('churn', () => {
  it('with 30% of the nodes stopped and replaced, every stored value stays fetchable, from newcomers too', async () => {
    const SIZE = 40;
    const VALUES = 60;
    const tn = await testnet(SIZE, 0xc4a2);
    const pick = seededRandom(0xc4a3);
    const live = tn.live();
    const records = await tn.run(
      Promise.all(
        Array.from({ length: VALUES }, async (_, i) => {
          const value = `churn record ${i}`;
          const r = await live[Math.floor(pick() * live.length)].records.put(value);
          return { key: r.key, value };
        }),
      ),
    );

    const replaced = Math.round(SIZE * 0.3);
    const stopped = new Set(await tn.stopRandom(replaced));
    const newcomers = await tn.addNodes(replaced);
    expect(tn.live()).toHaveLength(SIZE);
    // Replication passes by the storers, well before any publisher would republish.
    const wait = 2 * REPLICATE_INTERVAL_MS + 2 * 60_000;
    expect(wait).toBeLessThan(REPUBLISH_INTERVAL_MS);
    for (let t = 0; t < wait; t += 60_000) await tn.clock.tickAsync(60_000);

    // Each value: fetched by a newcomer (which never saw it stored), and held by most of its k closest live nodes.
    const got = await tn.run(
      Promise.all(
        records.map(async (r, i) => {
          const asker: DhtNode = newcomers[i % newcomers.length];
          try {
            return new TextDecoder().decode((await asker.records.get(r.key)).value) === r.value;
          } catch (e) {
            if (e instanceof DhtError && e.code === 'NOT_FOUND') return false;
            throw e;
          }
        }),
      ),
    );
    const holding = records.map((r) => {
      const key = hexToBytes(r.key);
      const nearest = tn.live().sort((a, b) => compareDistance(key, a.idBytes, b.idBytes)).slice(0, 20);
      return nearest.filter((n) => n.records.held().some((x) => x.key === r.key)).length;
    });
    const lostHolders = records.filter((r) => tn.nodes.some((n) => stopped.has(n.id) && n.records.held().some((x) => x.key === r.key))).length;
    console.log(
      `churn: ${replaced} of ${SIZE} nodes replaced; ${lostHolders}/${VALUES} values lost holders; ${got.filter(Boolean).length}/${VALUES} fetched by newcomers; ` +
        `k closest holding: min ${Math.min(...holding)}, mean ${(holding.reduce((a, b) => a + b, 0) / holding.length).toFixed(1)}`,
    );
    expect(lostHolders).toBeGreaterThan(VALUES * 0.9);
    expect(got.filter(Boolean).length).toBe(VALUES);
    expect(Math.min(...holding)).toBeGreaterThanOrEqual(10);
  });
});
