// Live events under load, on fake time: 10,000 core events within one second of the node's clock
// reach a subscriber through the service (and a JSON round trip) in at most 40 batches, with
// continuous sequence numbers and nothing lost.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { seededRandom } from '../../core/id';
import { DhtNode, type DhtNodeOptions, type PeerHealthFeed } from '../../core/node';
import { MemoryNetwork } from '../../core/transport/memory';
import type { NodeEvents, PeerInfo } from '../../core/types';
import { FLUSH_INTERVAL_MS } from '../../electron/host/batcher';
import { createMemoryClient } from '../../electron/host/client';
import type { EventBatch } from '../../electron/host/contract';
import { ExplorerService, TICK_INTERVAL_MS } from '../../electron/host/service';

/**
 * A real node whose events the test can fire, as the protocol would under a busy network. Peer
 * health reaches the service through the node's feed (subscribePeerHealth) and peerInfo(id): here
 * from a stand-in table that report() fills as an answer would.
 */
class FiringNode extends DhtNode {
  private readonly peers = new Map<string, PeerInfo>();
  private feeds: PeerHealthFeed[] = [];

  fire<K extends keyof NodeEvents>(event: K, payload: NodeEvents[K]): void {
    if (event === 'peer-removed') this.peers.delete((payload as NodeEvents['peer-removed']).id);
    this.emit(event, payload);
  }

  /** A peer-health report as the node makes one after an answer: the table now holds `p`. */
  report(p: PeerInfo): void {
    this.peers.set(p.id, p);
    for (const fn of this.feeds) fn(p.id, p.state, p.failures);
  }

  override subscribePeerHealth(fn: PeerHealthFeed): () => void {
    this.feeds = [...this.feeds, fn];
    return () => {
      this.feeds = this.feeds.filter((f) => f !== fn);
    };
  }

  override peerInfo(id: string): PeerInfo | undefined {
    return this.peers.get(id);
  }
}

const EVENTS = 10_000;
const ONE_SECOND_MS = 1000;

function peer(i: number): PeerInfo {
  return {
    id: i.toString(16).padStart(64, '0'),
    host: '10.0.0.1',
    port: 1000 + (i % 50_000),
    bucket: i % 256,
    addedAt: 0,
    state: 'good',
    rttMs: 12,
    lastSeen: i,
    failures: 0,
    answered: 1,
    queried: 1,
  };
}

async function firingService(): Promise<{ clock: FakeClock; node: FiringNode; service: ExplorerService; batches: EventBatch[]; network: MemoryNetwork }> {
  const clock = new FakeClock();
  const network = new MemoryNetwork({ clock }, { seed: 7 });
  let node: FiringNode | null = null;
  const service = new ExplorerService(
    {
      clock,
      createNode: (o: DhtNodeOptions) => (node = new FiringNode({ ...o, host: undefined, port: undefined, transport: network.createTransport({}) })),
    },
    { host: 'memory', appVersion: 'test', dataDir: null, bootstrap: [], testnetSize: 0 },
  );
  await clock.run(service.start());
  const batches: EventBatch[] = [];
  createMemoryClient(service).subscribe((b) => batches.push(b));
  return { clock, node: node!, service, batches, network };
}

describe('ExplorerService event batching', () => {
  it('delivers 10,000 events within one second in at most 40 batches, in order, nothing lost', async () => {
    const { clock, node, service, batches, network } = await firingService();

    // Bursty arrival at random instants of one second (seeded), several per millisecond at times.
    const rand = seededRandom(2024);
    const times = Array.from({ length: EVENTS }, () => Math.floor(rand() * ONE_SECOND_MS)).sort((a, b) => a - b);
    let t = 0;
    for (let i = 0; i < EVENTS; i++) {
      if (times[i] > t) {
        clock.advance(times[i] - t);
        t = times[i];
      }
      node.report(peer(i));
    }
    // ...and one flush interval later the last of them has gone out.
    clock.advance(ONE_SECOND_MS - t + FLUSH_INTERVAL_MS);

    // The service's own once-a-second tick shares the stream; count only what the node fired.
    const health = batches.flatMap((b) => b.events).filter((e) => e.type === 'peer-health');
    expect(batches.length).toBeLessThanOrEqual(40);
    expect(batches.map((b) => b.seq)).toEqual(batches.map((_, i) => i + 1));
    expect(batches.some((b) => b.resync)).toBe(false);
    expect(health.map((e) => (e.type === 'peer-health' ? parseInt(e.peer.id, 16) : -1))).toEqual(Array.from({ length: EVENTS }, (_, i) => i));

    await service.stop();
    network.destroy();
    expect(clock.pendingTimers).toBe(0);
  });

  it("sends a peer's health changes at once and a good peer's refreshes once a tick, never after its removal", async () => {
    const { clock, node, service, batches, network } = await firingService();
    const health = (): Array<[number, string, number | null]> =>
      batches.flatMap((b) => b.events).flatMap((e) => (e.type === 'peer-health' ? [[parseInt(e.peer.id, 16), e.peer.state, e.peer.lastSeen] as [number, string, number | null]] : []));
    // Just after a tick, so the next is a whole interval away.
    clock.advance(TICK_INTERVAL_MS + FLUSH_INTERVAL_MS);
    const ticks = batches.flatMap((b) => b.events).flatMap((e) => (e.type === 'tick' ? [e.at] : []));
    expect(ticks.length).toBeGreaterThan(0);
    clock.advance(ticks.at(-1)! + TICK_INTERVAL_MS + 1 - clock.now());
    batches.length = 0;
    const at = (p: PeerInfo, lastSeen: number, state: PeerInfo['state'] = 'good', failures = 0): PeerInfo => ({ ...p, lastSeen, state, failures });
    node.report(at(peer(1), 1));
    node.report(at(peer(2), 1));
    for (let t = 2; t <= 10; t++) {
      node.report(at(peer(1), t));
      node.report(at(peer(2), t));
    }
    clock.advance(FLUSH_INTERVAL_MS);
    expect(health()).toEqual([
      [1, 'good', 1],
      [2, 'good', 1],
    ]);
    // A change goes out within a flush interval, not a tick.
    node.report(at(peer(2), 10, 'questionable', 1));
    clock.advance(FLUSH_INTERVAL_MS);
    expect(health().slice(2)).toEqual([[2, 'questionable', 10]]);
    // Peer 1 leaves the table with a refresh held: the tick sends nothing for it.
    node.fire('peer-removed', { id: peer(1).id, host: peer(1).host, port: peer(1).port, reason: 'evicted' });
    clock.advance(TICK_INTERVAL_MS);
    expect(health().slice(3)).toEqual([]);
    // Peer 2's later refresh arrives with the next tick, the latest one only.
    node.report(at(peer(2), 20, 'questionable', 1));
    node.report(at(peer(2), 21, 'questionable', 1));
    clock.advance(FLUSH_INTERVAL_MS);
    expect(health().slice(3)).toEqual([]);
    clock.advance(TICK_INTERVAL_MS);
    expect(health().slice(3)).toEqual([[2, 'questionable', 21]]);
    const removedAt = batches.flatMap((b) => b.events).findIndex((e) => e.type === 'peer-removed');
    expect(removedAt).toBeGreaterThanOrEqual(0);

    await service.stop();
    network.destroy();
  });
});
