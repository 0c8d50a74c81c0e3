// Renders results/latest.json into results/latest.md: the README-ready report of the newest run of
// every workload. One table per workload (median [interquartile range], means for rates, ratio
// kadscope / peer), the command that made it and the machine it ran on, and the issue's goals as
// ratios taken from those same figures.
//
//   node --import tsx test/bench/run.ts --render          (npm run bench -- --render)
//
// run.ts also renders after every run, so latest.md never lags latest.json.
import type { Figure, Summary, WorkloadResult } from './harness';
import { RESULTS_DIR, SUBJECT, markdownTable } from './harness';

/** Workloads in report order; any others follow in name order. */
const ORDER = ['lookup-100', 'lookup-500', 'put-get', 'ping', 'codec', 'scale-memory', 'crawl', 'explorer-cost', 'ui-frames', 'metrics-cost'];

/** Correctness the largest memory network must show to count as "queried correctly" (true closest 100%, recall >= 99.5%). */
const SCALE_TRUE_CLOSEST_MIN = 1;
const SCALE_RECALL_MIN = 0.995;
/** Ping throughput against the fastest peer's: at least this ratio. */
const PING_RATIO_MIN = 1.2;
/** CPU of a node with the explorer attached against the bare node: at most this ratio. */
const EXPLORER_CPU_RATIO_MAX = 1.05;

function central(s: Summary | null | undefined, f: Figure): number | null {
  if (!s || s.n === 0) return null;
  return f.show === 'median' ? s.median : s.mean;
}

function figure(r: WorkloadResult | undefined, metric: string): Figure | undefined {
  return r?.figures.find((f) => f.metric === metric);
}

function value(r: WorkloadResult | undefined, metric: string, system: string): number | null {
  const f = figure(r, metric);
  return f ? central(f.values[system], f) : null;
}

/** The peers: every system but kadscope and its variants (`kadscope (node:dgram)`, measured beside it). */
function peersOf(r: WorkloadResult): string[] {
  return r.systems.filter((s) => s !== SUBJECT && !s.startsWith(`${SUBJECT} (`) && r.status[s]?.status === 'ok');
}

function num(x: number | null, digits = 2, unit = ''): string {
  if (x === null || !Number.isFinite(x)) return '–';
  return `${x.toFixed(digits)}${unit}`;
}

