// From live state to the graph's elements: a pure function, so what the graph shows is testable
// without a canvas. The cytoscape wrapper diffs successive models (diff.ts) and applies the changes.
import type { PeerInfo } from '../state/contract-types';
import type { LookupOverlay } from '../state/lookup-model';
import { bucketOf, shortId } from '../lib/id';
import { positionOf, ringRadius } from './geometry';
import { starClearance, thinLabels, type LabelLayout } from './labels';
import { GRAPH_SIZES } from './style';

export type GraphNodeKind = 'self' | 'peer' | 'ghost' | 'target' | 'ring';

export interface GraphNode {
  /** Element id: 'n:<hex>' for nodes, 't:<hex>' for a lookup target, 'ring:<bucket>'. */
  id: string;
  kind: GraphNodeKind;
  x: number;
  y: number;
  /** Space-separated, sorted: equal sets compare equal as strings. */
  classes: string;
  label: string;
  /** The hex id (or bucket number for rings). */
  ref: string;
  /** Rings only: diameter. */
  size?: number;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  classes: string;
  /** Route edges: the round that asked the peer the arrow points to. */
  label?: string;
}

export interface GraphModel {
  nodes: Map<string, GraphNode>;
  edges: Map<string, GraphEdge>;
}

export interface GraphInput {
  self: string | null;
  peers: Iterable<PeerInfo>;
  /** Draw at most this many peers, nearest buckets first. */
  maxPeers: number;
  overlay: LookupOverlay | null;
  /** Pulse phase for peers queried by a running lookup. */
  pulse: boolean;
  /** Lowercase hex prefix; '' for no search. */
  search: string;
  selected: string | null;
  /** How far the target star keeps from any node, graph units (default TARGET_CLEARANCE). */
  targetClearance?: number;
  /**
   * Which labels fit (graph/labels.ts): default GRAPH_LABELS, the Graph view's sizes; null leaves
   * every label on (a caller that relabels the model thins it itself).
   */
  labels?: LabelLayout | null;
}

export const nodeId = (hex: string): string => `n:${hex}`;
export const targetId = (hex: string): string => `t:${hex}`;
export const ringId = (bucket: number): string => `ring:${bucket}`;
export const edgeId = (from: string, to: string): string => `e:${from}>${to}`;

/** Positions are pure functions of (self, id, bucket): cached, bounded, cleared when self changes. */
const MAX_CACHED_POSITIONS = 50_000;
const positions = new Map<string, { x: number; y: number }>();
let positionsSelf = '';
function cachedPosition(self: string, id: string, bucket: number): { x: number; y: number } {
  if (self !== positionsSelf || positions.size >= MAX_CACHED_POSITIONS) {
    positions.clear();
    positionsSelf = self;
  }
  const key = `${bucket}:${id}`;
  let p = positions.get(key);
  if (!p) positions.set(key, (p = positionOf(self, id, bucket)));
  return p;
}

/**
 * How far the target star keeps from any node, graph units: half the star (18 across), half a
 * closest node (16) and a gap, so the star touches none (it was 16, and sat on the nearest peer).
 */
export const TARGET_CLEARANCE = starClearance(GRAPH_SIZES, 1);

/**
 * The Graph view's label thinning: its round numbers compete for room with each other, the nodes
 * of the lookup and the centre's and target's labels; the peers' own names (drawn only when zoomed
 * in, and for every peer of the table alike) are left to the zoom.
 */
export const GRAPH_LABELS: LabelLayout = { sizes: GRAPH_SIZES, unitsPerPx: 1, peerLabelShown: () => false };
const MAX_TARGET_NUDGES = 12;

/**
 * The target's place, moved outward along its own radius until no node is within TARGET_CLEARANCE:
 * the nearest answering node often has nearly the target's id, and the star then hid it (and their
 * labels overlapped). The angle, which is what the id says, is kept.
 */
export function clearOfNodes(p: { x: number; y: number }, nodes: ReadonlyMap<string, GraphNode>, clearance = TARGET_CLEARANCE): { x: number; y: number } {
  const r = Math.hypot(p.x, p.y);
  if (r === 0) return p;
  const ux = p.x / r;
  const uy = p.y / r;
  let at = p;
  for (let i = 0; i < MAX_TARGET_NUDGES; i++) {
    let clear = true;
    for (const n of nodes.values()) {
      if (n.kind !== 'ring' && n.kind !== 'target' && Math.hypot(n.x - at.x, n.y - at.y) < clearance) {
        clear = false;
        break;
      }
    }
    if (clear) return at;
    const d = r + (i + 1) * clearance;
    at = { x: Math.round(ux * d * 100) / 100, y: Math.round(uy * d * 100) / 100 };
  }
  return at;
}

