// An application's own RPC methods (Insolar's RemoteProcedureRegister, go-dht's CustomCmd): a name,
// an argument schema and a handler, registered on a node and called on peers with CALL (wire method
// 6). Arguments and results travel as one CBOR item each, inside the CALL's byte fields, so the wire
// format stays closed and strict while an application's values are its own business.
//
// The receiving side is the hostile one: the arguments come from anyone. They are decoded with a
// cbor-x Decoder of their own (plain objects, no records or structures carried between datagrams)
// and then go through the method's schema before the handler sees them; whatever fails either step
// is refused with a reason, and a handler that throws is refused with its message. Nothing here can
// throw past the RPC layer.
import { Decoder, Encoder, type Options } from 'cbor-x';
import { DhtError } from '../errors';
import { CUSTOM_METHOD_NAME, MAX_CALL_BYTES, MAX_ERROR_MESSAGE_CHARS } from '../wire/types';
import type { Contact } from '../types';
import { LazyMap } from '../lazy-map';

/** Methods one node can register. */
export const MAX_CUSTOM_METHODS = 64;
/** Row for CALLs to names not registered here (rpc counters). */
export const UNREGISTERED_ROW = '(unregistered)';

/**
 * Checks and converts decoded arguments, throwing on anything it refuses. A zod schema is one
 * (`z.object({...})` has parse); so is `{ parse: (x) => { if (typeof x !== 'string') throw ...; return x; } }`.
 */
export interface ArgSchema<T> {
  parse(input: unknown): T;
}

export interface CallContext {
  /** The caller: its node id (hex, as it claims it) and the address the request came from. */
  from: Contact;
  /** The method's name. */
  name: string;
}

export interface CustomMethod<A = unknown, R = unknown> {
  /** Lowercase, 1..32 of [a-z0-9._-], starting with a letter ("chat.say"); the built-in names are taken. */
  name: string;
  args: ArgSchema<A>;
  /**
   * Answers one call. What it returns (any CBOR-encodable value: objects, arrays, strings, numbers,
   * booleans, null, Uint8Array) is sent back; encoded, it must fit in 1,000 bytes. A DhtError it
   * throws goes back with its code; any other error goes back as REMOTE_ERROR with its message.
   */
  handler(args: A, context: CallContext): R | Promise<R>;
  /** One line for the explorer's method list. */
  description?: string;
}

/** What the explorer and snapshots show of a registered method. */
export interface CustomMethodInfo {
  name: string;
  description: string;
}

export interface CallResult<R = unknown> {
  /** The decoded result (not validated: the caller knows what it expects). */
  value: R;
  /** The peer that answered (hex id) and the round trip. */
  id: string;
  rttMs: number;
}

// Plain data both ways: maps as objects, no cbor-x records, structures or bundled strings, byte
// strings without the typed-array tag. One instance each, shared: cbor-x resets per call.
const cborOptions: Options = { useRecords: false, mapsAsObjects: true, tagUint8Array: false, structuredClone: false, variableMapSize: true, pack: false, bundleStrings: false };
const encoder = new Encoder(cborOptions);
const decoder = new Decoder({ ...cborOptions, int64AsNumber: true } as Options);

const BUILT_IN = new Set(['ping', 'find_node', 'find_value', 'store', 'announce', 'get_peers', 'call', 'broadcast']);

/** A clear reason, or null when `name` may be registered and called. */
export function checkMethodName(name: unknown): string | null {
  if (typeof name !== 'string') return 'a method name must be a string';
  if (!CUSTOM_METHOD_NAME.test(name)) return `method name ${JSON.stringify(name.slice(0, 40))} must be 1-32 characters of a-z 0-9 . _ - starting with a letter`;
  if (BUILT_IN.has(name)) return `method name "${name}" is a built-in method`;
  return null;
}