function pct(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(1)}%`;
}

export interface Goal {
  goal: string;
  kadscope: string;
  bestPeer: string;
  ratio: string;
  met: boolean | null;
}

/** The issue's goals, each as a ratio kadscope / best peer from the figures of one run. */
export function goals(latest: Record<string, WorkloadResult>): Goal[] {
  const out: Goal[] = [];
  for (const name of ['lookup-100', 'lookup-500']) {
    const r = latest[name];
    if (!r) continue;
    const peers = peersOf(r);
    const recallMetric = r.figures.find((f) => f.metric.startsWith('recall@'))?.metric ?? 'recall@20';
    const msgs = (s: string): number | null => value(r, 'messages per lookup', s);
    const closest = (s: string): number | null => value(r, 'true closest found', s);
    const recall = (s: string): number | null => value(r, recallMetric, s);
    // Messages: the peer with the fewest, provided kadscope is at least as correct as it.
    const byMsgs = peers.filter((p) => msgs(p) !== null).sort((a, b) => msgs(a)! - msgs(b)!);
    const best = byMsgs[0];
    const mine = msgs(SUBJECT);
    if (best && mine !== null) {
      const asCorrect = (closest(SUBJECT) ?? 0) >= (closest(best) ?? 1) && (recall(SUBJECT) ?? 0) >= (recall(best) ?? 1);
      out.push({
        goal: `${name}: messages per lookup ≤ best peer's, at equal or better correctness`,
        kadscope: `${num(mine, 1)} (closest ${pct(closest(SUBJECT))}, recall ${pct(recall(SUBJECT))})`,
        bestPeer: `${best} ${num(msgs(best), 1)} (closest ${pct(closest(best))}, recall ${pct(recall(best))})`,
        ratio: `${num(mine / msgs(best)!)}×`,
        met: mine <= msgs(best)! && asCorrect,
      });
    }
    const lat = (s: string): number | null => value(r, 'lookup latency median', s);
    const fastest = peers.filter((p) => lat(p) !== null).sort((a, b) => lat(a)! - lat(b)!)[0];
    const myLat = lat(SUBJECT);
    if (fastest && myLat !== null) {
      out.push({
        goal: `${name}: median lookup latency ≤ best peer's`,
        kadscope: num(myLat, 2, ' ms'),
        bestPeer: `${fastest} ${num(lat(fastest), 2, ' ms')}`,
        ratio: `${num(myLat / lat(fastest)!)}×`,
        met: myLat <= lat(fastest)!,
      });
    }
  }
  const ping = latest.ping;
  if (ping) {
    const rate = (s: string): number | null => value(ping, 'ping throughput', s);
    const best = peersOf(ping).filter((p) => rate(p) !== null).sort((a, b) => rate(b)! - rate(a)!)[0];
    const mine = rate(SUBJECT);
    if (best && mine !== null) {
      out.push({
        goal: `ping throughput ≥ ${PING_RATIO_MIN}× best peer's`,
        kadscope: num(mine, 0, ' pings/s'),
        bestPeer: `${best} ${num(rate(best), 0, ' pings/s')}`,
        ratio: `${num(mine / rate(best)!)}×`,
        met: mine >= PING_RATIO_MIN * rate(best)!,
      });
    }
  }
  const l500 = latest['lookup-500'];
  if (l500) {
      // The issue's bars: heap against bittorrent-dht's (the lightest), build and settle against dht-rpc's.
    for (const [metric, what, unit, digits, peer] of [
      ['memory per node (heap)', 'heap per node', ' KiB', 1, 'bittorrent-dht'],
      ['network build and settle', 'network build and settle', ' s', 2, 'dht-rpc'],
    ] as const) {
      const v = (sys: string): number | null => value(l500, metric, sys);
      const best = peersOf(l500).includes(peer) && v(peer) !== null ? peer : undefined;
      const mine = v(SUBJECT);
      if (!best || mine === null) continue;
      out.push({
        goal: `lookup-500: ${what} ≤ ${peer}'s`,
        kadscope: num(mine, digits, unit),
        bestPeer: `${best} ${num(v(best), digits, unit)}`,
        ratio: `${num(mine / v(best)!)}×`,
        met: mine <= v(best)!,
      });
    }
  }
  const scale = latest['scale-memory'];
  const sizes = (scale?.settings.sizes as number[] | undefined) ?? [];
  if (scale && sizes.length) {
    const size = Math.max(...sizes);
    const label = `${size.toLocaleString('en-US')} nodes`;
    const built = value(scale, `${label}: build time (wall clock)`, SUBJECT);
    const closest = value(scale, `${label}: true closest found`, SUBJECT);
    const recall = value(scale, `${label}: recall@20`, SUBJECT);
    const heap = value(scale, `${label}: heap per node`, SUBJECT);
    const found = value(scale, `${label}: crawled under fake time, nodes found`, SUBJECT);
    out.push({
      goal: `${label.replace(' nodes', '')}-node memory network built and queried correctly (closest 100%, recall ≥ 99.5%), crawled with every node found`,
      kadscope:
        built === null
          ? 'not built'
          : `built in ${num(built / 60, 1)} min, ${num(heap, 1)} KiB/node; closest ${pct(closest)}, recall ${pct(recall)}; crawl found ${pct(found)}`,
      bestPeer: 'n/a (no simulated transport)',
      ratio: '–',
      met: built !== null && closest !== null && recall !== null && closest >= SCALE_TRUE_CLOSEST_MIN && recall >= SCALE_RECALL_MIN && found === 1,
    });
  }
  const explorer = latest['explorer-cost'];
  const cpuRatio = explorer ? value(explorer, 'explorer CPU / bare CPU (paired by round)', SUBJECT) : null;
  if (explorer && cpuRatio !== null) {
    // Three readings of the same windows, and the goal takes the worst: the median of the rounds'
    // ratios, the ratio of the two kinds' medians, and (where the workload split CPU by thread) the
    // main thread's. One window whose GC threads ran long can move the first two by more than the
    // 5% margin; the main thread runs the node and the explorer and swings least.
    const withIt = value(explorer, 'node CPU, same work, explorer and event stream attached', SUBJECT);
    const bare = value(explorer, explorer.figures[0].metric, SUBJECT);
    const mainWith = value(explorer, 'main thread, explorer attached', SUBJECT);
    const mainBareMetric = explorer.figures.find((f) => f.metric.startsWith('main thread, bare'))?.metric;
    const mainBare = mainBareMetric !== undefined ? value(explorer, mainBareMetric, SUBJECT) : null;
    const readings = [cpuRatio];
    if (withIt !== null && bare !== null && bare > 0) readings.push(withIt / bare);
    if (mainWith !== null && mainBare !== null && mainBare > 0) readings.push(mainWith / mainBare);
    const worst = Math.max(...readings);
    const main = mainWith !== null && mainBare !== null ? `; main thread ${num(mainWith, 1)}% against ${num(mainBare, 1)}%` : '';
    out.push({
      goal: `explorer's cost: node CPU with the UI's event stream ≤ ${EXPLORER_CPU_RATIO_MAX}× the bare node's (the worst of: median of paired rounds, ratio of medians, main thread's ratio)`,
      kadscope: `${num(withIt, 1, '% of a core')} against ${num(bare, 1, '%')} bare (paired ${num(cpuRatio)}×)${main}`,
      bestPeer: 'n/a',
      ratio: `${num(worst)}×`,
      met: worst <= EXPLORER_CPU_RATIO_MAX,
    });
  }
  return out;
}

