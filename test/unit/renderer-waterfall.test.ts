// The lookup waterfall both the Lookups view and the Traces replay draw (components/LookupWaterfall):
// its scale, each row's bar, and what each mode adds (the lookup's end, or the replay's playhead).
// Rendered to static markup: no DOM needed.
import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { LookupWaterfall, axisPct, axisTicks, rowView, sortRows } from '../../renderer/components/LookupWaterfall';
import { buildWaterfall } from '../../renderer/state/lookup-model';
import { replayGraphStyle } from '../../renderer/trace/graph';
import type { Palette } from '../../renderer/graph/style';
import type { Contact, TraceEvent } from '../../electron/host/contract';

const c = (digit: string): Contact => ({ id: digit.repeat(64), host: '127.0.0.1', port: 4000 + digit.charCodeAt(0) });
const A = c('a');
const B = c('b');
const C = c('c');

// Three RPCs: A answers at 20 ms, B times out at 2,000 ms, C is still waiting when the lookup ends at 2,500 ms.
const events: TraceEvent[] = [
  { t: 0, type: 'started', kind: 'find-node', target: 'f'.repeat(64), self: '0'.repeat(64), k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [A, B, C] },
  { t: 0, type: 'query', peer: A, hop: 1, bytes: 70 },
  { t: 0, type: 'query', peer: B, hop: 1, bytes: 70 },
  { t: 20, type: 'response', peer: A, hop: 1, rttMs: 20, bytes: 400, nodes: [C] },
  { t: 500, type: 'query', peer: C, hop: 2, bytes: 70 },
  { t: 2000, type: 'timeout', peer: B, hop: 1, afterMs: 2000 },
  { t: 2500, type: 'done', reason: 'exhausted', closest: [A], hops: 2, messages: 3, durationMs: 2500, timeToClosestMs: 20 },
];

const ids = { root: 'wf', row: 'wf-row', detail: 'wf-detail' };
const count = (html: string, needle: string): number => html.split(needle).length - 1;

describe('lookup waterfall', () => {
  it('places times on the axis as clamped percentages, with evenly spaced ticks', () => {
    expect(axisPct(250, 1000)).toBe('25.000%');
    expect(axisPct(1500, 1000)).toBe('100.000%');
    expect(axisPct(-5, 1000)).toBe('0.000%');
    expect(axisTicks(2000)).toEqual([0, 500, 1000, 1500, 2000]);
  });

  it('draws answered, timed-out and waiting rows; a waiting bar runs to the moment it is given', () => {
    const w = buildWaterfall(events);
    const [a, b, cc] = w.rows;
    expect(rowView(a, 2500)).toMatchObject({ status: 'answered', statusClass: undefined, rtt: '20 ms', barStart: 0, barMs: 20, barClass: 'response' });
    expect(rowView(b, 2500)).toMatchObject({ status: 'timeout', statusClass: 'c-bad', barMs: 2000, barClass: 'timeout' });
    expect(rowView(cc, 2500)).toMatchObject({ status: 'waiting', statusClass: 'muted', rtt: '…', barStart: 500, barMs: 2000, barClass: 'pending' });
    expect(rowView(cc, 800).barMs).toBe(300);
  });

  it('live (Lookups): one row per RPC, the lookup’s end marked on every row, no playhead', () => {
    const html = renderToStaticMarkup(createElement(LookupWaterfall, { waterfall: buildWaterfall(events), testIds: ids, pendingText: 'waiting' }));
    expect(count(html, 'data-testid="wf-row"')).toBe(3);
    expect(count(html, 'class="wf-done"')).toBe(3);
    expect(html).not.toContain('wf-playhead');
    // The waiting RPC's bar runs to the axis' end: from 20% (500 of 2,500 ms) for 80%.
    expect(html).toContain('left:20.000%;width:max(2px, 80.000%)');
  });

  it('replay (Traces): a playhead on the axis and each row, waiting bars run to it, no end marker', () => {
    const html = renderToStaticMarkup(createElement(LookupWaterfall, { waterfall: buildWaterfall(events), testIds: ids, pendingText: 'waiting', playhead: 1000, className: 'trace-wf' }));
    expect(html).toContain('class="wf trace-wf"');
    expect(count(html, 'class="wf-playhead" style="left:40.000%"')).toBe(4);
    expect(html).not.toContain('wf-done');
    expect(html).toContain('left:20.000%;width:max(2px, 20.000%)');
  });

  it('sorts by start (the order sent) or slowest first, each row keeping its number in the order sent', () => {
    const w = buildWaterfall(events);
    expect(sortRows(w.rows, 'start', 2500).map((x) => [x.row.peer.id[0], x.n])).toEqual([['a', 1], ['b', 2], ['c', 3]]);
    // B timed out after 2,000 ms; C waits from 500 ms to the end (2,000 ms too: sent order breaks the tie); A took 20 ms.
    expect(sortRows(w.rows, 'duration', 2500).map((x) => [x.row.peer.id[0], x.n])).toEqual([['b', 2], ['c', 3], ['a', 1]]);
    expect(sortRows(w.rows, 'duration', 3000).map((x) => x.row.peer.id[0])).toEqual(['c', 'b', 'a']);
  });

  it('marks the rows that returned the value, and counts them', () => {
    const found: TraceEvent[] = events.map((e) => (e.type === 'response' ? { ...e, hasValue: true } : e));
    const w = buildWaterfall(found);
    expect(rowView(w.rows[0], 2500)).toMatchObject({ status: 'returned the value', statusClass: 'c-good', barClass: 'value' });
    const html = renderToStaticMarkup(createElement(LookupWaterfall, { waterfall: w, testIds: ids, pendingText: 'waiting' }));
    expect(count(html, 'data-value="true"')).toBe(1);
    expect(html).toContain('3 RPCs · 1 returned the value');
  });

  it('shows what it is given when there are no rows yet', () => {
    const html = renderToStaticMarkup(createElement(LookupWaterfall, { waterfall: buildWaterfall(events.slice(0, 1)), testIds: ids, pendingText: 'waiting', playhead: 0, empty: createElement('p', null, 'nothing yet') }));
    expect(html).toContain('<p>nothing yet</p>');
    expect(html).toContain('data-rows="0"');
  });
});

describe('replay graph style', () => {
  const palette = { text: '#111', muted: '#666', faint: '#999', border: '#ccc', bg: '#fff', accent: '#26f', good: '#2a2', warn: '#f90', bad: '#e33', unknown: '#888' } satisfies Palette;
  const rule = (zoom: number, selector: string): Record<string, unknown> => replayGraphStyle(palette, zoom).find((r) => r.selector === selector)!.style as Record<string, unknown>;

  it('sizes the origin, the target and the peers’ labels in screen pixels at the fitted zoom', () => {
    for (const zoom of [0.25, 0.4, 1]) {
      expect((rule(zoom, 'node.target')['font-size'] as number) * zoom).toBeCloseTo(12.5);
      expect((rule(zoom, 'node.self')['width'] as number) * zoom).toBeCloseTo(20);
      expect((rule(zoom, 'node')['font-size'] as number) * zoom).toBeCloseTo(10);
    }
    expect(rule(0.3, 'node.target')['min-zoomed-font-size']).toBe(0);
  });

  it('keeps the rings their diameter: the rule for every node must not shrink them to dots', () => {
    expect(rule(0.3, 'node.ring')).toMatchObject({ width: 'data(size)', height: 'data(size)' });
  });
});
