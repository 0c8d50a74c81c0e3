// The iterative lookup on declarative topologies (fixed ids, commented prefixes) over the memory
// network under fake time: convergence, alpha, every termination reason, per-peer failures as
// events, cancellation, and the accounting of the done event.
import { afterEach, describe, expect, it } from 'vitest';
import { isDhtError } from '../../core/errors';
import { bucketIndex, hexToBytes } from '../../core/id';
import { LOOKUP_TIMEOUT_MS } from '../../core/lookup/lookup';
import type { LookupEvent } from '../../core/types';
import { RTT_MS, Topology, doneOf, hid, ofType } from './topology';

const RPC_TIMEOUT_MS = 2_000;

// The target of most tests: T = 0000 0000 ... 0000 (all zero bits).
const T = hid('');

// A chain toward T: each node knows only nodes nearer T than itself, so the lookup must walk it.
const CHAIN = {
  A: hid('f0'), // 1111 0000  the asker, in the far half
  B: hid('80'), // 1000 0000  shares 0 bits with T
  C: hid('40'), // 0100 0000  shares 1 bit
  D: hid('60'), // 0110 0000  shares 1 bit
  E: hid('20'), // 0010 0000  shares 2 bits
  F: hid('30'), // 0011 0000  shares 2 bits
  G: hid('10'), // 0001 0000  shares 3 bits
  H: hid('18'), // 0001 1000  shares 3 bits
  I: hid('08'), // 0000 1000  shares 4 bits   <- 4th closest to T
  J: hid('04'), // 0000 0100  shares 5 bits   <- 3rd
  K: hid('02'), // 0000 0010  shares 6 bits   <- 2nd
  L: hid('01'), // 0000 0001  shares 7 bits   <- closest
};
const CHAIN_KNOWS = {
  A: ['B'],
  B: ['C', 'D'],
  C: ['E', 'F'],
  D: ['C'],
  E: ['G', 'H'],
  F: ['E'],
  G: ['I', 'J'],
  H: ['G'],
  I: ['J', 'K'],
  J: ['L'],
  K: ['L'],
  L: ['K'],
};

// A star: the asker knows eight peers near T, each of which knows only the others' existence through
// the asker's table (nothing new), so every query is one of the initial ones.
const STAR = {
  A: hid('f0'), // 1111 0000  the asker
  P1: hid('01'), // 0000 0001
  P2: hid('02'), // 0000 0010
  P3: hid('03'), // 0000 0011
  P4: hid('04'), // 0000 0100
  P5: hid('05'), // 0000 0101
  P6: hid('06'), // 0000 0110
  P7: hid('07'), // 0000 0111
  P8: hid('08'), // 0000 1000
};
const STAR_PEERS = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8'];

let topo: Topology | null = null;
afterEach(async () => {
  await topo?.destroy();
  topo = null;
});

async function make(ids: Record<string, string>, knows: Record<string, string[]>, node: { k?: number; alpha?: number; lookupWidth?: number } = {}): Promise<Topology> {
  topo = await Topology.create({ ids, knows, node });
  return topo;
}

/** The largest number of queries outstanding at once, from the event stream alone. */
function maxOutstanding(events: LookupEvent[]): number {
  let n = 0;
  let max = 0;
  for (const e of events) {
    if (e.type === 'query') max = Math.max(max, ++n);
    if (e.type === 'response' || e.type === 'timeout' || e.type === 'error') n--;
  }
  return max;
}

