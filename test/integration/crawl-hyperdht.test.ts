// The crawler speaking HyperDHT (an ephemeral DhtNode on the protocol seam) to a loopback network of
// 20 real hyperdht nodes (explicit loopback bootstrap): every node found and reachable, each id
// checked against the address it answered from (a hyperdht id is BLAKE2b-256 of it; the ephemeral
// bootstrapper has none) and counted in the crawl's facts; the crawler enters no reference table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crawl } from '../../core/crawl';
import { openCrawlClient, type OpenedCrawlClient } from '../../electron/host/crawl-clients';
import { createHyperTestnet, type RefTestnet } from './hyperdht-testnet';

const SIZE = 20;
let net: RefTestnet;
let opened: OpenedCrawlClient;

beforeAll(async () => {
  net = await createHyperTestnet(SIZE);
  opened = await openCrawlClient('hyperdht');
}, 120_000);

afterAll(async () => {
  await opened?.close();
  await net?.destroy();
});

describe(`crawl of ${SIZE} hyperdht nodes`, () => {
  it('finds and reaches every one, says of each whether its id matches its address, and stays out of their tables', async () => {
    expect(opened.client).toMatchObject({ protocol: 'hyperdht', idBytes: 32, readOnly: true });
    const tabled = (): Set<string> => new Set(net.nodes.flatMap((n) => n.table.toArray().map((e) => `${e.host}:${e.port}`)));
    const before = tabled();
    const r = await crawl(opened.client, { bootstrap: net.bootstrap.map((b) => `${b.host}:${b.port}`) });
    expect([...tabled()].filter((a) => !before.has(a))).toEqual([]);
    expect(r.protocol).toBe('hyperdht');
    expect(r.reachable).toBeGreaterThanOrEqual(SIZE);
    // hyperdht/testnet's bootstrapper is ephemeral: it answers without an id, so no id matches its
    // address; every persistent node's does.
    const ephemeral = new Set(net.nodes.filter((n) => n.ephemeral).map((n) => `${n.address().host}:${n.address().port}`));
    for (const n of r.nodes) if (n.status === 'reachable') expect(n.facts, `${n.host}:${n.port}`).toEqual({ idMatchesAddress: !ephemeral.has(`${n.host}:${n.port}`) });
    expect(r.facts).toEqual({ idMatchesAddress: { yes: r.reachable - ephemeral.size, no: ephemeral.size } });
  }, 120_000);
});
