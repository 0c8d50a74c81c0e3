// Lookup.run(): the same lookup as iterating it, for a caller that wants only its end, and no
// events built that nobody sees. A pure unit test: the "network" is a map of who knows whom,
// answered on the next microtask, on fake time.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { DhtError } from '../../core/errors';
import { hexToBytes } from '../../core/id';
import { Lookup, type LookupParams, type LookupPeer, type QueryFn } from '../../core/lookup/lookup';
import type { LookupEvent } from '../../core/types';
import { hid } from './topology';

// Target T = 0000 ... 0000. A chain toward it: each node knows nodes nearer T than itself.
const T = hid('');
const IDS: Record<string, string> = {
  A: hid('f0'), // 1111 0000  the asker
  B: hid('80'), // 1000 0000
  C: hid('40'), // 0100 0000
  D: hid('20'), // 0010 0000
  E: hid('10'), // 0001 0000
  F: hid('08'), // 0000 1000
  G: hid('01'), // 0000 0001  <- closest
};
const KNOWS: Record<string, string[]> = { B: ['C'], C: ['D', 'E'], D: ['E'], E: ['F', 'G'], F: ['G'], G: ['F'] };
const NAME_OF = new Map(Object.entries(IDS).map(([n, id]) => [id, n]));
/** G does not answer in the "timeout" world. */
const SILENT = 'G';

function peer(name: string): LookupPeer {
  return { id: IDS[name], idBytes: hexToBytes(IDS[name]), host: '10.0.0.1', port: 1000 + name.charCodeAt(0) };
}

function params(clock: FakeClock, extra: Partial<LookupParams> = {}, silent = false): LookupParams {
  const query: QueryFn = (p, signal, onSend) => {
    onSend(1, 93);
    const name = NAME_OF.get(p.id)!;
    if (silent && name === SILENT) {
      return new Promise((_resolve, reject) => {
        const t = clock.setTimeout(() => reject(DhtError.timeout(`FIND_NODE to ${name}`, 2_000)), 2_000);
        signal.addEventListener('abort', () => {
          clock.clearTimeout(t);
          reject(DhtError.aborted(signal.reason));
        }, { once: true });
      });
    }
    const nodes = (KNOWS[name] ?? []).map((n) => ({ id: peer(n).idBytes, host: peer(n).host, port: peer(n).port }));
    return Promise.resolve({ id: p.id, nodes, rttMs: 1, bytesSent: 93, bytesReceived: 100 + 40 * nodes.length, attempts: 1 });
  };
  return { lookupId: 'l1', kind: 'find-node', self: IDS.A, target: hexToBytes(T), k: 3, alpha: 2, rpcTimeoutMs: 2_000, seeds: [peer('B')], query, clock, ...extra };
}

async function iterate(l: Lookup, clock: FakeClock): Promise<LookupEvent[]> {
  const events: LookupEvent[] = [];
  await clock.run((async () => {
    for await (const e of l) events.push(e);
  })());
  return events;
}

describe('Lookup.run()', () => {
  it('ends as iterating the same lookup does, with the same done event and outcome', async () => {
    const c1 = new FakeClock(0);
    const iterated = new Lookup(params(c1));
    const events = await iterate(iterated, c1);
    const c2 = new FakeClock(0);
    const ran = new Lookup(params(c2));
    const done = await c2.run(ran.run());
    expect(done).toEqual(events.at(-1));
    expect(done.closest.map((c) => NAME_OF.get(c.id))).toEqual(['G', 'F', 'E']);
    expect(done.reason).toBe('converged');
    expect(ran.outcome).toEqual(iterated.outcome);
  });

  it('builds no event but done when nobody listens, and all of them when someone does', async () => {
    const seen: LookupEvent[] = [];
    const c1 = new FakeClock(0);
    let listening = false;
    await c1.run(new Lookup(params(c1, { onEvent: (e) => seen.push(e), wantsEvents: () => listening })).run());
    expect(seen.map((e) => e.type)).toEqual(['done']);

    seen.length = 0;
    listening = true;
    const c2 = new FakeClock(0);
    await c2.run(new Lookup(params(c2, { onEvent: (e) => seen.push(e), wantsEvents: () => listening })).run());
    const c3 = new FakeClock(0);
    const iterated = await iterate(new Lookup(params(c3)), c3);
    expect(seen).toEqual(iterated);
  });

  it('counts messages, hops and failures the same with or without events', async () => {
    const quiet = new FakeClock(0);
    const a = await quiet.run(new Lookup(params(quiet, {}, true)).run());
    const loud = new FakeClock(0);
    const events = await iterate(new Lookup(params(loud, {}, true)), loud);
    expect(events.filter((e) => e.type === 'timeout').map((e) => NAME_OF.get((e as { peer: { id: string } }).peer.id))).toEqual([SILENT]);
    expect(a).toEqual(events.at(-1));
    expect(a.closest.map((c) => NAME_OF.get(c.id))).toEqual(['F', 'E', 'D']);
  });

  it('resolves (never rejects) on abort and with no seeds; refuses a second start', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    ac.abort();
    expect(await clock.run(new Lookup(params(clock, { signal: ac.signal })).run())).toMatchObject({ type: 'done', reason: 'aborted' });
    expect(await clock.run(new Lookup(params(clock, { seeds: [] })).run())).toMatchObject({ type: 'done', reason: 'no-peers' });
    const l = new Lookup(params(clock));
    const first = clock.run(l.run());
    await expect(l.run()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => l[Symbol.asyncIterator]()).toThrow(/once/);
    await first;
    expect(clock.pendingTimers).toBe(0);
  });
});
