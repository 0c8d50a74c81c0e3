// Writing to the network, shared by the client (put, announce) and maintenance (republish, refresh):
// a lookup toward the key, then STORE or ANNOUNCE at the k closest nodes that gave us a write token.
import { DhtError, type DhtErrorCode } from '../errors';
import { bytesToHex } from '../id';
import type { Lookup } from '../lookup/lookup';
import type { LookupPeer } from '../lookup/lookup';
import type { LookupEvent } from '../types';
import type { RequestArgs, WireRecord } from '../wire/types';
import type { RecordCallOptions, RecordLayerDeps } from './config';
import type { KeyPair } from './signing';
import type { Endpoint } from '../transport/types';

export interface StoreFailure {
  /** Hex id of the node that did not store. */
  id: string;
  code: DhtErrorCode;
  message: string;
}

export interface StoreResult {
  /** Hex record key (or topic key for announce). */
  key: string;
  /** Hex ids of the nodes that acknowledged the STORE (or ANNOUNCE). */
  storedAt: string[];
  /** The nodes asked that did not store, and why (refusal code, TIMEOUT, ...). */
  failed: StoreFailure[];
  lookupId: string | null;
}

export type DoneEvent = Extract<LookupEvent, { type: 'done' }>;

/**
 * A lookup toward key that collects write tokens (find-node, or find-value where the protocol's
 * tokens come from get, as BEP 44's do), then STORE at the k closest that gave us a token.
 */
export async function publish(deps: RecordLayerDeps, key: Uint8Array, record: WireRecord, options: RecordCallOptions): Promise<StoreResult> {
  const signal = deps.signal(options.signal);
  const lookup =
    deps.model?.tokensFrom === 'find-value'
      ? deps.lookup(key, 'find-value', () => ({ method: 'FIND_VALUE', key, mutable: record.type === 'mutable' }), options)
      : deps.lookup(key, 'find-node', () => ({ method: 'FIND_NODE', target: key }), options);
  const done = await drain(lookup);
  throwIfAborted(signal);
  const out = await writeToClosest(deps, lookup, done, signal, (token) => ({ method: 'STORE', key, record, token }));
  return { key: bytesToHex(key), ...out };
}

/**
 * A get-peers lookup toward the topic, then ANNOUNCE our port at the k closest. Where an
 * announcement is a signed public key (HyperDHT: RecordModel.signAnnouncement), keyPair signs it
 * for each storer (its id and token). With local hosts to share (kadscope: wire v3) they go with
 * it; a node that knows only v1 and v2 drops a v3 datagram unread, so one that does not answer is
 * asked again without them, as v1.
 */
export async function announceOnce(
  deps: RecordLayerDeps,
  topic: Uint8Array,
  port: number,
  options: RecordCallOptions,
  keyPair?: KeyPair,
  relayAddresses?: readonly Endpoint[],
): Promise<StoreResult> {
  const sign = deps.model?.signAnnouncement;
  if (sign && !keyPair) throw DhtError.invalidArgument('announcements on this protocol are signed public keys: announce with a key pair');
  const signal = deps.signal(options.signal);
  const lookup = deps.lookup(topic, 'get-peers', () => ({ method: 'GET_PEERS', topic }), options);
  const done = await drain(lookup);
  throwIfAborted(signal);
  const locals = deps.localHosts?.() ?? [];
  const plain = (token: Uint8Array, p: LookupPeer): RequestArgs =>
    sign && keyPair ? { method: 'ANNOUNCE', topic, port, token, announcer: sign(topic, token, p.idBytes, keyPair, relayAddresses) } : { method: 'ANNOUNCE', topic, port, token };
  const out =
    locals.length > 0
      ? await writeToClosest(deps, lookup, done, signal, (token, p) => ({ ...plain(token, p), locals }), plain)
      : await writeToClosest(deps, lookup, done, signal, plain);
  return { key: bytesToHex(topic), ...out };
}