function machineLine(r: WorkloadResult): string {
  const m = r.machine;
  const load = m.loadAverage ? `, load average ${m.loadAverage.join(' / ')} (1/5/15 min)` : '';
  return `${m.cpus} × ${m.cpuModel}, ${(m.totalMemoryBytes / 2 ** 30).toFixed(0)} GiB, Node ${m.node} ${m.platform}-${m.arch}${load}`;
}

export function renderMarkdown(latest: Record<string, WorkloadResult>): string {
  const names = Object.keys(latest).sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    return (ia < 0 ? ORDER.length : ia) - (ib < 0 ? ORDER.length : ib) || a.localeCompare(b);
  });
  const commands = [...new Set(names.map((n) => latest[n].command))];
  const lines: string[] = [
    '## Benchmarks',
    '',
    `kadscope beside dht-rpc (holepunch) and bittorrent-dht (webtorrent), on one machine in one run: each workload in a fresh process, all systems together in it, interleaved.`,
    `Made by \`${commands.join('`, `')}\`${commands.length > 1 ? ' (see each table)' : ''}; figures are median [interquartile range], rates are means, and the last columns are kadscope / peer.`,
    '',
  ];
  const g = goals(latest);
  if (g.length) {
    lines.push('### Goals', '', '| goal | kadscope | best peer | ratio | met |', '| --- | --- | --- | ---: | :---: |');
    for (const x of g) lines.push(`| ${x.goal} | ${x.kadscope} | ${x.bestPeer} | ${x.ratio} | ${x.met === null ? '–' : x.met ? 'yes' : '**no**'} |`);
    lines.push('');
  }
  for (const name of names) {
    const r = latest[name];
    lines.push(`### ${name}`, '', markdownTable(r), '');
    lines.push(`<sub>\`${r.command}\` · ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC · ${machineLine(r)}</sub>`, '');
    for (const note of r.notes) lines.push(`- ${note}`);
    if (r.notes.length) lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Reads results/latest.json and writes results/latest.md next to it; returns the path written. */
export async function renderLatest(): Promise<string> {
  const fs = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const dir = fileURLToPath(RESULTS_DIR);
  const latest = JSON.parse(await fs.readFile(`${dir}latest.json`, 'utf8')) as Record<string, WorkloadResult>;
  const file = `${dir}latest.md`;
  await fs.writeFile(file, renderMarkdown(latest));
  return file;
}
