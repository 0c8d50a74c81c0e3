// The headless host as a whole: an ExplorerService plus the web host, with the data directory and
// startup options every host shares. Used by `kadscope serve` and by `npm start` without Electron.
import { createRequire } from 'node:module';
import { startMetricsServer, type MetricsServer } from './metrics';
import { headlessDataDir, type HostOptions } from './options';
import { ExplorerService } from './service';
import { startWebHost, type WebHost } from './web-host';

export interface Headless {
  service: ExplorerService;
  web: WebHost;
  /** The /metrics endpoint, when --metrics asked for one. */
  metrics: MetricsServer | null;
  warnings: string[];
  /** Idempotent: closes the web host, then stops the service (the node persists its state). */
  close(): Promise<void>;
}

export function appVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export async function startHeadless(options: HostOptions, extra: { rendererDir?: string } = {}): Promise<Headless> {
  const service = new ExplorerService(
    {},
    {
      host: 'web',
      appVersion: appVersion(),
      dataDir: options.dataDir ?? headlessDataDir(),
      bootstrap: options.bootstrap,
      testnetSize: options.testnetSize,
      nodePort: options.nodePort,
    },
  );
  const { warnings } = await service.start();
  let web: WebHost;
  try {
    web = await startWebHost(service, { port: options.webPort, rendererDir: extra.rendererDir });
  } catch (e) {
    await service.stop();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${options.webPort} on 127.0.0.1 is in use; pick another with --port (0 picks a free one)`);
    throw e;
  }
  let metrics: MetricsServer | null = null;
  if (options.metrics) {
    try {
      metrics = await startMetricsServer(() => [{ name: 'self', node: service.node }], options.metrics);
    } catch (e) {
      await web.close();
      await service.stop();
      throw e;
    }
  }
  let closing: Promise<void> | null = null;
  return {
    service,
    web,
    metrics,
    warnings,
    close() {
      closing ??= (async () => {
        await metrics?.close();
        await web.close();
        await service.stop();
      })();
      return closing;
    },
  };
}