export async function writeToClosest(
  deps: RecordLayerDeps,
  lookup: Lookup,
  done: DoneEvent,
  signal: AbortSignal,
  args: (token: Uint8Array, peer: LookupPeer) => RequestArgs,
  /** Sent once to a node that did not answer `args` at all (TIMEOUT): an older form of the request. */
  fallback?: (token: Uint8Array, peer: LookupPeer) => RequestArgs,
): Promise<Omit<StoreResult, 'key'>> {
  const targets = lookup.outcome.closest.filter((p) => p.token !== undefined).slice(0, deps.k);
  if (targets.length === 0) {
    if (done.reason === 'no-peers') throw new DhtError('NO_PEERS', 'this node knows no peers yet; join a network (bootstrap) first');
    throw new DhtError(done.reason === 'timeout' ? 'TIMEOUT' : 'NO_PEERS', `no node answered the lookup with a write token (lookup ${done.reason})`);
  }
  const storedAt: string[] = [];
  const failed: StoreFailure[] = [];
  await Promise.all(
    targets.map(async (p) => {
      try {
        try {
          await deps.request(p, args(p.token!, p), { signal });
        } catch (e) {
          if (!fallback || asDhtError(e).code !== 'TIMEOUT' || signal.aborted) throw e;
          await deps.request(p, fallback(p.token!, p), { signal });
        }
        storedAt.push(p.id);
      } catch (e) {
        const err = asDhtError(e);
        failed.push({ id: p.id, code: err.code, message: err.message });
      }
    }),
  );
  throwIfAborted(signal);
  return { storedAt, failed, lookupId: done.lookupId };
}

/** "not accepted by N of M nodes", or null when every node asked stored it. */
export function acceptanceLine(r: Pick<StoreResult, 'storedAt' | 'failed'>): string | null {
  if (r.failed.length === 0) return null;
  return `not accepted by ${r.failed.length} of ${r.failed.length + r.storedAt.length} nodes`;
}

export async function drain(lookup: Lookup, onEvent?: (e: LookupEvent) => void): Promise<DoneEvent & { lookupId: string }> {
  let done: DoneEvent | null = null;
  for await (const e of lookup) {
    onEvent?.(e);
    if (e.type === 'done') done = e;
  }
  if (!done) throw new DhtError('INTERNAL', 'lookup ended without a done event');
  return done;
}

export function throwIfAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof DhtError ? reason : DhtError.aborted(reason);
}

export function asDhtError(e: unknown): DhtError {
  return e instanceof DhtError ? e : new DhtError('INTERNAL', e instanceof Error ? e.message : String(e));
}

/**
 * Nothing was stored. When every node refused for the same reason, that refusal is the error; when
 * reasons differ, the most common refusal wins (a refusal says more than a timeout) and the message
 * counts them all.
 */
export function noneStored(what: string, failed: StoreFailure[]): DhtError {
  if (failed.length === 0) return new DhtError('NO_PEERS', `no node stored ${what}`);
  const byCode = new Map<DhtErrorCode, StoreFailure[]>();
  for (const f of failed) {
    const list = byCode.get(f.code);
    if (list) list.push(f);
    else byCode.set(f.code, [f]);
  }
  const isNetwork = (c: DhtErrorCode): boolean => c === 'TIMEOUT' || c === 'ABORTED' || c === 'STOPPED' || c === 'TOO_MANY_IN_FLIGHT' || c === 'INTERNAL';
  let top: [DhtErrorCode, StoreFailure[]] | null = null;
  for (const entry of byCode) {
    if (!top) top = entry;
    else if (isNetwork(top[0]) !== isNetwork(entry[0])) top = isNetwork(top[0]) ? entry : top;
    else if (entry[1].length > top[1].length) top = entry;
  }
  const [code, list] = top!;
  // hyperdht refuses in silence: a write nobody answered was not accepted, however many tried.
  if (byCode.size === 1 && code === 'TIMEOUT') {
    return new DhtError(code, `${what} was not accepted by ${failed.length} of ${failed.length} nodes (no answer: ${list[0].message})`);
  }
  if (byCode.size === 1) {
    return new DhtError(code, `${failed.length === 1 ? 'the only node asked' : `all ${failed.length} nodes asked`} refused ${what}: ${list[0].message}`);
  }
  const counts = [...byCode].map(([c, l]) => `${l.length} ${c}`).join(', ');
  return new DhtError(code, `no node stored ${what} (${counts}); ${code}: ${list[0].message}`);
}
