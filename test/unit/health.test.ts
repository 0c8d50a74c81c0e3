import { describe, expect, it } from 'vitest';
import {
  BAD_FAILURES,
  GOOD_WINDOW_MS,
  RTT_EWMA_ALPHA,
  ewma,
  healthState,
  isBad,
  newPeerHealth,
  recordAnswer,
  recordHeard,
  recordTimeout,
  toPeerHealth,
} from '../../core/health/health';
import type { PeerHealth } from '../../core/types';
import { toPeerInfo, type RoutingEntry } from '../../core/routing/entry';

const T0 = 1_700_000_000_000;

describe('ewma (SRTT)', () => {
  it('takes the first sample as is, then moves 1/8 of the way to each new sample', () => {
    expect(RTT_EWMA_ALPHA).toBe(0.125);
    expect(ewma(null, 80)).toBe(80);
    expect(ewma(80, 160)).toBe(90); // 80 + (160 - 80) / 8
    expect(ewma(90, 10)).toBe(80); // 90 + (10 - 90) / 8
    expect(ewma(100, 0, 0.5)).toBe(50);
  });

  it('ignores samples that are not finite and >= 0', () => {
    expect(ewma(50, -1)).toBe(50);
    expect(ewma(50, Number.NaN)).toBe(50);
    expect(ewma(null, Number.POSITIVE_INFINITY)).toBeNull();
  });

  it('converges on a steady RTT', () => {
    let rtt: number | null = 500;
    for (let i = 0; i < 100; i++) rtt = ewma(rtt, 40);
    expect(rtt).toBeCloseTo(40, 2);
  });
});

describe('health records and states', () => {
  it('starts unknown with nothing recorded', () => {
    const h = newPeerHealth();
    expect(h).toEqual({ rttMs: null, lastSeen: null, failures: 0, answered: 0, queried: 0 });
    expect(healthState(h, T0)).toBe('unknown');
  });

  it('a peer that only sends us requests stays unknown (it never answered)', () => {
    const h = newPeerHealth();
    recordHeard(h, T0);
    recordHeard(h, T0 + 1000);
    expect(h.lastSeen).toBe(T0 + 1000);
    expect(healthState(h, T0 + 1000)).toBe('unknown');
  });

  it('walks good -> questionable (silence) -> good -> questionable (failures) -> bad -> good', () => {
    const h = newPeerHealth();
    recordAnswer(h, T0, 100);
    expect(h).toMatchObject({ rttMs: 100, lastSeen: T0, failures: 0, answered: 1, queried: 1 });
    expect(healthState(h, T0)).toBe('good');
    expect(healthState(h, T0 + GOOD_WINDOW_MS - 1)).toBe('good');
    expect(healthState(h, T0 + GOOD_WINDOW_MS)).toBe('questionable'); // silent for the whole window

    // Any accepted datagram (here a request from it) refreshes a peer that has answered before.
    const t1 = T0 + GOOD_WINDOW_MS + 5_000;
    recordHeard(h, t1);
    expect(healthState(h, t1)).toBe('good');

    recordTimeout(h);
    expect(h).toMatchObject({ failures: 1, queried: 2 });
    expect(healthState(h, t1)).toBe('questionable');
    recordHeard(h, t1 + 1); // a request from it does not clear failures: only an answer does
    recordTimeout(h);
    expect(healthState(h, t1 + 1)).toBe('questionable');
    expect(isBad(h)).toBe(false);
    recordTimeout(h);
    expect(h.failures).toBe(BAD_FAILURES);
    expect(isBad(h)).toBe(true);
    expect(healthState(h, t1 + 1)).toBe('bad');

    recordAnswer(h, t1 + 2, 180);
    expect(h.failures).toBe(0);
    expect(h.rttMs).toBe(110); // 100 + (180 - 100) / 8
    expect(h).toMatchObject({ answered: 2, queried: 5 });
    expect(healthState(h, t1 + 2)).toBe('good');
  });

  it('a peer that never answered and failed is questionable, then bad', () => {
    const h = newPeerHealth();
    recordHeard(h, T0);
    recordTimeout(h);
    expect(healthState(h, T0)).toBe('questionable');
    recordTimeout(h);
    recordTimeout(h);
    expect(healthState(h, T0)).toBe('bad');
  });

  it('an answer without a timing keeps the RTT estimate', () => {
    const h = newPeerHealth();
    recordAnswer(h, T0);
    expect(h.rttMs).toBeNull();
    recordAnswer(h, T0 + 1, 60);
    recordAnswer(h, T0 + 2);
    expect(h.rttMs).toBe(60);
  });

  it('honours custom thresholds', () => {
    const h = newPeerHealth();
    recordAnswer(h, T0, 10);
    expect(healthState(h, T0 + 61_000, { goodWindowMs: 60_000 })).toBe('questionable');
    recordTimeout(h);
    expect(healthState(h, T0, { badFailures: 1 })).toBe('bad');
    expect(isBad(h, 1)).toBe(true);
  });

  it('toPeerHealth produces the PeerHealth DTO', () => {
    const h = newPeerHealth();
    recordAnswer(h, T0, 42);
    const dto: PeerHealth = toPeerHealth(h, T0 + 1);
    expect(dto).toEqual({ state: 'good', rttMs: 42, lastSeen: T0, failures: 0, answered: 1, queried: 1 });
  });
});

describe('a peer as the table shows it (toPeerInfo)', () => {
  it('carries its address, then its health exactly as toPeerHealth gives it, then its bucket and when it came', () => {
    const base = { id: 'ab'.repeat(32), idBytes: new Uint8Array(32), host: '10.0.0.7', port: 4001, bucket: 3, addedAt: T0 - 5_000 };
    const records: RoutingEntry[] = [
      { ...base, rttMs: 12.5, lastSeen: T0 - 1_000, failures: 0, answered: 4, queried: 4 },
      { ...base, rttMs: null, lastSeen: T0 - GOOD_WINDOW_MS - 1, failures: 1, answered: 0, queried: 1 },
      { ...base, rttMs: 80, lastSeen: T0 - 10, failures: BAD_FAILURES, answered: 2, queried: 9 },
    ];
    const states = [];
    for (const e of records) {
      const info = toPeerInfo(e, T0);
      // The same keys in the same order: what the Peers view and saved snapshots show.
      expect(JSON.stringify(info)).toBe(JSON.stringify({ id: e.id, host: e.host, port: e.port, ...toPeerHealth(e, T0), bucket: e.bucket, addedAt: e.addedAt }));
      states.push(info.state);
    }
    expect(states).toEqual(['good', 'questionable', 'bad']);
    // Health options pass through: with a shorter good window the first peer is questionable.
    expect(toPeerInfo(records[0], T0, { goodWindowMs: 500 }).state).toBe('questionable');
  });
});
