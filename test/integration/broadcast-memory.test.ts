// Broadcast on a 1,000-node memory network under fake time: one node's message reaches every other
// node exactly once (each node's 'broadcast' event fires once), spreading the Kademlia way, so the
// network carries about one BROADCAST per node rather than one per routing-table entry; duplicates
// handed to a node are acknowledged and suppressed; a hop limit of 1 stops it at the origin's
// direct contacts; and the origin's rate limit refuses a burst past its allowance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { isDhtError } from '../../core/errors';
import type { BroadcastInfo } from '../../core/extensions/broadcast';
import { bucketIndex } from '../../core/id';
import type { DhtNode } from '../../core/node';
import { createTestnet, type Testnet } from '../../core/testnet';

const SIZE = 1_000;
const SEED = 0xb0ad;
/** Fake time the spreading may take; it needs a few hops of 5-40 ms each. */
const SPREAD_MS = 30_000;

let net: Testnet;
let clock: FakeClock;
const received = new Map<DhtNode, BroadcastInfo[]>();

beforeAll(async () => {
  clock = new FakeClock();
  net = await createTestnet({ size: SIZE, transport: 'memory', seed: SEED, clock, node: { refreshOnBootstrap: false } });
  for (const n of net.nodes) {
    received.set(n, []);
    n.on('broadcast', (info) => received.get(n)!.push(info));
  }
}, 600_000);

afterAll(async () => {
  if (!net) return;
  await net.destroy();
  expect(clock.pendingTimers).toBe(0);
});

/** Lets fake time run until `done()` holds or SPREAD_MS pass. */
async function spread(done: () => boolean): Promise<void> {
  const until = clock.now() + SPREAD_MS;
  while (!done() && clock.now() < until) await clock.tickAsync(50);
}

function broadcastsSent(): number {
  return net.nodes.reduce((s, n) => s + n.snapshot().counters.rpc.BROADCAST.sent, 0);
}

function findNodesSent(): number {
  return net.nodes.reduce((s, n) => s + n.snapshot().counters.rpc.FIND_NODE.sent, 0);
}

