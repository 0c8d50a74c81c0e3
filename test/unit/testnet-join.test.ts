// createTestnet's joinConcurrency (core/testnet.ts): how many nodes join at once. Any allowed value
// builds a network whose lookups find the true closest nodes; values outside 1..MAX_JOIN_CONCURRENCY
// are refused with the reason, before anything starts. Memory network under fake time.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { bytesToHex, compareDistance, seededRandomBytes } from '../../core/id';
import { createTestnet, MAX_JOIN_CONCURRENCY, type Testnet } from '../../core/testnet';

let nets: Testnet[] = [];
afterEach(async () => {
  for (const n of nets) await n.destroy();
  nets = [];
});

describe('createTestnet joinConcurrency', () => {
  it('one at a time, the default or 16 at once: every node joins and lookups find the true closest; more at once, sooner', async () => {
    const builtInMs: number[] = [];
    for (const joinConcurrency of [1, undefined, 16]) {
      const clock = new FakeClock();
      const t0 = clock.now();
      const tn = await createTestnet({ size: 60, transport: 'memory', seed: 0x701, clock, ...(joinConcurrency ? { joinConcurrency } : {}) });
      nets.push(tn);
      builtInMs.push(clock.now() - t0);
      expect(tn.nodes.every((n) => n.running && n.table.size > 0)).toBe(true);
      const rand = seededRandomBytes(0x702);
      for (let i = 0; i < 10; i++) {
        const target = rand(32);
        const asker = tn.nodes[i * 5];
        // The asker is not in its own answer: the truth is the closest of the others.
        const truth = tn.nodes.filter((n) => n !== asker).sort((a, b) => compareDistance(target, a.idBytes, b.idBytes))[0];
        const r = await tn.run(asker.findNode(bytesToHex(target)));
        expect(r.closest[0].id).toBe(truth.id);
      }
    }
    // Simulated time to build: one at a time > 8 at a time > 16 at a time.
    expect(builtInMs[0]).toBeGreaterThan(builtInMs[1]);
    expect(builtInMs[1]).toBeGreaterThan(builtInMs[2]);
  });

  it('refuses a concurrency outside 1..MAX_JOIN_CONCURRENCY, or not an integer', async () => {
    for (const joinConcurrency of [0, -1, 1.5, MAX_JOIN_CONCURRENCY + 1, Number.NaN]) {
      await expect(createTestnet({ size: 3, transport: 'memory', joinConcurrency })).rejects.toThrow(/joinConcurrency must be an integer 1-256; got/);
    }
  });
});
