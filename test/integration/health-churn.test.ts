// Health and the network size estimate follow churn, under fake time on the simulated network.
// A testnet of 32 nodes; 8 are stopped; one node "probes" (3 lookups to random ids, as the Testnet
// view's Probe button does). Every stopped peer that node holds must be bad within the stated time
// (CHURN_BAD_WITHIN_MS), and its size estimate must fall to what its live peers say.
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeClock } from '../../core/clock';
import { BAD_FAILURES } from '../../core/health/health';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { RPC_RETRIES, RPC_TIMEOUT_MS } from '../../core/rpc/rpc';
import { RoutingTable } from '../../core/routing';
import { createTestnet, type Testnet } from '../../core/testnet';

// The time the README and the Testnet view state: the probe's own request to a dead peer (one
// request lifetime), then BAD_FAILURES - 1 re-check PINGs, each a request lifetime.
const REQUEST_LIFETIME_MS = RPC_TIMEOUT_MS * (1 + RPC_RETRIES);
const CHURN_BAD_WITHIN_MS = BAD_FAILURES * REQUEST_LIFETIME_MS;
const HOUR = 3_600_000;

let open: Testnet[] = [];
afterEach(async () => {
  await Promise.all(open.map((t) => t.destroy()));
  open = [];
});

describe('health under churn', () => {
  it(`after 8 of 32 nodes stop, a probe makes every stopped peer bad within ${CHURN_BAD_WITHIN_MS / 1000} s, and the estimate falls`, async () => {
    // Bucket refreshes off, so nothing but the probe (and what it sets off) asks the dead peers.
    const tn = (await createTestnet({ size: 32, transport: 'memory', seed: 0xc4a2, node: { refreshIntervalMs: 24 * HOUR } })) as Testnet & { clock: FakeClock };
    open.push(tn);
    const me = tn.nodes[0];
    await tn.run(me.findNode(me.id));
    const sizeBefore = me.snapshot().estimatedNetworkSize;
    const stopped = new Set(await tn.stopRandom(8));
    const held = me.table.entries().filter((e) => stopped.has(e.id));
    expect(held.length).toBeGreaterThanOrEqual(6);

    const rand = seededRandomBytes(0xc4a3);
    const t0 = tn.clock.now();
    for (let i = 0; i < 3; i++) await tn.run(me.findNode(bytesToHex(rand(32))));
    // Whatever the probe set off runs out in fake time; the deadline is measured from its start.
    await tn.clock.tickAsync(Math.max(0, t0 + CHURN_BAD_WITHIN_MS - tn.clock.now()));

    const snap = me.snapshot();
    const stateOf = new Map(snap.peers.map((p) => [p.id, p.state]));
    const notBad = [...stopped].filter((id) => stateOf.has(id) && stateOf.get(id) !== 'bad');
    expect(notBad, 'stopped peers not yet bad').toEqual([]);
    // Live peers were not hurt by the re-checks.
    const liveBad = snap.peers.filter((p) => !stopped.has(p.id) && p.state === 'bad');
    expect(liveBad).toEqual([]);

    // The estimate is what a table holding only the live peers would say.
    const liveOnly = new RoutingTable(me.idBytes, { diversity: { enabled: false } });
    for (const p of snap.peers) if (!stopped.has(p.id)) liveOnly.observe({ id: p.id, host: p.host, port: p.port }, tn.clock.now(), { rttMs: 10 });
    console.log(`churn: ${held.length} stopped peers held; estimate ${sizeBefore} before, ${snap.estimatedNetworkSize} after (24 alive)`);
    expect(snap.estimatedNetworkSize).toBe(liveOnly.estimateNetworkSize());
    expect(snap.estimatedNetworkSize).toBeLessThan(sizeBefore);
  });
});