describe('lookup: convergence', () => {
  it('walks a chain of referrals to exactly the true k closest', async () => {
    const t = await make(CHAIN, CHAIN_KNOWS, { k: 4, alpha: 2 });
    const events = await t.collect('A', T);
    const done = doneOf(events);
    expect(done.reason).toBe('converged');
    expect(done.closest.map((c) => t.name(c.id))).toEqual(['L', 'K', 'J', 'I']);
    expect(done.closest.map((c) => t.name(c.id))).toEqual(t.trueClosest(T, 4, ['A']));
    // Each contact carries its address.
    expect(done.closest[0]).toEqual({ id: t.id('L'), host: t.node('L').address.host, port: 4000 });
    // B (hop 1) -> C,D (2) -> E,F (3) -> G,H (4) -> I,J (5) -> K,L (6).
    expect(done.hops).toBe(6);
    const hopOf = Object.fromEntries(ofType(events, 'response').map((r) => [t.name(r.peer.id), r.hop]));
    expect(hopOf).toMatchObject({ B: 1, C: 2, D: 2, E: 3, G: 4, I: 5, J: 5, K: 6, L: 6 });
  });

  it('starts with a started event that lists the seeds (the asker\'s closest), and reports each response\'s nodes as sent', async () => {
    const t = await make(CHAIN, CHAIN_KNOWS, { k: 4, alpha: 2 });
    const events = await t.collect('A', T);
    const started = events[0];
    expect(started.type).toBe('started');
    if (started.type !== 'started') return;
    expect(started).toMatchObject({ kind: 'find-node', target: T, self: t.id('A'), k: 4, alpha: 2, rpcTimeoutMs: RPC_TIMEOUT_MS });
    expect(started.seeds.map((c) => t.name(c.id))).toEqual(['B']);
    const fromB = ofType(events, 'response').find((r) => t.name(r.peer.id) === 'B')!;
    expect(fromB.nodes.map((c) => t.name(c.id))).toEqual(['C', 'D']);
    expect(fromB.rttMs).toBe(RTT_MS);
    expect(fromB.bytes).toBeGreaterThan(0);
    expect(events[events.length - 1].type).toBe('done');
    // Every event belongs to this lookup, and time never runs backwards.
    for (let i = 1; i < events.length; i++) {
      expect(events[i].lookupId).toBe(started.lookupId);
      expect(events[i].at).toBeGreaterThanOrEqual(events[i - 1].at);
    }
  });

  it("names each referral in a response event with its id and the address the answer gave, whether it is us, a candidate we have, or new", async () => {
    // B's answer names A (the asker), C (a seed A asks too) and D (new to A).
    const t = await make({ A: hid('00'), B: hid('80'), C: hid('c0'), D: hid('e0') }, { A: ['B', 'C'], B: ['A', 'C', 'D'] }, { k: 4, alpha: 1 });
    const events = await t.collect('A', T);
    const fromB = ofType(events, 'response').find((r) => t.name(r.peer.id) === 'B')!;
    expect(fromB.nodes.map((c) => t.name(c.id)).sort()).toEqual(['A', 'C', 'D']);
    for (const c of fromB.nodes) expect(c).toEqual({ id: t.id(t.name(c.id)), host: t.node(t.name(c.id)).address.host, port: 4000 });
  });

  it('accounts in the done event for exactly what the events show', async () => {
    const t = await make(CHAIN, CHAIN_KNOWS, { k: 4, alpha: 2 });
    const events = await t.collect('A', T);
    const started = events[0];
    const done = doneOf(events);
    const queries = ofType(events, 'query');
    const responses = ofType(events, 'response');
    // No timeouts here, so one datagram per query.
    expect(done.messages).toBe(queries.length);
    expect(responses).toHaveLength(queries.length);
    expect(done.durationMs).toBe(done.at - started.at);
    const closestIds = new Set(done.closest.map((c) => c.id));
    const closestResponses = responses.filter((r) => closestIds.has(r.peer.id));
    expect(closestResponses).toHaveLength(done.closest.length);
    expect(done.hops).toBe(Math.max(...closestResponses.map((r) => r.hop)));
    expect(done.timeToClosestMs).toBe(Math.max(...closestResponses.map((r) => r.at)) - started.at);
    expect(done.timeToClosestMs).toBeLessThanOrEqual(done.durationMs);
    // Six rounds of referrals, one round trip each.
    expect(done.timeToClosestMs).toBe(6 * RTT_MS);
    // The node counted the same datagrams.
    expect(t.node('A').snapshot().counters.rpc.FIND_NODE.sent).toBe(done.messages);
  });

  it('findNode() resolves to the done event\'s figures', async () => {
    const t = await make(CHAIN, CHAIN_KNOWS, { k: 4, alpha: 2 });
    const r = await t.run(t.node('A').findNode(T));
    expect(r.reason).toBe('converged');
    expect(r.closest.map((c) => t.name(c.id))).toEqual(['L', 'K', 'J', 'I']);
    expect(r.hops).toBe(6);
    expect(r.messages).toBeGreaterThanOrEqual(10);
    expect(r.durationMs).toBeGreaterThanOrEqual(6 * RTT_MS);
  });
});

