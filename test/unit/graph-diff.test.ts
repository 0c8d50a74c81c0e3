// The graph view's pure parts: ID-space geometry, state -> elements, and the element diff the
// cytoscape wrapper applies in one batch.
import { describe, expect, it } from 'vitest';
import { diffGraph, isEmpty } from '../../renderer/graph/diff';
import { OUTER_RING_RADIUS, idAngle, positionOf, ringRadius } from '../../renderer/graph/geometry';
import { TARGET_CLEARANCE, buildGraphModel, edgeId, nodeId, ringId, targetId, type GraphInput, type GraphModel } from '../../renderer/graph/model';
import { routeNote, starClearance, thinLabels } from '../../renderer/graph/labels';
import { GRAPH_SIZES } from '../../renderer/graph/style';
import { REPLAY_PX, buildReplayGraph } from '../../renderer/trace/graph';
import { bucketOf, commonPrefixBits } from '../../renderer/lib/id';
import { buildOverlay, applyLookupEvent, type LookupModel } from '../../renderer/state/lookup-model';
import type { LookupEvent, PeerInfo } from '../../electron/host/contract';

// Ids by their leading hex digits; the rest is filler so each is 64 hex characters.
const id = (prefix: string, fill = '0'): string => prefix.padEnd(64, fill);
const SELF = id('0'); //          0000…
const FAR = id('8'); //           1000…  bucket 0 (first bit differs)
const FAR2 = id('c'); //          1100…  bucket 0
const MID = id('2'); //           0010…  bucket 2
const NEAR = id('01'); //         0000 0001… bucket 7

function peer(hex: string, state: PeerInfo['state'] = 'good'): PeerInfo {
  return { id: hex, host: '127.0.0.1', port: 4000, bucket: bucketOf(SELF, hex), addedAt: 0, state, rttMs: 3, lastSeen: 0, failures: 0, answered: 1, queried: 1 };
}

function input(over: Partial<GraphInput> = {}): GraphInput {
  return { self: SELF, peers: [peer(FAR), peer(MID), peer(NEAR)], maxPeers: 5000, overlay: null, pulse: false, search: '', selected: null, ...over };
}

describe('id bits', () => {
  it('counts the shared prefix in bits', () => {
    expect(commonPrefixBits(SELF, FAR)).toBe(0);
    expect(commonPrefixBits(SELF, MID)).toBe(2);
    expect(commonPrefixBits(SELF, NEAR)).toBe(7);
    expect(bucketOf(SELF, SELF)).toBe(-1);
  });
});

describe('geometry', () => {
  it('puts closer buckets nearer the centre', () => {
    const r = (hex: string) => Math.hypot(positionOf(SELF, hex).x, positionOf(SELF, hex).y);
    expect(r(FAR)).toBeGreaterThan(r(MID));
    expect(r(MID)).toBeGreaterThan(r(NEAR));
    expect(positionOf(SELF, SELF)).toEqual({ x: 0, y: 0 });
    expect(ringRadius(0)).toBe(OUTER_RING_RADIUS);
  });

  it('takes the angle from the leading bits: 0x8… is half way round, 0xc… three quarters', () => {
    expect(idAngle(FAR)).toBeCloseTo(Math.PI);
    expect(idAngle(FAR2)).toBeCloseTo(1.5 * Math.PI);
    const p = positionOf(SELF, FAR);
    expect(p.y).toBeGreaterThan(0); // half way round from the top is the bottom
    expect(Math.abs(p.x)).toBeLessThan(1);
  });

  it('is deterministic', () => {
    expect(positionOf(SELF, MID)).toEqual(positionOf(SELF, MID));
  });
});

