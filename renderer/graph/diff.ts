// The difference between two graph models as element changes, so the cytoscape wrapper touches only
// what changed and applies it all inside one cy.batch(). Pure: tested in test/unit/graph-diff.test.ts.
import type { GraphEdge, GraphModel, GraphNode } from './model';

/** Moves smaller than this (graph units) are not worth a redraw. */
export const POSITION_EPSILON = 0.5;

export interface NodeUpdate {
  id: string;
  position?: { x: number; y: number };
  classes?: string;
  label?: string;
  size?: number;
}

export interface GraphChanges {
  addNodes: GraphNode[];
  addEdges: GraphEdge[];
  /** Edge ids, removed before nodes. */
  removeEdges: string[];
  removeNodes: string[];
  updateNodes: NodeUpdate[];
  updateEdges: { id: string; classes: string; label?: string }[];
}

export function isEmpty(c: GraphChanges): boolean {
  return c.addNodes.length + c.addEdges.length + c.removeEdges.length + c.removeNodes.length + c.updateNodes.length + c.updateEdges.length === 0;
}

export function diffGraph(prev: GraphModel, next: GraphModel): GraphChanges {
  const out: GraphChanges = { addNodes: [], addEdges: [], removeEdges: [], removeNodes: [], updateNodes: [], updateEdges: [] };

  for (const [id, n] of next.nodes) {
    const p = prev.nodes.get(id);
    if (!p) {
      out.addNodes.push(n);
      continue;
    }
    // A node whose kind changed (a ghost that joined our table) is replaced: kinds differ in shape.
    if (p.kind !== n.kind) {
      out.removeNodes.push(id);
      out.addNodes.push(n);
      continue;
    }
    const u: NodeUpdate = { id };
    let changed = false;
    if (Math.abs(p.x - n.x) > POSITION_EPSILON || Math.abs(p.y - n.y) > POSITION_EPSILON) {
      u.position = { x: n.x, y: n.y };
      changed = true;
    }
    if (p.classes !== n.classes) {
      u.classes = n.classes;
      changed = true;
    }
    if (p.label !== n.label) {
      u.label = n.label;
      changed = true;
    }
    if (p.size !== n.size && n.size !== undefined) {
      u.size = n.size;
      changed = true;
    }
    if (changed) out.updateNodes.push(u);
  }
  for (const id of prev.nodes.keys()) if (!next.nodes.has(id)) out.removeNodes.push(id);

  // A replaced node takes its edges with it in cytoscape, so edges touching one are re-added.
  const replaced = new Set(out.removeNodes);
  for (const [id, e] of next.edges) {
    const p = prev.edges.get(id);
    if (!p || replaced.has(e.source) || replaced.has(e.target)) {
      if (p) out.removeEdges.push(id);
      out.addEdges.push(e);
    } else if (p.classes !== e.classes || p.label !== e.label) {
      out.updateEdges.push({ id, classes: e.classes, label: e.label });
    }
  }
  for (const id of prev.edges.keys()) if (!next.edges.has(id)) out.removeEdges.push(id);
  return out;
}