// A node nearer the target than all the asker's k closest, known only to nodes farther out (as a
// young network's newest nodes are: bench hyperdht-500). k = 4.
const HIDDEN = {
  A: hid('f0'), // 1111 0000  the asker
  X: hid('01'), // 0000 0001  the closest of all; only the Q nodes know it
  P1: hid('02'), // 0000 0010  the asker's 4 closest: they know only the Q nodes
  P2: hid('03'),
  P3: hid('04'),
  P4: hid('05'),
  Q1: hid('10'), // 0001 0000  ranks 6-9 (X counted): each knows X
  Q2: hid('11'),
  Q3: hid('12'),
  Q4: hid('13'),
};
const HIDDEN_KNOWS = {
  A: ['P1', 'P2', 'P3', 'P4'],
  P1: ['Q1', 'Q2', 'Q3', 'Q4'],
  P2: ['Q1', 'Q2', 'Q3', 'Q4'],
  P3: ['Q1', 'Q2', 'Q3', 'Q4'],
  P4: ['Q1', 'Q2', 'Q3', 'Q4'],
  Q1: ['X'],
  Q2: ['X'],
  Q3: ['X'],
  Q4: ['X'],
  X: ['P1'],
};

describe('lookup: width (lookupWidth)', () => {
  it('ends once the k closest have answered by default, and so misses a node only farther nodes know', async () => {
    const t = await make(HIDDEN, HIDDEN_KNOWS, { k: 4, alpha: 2 });
    const events = await t.collect('A', T);
    const done = doneOf(events);
    expect(done.reason).toBe('converged');
    expect(done.closest.map((c) => t.name(c.id))).toEqual(['P1', 'P2', 'P3', 'P4']);
    expect(ofType(events, 'query').map((q) => t.name(q.peer.id)).sort()).toEqual(['P1', 'P2', 'P3', 'P4']);
    // k wide: the 'started' event (and so the trace) says nothing of a width.
    expect('width' in ofType(events, 'started')[0]).toBe(false);
  });

  it('a wider lookup also asks the next nearest, meets the hidden node through them, and still returns the k closest', async () => {
    const t = await make(HIDDEN, HIDDEN_KNOWS, { k: 4, alpha: 2, lookupWidth: 8 });
    const events = await t.collect('A', T);
    const done = doneOf(events);
    expect(done.reason).toBe('converged');
    expect(done.closest.map((c) => t.name(c.id))).toEqual(['X', 'P1', 'P2', 'P3']);
    expect(done.closest.map((c) => t.name(c.id))).toEqual(t.trueClosest(T, 4, ['A']));
    // The P nodes name the Q nodes, which a lookup of width 8 asks too; their answers name X, and
    // with X in, the 8 nearest are X, P1-P4, Q1-Q3: Q4 is not asked.
    expect(ofType(events, 'query').map((q) => t.name(q.peer.id)).sort()).toEqual(['P1', 'P2', 'P3', 'P4', 'Q1', 'Q2', 'Q3', 'X']);
    expect(done.messages).toBe(8);
    expect(maxOutstanding(events)).toBeLessThanOrEqual(2);
    // Its 'started' event says how wide it runs, for the trace and the views.
    expect(ofType(events, 'started')[0]).toMatchObject({ k: 4, width: 8 });
  });
});

describe('lookup: alpha', () => {
  for (const alpha of [1, 2, 3]) {
    it(`never has more than alpha = ${alpha} queries in flight, and uses all of them`, async () => {
      const t = await make(STAR, { A: STAR_PEERS }, { k: 8, alpha });
      const events = await t.collect('A', T);
      expect(maxOutstanding(events)).toBe(alpha);
      const done = doneOf(events);
      expect(done.closest).toHaveLength(8);
      // With one round trip per wave, the waves show in the time it took.
      expect(done.durationMs).toBe(Math.ceil(8 / alpha) * RTT_MS);
    });
  }

  it('does not let dead peers hold the alpha slots: the live ones are asked meanwhile, and the dead are waited for once', async () => {
    // Four dead peers nearest T, alpha 3. Holding their slots, the lookup would time out P1-P3
    // (2 attempts of 2 s), then P4: 8 s. Stalled after a quarter of the RPC timeout (no answer has
    // come yet to measure a round trip by), they stop holding them.
    const t = await make(STAR, { A: STAR_PEERS }, { k: 8, alpha: 3 });
    for (const dead of ['P1', 'P2', 'P3', 'P4']) await t.node(dead).stop();
    const events = await t.collect('A', T);
    const firstTimeout = events.findIndex((e) => e.type === 'timeout');
    const answered = ofType(events, 'response').map((e) => t.name(e.peer.id));
    expect(answered.sort()).toEqual(['P5', 'P6', 'P7', 'P8']);
    expect(events.findLastIndex((e) => e.type === 'response')).toBeLessThan(firstTimeout);
    expect(ofType(events, 'timeout').map((e) => t.name(e.peer.id)).sort()).toEqual(['P1', 'P2', 'P3', 'P4']);
    const done = doneOf(events);
    expect(done.reason).toBe('exhausted');
    expect(done.closest.map((c) => t.name(c.id))).toEqual(['P5', 'P6', 'P7', 'P8']);
    // P4 was asked when P1-P3 stalled (RPC timeout / 4), and its two attempts ran out 4 s later.
    expect(done.durationMs).toBe(RPC_TIMEOUT_MS / 4 + 2 * RPC_TIMEOUT_MS);
    // In flight at once: the three that stalled, and alpha more.
    expect(maxOutstanding(events)).toBe(6);
  });
});

