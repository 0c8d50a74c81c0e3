// The crawler speaking Mainline (BEP 43 read-only) to a loopback network of 100 real bittorrent-dht
// nodes (explicit loopback bootstrap: bittorrent-dht's default is the public routers): >= 99% of them
// found and reachable; 20 destroyed and crawled again: each gone or unreachable. Two kadscope
// Mainline nodes among them send a client version (`v`, bittorrent-dht sends none), read into the
// client column; every id is checked against its address (BEP 42: loopback is exempt).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTempDir } from '../temp-dir';
import { runCli } from './cli-run';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { crawl, type CrawlResult } from '../../core/crawl';
import { openCrawlClient, type OpenedCrawlClient } from '../../electron/host/crawl-clients';
import { createReferenceNetwork, type ReferenceNetwork } from './mainline-reference';

const SIZE = 100;
const STOPPED = 20;
let net: ReferenceNetwork;
let opened: OpenedCrawlClient;
/** kadscope's own Mainline nodes in the network: they answer with v = "KS" 0 1. */
const ours: DhtNode[] = [];
let dir = '';
withTempDir('kadscope-crawl-mainline-', (d) => (dir = d), 'block');

beforeAll(async () => {
  net = await createReferenceNetwork(SIZE);
  for (let i = 0; i < 2; i++) {
    const n = DhtNode.create({ protocol: 'mainline', host: '127.0.0.1', bootstrap: [net.bootstrap], randomBytes: seededRandomBytes(700 + i) });
    await n.start();
    ours.push(n);
  }
  opened = await openCrawlClient('mainline');
}, 180_000);

afterAll(async () => {
  await opened?.close();
  await Promise.all(ours.map((n) => n.stop()));
  await net?.close();
});

const byId = (r: CrawlResult): Map<string, CrawlResult['nodes'][number]> => new Map(r.nodes.map((n) => [n.id!, n]));

describe(`crawl of ${SIZE} bittorrent-dht nodes (Mainline, read-only)`, () => {
  it('finds and reaches >= 99% of them, with 160-bit ids', async () => {
    expect(opened.client).toMatchObject({ protocol: 'mainline', idBytes: 20, readOnly: true });
    const r = await crawl(opened.client, { bootstrap: [net.bootstrap] });
    const found = byId(r);
    const reached = net.nodes.filter((d) => found.get(bytesToHex(new Uint8Array(d.nodeId)))?.status === 'reachable').length;
    expect(reached / SIZE).toBeGreaterThanOrEqual(0.99);
    for (const n of r.nodes) expect(n.id).toMatch(/^[0-9a-f]{40}$/);
    expect(r.protocol).toBe('mainline');
    // Client versions: ours say "KS 0.1"; bittorrent-dht sends no `v`.
    for (const o of ours) expect(found.get(o.id)).toMatchObject({ status: 'reachable', client: 'KS 0.1' });
    for (const d of net.nodes.slice(0, 10)) expect(found.get(bytesToHex(new Uint8Array(d.nodeId)))?.client).toBeNull();
    expect(r.clients['KS 0.1']).toBe(2);
    // BEP 42 on every reachable node: exempt on loopback, counted in the crawl's facts.
    for (const n of r.nodes) if (n.status === 'reachable') expect(n.facts).toEqual({ bep42: 'exempt' });
    expect(r.facts).toEqual({ bep42: { exempt: r.reachable } });
  }, 180_000);

  it(`shows the ${STOPPED} destroyed nodes as gone or unreachable`, async () => {
    const gone = net.nodes.splice(SIZE - STOPPED, STOPPED);
    await Promise.all(gone.map((d) => new Promise<void>((resolve) => d.destroy(() => resolve()))));
    const r = await crawl(opened.client, { bootstrap: [net.bootstrap] });
    const found = byId(r);
    for (const d of gone) {
      const n = found.get(bytesToHex(new Uint8Array(d.nodeId)));
      if (n) expect(n.status).toBe('unreachable');
    }
    const reached = net.nodes.filter((d) => found.get(bytesToHex(new Uint8Array(d.nodeId)))?.status === 'reachable').length;
    expect(reached / net.nodes.length).toBeGreaterThanOrEqual(0.99);
  }, 180_000);

  it('kadscope crawl --protocol mainline: --out has the client and bep42 columns, crawl show the BEP 42 line', async () => {
    const out = join(dir, 'mainline.ndjson');
    const r = await runCli(['crawl', '--protocol', 'mainline', '--bootstrap', net.bootstrap, '--json', '--out', out, '--data-dir', dir]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out[0]);
    const rows = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(s.rows);
    for (const o of ours) expect(rows.find((x) => x.id === o.id)).toMatchObject({ reachable: true, client: 'KS 0.1', bep42: 'exempt', id_matches_address: null });
    for (const x of rows) if (x.reachable) expect(x.bep42).toBe('exempt');
    const show = await runCli(['crawl', 'show', String(s.id), '--data-dir', dir]);
    expect(show.out.join('\n')).toContain(`BEP 42 ids: compliant 0, exempt ${s.reachable}, non-compliant 0`);
    // Ours, and the earlier tests' crawling node: bittorrent-dht ignores BEP 43's `ro` and keeps
    // read-only queriers in its table, so a crawl of it finds a crawler that is still running.
    expect(Number(/clients: .*KS 0\.1 (\d+)/.exec(show.out.join('\n'))?.[1])).toBeGreaterThanOrEqual(2);
  }, 180_000);
});
