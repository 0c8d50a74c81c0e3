// Crawl history: every crawl in a DuckDB file in the data directory (crawls.duckdb), queryable with
// SQL and exportable to NDJSON, CSV or Parquet. The schema is in the README ("Crawl history").
//
// The file is opened for each operation and closed after it: DuckDB locks its file while open, and
// the app and the CLI share one data directory. A file that is not a DuckDB database, or a DuckDB
// database that is not ours, is refused: it is moved aside (never overwritten) and the error says
// where it went; the next open starts a new history.
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { CrawlResult, CrawlSampleCounts, CrawlSampleStatus } from '../../core/crawl';
import { MAX_LISTED_CRAWLS, MAX_VIEW_NODES, type CrawlComparisonDto, type CrawlNodeDto, type CrawlSummaryDto } from './contract';
import { moveAside } from '../../core/persist/atomic';

export const CRAWL_DB_FILE = 'crawls.duckdb';
/** Written in kadscope_meta; a file without it is not ours. */
const FORMAT = 'kadscope-crawls';
/**
 * 2: nodes.bep42 is BEP 42's three answers (was a boolean nothing filled), crawls.facts added.
 * 3: BEP 51: crawls.samples, nodes.samples_status / samples / samples_num, the infohashes table.
 */
const SCHEMA_VERSION = 3;

export const EXPORT_FORMATS = { '.ndjson': 'ndjson', '.csv': 'csv', '.parquet': 'parquet' } as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[keyof typeof EXPORT_FORMATS];

export class CrawlStoreError extends Error {
  constructor(
    message: string,
    /** Where a refused file was moved, if it was. */
    readonly movedTo: string | null = null,
  ) {
    super(message);
  }
}

/** A stored crawl's figures, as `kadscope crawls` and the app list them. */
export type StoredCrawl = CrawlSummaryDto;
export type StoredNode = CrawlNodeDto;
export type CrawlComparison = CrawlComparisonDto;

const SCHEMA = `
create table if not exists kadscope_meta (key varchar primary key, value varchar not null);
create table if not exists crawls (
  id integer primary key,
  protocol varchar not null,
  started_at_ms bigint not null,
  ended_at_ms bigint not null,
  duration_ms double not null,
  bootstrap json not null,
  found integer not null,
  reachable integer not null,
  unreachable integer not null,
  not_crawled integer not null,
  requests bigint not null,
  cancelled boolean not null,
  truncated boolean not null,
  size_estimate bigint not null,
  node_estimate bigint,
  clients json not null,
  neighbour_counts json not null,
  failures json not null,
  facts json not null default '{}',
  samples json
);
create table if not exists nodes (
  crawl_id integer not null,
  idx integer not null,
  id varchar,
  host varchar not null,
  port integer not null,
  addresses varchar[] not null,
  status varchar not null,
  failure varchar,
  error varchar,
  rtt_ms double,
  client varchar,
  bep42 varchar,
  id_matches_address boolean,
  neighbours integer not null,
  requests integer not null,
  found_at_ms bigint not null,
  samples_status varchar,
  samples integer,
  samples_num integer
);
create table if not exists neighbours (crawl_id integer not null, from_idx integer not null, to_idx integer not null);
create table if not exists infohashes (crawl_id integer not null, infohash varchar not null);
`;

export class CrawlStore {
  readonly path: string;

  constructor(readonly dataDir: string) {
    this.path = join(dataDir, CRAWL_DB_FILE);
  }

  /** Opens (creating the file and schema if needed), runs fn, closes. Refuses a foreign or corrupt file. */
  private async with<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    await mkdir(this.dataDir, { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(this.path);
    } catch (err) {
      const message = (err as Error).message;
      // Another process holding the file is not a corrupt file: say so and move nothing.
      if (/lock/i.test(message)) throw new CrawlStoreError(`${this.path} is in use by another kadscope process (${firstLine(message)})`);
      throw await this.refuse(`is not a DuckDB database (${firstLine(message)})`);
    }
    let c: DuckDBConnection | null = null;
    try {
      c = await instance.connect();
      await this.checkOurs(c);
      return await fn(c);
    } finally {
      c?.closeSync();
      instance.closeSync();
    }
  }

