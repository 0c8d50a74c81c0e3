// The lookup trace file format (`.kadtrace.json`, version 3; version 1 and 2 files are migrated on load): a zod schema that validates a trace on
// load and names the offending field. No Node imports: the renderer validates opened files with it
// too. The TypeScript shape is `Trace` in contract.ts; this schema is checked against it below.
import { z } from 'zod';
import { MAX_TRACE_JSON_CHARS, TRACE_FORMAT, TRACE_VERSION, type Result, type Trace, err, ok } from './contract';

/** What a trace file's name ends with (the app's save dialog and download, the CLI's examples). */
export const TRACE_FILE_SUFFIX = '.kadtrace.json';

const hexId = z.string().regex(/^(?:[0-9a-f]{64}|[0-9a-f]{40})$/, { error: 'expected 64 lowercase hex characters (40 on Mainline)' });
const protocolName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'expected a protocol name such as "kadscope" or "mainline"' });
const ms = z.number().finite().min(0, { error: 'must be at least 0' });
const count = z.number().int().min(0);
const contact = z.strictObject({ id: hexId, host: z.string().min(1).max(255), port: z.number().int().min(0).max(65535) });
const kind = z.enum(['find-node', 'find-value', 'get-peers']);
const reason = z.enum(['converged', 'value-found', 'exhausted', 'no-peers', 'aborted', 'timeout']);
/** A trace from a busy lookup stays far below this; a larger one is not something we wrote. */
export const MAX_TRACE_EVENTS = 20_000;
const MAX_CONTACTS = 256;

const t = { t: ms };
const traceEvent = z.discriminatedUnion('type', [
  z.strictObject({
    ...t,
    type: z.literal('started'),
    kind,
    target: hexId,
    self: hexId,
    k: count,
    alpha: count,
    rpcTimeoutMs: ms,
    lookupTimeoutMs: ms.optional(),
    seeds: z.array(contact).max(MAX_CONTACTS),
    protocol: protocolName.optional(),
    width: count.optional(),
  }),
  z.strictObject({ ...t, type: z.literal('query'), peer: contact, hop: count, bytes: count }),
  z.strictObject({
    ...t,
    type: z.literal('response'),
    peer: contact,
    hop: count,
    rttMs: ms,
    bytes: count,
    nodes: z.array(contact).max(MAX_CONTACTS),
    hasValue: z.boolean().optional(),
    peerCount: count.optional(),
  }),
  z.strictObject({ ...t, type: z.literal('timeout'), peer: contact, hop: count, afterMs: ms }),
  z.strictObject({ ...t, type: z.literal('error'), peer: contact, hop: count, code: z.string().max(64), message: z.string().max(1000) }),
  z.strictObject({
    ...t,
    type: z.literal('done'),
    reason,
    closest: z.array(contact).max(MAX_CONTACTS),
    hops: count,
    messages: count,
    durationMs: ms,
    timeToClosestMs: ms,
  }),
]);

const summary = z.strictObject({
  reason: reason.nullable(),
  durationMs: ms.nullable(),
  hops: count.nullable(),
  messages: count,
  timeToClosestMs: ms.nullable(),
  closest: z.array(contact).max(MAX_CONTACTS),
  responses: count,
  timeouts: count,
  errors: count,
});