describe(`broadcast on a ${SIZE}-node memory network`, () => {
  it('reaches every other node exactly once', async () => {
    const origin = net.nodes[17];
    const sentBefore = broadcastsSent();
    const findBefore = findNodesSent();
    const rangeQueriesBefore = net.nodes.reduce((s, n) => s + n.broadcastStats.rangeQueries, 0);
    const r = await net.run(origin.broadcast('hello, network'));
    expect(r.id).toMatch(/^[0-9a-f]{16}$/);
    expect(r.failed).toBe(0);
    // One range per non-empty bucket of the origin.
    expect(r.reached).toBe(origin.table.buckets().filter((b) => b.entries.length > 0).length);
    const got = (n: DhtNode): BroadcastInfo[] => received.get(n)!.filter((b) => b.id === r.id);
    await spread(() => net.nodes.every((n) => n === origin || got(n).length > 0));
    // And then some more, for any duplicate still on its way.
    await clock.tickAsync(SPREAD_MS);

    const counts = net.nodes.filter((n) => n !== origin).map((n) => got(n).length);
    const missed = counts.filter((c) => c === 0).length;
    const twice = counts.filter((c) => c > 1).length;
    const hops = net.nodes.filter((n) => n !== origin).map((n) => got(n)[0]?.hops ?? 0);
    const sent = broadcastsSent() - sentBefore;
    const duplicates = net.nodes.reduce((s, n) => s + n.broadcastStats.duplicates, 0);
    const rangeQueries = net.nodes.reduce((s, n) => s + n.broadcastStats.rangeQueries, 0) - rangeQueriesBefore;
    console.log(
      `broadcast on ${SIZE} nodes: ${SIZE - 1 - missed} of ${SIZE - 1} reached, ${sent} BROADCAST requests, ${duplicates} duplicates suppressed, ` +
        `max hops ${Math.max(...hops)}, ${rangeQueries} empty ranges looked up (${findNodesSent() - findBefore} FIND_NODE requests)`,
    );
    expect(missed).toBe(0);
    expect(twice).toBe(0);
    expect(got(origin)).toHaveLength(0);
    // Each delivery is what the origin sent, with who handed it on and how far it came.
    for (const n of net.nodes) {
      if (n === origin) continue;
      const info = got(n)[0];
      expect(info.origin).toBe(origin.id);
      expect(new TextDecoder().decode(info.payload)).toBe('hello, network');
      expect(info.hops).toBeGreaterThanOrEqual(1);
      expect(info.hops).toBeLessThanOrEqual(info.hopLimit);
      // It came from a node farther from us than anything we handed it to: the sender's bucket is ours for it.
      if (info.hops === 1) expect(info.from.id).toBe(origin.id);
    }
    // The Kademlia way: about one request per node, not one per routing-table entry.
    expect(sent).toBeLessThan(SIZE * 1.2);
    expect(sent).toBeGreaterThanOrEqual(SIZE - 1);
  }, 300_000);

  it('suppresses a duplicate: acknowledged, neither delivered nor forwarded again', async () => {
    const origin = net.nodes[3];
    const r = await net.run(origin.broadcast(new Uint8Array([1, 2, 3])));
    await spread(() => net.nodes.every((n) => n === origin || received.get(n)!.some((b) => b.id === r.id)));
    const target = net.nodes[200];
    const before = target.broadcastStats;
    const deliveredBefore = received.get(target)!.length;
    // Hand the same broadcast to it again, as a confused or hostile peer would.
    const info = received.get(target)!.find((b) => b.id === r.id)!;
    const sender = net.nodes.find((n) => n.id === info.from.id)!;
    const senderSent = sender.snapshot().counters.rpc.BROADCAST.sent;
    const forwardedBefore = target.broadcastStats.forwarded;
    const res = await net.run(
      (sender as unknown as { request(to: unknown, args: unknown): Promise<unknown> }).request(target.address, {
        method: 'BROADCAST',
        origin: origin.idBytes,
        bid: Buffer.from(r.id, 'hex'),
        hops: info.hops,
        hopLimit: info.hopLimit,
        payload: new Uint8Array([1, 2, 3]),
      }),
    );
    expect(res).toBeTruthy();
    await clock.tickAsync(5_000);
    expect(received.get(target)!.length).toBe(deliveredBefore);
    expect(target.broadcastStats.duplicates).toBe(before.duplicates + 1);
    expect(target.broadcastStats.forwarded).toBe(forwardedBefore);
    expect(sender.snapshot().counters.rpc.BROADCAST.sent).toBe(senderSent + 1);
  }, 120_000);

  it('stops at the hop limit: with 1, only one contact per bucket of the origin gets it', async () => {
    const origin = net.nodes[42];
    const r = await net.run(origin.broadcast('near only', { hopLimit: 1 }));
    await clock.tickAsync(SPREAD_MS);
    const reachedNodes = net.nodes.filter((n) => received.get(n)!.some((b) => b.id === r.id));
    expect(reachedNodes.length).toBe(r.reached);
    // One per bucket range: no two share a bucket of the origin.
    const buckets = new Set(reachedNodes.map((n) => bucketIndex(origin.idBytes, n.idBytes)));
    expect(buckets.size).toBe(reachedNodes.length);
    for (const n of reachedNodes) expect(received.get(n)!.find((b) => b.id === r.id)!.hops).toBe(1);
  }, 120_000);

  it("refuses to start more than the origin's burst allowance", async () => {
    const origin = net.nodes[99];
    // The default allowance is a burst of 10, then 1 a second: twelve started at one instant.
    const started = Array.from({ length: 12 }, (_, i) =>
      origin.broadcast(`n${i}`, { hopLimit: 1 }).then(
        (v) => v,
        (e: unknown) => e,
      ),
    );
    const outcomes = await net.run(Promise.all(started));
    const refused = outcomes.filter((o) => isDhtError(o, 'RATE_LIMITED'));
    expect(refused).toHaveLength(2);
    expect((refused[0] as Error).message).toMatch(/at most 1 a second/);
  }, 120_000);

  it('refuses what cannot be broadcast, before sending', async () => {
    const n = net.nodes[5];
    await expect(n.broadcast(new Uint8Array(1001))).rejects.toThrow(/at most 1000/);
    await expect(n.broadcast('x', { hopLimit: 0 })).rejects.toThrow(/hopLimit/);
    await expect(n.broadcast('x', { hopLimit: 65 })).rejects.toThrow(/hopLimit/);
  });
});

describe('broadcast options', () => {
  // A node builds its broadcaster on the first broadcast it starts or receives; a bad option must
  // still fail when the node is made, not at that first broadcast.
  it('are checked when the node is made', async () => {
    await expect(createTestnet({ size: 1, transport: 'memory', seed: SEED, node: { broadcast: { hopLimit: 0 } } })).rejects.toThrow(/hopLimit must be an integer 1\.\.64/);
    await expect(createTestnet({ size: 1, transport: 'memory', seed: SEED, node: { broadcast: { rateLimit: { startBurst: -1 } } } })).rejects.toThrow(/rateLimit\.burst must be a positive number; got -1/);
    await expect(createTestnet({ size: 1, transport: 'memory', seed: SEED, node: { broadcast: { rateLimit: { relayPerSecond: Number.NaN } } } })).rejects.toThrow(/global\.requestsPerSecond/);
  });

  it('a node that never saw a broadcast reports none and zero stats', async () => {
    const tn = await createTestnet({ size: 2, transport: 'memory', seed: SEED });
    try {
      const n = tn.nodes[1];
      expect(n.broadcasts()).toEqual([]);
      expect(Object.values(n.broadcastStats).every((v) => v === 0)).toBe(true);
      // The stats are a copy: writing to one changes nothing the node reports.
      const stats = n.broadcastStats;
      stats.started = 5;
      expect(n.broadcastStats.started).toBe(0);
    } finally {
      await tn.destroy();
    }
  });
});
