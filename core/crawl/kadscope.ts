// kadscope's own protocol as a crawl client: a running DhtNode's FIND_NODE to an address. Wire v1
// carries no client version and no read-only flag, so the node answers what other nodes ask it
// while the crawl runs (it is an ordinary short-lived node) and its answers name no client.
import type { DhtNode } from '../node';
import type { CrawlClient } from './types';

export function kadscopeCrawlClient(node: DhtNode): CrawlClient {
  return {
    protocol: 'kadscope',
    idBytes: node.idBytes.length,
    readOnly: false,
    selfId: node.idBytes,
    async findNode(to, target, o) {
      const a = await node.findNodeAt(to, target, { signal: o.signal, timeoutMs: o.timeoutMs, retries: o.retries });
      return a;
    },
    estimateNetworkSize() {
      return node.table.estimateNetworkSize();
    },
  };
}
