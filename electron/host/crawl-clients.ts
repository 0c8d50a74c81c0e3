// The protocols a crawl can speak, each as a short-lived crawling node (the CLI's `crawl`, and the
// app's Network view for a protocol other than its node's), each a DhtNode on the protocol seam.
// HyperDHT crawls from an ephemeral node (no id sent) and Mainline from a BEP 43 read-only node: in
// no routing table either way.
import { nodeCrawlClient, type CrawlClient } from '../../core/crawl';
import { DhtError } from '../../core/errors';
import { DhtNode, type DhtNodeOptions } from '../../core/node';
import { hyperdhtProtocol } from '../../core/protocols/hyperdht/protocol';
import { mainlineProtocol } from '../../core/protocols/mainline/protocol';
import { CRAWL_PROTOCOLS, type CrawlProtocol } from './contract';

export { CRAWL_PROTOCOLS, type CrawlProtocol };

function isCrawlProtocol(p: string): p is CrawlProtocol {
  return (CRAWL_PROTOCOLS as readonly string[]).includes(p);
}

export interface OpenedCrawlClient {
  client: CrawlClient;
  close(): Promise<void>;
}

/**
 * A fresh node that joins nothing and only crawls; close() stops it. `id` (kadscope only) keeps the
 * crawler's identity across crawls; the Mainline and HyperDHT crawlers stay out of routing tables
 * and need none.
 */
export async function openCrawlClient(protocol: string, options: { host?: string; id?: string } = {}): Promise<OpenedCrawlClient> {
  if (!isCrawlProtocol(protocol)) throw DhtError.invalidArgument(`cannot crawl protocol "${protocol.slice(0, 40)}"; this build crawls: ${CRAWL_PROTOCOLS.join(', ')}`);
  const host = options.host ?? '127.0.0.1';
  // No bootstrap and no data directory: nothing of this node outlives the crawl.
  const protocolOptions: Record<CrawlProtocol, DhtNodeOptions> = {
    kadscope: options.id ? { id: options.id } : {},
    mainline: { protocol: mainlineProtocol({ readOnly: true }) },
    hyperdht: { protocol: hyperdhtProtocol({ ephemeral: true }) },
  };
  const node = DhtNode.create({ ...protocolOptions[protocol], host, port: 0, refreshOnBootstrap: false });
  await node.start();
  return { client: nodeCrawlClient(node, { readOnly: protocol !== 'kadscope' }), close: () => node.stop() };
}