const cls = (...names: (string | false | null | undefined)[]): string => names.filter((n): n is string => !!n).sort().join(' ');

export interface GraphStats {
  drawn: number;
  total: number;
  matches: number;
}

export function buildGraphModel(input: GraphInput): { model: GraphModel; stats: GraphStats } {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const self = input.self;
  const all = [...input.peers];
  if (!self) return { model: { nodes, edges }, stats: { drawn: 0, total: all.length, matches: 0 } };

  // Nearest buckets first when there are more peers than we draw: those are the ones lookups end at.
  const peers = all.length > input.maxPeers ? [...all].sort((a, b) => b.bucket - a.bucket).slice(0, input.maxPeers) : all;
  const overlay = input.overlay;
  const searching = input.search !== '';
  let matches = 0;

  const buckets = new Set<number>();
  for (const p of peers) buckets.add(p.bucket);
  for (const b of buckets) {
    const r = ringRadius(b);
    nodes.set(ringId(b), { id: ringId(b), kind: 'ring', x: 0, y: 0, classes: 'ring', label: `bucket ${b}`, ref: String(b), size: Math.round(r * 2) });
  }

  // A lookup's target near us in ID space sits close to the centre: its label goes on its outer side
  // (above it when it is above us) and ours on the other, so the two never overlap.
  const targetPos = overlay?.target && overlay.target !== self ? positionOf(self, overlay.target) : null;
  nodes.set(nodeId(self), {
    id: nodeId(self),
    kind: 'self',
    x: 0,
    y: 0,
    classes: cls('self', targetPos !== null && targetPos.y >= 0 && 'label-above', input.selected === self && 'selected', searching && !self.startsWith(input.search) && 'dim'),
    label: 'you',
    ref: self,
  });

  for (const p of peers) {
    const pos = cachedPosition(self, p.id, p.bucket);
    const lk = overlay?.peers.get(p.id);
    const match = searching && p.id.startsWith(input.search);
    if (match) matches++;
    nodes.set(nodeId(p.id), {
      id: nodeId(p.id),
      kind: 'peer',
      ...pos,
      classes: cls(
        'peer',
        `h-${p.state}`,
        lk && `lk-${lk}`,
        lk === 'queried' && overlay?.running && input.pulse && 'pulse',
        overlay?.closest.has(p.id) && 'lk-closest',
        input.selected === p.id && 'selected',
        match && 'match',
        searching && !match && 'dim',
        overlay && !lk && !searching && 'faded',
      ),
      label: shortId(p.id),
      ref: p.id,
    });
  }

  if (overlay) {
    // Nodes the lookup met that are not in our table: drawn hollow where their id puts them.
    for (const [id, c] of overlay.contacts) {
      const nid = nodeId(id);
      if (nodes.has(nid) || id === self) continue;
      const b = bucketOf(self, id);
      const lk = overlay.peers.get(id);
      nodes.set(nid, {
        id: nid,
        kind: 'ghost',
        ...positionOf(self, id, b),
        classes: cls('ghost', lk && `lk-${lk}`, lk === 'queried' && overlay.running && input.pulse && 'pulse', overlay.closest.has(id) && 'lk-closest', input.selected === id && 'selected'),
        label: shortId(c.id),
        ref: id,
      });
    }
    if (overlay.target && targetPos !== null) {
      const tid = targetId(overlay.target);
      nodes.set(tid, { id: tid, kind: 'target', ...clearOfNodes(targetPos, nodes, input.targetClearance), classes: cls('target', targetPos.y < 0 && 'label-above'), label: `target ${shortId(overlay.target)}`, ref: overlay.target });
    }
    // The route: an arrow per peer asked, from whoever named it, labelled with its round; the goal
    // arrow from the nearest answering node to the target once the lookup is done.
    for (const e of overlay.edges) {
      const s = nodeId(e.from);
      const t = e.kind === 'goal' ? targetId(e.to) : nodeId(e.to);
      if (!nodes.has(s) || !nodes.has(t)) continue;
      const id = edgeId(e.from, e.kind === 'goal' ? `t:${e.to}` : e.to);
      const lk = e.kind === 'route' ? overlay.peers.get(e.to) : undefined;
      edges.set(id, { id, source: s, target: t, classes: cls(e.kind, lk && `to-${lk}`), label: e.kind === 'route' ? String(e.round) : '' });
    }
    const labels = input.labels === undefined ? GRAPH_LABELS : input.labels;
    if (labels) thinLabels({ nodes, edges }, labels);
  }
  return { model: { nodes, edges }, stats: { drawn: peers.length, total: all.length, matches } };
}
