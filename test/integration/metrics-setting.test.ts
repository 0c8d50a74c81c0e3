// The app's metrics setting: the service serves /metrics where the setting says, moves or stops the
// endpoint when it changes, and refuses an address it cannot use without saving it.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostInfo, Settings } from '../../electron/host/contract';
import { ExplorerService } from '../../electron/host/service';

describe('the metricsAddress setting', () => {
  let dir: string;
  let service: ExplorerService;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kadscope-metrics-setting-'));
    service = new ExplorerService({}, { host: 'web', appVersion: 'test', dataDir: dir, bootstrap: [], testnetSize: 0 });
    await service.start();
  });
  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const info = async (): Promise<HostInfo> => ((await service.invoke('info', undefined)) as { value: HostInfo }).value;

  it('serves the node at the address given, and stops when it is cleared', async () => {
    expect((await info()).metricsUrl).toBeNull();
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as { port: number }).port;
    await new Promise<void>((r) => free.close(() => r()));
    const set = await service.invoke('settingsSet', { metricsAddress: `127.0.0.1:${port}` });
    expect(set).toMatchObject({ ok: true, value: { metricsAddress: `127.0.0.1:${port}` } });
    const url = (await info()).metricsUrl!;
    expect(url).toBe(`http://127.0.0.1:${port}/metrics`);
    const text = await (await fetch(url)).text();
    expect(text).toContain(`kadscope_node_info{protocol="kadscope",node="self",id="${service.node.id}"} 1`);
    expect(await service.invoke('settingsSet', { metricsAddress: '' })).toMatchObject({ ok: true, value: { metricsAddress: '' } });
    expect((await info()).metricsUrl).toBeNull();
    await expect(fetch(url)).rejects.toThrow();
  });

  it('takes port 0, serves on the port the system chose and says which', async () => {
    expect(await service.invoke('settingsSet', { metricsAddress: '127.0.0.1:0' })).toMatchObject({ ok: true, value: { metricsAddress: '127.0.0.1:0' } });
    const url = (await info()).metricsUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(url).not.toContain(':0/');
    expect(await (await fetch(url)).text()).toContain('kadscope_node_info{');
    // Saved again unchanged, the endpoint stays where it is.
    expect(await service.invoke('settingsSet', { metricsAddress: '127.0.0.1:0' })).toMatchObject({ ok: true });
    expect((await info()).metricsUrl).toBe(url);
    expect(await service.invoke('settingsSet', { metricsAddress: '' })).toMatchObject({ ok: true });
  });

  it('refuses a name or a busy port, and keeps the setting as it was', async () => {
    expect(await service.invoke('settingsSet', { metricsAddress: 'localhost:9464' })).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT', message: expect.stringMatching(/not an IP address/) });
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await service.invoke('settingsSet', { metricsAddress: `127.0.0.1:${port}` });
      expect(r).toMatchObject({ ok: false, code: 'CONFLICT', message: expect.stringMatching(/in use/) });
    } finally {
      busy.close();
    }
    expect(((await service.invoke('settingsGet', undefined)) as { value: Settings }).value.metricsAddress).toBe('');
  });
});
