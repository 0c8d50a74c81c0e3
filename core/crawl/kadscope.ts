// A running DhtNode as a crawl client, whatever protocol it speaks (core/protocols): its FIND_NODE
// to an address. kadscope's wire v1 carries no client version and no read-only flag, so a kadscope
// crawler answers what other nodes ask it while the crawl runs (an ordinary short-lived node); a
// Mainline node built with a read-only codec (BEP 43) stays out of the tables it reads.
import type { DhtNode } from '../node';
import type { CrawlClient } from './types';

export function nodeCrawlClient(node: DhtNode, options: { readOnly?: boolean } = {}): CrawlClient {
  return {
    protocol: node.protocol.name,
    idBytes: node.idBytes.length,
    readOnly: options.readOnly ?? false,
    selfId: node.idBytes,
    async findNode(to, target, o) {
      return node.findNodeAt(to, target, { signal: o.signal, timeoutMs: o.timeoutMs, retries: o.retries });
    },
    estimateNetworkSize() {
      return node.table.estimateNetworkSize();
    },
  };
}

/** kadscope's own protocol: the node the app runs, or the CLI's crawling node. */
export const kadscopeCrawlClient = (node: DhtNode): CrawlClient => nodeCrawlClient(node);
