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
import { buildGraphModel, nodeId, ringId, type GraphModel } from '../graph/model';
import { labelGeometry, starClearance, thinLabels, type LabelSizes } from '../graph/labels';
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
 * label fonts, and an average glyph width as a fraction of the font size (monospace ids; the system
 * font's letters and digits are about as wide on average).
 */
export const REPLAY_PX: Readonly<LabelSizes> = { node: 9, closest: 12, self: 20, target: 24, peerFont: 10, bigFont: 12.5, roundFont: 9, labelMargin: 4, glyph: 0.62, gap: 2 };

/** The replay shows a peer's label only while the lookup waits for it (replayGraphStyle). */
const replayPeerLabelShown = (n: { classes: string }): boolean => /\b(lk-queried|selected)\b/.test(n.classes);

export function buildReplayGraph(input: ReplayGraphInput): GraphModel {
  const { origin, overlay } = input;
  const u = input.unitsPerPx ?? DEFAULT_UNITS_PER_PX;
  // Every node the lookup met is drawn from the overlay (kind 'ghost': no health of its own). The
  // star keeps clear of every node as drawn here (sizes in px): half a star, half a peer, a gap.
  const targetClearance = starClearance(REPLAY_PX, u);
  const { model } = buildGraphModel({ self: origin, peers: [], maxPeers: Number.POSITIVE_INFINITY, overlay, pulse: false, search: '', selected: input.selected, targetClearance, labels: null });
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
  thinLabels(model, { sizes: REPLAY_PX, unitsPerPx: u, peerLabelShown: replayPeerLabelShown });
  return model;
}

/**
 * What a fit of the replay frames, graph units: every ring and node of the model (the whole
 * lookup's, so the view does not jump as the moment changes) and the origin's and target's labels.
 */
export function replayBounds(model: GraphModel, u: number): { x1: number; y1: number; x2: number; y2: number } | null {
  const { disc, nodeLabelBox } = labelGeometry(REPLAY_PX, u);
  type Box = ReturnType<typeof disc>;
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
