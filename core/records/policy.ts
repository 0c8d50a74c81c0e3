// Who decides what a node keeps: a store policy (go-dht's OnStore, a2al's RecordAuth) and record
// validators per namespace (go-libp2p's validators). Both run on every STORE another node sends us,
// after the write token and the record's own checks (hash, signature) and before the store: a
// refusal goes back to the writer as POLICY_REFUSED with the reason, which the writer's put lists
// under `failed` (and throws when every node refused). Our own puts are not checked: the policy
// is about what others may put on us.
//
// A record's namespace is the first path segment of its value, when the value is UTF-8 text that
// begins with "/NAME/" ("/chat/hello" is in namespace "chat"), like a libp2p key. Keys here are
// hashes, so the value is the only place a namespace can live; a value without one is checked by
// the store policy alone. A named record's namespace is its name's ("/chat/room" is in "chat"),
// the place a libp2p key keeps it.
import { DhtError } from '../errors';
import { bytesToHex } from '../id';
import type { Endpoint } from '../transport/types';
import type { WireRecord } from '../wire/types';
import { LazyMap } from '../lazy-map';

/** Validators one node can hold. */
export const MAX_VALIDATORS = 64;
const NAMESPACE = /^[a-z0-9][a-z0-9._-]{0,31}$/;
/** Longest reason sent back (a wire error message is at most 200 characters, with our prefix). */
const MAX_REASON_CHARS = 160;

/** What a policy or validator sees of a record another node wants us to keep. */
export interface StoreCandidate {
  /** Hex record key. */
  key: string;
  type: 'immutable' | 'mutable' | 'named';
  value: Uint8Array;
  /** Named only: the name whose SHA-256 is the key (anyone may write any name: README, "Named keys"). */
  name?: string;
  /** Mutable only: hex public key, seq and salt. */
  publicKey?: string;
  seq?: number;
  salt?: Uint8Array;
  /** The value's namespace ("chat" for "/chat/…"; a named record's name's), or null. */
  namespace: string | null;
  /** Who is storing it: the requester's node id (hex, as claimed) and address. */
  from: { id: string; host: string; port: number };
  /** Clock ms. */
  now: number;
}

/**
 * Decides whether a record is kept: true (or nothing) keeps it; false or a string refuses it, the
 * string being the reason the writer sees. Throwing refuses too, with the error's message.
 */
export type StorePolicy = (record: StoreCandidate) => boolean | string | void;
/** Checks the records of one namespace, with the same answers as a StorePolicy. */
export type RecordValidator = StorePolicy;

/** The namespace of a value: "chat" for "/chat/…", else null. */
export function namespaceOf(value: Uint8Array): string | null {
  // Only the start is decoded: a namespace is short, the value up to 1,000 bytes.
  if (value.length < 3 || value[0] !== 0x2f) return null;
  const end = value.indexOf(0x2f, 1);
  if (end < 2 || end > 33) return null;
  let name = '';
  for (let i = 1; i < end; i++) name += String.fromCharCode(value[i]);
  return NAMESPACE.test(name) ? name : null;
}

function verdict(answer: unknown, what: string): string | null {
  if (answer === undefined || answer === true) return null;
  if (typeof answer === 'string') return `${what}: ${answer.slice(0, MAX_REASON_CHARS)}`;
  return `${what}: refused`;
}

/** A node's store policy and validators; pure (the records layer calls check() per STORE). */
export class StorePolicies {
  private policy: StorePolicy | null = null;
  private readonly validators = new LazyMap<string, RecordValidator>();

  /** Whether anything is to be checked. */
  get active(): boolean {
    return this.policy !== null || this.validators.size > 0;
  }

  setPolicy(policy: StorePolicy | null): void {
    if (policy !== null && typeof policy !== 'function') throw DhtError.invalidArgument('a store policy must be a function (record) => true | false | reason, or null');
    this.policy = policy;
  }

  addValidator(namespace: string, validator: RecordValidator): void {
    if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) throw DhtError.invalidArgument(`namespace ${JSON.stringify(String(namespace).slice(0, 40))} must be 1-32 of a-z 0-9 . _ - (the NAME of values "/NAME/…")`);
    if (typeof validator !== 'function') throw DhtError.invalidArgument(`validator for "${namespace}" must be a function`);
    if (!this.validators.has(namespace) && this.validators.size >= MAX_VALIDATORS) throw DhtError.invalidArgument(`at most ${MAX_VALIDATORS} validators`);
    this.validators.set(namespace, validator);
  }

  removeValidator(namespace: string): boolean {
    return this.validators.delete(namespace);
  }

  namespaces(): string[] {
    return [...this.validators.keys()].sort();
  }

  /** null to keep the record, else the refusal to send back. Never throws. */
  check(key: Uint8Array, record: WireRecord, from: Endpoint, fromId: Uint8Array, now: number): DhtError | null {
    if (!this.active) return null;
    const namespace = namespaceOf(record.type === 'named' ? new TextEncoder().encode(record.name) : record.value);
    const candidate: StoreCandidate = {
      key: bytesToHex(key),
      type: record.type,
      value: record.value,
      namespace,
      from: { id: bytesToHex(fromId), host: from.host, port: from.port },
      now,
      ...(record.type === 'mutable' ? { publicKey: bytesToHex(record.publicKey), seq: record.seq, salt: record.salt } : {}),
      ...(record.type === 'named' ? { name: record.name } : {}),
    };
    const validator = namespace === null ? undefined : this.validators.get(namespace);
    const steps: Array<[RecordValidator, string]> = [];
    if (validator) steps.push([validator, `validator "${namespace}"`]);
    if (this.policy) steps.push([this.policy, 'store policy']);
    for (const [fn, what] of steps) {
      let why: string | null;
      try {
        why = verdict(fn(candidate), what);
      } catch (e) {
        why = `${what}: ${(e instanceof Error ? e.message : String(e)).slice(0, MAX_REASON_CHARS)}`;
      }
      if (why !== null) return DhtError.refusal('POLICY_REFUSED', why);
    }
    return null;
  }
}
