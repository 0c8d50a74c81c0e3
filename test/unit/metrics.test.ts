// Metrics: the histograms core keeps, what DhtNode.metrics() reads from its parts, and the text the
// exporter makes of it (Prometheus and OpenMetrics), on a seeded memory testnet under fake time.
import { afterEach, describe, expect, it } from 'vitest';
import { Histogram } from '../../core/metrics/histogram';
import { createTestnet, type Testnet } from '../../core/testnet';
import { formatFor, NodeMetricsRegistry, parseMetricsAddress, testnetMetricsNodes } from '../../electron/host/metrics';
import { settingsSchema } from '../../electron/host/contract';

let tn: Testnet | null = null;
afterEach(async () => {
  await tn?.destroy();
  tn = null;
});

/** The value of one sample line, by its exact name and labels. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Histogram', () => {
  it('puts each value in the first bucket whose bound it does not exceed, and keeps sum and count', () => {
    const h = new Histogram([1, 5, 10]);
    for (const v of [0.5, 1, 1.01, 5, 11, 100]) h.observe(v);
    expect([...h.counts]).toEqual([2, 2, 0, 2]);
    expect(h.cumulative()).toEqual([2, 4, 4, 6]);
    expect(h.count).toBe(6);
    expect(h.sum).toBeCloseTo(118.51);
  });

  it('refuses bounds that do not increase', () => {
    expect(() => new Histogram([1, 1])).toThrow(/must increase/);
  });
});

describe('DhtNode.metrics()', () => {
  it('reads the counters the node keeps: lookups by kind and outcome, RPC round trips, peers by health', async () => {
    tn = await createTestnet({ size: 8, transport: 'memory', seed: 0x3e7 });
    const node = tn.nodes[2];
    const before = node.metrics();
    const converged = before.lookups.byKind['find-node'].outcomes.converged + before.lookups.byKind['find-node'].outcomes.exhausted;
    const r = await tn.run(node.findNode(tn.nodes[5].id));
    const m = node.metrics();
    const k = m.lookups.byKind['find-node'];
    expect(k.outcomes.converged + k.outcomes.exhausted).toBe(converged + 1);
    expect(k.durationMs.count).toBe(Object.values(k.outcomes).reduce((a, b) => a + b, 0));
    expect(k.messages.sum).toBeGreaterThanOrEqual(r.messages);
    // One latency observation per answered request, the same count the RPC counters keep.
    let responses = 0;
    let observed = 0;
    for (const [method, c] of Object.entries(m.counters.rpc)) {
      responses += c.responses;
      observed += m.rpcLatencyMs[method as keyof typeof m.rpcLatencyMs].count;
    }
    expect(observed).toBe(responses);
    expect(Object.values(m.peersByHealth).reduce((a, b) => a + b, 0)).toBe(node.table.size);
    expect(m.buckets.reduce((a, b) => a + b.peers, 0)).toBe(node.table.size);
    expect(m.protocol).toBe('kadscope');
    expect(m.uptimeMs).toBeGreaterThan(0);
  });

  it('counts the bytes of the records held', async () => {
    tn = await createTestnet({ size: 6, transport: 'memory', seed: 0x3e8 });
    const before = tn.nodes[0].metrics().records;
    await tn.run(tn.nodes[0].records.put('twelve bytes'));
    const after = tn.nodes[0].metrics().records;
    expect(after.records).toBe(before.records + 1);
    expect(after.valueBytes).toBe(before.valueBytes + 12);
  });
});

describe('the /metrics text', () => {
  it('labels every node and names the routing-table figure kadscope_routing_table_peers{health}', async () => {
    tn = await createTestnet({ size: 4, transport: 'memory', seed: 0x3e9 });
    const reg = new NodeMetricsRegistry(() => testnetMetricsNodes(tn!.nodes));
    const { contentType, body } = await reg.scrape('prometheus');
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const [i, n] of tn.nodes.entries()) {
      const counts = n.metrics().peersByHealth;
      for (const health of ['good', 'questionable', 'bad', 'unknown'] as const) {
        expect(sample(body, `kadscope_routing_table_peers{protocol="kadscope",node="testnet-${i}",health="${health}"}`)).toBe(counts[health]);
      }
      expect(sample(body, `kadscope_datagrams_total{protocol="kadscope",node="testnet-${i}",direction="in"}`)).toBe(n.metrics().counters.rxPackets);
    }
    expect(body).toContain('# TYPE kadscope_rpc_latency_seconds histogram');
    expect(body).toMatch(/kadscope_rpc_latency_seconds_bucket\{protocol="kadscope",node="testnet-0",method="PING",le="0.0025"\} \d+/);
    expect(body).toContain('# TYPE process_cpu_seconds_total counter');
  });

  it('leaves out counter and histogram series that have counted nothing, keeping their TYPE lines and the gauges\' zeros', async () => {
    tn = await createTestnet({ size: 4, transport: 'memory', seed: 0x3eb });
    const reg = new NodeMetricsRegistry(() => testnetMetricsNodes(tn!.nodes));
    const { body } = await reg.scrape('prometheus');
    const samples = body.split('\n').filter((l) => l.startsWith('kadscope_'));
    const types = new Map(body.split('\n').filter((l) => l.startsWith('# TYPE kadscope_')).map((l) => l.split(' ').slice(2, 4) as [string, string]));
    for (const line of samples) {
      const name = line.split(/[{ ]/)[0];
      const type = types.get(name) ?? types.get(name.replace(/_(bucket|sum|count)$/, ''));
      if (type === 'counter') expect(line, line).not.toMatch(/ 0$/);
      if (type === 'histogram' && name.endsWith('_count')) expect(line, line).not.toMatch(/ 0$/);
    }
    // Nothing was stored or dropped in this network: those metrics are declared, with no series.
    expect(body).toContain('# TYPE kadscope_dropped_datagrams_total counter');
    expect(samples.some((l) => l.startsWith('kadscope_dropped_datagrams_total{'))).toBe(false);
    expect(samples.some((l) => l.includes('method="STORE"'))).toBe(false);
    // What did happen is there, and a gauge at 0 stays.
    expect(sample(body, 'kadscope_rpc_requests_sent_total{protocol="kadscope",node="testnet-1",method="FIND_NODE"}')).toBe(tn.nodes[1].metrics().counters.rpc.FIND_NODE.sent);
    expect(sample(body, 'kadscope_records{protocol="kadscope",node="testnet-0"}')).toBe(0);
    expect(sample(body, 'kadscope_routing_table_peers{protocol="kadscope",node="testnet-0",health="bad"}')).toBe(tn.nodes[0].metrics().peersByHealth.bad);
  });

  it('speaks OpenMetrics when asked, without renaming the Prometheus text\'s counters', async () => {
    tn = await createTestnet({ size: 2, transport: 'memory', seed: 0x3ea });
    const reg = new NodeMetricsRegistry(() => testnetMetricsNodes(tn!.nodes));
    const om = await reg.scrape('openmetrics');
    expect(om.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect(om.body).toContain('# TYPE kadscope_datagrams counter');
    expect(om.body).toMatch(/^kadscope_datagrams_total\{protocol="kadscope",node="testnet-0",direction="out"\} \d+$/m);
    const text = (await reg.scrape('prometheus')).body;
    expect(text).toContain('# TYPE kadscope_datagrams_total counter');
  });

  it('chooses the format from the Accept header', () => {
    expect(formatFor(undefined)).toBe('prometheus');
    expect(formatFor('text/plain;version=0.0.4')).toBe('prometheus');
    expect(formatFor('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5')).toBe('openmetrics');
  });
});

describe('--metrics HOST:PORT', () => {
  it('takes an IP address and port, or a bare port on loopback', () => {
    expect(parseMetricsAddress('9464')).toEqual({ ok: true, value: { host: '127.0.0.1', port: 9464 } });
    expect(parseMetricsAddress('0.0.0.0:9464')).toEqual({ ok: true, value: { host: '0.0.0.0', port: 9464 } });
    expect(parseMetricsAddress('[::1]:0')).toEqual({ ok: true, value: { host: '::1', port: 0 } });
  });

  it('lets the app\'s setting take port 0 (any free port) too', () => {
    expect(settingsSchema.shape.metricsAddress.safeParse('127.0.0.1:0').success).toBe(true);
    expect(settingsSchema.shape.metricsAddress.safeParse('[::1]:0').success).toBe(true);
    const r = settingsSchema.shape.metricsAddress.safeParse('127.0.0.1:70000');
    expect(r.success ? '' : r.error.issues[0].message).toMatch(/port must be 0-65535/);
  });

  it('refuses anything else with a message that says what it expects', () => {
    for (const bad of ['localhost:9464', '127.0.0.1', '127.0.0.1:99999', '70000', '']) {
      const r = parseMetricsAddress(bad);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/HOST:PORT|port must be/);
    }
  });
});
