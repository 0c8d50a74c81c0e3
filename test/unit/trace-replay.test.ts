// Replay: a trace at any moment gives the waterfall rows, the graph highlight, the figures and the
// closest set the lookup had then; playback moves time in real time or event by event; the graph of
// a trace shows peers we know by health and the others as ghosts.
import { describe, expect, it } from 'vitest';
import type { Contact, LookupEvent, Trace } from '../../electron/host/contract';
import { TraceBuilder, traceRoute } from '../../electron/host/trace-build';
import { lookupDone } from '../../renderer/state/lookup-model';
import { nodeId, ringId, targetId, type GraphModel } from '../../renderer/graph/model';
import { REPLAY_PX, buildReplayGraph, replayBounds } from '../../renderer/trace/graph';
import { advance, defaultPace, describeEvent, eventsUpTo, frameAt, nextStop, prepareReplay, prevStop, STEP_BEAT_MS } from '../../renderer/trace/replay';

const hex = (prefix: string): string => prefix.padEnd(64, '0');
const c = (prefix: string, port: number): Contact => ({ id: hex(prefix), host: '127.0.0.1', port });
// Target 0xf0…; self 0x00…. Seeds A (0x80) and B (0x40). A returns C (0xc0) and D (0xe0); D returns
// E (0xf8), the nearest. B never answers (timeout after 2 s), so the lookup ends at 2003 ms although
// its closest set was complete at 60 ms.
const SELF = hex('00');
const TARGET = hex('f0');
const [A, B, C, D, E] = [c('80', 4001), c('40', 4002), c('c0', 4003), c('e0', 4004), c('f8', 4005)];
const L = { lookupId: 'L1' };
const START = 1_700_000_000_000;

function events(): LookupEvent[] {
  const at = (t: number) => ({ ...L, at: START + t });
  return [
    { ...at(0), type: 'started', kind: 'find-node', target: TARGET, self: SELF, k: 3, alpha: 2, rpcTimeoutMs: 1000, lookupTimeoutMs: 60_000, seeds: [A, B] },
    { ...at(1), type: 'query', peer: A, hop: 1, bytes: 70 },
    { ...at(2), type: 'query', peer: B, hop: 1, bytes: 70 },
    { ...at(20), type: 'response', peer: A, hop: 1, rttMs: 19, bytes: 300, nodes: [C, D] },
    { ...at(21), type: 'query', peer: D, hop: 2, bytes: 70 },
    { ...at(22), type: 'query', peer: C, hop: 2, bytes: 70 },
    { ...at(40), type: 'response', peer: D, hop: 2, rttMs: 19, bytes: 200, nodes: [E] },
    { ...at(41), type: 'query', peer: E, hop: 3, bytes: 70 },
    { ...at(42), type: 'response', peer: C, hop: 2, rttMs: 20, bytes: 120, nodes: [] },
    { ...at(60), type: 'response', peer: E, hop: 3, rttMs: 19, bytes: 120, nodes: [] },
    { ...at(2002), type: 'timeout', peer: B, hop: 1, afterMs: 2000 },
    { ...at(2003), type: 'done', reason: 'converged', closest: [E, D, C], hops: 3, messages: 5, durationMs: 2003, timeToClosestMs: 60 },
  ];
}

function trace(): Trace {
  const b = new TraceBuilder();
  for (const e of events()) b.ingest(e);
  return b.trace!;
}

const ids = (cs: Contact[]): string[] => cs.map((x) => x.id.slice(0, 2));

