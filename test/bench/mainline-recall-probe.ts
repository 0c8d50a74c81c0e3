// Where kadscope's Mainline lookups lose recall (bench mainline-500), by hyperdht-recall-probe.ts's
// method. One network of real bittorrent-dht nodes on 127.0.0.1 (the workload's), kadscope's
// Mainline client and a bittorrent-dht client beside it, the workload's seeded targets; for every
// true-closest node missing from kadscope's result it prints whether the lookup asked it, heard of
// it in an answer, or never met it, the ranks (by distance from the target) of the nodes kadscope
// asked, and which of bittorrent-dht's repliers named it. bittorrent-dht's recall is the 8 closest
// of the nodes that answered its lookup, as in the workload. Each client's true closest are every
// node of the network but itself (the other client included), as in the workload.
// Usage: node --import tsx test/bench/mainline-recall-probe.ts [nodes] [lookups] [lookupWidth]
// (KADSCOPE_PROBE_ANSWERS=1 also prints, for each lookup with a miss, its seeds and every answer's
// referrals by rank.)
import DHT from 'bittorrent-dht';
import { bytesToHex, compareDistance, hexToBytes, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import type { LookupEvent } from '../../core/types';
import { createReferenceNetwork, referenceNode } from '../integration/mainline-reference';
import { RecallMisses, type Reply } from './recall-misses';
import { MAINLINE_DEFAULTS } from './workloads/mainline';

const size = Number(process.argv[2] ?? 500);
const lookups = Number(process.argv[3] ?? MAINLINE_DEFAULTS.lookups);
const lookupWidth = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
const K = MAINLINE_DEFAULTS.k;
/** A compact node in a find_node answer: 20 id bytes, 4 address bytes, 2 port bytes (BEP 5). */
const COMPACT_NODE_BYTES = 26;

const rand = seededRandomBytes(MAINLINE_DEFAULTS.seed);
const net = await createReferenceNetwork(size);
const ours = DhtNode.create({ protocol: 'mainline', host: '127.0.0.1', bootstrap: [net.bootstrap], randomBytes: seededRandomBytes(MAINLINE_DEFAULTS.seed + 1), rateLimit: false, lookupWidth });
const theirs: DHT = referenceNode([net.bootstrap]);
const events: LookupEvent[] = [];
ours.on('lookup', (e) => events.push(e));
const misses = new RecallMisses('bittorrent-dht');
let theirsMissed = 0;
let requests = 0;
try {
  await new Promise<void>((resolve) => theirs.listen(0, '127.0.0.1', () => resolve()));
  await ours.start();
  await new Promise<void>((resolve) => (theirs.ready ? resolve() : theirs.once('ready', () => resolve())));
  // Every node of the network but kadscope's client, the bittorrent-dht client included (as in the
  // workload since 2026-12-08: before, it was left out, and kadscope finding it counted as a miss).
  const members = [...net.nodes.map((d) => new Uint8Array(d.nodeId)), new Uint8Array(theirs.nodeId)];
  const theirId = bytesToHex(theirs.nodeId);
  const ourId = hexToBytes(ours.id);
  for (let i = 0; i < lookups; i++) {
    const target = rand(20);
    const ranked = [...members].sort((a, b) => compareDistance(target, a, b)).map(bytesToHex);
    const rank = new Map(ranked.map((id, j) => [id, j + 1]));
    const want = ranked.slice(0, K);
    // bittorrent-dht's truth: the same nodes without itself, with kadscope's client.
    const theirWant = [...members.filter((m) => bytesToHex(m) !== theirId), ourId].sort((a, b) => compareDistance(target, a, b)).slice(0, K).map(bytesToHex);
    events.length = 0;
    const r = await ours.findNode(bytesToHex(target));
    requests += r.messages;
    const replies: Reply[] = [];
    const t = Buffer.from(target);
    await new Promise<void>((resolve, reject) =>
      theirs._rpc.closest(
        t,
        { q: 'find_node', a: { id: theirs.nodeId, target: t } },
        (res) => {
          const from = res.r?.id;
          const nodes = res.r?.nodes;
          if (!(from instanceof Uint8Array) || from.length !== 20) return;
          const named: string[] = [];
          if (nodes instanceof Uint8Array) {
            for (let j = 0; j + COMPACT_NODE_BYTES <= nodes.length; j += COMPACT_NODE_BYTES) named.push(bytesToHex(nodes.subarray(j, j + 20)));
          }
          replies.push({ from: bytesToHex(from), named });
        },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    const theirsGot = new Set(replies.map((x) => hexToBytes(x.from)).sort((a, b) => compareDistance(target, a, b)).slice(0, K).map(bytesToHex));
    theirsMissed += theirWant.filter((w) => !theirsGot.has(w)).length;
    misses.add({ index: i, want, result: r, events, rank, replies, answers: process.env.KADSCOPE_PROBE_ANSWERS !== undefined });
  }
  console.log(`${size} bittorrent-dht nodes, ${lookups} lookups: ${misses.summary(lookups, K)}; ${(requests / lookups).toFixed(1)} requests per lookup; bittorrent-dht's client on the same targets ${(100 * (1 - theirsMissed / (lookups * K))).toFixed(1)}%`);
} finally {
  await ours.stop();
  await new Promise<void>((resolve) => theirs.destroy(() => resolve()));
  await net.close();
}
