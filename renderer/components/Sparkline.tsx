// A tiny inline SVG line chart: no chart library, no axes, just the shape of the last minutes.
import type { ReactElement } from 'react';

const W = 100;
const H = 30;

export function Sparkline({ values, tone = 'accent', label, min }: { values: number[]; tone?: 'accent' | 'good' | 'warn' | 'bad' | 'muted'; label: string; min?: number }): ReactElement {
  const n = values.length;
  let lo = min ?? Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (min === undefined) lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!Number.isFinite(lo)) lo = 0;
  if (!Number.isFinite(hi) || hi === lo) hi = lo + 1;
  const pts = values.map((v, i) => [n <= 1 ? W : (i / (n - 1)) * W, H - ((v - lo) / (hi - lo)) * H] as const);
  const line = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(2)} ${y.toFixed(2)}`).join(' ');
  const area = n > 1 ? `${line} L${W} ${H} L0 ${H} Z` : '';
  return (
    <svg className={`spark c-${tone}`} viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={label}>
      {n > 1 && <path className="area" d={area} />}
      {n > 1 && <path className="line" d={line} />}
    </svg>
  );
}

/** Per-second rates from cumulative samples: rate[i] = (v[i] - v[i-1]) / dt. */
export function rates(samples: { at: number; v: number }[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i].at - samples[i - 1].at) / 1000;
    out.push(dt > 0 ? Math.max(0, samples[i].v - samples[i - 1].v) / dt : 0);
  }
  return out;
}

/**
 * The average rate over the samples' window and the window's length: the counter's growth over the
 * time it took. A mean of per-interval rates over-weights short intervals and, shown beside a total
 * since start, read as a rate of that total.
 */
export function windowRate(samples: { at: number; v: number }[]): { perSecond: number; spanMs: number } {
  if (samples.length < 2) return { perSecond: 0, spanMs: 0 };
  const first = samples[0];
  const last = samples[samples.length - 1];
  const spanMs = last.at - first.at;
  return { perSecond: spanMs > 0 ? Math.max(0, last.v - first.v) / (spanMs / 1000) : 0, spanMs };
}