describe('buildGraphModel', () => {
  it('draws self, each peer coloured by health and a ring per bucket', () => {
    const { model, stats } = buildGraphModel(input({ peers: [peer(FAR, 'bad'), peer(MID), peer(NEAR, 'questionable')] }));
    expect(stats).toEqual({ drawn: 3, total: 3, matches: 0 });
    expect(model.nodes.get(nodeId(SELF))?.kind).toBe('self');
    expect(model.nodes.get(nodeId(FAR))?.classes).toBe('h-bad peer');
    expect(model.nodes.get(nodeId(NEAR))?.classes).toBe('h-questionable peer');
    expect([...model.nodes.keys()].filter((k) => k.startsWith('ring:')).sort()).toEqual([ringId(0), ringId(2), ringId(7)]);
  });

  it('draws the nearest buckets first when capped', () => {
    const { model, stats } = buildGraphModel(input({ maxPeers: 1 }));
    expect(stats.drawn).toBe(1);
    expect(model.nodes.has(nodeId(NEAR))).toBe(true);
    expect(model.nodes.has(nodeId(FAR))).toBe(false);
  });

  it('marks search matches and dims the rest', () => {
    const { model, stats } = buildGraphModel(input({ search: '2' }));
    expect(stats.matches).toBe(1);
    expect(model.nodes.get(nodeId(MID))?.classes).toContain('match');
    expect(model.nodes.get(nodeId(FAR))?.classes).toContain('dim');
  });

  it('overlays a lookup: states, the route with its rounds, ghost nodes and the target', () => {
    const GHOST = id('d'); //  1101… bucket 0, not in our table; XOR to the target c… is 0001…: close
    const CLOSE = id('e'); //  1110… bucket 0, XOR to c… is 0010…: closer than FAR (0100…), never queried
    const events: LookupEvent[] = [
      { lookupId: 'L', at: 100, type: 'started', kind: 'find-node', target: FAR2, self: SELF, k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [peer(FAR), peer(MID)] },
      { lookupId: 'L', at: 101, type: 'query', peer: peer(FAR), hop: 1, bytes: 60 },
      { lookupId: 'L', at: 102, type: 'query', peer: peer(MID), hop: 1, bytes: 60 },
      {
        lookupId: 'L',
        at: 110,
        type: 'response',
        peer: peer(FAR),
        hop: 1,
        rttMs: 9,
        bytes: 300,
        nodes: [GHOST, CLOSE, NEAR].map((x) => ({ id: x, host: '127.0.0.1', port: 5 })),
      },
      { lookupId: 'L', at: 111, type: 'query', peer: { id: GHOST, host: '127.0.0.1', port: 5 }, hop: 2, bytes: 60 },
    ];
    let m: LookupModel | undefined;
    for (const e of events) m = applyLookupEvent(m, e);
    const overlay = buildOverlay(m!);
    const { model } = buildGraphModel(input({ peers: [peer(FAR), peer(MID), peer(NEAR), peer(CLOSE)], overlay, pulse: true }));
    expect(model.nodes.get(nodeId(FAR))?.classes).toContain('lk-answered');
    expect(model.nodes.get(nodeId(MID))?.classes).toContain('lk-queried');
    expect(model.nodes.get(nodeId(MID))?.classes).toContain('pulse');
    expect(model.nodes.get(nodeId(NEAR))?.classes).toContain('faded');
    expect(model.nodes.get(nodeId(GHOST))?.kind).toBe('ghost');
    expect(model.nodes.get(nodeId(GHOST))?.classes).toContain('lk-queried');
    expect(model.nodes.get(targetId(FAR2))?.kind).toBe('target');
    // The route only: we asked FAR and MID (round 1, MID still waited for), FAR named GHOST, which
    // round 2 asked. FAR's other referrals (CLOSE, NEAR) were never asked: no arrow to them.
    expect(Object.fromEntries([...model.edges.values()].map((e) => [e.id, [e.classes, e.label]]))).toEqual({
      [edgeId(SELF, FAR)]: ['route to-answered', '1'],
      [edgeId(SELF, MID)]: ['route to-queried', '1'],
      [edgeId(FAR, GHOST)]: ['route to-queried', '2'],
    });

    // A target's label goes on its outer side and ours on the other: f… is near the top (above the
    // centre), 6… is below it.
    const withTarget = (t: string) => buildGraphModel(input({ overlay: buildOverlay(applyLookupEvent(undefined, { ...events[0], target: t } as LookupEvent)) })).model;
    const above = withTarget(id('f'));
    expect(above.nodes.get(targetId(id('f')))!.y).toBeLessThan(0);
    expect(above.nodes.get(targetId(id('f')))?.classes).toContain('label-above');
    expect(above.nodes.get(nodeId(SELF))?.classes).not.toContain('label-above');
    const below = withTarget(id('6'));
    expect(below.nodes.get(targetId(id('6')))!.y).toBeGreaterThan(0);
    expect(below.nodes.get(targetId(id('6')))?.classes).not.toContain('label-above');
    expect(below.nodes.get(nodeId(SELF))?.classes).toContain('label-above');
    // Without a lookup, our label is where it always was.
    expect(buildGraphModel(input()).model.nodes.get(nodeId(SELF))?.classes).not.toContain('label-above');

    // Its timeout turns the peer red.
    m = applyLookupEvent(m, { lookupId: 'L', at: 2102, type: 'timeout', peer: peer(MID), hop: 1, afterMs: 2000 });
    const after = buildGraphModel(input({ overlay: buildOverlay(m) })).model;
    expect(after.nodes.get(nodeId(MID))?.classes).toContain('lk-timeout');
    expect(after.edges.get(edgeId(SELF, MID))?.classes).toBe('route to-timeout');
    // Done: an arrow from the nearest answering node to the target says where the lookup arrived.
    m = applyLookupEvent(m, { lookupId: 'L', at: 2103, type: 'done', reason: 'converged', closest: [peer(FAR)], hops: 1, messages: 3, durationMs: 2003, timeToClosestMs: 10 });
    const done = buildGraphModel(input({ overlay: buildOverlay(m) })).model;
    expect(done.edges.get(edgeId(FAR, targetId(FAR2)))).toMatchObject({ source: nodeId(FAR), target: targetId(FAR2), classes: 'goal' });
  });
});

