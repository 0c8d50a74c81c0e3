// Retries that follow the packet loss a node sees (core/rpc/loss.ts): base retries on a clean network
// and with dead peers, more as answers start needing retries, bounded, and back down once the loss
// goes away. Driven with synthetic answers drawn from a seeded loss model.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/id';
import { LOSS_TARGET, MAX_ADAPTIVE_RETRIES, RetryPolicy } from '../../core/rpc/loss';

/** Feeds `n` requests through a network whose round trips fail with probability p; returns the policy. */
function simulate(policy: RetryPolicy, p: number, n: number, random: () => number): void {
  for (let i = 0; i < n; i++) {
    const max = policy.retries() + 1;
    let attempt = 1;
    while (attempt <= max && random() < p) attempt++;
    if (attempt <= max) policy.answered(attempt, max); // a request that timed out teaches nothing
  }
}

describe('RetryPolicy', () => {
  it('stays at the base retries on a clean network, however many peers are dead', () => {
    const policy = new RetryPolicy({ baseRetries: 1 });
    // Answers all at the first attempt; timeouts to dead peers are never reported to it.
    for (let i = 0; i < 1_000; i++) policy.answered(1, 2);
    expect(policy.retries()).toBe(1);
    expect(policy.extraRetries()).toBe(0);
    expect(policy.estimatedLoss).toBe(0);
  });

  it('at 30% loss each way (51% per round trip) it estimates the loss and asks for enough attempts', () => {
    const random = seededRandom(7);
    const policy = new RetryPolicy({ baseRetries: 1 });
    simulate(policy, 0.51, 400, random);
    expect(policy.estimatedLoss).toBeGreaterThan(0.4);
    expect(policy.estimatedLoss).toBeLessThan(0.65);
    expect(policy.retries()).toBeGreaterThanOrEqual(8);
    expect(policy.retries()).toBeLessThanOrEqual(MAX_ADAPTIVE_RETRIES);
    // With that many attempts a live node stays silent in fewer than half a percent of requests.
    expect(0.51 ** (policy.retries() + 1)).toBeLessThan(10 * LOSS_TARGET);
  });

  it('reacts within one lookup\'s worth of answers, and comes back down when the loss goes away', () => {
    const random = seededRandom(8);
    const policy = new RetryPolicy({ baseRetries: 1 });
    simulate(policy, 0, 200, random);
    simulate(policy, 0.51, 25, random);
    expect(policy.retries()).toBeGreaterThanOrEqual(4);
    simulate(policy, 0, 200, random);
    expect(policy.retries()).toBe(1);
  });

  it('scales with the loss: mild loss needs few extra attempts', () => {
    const at = (p: number): number => {
      const policy = new RetryPolicy({ baseRetries: 1 });
      simulate(policy, p, 600, seededRandom(9));
      return policy.retries();
    };
    const mild = at(0.02);
    const some = at(0.2);
    const heavy = at(0.5);
    expect(mild).toBeLessThanOrEqual(2);
    expect(some).toBeGreaterThan(mild);
    expect(heavy).toBeGreaterThan(some);
  });

  it('never goes below the base or above its cap, and a base of 0 (single attempts) never adapts', () => {
    const policy = new RetryPolicy({ baseRetries: 3, maxRetries: 5 });
    for (let i = 0; i < 500; i++) policy.answered(5, 6);
    expect(policy.retries()).toBe(5);
    const single = new RetryPolicy({ baseRetries: 0 });
    for (let i = 0; i < 500; i++) single.answered(1, 1);
    expect(single.retries()).toBe(0);
    expect(() => new RetryPolicy({ baseRetries: -1 })).toThrow(/non-negative integer/);
  });
});
