// The renderer's live store: batches applied on top of a snapshot, resync handling, bounds.
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_HISTORY_SAMPLES, useLive } from '../../renderer/state/live';
import type { Counters, PeerInfo, SnapshotDto } from '../../electron/host/contract';

const id = (c: string): string => c.repeat(64);
const peer = (c: string, state: PeerInfo['state'] = 'good'): PeerInfo => ({ id: id(c), host: '127.0.0.1', port: 4000, bucket: 0, addedAt: 0, state, rttMs: 2, lastSeen: 0, failures: 0, answered: 1, queried: 1 });
const method = { sent: 0, responses: 0, timeouts: 0, errors: 0, received: 0 };
const counters = (rx: number): Counters => ({
  rxPackets: rx,
  txPackets: rx,
  rxBytes: rx * 100,
  txBytes: rx * 100,
  dropped: {},
  rpc: { PING: { ...method, sent: rx }, FIND_NODE: method, FIND_VALUE: method, STORE: method, ANNOUNCE: method, GET_PEERS: method, CALL: method, BROADCAST: method },
  inFlight: 0,
});

function snapshot(peers: PeerInfo[]): SnapshotDto {
  return {
    node: { id: id('0'), address: { host: '127.0.0.1', port: 1 }, observedAddress: null, startedAt: 0, now: 1000, k: 20, alpha: 3, buckets: [], peers, counters: counters(0), estimatedNetworkSize: 3, diversityLimits: false },
    testnet: { running: true, transport: 'udp', alive: 3, stopped: 0, bootstrap: [], inWorker: false, startedAt: 0 },
    records: [],
  };
}

beforeEach(() => {
  useLive.setState({ loaded: false, peers: new Map(), history: [], lookups: new Map(), activity: [], needsSnapshot: false, latestLookupId: null, batches: 0 });
});

describe('live store', () => {
  it('applies peer events in one update per batch', () => {
    const s = useLive.getState();
    s.applySnapshot(snapshot([peer('a'), peer('b')]));
    expect(useLive.getState().peers.size).toBe(2);
    let updates = 0;
    const unsub = useLive.subscribe(() => updates++);
    useLive.getState().applyBatch({
      seq: 1,
      resync: false,
      events: [
        { type: 'peer-added', peer: peer('c') },
        { type: 'peer-health', peer: peer('a', 'bad') },
        { type: 'peer-removed', id: id('b'), host: '127.0.0.1', port: 4000, reason: 'failed' },
      ],
    });
    unsub();
    expect(updates).toBe(1);
    const st = useLive.getState();
    expect([...st.peers.keys()].sort()).toEqual([id('a'), id('c')]);
    expect(st.peers.get(id('a'))?.state).toBe('bad');
    expect(st.activity.map((a) => a.kind)).toEqual(['added', 'health', 'removed']); // oldest first
  });

  it('asks for a snapshot on resync and clears the flag when one arrives', () => {
    useLive.getState().applyBatch({ seq: 7, resync: true, events: [] });
    expect(useLive.getState().needsSnapshot).toBe(true);
    useLive.getState().applySnapshot(snapshot([]));
    expect(useLive.getState().needsSnapshot).toBe(false);
  });

  it('turns ticks into bounded history samples', () => {
    useLive.getState().applySnapshot(snapshot([peer('a')]));
    for (let i = 1; i <= MAX_HISTORY_SAMPLES + 5; i++) {
      useLive.getState().applyBatch({ seq: i, resync: false, events: [{ type: 'tick', at: 1000 + i * 1000, counters: counters(i), peers: 1, estimatedNetworkSize: 4, observedAddress: null }] });
    }
    const h = useLive.getState().history;
    expect(h).toHaveLength(MAX_HISTORY_SAMPLES);
    expect(h[h.length - 1].rxPackets).toBe(MAX_HISTORY_SAMPLES + 5);
    expect(h[h.length - 1].rpc.PING).toBe(MAX_HISTORY_SAMPLES + 5);
    expect(useLive.getState().node?.estimatedNetworkSize).toBe(4);
  });

  it('keeps lookups from their events and follows the newest', () => {
    useLive.getState().applyBatch({
      seq: 1,
      resync: false,
      events: [{ type: 'lookup', event: { lookupId: 'L1', at: 5, type: 'started', kind: 'find-node', target: id('f'), self: id('0'), k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [] } }],
    });
    const st = useLive.getState();
    expect(st.latestLookupId).toBe('L1');
    expect(st.lookups.get('L1')?.target).toBe(id('f'));
  });
});
