// The crawler's client for HyperDHT networks: one FIND_NODE (dht-rpc's internal command) per
// request, from an ephemeral node, so the crawl stays out of every routing table it maps. A
// node's id is BLAKE2b-256 of the address it answers from; an answer without one (an ephemeral
// node, or an id that does not match its address, which rpc.ts ignores) gets the address's id
// and idMatchesAddress: false.
import { DhtError } from '../errors';
import { hexToBytes } from '../id';
import { hyperNodeId } from '../protocols/hyperdht/crypto';
import { INTERNAL_COMMANDS, errorName } from '../protocols/hyperdht/messages';
import type { HyperDhtNode } from '../protocols/hyperdht/node';
import type { CrawlClient, CrawlContact } from './types';

export function hyperdhtCrawlClient(node: HyperDhtNode): CrawlClient {
  return {
    protocol: 'hyperdht',
    idBytes: 32,
    readOnly: !node.persistent,
    ...(node.persistent ? { selfId: hexToBytes(node.id) } : {}),
    async findNode(to, target, o) {
      const r = await node.rpc.request(to, { internal: true, command: INTERNAL_COMMANDS.FIND_NODE, target }, { signal: o.signal, timeoutMs: o.timeoutMs, retries: o.retries });
      if (r.res.error !== 0) throw DhtError.fromWire(r.res.error, `${errorName(r.res.error)} from ${to.host}:${to.port}`);
      const id = r.id ?? hyperNodeId(to);
      if (id === null) throw DhtError.invalidArgument(`${to.host}:${to.port} is not an IPv4 address`);
      const nodes: CrawlContact[] = [];
      for (const n of r.res.closerNodes) {
        const nid = n.port > 0 ? hyperNodeId(n) : null;
        if (nid) nodes.push({ id: nid, host: n.host, port: n.port });
      }
      return { id, nodes, rttMs: r.rttMs, facts: { idMatchesAddress: r.id !== null } };
    },
    estimateNetworkSize() {
      return node.table.estimateNetworkSize();
    },
  };
}
