// kadscope.info: a custom method the explorer's own nodes (the user's node and the embedded
// testnet's) register, so that custom methods can be tried from the GUI on a fresh network. It tells
// a caller what the node would show about itself anyway on the wire: its id, how many peers and
// records it holds, how long it has run and which methods it has.
import type { DhtNode } from '../node';
import type { CustomMethod } from './methods';

export const INFO_METHOD = 'kadscope.info';

export interface NodeInfo {
  id: string;
  peers: number;
  records: number;
  uptimeMs: number;
  methods: string[];
}

/** Takes no arguments: nothing, or an empty map. */
const noArgs = {
  parse(input: unknown): undefined {
    if (input === undefined || input === null) return undefined;
    if (typeof input === 'object' && !Array.isArray(input) && Object.keys(input).length === 0) return undefined;
    throw new Error('kadscope.info takes no arguments');
  },
};

function infoMethod(node: DhtNode): CustomMethod<undefined, NodeInfo> {
  return {
    name: INFO_METHOD,
    description: "the node's id, peer and record counts, uptime and methods",
    args: noArgs,
    handler: () => {
      const s = node.snapshot();
      return { id: s.id, peers: s.peers.length, records: s.records?.length ?? 0, uptimeMs: Math.max(0, s.now - s.startedAt), methods: node.methods().map((m) => m.name) };
    },
  };
}

/** Registers kadscope.info on `node` (createTestnet's onNode). */
export function registerInfo(node: DhtNode): void {
  node.register(infoMethod(node));
}
