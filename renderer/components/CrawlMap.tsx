// A crawl's nodes in ID space, on one canvas (thousands of nodes, no DOM node per peer). The
// geometry is the graph's (graph/geometry.ts): the angle is the id's position in the space, the ring
// the bucket it falls in from our node, so a whole network reads as rings filling outwards from us.
import { useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import { OUTER_RING_RADIUS, positionOf, ringRadius } from '../graph/geometry';
import type { CrawlNodeDto } from '../state/contract-types';
import { bucketOf } from '../lib/id';
import { useRestyleOnTheme } from '../lib/hooks';

export type CrawlColouring = 'reachability' | 'client';

/** Client colours, in order of how common the client is; the rest share the last. */
const CLIENT_PALETTE = ['#2563eb', '#d946ef', '#0d9488', '#ea580c', '#65a30d', '#7c3aed', '#db2777', '#8a939d'];
/** Rings drawn as guides (buckets 0..). */
const GUIDE_RINGS = 12;
/** Pixels within which the pointer picks a node. */
const PICK_PX = 8;

export interface ClientLegend {
  name: string;
  colour: string;
  count: number;
}

/** Clients by count, each with its colour (the map's and the legend's). */
export function clientColours(nodes: readonly CrawlNodeDto[]): ClientLegend[] {
  const counts = new Map<string, number>();
  for (const n of nodes) if (n.status === 'reachable') counts.set(n.client ?? 'unknown', (counts.get(n.client ?? 'unknown') ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([name, count], i) => ({ name, count, colour: CLIENT_PALETTE[Math.min(i, CLIENT_PALETTE.length - 1)] }));
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function CrawlMap({ self, nodes, colouring, theme }: { self: string; nodes: readonly CrawlNodeDto[]; colouring: CrawlColouring; theme: string }): ReactElement {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState(420);
  const [hover, setHover] = useState<CrawlNodeDto | null>(null);
  // Colours come from CSS variables: repaint when the theme (or the system's scheme) changes.
  const [paints, setPaints] = useState(0);
  const restyler = useRef({ restyle: () => setPaints((n) => n + 1) });
  useRestyleOnTheme(restyler, theme);
  // Model positions are computed once per crawl, not per frame.
  const points = useMemo(
    () =>
      nodes.map((n) => {
        if (!n.id) return null;
        const b = bucketOf(self, n.id);
        return positionOf(self, n.id, b);
      }),
    [self, nodes],
  );
  const clients = useMemo(() => new Map(clientColours(nodes).map((c) => [c.name, c.colour])), [nodes]);

  // The canvas' size is CSS's (network.css: the card's width or what the window's height leaves,
  // whichever is less); the drawing follows it.
  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setSize(Math.max(200, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(size * dpr);
    c.height = Math.round(size * dpr);
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size, size);
    const scale = (size / 2 - 12) / (OUTER_RING_RADIUS * 1.12);
    const cx = size / 2;
    const cy = size / 2;
    ctx.strokeStyle = cssVar('--border', '#dcdfe4');
    ctx.lineWidth = 1;
    for (let b = 0; b < GUIDE_RINGS; b++) {
      ctx.beginPath();
      ctx.arc(cx, cy, ringRadius(b) * scale, 0, 2 * Math.PI);
      ctx.stroke();
    }
    const good = cssVar('--good', '#1a9a48');
    const bad = cssVar('--bad', '#d42a2a');
    const unknown = cssVar('--unknown', '#8a939d');
    const dot = nodes.length > 5000 ? 1.6 : nodes.length > 1000 ? 2.2 : 3;
    // Unreachable first, so reachable nodes are drawn over them.
    for (const pass of ['unreachable', 'not-crawled', 'reachable'] as const) {
      nodes.forEach((n, i) => {
        const p = points[i];
        if (!p || n.status !== pass) return;
        ctx.fillStyle =
          colouring === 'client' ? (n.status === 'reachable' ? (clients.get(n.client ?? 'unknown') ?? unknown) : unknown) : n.status === 'reachable' ? good : n.status === 'unreachable' ? bad : unknown;
        ctx.beginPath();
        ctx.arc(cx + p.x * scale, cy + p.y * scale, dot, 0, 2 * Math.PI);
        ctx.fill();
      });
    }
    ctx.fillStyle = cssVar('--accent', '#2563eb');
    ctx.beginPath();
    ctx.arc(cx, cy, 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = cssVar('--muted', '#5c6670');
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText('you', cx, cy + 17);
  }, [nodes, points, colouring, clients, size, theme, paints]);

  const onMove = (e: React.MouseEvent<HTMLCanvasElement>): void => {
    const r = e.currentTarget.getBoundingClientRect();
    const scale = (size / 2 - 12) / (OUTER_RING_RADIUS * 1.12);
    const mx = (e.clientX - r.left - size / 2) / scale;
    const my = (e.clientY - r.top - size / 2) / scale;
    let best = -1;
    let bestD = (PICK_PX / scale) ** 2;
    points.forEach((p, i) => {
      if (!p) return;
      const d = (p.x - mx) ** 2 + (p.y - my) ** 2;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    });
    setHover(best >= 0 ? nodes[best] : null);
  };

  return (
    <div className="crawl-map">
      <canvas
        ref={canvas}
        onMouseMove={onMove}
        onMouseLeave={() => setHover(null)}
        role="img"
        aria-label={`${nodes.length} nodes in ID space: angle is the id, ring is the bucket from our node`}
        data-testid="crawl-map"
        data-nodes={nodes.length}
      />
      <div className="crawl-map-hover muted" aria-live="polite">
        {hover ? (
          <>
            <span className="id">{hover.id?.slice(0, 16)}…</span> {hover.host}:{hover.port} · {hover.status}
            {hover.failure ? ` (${hover.failure})` : ''}
            {hover.rttMs !== null ? ` · ${hover.rttMs.toFixed(1)} ms` : ''} · {hover.neighbours} neighbours{hover.client ? ` · ${hover.client}` : ''}
            {hover.bep42 ? ` · BEP 42 ${hover.bep42}` : ''}
            {hover.idMatchesAddress !== null && hover.idMatchesAddress !== undefined ? ` · id ${hover.idMatchesAddress ? 'fits' : 'does not fit'} its address` : ''}
          </>
        ) : (
          'Point at a node for its id and figures. Angle: position in ID space; ring: bucket from your node.'
        )}
      </div>
    </div>
  );
}
