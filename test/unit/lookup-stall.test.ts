// Stalled queries (core/lookup/lookup.ts, stallMs): a query unanswered for a while stops holding one
// of the alpha slots, but the lookup still waits for it, and a late answer counts like any other.
// A pure unit test on fake time: each peer answers after its own delay, or never.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { DhtError } from '../../core/errors';
import { hexToBytes } from '../../core/id';
import { Lookup, STALL_MIN_MS, STALL_RTT_FACTOR, type LookupPeer, type QueryFn } from '../../core/lookup/lookup';
import type { LookupEvent } from '../../core/types';
import { hid } from './topology';

const RPC_TIMEOUT_MS = 2_000;
const T = hid('');

interface PeerSpec {
  id: string;
  /** Answers after this many ms; null: never (the query times out after RPC_TIMEOUT_MS). */
  delayMs: number | null;
  knows?: string[];
}

interface Sent {
  name: string;
  at: number;
}

function world(peers: Record<string, PeerSpec>) {
  const clock = new FakeClock(0);
  const nameOf = new Map(Object.entries(peers).map(([n, p]) => [p.id, n]));
  const peer = (name: string): LookupPeer => ({ id: peers[name].id, idBytes: hexToBytes(peers[name].id), host: '10.0.0.1', port: 1000 + Object.keys(peers).indexOf(name) });
  const sent: Sent[] = [];
  let inflight = 0;
  let maxInflight = 0;
  const query: QueryFn = (p, signal, onSend) => {
    const name = nameOf.get(p.id)!;
    const spec = peers[name];
    onSend(1, 93);
    sent.push({ name, at: clock.now() });
    maxInflight = Math.max(maxInflight, ++inflight);
    return new Promise((resolve, reject) => {
      const settle = (): void => void inflight--;
      const timer = clock.setTimeout(() => {
        settle();
        if (spec.delayMs === null) {
          reject(DhtError.timeout(`FIND_NODE to ${name}`, RPC_TIMEOUT_MS));
          return;
        }
        const nodes = (spec.knows ?? []).map((n) => ({ id: peer(n).idBytes, host: peer(n).host, port: peer(n).port }));
        resolve({ id: p.id, nodes, rttMs: spec.delayMs, bytesSent: 93, bytesReceived: 100, attempts: 1 });
      }, spec.delayMs ?? RPC_TIMEOUT_MS);
      signal.addEventListener('abort', () => {
        clock.clearTimeout(timer);
        settle();
        reject(DhtError.aborted(signal.reason));
      }, { once: true });
    });
  };
  const lookup = (seeds: string[], k: number, alpha: number): Lookup =>
    new Lookup({ lookupId: 'l1', kind: 'find-node', self: hid('f0'), target: hexToBytes(T), k, alpha, rpcTimeoutMs: RPC_TIMEOUT_MS, seeds: seeds.map(peer), query, clock });
  return {
    clock,
    sent,
    lookup,
    name: (id: string) => nameOf.get(id)!,
    get maxInflight() {
      return maxInflight;
    },
    async collect(l: Lookup): Promise<LookupEvent[]> {
      const events: LookupEvent[] = [];
      await clock.run((async () => {
        for await (const e of l) events.push(e);
      })());
      return events;
    },
  };
}

const at = (sent: Sent[], name: string): number | undefined => sent.find((s) => s.name === name)?.at;

