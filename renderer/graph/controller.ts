// Owns one cytoscape instance. `apply(model)` diffs against what is drawn and applies every change
// inside a single cy.batch(), so a burst of events costs one redraw. Positions are preset (ID-space
// geometry), so no layout ever runs.
import cytoscape from 'cytoscape';
import { diffGraph, isEmpty, type GraphChanges } from './diff';
import { buildGraphModel, type GraphInput, type GraphModel, type GraphNode, type GraphStats } from './model';
import { graphStyle, readPalette, type Palette } from './style';

export const MIN_ZOOM = 0.08;
export const MAX_ZOOM = 6;
export const FIT_PADDING_PX = 36;
/**
 * Least time between two graph updates, ms, by how long the last redraw took. Any change makes
 * cytoscape redraw the whole canvas, so live events are folded into few updates: a cheap redraw
 * (a small graph) may run often; an expensive one (thousands of nodes, software rendering) runs at
 * most twice a second, so nearly every frame stays free for scrolling and input.
 */
export const APPLY_INTERVAL_MS = { cheap: 100, medium: 250, expensive: 500 } as const;
/** Redraw frames longer than these are medium / expensive, ms. */
export const REDRAW_MEDIUM_MS = 20;
export const REDRAW_EXPENSIVE_MS = 40;

export interface GraphHandlers {
  /** A node (its hex id) was clicked, or null for the background. */
  onSelect(ref: string | null, kind: GraphNode['kind'] | null): void;
  /** Pointer over a node (rendered position in px within the container), or null. */
  onHover(hover: { ref: string; kind: GraphNode['kind']; x: number; y: number } | null): void;
  /** After each applied update: what is drawn now. */
  onDrawn?(drawn: DrawnSummary): void;
}

export interface DrawnSummary extends GraphStats {
  health: { good: number; questionable: number; bad: number; unknown: number };
}

const HEALTH_CLASS = /\bh-(good|questionable|bad|unknown)\b/;

function summarise(model: GraphModel, stats: GraphStats): DrawnSummary {
  const health = { good: 0, questionable: 0, bad: 0, unknown: 0 };
  for (const n of model.nodes.values()) {
    if (n.kind !== 'peer') continue;
    const h = HEALTH_CLASS.exec(n.classes)?.[1] as keyof typeof health | undefined;
    if (h) health[h]++;
  }
  return { ...stats, health };
}

// Cytoscape adds a <style> element to <head> unless one with this id exists. The host's CSP forbids
// inline <style>, so we claim the id with an inert element; the one rule it would add
// (container position: relative) is in app.css.
const CY_STYLESHEET_ID = '__________cytoscape_stylesheet';
function preventInlineStylesheet(): void {
  if (document.getElementById(CY_STYLESHEET_ID)) return;
  const placeholder = document.createElement('meta');
  placeholder.id = CY_STYLESHEET_ID;
  document.head.appendChild(placeholder);
}

export interface GraphOptions {
  /**
   * Rules added after the Graph view's stylesheet, given the zoom of the last fit(): a view that is
   * mostly looked at fitted (the replay) sizes its nodes and labels for that zoom, in screen pixels.
   */
  extraStyle?(p: Palette, fitZoom: number): cytoscape.StylesheetStyle[];
  /** Room around a fitted graph, px (default FIT_PADDING_PX). */
  fitPaddingPx?: number;
  /**
   * What fit() frames, graph units, instead of the elements drawn now (the replay frames the whole
   * lookup while it shows one moment of it). Given the units per px of the last fit.
   */
  fitBounds?(unitsPerPx: number): { x1: number; y1: number; x2: number; y2: number } | null;
}

/** A fit that changes the zoom by more than this fraction restyles an extraStyle. */
const RESTYLE_ZOOM_CHANGE = 0.04;

export class GraphController {
  private readonly cy: cytoscape.Core;
  private drawn: GraphModel = { nodes: new Map(), edges: new Map() };
  private fitted = false;
  private pending: GraphInput | null = null;
  private readonly handlers: GraphHandlers;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private frame = 0;
  private lastApplyAt = -Infinity;
  private interval: number = APPLY_INTERVAL_MS.medium;
  private readonly extraStyle: GraphOptions['extraStyle'];
  private readonly fitPadding: number;
  private readonly fitBounds: GraphOptions['fitBounds'];
  private fitZoom = 1;
  private refitFrame = 0;
  /** Updates applied since creation (tests and the benchmark read it). */
  applied = 0;

  constructor(container: HTMLElement, handlers: GraphHandlers, options: GraphOptions = {}) {
    preventInlineStylesheet();
    this.handlers = handlers;
    this.extraStyle = options.extraStyle;
    this.fitPadding = options.fitPaddingPx ?? FIT_PADDING_PX;
    this.fitBounds = options.fitBounds;
    this.cy = cytoscape({
      container,
      style: this.stylesheet(),
      minZoom: MIN_ZOOM,
      maxZoom: MAX_ZOOM,
      autoungrabify: true,
      boxSelectionEnabled: false,
      selectionType: 'single',
      autounselectify: true,
      hideEdgesOnViewport: true,
      textureOnViewport: false,
      motionBlur: false,
    });
    this.cy.on('tap', (ev) => {
      if (ev.target === this.cy) handlers.onSelect(null, null);
    });
    this.cy.on('tap', 'node', (ev) => {
      const n = ev.target as cytoscape.NodeSingular;
      handlers.onSelect(n.data('ref') as string, n.data('kind') as GraphNode['kind']);
    });
    this.cy.on('mouseover', 'node', (ev) => {
      const n = ev.target as cytoscape.NodeSingular;
      const p = n.renderedPosition();
      handlers.onHover({ ref: n.data('ref') as string, kind: n.data('kind') as GraphNode['kind'], x: p.x, y: p.y });
    });
    this.cy.on('mouseout', 'node', () => handlers.onHover(null));
    this.cy.on('viewport', () => handlers.onHover(null));
  }