describe('lookup: termination', () => {
  it('converged: the k closest seen have all answered', async () => {
    // A knows the four farther peers; they know the four nearer ones.
    const near = ['P1', 'P2', 'P3', 'P4'];
    const t = await make(STAR, { A: ['P5', 'P6', 'P7', 'P8'], P5: near, P6: near, P7: near, P8: near }, { k: 4, alpha: 3 });
    const events = await t.collect('A', T);
    const done = doneOf(events);
    expect(done.reason).toBe('converged');
    expect(done.closest.map((c) => t.name(c.id))).toEqual(near);
    // Once P1-P4 were known, P8 was no longer among the k closest: it is never asked.
    expect(ofType(events, 'query').map((q) => t.name(q.peer.id))).toEqual(['P5', 'P6', 'P7', 'P1', 'P2', 'P3', 'P4']);
  });

  it('exhausted: a tiny network has fewer than k nodes to give', async () => {
    const t = await make({ A: hid('f0'), B: hid('0f'), C: hid('80') }, { A: ['B', 'C'] }); // k = 20
    const done = doneOf(await t.collect('A', T));
    expect(done.reason).toBe('exhausted');
    expect(done.closest.map((c) => t.name(c.id))).toEqual(['B', 'C']);
  });

  it('no-peers: nothing to start from, no datagram sent', async () => {
    const t = await make({ A: hid('f0') }, {});
    const events = await t.collect('A', T);
    expect(events.map((e) => e.type)).toEqual(['started', 'done']);
    expect(doneOf(events)).toMatchObject({ reason: 'no-peers', closest: [], messages: 0, hops: 0, durationMs: 0 });
    expect(t.node('A').snapshot().counters.txPackets).toBe(0);
  });

  it('aborted: the caller\'s signal ends it, with a done event, and cancels what is in flight', async () => {
    const t = await make(CHAIN, CHAIN_KNOWS, { k: 4, alpha: 2 });
    const ac = new AbortController();
    const lookup = t.node('A').lookup(T, { signal: ac.signal });
    const events: LookupEvent[] = [];
    const run = (async () => {
      for await (const e of lookup) {
        events.push(e);
        // Abort as soon as the third query has gone out.
        if (ofType(events, 'query').length === 3) ac.abort();
      }
    })();
    await t.run(run);
    const done = doneOf(events);
    expect(done.reason).toBe('aborted');
    expect(ofType(events, 'query')).toHaveLength(3);
    expect(t.node('A').snapshot().counters.inFlight).toBe(0);
    // No query goes out afterwards (A still answers the PINGs peers send to verify it).
    await t.clock.tickAsync(10 * RPC_TIMEOUT_MS);
    expect(t.node('A').snapshot().counters.rpc.FIND_NODE.sent).toBe(3);
  });

  it('aborted: a signal aborted before the start sends nothing', async () => {
    const t = await make(STAR, { A: STAR_PEERS });
    const events = await t.collect('A', T, { signal: AbortSignal.abort() });
    expect(events.map((e) => e.type)).toEqual(['started', 'done']);
    expect(doneOf(events).reason).toBe('aborted');
    expect(t.node('A').snapshot().counters.txPackets).toBe(0);
  });

  it('timeout: the whole-lookup deadline ends it with what answered so far', async () => {
    const t = await make(STAR, { A: STAR_PEERS }, { k: 8, alpha: 3 });
    await t.node('P1').stop(); // the nearest never answers: the lookup cannot converge before it fails
    const events = await t.collect('A', T, { timeoutMs: 1_000 });
    const done = doneOf(events);
    expect(done.reason).toBe('timeout');
    expect(done.durationMs).toBe(1_000);
    expect(done.closest.map((c) => t.name(c.id))).toEqual(['P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8']);
    expect(ofType(events, 'timeout')).toHaveLength(0); // P1's own timeout had not come yet
    expect(t.node('A').snapshot().counters.inFlight).toBe(0);
  });

  it('uses a default deadline', () => {
    expect(LOOKUP_TIMEOUT_MS).toBeGreaterThan(2 * RPC_TIMEOUT_MS);
  });
});

