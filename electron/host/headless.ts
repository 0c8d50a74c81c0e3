// The headless host as a whole: an ExplorerService plus the web host, with the data directory and
// startup options every host shares. Used by `kadscope serve` and by `npm start` without Electron.
import { createRequire } from 'node:module';
import { startMetricsServer, type MetricsServer } from './metrics';
import { headlessDataDir, type HostOptions } from './options';
import { generatedCertificate, startRemoteListener, type RemoteListener } from './remote-listen';
import { ExplorerService } from './service';
import { startWebHost, type WebHost } from './web-host';

export interface Headless {
  service: ExplorerService;
  web: WebHost;
  /** The /metrics endpoint, when --metrics asked for one. */
  metrics: MetricsServer | null;
  /** The TLS API for other machines, when --listen asked for one. */
  remote: RemoteListener | null;
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
  const dataDir = options.dataDir ?? headlessDataDir();
  // Certificate problems are found before anything starts.
  const tls = options.listen ? (options.tls ?? generatedCertificate(dataDir, 'kadscope')) : null;
  const service = new ExplorerService(
    {},
    {
      host: 'web',
      appVersion: appVersion(),
      dataDir,
      bootstrap: options.bootstrap,
      testnetSize: options.testnetSize,
      protocol: options.protocol,
      nodePort: options.nodePort,
      ...(options.host6 !== null ? { nodeHost6: options.host6 } : {}),
      ...(options.transport !== null ? { socketLayer: options.transport } : {}),
    },
  );
  const { warnings } = await service.start();
  let web: WebHost;
  try {
    web = await startWebHost(service, { port: options.webPort, rendererDir: extra.rendererDir, remotes: service.remotes });
  } catch (e) {
    await service.stop();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${options.webPort} on 127.0.0.1 is in use; pick another with --port (0 picks a free one)`);
    throw e;
  }
  let metrics: MetricsServer | null = null;
  let remote: RemoteListener | null = null;
  try {
    if (options.metrics) metrics = await startMetricsServer(() => [{ name: 'self', node: service.node }], options.metrics);
    if (options.listen && tls) remote = await startRemoteListener(service, web.token, options.listen, tls);
  } catch (e) {
    await metrics?.close();
    await web.close();
    await service.stop();
    throw e;
  }
  let closing: Promise<void> | null = null;
  return {
    service,
    web,
    metrics,
    remote,
    warnings,
    close() {
      closing ??= (async () => {
        await remote?.close();
        await metrics?.close();
        await web.close();
        await service.stop();
      })();
      return closing;
    },
  };
}
