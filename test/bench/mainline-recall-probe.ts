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
const kinds = { asked: 0, heardOf: 0, neverMet: 0 };
let missed = 0;
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
    const got = new Set(r.closest.map((c) => c.id));
    const replies: Array<{ from: string; named: string[] }> = [];
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
    const askedRanks = events.flatMap((e) => (e.type === 'query' ? [rank.get(e.peer.id) ?? 0] : [])).sort((a, b) => a - b);
    for (const id of want.filter((w) => !got.has(w))) {
      missed++;
      const asked = events.some((e) => e.type === 'query' && e.peer.id === id);
      const heardOf = events.some((e) => e.type === 'response' && e.nodes.some((n) => n.id === id));
      const kind = asked ? 'asked' : heardOf ? 'heardOf' : 'neverMet';
      kinds[kind]++;
      const namedBy = replies.filter((x) => x.named.includes(id)).map((x) => rank.get(x.from) ?? 0);
      const outcome = events.find((e) => e.type !== 'query' && e.type !== 'started' && e.type !== 'done' && e.peer.id === id)?.type ?? 'none';
      console.log(`lookup ${i}: true closest #${want.indexOf(id) + 1} ${id.slice(0, 12)} missing (${kind}${asked ? `, ${outcome}` : ''}); lookup ${r.reason}, ${r.messages} requests`);
      if (process.env.KADSCOPE_PROBE_ANSWERS) {
        // The lookup's seeds and each answer's referrals, by rank (0: not a node of the network).
        for (const e of events) {
          if (e.type === 'started') console.log(`    seeds: ranks ${e.seeds.map((n) => rank.get(n.id) ?? 0).join(',')}`);
          else if (e.type === 'response') console.log(`    answer of rank ${rank.get(e.peer.id) ?? 0} (hop ${e.hop}): ${e.nodes.length} nodes, ranks ${e.nodes.map((n) => rank.get(n.id) ?? 0).join(',')}`);
        }
      }
      console.log(`  kadscope asked ranks ${askedRanks.join(',')}; of bittorrent-dht's ${replies.length} replies, ranks ${namedBy.join(',') || 'none'} named it`);
    }
  }
  console.log(`${size} bittorrent-dht nodes, ${lookups} lookups: recall of the ${K} closest ${(100 * (1 - missed / (lookups * K))).toFixed(1)}%; missing ${missed}: asked ${kinds.asked}, in some answer but not asked ${kinds.heardOf}, in no answer ${kinds.neverMet}; ${(requests / lookups).toFixed(1)} requests per lookup; bittorrent-dht's client on the same targets ${(100 * (1 - theirsMissed / (lookups * K))).toFixed(1)}%`);
} finally {
  await ours.stop();
  await new Promise<void>((resolve) => theirs.destroy(() => resolve()));
  await net.close();
}
