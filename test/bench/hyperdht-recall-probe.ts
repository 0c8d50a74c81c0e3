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
import { RecallMisses, type Reply } from './recall-misses';
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
const misses = new RecallMisses('hyperdht');
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
    requests += r.messages;
    const q = theirs.findNode(target);
    const replies: Reply[] = [];
    const idOf = (e: Endpoint): string => bytesToHex(hyperNodeId(e) ?? new Uint8Array(0));
    q.on('data', (d) => replies.push({ from: idOf(d.from), named: d.closerNodes.map(idOf) }));
    await q.finished();
    const rank = new Map([...members].sort((a, b) => compareDistance(target, a, b)).map((id, j) => [bytesToHex(id), j + 1]));
    const theirsGot = new Set(q.closestNodes.map((n) => bytesToHex(n.id)));
    theirsMissed += want.filter((w) => !theirsGot.has(w)).length;
    misses.add({ index: i, want, result: r, events, rank, replies });
  }
  console.log(`${size} hyperdht nodes, ${lookups} lookups: ${misses.summary(lookups, K)}; ${(requests / lookups).toFixed(1)} requests per lookup; hyperdht's client on the same targets ${(100 * (1 - theirsMissed / (lookups * K))).toFixed(1)}%`);
} finally {
  await ours.stop();
  await net.destroy();
}
