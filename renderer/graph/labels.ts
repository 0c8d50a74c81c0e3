// Which labels of a graph fit: round numbers on a lookup's route arrows (and, in the replay, the
// names of the peers it waits for) are left off where they would touch another label or a node, and
// the target's star keeps clear of the nodes. One implementation for the Graph view (sizes in graph
// units) and the replay (sizes in screen px at its fitted zoom); hovering a node gives what a
// left-off label said (routeNote). Pure, so tests check what is drawn without a canvas.
import type { LookupOverlay } from '../state/lookup-model';
import { shortId } from '../lib/id';
import type { GraphModel, GraphNode } from './model';

/** What a graph draws, in its style's units: node diameters, label fonts, a glyph's average width. */
export interface LabelSizes {
  node: number;
  /** A node of the lookup's closest set (drawn larger). */
  closest: number;
  self: number;
  target: number;
  /** A peer's name. */
  peerFont: number;
  /** The centre's and the target's labels. */
  bigFont: number;
  /** A route arrow's round. */
  roundFont: number;
  /** Between a node's edge and its label. */
  labelMargin: number;
  /** Average glyph width as a fraction of the font size. */
  glyph: number;
  /** Space kept between two labels, and between a label and a node. */
  gap: number;
}

export interface LabelLayout {
  sizes: LabelSizes;
  /** Graph units per size unit: 1 when the sizes are graph units, 1 / zoom when they are px. */
  unitsPerPx: number;
  /** Whether the style draws this peer's (or ghost's) name: only those compete for room. */
  peerLabelShown(n: GraphNode): boolean;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const overlaps = (a: Box, b: Box): boolean => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** How far the target star's centre keeps from any node's: half a star, half a large node, a gap. */
export const starClearance = (s: LabelSizes, u: number): number => (s.target / 2 + s.closest / 2 + 3) * u;

function diameter(s: LabelSizes, n: GraphNode): number {
  if (n.kind === 'self') return s.self;
  if (n.kind === 'target') return s.target;
  return /\blk-closest\b/.test(n.classes) ? s.closest : s.node;
}

/** Where things are drawn at `u` graph units per size unit: node discs and label boxes, graph units. */
export function labelGeometry(s: LabelSizes, u: number) {
  const g = s.gap * u;
  const disc = (n: GraphNode): Box => {
    const r = n.kind === 'ring' ? (n.size ?? 0) / 2 : (diameter(s, n) / 2) * u;
    return { x0: n.x - r, y0: n.y - r, x1: n.x + r, y1: n.y + r };
  };
  const textBox = (cx: number, cy: number, text: string, font: number): Box => {
    const w = (text.length * font * s.glyph) / 2 + s.gap;
    const h = font * 0.7 + s.gap;
    return { x0: cx - w * u - g, y0: cy - h * u - g, x1: cx + w * u + g, y1: cy + h * u + g };
  };
  const nodeLabelBox = (n: GraphNode, font: number): Box => {
    // Below the node (text-valign bottom), or above it with label-above.
    const off = (diameter(s, n) / 2 + s.labelMargin + font * 0.7) * u * (/\blabel-above\b/.test(n.classes) ? -1 : 1);
    return textBox(n.x, n.y + off, n.label, font);
  };
  return { disc, textBox, nodeLabelBox };
}

/**
 * Leaves off the labels that would overlap: the centre's and the target's always show; then the
 * peers' names the style draws, then each route arrow's round at its midpoint, each only where it
 * touches no label already placed and no node (faded and dimmed nodes, the ones outside the lookup,
 * are drawn under the route and do not count). In graph units, from the sizes times `unitsPerPx`.
 */
export function thinLabels(model: GraphModel, layout: LabelLayout): void {
  if (![...model.edges.values()].some((e) => e.label) && ![...model.nodes.values()].some((n) => (n.kind === 'peer' || n.kind === 'ghost') && layout.peerLabelShown(n))) return;
  const s = layout.sizes;
  const { disc, textBox, nodeLabelBox } = labelGeometry(s, layout.unitsPerPx);
  const placed: Box[] = [];
  const discs: Array<Box & { id: string }> = [];
  for (const n of model.nodes.values()) if (n.kind !== 'ring' && !/\b(faded|dim)\b/.test(n.classes)) discs.push({ id: n.id, ...disc(n) });
  const clear = (b: Box, own: string | null): boolean => !placed.some((p) => overlaps(p, b)) && !discs.some((d) => d.id !== own && overlaps(d, b));
  const nodes = [...model.nodes.values()];
  for (const n of nodes) if (n.kind === 'self' || n.kind === 'target') placed.push(nodeLabelBox(n, s.bigFont));
  for (const n of nodes) {
    if ((n.kind !== 'ghost' && n.kind !== 'peer') || !layout.peerLabelShown(n) || n.label === '') continue;
    const b = nodeLabelBox(n, n.label === 'you' ? s.bigFont : s.peerFont);
    if (clear(b, n.id)) placed.push(b);
    else n.label = '';
  }
  for (const e of model.edges.values()) {
    if (!e.label) continue;
    const a = model.nodes.get(e.source);
    const t = model.nodes.get(e.target);
    const b = a && t ? textBox((a.x + t.x) / 2, (a.y + t.y) / 2, e.label, s.roundFont) : null;
    if (b && clear(b, null)) placed.push(b);
    else e.label = '';
  }
}

/**
 * What a route arrow into `ref` says, for a hover (its number may have been left off): "asked in
 * round N, a seed" or "asked in round N, named by <id>". Null when the lookup did not ask it.
 */
export function routeNote(overlay: LookupOverlay | null | undefined, ref: string): string | null {
  const e = overlay?.edges.find((x) => x.kind === 'route' && x.to === ref);
  if (!e || !overlay) return null;
  return `asked in round ${e.round}, ${e.from === overlay.self ? 'a seed' : `named by ${shortId(e.from)}`}`;
}
