// The protocols a crawl can speak, each as a short-lived crawling node (the CLI's `crawl`, and the
// app's Network view for a protocol other than its node's). HyperDHT crawls from an ephemeral
// HyperDhtNode and Mainline from a BEP 43 read-only node (in no routing table either way).
import { hyperdhtCrawlClient, nodeCrawlClient, type CrawlClient } from '../../core/crawl';
import { DhtError } from '../../core/errors';
import { DhtNode } from '../../core/node';
import { HyperDhtNode } from '../../core/protocols/hyperdht/node';
import { mainlineProtocol } from '../../core/protocols/mainline/protocol';
import { UdpTransport } from '../../core/transport/udp';
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
  if (protocol === 'hyperdht') {
    // Ephemeral and joined to nothing: the crawl is in no routing table of the network it maps.
    const hyper = new HyperDhtNode({ transport: new UdpTransport({}, { host, port: 0 }) }, { bootstrap: [], ephemeral: true });
    await hyper.start();
    return { client: hyperdhtCrawlClient(hyper), close: () => hyper.stop() };
  }
  // No bootstrap and no data directory: nothing of this node outlives the crawl.
  const node =
    protocol === 'mainline'
      ? DhtNode.create({ protocol: mainlineProtocol({ readOnly: true }), host, port: 0, refreshOnBootstrap: false })
      : DhtNode.create({ host, port: 0, refreshOnBootstrap: false, ...(options.id ? { id: options.id } : {}) });
  await node.start();
  return { client: nodeCrawlClient(node, { readOnly: protocol === 'mainline' }), close: () => node.stop() };
}
