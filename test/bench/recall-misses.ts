// What the recall probes (hyperdht-recall-probe.ts, mainline-recall-probe.ts) print for each node a
// kadscope lookup should have returned and did not: whether the lookup asked it, heard of it in an
// answer, or never met it; the ranks (by distance from the target) of the nodes it asked; and which
// of the other client's repliers named it. Bench tools only.
import type { FindNodeResult, LookupEvent } from '../../core/types';

/** One answer the other client's lookup got: who answered (hex id) and whom it named. */
export interface Reply {
  from: string;
  named: string[];
}

export interface LookupMisses {
  /** The lookup's number, for the printed lines. */
  index: number;
  /** The true closest (hex ids), nearest first. */
  want: string[];
  result: Pick<FindNodeResult, 'closest' | 'reason' | 'messages'>;
  /** The lookup's events, in order. */
  events: readonly LookupEvent[];
  /** Rank by distance from the target, 1 for the nearest; a node not in the map prints as 0. */
  rank: ReadonlyMap<string, number>;
  /** The other client's answers for the same target. */
  replies: readonly Reply[];
  /** Also print the lookup's seeds and every answer's referrals by rank. */
  answers?: boolean;
}

export class RecallMisses {
  readonly kinds = { asked: 0, heardOf: 0, neverMet: 0 };
  missed = 0;

  /** @param other the other client's name in the printed lines ("hyperdht", "bittorrent-dht") */
  constructor(private readonly other: string) {}

  /** Counts and prints the lookup's missing nodes. */
  add(l: LookupMisses): void {
    const got = new Set(l.result.closest.map((c) => c.id));
    const rankOf = (id: string): number => l.rank.get(id) ?? 0;
    const askedRanks = l.events.flatMap((e) => (e.type === 'query' ? [rankOf(e.peer.id)] : [])).sort((a, b) => a - b);
    for (const id of l.want.filter((w) => !got.has(w))) {
      this.missed++;
      const asked = l.events.some((e) => e.type === 'query' && e.peer.id === id);
      const heardOf = l.events.some((e) => e.type === 'response' && e.nodes.some((n) => n.id === id));
      const kind = asked ? 'asked' : heardOf ? 'heardOf' : 'neverMet';
      this.kinds[kind]++;
      const namedBy = l.replies.filter((x) => x.named.includes(id)).map((x) => rankOf(x.from));
      const outcome = l.events.find((e) => e.type !== 'query' && e.type !== 'started' && e.type !== 'done' && e.peer.id === id)?.type ?? 'none';
      console.log(`lookup ${l.index}: true closest #${l.want.indexOf(id) + 1} ${id.slice(0, 12)} missing (${kind}${asked ? `, ${outcome}` : ''}); lookup ${l.result.reason}, ${l.result.messages} requests`);
      if (l.answers === true) {
        for (const e of l.events) {
          if (e.type === 'started') console.log(`    seeds: ranks ${e.seeds.map((n) => rankOf(n.id)).join(',')}`);
          else if (e.type === 'response') console.log(`    answer of rank ${rankOf(e.peer.id)} (hop ${e.hop}): ${e.nodes.length} nodes, ranks ${e.nodes.map((n) => rankOf(n.id)).join(',')}`);
        }
      }
      console.log(`  kadscope asked ranks ${askedRanks.join(',')}; of ${this.other}'s ${l.replies.length} replies, ranks ${namedBy.join(',') || 'none'} named it`);
    }
  }

  /** "recall of the K closest …%; missing …" over `lookups` lookups of k each. */
  summary(lookups: number, k: number): string {
    return `recall of the ${k} closest ${(100 * (1 - this.missed / (lookups * k))).toFixed(1)}%; missing ${this.missed}: asked ${this.kinds.asked}, in some answer but not asked ${this.kinds.heardOf}, in no answer ${this.kinds.neverMet}`;
  }
}
