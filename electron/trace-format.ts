// The lookup trace file format (`.kadtrace.json`, version 1): a zod schema that validates a trace on
// load and names the offending field. No Node imports: the renderer validates opened files with it
// too. The TypeScript shape is `Trace` in contract.ts; this schema is checked against it below.
import { z } from 'zod';
import { TRACE_FORMAT, TRACE_VERSION, formatIssues, type Result, type Trace, err, ok } from './contract';

const hexId = z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex characters' });
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
    seeds: z.array(contact).max(MAX_CONTACTS),
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

export const traceSchema = z.strictObject({
  format: z.literal(TRACE_FORMAT, { error: `expected "${TRACE_FORMAT}"` }),
  version: z.literal(TRACE_VERSION),
  id: z.string().min(1).max(128),
  startedAt: ms,
  self: hexId,
  target: hexId,
  kind,
  params: z.strictObject({ k: count, alpha: count, rpcTimeoutMs: ms }),
  events: z.array(traceEvent).max(MAX_TRACE_EVENTS, { error: `at most ${MAX_TRACE_EVENTS} events` }),
  summary,
  origin: z.enum(['live', 'imported']),
  truncated: z.boolean(),
});

// Compile-time check that the schema and the contract's Trace agree in both directions.
type SchemaTrace = z.infer<typeof traceSchema>;
const _toContract = (x: SchemaTrace): Trace => x;
const _fromContract = (x: Trace): SchemaTrace => x;
void _toContract;
void _fromContract;

/** Parses a trace file's text: INVALID_ARGUMENT naming the field, or a clear word about newer versions. */
export function parseTrace(text: string): Result<Trace> {
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
  const r = traceSchema.safeParse(raw);
  if (!r.success) return err('INVALID_ARGUMENT', `invalid trace: ${formatIssues(r.error.issues)}`);
  return ok(r.data);
}
