// Event batches on the wire (contract.ts, WireBatch): the one encoder both hosts send with (the web
// host over its WebSocket, Electron main over IPC) and the one decoder every client expands them with
// (the WebSocket client, the preload, the memory client). No Node or Electron imports: the renderer
// and the preload load this file.
//
// Lookup events are most of the stream: at 20 lookups a second, each answer's k contacts made
// ~60 KB of JSON per lookup, mostly the same 64-character ids again. Here each contact and lookup id
// is written once per batch and the events refer to it by index; decoding gives back LookupEvents
// equal to the ones the host published (the same fields; absent optional fields stay absent).
import type { Contact, LookupEvent, LookupKind, LookupTermination } from '../../core/types';
import { err, ok, parseWireBatch, type EventBatch, type ExplorerEvent, type Result, type ServerMessage, type WireBatch, type WireEvent, type WireLookupEvent } from './contract';

/** Builds one batch's contact and lookup tables, each entry once. */
class BatchTables {
  readonly contacts: WireBatch['contacts'] = [];
  readonly lookups: string[] = [];
  /** Contact index by id (the usual case: one address per id in a batch). */
  private readonly byId = new Map<string, number>();
  /** Contacts whose id came with another address too (a dual-stack node, a spoofed id), by id and address. */
  private byIdAndAddress: Map<string, number> | null = null;
  private readonly lookupIndex = new Map<string, number>();

  contact(c: Contact): number {
    const i = this.byId.get(c.id);
    if (i !== undefined) {
      const t = this.contacts[i];
      if (t[1] === c.host && t[2] === c.port) return i;
    }
    if (i === undefined) {
      this.byId.set(c.id, this.contacts.length);
    } else {
      this.byIdAndAddress ??= new Map();
      const key = `${c.id}@${c.host}:${c.port}`;
      const j = this.byIdAndAddress.get(key);
      if (j !== undefined) return j;
      this.byIdAndAddress.set(key, this.contacts.length);
    }
    this.contacts.push([c.id, c.host, c.port]);
    return this.contacts.length - 1;
  }

  contactList(cs: readonly Contact[]): number[] {
    const out = new Array<number>(cs.length);
    for (let i = 0; i < cs.length; i++) out[i] = this.contact(cs[i]);
    return out;
  }

  lookup(id: string): number {
    let i = this.lookupIndex.get(id);
    if (i === undefined) {
      i = this.lookups.length;
      this.lookupIndex.set(id, i);
      this.lookups.push(id);
    }
    return i;
  }
}

function encodeLookupEvent(e: LookupEvent, t: BatchTables): WireLookupEvent {
  const l = t.lookup(e.lookupId);
  switch (e.type) {
    case 'started':
      // The width only when there is one: a 12-element tuple is what hosts before it sent.
      return ['s', l, e.at, e.kind, e.target, e.self, e.k, e.alpha, e.rpcTimeoutMs, e.lookupTimeoutMs ?? null, t.contactList(e.seeds), e.protocol ?? null, ...(e.width === undefined ? ([] as const) : ([e.width] as const))];
    case 'query':
      return ['q', l, e.at, t.contact(e.peer), e.hop, e.bytes];
    case 'response':
      return ['r', l, e.at, t.contact(e.peer), e.hop, e.rttMs, e.bytes, t.contactList(e.nodes), e.hasValue ?? null, e.peerCount ?? null];
    case 'timeout':
      return ['t', l, e.at, t.contact(e.peer), e.hop, e.afterMs];
    case 'error':
      return ['e', l, e.at, t.contact(e.peer), e.hop, e.code, e.message];
    case 'done':
      return ['d', l, e.at, e.reason, t.contactList(e.closest), e.hops, e.messages, e.durationMs, e.timeToClosestMs];
  }
}

