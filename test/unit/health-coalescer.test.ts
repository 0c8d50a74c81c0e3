// Peer-health updates on their way to the stream (electron/host/health-coalescer.ts): changes a user
// must see go out at once, a good peer's refreshes once per flush, the latest one; bounded.
import { describe, expect, it } from 'vitest';
import type { HealthState, PeerInfo } from '../../core/types';
import { HealthCoalescer } from '../../electron/host/health-coalescer';

function peer(n: number, lastSeen: number, state: HealthState = 'good', failures = 0): PeerInfo {
  return { id: n.toString(16).padStart(64, '0'), host: '10.0.0.1', port: 1000 + n, bucket: 3, addedAt: 0, state, rttMs: 10 + lastSeen, lastSeen, failures, answered: lastSeen, queried: lastSeen };
}

/**
 * A coalescer over a stand-in routing table: report() puts the peer in the table as the node would
 * have it after an answer, then reports its id, state and failures, as DhtNode.subscribePeerHealth does.
 */
function setup(maxPeers?: number): { c: HealthCoalescer; sent: PeerInfo[]; report: (p: PeerInfo) => void; table: Map<string, PeerInfo> } {
  const sent: PeerInfo[] = [];
  const table = new Map<string, PeerInfo>();
  const c = new HealthCoalescer((p) => sent.push(p), (id) => table.get(id), maxPeers);
  const report = (p: PeerInfo): void => {
    table.set(p.id, p);
    c.update(p.id, p.state, p.failures);
  };
  return { c, sent, report, table };
}

describe('HealthCoalescer', () => {
  it("sends a peer's first update at once, holds its refreshes and sends the latest at flush", () => {
    const { c, sent, report } = setup();
    report(peer(1, 100));
    expect(sent).toEqual([peer(1, 100)]);
    report(peer(1, 200));
    report(peer(1, 300));
    expect(sent).toHaveLength(1);
    expect(c.heldCount).toBe(1);
    c.flush();
    expect(sent).toEqual([peer(1, 100), peer(1, 300)]);
    c.flush();
    expect(sent).toHaveLength(2);
    expect(c.heldCount).toBe(0);
  });

  it('sends a change of state or of failures at once, and drops what it held for that peer', () => {
    const { c, sent, report } = setup();
    report(peer(1, 100));
    report(peer(1, 200));
    report(peer(1, 200, 'good', 1));
    report(peer(1, 200, 'questionable', 1));
    report(peer(1, 200, 'bad', 2));
    report(peer(1, 400));
    expect(sent).toEqual([peer(1, 100), peer(1, 200, 'good', 1), peer(1, 200, 'questionable', 1), peer(1, 200, 'bad', 2), peer(1, 400)]);
    c.flush();
    expect(sent).toHaveLength(5);
  });

  it('holds each peer apart and flushes them in the order they were first held', () => {
    const { c, sent, report } = setup();
    for (const n of [1, 2, 3]) report(peer(n, 1));
    for (const n of [3, 1, 2, 3]) report(peer(n, 10 + n));
    expect(sent).toHaveLength(3);
    c.flush();
    expect(sent.slice(3)).toEqual([peer(3, 13), peer(1, 11), peer(2, 12)]);
  });

  it('sends nothing held for a peer removed before the flush, and its next update at once', () => {
    const { c, sent, report } = setup();
    report(peer(1, 100));
    report(peer(1, 200));
    c.removed(peer(1, 0).id);
    c.flush();
    expect(sent).toEqual([peer(1, 100)]);
    report(peer(1, 300));
    expect(sent).toEqual([peer(1, 100), peer(1, 300)]);
  });

  it('forgets everything on reset', () => {
    const { c, sent, report } = setup();
    report(peer(1, 100));
    report(peer(1, 200));
    c.reset();
    c.flush();
    expect(sent).toEqual([peer(1, 100)]);
    report(peer(1, 300));
    expect(sent).toEqual([peer(1, 100), peer(1, 300)]);
  });

  it('remembers at most maxPeers peers: the least recently shown is forgotten, with what it held', () => {
    const { c, sent, report } = setup(2);
    report(peer(1, 1));
    report(peer(2, 1));
    report(peer(1, 2)); // held
    report(peer(3, 1)); // forgets peer 1, the least recently shown, and its held update
    expect(c.heldCount).toBe(0);
    report(peer(1, 3)); // peer 1 is new again: at once (and forgets peer 2)
    report(peer(2, 2)); // so is peer 2
    expect(sent).toEqual([peer(1, 1), peer(2, 1), peer(3, 1), peer(1, 3), peer(2, 2)]);
    report(peer(2, 5));
    expect(c.heldCount).toBe(1);
  });

  it('sends a held peer as the table has it at the flush, and nothing for one that left the table meanwhile', () => {
    const { c, sent, report, table } = setup();
    report(peer(1, 100));
    report(peer(2, 100));
    report(peer(1, 200));
    report(peer(2, 200));
    // Peer 1 answered again since (not reported yet); peer 2 left without a removal reaching us.
    table.set(peer(1, 0).id, peer(1, 250));
    table.delete(peer(2, 0).id);
    c.flush();
    expect(sent).toEqual([peer(1, 100), peer(2, 100), peer(1, 250)]);
    // Peer 2 is forgotten: if it comes back, its first update goes out at once.
    report(peer(2, 300));
    expect(sent.at(-1)).toEqual(peer(2, 300));
  });
});