describe('lookup: per-peer failures are events, not exceptions', () => {
  it('a silent peer produces a timeout event after its retry, and the lookup goes on', async () => {
    const t = await make(STAR, { A: STAR_PEERS }, { k: 8, alpha: 3 });
    await t.node('P3').stop();
    const events = await t.collect('A', T);
    const timeouts = ofType(events, 'timeout');
    expect(timeouts).toHaveLength(1);
    expect(t.name(timeouts[0].peer.id)).toBe('P3');
    // One attempt, one retry: twice the RPC timeout.
    expect(timeouts[0].afterMs).toBe(2 * RPC_TIMEOUT_MS);
    const done = doneOf(events);
    expect(done.reason).toBe('exhausted'); // 7 live nodes < k = 8
    expect(done.closest.map((c) => t.name(c.id))).toEqual(['P1', 'P2', 'P4', 'P5', 'P6', 'P7', 'P8']);
    // The retry is a datagram too: messages = queries + 1.
    expect(done.messages).toBe(ofType(events, 'query').length + 1);
  });

  it('a node answering with another id than we were told is an error event (ID_MISMATCH)', async () => {
    const t = await make({ A: hid('f0'), B: hid('0f'), C: hid('01') }, { A: ['C'] });
    // A believes an id 0000 0010 ... lives at B's address; B answers with its own id.
    const ghost = hid('02');
    t.node('A').table.observe({ id: ghost, host: t.node('B').address.host, port: 4000 }, t.clock.now(), { rttMs: RTT_MS });
    const events = await t.collect('A', T);
    const errors = ofType(events, 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ID_MISMATCH', peer: { id: ghost } });
    expect(doneOf(events).closest.map((c) => t.name(c.id))).toEqual(['C']);
  });
});

describe('lookup: cancellation by leaving the loop', () => {
  it('breaking out of for-await cancels the queries in flight and sends nothing more', async () => {
    const t = await make(STAR, { A: STAR_PEERS }, { k: 8, alpha: 3 });
    const a = t.node('A');
    const seen: LookupEvent[] = [];
    a.on('lookup', (e) => seen.push(e));
    const lookup = a.lookup(T);
    const run = (async () => {
      for await (const e of lookup) {
        if (e.type === 'query' && ofType(seen, 'query').length === 3) break;
      }
    })();
    await t.run(run);
    // Three queries were in flight; leaving the loop aborted them at once.
    expect(a.snapshot().counters.inFlight).toBe(0);
    expect(ofType(seen, 'response')).toHaveLength(0);
    expect(doneOf(seen).reason).toBe('aborted');
    await t.clock.tickAsync(10 * RPC_TIMEOUT_MS);
    expect(a.snapshot().counters.rpc.FIND_NODE).toMatchObject({ sent: 3, responses: 0, timeouts: 0 });
    // The answers that arrive later are dropped as unexpected, not processed.
    expect(a.snapshot().counters.dropped['unexpected-response']).toBe(3);
  });

  it('a lookup can be iterated only once', async () => {
    const t = await make(STAR, { A: ['P1'] });
    const lookup = t.node('A').lookup(T);
    await t.run((async () => {
      for await (const _ of lookup) void _;
    })());
    expect(() => lookup[Symbol.asyncIterator]()).toThrow(/iterated once/);
  });
});

describe('lookup: arguments', () => {
  it('refuses a malformed target with INVALID_ARGUMENT', async () => {
    const t = await make({ A: hid('f0') }, {});
    let err: unknown;
    try {
      t.node('A').lookup('xyz');
    } catch (e) {
      err = e;
    }
    expect(isDhtError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toMatch(/64 hex characters/);
  });

  it('asks the nearest unasked candidate first', async () => {
    // From A = 1111 0000, T and all of the star's peers are in bucket 0: the table alone does not order them.
    expect(bucketIndex(hexToBytes(STAR.A), hexToBytes(T))).toBe(0);
    const t = await make(STAR, { A: [...STAR_PEERS].reverse() }, { k: 8, alpha: 1 });
    const events = await t.collect('A', T);
    expect(ofType(events, 'query').map((q) => t.name(q.peer.id))).toEqual(STAR_PEERS);
  });
});
