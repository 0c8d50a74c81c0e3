// Where kadscope's HyperDHT lookups lose recall (bench hyperdht-500). One hyperdht/testnet on
// 127.0.0.1, kadscope's seam client (as in the workload: ephemeral, alpha 3, 1 s timeout), the
// workload's seeded targets; for every true-closest node missing from a result it prints whether the
// lookup asked it, heard of it in any answer, or never met it at all, which nodes (by rank from the
// target) kadscope asked, and which of hyperdht's repliers named it. hyperdht's own client looks up
// the same targets right after, for comparison.
// Usage: node --import tsx test/bench/hyperdht-recall-probe.ts [nodes] [lookups] [lookupWidth]
// (lookupWidth: kadscope's; default the protocol's, 2k. With 20, as before 2026-12-08, the missing
// nodes were named only by nodes ranked ~25-60, which a lookup converging on the 20 nearest never asks.)
import { createRequire } from 'node:module';
import { bytesToHex, compareDistance, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { hyperNodeId } from '../../core/protocols/hyperdht/crypto';
import { hyperdhtProtocol } from '../../core/protocols/hyperdht/protocol';
import type { Endpoint } from '../../core/transport/types';
import type { LookupEvent } from '../../core/types';
import { HYPERDHT_DEFAULTS, type RefTestnet } from './workloads/hyperdht';

const size = Number(process.argv[2] ?? 500);
const lookups = Number(process.argv[3] ?? HYPERDHT_DEFAULTS.lookups);
const lookupWidth = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const K = 20;

const createTestnet = createRequire(import.meta.url)('hyperdht/testnet') as (n: number, o: { host: string }) => Promise<RefTestnet>;

const rand = seededRandomBytes(HYPERDHT_DEFAULTS.seed);
const net = await createTestnet(size, { host: '127.0.0.1' });
const ours = DhtNode.create({ protocol: hyperdhtProtocol({ ephemeral: true }), host: '127.0.0.1', port: 0, bootstrap: net.bootstrap, alpha: HYPERDHT_DEFAULTS.alpha, rpcTimeoutMs: 1_000, lookupWidth });
const events: LookupEvent[] = [];
ours.on('lookup', (e) => events.push(e));
const kinds = { asked: 0, heardOf: 0, neverMet: 0 };
let missed = 0;
let requests = 0;
let theirsMissed = 0;
try {
  // hyperdht's own client beside ours, as in the workload: the same targets, one after the other.
  const theirs = net.createNode();
  await Promise.all([ours.start(), theirs.fullyBootstrapped()]);
  const members = net.nodes.filter((n) => n.id !== null).map((n) => hyperNodeId(n.address())!);
  for (let i = 0; i < lookups; i++) {
    const target = rand(32);
    const want = [...members].sort((a, b) => compareDistance(target, a, b)).slice(0, K).map(bytesToHex);
    events.length = 0;
    const r = await ours.findNode(bytesToHex(target));
    const got = new Set(r.closest.map((c) => c.id));
    requests += r.messages;
    const q = theirs.findNode(target);
    const replies: Array<{ from: string; named: string[] }> = [];
    const idOf = (e: Endpoint): string => bytesToHex(hyperNodeId(e) ?? new Uint8Array(0));
    q.on('data', (d) => replies.push({ from: idOf(d.from), named: d.closerNodes.map(idOf) }));
    await q.finished();
    const rank = new Map([...members].sort((a, b) => compareDistance(target, a, b)).map((id, j) => [bytesToHex(id), j + 1]));
    const askedRanks = events.flatMap((e) => (e.type === 'query' ? [rank.get(e.peer.id) ?? 0] : [])).sort((a, b) => a - b);
    const theirsGot = new Set(q.closestNodes.map((n) => bytesToHex(n.id)));
    theirsMissed += want.filter((w) => !theirsGot.has(w)).length;
    for (const id of want.filter((w) => !got.has(w))) {
      missed++;
      const asked = events.some((e) => e.type === 'query' && e.peer.id === id);
      const heardOf = events.some((e) => e.type === 'response' && e.nodes.some((n) => n.id === id));
      const kind = asked ? 'asked' : heardOf ? 'heardOf' : 'neverMet';
      kinds[kind]++;
      const namedBy = replies.filter((x) => x.named.includes(id)).map((x) => rank.get(x.from) ?? 0);
      console.log(`lookup ${i}: true closest #${want.indexOf(id) + 1} ${id.slice(0, 12)} missing (${kind}); lookup ${r.reason}, ${r.messages} requests`);
      console.log(`  kadscope asked ranks ${askedRanks.join(',')}; of hyperdht's ${replies.length} replies, ranks ${namedBy.join(',') || 'none'} named it`);
    }
  }
  console.log(`${size} hyperdht nodes, ${lookups} lookups: recall of the ${K} closest ${(100 * (1 - missed / (lookups * K))).toFixed(1)}%; missing ${missed}: asked ${kinds.asked}, in some answer but not asked ${kinds.heardOf}, in no answer ${kinds.neverMet}; ${(requests / lookups).toFixed(1)} requests per lookup; hyperdht's client on the same targets ${(100 * (1 - theirsMissed / (lookups * K))).toFixed(1)}%`);
} finally {
  await ours.stop();
  await net.destroy();
}