describe('the target star', () => {
  it('moves outward along its own angle until no node is under it', () => {
    // A peer with nearly the target's id sits where the target would: the star steps out past it.
    const target = id('8', '1'); // 1000… like FAR, differing only in low bits
    const started: LookupEvent = { lookupId: 'T', at: 0, type: 'started', kind: 'find-node', target, self: SELF, k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [peer(FAR)] };
    const { model } = buildGraphModel(input({ overlay: buildOverlay(applyLookupEvent(undefined, started)) }));
    const star = model.nodes.get(targetId(target))!;
    const far = model.nodes.get(nodeId(FAR))!;
    const plain = positionOf(SELF, target);
    expect(Math.hypot(plain.x - far.x, plain.y - far.y)).toBeLessThan(TARGET_CLEARANCE);
    expect(Math.hypot(star.x - far.x, star.y - far.y)).toBeGreaterThanOrEqual(TARGET_CLEARANCE);
    expect(Math.atan2(star.x, -star.y)).toBeCloseTo(Math.atan2(plain.x, -plain.y), 4);
  });
});

describe('diffGraph', () => {
  it('adds everything into an empty graph and nothing on an identical one', () => {
    const { model } = buildGraphModel(input());
    const first = diffGraph({ nodes: new Map(), edges: new Map() }, model);
    expect(first.addNodes).toHaveLength(model.nodes.size);
    expect(isEmpty(diffGraph(model, buildGraphModel(input()).model))).toBe(true);
  });

  it('changes only the class of a peer whose health changed', () => {
    const a = buildGraphModel(input()).model;
    const b = buildGraphModel(input({ peers: [peer(FAR, 'bad'), peer(MID), peer(NEAR)] })).model;
    const c = diffGraph(a, b);
    expect(c.updateNodes).toEqual([{ id: nodeId(FAR), classes: 'h-bad peer' }]);
    expect(c.addNodes.length + c.removeNodes.length + c.addEdges.length + c.removeEdges.length).toBe(0);
  });

  it('removes a peer that left and its now-empty ring', () => {
    const a = buildGraphModel(input()).model;
    const b = buildGraphModel(input({ peers: [peer(FAR), peer(MID)] })).model;
    const c = diffGraph(a, b);
    expect(c.removeNodes.sort()).toEqual([nodeId(NEAR), ringId(7)].sort());
    expect(c.addNodes).toEqual([]);
  });

  it('replaces a node whose kind changed and re-adds its edges', () => {
    const prev = {
      nodes: new Map([
        ['n:a', { id: 'n:a', kind: 'ghost' as const, x: 0, y: 0, classes: 'ghost', label: 'a', ref: 'a' }],
        ['n:b', { id: 'n:b', kind: 'peer' as const, x: 1, y: 1, classes: 'peer', label: 'b', ref: 'b' }],
      ]),
      edges: new Map([['e:b>a', { id: 'e:b>a', source: 'n:b', target: 'n:a', classes: 'answer' }]]),
    };
    const next = {
      nodes: new Map([
        ['n:a', { id: 'n:a', kind: 'peer' as const, x: 0, y: 0, classes: 'peer', label: 'a', ref: 'a' }],
        ['n:b', prev.nodes.get('n:b')!],
      ]),
      edges: prev.edges,
    };
    const c = diffGraph(prev, next);
    expect(c.removeNodes).toEqual(['n:a']);
    expect(c.addNodes.map((n) => n.id)).toEqual(['n:a']);
    expect(c.addEdges.map((e) => e.id)).toEqual(['e:b>a']);
  });

  it('ignores sub-epsilon moves and reports real ones', () => {
    const a = buildGraphModel(input()).model;
    const b = { nodes: new Map(a.nodes), edges: a.edges };
    const far = a.nodes.get(nodeId(FAR))!;
    b.nodes.set(far.id, { ...far, x: far.x + 0.1 });
    expect(isEmpty(diffGraph(a, b))).toBe(true);
    b.nodes.set(far.id, { ...far, x: far.x + 10 });
    expect(diffGraph(a, b).updateNodes).toEqual([{ id: far.id, position: { x: far.x + 10, y: far.y } }]);
  });
});

