// The contract suite against ExplorerService through the in-memory client pair (JSON round trip on
// every message, as over IPC), plus the service's lifecycle.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryClient } from '../../electron/host/client';
import { ExplorerService } from '../../electron/host/service';
import { startTestnet } from '../../electron/host/testnet-runner';
import { contractSuite, startService, type Harness } from './service-contract-suite';

contractSuite('the in-memory client', async (): Promise<Harness> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kadscope-service-'));
  const service = await startService(dataDir);
  return {
    client: createMemoryClient(service, { validate: false }),
    service,
    dataDir,
    async close() {
      await service.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

describe('ExplorerService lifecycle', () => {
  it('answers UNAVAILABLE before start and after stop, and stop is idempotent', async () => {
    const service = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir: null, bootstrap: [], testnetSize: 0 });
    const client = createMemoryClient(service);
    expect(await client.snapshot()).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    // Validation still comes first: a bad argument is INVALID_ARGUMENT whatever the state.
    expect(await client.invoke('findNode', { target: 'x' })).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
    await service.start();
    const s = await client.snapshot();
    expect(s.ok && s.value.node.peers.length).toBe(0);
    expect(await client.info()).toMatchObject({ ok: true, value: { mode: 'standalone', dataDir: '(memory only)' } });
    await service.stop();
    await service.stop();
    expect(await client.snapshot()).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    expect(service.node.running).toBe(false);
  });

  it("the snapshot names the user's node's UDP socket layer: the native binding by default, node:dgram when asked", async () => {
    const byDefault = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir: null, bootstrap: [], testnetSize: 0 });
    const asked = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir: null, bootstrap: [], testnetSize: 0, socketLayer: 'dgram' });
    try {
      await Promise.all([byDefault.start(), asked.start()]);
      const a = await createMemoryClient(byDefault).snapshot();
      const b = await createMemoryClient(asked).snapshot();
      expect(a.ok && a.value.node.socketLayer).toBe('kadscope-native');
      expect(b.ok && b.value.node.socketLayer).toBe('node:dgram');
    } finally {
      await Promise.all([byDefault.stop(), asked.stop()]);
    }
  });

  it('switching to Mainline on a service told to use udx is refused with the reason, and the running node stays; by default Mainline gets the native binding', async () => {
    const udx = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir: null, bootstrap: [], testnetSize: 0, socketLayer: 'udx' });
    const plain = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir: null, bootstrap: [], testnetSize: 0 });
    try {
      await Promise.all([udx.start(), plain.start()]);
      const c = createMemoryClient(udx);
      const before = udx.node;
      const r = await c.invoke('join', { bootstrap: ['127.0.0.1:9'], protocol: 'mainline' });
      expect(r).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
      expect(!r.ok && r.message).toMatch(/udx transport reads at most 2,048 bytes of a datagram .* use --transport native or dgram/);
      expect(udx.node).toBe(before);
      expect(before.running).toBe(true);
      const s = await c.snapshot();
      expect(s.ok && [s.value.node.protocol?.name, s.value.node.socketLayer]).toEqual(['kadscope', 'udx-native']);

      const p = createMemoryClient(plain);
      expect(await p.invoke('join', { bootstrap: ['127.0.0.1:9'], protocol: 'mainline' })).toMatchObject({ ok: true, value: { reached: [] } });
      const t = await p.snapshot();
      expect(t.ok && [t.value.node.protocol?.name, t.value.node.socketLayer]).toEqual(['mainline', 'kadscope-native']);
    } finally {
      await Promise.all([udx.stop(), plain.stop()]);
    }
  });

  it('joins the given bootstrap instead of starting a testnet, and reports unreachable ones', async () => {
    const first = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir: null, bootstrap: [], testnetSize: 0 });
    await first.start();
    const addr = `${first.node.address.host}:${first.node.address.port}`;
    const second = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir: null, bootstrap: [addr], testnetSize: 8 });
    try {
      const { warnings } = await second.start();
      expect(warnings).toEqual([]);
      expect(second.testnetStatus.running).toBe(false);
      const c = createMemoryClient(second);
      expect(await c.info()).toMatchObject({ ok: true, value: { mode: 'bootstrap' } });
      const s = await c.snapshot();
      expect(s.ok && s.value.node.peers.map((p) => p.id)).toEqual([first.node.id]);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('keeps its identity and key pairs in the data directory and rejoins through saved peers', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kadscope-restart-'));
    const network = await startTestnet({ size: 4, now: () => 0 });
    try {
      const first = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir, bootstrap: network.status().bootstrap, testnetSize: 0 });
      await first.start();
      const c1 = createMemoryClient(first);
      const kp = await c1.generateKeyPair({ name: 'mine' });
      expect(kp.ok).toBe(true);
      const id = first.node.id;
      await first.stop();

      const second = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir, bootstrap: [], testnetSize: 0 });
      try {
        expect((await second.start()).warnings).toEqual([]);
        const c2 = createMemoryClient(second);
        expect(await c2.info()).toMatchObject({ ok: true, value: { mode: 'saved-peers' } });
        expect(second.node.id).toBe(id);
        expect(await c2.listKeyPairs()).toMatchObject({ ok: true, value: [kp.ok ? kp.value : null] });
        expect(second.node.snapshot().peers.length).toBe(4);
      } finally {
        await second.stop();
      }
    } finally {
      await network.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
