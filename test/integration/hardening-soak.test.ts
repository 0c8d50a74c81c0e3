// The soak (test/soak/soak.ts), 20,000 datagrams long: the same code `npm run soak` runs a million
// times. A live node on 127.0.0.1 keeps answering PING, keeps a flat heap and accounts for every
// datagram (see soak.ts for the exact equations).
import { describe, expect, it } from 'vitest';
import { runSoak } from '../soak/soak';

const DATAGRAMS = 20_000;
const MAX_MS = 60_000;

describe('the soak, short', () => {
  it(`a node on 127.0.0.1 survives ${DATAGRAMS.toLocaleString('en')} random and mutated datagrams and accounts for each`, async () => {
    const r = await runSoak({ datagrams: DATAGRAMS, maxMs: MAX_MS, seed: 0x50a6, warmup: 4_000 });
    const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    expect(failed).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.sent).toBe(DATAGRAMS);
    // The stream reached the handlers, not just the decoder: requests of every kind were answered.
    expect(r.node.requestsHandled).toBeGreaterThan(DATAGRAMS / 20);
    expect(Object.keys(r.node.dropped).length).toBeGreaterThanOrEqual(8);
    expect(r.heap.gc).toBe(true);
  }, 90_000);
});