const traceSchema = z.strictObject({
  format: z.literal(TRACE_FORMAT, { error: `expected "${TRACE_FORMAT}"` }),
  version: z.literal(TRACE_VERSION),
  protocol: protocolName,
  id: z.string().min(1).max(128),
  startedAt: ms,
  self: hexId,
  target: hexId,
  kind,
  params: z.strictObject({ k: count, alpha: count, rpcTimeoutMs: ms, lookupTimeoutMs: ms.optional(), width: count.optional() }),
  events: z.array(traceEvent).max(MAX_TRACE_EVENTS, { error: `at most ${MAX_TRACE_EVENTS} events` }),
  summary,
  origin: z.enum(['live', 'imported']),
  truncated: z.boolean(),
}).superRefine((trace, ctx) => {
  // The events must tell one lookup's story in order: what a replay and `trace show` rely on.
  const first = trace.events[0];
  if (!first || first.type !== 'started') {
    ctx.addIssue({ code: 'custom', path: ['events', 0, 'type'], message: 'the first event must be "started"' });
    return;
  }
  for (const f of ['target', 'self', 'kind'] as const) {
    if (first[f] !== trace[f]) ctx.addIssue({ code: 'custom', path: ['events', 0, f], message: `differs from the trace's ${f} ${JSON.stringify(trace[f])}` });
  }
  for (let i = 1; i < trace.events.length; i++) {
    const e = trace.events[i];
    if (e.type === 'started') ctx.addIssue({ code: 'custom', path: ['events', i, 'type'], message: 'only the first event may be "started"' });
    if (e.type === 'done' && i !== trace.events.length - 1) ctx.addIssue({ code: 'custom', path: ['events', i, 'type'], message: 'a "done" event must be the last' });
    const prev = trace.events[i - 1].t;
    if (e.t < prev) ctx.addIssue({ code: 'custom', path: ['events', i, 't'], message: `is earlier than the event before it (${e.t} < ${prev} ms)` });
  }
});

// Compile-time check that the schema and the contract's Trace agree in both directions.
type SchemaTrace = z.infer<typeof traceSchema>;
const _toContract = (x: SchemaTrace): Trace => x;
const _fromContract = (x: Trace): SchemaTrace => x;
void _toContract;
void _fromContract;

