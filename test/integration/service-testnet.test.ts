// The local testnet controller: in the host thread for small sizes, in a worker thread for large
// ones. Here the worker path is forced with a small size so the test stays fast.
import { describe, expect, it } from 'vitest';
import { DhtNode } from '../../core/node';
import { IN_PROCESS_TESTNET_MAX, startTestnet } from '../../electron/host/testnet-runner';

describe('local testnet', () => {
  it('runs in a worker thread, answers UDP from this thread, and changes size on request', async () => {
    const t = await startTestnet({ size: 5, now: () => 1234, inWorker: true });
    const probe = DhtNode.create({ host: '127.0.0.1' });
    try {
      expect(t.status()).toMatchObject({ running: true, inWorker: true, transport: 'udp', alive: 5, stopped: 0 });
      await probe.start();
      const joined = await probe.bootstrap(t.status().bootstrap);
      expect(joined.reached.length).toBeGreaterThan(0);
      expect(joined.peers).toBe(5);

      await t.add(2);
      expect(t.status()).toMatchObject({ alive: 7, stopped: 0 });
      const stopped = await t.stopRandom(2);
      expect(stopped).toHaveLength(2);
      expect(t.status()).toMatchObject({ alive: 5, stopped: 2 });
    } finally {
      await probe.stop();
      await t.stop();
      await t.stop();
    }
    expect(t.status().running).toBe(false);
    await expect(t.add(1)).rejects.toThrow(/not running/);
  });

  it('keeps small testnets in the host thread', async () => {
    const t = await startTestnet({ size: 3, now: () => 1 });
    try {
      expect(t.inWorker).toBe(false);
      expect(t.status()).toMatchObject({ running: true, inWorker: false, alive: 3, startedAt: 1 });
    } finally {
      await t.stop();
    }
    expect(t.status().running).toBe(false);
    expect(IN_PROCESS_TESTNET_MAX).toBe(64);
  });
});
