// A 100-node testnet over real UDP on 127.0.0.1: it settles, and lookups find the true closest nodes,
// computed from every id in the network. Real sockets and the system clock; every wait is bounded by
// the RPC and lookup timeouts, nothing sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDistance, bytesToHex, hexToBytes, seededRandom, seededRandomBytes } from '../../core/id';
import { createTestnet, type Testnet } from '../../core/testnet';
import type { DhtNode } from '../../core/node';
import { trueClosest } from './true-closest';

const SIZE = 100;
const K = 20;
const ASKERS = 20;
const TARGETS_PER_ASKER = 50;
const SEED = 0x0d17;

let net: Testnet;

beforeAll(async () => {
  net = await createTestnet({ size: SIZE, transport: 'udp', host: '127.0.0.1', seed: SEED });
}, 120_000);

afterAll(async () => {
  await net?.destroy();
});

describe('a 100-node testnet over UDP on 127.0.0.1', () => {
  it('settles: every node is running on loopback, with distinct ids and a filled routing table', () => {
    expect(net.nodes).toHaveLength(SIZE);
    expect(net.transport).toBe('udp');
    expect(new Set(net.nodes.map((n) => n.id)).size).toBe(SIZE);
    expect(new Set(net.nodes.map((n) => n.address.port)).size).toBe(SIZE);
    for (const n of net.nodes) {
      expect(n.running).toBe(true);
      expect(n.address.host).toBe('127.0.0.1');
      // Each node knows at least k peers: enough to start any lookup.
      expect(n.table.size).toBeGreaterThanOrEqual(K);
    }
    expect(net.bootstrap).toHaveLength(3);
    for (const b of net.bootstrap) expect(b).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it(`finds the true closest node in >= 99% and the true ${K} closest with >= 95% recall (${ASKERS} askers x ${TARGETS_PER_ASKER} targets)`, async () => {
    const pick = seededRandom(SEED + 1);
    const rand = seededRandomBytes(SEED + 2);
    const askers = new Set<DhtNode>();
    while (askers.size < ASKERS) askers.add(net.nodes[Math.floor(pick() * SIZE)]);
    let lookups = 0;
    let closestFound = 0;
    let recallSum = 0;
    const reasons = new Map<string, number>();
    // The askers run in parallel, each one lookup at a time: bounded load on the loopback sockets.
    await Promise.all(
      [...askers].map(async (asker) => {
        const targets = Array.from({ length: TARGETS_PER_ASKER }, () => rand(32));
        for (const target of targets) {
          const r = await asker.findNode(bytesToHex(target));
          const truth = trueClosest(net.nodes, target, K, asker);
          const found = r.closest.map((c) => c.id);
          lookups++;
          if (found[0] === truth[0]) closestFound++;
          const truthSet = new Set(truth);
          recallSum += found.filter((id) => truthSet.has(id)).length / K;
          reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
          // Nearest first, as promised.
          for (let i = 1; i < found.length; i++) expect(compareDistance(target, hexToBytes(found[i - 1]), hexToBytes(found[i]))).toBeLessThan(0);
        }
      }),
    );
    const closestRate = closestFound / lookups;
    const recall = recallSum / lookups;
    console.log(`UDP ${SIZE} nodes: ${lookups} lookups, true closest found ${(closestRate * 100).toFixed(1)}%, recall@${K} ${(recall * 100).toFixed(1)}%, reasons ${JSON.stringify(Object.fromEntries(reasons))}`);
    expect(lookups).toBe(ASKERS * TARGETS_PER_ASKER);
    expect(closestRate).toBeGreaterThanOrEqual(0.99);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  }, 180_000);
});