describe('the route of a lookup', () => {
  it('is an arrow per peer asked, from whoever named it, with the round that asked it', () => {
    const route = traceRoute(trace()).map((r) => `${r.from.slice(0, 2)}>${r.to.slice(0, 2)} ${r.round}`);
    // We asked the seeds A and B; A named D and C; D named E.
    expect(route).toEqual(['00>80 1', '00>40 1', '80>e0 2', '80>c0 2', 'e0>f8 3']);
  });

  it('takes the referrer of the earliest round when two answers named the same peer', () => {
    const t = trace();
    // A's round-1 answer names E too, before D's round-2 answer does: A, of the earlier round, led to E.
    const ev = t.events.map((e) => (e.type === 'response' && e.peer.id === A.id ? { ...e, nodes: [C, D, E] } : e));
    const route = traceRoute({ self: t.self, events: ev }).map((r) => `${r.from.slice(0, 2)}>${r.to.slice(0, 2)} ${r.round}`);
    expect(route).toContain('80>f8 3');
  });

  it('ends, once done, with an arrow from the nearest answering node to the target', () => {
    const f = frameAt(prepareReplay(trace()), 2003);
    expect(f.overlay.edges.at(-1)).toEqual({ from: E.id, to: TARGET, kind: 'goal', round: 0 });
    expect(frameAt(prepareReplay(trace()), 60).overlay.edges.some((e) => e.kind === 'goal')).toBe(false);
  });
});

describe('replay frames', () => {
  const r = prepareReplay(trace());

  it('spans the trace and stops at each distinct event time', () => {
    expect(r.durationMs).toBe(2003);
    expect(r.stops).toEqual([0, 1, 2, 20, 21, 22, 40, 41, 42, 60, 2002, 2003]);
    expect(eventsUpTo(r, 20)).toBe(4);
    expect(eventsUpTo(r, 19.9)).toBe(3);
    // A short lookup starts event by event; a long one in real time.
    expect(defaultPace(r)).toBe('real');
    expect(defaultPace(prepareReplay({ ...r.trace, events: r.trace.events.slice(0, 4), summary: { ...r.trace.summary, durationMs: 20 } }))).toBe('steps');
  });

  it('at the start: only the seeds, nothing asked yet', () => {
    const f = frameAt(r, 0);
    expect(f).toMatchObject({ t: 0, shown: 1, total: 12, atEnd: false });
    expect(f.last?.type).toBe('started');
    expect(f.figures).toEqual({ messages: 0, answers: 0, timeouts: 0, errors: 0, inFlight: 0, hops: 0 });
    expect(f.waterfall.rows).toEqual([]);
    expect([...f.overlay.contacts.keys()].map((id) => id.slice(0, 2))).toEqual(['80', '40']);
    expect(f.overlay.peers.size).toBe(0);
    expect(lookupDone(f.model)).toBeNull();
    expect(f.closest).toEqual([]);
  });

  it('mid-way: rows so far (one pending), who answered, what the answers pointed to', () => {
    const f = frameAt(r, 30);
    expect(f.shown).toBe(6);
    expect(f.figures).toEqual({ messages: 4, answers: 1, timeouts: 0, errors: 0, inFlight: 3, hops: 1 });
    // Rows in the order sent; the axis stays the whole trace so bars keep their place while playing.
    expect(f.waterfall.spanMs).toBe(2003);
    expect(f.waterfall.rows.map((w) => [w.peer.id.slice(0, 2), w.outcome, w.end])).toEqual([
      ['80', 'response', 20],
      ['40', 'pending', null],
      ['e0', 'pending', null],
      ['c0', 'pending', null],
    ]);
    expect(f.waterfall.rows[0].returned).toEqual([C, D]);
    expect(Object.fromEntries([...f.overlay.peers].map(([id, s]) => [id.slice(0, 2), s]))).toEqual({ '80': 'answered', '40': 'queried', e0: 'queried', c0: 'queried' });
    // A told us of D and C, and we asked them: the route.
    // The route so far: we asked the seeds (round 1), A's answer led to D and C (round 2).
    expect(f.overlay.edges.map((e) => `${e.from.slice(0, 2)}>${e.to.slice(0, 2)} ${e.kind} ${e.round}`)).toEqual(['00>80 route 1', '00>40 route 1', '80>e0 route 2', '80>c0 route 2']);
    expect(f.overlay.running).toBe(true);
    expect(ids(f.closest)).toEqual(['80']);
  });

  it('the closest set grows nearest first as answers come in', () => {
    expect(ids(frameAt(r, 42).closest)).toEqual(['e0', 'c0', '80']);
    // k = 3: E's answer pushes A out.
    expect(ids(frameAt(r, 60).closest)).toEqual(['f8', 'e0', 'c0']);
  });

  it('at the end: the same outcome, figures and final closest set as the lookup reported', () => {
    const t = r.trace;
    const f = frameAt(r, r.durationMs);
    expect(f.atEnd).toBe(true);
    expect(lookupDone(f.model)).toEqual({ reason: 'converged', closest: [E, D, C], hops: 3, messages: 5, durationMs: 2003, timeToClosestMs: 60 });
    expect(f.closest).toEqual(t.summary.closest);
    expect(f.figures).toMatchObject({ messages: t.summary.messages, answers: t.summary.responses, timeouts: t.summary.timeouts, errors: t.summary.errors, inFlight: 0, hops: t.summary.hops });
    expect(f.waterfall.rows.find((w) => w.peer.id === B.id)).toMatchObject({ outcome: 'timeout', end: 2002, message: 'no answer after 2000 ms' });
    expect(f.waterfall.doneAt).toBe(2003);
    expect(f.overlay.running).toBe(false);
    expect([...f.overlay.closest].map((id) => id.slice(0, 2)).sort()).toEqual(['c0', 'e0', 'f8']);
  });

  it('clamps times outside the trace', () => {
    expect(frameAt(r, -5).t).toBe(0);
    expect(frameAt(r, 1e9)).toMatchObject({ t: 2003, atEnd: true });
    expect(frameAt(r, Number.NaN).t).toBe(0);
  });

  it('sorts a file whose events are out of order before replaying it', () => {
    const t = trace();
    const shuffled = { ...t, events: [t.events[0], ...t.events.slice(1).reverse()] };
    expect(frameAt(prepareReplay(shuffled), 30).waterfall.rows).toEqual(frameAt(r, 30).waterfall.rows);
  });
});

