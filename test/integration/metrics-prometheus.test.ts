// Debian's real Prometheus scraping a 20-node UDP testnet through the /metrics endpoint that
// `kadscope node --testnet N --metrics` serves (one endpoint, a `node` label per testnet node):
// the target is up, the routing-table figure Prometheus stores equals what each node reports, and
// promtool accepts the text. Prometheus runs with its own config and data dir in a temp folder, on
// a free loopback port; every wait polls its HTTP API with a deadline.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestnet, type Testnet } from '../../core/testnet';
import { startMetricsServer, testnetMetricsNodes, type MetricsServer } from '../../electron/host/metrics';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const SIZE = 20;
/** Generous: Prometheus starts slowly on a loaded 2-core machine. */
const DEADLINE_MS = 45_000;
const POLL_MS = 250;

const missing = existsSync(PROMETHEUS) ? null : `${PROMETHEUS} is not installed (apt-get install prometheus; .ci/run installs it)`;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Calls check() until it returns a value (not undefined) or the deadline passes; the last failure is the error. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, deadlineMs = DEADLINE_MS): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last = '';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface PromVector {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

describe.skipIf(missing !== null)(`Prometheus scraping a ${SIZE}-node testnet${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let testnet: Testnet;
  let metrics: MetricsServer;
  let prom: ChildProcess | null = null;
  let promLog = '';
  let dir: string;
  let api: string;

  beforeAll(async () => {
    testnet = await createTestnet({ size: SIZE, transport: 'udp', host: '127.0.0.1' });
    metrics = await startMetricsServer(() => testnetMetricsNodes(testnet.nodes), { host: '127.0.0.1', port: 0 });
    dir = await mkdtemp(join(tmpdir(), 'kadscope-prom-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: kadscope',
      `    static_configs: [{ targets: ['${metrics.address.host}:${metrics.address.port}'] }]`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    api = `http://127.0.0.1:${port}/api/v1`;
    prom = spawn(
      PROMETHEUS,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (b: Buffer): void => {
      promLog = (promLog + b.toString()).slice(-4000);
    };
    prom.stdout?.on('data', keep);
    prom.stderr?.on('data', keep);
  });

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (prom.exitCode === null) prom.kill('SIGKILL');
    }
    await metrics?.close();
    await testnet?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const query = async (q: string): Promise<PromVector['data']['result']> => {
    const r = await fetch(`${api}/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as PromVector;
    if (body.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(body)}`);
    return body.data.result;
  };

  it('reports the target up', async () => {
    const health = await eventually('the kadscope target to be up', async () => {
      if (prom?.exitCode !== null) throw new Error(`prometheus exited (${prom?.exitCode}): ${promLog}`);
      const r = (await (await fetch(`${api}/targets`)).json()) as { data: { activeTargets: Array<{ health: string; lastError: string; labels: Record<string, string> }> } };
      const t = r.data.activeTargets.find((x) => x.labels.job === 'kadscope');
      if (!t) return undefined;
      if (t.health !== 'up') throw new Error(`target ${t.health}: ${t.lastError}`);
      return t.health;
    });
    expect(health).toBe('up');
    const up = await eventually('up{job="kadscope"}', async () => {
      const r = await query('up{job="kadscope"}');
      return r.length > 0 ? r : undefined;
    });
    expect(up.map((s) => s.value[1])).toEqual(['1']);
  });

  it('stores, for every node, the routing-table peers the node reports', async () => {
    // The tables settle within seconds of the testnet's start (late joiners get verified); the
    // figure must match what each node holds at the time of Prometheus's latest scrape.
    const matched = await eventually('Prometheus to hold every node\'s routing-table size', async () => {
      const r = await query('sum by (node, protocol) (kadscope_routing_table_peers)');
      const seen = new Map(r.map((s) => [s.metric.node, Number(s.value[1])]));
      const want = new Map(testnet.nodes.map((n, i) => [`testnet-${i}`, n.table.size]));
      if (seen.size !== SIZE) throw new Error(`${seen.size} nodes in Prometheus, want ${SIZE}`);
      for (const [node, size] of want) if (seen.get(node) !== size) throw new Error(`${node}: Prometheus has ${seen.get(node)}, the node ${size}`);
      return { seen, protocols: new Set(r.map((s) => s.metric.protocol)) };
    });
    expect([...matched.seen.values()].every((n) => n > 0)).toBe(true);
    expect([...matched.protocols]).toEqual(['kadscope']);
    // The health split is there too, with the four states.
    const byHealth = await query('kadscope_routing_table_peers{node="testnet-0"}');
    expect(byHealth.map((s) => s.metric.health).sort()).toEqual(['bad', 'good', 'questionable', 'unknown']);
  });

  it('has the datagram counters and the RPC latency histogram a dashboard graphs', async () => {
    const rx = await query('sum(kadscope_datagrams_total{direction="in"})');
    expect(Number(rx[0]?.value[1])).toBeGreaterThan(0);
    const answered = await query('sum(kadscope_rpc_latency_seconds_count)');
    expect(Number(answered[0]?.value[1])).toBeGreaterThan(0);
  });

  it('runs every query of the Grafana dashboard (resources/grafana-dashboard.json) on metrics that exist', async () => {
    const dash = JSON.parse(await readFile(join(__dirname, '../../resources/grafana-dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    const text = await (await fetch(metrics.url)).text();
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(10);
    for (const { title, expr } of exprs) {
      for (const name of expr.match(/\b(?:kadscope|process)_[a-z_]+/g) ?? []) expect(text, `${title}: ${name}`).toMatch(new RegExp(`^(?:# TYPE )?${name}[{ ]`, 'm'));
      // Grafana's variables, as Grafana would fill them for "All" over a 1 s scrape interval.
      const q = expr.replaceAll('$__rate_interval', '15s').replace(/\$(instance|node|protocol)/g, '.*');
      const r = (await (await fetch(`${api}/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; error?: string };
      expect({ title, expr, status: r.status, error: r.error }).toEqual({ title, expr, status: 'success', error: undefined });
    }
  });

  it('serves text that promtool check metrics accepts', async () => {
    const text = await (await fetch(metrics.url)).text();
    expect(text).toContain('kadscope_routing_table_peers{protocol="kadscope",node="testnet-0",health="good"}');
    if (!existsSync(PROMTOOL)) return;
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
    expect({ status: r.status, out: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, out: '' });
  });
});
