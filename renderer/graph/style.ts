// The graph's cytoscape stylesheet, built from the page's CSS variables so it matches the theme.
import type cytoscape from 'cytoscape';
import type { LabelSizes } from './labels';

export interface Palette {
  text: string;
  muted: string;
  faint: string;
  border: string;
  bg: string;
  accent: string;
  good: string;
  warn: string;
  bad: string;
  unknown: string;
}

export function readPalette(el: Element = document.documentElement): Palette {
  const cs = getComputedStyle(el);
  const v = (name: string): string => cs.getPropertyValue(`--${name}`).trim() || '#888';
  return { text: v('text'), muted: v('muted'), faint: v('faint'), border: v('border-strong'), bg: v('bg'), accent: v('accent'), good: v('good'), warn: v('warn'), bad: v('bad'), unknown: v('unknown') };
}

/**
 * Half-period of the pulse of peers a running lookup is waiting for: their ring widens and narrows
 * by a class toggle. A discrete toggle, not a cytoscape style transition: a transition redraws the
 * whole canvas every frame while it runs.
 */
export const PULSE_MS = 550;

/**
 * Sizes graphStyle draws in, graph units: what label thinning (graph/labels.ts) measures with. The
 * target's label is 9 units, under bigFont (ours): its box is measured a little larger than drawn.
 */
export const GRAPH_SIZES: LabelSizes = { node: 12, closest: 16, self: 26, target: 18, peerFont: 7, bigFont: 11, roundFont: 8, labelMargin: 3, glyph: 0.62, gap: 2 };

export function graphStyle(p: Palette): cytoscape.StylesheetStyle[] {
  return [
    {
      selector: 'node',
      style: {
        width: GRAPH_SIZES.node,
        height: GRAPH_SIZES.node,
        'background-color': p.unknown,
        'border-width': 0,
        'border-color': p.accent,
        label: '',
        'font-family': 'ui-monospace, Menlo, Consolas, monospace',
        'font-size': GRAPH_SIZES.peerFont,
        color: p.muted,
        'min-zoomed-font-size': 9,
        'text-valign': 'bottom',
        'text-margin-y': GRAPH_SIZES.labelMargin,
        'overlay-opacity': 0,
      },
    },
    { selector: 'node.peer', style: { label: 'data(label)' } },
    { selector: 'node.h-good', style: { 'background-color': p.good } },
    { selector: 'node.h-questionable', style: { 'background-color': p.warn } },
    { selector: 'node.h-bad', style: { 'background-color': p.bad } },
    { selector: 'node.h-unknown', style: { 'background-color': p.unknown } },
    {
      selector: 'node.self',
      style: {
        width: GRAPH_SIZES.self,
        height: GRAPH_SIZES.self,
        'background-color': p.accent,
        'border-width': 4,
        'border-color': p.bg,
        label: 'data(label)',
        'font-family': 'system-ui, sans-serif',
        'font-size': GRAPH_SIZES.bigFont,
        'font-weight': 600,
        color: p.text,
        'min-zoomed-font-size': 0,
        'z-index': 20,
      },
    },
    {
      selector: 'node.ring',
      style: {
        width: 'data(size)',
        height: 'data(size)',
        'background-opacity': 0,
        'border-width': 1,
        'border-color': p.border,
        'border-opacity': 0.5,
        label: 'data(label)',
        'font-family': 'system-ui, sans-serif',
        'font-size': 10,
        color: p.faint,
        'min-zoomed-font-size': 6,
        'text-valign': 'top',
        'text-margin-y': -2,
        events: 'no',
        'z-index': 0,
      },
    },
    {
      selector: 'node.ghost',
      style: { width: 9, height: 9, 'background-opacity': 0, 'border-width': 1.5, 'border-style': 'dashed', 'border-color': p.muted, label: 'data(label)' },
    },
    {
      selector: 'node.target',
      style: { shape: 'star', width: GRAPH_SIZES.target, height: GRAPH_SIZES.target, 'background-color': p.text, label: 'data(label)', color: p.text, 'font-size': 9, 'min-zoomed-font-size': 0, 'z-index': 15, events: 'no' },
    },
    // Set on the target and on us when a lookup's target is near the centre (graph/model.ts).
    { selector: 'node.label-above', style: { 'text-valign': 'top', 'text-margin-y': -3 } },
    { selector: 'node.faded', style: { opacity: 0.22 } },
    { selector: 'node.dim', style: { opacity: 0.12 } },
    {
      selector: 'node.lk-queried',
      style: {
        'border-width': 3,
        'border-color': p.warn,
        'border-opacity': 1,
        opacity: 1,
        'z-index': 10,
      },
    },
    { selector: 'node.lk-queried.pulse', style: { 'border-width': 8, 'border-opacity': 0.35 } },
    { selector: 'node.lk-answered', style: { 'border-width': 3, 'border-color': p.accent, opacity: 1, 'z-index': 10 } },
    { selector: 'node.lk-timeout, node.lk-error', style: { 'background-color': p.bad, 'background-opacity': 1, 'border-width': 3, 'border-color': p.bad, opacity: 1, 'z-index': 10 } },
    { selector: 'node.lk-closest', style: { width: GRAPH_SIZES.closest, height: GRAPH_SIZES.closest } },
    { selector: 'node.match', style: { 'border-width': 3, 'border-color': p.accent, width: 16, height: 16, label: 'data(label)', 'min-zoomed-font-size': 0, color: p.text, 'z-index': 12 } },
    { selector: 'node.selected', style: { 'border-width': 3, 'border-color': p.text, width: 18, height: 18, label: 'data(label)', 'min-zoomed-font-size': 0, color: p.text, 'z-index': 30 } },
    {
      selector: 'edge',
      style: { width: 1, 'line-color': p.accent, opacity: 0.14, 'curve-style': 'haystack', 'haystack-radius': 0, events: 'no' },
    },
    // The route a lookup took: an arrow per peer asked, labelled with the round that asked it (where
    // the number has room: graph/labels.ts).
    {
      selector: 'edge.route',
      style: {
        width: 1.8,
        opacity: 0.9,
        'curve-style': 'straight',
        'target-arrow-shape': 'triangle',
        'target-arrow-color': p.accent,
        'arrow-scale': 0.9,
        label: 'data(label)',
        'font-family': 'system-ui, sans-serif',
        'font-size': GRAPH_SIZES.roundFont,
        'font-weight': 600,
        color: p.text,
        'text-background-color': p.bg,
        'text-background-opacity': 0.9,
        'text-background-padding': '1px',
        'text-background-shape': 'roundrectangle',
        'min-zoomed-font-size': 6,
        'z-index': 5,
      },
    },
    // Asked and not answered yet: the arrow is drawn dashed until the answer comes.
    { selector: 'edge.route.to-queried', style: { 'line-style': 'dashed', 'line-color': p.warn, 'target-arrow-color': p.warn } },
    { selector: 'edge.route.to-timeout, edge.route.to-error', style: { 'line-style': 'dashed', 'line-color': p.bad, 'target-arrow-color': p.bad, opacity: 0.8 } },
    {
      selector: 'edge.goal',
      style: { width: 1.5, opacity: 0.9, 'curve-style': 'straight', 'line-style': 'dotted', 'line-color': p.text, 'target-arrow-shape': 'triangle', 'target-arrow-color': p.text, 'arrow-scale': 0.8, 'z-index': 5 },
    },
  ];
}