describe('playback', () => {
  const r = prepareReplay(trace());

  it('steps between event times', () => {
    expect(nextStop(r, 0)).toBe(1);
    expect(nextStop(r, 22.5)).toBe(40);
    expect(nextStop(r, 2003)).toBe(2003);
    expect(prevStop(r, 40)).toBe(22);
    expect(prevStop(r, 0.5)).toBe(0);
  });

  it('real time: elapsed x speed, stopping at the end', () => {
    expect(advance(r, 10, 100, 0.25, 'real')).toEqual({ t: 35, carryMs: 0 });
    expect(advance(r, 10, 100, 8, 'real')).toEqual({ t: 810, carryMs: 0 });
    expect(advance(r, 2000, 100, 8, 'real').t).toBe(2003);
  });

  it('event by event: one stop per beat, faster with speed, keeping the part of a beat waited', () => {
    expect(advance(r, 0, STEP_BEAT_MS - 1, 1, 'steps')).toEqual({ t: 0, carryMs: STEP_BEAT_MS - 1 });
    expect(advance(r, 0, 1, 1, 'steps', STEP_BEAT_MS - 1)).toEqual({ t: 1, carryMs: 0 });
    // At 4x a beat is a quarter as long: four stops (1, 2, 20, 21) in one 1x beat.
    expect(advance(r, 0, STEP_BEAT_MS, 4, 'steps')).toEqual({ t: 21, carryMs: 0 });
    expect(advance(r, 60, 10 * STEP_BEAT_MS, 1, 'steps')).toEqual({ t: 2003, carryMs: 0 });
  });

  it('captions each event in words', () => {
    const e = r.events;
    expect(describeEvent(null)).toMatch(/before the first event/);
    expect(describeEvent(e[0])).toBe('started with 2 seeds from the routing table');
    expect(describeEvent(e[1])).toBe('asked 80000000 (hop 1)');
    expect(describeEvent(e[3])).toBe('80000000 answered in 19 ms with 2 nodes');
    expect(describeEvent(e[10])).toBe('40000000 timed out after 2.00 s');
    expect(describeEvent(e[11])).toBe('done: converged, 3 hops, 5 messages');
  });
});

