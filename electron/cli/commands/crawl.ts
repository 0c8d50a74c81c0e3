// `kadscope crawl`: map a whole network from --bootstrap (core/crawl), keep the crawl in the data
// directory's crawl history (host/crawl-store.ts) and optionally write one row per node to --out;
// `kadscope crawl show ID` summarises a stored crawl; `kadscope crawls` lists them.
import { resolve } from 'node:path';
import { parseAddressList } from '../../../core/address';
import { bytesToHex, cryptoRandomBytes } from '../../../core/id';
import { crawl, type CrawlProgress, type CrawlSummary } from '../../../core/crawl';
import { CRAWL_PROTOCOLS, openCrawlClient } from '../../host/crawl-clients';
import { CrawlStore, exportFormat } from '../../host/crawl-store';
import { headlessDataDir } from '../../host/options';
import { EXIT_FAILURE, EXIT_OK, intFlag, listFlag, parse, UsageError, type Command, type Io } from '../shared';

const DATA_DIR_HELP = `  --data-dir D   where the crawl history lives (default $XDG_DATA_HOME/kadscope or ~/.local/share/kadscope)`;

function storeFor(dataDir: string | undefined): CrawlStore {
  return new CrawlStore(dataDir !== undefined ? resolve(dataDir) : headlessDataDir());
}

export const crawlCommand: Command = {
  name: 'crawl',
  summary: 'map a whole network from bootstrap addresses; `crawl show ID` summarises a stored crawl',
  usage: `kadscope crawl [--protocol P] --bootstrap host:port,... [--out F] [--json] [--data-dir D]
       kadscope crawl show ID [--json] [--data-dir D]

  --protocol P   the network's protocol: ${CRAWL_PROTOCOLS.join(', ')} (default kadscope)
  --bootstrap    comma-separated host:port addresses to start from
  --host         address the crawling node binds (default 127.0.0.1; 0.0.0.0 to crawl beyond this machine)
  --out F        also write one row per node to F: .ndjson, .csv or .parquet
  --concurrency  nodes crawled at once (default 32)
  --timeout-ms   per-request timeout (default 2000; one retry after silence)
  --json         print one summary object (reachable, unreachable, durationMs, ...) instead of text
${DATA_DIR_HELP}

Every crawl is kept in the data directory (crawls.duckdb); Ctrl-C stops a crawl and keeps what it found.
A Mainline crawl asks each reachable node sample_infohashes once (BEP 51): the samples figures in the
summary, per node in --out (samples_status, samples, samples_num), the infohashes in the history.
Progress goes to stderr unless --json.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      protocol: { type: 'string' },
      bootstrap: { type: 'string' },
      host: { type: 'string' },
      out: { type: 'string' },
      concurrency: { type: 'string' },
      'timeout-ms': { type: 'string' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
    });
    if (positionals[0] === 'show') return show(positionals.slice(1), values, io);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0].slice(0, 40)}"; try: crawl --bootstrap host:port or crawl show ID`);
    const protocol = values.protocol ?? 'kadscope';
    if (!(CRAWL_PROTOCOLS as readonly string[]).includes(protocol)) throw new UsageError(`--protocol must be one of: ${CRAWL_PROTOCOLS.join(', ')}; got "${protocol.slice(0, 40)}"`);
    const parsed = parseAddressList(listFlag(values.bootstrap));
    if (!parsed.ok) throw new UsageError(`--bootstrap: ${parsed.message}`);
    if (parsed.value.length === 0) throw new UsageError('--bootstrap is required: the addresses of nodes to start the crawl from');
    if (values.out !== undefined) {
      if (values.out === '') throw new UsageError('--out needs a file name');
      try {
        exportFormat(values.out);
      } catch (e) {
        throw new UsageError(`--out: ${(e as Error).message}`);
      }
    }
    const concurrency = intFlag('concurrency', values.concurrency, 1, 1024, 32);
    const timeoutMs = intFlag('timeout-ms', values['timeout-ms'], 50, 60_000, 2_000);
    const store = storeFor(values['data-dir']);

    const crawlerId = await store.crawlerId(() => bytesToHex(cryptoRandomBytes(32)));
    const opened = await openCrawlClient(protocol, { host: values.host, id: crawlerId });
    const ac = new AbortController();
    const onSignal = (): void => ac.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let result;
    try {
      result = await crawl(opened.client, {
        bootstrap: parsed.value,
        signal: ac.signal,
        concurrency,
        timeoutMs,
        onProgress: values.json ? undefined : (p) => io.err(progressLine(p)),
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await opened.close();
    }
    const id = await store.save(result);
    let exported: { rows: number; format: string } | null = null;
    if (values.out !== undefined) exported = await store.export(id, resolve(values.out));
    // The infohashes (up to 100,000) stay in the history's infohashes table, out of the summary line.
    const { nodes: _nodes, infohashes: _infohashes, ...summary } = result;
    if (values.json) {
      io.out(JSON.stringify({ id, ...summary, ...(exported ? { out: resolve(values.out!), rows: exported.rows } : {}) }));
    } else {
      for (const line of summaryLines({ id, ...summary })) io.out(line);
      if (exported) io.out(`wrote ${exported.rows} rows to ${values.out} (${exported.format})`);
      io.out(`stored as crawl ${id} in ${store.path}`);
    }
    return result.reachable > 0 ? EXIT_OK : EXIT_FAILURE;
  },
};

