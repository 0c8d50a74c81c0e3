// The lookup's candidate list doubles as its index by id (equal distance to the target means equal
// id). On seeded networks where referrals repeat a lot and name the asker, with the candidate cap
// reached: nobody is asked twice, the asker never, and the result is the k nearest that answered.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { DhtError } from '../../core/errors';
import { bytesToHex, compareDistance, seededRandomBytes } from '../../core/id';
import { Lookup, type LookupPeer, type QueryFn } from '../../core/lookup/lookup';
import type { LookupEvent } from '../../core/types';

async function lookupOn(seed: number, k: number) {
  const rnd = seededRandomBytes(seed);
  const n = 400;
  const target = rnd(32);
  const ids = Array.from({ length: n }, (_, i) => {
    const id = rnd(32);
    if (i % 4 === 0) id.set(target.subarray(0, 1 + (i % 3))); // a crowd near the target
    return id;
  });
  const peers: LookupPeer[] = ids.map((id, i) => ({ id: bytesToHex(id), idBytes: id, host: '10.0.0.1', port: 1000 + i }));
  // Everyone knows 30 peers drawn from the first 120 (lots of repeats), and the asker (peer 0).
  const knows = peers.map(() => [0, ...Array.from({ length: 30 }, () => rnd(1)[0] % 120)]);
  const silent = (i: number) => i % 11 === 5;
  const clock = new FakeClock();
  const asked: string[] = [];
  const query: QueryFn = (p, signal, onSend) => {
    onSend(1, 90);
    asked.push(p.id);
    const i = p.port - 1000;
    return new Promise((resolve, reject) => {
      const t = clock.setTimeout(() => {
        if (silent(i)) return reject(DhtError.timeout('FIND_NODE', 10));
        const nodes = knows[i].map((j) => ({ id: peers[j].idBytes, host: peers[j].host, port: peers[j].port }));
        resolve({ id: p.id, nodes, rttMs: 1, bytesSent: 90, bytesReceived: 100, attempts: 1 });
      }, 1 + (i % 5));
      signal.addEventListener('abort', () => { clock.clearTimeout(t); reject(DhtError.aborted(signal.reason)); }, { once: true });
    });
  };
  const events: LookupEvent[] = [];
  const l = new Lookup({
    lookupId: 'c', kind: 'find-node', self: peers[0].id, target, k, alpha: 3, rpcTimeoutMs: 10,
    seeds: [peers[1], peers[2], peers[1]], query, clock, onEvent: (e) => events.push(e),
  });
  const done = await clock.run(l.run());
  return { done, events, asked, peers, target, silent };
}

describe('Lookup candidates', () => {
  for (const [seed, k] of [[1, 8], [2, 20], [3, 20], [4, 30]] as const) {
    it(`seed ${seed}, k ${k}: each peer asked once, never the asker, k nearest answered as the result`, async () => {
      const { done, events, asked, peers, target, silent } = await lookupOn(seed, k);
      expect(asked.length).toBeGreaterThan(k); // the cap (k * 8, at least 64) is reached, candidates are forgotten
      expect(new Set(asked).size).toBe(asked.length);
      expect(asked).not.toContain(peers[0].id);
      // The result: the k nearest of those that answered.
      const answered = events.filter((e) => e.type === 'response').map((e) => (e as Extract<LookupEvent, { type: 'response' }>).peer.id);
      const byId = new Map(peers.map((p) => [p.id, p]));
      const nearest = [...answered].sort((a, b) => compareDistance(target, byId.get(a)!.idBytes, byId.get(b)!.idBytes)).slice(0, k);
      expect(done.closest.map((c) => c.id)).toEqual(nearest);
      expect(answered.every((id) => !silent(byId.get(id)!.port - 1000))).toBe(true);
    });
  }
});

describe('Lookup with answers from non-members', () => {
  it('follows the referrals of a peer that answers as a non-member but leaves it out of the closest', async () => {
    // Ids by their first byte (target 00): B 01 (nearest, answers as a non-member), C 02, D 03.
    const target = new Uint8Array(32);
    const mk = (b: number, port: number): LookupPeer => {
      const id = new Uint8Array(32);
      id[0] = b;
      return { id: bytesToHex(id), idBytes: id, host: '10.0.0.1', port };
    };
    const [b, c, d] = [mk(1, 2), mk(2, 3), mk(3, 4)];
    const clock = new FakeClock();
    const query: QueryFn = async (p) => {
      // B knows C and D; the others know nobody.
      const nodes = p === b ? [c, d].map((x) => ({ id: x.idBytes, host: x.host, port: x.port })) : [];
      return { id: p.id, nodes, rttMs: 1, bytesSent: 1, bytesReceived: 1, attempts: 1, member: p !== b };
    };
    const l = new Lookup({ lookupId: 'm', kind: 'find-node', self: mk(0xf0, 1).id, target, k: 3, alpha: 3, rpcTimeoutMs: 10, seeds: [b], query, clock });
    const done = await clock.run(l.run());
    expect(done.closest.map((x) => x.id)).toEqual([c.id, d.id]);
    expect(done.reason).toBe('exhausted');
  });
});

describe('Lookup events: referrals', () => {
  it('show the address each answer gave, also for a candidate the lookup holds at another address', async () => {
    const rnd = seededRandomBytes(7);
    const target = rnd(32);
    const [a, b, c, d] = Array.from({ length: 4 }, (): LookupPeer => {
      const id = rnd(32);
      return { id: bytesToHex(id), idBytes: id, host: '10.0.0.1', port: 0 };
    }).map((p, i) => ({ ...p, port: 1000 + i }));
    // B names C at another port, then at C's own, and D (new); C names D.
    const answers = new Map<string, LookupPeer[]>([
      [b.id, [{ ...c, port: 1099 }, c, d]],
      [c.id, [d]],
      [d.id, []],
    ]);
    const clock = new FakeClock();
    const query: QueryFn = (p, _signal, onSend) => {
      onSend(1, 90);
      const nodes = (answers.get(p.id) ?? []).map((n) => ({ id: new Uint8Array(n.idBytes), host: n.host, port: n.port }));
      return new Promise((resolve) => clock.setTimeout(() => resolve({ id: p.id, nodes, rttMs: 1, bytesSent: 90, bytesReceived: 100, attempts: 1 }), 1));
    };
    const events: LookupEvent[] = [];
    const l = new Lookup({ lookupId: 'r', kind: 'find-node', self: a.id, target, k: 4, alpha: 1, rpcTimeoutMs: 10, seeds: [b, c], query, clock, onEvent: (e) => events.push(e) });
    await clock.run(l.run());
    const contact = (p: LookupPeer, port = p.port) => ({ id: p.id, host: p.host, port });
    const responses = new Map(events.flatMap((e) => (e.type === 'response' ? [[e.peer.id, e.nodes] as const] : [])));
    expect(responses.get(b.id)).toEqual([contact(c, 1099), contact(c), contact(d)]);
    expect(responses.get(c.id)).toEqual([contact(d)]);
    // Every event about a peer names it as the lookup holds it.
    for (const e of events) if (e.type === 'query' || e.type === 'response') expect(e.peer).toEqual(contact([b, c, d].find((p) => p.id === e.peer.id)!));
    expect(events.filter((e) => e.type === 'query')).toHaveLength(3);
  });
});