  private async checkOurs(c: DuckDBConnection): Promise<void> {
    const tables = (await c.runAndReadAll(`select table_name from information_schema.tables where table_schema = 'main'`)).getRowObjectsJS().map((r) => String(r.table_name));
    if (tables.length === 0) {
      await c.run(SCHEMA);
      await c.run(`insert into kadscope_meta values ('format', '${FORMAT}'), ('version', '${SCHEMA_VERSION}')`);
      return;
    }
    const meta = tables.includes('kadscope_meta')
      ? Object.fromEntries((await c.runAndReadAll('select key, value from kadscope_meta')).getRowObjectsJS().map((r) => [String(r.key), String(r.value)]))
      : {};
    if (meta.format !== FORMAT) {
      c.closeSync();
      throw await this.refuse(`is a DuckDB database but not kadscope's crawl history (tables: ${tables.slice(0, 5).join(', ')})`);
    }
    const version = Number(meta.version);
    if (version > SCHEMA_VERSION) throw new CrawlStoreError(`${this.path} was written by a newer kadscope (crawl history version ${version}; this one reads ${SCHEMA_VERSION}); left as it is`);
    await c.run(SCHEMA);
    if (version < 2) {
      // Version 1 kept bep42 as a boolean (never filled: the crawler did not read it yet) and had
      // no crawls.facts. One transaction, so a failed upgrade leaves version 1 as it was.
      await c.run(`begin transaction;
        alter table nodes alter bep42 type varchar using (case when bep42 then 'compliant' when not bep42 then 'non-compliant' end);
        alter table crawls add column facts json default '{}';
        update kadscope_meta set value = '2' where key = 'version';
        commit;`);
    }
    if (version < 3) {
      // Version 2 had no BEP 51 figures: the new columns go last (the appenders write in table
      // order) and stay null for older crawls, which asked no sample_infohashes.
      await c.run(`begin transaction;
        alter table crawls add column samples json;
        alter table nodes add column samples_status varchar;
        alter table nodes add column samples integer;
        alter table nodes add column samples_num integer;
        update kadscope_meta set value = '${SCHEMA_VERSION}' where key = 'version';
        commit;`);
    }
  }

  /** Moves the file (and its write-ahead log) aside; returns the error to throw. */
  private async refuse(why: string): Promise<CrawlStoreError> {
    const movedTo = await moveAside(this.path, Date.now());
    const wal = `${this.path}.wal`;
    if (existsSync(wal)) await rename(wal, `${movedTo}.wal`);
    return new CrawlStoreError(`${this.path} ${why}; moved it to ${movedTo} (a new crawl history starts on the next crawl)`, movedTo);
  }

  /**
   * The id the CLI's crawling node uses, kept in the file: kadscope's wire has no read-only mode, so
   * a crawler enters the tables of the nodes it asks; with one id across crawls, the next crawl
   * recognises it as itself instead of counting each past crawler as an unreachable node.
   */
  async crawlerId(random: () => string): Promise<string> {
    return this.with(async (c) => {
      const rows = (await c.runAndReadAll(`select value from kadscope_meta where key = 'crawler_id'`)).getRowObjectsJS();
      if (rows.length > 0 && /^[0-9a-f]{64}$/.test(String(rows[0].value))) return String(rows[0].value);
      const id = random();
      const p = await c.prepare(`insert or replace into kadscope_meta values ('crawler_id', $1)`);
      p.bindVarchar(1, id);
      await p.run();
      return id;
    });
  }

