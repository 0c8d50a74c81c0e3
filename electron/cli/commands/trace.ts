// `kadscope trace show <file>`: a saved lookup trace (.kadtrace.json) as a text waterfall in the
// terminal, one row per RPC like a browser's network panel, and a summary; `--json` prints the parsed
// trace. A file that is not a valid trace exits 2 with the loader's message (which names the field).
import { readFile } from 'node:fs/promises';
import type { Trace } from '../../host/contract';
import { traceRpcs, type TraceRpc } from '../../host/trace-build';
import { TRACE_FILE_SUFFIX, parseTrace } from '../../host/trace-format';
import { EXIT_OK, intFlag, parse, UsageError, type Command } from '../shared';

/** Characters the bar column spans by default, and the limits of --width. */
export const DEFAULT_BAR_WIDTH = 40;
const MIN_BAR_WIDTH = 10;
const MAX_BAR_WIDTH = 200;
/** Characters of a peer id shown per row (the full ids are in --json and the closest set). */
const SHORT_ID = 8;
const ADDRESS_WIDTH = 21;

/** Left-aligned eighths of a cell: a bar ending inside a cell (index = eighths covered). */
const LEFT_EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
/** Timeouts and errors are shaded, so they stand apart from answers without colour. */
const TIMEOUT_CELL = '░';
const ERROR_CELL = '▒';

export const traceCommand: Command = {
  name: 'trace',
  summary: 'show a saved lookup trace as a waterfall',
  usage: `kadscope trace show <file${TRACE_FILE_SUFFIX}> [--width N] [--json]

  show F      print every RPC of the traced lookup on a timeline, then its outcome
  --width N   characters of the timeline bar (${MIN_BAR_WIDTH}-${MAX_BAR_WIDTH}, default ${DEFAULT_BAR_WIDTH})
  --json      print the parsed trace as one JSON object instead

Traces come from \`kadscope lookup <target> --trace F\` and from the app's Traces view (Save).`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { width: { type: 'string' }, json: { type: 'boolean' } });
    const [sub, file, ...extra] = positionals;
    if (sub !== 'show') throw new UsageError(sub === undefined ? 'trace needs a subcommand: trace show <file>' : `unknown trace subcommand "${sub}"; try: trace show <file>`);
    if (file === undefined || extra.length > 0) throw new UsageError('trace show takes one file');
    const width = intFlag('width', values.width, MIN_BAR_WIDTH, MAX_BAR_WIDTH, DEFAULT_BAR_WIDTH);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
    const r = parseTrace(text);
    if (!r.ok) throw new UsageError(`${file}: ${r.message}`);
    if (values.json) io.out(JSON.stringify(r.value));
    else for (const line of renderTrace(r.value, { width })) io.out(line);
    return EXIT_OK;
  },
};

/** The text waterfall: a header, one row per RPC, the summary line and the final closest set. */
export function renderTrace(trace: Trace, options: { width?: number } = {}): string[] {
  const width = options.width ?? DEFAULT_BAR_WIDTH;
  const rpcs = traceRpcs(trace.events);
  const s = trace.summary;
  const last = trace.events.at(-1)?.t ?? 0;
  const span = Math.max(s.durationMs ?? last, last, 1);
  const p = trace.params;
  const timeouts = `RPC timeout ${p.rpcTimeoutMs} ms${p.lookupTimeoutMs !== undefined ? `, deadline ${formatMs(p.lookupTimeoutMs)}` : ''}`;
  const out: string[] = [
    `${trace.kind} ${trace.target}`,
    `from ${trace.self} · k ${p.k}${p.width !== undefined ? ` (waits for ${p.width})` : ''}, alpha ${p.alpha}, ${timeouts} · started ${formatStart(trace.startedAt)}${trace.origin === 'imported' ? ' · imported' : ''}`,
    '',
  ];
  const numW = Math.max(2, String(rpcs.length).length);
  const axis = axisLabel(span, width);
  out.push(`${'#'.padStart(numW)}  ${'offset'.padStart(9)}  ${'peer'.padEnd(SHORT_ID)}  ${'address'.padEnd(ADDRESS_WIDTH)}  ${axis}  ${'result'.padEnd(12)}  nodes`);
  rpcs.forEach((rpc, i) => {
    const end = rpc.end ?? span;
    out.push(
      `${String(i + 1).padStart(numW)}  ${formatMs(rpc.start).padStart(9)}  ${rpc.peer.id.slice(0, SHORT_ID).padEnd(SHORT_ID)}  ${address(rpc.peer).padEnd(ADDRESS_WIDTH)}  │${bar(rpc, rpc.start, end, span, width)}│  ${result(rpc).padEnd(12)}  ${rpc.outcome === 'response' ? String(rpc.returned.length).padStart(5) : '    -'}`,
    );
  });
  if (rpcs.length === 0) out.push('(no RPCs: the lookup asked nobody)');
  out.push('');
  out.push(summaryLine(trace));
  if (trace.truncated) out.push('note: this trace hit its event limit; later RPCs are missing (the summary still counts them)');
  if (s.closest.length > 0) {
    out.push(`final closest set (${s.closest.length}), nearest first:`);
    s.closest.forEach((c, i) => out.push(`${String(i + 1).padStart(4)}. ${c.id}  ${address(c)}`));
  }
  return out;
}

