// Crawl history in DuckDB: a crawl saved and read back (figures, nodes, neighbours), two crawls
// compared, exports by extension, history that survives a new store on the same directory, and a
// corrupt or foreign database file refused with a clear error and moved aside, never overwritten.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { distributions, estimateSize, type CrawledNode, type CrawlResult } from '../../core/crawl';
import { CRAWL_DB_FILE, CrawlStore } from '../../electron/host/crawl-store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kadscope-crawls-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const hex = (i: number): string => i.toString(16).padStart(2, '0').repeat(32);

/** A crawl of nodes 0..n-1 where `down` are unreachable; each node names the next two. */
function fakeCrawl(n: number, down: number[] = [], startedAt = 1_700_000_000_000): CrawlResult {
  const nodes: CrawledNode[] = Array.from({ length: n }, (_, i) => {
    const up = !down.includes(i);
    return {
      id: hex(i),
      host: '127.0.0.1',
      port: 4000 + i,
      addresses: [`127.0.0.1:${4000 + i}`],
      status: up ? 'reachable' : 'unreachable',
      ...(up ? {} : { failure: 'timeout' as const, error: 'no answer' }),
      rttMs: up ? 1 + i : null,
      client: up && i % 2 === 0 ? 'K1' : null,
      ...(i === 0 ? { facts: { bep42: 'compliant' as const } } : {}),
      neighbours: up ? [(i + 1) % n, (i + 2) % n] : [],
      requests: 3,
      foundAt: startedAt,
    };
  });
  const reachable = nodes.filter((x) => x.status === 'reachable').length;
  return {
    protocol: 'kadscope',
    startedAt,
    endedAt: startedAt + 1234,
    durationMs: 1234,
    bootstrap: ['127.0.0.1:4000'],
    found: n,
    reachable,
    unreachable: n - reachable,
    notCrawled: 0,
    requests: 3 * n,
    cancelled: false,
    truncated: false,
    sizeEstimate: estimateSize(nodes),
    nodeEstimate: 42,
    ...distributions(nodes),
    nodes,
  };
}