  /**
   * Draws the state `input` describes soon: at the next animation frame at least
   * MIN_APPLY_INTERVAL_MS after the previous update. Inputs scheduled meanwhile replace each other;
   * only the last is turned into a model (buildGraphModel) and diffed, so a burst of live events
   * costs one model build and one redraw.
   */
  schedule(input: GraphInput): void {
    this.pending = input;
    if (this.timer !== null || this.frame !== 0) return;
    const wait = Math.max(0, this.lastApplyAt + this.interval - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        const input = this.pending;
        this.pending = null;
        if (!input) return;
        const { model, stats } = buildGraphModel(input);
        const changes = this.apply(model);
        this.handlers.onDrawn?.(summarise(model, stats));
        if (!isEmpty(changes)) this.measureRedraw();
      });
    }, wait);
  }

  /** Times the frame in which cytoscape draws the update (its renderer runs on the next frame). */
  private measureRedraw(): void {
    requestAnimationFrame((t0) => {
      requestAnimationFrame((t1) => {
        const cost = t1 - t0;
        this.interval = cost > REDRAW_EXPENSIVE_MS ? APPLY_INTERVAL_MS.expensive : cost > REDRAW_MEDIUM_MS ? APPLY_INTERVAL_MS.medium : APPLY_INTERVAL_MS.cheap;
      });
    });
  }

  apply(model: GraphModel): GraphChanges {
    this.lastApplyAt = performance.now();
    const changes = diffGraph(this.drawn, model);
    if (isEmpty(changes)) return changes;
    const cy = this.cy;
    cy.batch(() => {
      for (const id of changes.removeEdges) cy.getElementById(id).remove();
      for (const id of changes.removeNodes) cy.getElementById(id).remove();
      if (changes.addNodes.length > 0) {
        cy.add(
          changes.addNodes.map((n) => ({
            group: 'nodes' as const,
            data: { id: n.id, ref: n.ref, kind: n.kind, label: n.label, size: n.size },
            position: { x: n.x, y: n.y },
            classes: n.classes,
          })),
        );
      }
      if (changes.addEdges.length > 0) {
        cy.add(changes.addEdges.map((e) => ({ group: 'edges' as const, data: { id: e.id, source: e.source, target: e.target, label: e.label ?? '' }, classes: e.classes })));
      }
      for (const u of changes.updateNodes) {
        const el = cy.getElementById(u.id);
        if (u.position) el.position(u.position);
        if (u.classes !== undefined) el.classes(u.classes);
        if (u.label !== undefined) el.data('label', u.label);
        if (u.size !== undefined) el.data('size', u.size);
      }
      for (const u of changes.updateEdges) {
        const el = cy.getElementById(u.id);
        el.classes(u.classes);
        el.data('label', u.label ?? '');
      }
    });
    this.drawn = model;
    this.applied++;
    if (!this.fitted && model.nodes.size > 1) {
      this.fit();
      this.fitted = true;
    }
    return changes;
  }

  private stylesheet(): cytoscape.StylesheetStyle[] {
    const p = readPalette();
    return this.extraStyle ? [...graphStyle(p), ...this.extraStyle(p, this.fitZoom)] : graphStyle(p);
  }

  /** Re-reads the CSS variables (after a theme change). */
  restyle(): void {
    this.cy.style(this.stylesheet());
  }

  resize(): void {
    this.cy.resize();
  }

  /** The zoom of the last fit() that restyled an extraStyle (1 before any). */
  get fittedZoom(): number {
    return this.fitZoom;
  }

  private frameView(): void {
    const b = this.fitBounds?.(1 / Math.max(this.fitZoom, MIN_ZOOM));
    if (!b) {
      this.cy.fit(undefined, this.fitPadding);
      return;
    }
    const w = Math.max(1, this.cy.width() - 2 * this.fitPadding);
    const h = Math.max(1, this.cy.height() - 2 * this.fitPadding);
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Math.min(w / Math.max(1, b.x2 - b.x1), h / Math.max(1, b.y2 - b.y1))));
    this.cy.viewport({ zoom, pan: { x: this.cy.width() / 2 - (zoom * (b.x1 + b.x2)) / 2, y: this.cy.height() / 2 - (zoom * (b.y1 + b.y2)) / 2 } });
  }

  fit(): void {
    this.frameView();
    const z = this.cy.zoom();
    if (this.extraStyle && Math.abs(z - this.fitZoom) > this.fitZoom * RESTYLE_ZOOM_CHANGE) {
      this.fitZoom = z;
      this.restyle();
      // Nodes and labels sized anew change what the fit spans: once more when they have been
      // measured (the next frame), without a further restyle.
      cancelAnimationFrame(this.refitFrame);
      this.refitFrame = requestAnimationFrame(() => this.frameView());
    }
  }

  zoomBy(factor: number): void {
    const c = this.cy;
    c.zoom({ level: Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, c.zoom() * factor)), renderedPosition: { x: c.width() / 2, y: c.height() / 2 } });
  }

  /** Centres on a node and zooms in enough to read its label. */
  focus(elementId: string): void {
    const el = this.cy.getElementById(elementId);
    if (el.empty()) return;
    this.cy.animate({ center: { eles: el }, zoom: Math.max(this.cy.zoom(), 1.6) }, { duration: 300 });
  }

  destroy(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    cancelAnimationFrame(this.refitFrame);
    this.pending = null;
    this.cy.destroy();
  }
}