/** Parses a trace file's text: INVALID_ARGUMENT naming the field, or a clear word about newer versions. */
export function parseTrace(text: string): Result<Trace> {
  if (text.length > MAX_TRACE_JSON_CHARS) {
    return err('INVALID_ARGUMENT', `not a trace file: ${text.length} characters; a trace file is at most ${MAX_TRACE_JSON_CHARS} (8 MB)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return err('INVALID_ARGUMENT', `not a trace file: not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return err('INVALID_ARGUMENT', 'not a trace file: expected a JSON object');
  const head = raw as { format?: unknown; version?: unknown };
  if (head.format !== TRACE_FORMAT) return err('INVALID_ARGUMENT', `not a trace file: format is ${JSON.stringify(head.format)}, expected "${TRACE_FORMAT}"`);
  if (typeof head.version === 'number' && head.version > TRACE_VERSION) {
    return err('INVALID_ARGUMENT', `this trace was written by a newer kadscope (format version ${head.version}); this one reads version ${TRACE_VERSION}`);
  }
  const r = traceSchema.safeParse(migrateTrace(raw));
  if (!r.success) return err('INVALID_ARGUMENT', `invalid trace: ${describeTraceIssues(r.error.issues, raw)}`);
  return ok(r.data);
}

/**
 * An older file as the current version: version 1 had no protocol (every trace was kadscope's);
 * versions 1 and 2 had no width (every lookup was k wide, which an absent width says). Anything
 * else is returned as it is, for the schema to judge.
 */
export function migrateTrace(raw: unknown): unknown {
  const head = raw as { version?: unknown; protocol?: unknown };
  if (head.version === 1 && head.protocol === undefined) return { ...(raw as object), version: TRACE_VERSION, protocol: 'kadscope' };
  if (head.version === 2) return { ...(raw as object), version: TRACE_VERSION };
  return raw;
}

/** Problems named in one message; the rest are counted. */
const MAX_TRACE_ISSUES = 3;

/** What a schema type is called in words. */
const TYPE_WORDS: Record<string, string> = { number: 'a number', int: 'a whole number', string: 'text', boolean: 'true or false', array: 'a list', object: 'an object' };

/** A value as a reader would name it: the text "x", the number 3, a list, nothing. */
function valueWords(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'an object';
}

function at(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * Where in the file, in words: "event 3 (a "query" event), its peer's port", "the summary's reason",
 * "the top level". The dotted path stays in front for tools and for searching the file.
 */
function placeWords(path: readonly PropertyKey[], raw: unknown): string {
  if (path.length === 0) return 'the file';
  const words: string[] = [];
  let i = 0;
  if (path[0] === 'events' && typeof path[1] === 'number') {
    const type = at(raw, ['events', path[1], 'type']);
    words.push(`event ${path[1] + 1}${typeof type === 'string' && path.length > 2 ? ` (a ${JSON.stringify(type)} event)` : ''}`);
    i = 2;
  }
  const rest = path.slice(i).map((k) => (typeof k === 'number' ? `#${k + 1}` : String(k)));
  if (rest.length > 0) words.push(`field ${rest.join(' › ')}`);
  return words.join(', ');
}

/** One schema problem in words: where it is and what is wrong, e.g. `events.2.peer.port: event 3 (a "query" event), field peer › port: should be a number, but it is the text "x"`. */
function issueWords(i: z.core.$ZodIssue, raw: unknown): string {
  const path = i.path.length > 0 ? i.path.map(String).join('.') : '(top level)';
  const place = placeWords(i.path, raw);
  const value = at(raw, i.path);
  let what: string;
  if (i.code === 'invalid_type') {
    const want = TYPE_WORDS[i.expected] ?? i.expected;
    what = value === undefined ? `missing (it should be ${want})` : `should be ${want}, but it is ${valueWords(value)}`;
  } else if (i.code === 'unrecognized_keys') {
    what = `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  } else if (i.code === 'invalid_value') {
    what = `should be ${i.values.map((v) => JSON.stringify(v)).join(' or ')}, but it is ${valueWords(value)}`;
  } else if (i.code === 'invalid_union' && 'discriminator' in i) {
    what = `${valueWords(value)} is not a kind of event a trace has (${(i as { options?: unknown[] }).options?.map((o) => JSON.stringify(o)).join(', ') ?? ''})`;
  } else if (i.code === 'invalid_format') {
    what = `${i.message}, but it is ${valueWords(value)}`;
  } else if (i.code === 'too_small') {
    what = i.origin === 'array' || i.origin === 'string' ? `is too short: ${valueWords(value)}` : `must be at least ${String(i.minimum)}, but it is ${valueWords(value)}`;
  } else if (i.code === 'too_big') {
    what = i.origin === 'array' || i.origin === 'string' ? i.message : `must be at most ${String(i.maximum)}, but it is ${valueWords(value)}`;
  } else {
    what = i.message;
  }
  return `${path}: ${place}: ${what}`;
}

/** A trace file's schema problems in words, the first few of them. */
function describeTraceIssues(issues: readonly z.core.$ZodIssue[], raw: unknown): string {
  const parts = issues.slice(0, MAX_TRACE_ISSUES).map((i) => issueWords(i, raw));
  const more = issues.length - MAX_TRACE_ISSUES;
  if (more > 0) parts.push(`and ${more} more problem${more === 1 ? '' : 's'}`);
  return parts.join('; ');
}

/**
 * The file's text: plain JSON, the header fields first and one event per line, so a trace reads well
 * in a diff or a bug report and any JSON reader loads it. parseTrace(serializeTrace(t)) equals t.
 */
export function serializeTrace(trace: Trace): string {
  const fields = Object.entries(trace).filter(([, value]) => value !== undefined);
  const lines = fields.map(([key, value]) => {
    if (key !== 'events' || !Array.isArray(value) || value.length === 0) return `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`;
    return `  "events": [\n${value.map((e) => `    ${JSON.stringify(e)}`).join(',\n')}\n  ]`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}

/** A file name for a trace: kind, target prefix and start time (UTC), e.g. find-node-3fa2c1d9-20250101-120000.kadtrace.json. */
export function traceFileName(trace: Pick<Trace, 'kind' | 'target' | 'startedAt'>): string {
  const d = new Date(trace.startedAt);
  const stamp = Number.isNaN(d.getTime()) ? 'unknown-time' : d.toISOString().replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '-');
  return `${trace.kind}-${trace.target.slice(0, 8)}-${stamp}${TRACE_FILE_SUFFIX}`;
}
