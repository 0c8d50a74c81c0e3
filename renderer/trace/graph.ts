// The replay's graph: the lookup's world at one moment, drawn with the Graph view's own model
// (graph/model.ts) around the node that ran the lookup. Peers in our routing table keep their
// health colours; peers we do not know (a trace from another machine, or nodes met only in the
// lookup) are ghost nodes. Pure, so tests check what is drawn without a canvas.
import type { PeerInfo } from '../state/contract-types';
import type { LookupOverlay } from '../state/lookup-model';
import { bucketOf, shortId } from '../lib/id';
import { ringRadius } from '../graph/geometry';
import { buildGraphModel, nodeId, ringId, type GraphModel } from '../graph/model';

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
