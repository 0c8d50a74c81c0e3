// What serving Prometheus metrics costs a node: process CPU of a busy 20-node UDP testnet plus one
// node looking up (all exposed on one /metrics endpoint, as `kadscope node --testnet 20 --metrics`
// does), in windows with and without a scraper fetching /metrics every second. The scraper is a
// separate process (as Prometheus is), so only the node side is measured. Windows alternate, so
// load from elsewhere on the machine falls on both. Also: CPU per scrape, measured in-process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createTestnet } from '../../../core/testnet';
import { DhtNode } from '../../../core/node';
import { bytesToHex, randomId } from '../../../core/id';
import { NodeMetricsRegistry, startMetricsServer, testnetMetricsNodes, type MetricsNode } from '../../../electron/host/metrics';
import type { Figure, WorkloadResult } from '../harness';
import { summarize } from '../harness';
import { workloadResult } from './common';

export interface MetricsCostOptions {
  testnetSize: number;
  /** Lookups the asking node starts per second, all windows alike. */
  lookupsPerSecond: number;
  /** Seconds per window. */
  windowS: number;
  /** Window pairs (one without scraping, one with), alternating which comes first. */
  rounds: number;
  scrapeIntervalMs: number;
  /** In-process scrapes timed for the per-scrape figure. */
  scrapes: number;
}

export const METRICS_COST_DEFAULTS: MetricsCostOptions = { testnetSize: 20, lookupsPerSecond: 10, windowS: 8, rounds: 5, scrapeIntervalMs: 1000, scrapes: 200 };

/** A child process that GETs the URL every interval, like Prometheus (a fixed Accept header for OpenMetrics). */
function startScraper(url: string, intervalMs: number): ChildProcess {
  const code = `const u=${JSON.stringify(url)};let n=0;setInterval(()=>{fetch(u,{headers:{accept:'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'}}).then(r=>r.text()).then(()=>{n++},e=>{console.error(e.message)})},${intervalMs});process.on('SIGTERM',()=>{console.log(n);process.exit(0)});`;
  return spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function stopScraper(c: ChildProcess): Promise<number> {
  let out = '';
  c.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  await exited;
  return Number(out.trim()) || 0;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runMetricsCostWorkload(opts: MetricsCostOptions, command: string): Promise<WorkloadResult> {
  const startedAt = new Date().toISOString();
  const testnet = await createTestnet({ size: opts.testnetSize, transport: 'udp', host: '127.0.0.1' });
  const node = DhtNode.create({ host: '127.0.0.1', port: 0, bootstrap: testnet.bootstrap });
  await node.start();
  const source = (): MetricsNode[] => [{ name: 'self', node }, ...testnetMetricsNodes(testnet.nodes)];
  const server = await startMetricsServer(source, { host: '127.0.0.1', port: 0 });
  const without: number[] = [];
  const withScrape: number[] = [];
  let scrapesServed = 0;
  let lookups = 0;
  let stop = false;
  // The steady work: lookups at a fixed rate, whichever window is running.
  const driver = (async () => {
    while (!stop) {
      const t = performance.now();
      void node.findNode(bytesToHex(randomId())).then(() => lookups++, () => undefined);
      await sleep(Math.max(0, 1000 / opts.lookupsPerSecond - (performance.now() - t)));
    }
  })();
  const window = async (scraped: boolean): Promise<number> => {
    const scraper = scraped ? startScraper(server.url, opts.scrapeIntervalMs) : null;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(opts.windowS * 1000);
    const cpu = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    if (scraper) scrapesServed += await stopScraper(scraper);
    return ((cpu.user + cpu.system) / 1000 / wall) * 100;
  };
  try {
    await sleep(2000); // warm-up, same work, not measured
    for (let r = 0; r < opts.rounds; r++) {
      const order = r % 2 === 0 ? [false, true] : [true, false];
      for (const scraped of order) (scraped ? withScrape : without).push(await window(scraped));
      console.log(`  round ${r + 1}/${opts.rounds}: without ${without.at(-1)!.toFixed(1)}% with ${withScrape.at(-1)!.toFixed(1)}% CPU`);
    }
  } finally {
    stop = true;
    await driver;
  }
  // CPU per scrape, in-process: formatting every node's figures once, as the server does per GET.
  const perScrape = async (nodes: () => MetricsNode[]): Promise<number[]> => {
    const reg = new NodeMetricsRegistry(nodes);
    const out: number[] = [];
    for (let i = 0; i < opts.scrapes; i++) {
      const c0 = process.cpuUsage();
      await reg.scrape(i % 2 === 0 ? 'prometheus' : 'openmetrics');
      const c = process.cpuUsage(c0);
      out.push((c.user + c.system) / 1000);
      await sleep(60); // past the registry's read reuse window: every scrape reads the nodes again
    }
    return out;
  };
  const oneNode = await perScrape(() => [{ name: 'self', node }]);
  const allNodes = await perScrape(source);
  const body = await (await fetch(server.url)).text();
  await server.close();
  await node.stop();
  await testnet.destroy();

  const fig = (metric: string, unit: string, values: number[], show: Figure['show'] = 'median'): Figure => ({
    metric,
    unit,
    better: 'lower',
    show,
    values: { kadscope: summarize(values) },
  });
  const delta = withScrape.map((w, i) => w - without[i]);
  const figures: Figure[] = [
    fig(`process CPU, ${opts.testnetSize + 1} nodes, ${opts.lookupsPerSecond} lookups/s, no scraping`, '% of a core', without),
    fig(`process CPU, same work, scraped every ${opts.scrapeIntervalMs / 1000} s`, '% of a core', withScrape),
    fig('CPU added by scraping (paired by round)', '% of a core', delta),
    fig('CPU per scrape, 1 node exposed', 'ms', oneNode),
    fig(`CPU per scrape, ${opts.testnetSize + 1} nodes exposed`, 'ms', allNodes),
  ];
  const diagnostics = { kadscope: { lookupsDone: lookups, scrapesServed, scrapeBytes: body.length, scrapeLines: body.split('\n').length } };
  const notes = [
    `A ${opts.testnetSize}-node UDP testnet and one more node on 127.0.0.1 in this process; that node starts ${opts.lookupsPerSecond} find-node lookups of random ids per second throughout. All ${opts.testnetSize + 1} nodes are exposed on one /metrics endpoint (node label).`,
    `${opts.rounds} rounds of two ${opts.windowS} s windows, one with a scraper (a separate process fetching /metrics every ${opts.scrapeIntervalMs} ms, OpenMetrics as Prometheus asks) and one without, alternating which comes first. CPU = process.cpuUsage() user + system over wall time.`,
    `CPU per scrape: one registry scrape (read every node, format the text), in-process, ${opts.scrapes} times alternating Prometheus and OpenMetrics text; a scrape of all nodes is ${body.length} bytes.`,
  ];
  return workloadResult('metrics-cost', command, startedAt, { ...opts }, { figures, diagnostics, notes });
}
