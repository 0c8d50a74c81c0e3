// The protocols a crawl can speak, each as a short-lived crawling node (the CLI's `crawl`) or over
// a node the host already runs (the app's Network view). HyperDHT crawls from an ephemeral
// HyperDhtNode (in no routing table); Mainline's client joins this table when its node lands.
import { hyperdhtCrawlClient, kadscopeCrawlClient, type CrawlClient } from '../../core/crawl';
import { DhtError } from '../../core/errors';
import { DhtNode } from '../../core/node';
import { HyperDhtNode } from '../../core/protocols/hyperdht/node';
import { UdpTransport } from '../../core/transport/udp';

export const CRAWL_PROTOCOLS = ['kadscope', 'hyperdht'] as const;
export type CrawlProtocol = (typeof CRAWL_PROTOCOLS)[number];

export function isCrawlProtocol(p: string): p is CrawlProtocol {
  return (CRAWL_PROTOCOLS as readonly string[]).includes(p);
}

export interface OpenedCrawlClient {
  client: CrawlClient;
  close(): Promise<void>;
}

/** A fresh node that joins nothing and only crawls; close() stops it. */
export async function openCrawlClient(protocol: string, options: { host?: string; id?: string } = {}): Promise<OpenedCrawlClient> {
  if (!isCrawlProtocol(protocol)) throw DhtError.invalidArgument(`cannot crawl protocol "${protocol.slice(0, 40)}"; this build crawls: ${CRAWL_PROTOCOLS.join(', ')}`);
  if (protocol === 'hyperdht') {
    // Ephemeral and joined to nothing: the crawl is in no routing table of the network it maps.
    const hyper = new HyperDhtNode({ transport: new UdpTransport({}, { host: options.host ?? '127.0.0.1', port: 0 }) }, { bootstrap: [], ephemeral: true });
    await hyper.start();
    return { client: hyperdhtCrawlClient(hyper), close: () => hyper.stop() };
  }
  // No bootstrap and no data directory: nothing of this node outlives the crawl.
  const node = DhtNode.create({ host: options.host ?? '127.0.0.1', port: 0, refreshOnBootstrap: false, ...(options.id ? { id: options.id } : {}) });
  await node.start();
  return { client: kadscopeCrawlClient(node), close: () => node.stop() };
}