  /** Stores a crawl; returns its id. */
  async save(r: CrawlResult): Promise<number> {
    return this.with(async (c) => {
      const id = Number((await c.runAndReadAll('select coalesce(max(id), 0) + 1 as id from crawls')).getRowObjectsJS()[0].id);
      const p = await c.prepare(`insert into crawls values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`);
      p.bindInteger(1, id);
      p.bindVarchar(2, r.protocol);
      p.bindBigInt(3, BigInt(Math.round(r.startedAt)));
      p.bindBigInt(4, BigInt(Math.round(r.endedAt)));
      p.bindDouble(5, r.durationMs);
      p.bindVarchar(6, JSON.stringify(r.bootstrap));
      p.bindInteger(7, r.found);
      p.bindInteger(8, r.reachable);
      p.bindInteger(9, r.unreachable);
      p.bindInteger(10, r.notCrawled);
      p.bindBigInt(11, BigInt(r.requests));
      p.bindBoolean(12, r.cancelled);
      p.bindBoolean(13, r.truncated);
      p.bindBigInt(14, BigInt(r.sizeEstimate));
      if (r.nodeEstimate === null) p.bindNull(15);
      else p.bindBigInt(15, BigInt(r.nodeEstimate));
      p.bindVarchar(16, JSON.stringify(r.clients));
      p.bindVarchar(17, JSON.stringify(r.neighbourCounts));
      p.bindVarchar(18, JSON.stringify(r.failures));
      p.bindVarchar(19, JSON.stringify(r.facts));
      if (r.samples === undefined) p.bindNull(20);
      else p.bindVarchar(20, JSON.stringify(r.samples));
      await p.run();
      const nodes = await c.createAppender('nodes');
      r.nodes.forEach((n, i) => {
        nodes.appendInteger(id);
        nodes.appendInteger(i);
        optional(nodes, n.id, (v) => nodes.appendVarchar(v));
        nodes.appendVarchar(n.host);
        nodes.appendInteger(n.port);
        nodes.appendList(n.addresses);
        nodes.appendVarchar(n.status);
        optional(nodes, n.failure, (v) => nodes.appendVarchar(v));
        optional(nodes, n.error, (v) => nodes.appendVarchar(v));
        optional(nodes, n.rttMs, (v) => nodes.appendDouble(v));
        optional(nodes, n.client, (v) => nodes.appendVarchar(v));
        optional(nodes, n.facts?.bep42, (v) => nodes.appendVarchar(v));
        optional(nodes, n.facts?.idMatchesAddress, (v) => nodes.appendBoolean(v));
        nodes.appendInteger(n.neighbours.length);
        nodes.appendInteger(n.requests);
        nodes.appendBigInt(BigInt(Math.round(n.foundAt)));
        optional(nodes, n.samples?.status, (v) => nodes.appendVarchar(v));
        optional(nodes, n.samples?.count, (v) => nodes.appendInteger(v));
        optional(nodes, n.samples?.num, (v) => nodes.appendInteger(v));
        nodes.endRow();
      });
      nodes.closeSync();
      const edges = await c.createAppender('neighbours');
      r.nodes.forEach((n, i) => {
        for (const j of n.neighbours) {
          edges.appendInteger(id);
          edges.appendInteger(i);
          edges.appendInteger(j);
          edges.endRow();
        }
      });
      edges.closeSync();
      if (r.infohashes !== undefined && r.infohashes.length > 0) {
        const hashes = await c.createAppender('infohashes');
        for (const h of r.infohashes) {
          hashes.appendInteger(id);
          hashes.appendVarchar(h);
          hashes.endRow();
        }
        hashes.closeSync();
      }
      return id;
    });
  }

  /** Stored crawls, newest first. */
  async list(limit = MAX_LISTED_CRAWLS): Promise<StoredCrawl[]> {
    return this.with(async (c) => (await c.runAndReadAll(`select * from crawls order by id desc limit ${Math.max(1, Math.min(limit, MAX_LISTED_CRAWLS))}`)).getRowObjectsJS().map(toCrawl));
  }

  /** One crawl's figures, or null when there is none with this id. */
  async get(id: number): Promise<StoredCrawl | null> {
    assertCrawlId(id);
    return this.with(async (c) => {
      const p = await c.prepare('select * from crawls where id = $1');
      p.bindInteger(1, id);
      const rows = (await p.runAndReadAll()).getRowObjectsJS();
      return rows.length === 0 ? null : toCrawl(rows[0]);
    });
  }

  /** One crawl's nodes (at most `limit`), in the order the crawl found them. */
  async nodes(id: number, limit = MAX_VIEW_NODES): Promise<StoredNode[]> {
    assertCrawlId(id);
    return this.with(async (c) => {
      const p = await c.prepare(`select id, host, port, status, failure, rtt_ms, client, bep42, id_matches_address, neighbours, samples_status, samples, samples_num from nodes where crawl_id = $1 order by idx limit ${Math.max(1, Math.min(limit, MAX_VIEW_NODES))}`);
      p.bindInteger(1, id);
      return (await p.runAndReadAll()).getRowObjectsJS().map((r) => ({
        id: r.id === null ? null : String(r.id),
        host: String(r.host),
        port: Number(r.port),
        status: String(r.status) as StoredNode['status'],
        failure: r.failure === null ? null : String(r.failure),
        rttMs: r.rtt_ms === null ? null : Number(r.rtt_ms),
        client: r.client === null ? null : String(r.client),
        bep42: r.bep42 === null ? null : (String(r.bep42) as StoredNode['bep42']),
        idMatchesAddress: r.id_matches_address === null ? null : Boolean(r.id_matches_address),
        neighbours: Number(r.neighbours),
        samples:
          r.samples_status === null
            ? null
            : { status: String(r.samples_status) as CrawlSampleStatus, count: Number(r.samples ?? 0), num: r.samples_num === null ? null : Number(r.samples_num) },
      }));
    });
  }