describe('lookup: stalled queries', () => {
  it('a slow peer stops holding its slot, and its late answer and referrals still count', async () => {
    // S is the nearest peer and slow (1.5 s, within the RPC timeout); only S knows Z, nearer still.
    const w = world({
      S: { id: hid('02'), delayMs: 1_500, knows: ['Z'] },
      Z: { id: hid('01'), delayMs: 10 },
      B: { id: hid('40'), delayMs: 10 },
      C: { id: hid('41'), delayMs: 10 },
    });
    const events = await w.collect(w.lookup(['S', 'B', 'C'], 3, 1));
    const done = events.at(-1) as Extract<LookupEvent, { type: 'done' }>;
    expect(done.reason).toBe('converged');
    expect(done.closest.map((c) => w.name(c.id))).toEqual(['Z', 'S', 'B']);
    // alpha 1: S first; before any answer a query stalls after a quarter of the RPC timeout, and B
    // goes out then; B's 10 ms answer sets the stall time to STALL_MIN_MS, after which C goes out.
    expect(at(w.sent, 'S')).toBe(0);
    expect(at(w.sent, 'B')).toBe(RPC_TIMEOUT_MS / 4);
    expect(at(w.sent, 'C')).toBe(RPC_TIMEOUT_MS / 4 + 10);
    // Z, learned from S's late answer, is asked when it comes.
    expect(at(w.sent, 'Z')).toBe(1_500);
    expect(done.durationMs).toBe(1_510);
  });

  it('never has more than alpha queries in flight that have not stalled', async () => {
    // Ten silent peers and ten answering ones, alpha 2: the silent ones stall one after another.
    const peers: Record<string, PeerSpec> = {};
    for (let i = 0; i < 10; i++) peers[`dead${i}`] = { id: hid((0x10 + i).toString(16)), delayMs: null };
    for (let i = 0; i < 10; i++) peers[`live${i}`] = { id: hid((0x40 + i).toString(16)), delayMs: 30 };
    const w = world(peers);
    const events = await w.collect(w.lookup(Object.keys(peers), 20, 2));
    const done = events.at(-1) as Extract<LookupEvent, { type: 'done' }>;
    expect(done.closest).toHaveLength(10);
    // The stall time: a quarter of the RPC timeout before the first answer, then STALL_RTT_FACTOR
    // round trips of the 30 ms answers.
    const answered = new Map(events.filter((e) => e.type === 'response').map((e) => [w.name((e as { peer: { id: string } }).peer.id), e.at]));
    const firstAnswer = Math.min(...answered.values());
    const stallAt = (t: number): number => (t <= firstAnswer ? RPC_TIMEOUT_MS / 4 : Math.max(STALL_MIN_MS, STALL_RTT_FACTOR * 30));
    // Replaying the sends: at each one, fewer than alpha others are out, unanswered and not yet stalled.
    for (const s of w.sent) {
      const fresh = w.sent.filter((o) => o.at < s.at && s.at - o.at < stallAt(s.at) && !(answered.get(o.name)! <= s.at));
      expect(fresh.length, `when ${s.name} was sent at ${s.at}`).toBeLessThan(2);
    }
    expect(w.sent).toHaveLength(20);
    // The silent ones (the nearest) stall two by two every RPC_TIMEOUT_MS / 4; each is waited for
    // once, in parallel: the last of them ends the lookup one RPC timeout after it was asked.
    // Holding their slots, they would have taken 5 x 2 s.
    const lastDead = Math.max(...w.sent.filter((s) => s.name.startsWith('dead')).map((s) => s.at));
    expect(lastDead).toBe((10 / 2 - 1) * (RPC_TIMEOUT_MS / 4));
    expect(done.durationMs).toBe(lastDead + RPC_TIMEOUT_MS);
    expect(w.maxInflight).toBeGreaterThan(2);
  });

  it('stalled queries are waited for: the lookup does not end while one is still out', async () => {
    // Two peers; the nearer never answers. k = 1: the farther one answered, but the nearer may yet.
    const w = world({ D: { id: hid('01'), delayMs: null }, L: { id: hid('40'), delayMs: 10 } });
    const events = await w.collect(w.lookup(['D', 'L'], 1, 1));
    const done = events.at(-1) as Extract<LookupEvent, { type: 'done' }>;
    expect(events.map((e) => e.type)).toEqual(['started', 'query', 'query', 'response', 'timeout', 'done']);
    expect(done.durationMs).toBe(RPC_TIMEOUT_MS);
    expect(done.closest.map((c) => w.name(c.id))).toEqual(['L']);
  });
});