function summaryLine(trace: Trace): string {
  const s = trace.summary;
  const counts = `${plural(s.responses, 'answer')}, ${plural(s.timeouts, 'timeout')}, ${plural(s.errors, 'error')}`;
  if (s.reason === null) return `unfinished (the trace ends before its lookup did) · ${plural(s.messages, 'message')} · ${counts}`;
  return `${s.reason} · ${plural(s.hops ?? 0, 'hop')} · ${plural(s.messages, 'message')} (${counts}) · ${formatMs(s.durationMs ?? 0)} · closest set at ${formatMs(s.timeToClosestMs ?? 0)}`;
}

/**
 * One row's bar: `width` cells, each 8 eighths, the RPC's [start, end) scaled to the lookup's span.
 * Answers are solid (with eighth blocks at the end for precision), timeouts and errors shaded.
 */
export function bar(rpc: Pick<TraceRpc, 'outcome'>, start: number, end: number, span: number, width: number): string {
  const total = width * 8;
  const s8 = Math.min(total - 1, Math.max(0, Math.floor((start / span) * total)));
  const e8 = Math.min(total, Math.max(s8 + 1, Math.ceil((end / span) * total)));
  const shade = rpc.outcome === 'timeout' ? TIMEOUT_CELL : rpc.outcome === 'error' ? ERROR_CELL : null;
  let line = '';
  for (let c = 0; c < width; c++) {
    const lo = c * 8;
    const covered = Math.max(0, Math.min(e8, lo + 8) - Math.max(s8, lo));
    if (covered === 0) line += ' ';
    else if (shade) line += shade;
    else if (covered === 8) line += '█';
    // Starting inside this cell and running to its right edge: the right half block, or a sliver.
    else if (s8 > lo && e8 >= lo + 8) line += covered >= 4 ? '▐' : '▕';
    else line += LEFT_EIGHTHS[covered];
  }
  return line;
}

function axisLabel(span: number, width: number): string {
  const right = formatMs(span);
  const inner = width + 2; // the bar's │ borders
  return `0${right.padStart(inner - 1)}`;
}

function result(rpc: TraceRpc): string {
  if (rpc.outcome === 'response') return `${formatMs(rpc.rttMs ?? 0)}${rpc.hasValue ? ' +value' : ''}`;
  if (rpc.outcome === 'timeout') return 'timeout';
  if (rpc.outcome === 'error') return `error ${rpc.error?.split(':')[0] ?? ''}`.trim();
  return 'no answer';
}

function address(c: { host: string; port: number }): string {
  return c.host.includes(':') ? `[${c.host}]:${c.port}` : `${c.host}:${c.port}`;
}

/** "0.4 ms", "12.3 ms", "850 ms", "4.20 s". */
function formatMs(ms: number): string {
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function formatStart(at: number): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? 'at an unknown time' : `${d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
