// The replay's graph: the lookup's world at one moment, drawn with the Graph view's own model
// (graph/model.ts) around the node that ran the lookup, from the trace alone. Nothing of today's
// routing table shows: a peer is coloured by what it did in the lookup (asked, answered, timed out)
// or drawn hollow when the lookup only heard of it, so a trace recorded before peers failed does not
// show them red. Labels that would overlap are left off (hovering names the node and its round).
// Pure, so tests check what is drawn without a canvas.
import type cytoscape from 'cytoscape';
import type { LookupOverlay } from '../state/lookup-model';
import { bucketOf, shortId } from '../lib/id';
import { ringRadius } from '../graph/geometry';
import { buildGraphModel, nodeId, ringId, type GraphModel, type GraphNode } from '../graph/model';
import type { Palette } from '../graph/style';

export interface ReplayGraphInput {
  /** The node that ran the lookup: the centre. */
  origin: string;
  /** Our node's id (null before the snapshot): when it is the origin, the centre says "you". */
  ourId: string | null;
  overlay: LookupOverlay;
  selected: string | null;
  /**
   * Graph units per screen pixel at the fitted zoom (1 / zoom): the replay's nodes and labels are
   * sized in screen pixels (replayGraphStyle), so the target's clearance and which labels fit
   * depend on it. Default: a lookup fitted into a box about 360 px tall.
   */
  unitsPerPx?: number;
}

/** Graph units per screen pixel when the zoom is not known yet. */
export const DEFAULT_UNITS_PER_PX = 3.2;

/**
 * Screen sizes, px, of what the replay draws (replayGraphStyle uses the same): node diameters,
 * label fonts, and an average glyph width as a fraction of the font size.
 */
export const REPLAY_PX = {
  node: 9,
  closest: 12,
  self: 20,
  target: 24,
  peerFont: 10,
  bigFont: 12.5,
  roundFont: 9,
  /** Monospace ids; the system font's letters and digits are about as wide on average. */
  glyph: 0.62,
  /** Space kept between two labels, and between a label and a node. */
  gap: 2,
} as const;