/** `value` as CBOR bytes for a CALL; INVALID_ARGUMENT when it cannot be encoded or is too large. */
export function encodeCallValue(value: unknown, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = encoder.encode(value);
  } catch (err) {
    throw DhtError.invalidArgument(`${what} cannot be encoded as CBOR: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (bytes.length > MAX_CALL_BYTES) throw DhtError.invalidArgument(`${what} encodes to ${bytes.length} bytes; at most ${MAX_CALL_BYTES}`);
  // A copy: the encoder reuses its buffer.
  return Uint8Array.prototype.slice.call(bytes);
}

/** The value in CALL bytes, or a reason. Never throws. */
export function decodeCallValue(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (bytes.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: decoder.decode(bytes) as unknown };
  } catch (err) {
    return { ok: false, reason: `not one CBOR item (${short(err)})` };
  }
}

function short(err: unknown): string {
  try {
    return (err instanceof Error ? err.message : String(err)).slice(0, 120);
  } catch {
    return 'unprintable error';
  }
}

/** A refusal's message on the wire is at most 200 characters. */
function refuse(code: 'PROTOCOL' | 'UNKNOWN_METHOD' | 'GENERIC', message: string): DhtError {
  return DhtError.refusal(code, message.slice(0, MAX_ERROR_MESSAGE_CHARS));
}

/** The registered methods of one node: pure, the node does the I/O. */
export class CustomMethods {
  private readonly methods = new LazyMap<string, CustomMethod>();

  register<A, R>(method: CustomMethod<A, R>): void {
    if (method === null || typeof method !== 'object') throw DhtError.invalidArgument('register: expected { name, args, handler }');
    const problem = checkMethodName(method.name);
    if (problem) throw DhtError.invalidArgument(problem);
    if (method.args === null || typeof method.args !== 'object' || typeof method.args.parse !== 'function') {
      throw DhtError.invalidArgument(`register "${method.name}": args must be a schema with a parse(input) function (a zod schema is one)`);
    }
    if (typeof method.handler !== 'function') throw DhtError.invalidArgument(`register "${method.name}": handler must be a function`);
    if (this.methods.has(method.name)) throw DhtError.invalidArgument(`method "${method.name}" is already registered; unregister it first`);
    if (this.methods.size >= MAX_CUSTOM_METHODS) throw DhtError.invalidArgument(`at most ${MAX_CUSTOM_METHODS} methods can be registered`);
    this.methods.set(method.name, method as CustomMethod);
  }

  unregister(name: string): boolean {
    return this.methods.delete(name);
  }

  has(name: string): boolean {
    return this.methods.has(name);
  }

  list(): CustomMethodInfo[] {
    return [...this.methods.values()].map((m) => ({ name: m.name, description: typeof m.description === 'string' ? m.description.slice(0, 200) : '' })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The counters row for a CALL of `name` (Rpc's customRow). */
  row(name: string, incoming: boolean): string {
    return !incoming || this.methods.has(name) ? name : UNREGISTERED_ROW;
  }

  /** Answers a CALL: the encoded result, or a refusal with its reason. */
  async handle(name: string, argBytes: Uint8Array, from: Contact): Promise<Uint8Array | DhtError> {
    const method = this.methods.get(name);
    if (!method) return refuse('UNKNOWN_METHOD', `no method "${name}" is registered on this node`);
    const decoded = decodeCallValue(argBytes);
    if (!decoded.ok) return refuse('PROTOCOL', `arguments of "${name}": ${decoded.reason}`);
    let args: unknown;
    try {
      args = method.args.parse(decoded.value);
    } catch (err) {
      return refuse('PROTOCOL', `arguments of "${name}" refused: ${schemaMessage(err)}`);
    }
    let result: unknown;
    try {
      result = await method.handler(args, { from, name });
    } catch (err) {
      if (err instanceof DhtError) return err.wireCode !== undefined ? err : refuse('GENERIC', `${name}: ${err.message}`);
      return refuse('GENERIC', `${name} failed: ${short(err)}`);
    }
    try {
      return encodeCallValue(result, `the result of "${name}"`);
    } catch (err) {
      return refuse('GENERIC', short(err));
    }
  }
}

/** A schema's complaint in one line: zod's issues as "path: message", anything else as its message. */
function schemaMessage(err: unknown): string {
  const issues = (err as { issues?: unknown })?.issues;
  if (Array.isArray(issues) && issues.length > 0) {
    return issues
      .slice(0, 3)
      .map((i: { path?: unknown[]; message?: unknown }) => `${Array.isArray(i.path) && i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${String(i.message)}`)
      .join('; ');
  }
  return short(err);
}
