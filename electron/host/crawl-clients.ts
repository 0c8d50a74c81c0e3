// The protocols a crawl can speak, each as a short-lived crawling node (the CLI's `crawl`) or over
// a node the host already runs (the app's Network view). The Mainline and HyperDHT clients join
// this table when their nodes land.
import { kadscopeCrawlClient, type CrawlClient } from '../../core/crawl';
import { DhtError } from '../../core/errors';
import { DhtNode } from '../../core/node';

export const CRAWL_PROTOCOLS = ['kadscope'] as const;
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
  // No bootstrap and no data directory: nothing of this node outlives the crawl.
  const node = DhtNode.create({ host: options.host ?? '127.0.0.1', port: 0, refreshOnBootstrap: false, ...(options.id ? { id: options.id } : {}) });
  await node.start();
  return { client: kadscopeCrawlClient(node), close: () => node.stop() };
}