export function buildReplayGraph(input: ReplayGraphInput): GraphModel {
  const { origin, overlay } = input;
  const u = input.unitsPerPx ?? DEFAULT_UNITS_PER_PX;
  // Every node the lookup met is drawn from the overlay (kind 'ghost': no health of its own). The
  // star keeps clear of every node as drawn here (sizes in px): half a star, half a peer, a gap.
  const targetClearance = (REPLAY_PX.target / 2 + REPLAY_PX.closest / 2 + 3) * u;
  const { model } = buildGraphModel({ self: origin, peers: [], maxPeers: Number.POSITIVE_INFINITY, overlay, pulse: false, search: '', selected: input.selected, targetClearance });
  // A ring for each bucket a node sits in, so the picture reads as ID space.
  for (const n of model.nodes.values()) {
    if (n.kind !== 'ghost') continue;
    const b = Math.max(0, bucketOf(origin, n.ref));
    const rid = ringId(b);
    if (!model.nodes.has(rid)) model.nodes.set(rid, { id: rid, kind: 'ring', x: 0, y: 0, classes: 'ring', label: `bucket ${b}`, ref: String(b), size: Math.round(ringRadius(b) * 2) });
  }
  if (origin !== input.ourId) {
    const centre = model.nodes.get(nodeId(origin));
    if (centre) centre.label = `origin ${shortId(origin)}`;
    // Another node's lookup may have asked us.
    const us = input.ourId ? model.nodes.get(nodeId(input.ourId)) : undefined;
    if (us) us.label = 'you';
  }
  thinLabels(model, u);
  return model;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const overlaps = (a: Box, b: Box): boolean => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

function nodeDiameterPx(n: GraphNode): number {
  if (n.kind === 'self') return REPLAY_PX.self;
  if (n.kind === 'target') return REPLAY_PX.target;
  return /\blk-closest\b/.test(n.classes) ? REPLAY_PX.closest : REPLAY_PX.node;
}

/** The replay shows a peer's label only while the lookup waits for it (replayGraphStyle). */
const peerLabelShown = (n: GraphNode): boolean => /\b(lk-queried|selected)\b/.test(n.classes);

/** Where things are drawn at `u` graph units per px: node discs and label boxes, in graph units. */
function geometry(u: number) {
  const g = REPLAY_PX.gap * u;
  const disc = (n: GraphNode): Box => {
    const r = n.kind === 'ring' ? (n.size ?? 0) / 2 : (nodeDiameterPx(n) / 2) * u;
    return { x0: n.x - r, y0: n.y - r, x1: n.x + r, y1: n.y + r };
  };
  const textBox = (cx: number, cy: number, text: string, fontPx: number): Box => {
    const w = (text.length * fontPx * REPLAY_PX.glyph) / 2 + REPLAY_PX.gap;
    const h = fontPx * 0.7 + REPLAY_PX.gap;
    return { x0: cx - w * u - g, y0: cy - h * u - g, x1: cx + w * u + g, y1: cy + h * u + g };
  };
  const nodeLabelBox = (n: GraphNode, fontPx: number): Box => {
    // Below the node (text-valign bottom), or above it with label-above.
    const off = (nodeDiameterPx(n) / 2 + 4 + fontPx * 0.7) * u * (/\blabel-above\b/.test(n.classes) ? -1 : 1);
    return textBox(n.x, n.y + off, n.label, fontPx);
  };
  return { disc, textBox, nodeLabelBox };
}

/**
 * Leaves off the labels that would overlap: the origin's and the target's always show; then the
 * peers' names (while asked), then each route arrow's round at its midpoint, each only where it
 * touches no label already placed and no node. In graph units, from the sizes in px times `u`.
 */
function thinLabels(model: GraphModel, u: number): void {
  const { disc, textBox, nodeLabelBox } = geometry(u);
  const placed: Box[] = [];
  const discs: Array<Box & { id: string }> = [];
  for (const n of model.nodes.values()) if (n.kind !== 'ring') discs.push({ id: n.id, ...disc(n) });
  const clear = (b: Box, own: string | null): boolean => !placed.some((p) => overlaps(p, b)) && !discs.some((d) => d.id !== own && overlaps(d, b));
  const nodes = [...model.nodes.values()];
  for (const n of nodes) if (n.kind === 'self' || n.kind === 'target') placed.push(nodeLabelBox(n, REPLAY_PX.bigFont));
  for (const n of nodes) {
    if ((n.kind !== 'ghost' && n.kind !== 'peer') || !peerLabelShown(n) || n.label === '') continue;
    const b = nodeLabelBox(n, n.label === 'you' ? REPLAY_PX.bigFont : REPLAY_PX.peerFont);
    if (clear(b, n.id)) placed.push(b);
    else n.label = '';
  }
  for (const e of model.edges.values()) {
    if (!e.label) continue;
    const s = model.nodes.get(e.source);
    const t = model.nodes.get(e.target);
    const b = s && t ? textBox((s.x + t.x) / 2, (s.y + t.y) / 2, e.label, REPLAY_PX.roundFont) : null;
    if (b && clear(b, null)) placed.push(b);
    else e.label = '';
  }
}

/**
 * What a fit of the replay frames, graph units: every ring and node of the model (the whole
 * lookup's, so the view does not jump as the moment changes) and the origin's and target's labels.
 */
export function replayBounds(model: GraphModel, u: number): { x1: number; y1: number; x2: number; y2: number } | null {
  const { disc, nodeLabelBox } = geometry(u);
  let b: Box | null = null;
  const add = (x: Box): void => {
    b = b ? { x0: Math.min(b.x0, x.x0), y0: Math.min(b.y0, x.y0), x1: Math.max(b.x1, x.x1), y1: Math.max(b.y1, x.y1) } : x;
  };
  for (const n of model.nodes.values()) {
    add(disc(n));
    if (n.kind === 'self' || n.kind === 'target') add(nodeLabelBox(n, REPLAY_PX.bigFont));
  }
  const r = b as Box | null;
  return r ? { x1: r.x0, y1: r.y0, x2: r.x1, y2: r.y1 } : null;
}

/**
 * The replay graph's rules on top of the Graph view's: the replay is looked at fitted to a whole
 * lookup (a zoom near 0.3, where the Graph view's 7-unit labels are 2 px), so sizes here are screen
 * pixels at the fitted zoom. The origin and the target are large and labelled on a plate. Peers are
 * named only while the lookup waits for them (a few at a time, alpha at most): twenty ids in one
 * cluster read as a smudge, and hovering any peer names it.
 */
export function replayGraphStyle(p: Palette, fitZoom: number): cytoscape.StylesheetStyle[] {
  const px = (n: number): number => n / Math.max(fitZoom, 0.01);
  const plate = { 'text-background-color': p.bg, 'text-background-opacity': 0.85, 'text-background-padding': `${px(2)}px`, 'text-background-shape': 'roundrectangle' } as const;
  return [
    {
      selector: 'node',
      style: { width: px(REPLAY_PX.node), height: px(REPLAY_PX.node), 'font-size': px(REPLAY_PX.peerFont), 'text-margin-y': px(2), 'min-zoomed-font-size': 7 },
    },
    { selector: 'node.peer, node.ghost', style: { label: '', color: p.text } },
    { selector: 'node.lk-queried, node.selected', style: { label: 'data(label)', ...plate } },
    { selector: 'node.ghost', style: { width: px(8), height: px(8), 'border-width': px(1.5) } },
    // Coloured by what the peer did in the lookup: filled once it answered or failed, a solid ring
    // while it is waited for, dashed and hollow when the lookup only heard of it.
    { selector: 'node.ghost.lk-queried', style: { 'border-style': 'solid' } },
    { selector: 'node.ghost.lk-answered', style: { 'border-style': 'solid', 'background-color': p.accent, 'background-opacity': 1 } },
    {
      selector: 'node.self',
      style: { width: px(REPLAY_PX.self), height: px(REPLAY_PX.self), 'border-width': px(3), 'font-size': px(REPLAY_PX.bigFont), 'text-margin-y': px(4), 'min-zoomed-font-size': 0, ...plate },
    },
    {
      selector: 'node.target',
      style: { width: px(REPLAY_PX.target), height: px(REPLAY_PX.target), 'font-size': px(REPLAY_PX.bigFont), 'font-weight': 600, 'font-family': 'system-ui, sans-serif', 'text-margin-y': px(3), 'min-zoomed-font-size': 0, ...plate },
    },
    { selector: 'node.label-above', style: { 'text-valign': 'top', 'text-margin-y': -px(4) } },
    // The rings stay unnamed (the legend says what they are): their labels sat on the target's.
    // The rule for every node above sets a width: rings take their diameter back (else each ring
    // was a 9 px dot at the centre, and the legend named rings nobody could see).
    { selector: 'node.ring', style: { width: 'data(size)', height: 'data(size)', 'border-width': px(1.2), 'border-opacity': 0.9, label: '' } },
    { selector: 'node.lk-queried', style: { 'border-width': px(2.5) } },
    { selector: 'node.lk-queried.pulse', style: { 'border-width': px(6) } },
    { selector: 'node.lk-answered, node.lk-timeout, node.lk-error', style: { 'border-width': px(2.5) } },
    { selector: 'node.lk-closest', style: { width: px(REPLAY_PX.closest), height: px(REPLAY_PX.closest) } },
    { selector: 'node.selected', style: { width: px(14), height: px(14), 'border-width': px(2.5) } },
    { selector: 'edge', style: { width: px(0.8) } },
    { selector: 'edge.route', style: { width: px(1.6), 'arrow-scale': 0.9, 'font-size': px(REPLAY_PX.roundFont), 'text-background-padding': `${px(1)}px` } },
    { selector: 'edge.goal', style: { width: px(1.4), 'arrow-scale': 0.8 } },
  ];
}