  /** Nodes that joined, left and stayed (by reachability) between two crawls. */
  async compare(from: number, to: number, limit = 200): Promise<CrawlComparison> {
    assertCrawlId(from);
    assertCrawlId(to);
    return this.with(async (c) => {
      const reach = (crawl: number): string => `(select id from nodes where crawl_id = ${crawl} and status = 'reachable' and id is not null)`;
      const q = async (sql: string): Promise<Record<string, unknown>[]> => (await c.runAndReadAll(sql)).getRowObjectsJS();
      const [counts] = await q(`
        with a as ${reach(from)}, b as ${reach(to)}
        select (select count(*) from b where id not in (select id from a)) as joined,
               (select count(*) from a where id not in (select id from b)) as left_,
               (select count(*) from a where id in (select id from b)) as stayed`);
      const ids = async (x: number, y: number): Promise<string[]> =>
        (await q(`select id from ${reach(x)} where id not in ${reach(y)} order by id limit ${limit}`)).map((r) => String(r.id));
      return { from, to, joined: Number(counts.joined), left: Number(counts.left_), stayed: Number(counts.stayed), joinedIds: await ids(to, from), leftIds: await ids(from, to) };
    });
  }

  /** Writes one row per node of a crawl to `file`, in the format its extension names. */
  async export(id: number, file: string): Promise<{ rows: number; format: ExportFormat }> {
    assertCrawlId(id);
    const format = exportFormat(file);
    return this.with(async (c) => {
      const known = Number((await c.runAndReadAll(`select count(*) as n from crawls where id = ${id}`)).getRowObjectsJS()[0].n);
      if (known === 0) throw new CrawlStoreError(`no crawl ${id} in ${this.path}`);
      const options = format === 'parquet' ? '(format parquet)' : format === 'csv' ? '(header)' : '(format json)';
      const select = `
        with nb as (
          select e.from_idx, list(m.id order by e.to_idx) as ids
          from neighbours e join nodes m on m.crawl_id = e.crawl_id and m.idx = e.to_idx
          where e.crawl_id = ${id}
          group by e.from_idx
        )
        select n.id, n.host, n.port, n.status = 'reachable' as reachable, n.status, n.failure, n.client, n.rtt_ms,
               n.neighbours, coalesce(nb.ids, []) as neighbour_ids, n.addresses, n.bep42, n.id_matches_address,
               n.samples_status, n.samples, n.samples_num
        from nodes n left join nb on nb.from_idx = n.idx
        where n.crawl_id = ${id}
        order by n.idx`;
      await c.run(`copy (${select}) to '${file.replace(/'/g, "''")}' ${options}`);
      const rows = Number((await c.runAndReadAll(`select count(*) as n from nodes where crawl_id = ${id}`)).getRowObjectsJS()[0].n);
      return { rows, format };
    });
  }
}

/** The export format a file name asks for; throws a clear error for any other extension. */
export function exportFormat(file: string): ExportFormat {
  const ext = extname(file).toLowerCase() as keyof typeof EXPORT_FORMATS;
  const f = EXPORT_FORMATS[ext];
  if (!f) throw new CrawlStoreError(`cannot tell the export format of "${file}": use a .ndjson, .csv or .parquet file name`);
  return f;
}

function assertCrawlId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 1) throw new CrawlStoreError(`a crawl id is a positive whole number; got ${String(id).slice(0, 40)}`);
}

function optional<T>(a: { appendNull(): void }, v: T | undefined | null, put: (v: T) => void): void {
  if (v === undefined || v === null) a.appendNull();
  else put(v);
}

function firstLine(s: string): string {
  return s.split('\n')[0].slice(0, 200);
}

function toCrawl(r: Record<string, unknown>): StoredCrawl {
  const json = <T>(v: unknown): T => JSON.parse(String(v)) as T;
  return {
    id: Number(r.id),
    protocol: String(r.protocol),
    startedAt: Number(r.started_at_ms),
    endedAt: Number(r.ended_at_ms),
    durationMs: Number(r.duration_ms),
    bootstrap: json(r.bootstrap),
    found: Number(r.found),
    reachable: Number(r.reachable),
    unreachable: Number(r.unreachable),
    notCrawled: Number(r.not_crawled),
    requests: Number(r.requests),
    cancelled: Boolean(r.cancelled),
    truncated: Boolean(r.truncated),
    sizeEstimate: Number(r.size_estimate),
    nodeEstimate: r.node_estimate === null ? null : Number(r.node_estimate),
    clients: json(r.clients),
    neighbourCounts: json(r.neighbour_counts),
    failures: json(r.failures),
    facts: r.facts === null || r.facts === undefined ? {} : json(r.facts),
    ...(r.samples === null || r.samples === undefined ? {} : { samples: json<CrawlSampleCounts>(r.samples) }),
  };
}
