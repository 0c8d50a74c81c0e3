// `kadscope crawl`, `crawl show` and `crawls` through the CLI's main(), against a UDP testnet on
// 127.0.0.1: the summary's JSON shape, the export by extension, history across commands, usage errors.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestnet, type Testnet } from '../../core/testnet';
import { runCli, type CliRun } from './cli-run';

const SIZE = 24;
let tn: Testnet;
let dir: string;

const cli = (...argv: string[]): Promise<CliRun> => runCli(argv);

beforeAll(async () => {
  tn = await createTestnet({ size: SIZE, transport: 'udp', seed: 0xc11 });
  dir = await mkdtemp(join(tmpdir(), 'kadscope-crawl-cli-'));
}, 120_000);
afterAll(async () => {
  await tn?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('kadscope crawl / crawls', () => {
  it('crawl --json prints one summary object; --out writes one row per node; the crawl is stored', async () => {
    const out = join(dir, 'nodes.ndjson');
    const r = await cli('crawl', '--bootstrap', tn.bootstrap[0], '--json', '--out', out, '--data-dir', dir);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out).toHaveLength(1);
    const s = JSON.parse(r.out[0]);
    expect(s).toMatchObject({ id: 1, protocol: 'kadscope', reachable: SIZE, unreachable: 0, found: SIZE, rows: SIZE });
    expect(typeof s.durationMs).toBe('number');
    const rows = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(SIZE);
    expect(new Set(rows.map((x) => x.id))).toEqual(new Set(tn.nodes.map((n) => n.id)));
    for (const x of rows) expect(x).toMatchObject({ host: '127.0.0.1', reachable: true, client: null });
  }, 120_000);

  it('a second crawl (text, progress on stderr) does not count the first crawler as a node; crawls lists both; crawl show summarises one', async () => {
    const r = await cli('crawl', '--bootstrap', tn.bootstrap.join(','), '--out', join(dir, 'n.csv'), '--data-dir', dir);
    expect(r.code).toBe(0);
    expect(r.err.length).toBeGreaterThan(0);
    expect(r.err.at(-1)).toMatch(/^crawl: \d+ crawled, 0 in progress, 0 queued · 24 reachable, 0 unreachable · [\d.]+ nodes\/s$/);
    expect(r.out.join('\n')).toMatch(/found 24 nodes: 24 reachable \(100\.0%\), 0 unreachable/);
    expect(r.out.join('\n')).toMatch(/wrote 24 rows to .*n\.csv \(csv\)/);
    const list = await cli('crawls', '--data-dir', dir);
    expect(list.code).toBe(0);
    expect(list.out).toHaveLength(3);
    expect(list.out[1]).toMatch(/^\s+2 .* kadscope\s+24\s+24\s+0 /);
    const json = JSON.parse((await cli('crawls', '--json', '--data-dir', dir)).out[0]);
    expect(json.map((c: { id: number }) => c.id)).toEqual([2, 1]);
    const show = await cli('crawl', 'show', '1', '--data-dir', dir);
    expect(show.code).toBe(0);
    expect(show.out[0]).toMatch(/^crawl 1 · kadscope/);
    expect(show.out.join('\n')).toMatch(/clients: unknown 24/);
    // kadscope's wire carries no protocol facts: no BEP 42 or id-address line.
    expect(show.out.join('\n')).not.toMatch(/BEP 42|id matches address/);
    const showJson = JSON.parse((await cli('crawl', 'show', '2', '--json', '--data-dir', dir)).out[0]);
    expect(showJson).toMatchObject({ id: 2, reachable: 24 });
  }, 120_000);

  it('usage errors exit 2 with one line; a missing crawl exits 1; a foreign file is refused and moved aside', async () => {
    for (const argv of [
      ['crawl'],
      ['crawl', '--bootstrap', 'nowhere'],
      ['crawl', '--bootstrap', '127.0.0.1:1', '--protocol', 'gopher'],
      ['crawl', '--bootstrap', '127.0.0.1:1', '--out', 'x.xlsx'],
      ['crawl', 'show', 'abc'],
      ['crawls', 'extra'],
    ]) {
      const r = await cli(...argv, '--data-dir', dir);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toHaveLength(1);
    }
    const missing = await cli('crawl', 'show', '99', '--data-dir', dir);
    expect(missing.code).toBe(1);
    expect(missing.err[0]).toMatch(/no crawl 99/);
    const other = await mkdtemp(join(tmpdir(), 'kadscope-crawl-cli-bad-'));
    await writeFile(join(other, 'crawls.duckdb'), 'garbage'.repeat(100));
    const bad = await cli('crawls', '--data-dir', other);
    expect(bad.code).toBe(1);
    expect(bad.err).toEqual([expect.stringMatching(/crawls\.duckdb is not a DuckDB database .*moved it to .*\.corrupt-/)]);
    expect((await cli('crawls', '--data-dir', other)).code).toBe(0);
    await rm(other, { recursive: true, force: true });
  }, 60_000);
});