/** A batch as the hosts send it: lookup events compact, everything else as it is. */
export function encodeBatch(batch: EventBatch): WireBatch {
  const t = new BatchTables();
  const events = new Array<WireEvent>(batch.events.length);
  for (let i = 0; i < batch.events.length; i++) {
    const e = batch.events[i];
    events[i] = e.type === 'lookup' ? encodeLookupEvent(e.event, t) : e;
  }
  return { seq: batch.seq, resync: batch.resync, contacts: t.contacts, lookups: t.lookups, events };
}

/** The web host's WebSocket message for a batch (what the explorer-cost benchmark serialises too). */
export function batchMessage(batch: EventBatch): ServerMessage {
  return { type: 'batch', ...encodeBatch(batch) };
}

class IndexError extends Error {}

/**
 * A batch as the host sent it, checked (the contract's schema, then every index) and expanded back
 * into ExplorerEvents. A malformed batch is an error naming what is wrong; nothing of it is used.
 * Events of one batch that name the same contact share one Contact object.
 */
export function decodeBatch(wire: unknown): Result<EventBatch> {
  const parsed = parseWireBatch(wire);
  if (!parsed.ok) return parsed;
  const w = parsed.value;
  const contacts: Contact[] = w.contacts.map(([id, host, port]) => ({ id, host, port }));
  const events = new Array<ExplorerEvent>(w.events.length);
  let i = 0;
  try {
    for (; i < w.events.length; i++) {
      const e = w.events[i];
      events[i] = Array.isArray(e) ? { type: 'lookup', event: decodeLookupEvent(e, contacts, w.lookups) } : e;
    }
  } catch (e) {
    if (!(e instanceof IndexError)) throw e;
    return err('INVALID_ARGUMENT', `malformed event batch: events.${i}: ${e.message}`);
  }
  return ok({ seq: w.seq, events, resync: w.resync });
}

function decodeLookupEvent(e: WireLookupEvent, contacts: readonly Contact[], lookups: readonly string[]): LookupEvent {
  const lookupId = lookups[e[1]];
  if (lookupId === undefined) throw new IndexError(`lookup ${e[1]} is not in the batch's ${lookups.length} lookups`);
  const at = e[2];
  const contact = (i: number): Contact => {
    const c = contacts[i];
    if (c === undefined) throw new IndexError(`contact ${i} is not in the batch's ${contacts.length} contacts`);
    return c;
  };
  const list = (is: readonly number[]): Contact[] => is.map(contact);
  switch (e[0]) {
    case 's': {
      const [, , , kind, target, self, k, alpha, rpcTimeoutMs, lookupTimeoutMs, seeds, protocol, width] = e;
      return {
        type: 'started',
        lookupId,
        at,
        kind: kind as LookupKind,
        target,
        self,
        k,
        alpha,
        rpcTimeoutMs,
        ...(lookupTimeoutMs !== null ? { lookupTimeoutMs } : {}),
        seeds: list(seeds),
        ...(protocol !== null ? { protocol } : {}),
        ...(width !== undefined ? { width } : {}),
      };
    }
    case 'q':
      return { type: 'query', lookupId, at, peer: contact(e[3]), hop: e[4], bytes: e[5] };
    case 'r': {
      const [, , , peer, hop, rttMs, bytes, nodes, hasValue, peerCount] = e;
      return {
        type: 'response',
        lookupId,
        at,
        peer: contact(peer),
        hop,
        rttMs,
        bytes,
        nodes: list(nodes),
        ...(hasValue !== null ? { hasValue } : {}),
        ...(peerCount !== null ? { peerCount } : {}),
      };
    }
    case 't':
      return { type: 'timeout', lookupId, at, peer: contact(e[3]), hop: e[4], afterMs: e[5] };
    case 'e':
      return { type: 'error', lookupId, at, peer: contact(e[3]), hop: e[4], code: e[5], message: e[6] };
    case 'd': {
      const [, , , reason, closest, hops, messages, durationMs, timeToClosestMs] = e;
      return {
        type: 'done',
        lookupId,
        at,
        reason: reason as LookupTermination,
        closest: list(closest),
        hops,
        messages,
        durationMs,
        timeToClosestMs,
      };
    }
  }
}