describe('the route in a crowd (the Graph view)', () => {
  // Two dense clusters, as a loopback testnet's lookup draws them. A fan from us: eight seeds
  // a0…a7 (1.4° apart, bucket 0), all asked in round 1. A crowd next to the target f0 00…: X (0x80)
  // names twelve peers f001…f00c, asked in round 2, whose arrows end a few units apart. Bits 64..
  // (which push a node in or out within its ring) differ, so the crowd is not all on one spot.
  const TARGET = id('f0');
  const X = id('8');
  const fan = Array.from({ length: 8 }, (_, i) => id(`a${i}`));
  const crowd = Array.from({ length: 12 }, (_, i) => id(`f0${(i + 1).toString(16).padStart(2, '0')}000000000000${((i * 37) % 256).toString(16).padStart(2, '0')}`));
  const contact = (hex: string) => ({ id: hex, host: '127.0.0.1', port: 4000 });
  function crowdOverlay() {
    const ev: LookupEvent[] = [
      { lookupId: 'C', at: 0, type: 'started', kind: 'find-node', target: TARGET, self: SELF, k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [X, ...fan].map(contact) },
      ...[X, ...fan].map((p, i): LookupEvent => ({ lookupId: 'C', at: 1 + i, type: 'query', peer: contact(p), hop: 1, bytes: 60 })),
      { lookupId: 'C', at: 20, type: 'response', peer: contact(X), hop: 1, rttMs: 9, bytes: 600, nodes: crowd.map(contact) },
      ...fan.map((p, i): LookupEvent => ({ lookupId: 'C', at: 21 + i, type: 'response', peer: contact(p), hop: 1, rttMs: 9, bytes: 60, nodes: [] })),
      ...crowd.map((p, i): LookupEvent => ({ lookupId: 'C', at: 40 + i, type: 'query', peer: contact(p), hop: 2, bytes: 60 })),
      ...crowd.map((p, i): LookupEvent => ({ lookupId: 'C', at: 60 + i, type: 'response', peer: contact(p), hop: 2, rttMs: 9, bytes: 60, nodes: [] })),
      { lookupId: 'C', at: 80, type: 'done', reason: 'converged', closest: crowd.slice(0, 8).map(contact), hops: 2, messages: 21, durationMs: 80, timeToClosestMs: 71 },
    ];
    let m: LookupModel | undefined;
    for (const e of ev) m = applyLookupEvent(m, e);
    return buildOverlay(m!);
  }
  const overlay = crowdOverlay();
  const { model } = buildGraphModel(input({ peers: [X, ...fan, ...crowd].map((h) => peer(h)), overlay }));
  const routes = [...model.edges.values()].filter((e) => /\broute\b/.test(e.classes));
  const shown = routes.filter((e) => e.label);
  const mid = (e: { source: string; target: string }) => {
    const s = model.nodes.get(e.source)!;
    const t = model.nodes.get(e.target)!;
    return { x: (s.x + t.x) / 2, y: (s.y + t.y) / 2 };
  };

  it('numbers the arrows only where a number has room: no two drawn numbers touch', () => {
    expect(routes).toHaveLength(21); // every peer asked keeps its arrow
    expect(shown.length).toBeGreaterThan(1);
    expect(shown.length).toBeLessThan(21);
    // Two one-digit numbers overlap when their centres are closer than a number's height.
    const h = GRAPH_SIZES.roundFont * 1.4;
    for (let i = 0; i < shown.length; i++)
      for (let j = i + 1; j < shown.length; j++) {
        const a = mid(shown[i]);
        const b = mid(shown[j]);
        expect(Math.abs(a.x - b.x) >= h || Math.abs(a.y - b.y) >= h, `${shown[i].id} and ${shown[j].id}`).toBe(true);
      }
    // Both rounds keep at least one number: the fan's and the crowd's.
    expect(new Set(shown.map((e) => e.label))).toEqual(new Set(['1', '2']));
  });

  it('keeps no number on a node of the lookup', () => {
    const lookupNodes = [...model.nodes.values()].filter((n) => /\blk-/.test(n.classes));
    for (const e of shown) {
      const p = mid(e);
      for (const n of lookupNodes) {
        const r = (/\blk-closest\b/.test(n.classes) ? GRAPH_SIZES.closest : GRAPH_SIZES.node) / 2 + GRAPH_SIZES.roundFont / 2;
        expect(Math.hypot(p.x - n.x, p.y - n.y), `${e.id} on ${n.ref.slice(0, 4)}`).toBeGreaterThanOrEqual(r);
      }
    }
  });

  it('keeps the star clear of every peer as drawn (half a star and half a closest node apart)', () => {
    // NEXT has the target's leading 64 bits; its bits 64.. (0x49db) put it 16.5 units outward of
    // the target's spot: less than half the star plus half a closest node (17), so the star that
    // stayed there (16 units of clearance) was drawn over it.
    const NEXT = id(`${'f0'.padEnd(16, '0')}49db`);
    const started: LookupEvent = { lookupId: 'N', at: 0, type: 'started', kind: 'find-node', target: TARGET, self: SELF, k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [contact(NEXT)] };
    const withNext = buildGraphModel(input({ peers: [X, NEXT].map((h) => peer(h)), overlay: buildOverlay(applyLookupEvent(undefined, started)) })).model;
    const star = withNext.nodes.get(targetId(TARGET))!;
    for (const n of withNext.nodes.values()) {
      if (n.kind !== 'peer') continue;
      expect(Math.hypot(n.x - star.x, n.y - star.y), n.ref.slice(0, 6)).toBeGreaterThanOrEqual((GRAPH_SIZES.target + GRAPH_SIZES.closest) / 2);
    }
  });

  it('says on hover what a left-off number said, and leaves the peers’ own names to the zoom', () => {
    expect(routeNote(overlay, crowd[3])).toBe(`asked in round 2, named by ${X.slice(0, 8)}`);
    expect(routeNote(overlay, fan[0])).toBe('asked in round 1, a seed');
    expect(routeNote(overlay, SELF)).toBeNull();
    for (const h of [...fan, ...crowd]) expect(model.nodes.get(nodeId(h))?.label).toBe(h.slice(0, 8));
  });

  it('is the replay’s thinning: the same model thinned at the replay’s sizes matches buildReplayGraph', () => {
    // One implementation: the replay calls thinLabels with its sizes, the Graph view with its own.
    const u = 3;
    const replay = buildReplayGraph({ origin: SELF, ourId: SELF, overlay, selected: null, unitsPerPx: u });
    const relabelled = buildGraphModel(input({ peers: [], overlay, labels: null, targetClearance: starClearance(REPLAY_PX, u) })).model;
    thinLabels(relabelled, { sizes: REPLAY_PX, unitsPerPx: u, peerLabelShown: (n) => /\b(lk-queried|selected)\b/.test(n.classes) });
    const labels = (m: GraphModel) => Object.fromEntries([...m.edges.values()].map((e) => [e.id, e.label]));
    expect(labels(replay)).toEqual(labels(relabelled));
  });
});
