// A running DhtNode as a crawl client, whatever protocol it speaks (core/protocols): its FIND_NODE
// to an address. kadscope's wire v1 carries no client version and no read-only flag, so a kadscope
// crawler answers what other nodes ask it while the crawl runs (an ordinary short-lived node); a
// Mainline node built with a read-only codec (BEP 43) and an ephemeral HyperDHT node (no id sent)
// stay out of the tables they read. Where the protocol says so, an answer's client version
// (Mainline's `v`, protocol.describeClient) and whether the id fits the address it answered from
// go with it: BEP 42 (protocol.idCompliance), or for a protocol whose ids are derived from the
// address (HyperDHT, protocol.addressId) whether the node answered with exactly that id (an
// ephemeral node answers with none: it gets its address's id and idMatchesAddress false). A
// protocol with BEP 51 (capabilities.sampleInfohashes) lets the crawler ask sample_infohashes.
import type { DhtNode } from '../node';
import type { Endpoint } from '../transport/types';
import type { CrawlAnswer, CrawlClient, CrawlRequestOptions, CrawlSampleAnswer } from './types';

export function nodeCrawlClient(node: DhtNode, options: { readOnly?: boolean } = {}): CrawlClient {
  const { describeClient, idCompliance, addressId } = node.protocol;
  return {
    protocol: node.protocol.name,
    idBytes: node.idBytes.length,
    readOnly: options.readOnly ?? false,
    selfId: node.idBytes,
    async findNode(to, target, o) {
      const a = await node.findNodeAt(to, target, { signal: o.signal, timeoutMs: o.timeoutMs, retries: o.retries });
      const answer: CrawlAnswer = { id: a.id, nodes: a.nodes, rttMs: a.rttMs };
      if (a.client !== undefined && describeClient) answer.client = describeClient(a.client);
      if (idCompliance) answer.facts = { bep42: idCompliance(a.id, to.host) };
      if (addressId) answer.facts = { ...answer.facts, idMatchesAddress: a.member !== false };
      return answer;
    },
    estimateNetworkSize() {
      return node.table.estimateNetworkSize();
    },
    // BEP 51 where the node's protocol has it (Mainline).
    ...(node.capabilities.sampleInfohashes
      ? {
          async sampleInfohashes(to: Endpoint, target: Uint8Array, o: CrawlRequestOptions): Promise<CrawlSampleAnswer> {
            const a = await node.sampleInfohashesAt(to, target, { signal: o.signal, timeoutMs: o.timeoutMs, retries: o.retries });
            return { id: a.id, samples: a.sample?.samples ?? null, num: a.sample?.num ?? null };
          },
        }
      : {}),
  };
}

/** kadscope's own protocol: the node the app runs, or the CLI's crawling node. */
export const kadscopeCrawlClient = (node: DhtNode): CrawlClient => nodeCrawlClient(node);
