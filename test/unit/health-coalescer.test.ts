// Peer-health updates on their way to the stream (electron/host/health-coalescer.ts): changes a user
// must see go out at once, a good peer's refreshes once per flush, the latest one; bounded.
import { describe, expect, it } from 'vitest';
import type { HealthState, PeerInfo } from '../../core/types';
import { HealthCoalescer } from '../../electron/host/health-coalescer';

function peer(n: number, lastSeen: number, state: HealthState = 'good', failures = 0): PeerInfo {
  return { id: n.toString(16).padStart(64, '0'), host: '10.0.0.1', port: 1000 + n, bucket: 3, addedAt: 0, state, rttMs: 10 + lastSeen, lastSeen, failures, answered: lastSeen, queried: lastSeen };
}

function setup(maxPeers?: number): { c: HealthCoalescer; sent: PeerInfo[] } {
  const sent: PeerInfo[] = [];
  return { c: new HealthCoalescer((p) => sent.push(p), maxPeers), sent };
}

describe('HealthCoalescer', () => {
  it("sends a peer's first update at once, holds its refreshes and sends the latest at flush", () => {
    const { c, sent } = setup();
    c.update(peer(1, 100));
    expect(sent).toEqual([peer(1, 100)]);
    c.update(peer(1, 200));
    c.update(peer(1, 300));
    expect(sent).toHaveLength(1);
    expect(c.heldCount).toBe(1);
    c.flush();
    expect(sent).toEqual([peer(1, 100), peer(1, 300)]);
    c.flush();
    expect(sent).toHaveLength(2);
    expect(c.heldCount).toBe(0);
  });

  it('sends a change of state or of failures at once, and drops what it held for that peer', () => {
    const { c, sent } = setup();
    c.update(peer(1, 100));
    c.update(peer(1, 200));
    c.update(peer(1, 200, 'good', 1));
    c.update(peer(1, 200, 'questionable', 1));
    c.update(peer(1, 200, 'bad', 2));
    c.update(peer(1, 400));
    expect(sent).toEqual([peer(1, 100), peer(1, 200, 'good', 1), peer(1, 200, 'questionable', 1), peer(1, 200, 'bad', 2), peer(1, 400)]);
    c.flush();
    expect(sent).toHaveLength(5);
  });

  it('holds each peer apart and flushes them in the order they were first held', () => {
    const { c, sent } = setup();
    for (const n of [1, 2, 3]) c.update(peer(n, 1));
    for (const n of [3, 1, 2, 3]) c.update(peer(n, 10 + n));
    expect(sent).toHaveLength(3);
    c.flush();
    expect(sent.slice(3)).toEqual([peer(3, 13), peer(1, 11), peer(2, 12)]);
  });

  it('sends nothing held for a peer removed before the flush, and its next update at once', () => {
    const { c, sent } = setup();
    c.update(peer(1, 100));
    c.update(peer(1, 200));
    c.removed(peer(1, 0).id);
    c.flush();
    expect(sent).toEqual([peer(1, 100)]);
    c.update(peer(1, 300));
    expect(sent).toEqual([peer(1, 100), peer(1, 300)]);
  });

  it('forgets everything on reset', () => {
    const { c, sent } = setup();
    c.update(peer(1, 100));
    c.update(peer(1, 200));
    c.reset();
    c.flush();
    expect(sent).toEqual([peer(1, 100)]);
    c.update(peer(1, 300));
    expect(sent).toEqual([peer(1, 100), peer(1, 300)]);
  });

  it('remembers at most maxPeers peers: the least recently shown is forgotten, with what it held', () => {
    const { c, sent } = setup(2);
    c.update(peer(1, 1));
    c.update(peer(2, 1));
    c.update(peer(1, 2)); // held
    c.update(peer(3, 1)); // forgets peer 1, the least recently shown, and its held update
    expect(c.heldCount).toBe(0);
    c.update(peer(1, 3)); // peer 1 is new again: at once (and forgets peer 2)
    c.update(peer(2, 2)); // so is peer 2
    expect(sent).toEqual([peer(1, 1), peer(2, 1), peer(3, 1), peer(1, 3), peer(2, 2)]);
    c.update(peer(2, 5));
    expect(c.heldCount).toBe(1);
  });
});
