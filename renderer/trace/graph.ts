// The replay's graph: the lookup's world at one moment, drawn with the Graph view's own model
// (graph/model.ts) around the node that ran the lookup. Peers in our routing table keep their
// health colours; peers we do not know (a trace from another machine, or nodes met only in the
// lookup) are ghost nodes. Pure, so tests check what is drawn without a canvas.
import type cytoscape from 'cytoscape';
import type { PeerInfo } from '../state/contract-types';
import type { LookupOverlay } from '../state/lookup-model';
import { bucketOf, shortId } from '../lib/id';
import { ringRadius } from '../graph/geometry';
import { buildGraphModel, nodeId, ringId, type GraphModel } from '../graph/model';
import type { Palette } from '../graph/style';

export interface ReplayGraphInput {
  /** The node that ran the lookup: the centre. */
  origin: string;
  /** Our node's id (null before the snapshot): when it is the origin, the centre says "you". */
  ourId: string | null;
  /** Our routing table, to colour peers we know by health. */
  known: ReadonlyMap<string, PeerInfo>;
  overlay: LookupOverlay;
  selected: string | null;
}

export function buildReplayGraph(input: ReplayGraphInput): GraphModel {
  const { origin, overlay } = input;
  // Only the peers this lookup met, placed around its origin (their buckets as seen from there).
  const peers: PeerInfo[] = [];
  for (const id of overlay.contacts.keys()) {
    const p = input.known.get(id);
    if (p && id !== origin) peers.push({ ...p, bucket: bucketOf(origin, id) });
  }
  const { model } = buildGraphModel({ self: origin, peers, maxPeers: Number.POSITIVE_INFINITY, overlay, pulse: false, search: '', selected: input.selected });
  // Rings for the buckets ghosts sit in too, so a trace of strangers still reads as ID space.
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
  return model;
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
      style: { width: px(9), height: px(9), 'font-size': px(10), 'text-margin-y': px(2), 'min-zoomed-font-size': 7 },
    },
    { selector: 'node.peer, node.ghost', style: { label: '', color: p.text } },
    { selector: 'node.lk-queried, node.selected', style: { label: 'data(label)', ...plate } },
    { selector: 'node.ghost', style: { width: px(8), height: px(8), 'border-width': px(1.5) } },
    {
      selector: 'node.self',
      style: { width: px(20), height: px(20), 'border-width': px(3), 'font-size': px(12.5), 'text-margin-y': px(4), 'min-zoomed-font-size': 0, ...plate },
    },
    {
      selector: 'node.target',
      style: { width: px(24), height: px(24), 'font-size': px(12.5), 'font-weight': 600, 'font-family': 'system-ui, sans-serif', 'text-margin-y': px(3), 'min-zoomed-font-size': 0, ...plate },
    },
    { selector: 'node.label-above', style: { 'text-valign': 'top', 'text-margin-y': -px(4) } },
    // The rings stay unnamed (the legend says what they are): their labels sat on the target's.
    { selector: 'node.ring', style: { 'border-width': px(1), label: '' } },
    { selector: 'node.lk-queried', style: { 'border-width': px(2.5) } },
    { selector: 'node.lk-queried.pulse', style: { 'border-width': px(6) } },
    { selector: 'node.lk-answered, node.lk-timeout, node.lk-error', style: { 'border-width': px(2.5) } },
    { selector: 'node.lk-closest', style: { width: px(12), height: px(12) } },
    { selector: 'node.selected', style: { width: px(14), height: px(14), 'border-width': px(2.5) } },
    { selector: 'edge', style: { width: px(0.8) } },
    { selector: 'edge.path', style: { width: px(1.6), 'arrow-scale': 0.8 } },
  ];
}
