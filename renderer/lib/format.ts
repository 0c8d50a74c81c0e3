// Number, size and time formatting shared by the views. Pure, so tests and views agree.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[u]}`;
}

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (Math.abs(n) < 10_000) return String(Math.round(n));
  if (Math.abs(n) < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** A duration in ms as "850 ms", "4.2 s", "3 m 05 s", "2 h 10 m". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/**
 * The value formatDuration shows, in ms: a figure derived from shown durations (a difference) is
 * computed from these, so "8 ms vs 24 ms" reads "+16 ms", never "+17 ms".
 */
export function shownDurationMs(ms: number): number {
  const v = Math.max(0, ms);
  if (v < 1000) return Math.round(v);
  if (v < 10_000) return Math.round(v / 10) * 10;
  if (v < 60_000) return Math.round(v / 100) * 100;
  return Math.floor(v / 1000) * 1000;
}

/**
 * A difference of two shown durations (shownDurationMs), exactly: whole ms below a second, then
 * seconds with as many decimals as it needs (up to 3), then formatDuration's minutes.
 */
export function formatDurationDelta(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms > 0 ? '+' : ms < 0 ? '−' : '';
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(3).replace(/0+$/, '').replace(/\.$/, '')} s`;
  return `${sign}${formatDuration(abs)}`;
}

/** "3 s ago", "never". `now` and `at` are on the same clock. */
export function formatAgo(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return 'never';
  const d = now - at;
  if (d < 1000) return 'just now';
  return `${formatDuration(d).replace(/\.\d+ s$/, ' s')} ago`;
}

export function formatRtt(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function formatClock(at: number): string {
  const d = new Date(at);
  return d.toLocaleTimeString(undefined, { hour12: false });
}

export function endpointText(e: { host: string; port: number } | null | undefined): string {
  if (!e) return '—';
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** "1 hop", "3 hops". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