describe('the replay graph', () => {
  const r = prepareReplay(trace());

  it('draws the lookup from the trace alone, around its origin: no health from our table of today', () => {
    const m = buildReplayGraph({ origin: SELF, ourId: SELF, overlay: frameAt(r, 30).overlay, selected: null });
    const kinds = Object.fromEntries([...m.nodes.values()].filter((n) => n.kind !== 'ring').map((n) => [n.ref.slice(0, 2), n.kind]));
    expect(kinds).toEqual({ '00': 'self', '80': 'ghost', e0: 'ghost', '40': 'ghost', c0: 'ghost', f0: 'target' });
    expect(m.nodes.get(nodeId(SELF))?.label).toBe('you');
    // Coloured by what each did in the lookup by then, never by a health state (h-good, h-bad, …).
    expect([...m.nodes.values()].some((n) => /\bh-/.test(n.classes))).toBe(false);
    expect(m.nodes.get(nodeId(A.id))?.classes).toContain('lk-answered');
    expect(m.nodes.get(nodeId(D.id))?.classes).toContain('lk-queried');
    expect(m.nodes.get(nodeId(B.id))?.classes).toContain('lk-queried');
    expect(m.nodes.has(targetId(TARGET))).toBe(true);
    // Buckets from the origin: A 0x80 is bucket 0, B 0x40 bucket 1, C and D (0xc0, 0xe0) bucket 0.
    expect([...m.nodes.values()].filter((n) => n.kind === 'ring').map((n) => n.id).sort()).toEqual([ringId(0), ringId(1)]);
    expect(m.edges.size).toBeGreaterThan(0);
  });

  it('a trace from another machine: every peer a ghost, the centre named as the origin, and us as "you"', () => {
    const ourId = C.id; // the other node's lookup asked us
    const m = buildReplayGraph({ origin: SELF, ourId, overlay: frameAt(r, r.durationMs).overlay, selected: null });
    const peers = [...m.nodes.values()].filter((n) => n.kind === 'peer' || n.kind === 'ghost');
    expect(peers.every((n) => n.kind === 'ghost')).toBe(true);
    expect(peers).toHaveLength(5);
    expect(m.nodes.get(nodeId(SELF))?.label).toBe('origin 00000000');
    expect(m.nodes.get(nodeId(C.id))?.label).toBe('you');
    expect(m.nodes.get(nodeId(E.id))?.classes).toContain('lk-closest');
  });
});