async function show(args: string[], values: { json?: boolean; 'data-dir'?: string }, io: Io): Promise<number> {
  if (args.length !== 1) throw new UsageError('crawl show takes one crawl id (see: kadscope crawls)');
  if (!/^\d{1,9}$/.test(args[0]) || Number(args[0]) < 1) throw new UsageError(`a crawl id is a positive whole number; got "${args[0].slice(0, 40)}"`);
  const store = storeFor(values['data-dir']);
  const c = await store.get(Number(args[0]));
  if (!c) {
    io.err(`kadscope: no crawl ${args[0]} in ${store.path} (see: kadscope crawls)`);
    return EXIT_FAILURE;
  }
  if (values.json) io.out(JSON.stringify(c));
  else for (const line of summaryLines(c)) io.out(line);
  return EXIT_OK;
}

export const crawlsCommand: Command = {
  name: 'crawls',
  summary: 'list the stored crawls, newest first',
  usage: `kadscope crawls [--json] [--data-dir D]

  --json         print one JSON array of the crawls' summaries
${DATA_DIR_HELP}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean' }, 'data-dir': { type: 'string' } });
    if (positionals.length > 0) throw new UsageError('crawls takes no arguments (kadscope crawl show ID shows one)');
    const store = storeFor(values['data-dir']);
    const list = await store.list();
    if (values.json) {
      io.out(JSON.stringify(list));
      return EXIT_OK;
    }
    if (list.length === 0) {
      io.out(`no crawls stored in ${store.path} yet; run: kadscope crawl --bootstrap host:port`);
      return EXIT_OK;
    }
    io.out(`${'id'.padStart(4)}  ${'started'.padEnd(19)}  ${'protocol'.padEnd(8)}  ${'found'.padStart(7)}  ${'reachable'.padStart(9)}  ${'unreach.'.padStart(8)}  duration`);
    for (const c of list) {
      io.out(
        `${String(c.id).padStart(4)}  ${when(c.startedAt)}  ${c.protocol.padEnd(8)}  ${String(c.found).padStart(7)}  ${String(c.reachable).padStart(9)}  ${String(c.unreachable).padStart(8)}  ${seconds(c.durationMs)}${c.cancelled ? '  (cancelled)' : ''}`,
      );
    }
    return EXIT_OK;
  },
};

function progressLine(p: CrawlProgress): string {
  return `crawl: ${p.done} crawled, ${p.active} in progress, ${p.queued} queued · ${p.reachable} reachable, ${p.unreachable} unreachable · ${p.ratePerSec.toFixed(1)} nodes/s`;
}

function summaryLines(c: Omit<CrawlSummary, 'bootstrap'> & { id: number }): string[] {
  const pct = (n: number): string => (c.found > 0 ? ` (${((100 * n) / c.found).toFixed(1)}%)` : '');
  const clients = Object.entries(c.clients)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const counts = c.neighbourCounts;
  const total = counts.reduce((s, [, n]) => s + n, 0);
  let acc = 0;
  let median = 0;
  for (const [k, n] of counts) {
    acc += n;
    if (acc * 2 >= total) {
      median = k;
      break;
    }
  }
  return [
    `crawl ${c.id} · ${c.protocol} · started ${when(c.startedAt)} · ${seconds(c.durationMs)}${c.cancelled ? ' · cancelled' : ''}${c.truncated ? ' · truncated' : ''}`,
    `found ${c.found} nodes: ${c.reachable} reachable${pct(c.reachable)}, ${c.unreachable} unreachable${pct(c.unreachable)}${c.notCrawled > 0 ? `, ${c.notCrawled} not crawled` : ''}`,
    `unreachable because: timeout ${c.failures.timeout}, refused ${c.failures.refused}, error ${c.failures.error}`,
    `network size: ~${c.sizeEstimate} from the crawl's ids${c.nodeEstimate !== null ? `, ~${c.nodeEstimate} by the crawling node's own estimate` : ''}`,
    `clients: ${clients || 'none reachable'}`,
    ...factLines(c.facts),
    ...sampleLines(c.samples),
    total > 0 ? `neighbours returned per node: min ${counts[0][0]}, median ${median}, max ${counts[counts.length - 1][0]}` : 'neighbours returned per node: -',
    `${c.requests} requests`,
  ];
}

/** The protocol facts over the reachable nodes, where the protocol has any (Mainline, HyperDHT). */
function factLines(f: CrawlSummary['facts'] | undefined): string[] {
  const out: string[] = [];
  if (f?.bep42) out.push(`BEP 42 ids: ${(['compliant', 'exempt', 'non-compliant'] as const).map((k) => `${k} ${f.bep42![k] ?? 0}`).join(', ')}`);
  if (f?.idMatchesAddress) out.push(`id matches address: yes ${f.idMatchesAddress.yes}, no ${f.idMatchesAddress.no}`);
  return out;
}

/** BEP 51 (Mainline): what the reachable nodes said to sample_infohashes, and the infohashes seen. */
function sampleLines(s: CrawlSummary['samples']): string[] {
  if (s === undefined) return [];
  return [
    `sample_infohashes (BEP 51): asked ${s.asked}: answered ${s.answered}, not supported ${s.notSupported}, error ${s.error}`,
    `infohashes seen: ${s.infohashes} distinct${s.capped ? ` (capped at ${s.infohashes}; more were sampled)` : ''}`,
  ];
}

function when(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
