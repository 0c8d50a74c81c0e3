// The ground truth the network tests check lookups against.
import { compareDistance } from '../../core/id';
import type { DhtNode } from '../../core/node';

/** Ids of the n nodes nearest target among `nodes` except `asker` (a lookup never returns itself). */
export function trueClosest(nodes: readonly DhtNode[], target: Uint8Array, n: number, asker: DhtNode): string[] {
  // A bounded insertion into the n best so far: O(size * n) at worst, far less than sorting every id per lookup.
  const best: DhtNode[] = [];
  for (const x of nodes) {
    if (x === asker) continue;
    if (best.length === n && compareDistance(target, x.idBytes, best[n - 1].idBytes) >= 0) continue;
    let i = best.length === n ? n - 1 : best.length;
    while (i > 0 && compareDistance(target, x.idBytes, best[i - 1].idBytes) < 0) {
      best[i] = best[i - 1];
      i--;
    }
    best[i] = x;
  }
  return best.map((x) => x.id);
}