describe('the replay graph in a crowd', () => {
  // A dense cluster: X (0x80) names twelve peers whose ids begin f001..f00c, next to the
  // target f0 00…: round 2 asks them all, so twelve arrows from X end a few px apart, and the
  // nearest of them sits where the target's star would be drawn.
  const X = c('80', 5000);
  // Bits 64.. (which push a node in or out within its ring) differ, so they are not all on one spot.
  const crowd = Array.from({ length: 12 }, (_, i) => c(`f0${(i + 1).toString(16).padStart(2, '0')}000000000000${((i * 37) % 256).toString(16).padStart(2, '0')}`, 5001 + i));
  function crowdTrace(): Trace {
    const at = (t: number) => ({ ...L, at: START + t });
    const ev: LookupEvent[] = [
      { ...at(0), type: 'started', kind: 'find-node', target: TARGET, self: SELF, k: 8, alpha: 3, rpcTimeoutMs: 1000, lookupTimeoutMs: 60_000, seeds: [X] },
      { ...at(1), type: 'query', peer: X, hop: 1, bytes: 70 },
      { ...at(10), type: 'response', peer: X, hop: 1, rttMs: 9, bytes: 600, nodes: crowd },
      ...crowd.map((p, i): LookupEvent => ({ ...at(11 + i), type: 'query', peer: p, hop: 2, bytes: 70 })),
      ...crowd.map((p, i): LookupEvent => ({ ...at(40 + i), type: 'response', peer: p, hop: 2, rttMs: 20, bytes: 100, nodes: [] })),
      { ...at(60), type: 'done', reason: 'converged', closest: crowd.slice(0, 8), hops: 2, messages: 13, durationMs: 60, timeToClosestMs: 52 },
    ];
    const b = new TraceBuilder();
    for (const e of ev) b.ingest(e);
    return b.trace!;
  }
  const r = prepareReplay(crowdTrace());
  const graph = (unitsPerPx: number, t = r.durationMs): GraphModel => buildReplayGraph({ origin: SELF, ourId: SELF, overlay: frameAt(r, t).overlay, selected: null, unitsPerPx });
  const labelled = (m: GraphModel) => [...m.edges.values()].filter((e) => /\broute\b/.test(e.classes) && e.label);
  const midpoint = (m: GraphModel, e: { source: string; target: string }) => {
    const s = m.nodes.get(e.source)!;
    const t = m.nodes.get(e.target)!;
    return { x: (s.x + t.x) / 2, y: (s.y + t.y) / 2 };
  };

  it('numbers every arrow where there is room', () => {
    // Zoomed far in (0.01 graph units a pixel) every label fits.
    const m = graph(0.01);
    expect(labelled(m)).toHaveLength(13);
  });

  it('leaves off the round numbers that would overlap, so no two drawn ones touch', () => {
    const u = 4; // a lookup fitted into a small box
    const m = graph(u);
    const shown = labelled(m);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(13);
    // Two one-digit labels overlap when their centres are closer than a label's height (in graph units).
    const labelHeight = REPLAY_PX.roundFont * 1.4 * u;
    for (let i = 0; i < shown.length; i++)
      for (let j = i + 1; j < shown.length; j++) {
        const a = midpoint(m, shown[i]);
        const b = midpoint(m, shown[j]);
        expect(Math.abs(a.x - b.x) >= labelHeight || Math.abs(a.y - b.y) >= labelHeight).toBe(true);
      }
    // The ones left off are still arrows (the tooltip gives their round).
    expect([...m.edges.values()].filter((e) => /\broute\b/.test(e.classes))).toHaveLength(13);
  });

  it('keeps the target star clear of every peer at the replay’s size, however crowded', () => {
    for (const u of [1, 3, 6]) {
      const m = graph(u);
      const star = m.nodes.get(targetId(TARGET))!;
      const clearance = ((REPLAY_PX.target + REPLAY_PX.closest) / 2) * u;
      for (const n of m.nodes.values()) {
        if (n.kind !== 'ghost') continue;
        expect(Math.hypot(n.x - star.x, n.y - star.y), `star vs ${n.ref.slice(0, 4)} at ${u} units/px`).toBeGreaterThanOrEqual(clearance);
      }
    }
  });

  it('names the peers it waits for only where the names do not collide', () => {
    // Mid-way through round 2 all twelve are asked: the names that fit show, the others wait for a hover.
    const m = graph(4, 30);
    const asked = [...m.nodes.values()].filter((n) => /\blk-queried\b/.test(n.classes));
    expect(asked).toHaveLength(12);
    const named = asked.filter((n) => n.label !== '');
    expect(named.length).toBeGreaterThan(0);
    expect(named.length).toBeLessThan(12);
    expect(m.nodes.get(nodeId(SELF))?.label).toBe('you');
    expect(m.nodes.get(targetId(TARGET))?.label).toMatch(/^target /);
  });

  it('is framed by the whole lookup, with the origin’s and target’s labels, whatever moment is shown', () => {
    const u = 3;
    const end = graph(u);
    const b = replayBounds(end, u)!;
    for (const n of end.nodes.values()) {
      const r = n.kind === 'ring' ? n.size! / 2 : 0;
      expect(n.x - r).toBeGreaterThanOrEqual(b.x1);
      expect(n.x + r).toBeLessThanOrEqual(b.x2);
      expect(n.y - r).toBeGreaterThanOrEqual(b.y1);
      expect(n.y + r).toBeLessThanOrEqual(b.y2);
    }
    // The star's label sits below or above it, inside the frame.
    const star = end.nodes.get(targetId(TARGET))!;
    expect(b.y2 - star.y >= REPLAY_PX.bigFont * u || star.y - b.y1 >= REPLAY_PX.bigFont * u).toBe(true);
    // At the start only the seed is drawn; the frame is the end's.
    expect(graph(u, 0).nodes.size).toBeLessThan(end.nodes.size);
  });
});
