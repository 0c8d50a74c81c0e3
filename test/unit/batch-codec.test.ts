// The wire form of event batches (electron/host/batch-codec.ts): what the hosts send decodes to what
// the service published, each contact and lookup id travels once per batch, and a malformed batch
// is refused with what is wrong, through the clients too.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bytesToHex, seededRandom, seededRandomBytes } from '../../core/id';
import type { Contact, LookupEvent } from '../../core/types';
import { decodeBatch, encodeBatch } from '../../electron/host/batch-codec';
import { createWsClient, type SocketLike } from '../../electron/host/client';
import type { EventBatch, ExplorerEvent, WireBatch } from '../../electron/host/contract';

/** A stream like a lookup's: a few lookups over a pool of contacts, every event type, optional fields on and off. */
function randomBatch(seed: number, events: number): EventBatch {
  const rand = seededRandom(seed);
  const bytes = seededRandomBytes(seed + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (n: number): number => Math.floor(rand() * n);
  const pool: Contact[] = Array.from({ length: 30 }, (_, i) => ({ id: bytesToHex(bytes(32)), host: `127.0.0.${1 + (i % 3)}`, port: 4000 + i }));
  // The same id at another address (a dual-stack node, or a spoofed id) is another contact.
  pool.push({ ...pool[0], host: '::1' }, { ...pool[1], port: 9999 });
  const mainline = { id: bytesToHex(bytes(20)), host: '10.0.0.1', port: 6881 };
  pool.push(mainline);
  const contacts = (n: number): Contact[] => Array.from({ length: n }, () => ({ ...pick(pool) }));
  const lookups = Array.from({ length: 3 }, (_, i) => `${bytesToHex(bytes(4))}-${i.toString(36)}-${bytesToHex(bytes(3))}`);
  const out: ExplorerEvent[] = [];
  let at = 1_764_950_000_000 + int(1000);
  for (let i = 0; i < events; i++) {
    at += int(5);
    const lookupId = pick(lookups);
    const peer = { ...pick(pool) };
    const hop = 1 + int(4);
    let e: LookupEvent;
    switch (int(7)) {
      case 0:
        e = {
          type: 'started', lookupId, at, kind: pick(['find-node', 'find-value', 'get-peers'] as const), target: bytesToHex(bytes(32)), self: pool[2].id,
          k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: contacts(int(21)),
          ...(rand() < 0.5 ? { lookupTimeoutMs: 30_000 } : {}),
          ...(rand() < 0.5 ? { protocol: pick(['kadscope', 'mainline', 'hyperdht']) } : {}),
          ...(rand() < 0.5 ? { width: 40 } : {}),
        };
        break;
      case 1:
        e = { type: 'query', lookupId, at, peer, hop, bytes: 40 + int(60) };
        break;
      case 2:
      case 3:
        e = {
          type: 'response', lookupId, at, peer, hop, rttMs: rand() * 50, bytes: 300 + int(1100), nodes: contacts(int(21)),
          ...(rand() < 0.3 ? { hasValue: rand() < 0.5 } : {}),
          ...(rand() < 0.3 ? { peerCount: int(30) } : {}),
        };
        break;
      case 4:
        e = { type: 'timeout', lookupId, at, peer, hop, afterMs: 2000 };
        break;
      case 5:
        e = { type: 'error', lookupId, at, peer, hop, code: 'ID_MISMATCH', message: `answered with id ${bytesToHex(bytes(8))}… "quoted" \\ ünïcode` };
        break;
      default:
        e = {
          type: 'done', lookupId, at, reason: pick(['converged', 'value-found', 'exhausted', 'no-peers', 'aborted', 'timeout'] as const),
          closest: contacts(int(21)), hops: int(6), messages: int(40), durationMs: rand() * 900, timeToClosestMs: rand() * 500,
        };
    }
    out.push({ type: 'lookup', event: e });
    // Other events travel as they are, between the lookup events.
    if (rand() < 0.1) out.push(pick<ExplorerEvent>([
      { type: 'record-expired', key: bytesToHex(bytes(32)) },
      { type: 'peer-removed', id: peer.id, host: peer.host, port: peer.port, reason: 'failed' },
      { type: 'observed-address', address: { host: '127.0.0.1', port: 4444 } },
    ]));
  }
  return { seq: 1 + int(1000), events: out, resync: rand() < 0.2 };
}

/** What crosses a WebSocket or IPC: plain JSON. */
const overTheWire = <T>(x: T): unknown => JSON.parse(JSON.stringify(x));

describe('event batch codec', () => {
  it.each([1, 2, 3, 42, 1234])('decodes to the events the host published (seed %i)', (seed) => {
    const batch = randomBatch(seed, 300);
    const r = decodeBatch(overTheWire(encodeBatch(batch)));
    if (!r.ok) throw new Error(r.message);
    // Equal field for field to the batch as plain JSON carried it before (absent optional fields stay absent).
    expect(r.value).toStrictEqual(overTheWire(batch));
  });

  it('writes each contact and lookup id once per batch, and the lookup stream in a fraction of the bytes', () => {
    const batch = randomBatch(7, 500);
    const wire = encodeBatch(batch);
    const keys = wire.contacts.map(([id, host, port]) => `${id}@${host}:${port}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The pool: 30 contacts, two of their ids again at other addresses, one 160-bit id.
    expect(wire.contacts.length).toBeLessThanOrEqual(33);
    // An id seen at two addresses is two contacts; the lookup events name each at its own.
    const twice = wire.contacts.filter(([id], _, all) => all.filter(([other]) => other === id).length > 1);
    expect(twice.length).toBeGreaterThanOrEqual(2);
    expect(new Set(wire.lookups).size).toBe(wire.lookups.length);
    expect(wire.lookups.length).toBe(3);
    const plain = JSON.stringify({ type: 'batch', ...batch }).length;
    const compact = JSON.stringify({ type: 'batch', ...wire }).length;
    expect(compact).toBeLessThan(plain / 4);
  });

  it("sends a lookup's width only when it has one, and reads a host's started event without it", () => {
    const started = (width?: number): LookupEvent => ({
      type: 'started', lookupId: 'L', at: 5, kind: 'find-node', target: 'a'.repeat(64), self: 'b'.repeat(64), k: 20, alpha: 3, rpcTimeoutMs: 2000, seeds: [],
      ...(width !== undefined ? { width } : {}),
    });
    const wide = encodeBatch({ seq: 1, resync: false, events: [{ type: 'lookup', event: started(40) }] });
    const plain = encodeBatch({ seq: 2, resync: false, events: [{ type: 'lookup', event: started() }] });
    expect((wide.events[0] as unknown[]).length).toBe(13);
    expect((wide.events[0] as unknown[])[12]).toBe(40);
    // A host from before widths were sent writes the 12 elements; that reads as a k-wide lookup.
    expect((plain.events[0] as unknown[]).length).toBe(12);
    const r = decodeBatch(overTheWire(plain));
    expect(r.ok && r.value.events[0]).toStrictEqual({ type: 'lookup', event: started() });
    const w = decodeBatch(overTheWire(wide));
    expect(w.ok && w.value.events[0]).toStrictEqual({ type: 'lookup', event: started(40) });
  });

  it('keeps an empty batch and a resync marker as they are', () => {
    for (const b of [{ seq: 1, events: [], resync: false }, { seq: 9, events: [], resync: true }]) {
      expect(encodeBatch(b)).toEqual({ seq: b.seq, resync: b.resync, contacts: [], lookups: [], events: [] });
      expect(decodeBatch(overTheWire(encodeBatch(b)))).toEqual({ ok: true, value: b });
    }
  });

  it('refuses a malformed batch with what is wrong, and nothing of it', () => {
    const good = encodeBatch({
      seq: 3,
      resync: false,
      events: [
        { type: 'lookup', event: { type: 'query', lookupId: 'l1', at: 10, peer: { id: 'ab'.repeat(32), host: '127.0.0.1', port: 4001 }, hop: 1, bytes: 40 } },
        { type: 'record-expired', key: 'cd'.repeat(32) },
      ],
    });
    expect(decodeBatch(overTheWire(good)).ok).toBe(true);
    const bad = (change: (w: WireBatch) => unknown): unknown => change(overTheWire(good) as WireBatch);
    const cases: Array<[unknown, RegExp]> = [
      [null, /^malformed event batch: arguments: .*object/],
      ['{"seq":1}', /^malformed event batch: arguments: .*object/],
      [bad((w) => ({ ...w, contacts: undefined })), /^malformed event batch: contacts: .*array/],
      [bad((w) => ({ ...w, extra: 1 })), /^malformed event batch: arguments: unknown field "extra"/],
      [bad((w) => ({ ...w, seq: -1 })), /^malformed event batch: seq: /],
      [bad((w) => ({ ...w, contacts: [['ab', '127.0.0.1', 70000]] })), /^malformed event batch: contacts\.0\.2: /],
      [bad((w) => ({ ...w, events: [['q', 0, 10, 5, 1, 40]] })), /^malformed event batch: events\.0: contact 5 is not in the batch's 1 contacts$/],
      [bad((w) => ({ ...w, events: [['q', 2, 10, 0, 1, 40]] })), /^malformed event batch: events\.0: lookup 2 is not in the batch's 1 lookups$/],
      [bad((w) => ({ ...w, events: [['r', 0, 10, 0, 1, 5, 300, [0, 9], null, null]] })), /^malformed event batch: events\.0: contact 9 is not/],
      [bad((w) => ({ ...w, events: [['x', 0, 10]] })), /^malformed event batch: events\.0: a lookup event's tag is one of s, q, r, t, e, d; got "x"/],
      [bad((w) => ({ ...w, events: [['q', 0, '10', 0, 1, 40]] })), /^malformed event batch: events\.0: \(q\) \[2\]: .*number/],
      [bad((w) => ({ ...w, events: [['q', 0, 10, 0, 1]] })), /^malformed event batch: events\.0: \(q\) /],
      [bad((w) => ({ ...w, events: [{ type: 'lookup', event: {} }] })), /^malformed event batch: events\.0: type: not an event type of this contract \(a lookup event travels as a tuple\)/],
      [bad((w) => ({ ...w, events: [{ type: 'nonsense' }] })), /^malformed event batch: events\.0: type: /],
      [bad((w) => ({ ...w, events: Array.from({ length: 5000 }, () => w.events[1]) })), /^malformed event batch: events: a batch holds at most 4096 events/],
    ];
    for (const [wire, message] of cases) {
      const r = decodeBatch(wire);
      expect(r.ok, JSON.stringify(wire)?.slice(0, 200)).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('INVALID_ARGUMENT');
        expect(r.message).toMatch(message);
      }
    }
  });
});

class FakeSocket {
  readyState = 1;
  readonly sent: unknown[] = [];
  private readonly handlers = new Map<string, Array<(ev?: { data: unknown }) => void>>();
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
  addEventListener(type: string, listener: (ev?: { data: unknown }) => void): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), listener]);
  }
  receive(msg: unknown): void {
    for (const h of this.handlers.get('message') ?? []) h({ data: JSON.stringify(msg) });
  }
}

describe('a client meeting a malformed batch', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logs what is wrong, delivers nothing of it, and flags the next batch resync (the page reloads its snapshot)', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const s = new FakeSocket();
    const c = createWsClient(s as unknown as SocketLike);
    const got: EventBatch[] = [];
    c.subscribe((b) => got.push(b));
    const batch = randomBatch(5, 40);
    s.receive({ type: 'batch', ...encodeBatch({ ...batch, seq: 1, resync: false }) });
    s.receive({ type: 'batch', ...encodeBatch({ ...batch, seq: 2, resync: false }), contacts: [] });
    expect(got).toHaveLength(1);
    expect(errors).toHaveBeenCalledTimes(1);
    expect(String(errors.mock.calls[0][0])).toMatch(/^kadscope: dropped an event batch from the host: malformed event batch: events\.\d+: contact \d+ is not in the batch's 0 contacts$/);
    s.receive({ type: 'batch', ...encodeBatch({ ...batch, seq: 3, resync: false }) });
    expect(got.map((b) => [b.seq, b.resync])).toEqual([[1, false], [3, true]]);
    expect(got[1].events).toStrictEqual(overTheWire(batch.events));
  });
});