describe('CrawlStore', () => {
  it('saves a crawl and reads back its figures and nodes; history survives a new store on the same directory', async () => {
    const first = await new CrawlStore(dir).save(fakeCrawl(10, [3]));
    expect(first).toBe(1);
    const store = new CrawlStore(dir);
    expect(await store.save(fakeCrawl(8))).toBe(2);
    const list = await store.list();
    expect(list.map((c) => c.id)).toEqual([2, 1]);
    const one = (await store.get(1))!;
    expect(one).toMatchObject({ protocol: 'kadscope', found: 10, reachable: 9, unreachable: 1, durationMs: 1234, bootstrap: ['127.0.0.1:4000'], nodeEstimate: 42 });
    expect(one.clients).toEqual({ K1: 5, unknown: 4 });
    expect(one.failures).toEqual({ timeout: 1, refused: 0, error: 0 });
    expect(await store.get(99)).toBeNull();
    const nodes = await store.nodes(1);
    expect(nodes).toHaveLength(10);
    expect(nodes[3]).toMatchObject({ id: hex(3), status: 'unreachable', failure: 'timeout', rttMs: null, neighbours: 0 });
    expect(nodes[0]).toMatchObject({ status: 'reachable', client: 'K1', rttMs: 1, neighbours: 2, bep42: 'compliant', idMatchesAddress: null });
    expect(one.facts).toEqual({ bep42: { compliant: 1 } });
  });

  it('compares two crawls: joined, left, stayed', async () => {
    const store = new CrawlStore(dir);
    const a = await store.save(fakeCrawl(10, [3]));
    const b = await store.save(fakeCrawl(12, [5, 6]));
    const cmp = await store.compare(a, b);
    // a: reachable 0-9 but 3; b: 0-11 but 5, 6.
    expect(cmp).toMatchObject({ joined: 3, left: 2, stayed: 7 });
    expect(cmp.joinedIds).toEqual([hex(3), hex(10), hex(11)]);
    expect(cmp.leftIds).toEqual([hex(5), hex(6)]);
  });

  it('exports one row per node as NDJSON, CSV and Parquet by extension; refuses another extension', async () => {
    const store = new CrawlStore(dir);
    const id = await store.save(fakeCrawl(5, [4]));
    const nd = join(dir, 'out.ndjson');
    expect(await store.export(id, nd)).toEqual({ rows: 5, format: 'ndjson' });
    const rows = readFileSync(nd, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatchObject({ id: hex(0), host: '127.0.0.1', port: 4000, reachable: true, client: 'K1', rtt_ms: 1, neighbours: 2, neighbour_ids: [hex(1), hex(2)], bep42: 'compliant' });
    expect(rows[4]).toMatchObject({ reachable: false, status: 'unreachable', failure: 'timeout', neighbour_ids: [] });
    const csv = join(dir, 'out.csv');
    await store.export(id, csv);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^id,host,port,reachable,status,failure,client,rtt_ms,neighbours,neighbour_ids/);
    const pq = join(dir, 'out.parquet');
    await store.export(id, pq);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const back = (await c.runAndReadAll(`select id, reachable, neighbours from read_parquet('${pq}') order by port`)).getRowObjectsJS();
    c.closeSync();
    db.closeSync();
    expect(back.map((r) => r.reachable)).toEqual([true, true, true, true, false]);
    await expect(store.export(id, join(dir, 'out.xlsx'))).rejects.toThrow(/\.ndjson, \.csv or \.parquet/);
    await expect(store.export(77, join(dir, 'x.csv'))).rejects.toThrow(/no crawl 77/);
  });

  it('reads a version 1 history: bep42 becomes BEP 42\'s three answers, crawls get facts and the BEP 51 columns, nothing is lost', async () => {
    // Version 1's tables as the previous kadscope wrote them (bep42 a boolean, no crawls.facts).
    const path = join(dir, CRAWL_DB_FILE);
    const db = await DuckDBInstance.create(path);
    const c = await db.connect();
    await c.run(`
      create table kadscope_meta (key varchar primary key, value varchar not null);
      insert into kadscope_meta values ('format', 'kadscope-crawls'), ('version', '1');
      create table crawls (id integer primary key, protocol varchar not null, started_at_ms bigint not null, ended_at_ms bigint not null,
        duration_ms double not null, bootstrap json not null, found integer not null, reachable integer not null, unreachable integer not null,
        not_crawled integer not null, requests bigint not null, cancelled boolean not null, truncated boolean not null, size_estimate bigint not null,
        node_estimate bigint, clients json not null, neighbour_counts json not null, failures json not null);
      create table nodes (crawl_id integer not null, idx integer not null, id varchar, host varchar not null, port integer not null,
        addresses varchar[] not null, status varchar not null, failure varchar, error varchar, rtt_ms double, client varchar, bep42 boolean,
        id_matches_address boolean, neighbours integer not null, requests integer not null, found_at_ms bigint not null);
      create table neighbours (crawl_id integer not null, from_idx integer not null, to_idx integer not null);
      insert into crawls values (1, 'mainline', 1, 2, 1, '[]', 2, 2, 0, 0, 4, false, false, 2, null, '{"unknown":2}', '[[1,2]]', '{"timeout":0,"refused":0,"error":0}');
      insert into nodes values (1, 0, '${hex(1)}', '127.0.0.1', 4001, ['127.0.0.1:4001'], 'reachable', null, null, 1, null, true, null, 1, 2, 1),
                               (1, 1, '${hex(2)}', '127.0.0.1', 4002, ['127.0.0.1:4002'], 'reachable', null, null, 1, null, null, null, 1, 2, 1);`);
    c.closeSync();
    db.closeSync();
    const store = new CrawlStore(dir);
    expect((await store.get(1))!).toMatchObject({ protocol: 'mainline', found: 2, facts: {} });
    expect((await store.nodes(1)).map((n) => n.bep42)).toEqual(['compliant', null]);
    // New crawls go on after it, with their facts.
    const next = fakeCrawl(3);
    expect(await store.save(next)).toBe(2);
    expect((await store.get(2))!.facts).toEqual({ bep42: { compliant: 1 } });
    // Upgraded through version 2 to 3: the BEP 51 columns are there, null for the old crawl.
    expect((await store.nodes(1)).map((n) => n.samples)).toEqual([null, null]);
    expect((await store.get(1))!.samples).toBeUndefined();
    expect(readdirSync(dir).filter((f) => f.includes('corrupt'))).toEqual([]);
  });

  it('keeps BEP 51 figures: the crawl\'s samples, each node\'s, the infohashes; a crawl without them reads back without', async () => {
    const store = new CrawlStore(dir);
    const r = fakeCrawl(3, [2]);
    r.protocol = 'mainline';
    r.nodes[0].samples = { status: 'answered', count: 2, num: 9 };
    r.nodes[1].samples = { status: 'not-supported', count: 0, num: null };
    r.samples = { asked: 2, answered: 1, notSupported: 1, error: 0, infohashes: 2, capped: false };
    r.infohashes = ['aa'.repeat(20), 'bb'.repeat(20)];
    const id = await store.save(r);
    expect((await store.get(id))!.samples).toEqual(r.samples);
    expect((await store.nodes(id)).map((n) => n.samples)).toEqual([{ status: 'answered', count: 2, num: 9 }, { status: 'not-supported', count: 0, num: null }, null]);
    const nd = join(dir, 'samples.ndjson');
    await store.export(id, nd);
    const rows = readFileSync(nd, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.samples_status, x.samples, x.samples_num])).toEqual([['answered', 2, 9], ['not-supported', 0, null], [null, null, null]]);
    const plain = await store.save(fakeCrawl(2));
    expect((await store.get(plain))!.samples).toBeUndefined();
    const db = await DuckDBInstance.create(join(dir, CRAWL_DB_FILE));
    const c = await db.connect();
    const hashes = (await c.runAndReadAll('select crawl_id, infohash from infohashes order by infohash')).getRowObjectsJS();
    c.closeSync();
    db.closeSync();
    expect(hashes).toEqual([{ crawl_id: id, infohash: 'aa'.repeat(20) }, { crawl_id: id, infohash: 'bb'.repeat(20) }]);
  });

  it('refuses a corrupt file with a clear error, moves it aside, and starts anew on the next open', async () => {
    const path = join(dir, CRAWL_DB_FILE);
    writeFileSync(path, 'not a database at all '.repeat(50));
    const store = new CrawlStore(dir);
    const err = await store.list().catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/is not a DuckDB database .* moved it to .*crawls\.duckdb\.corrupt-/);
    const aside = readdirSync(dir).find((f) => f.startsWith(`${CRAWL_DB_FILE}.corrupt-`))!;
    expect(readFileSync(join(dir, aside), 'utf8')).toMatch(/^not a database at all/);
    expect(await store.list()).toEqual([]);
    expect(await store.save(fakeCrawl(3))).toBe(1);
  });

  it("refuses another program's DuckDB database, moves it aside untouched", async () => {
    const path = join(dir, CRAWL_DB_FILE);
    const db = await DuckDBInstance.create(path);
    const c = await db.connect();
    await c.run("create table invoices (n integer); insert into invoices values (7)");
    c.closeSync();
    db.closeSync();
    const store = new CrawlStore(dir);
    await expect(store.save(fakeCrawl(3))).rejects.toThrow(/not kadscope's crawl history \(tables: invoices\).*moved it to/);
    const aside = readdirSync(dir).find((f) => f.startsWith(`${CRAWL_DB_FILE}.corrupt-`) && !f.endsWith('.wal'))!;
    const db2 = await DuckDBInstance.create(join(dir, aside));
    const c2 = await db2.connect();
    expect((await c2.runAndReadAll('select n from invoices')).getRowObjectsJS()).toEqual([{ n: 7 }]);
    c2.closeSync();
    db2.closeSync();
    expect(await store.save(fakeCrawl(3))).toBe(1);
  });
});
