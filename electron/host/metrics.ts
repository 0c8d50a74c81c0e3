// Prometheus metrics for one process's nodes: `kadscope node --metrics`, `kadscope serve --metrics`
// and the app's setting serve /metrics here. Every figure is read at scrape time from what the node
// already counts (DhtNode.metrics(): the RPC layer's counters and latency histograms, the lookup
// stats, the record store, the routing table), so serving metrics adds no work per datagram.
//
// prom-client formats the text (Prometheus 0.0.4, or OpenMetrics 1.0 when the Accept header asks for
// it). Our metrics are collected objects rather than prom-client's Counter/Histogram, because their
// values live in the node: prom-client's own classes can only be incremented, not read from a source.
// Each format has its own registry and its own metric objects: prom-client's OpenMetrics output
// renames counters in place (it strips `_total` from the metric's name), which would change the
// other format's names if the objects were shared.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { collectDefaultMetrics, Registry, type RegistryContentType } from 'prom-client';
import type { Histogram } from '../../core/metrics/histogram';
import { LOOKUP_KINDS, LOOKUP_TERMINATIONS } from '../../core/metrics/lookup-stats';
import type { NodeMetrics } from '../../core/metrics/node-metrics';
import { endpointKey, type Endpoint } from '../../core/transport/types';
import { DROP_REASONS, METHODS } from '../../core/wire/types';
import { parseListenAddress } from './contract';

/** Where --metrics listens when given only a port. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** A node to expose, and its `node` label: "self" for the process's own node, "testnet-N" for a local testnet's. */
export interface MetricsNode {
  name: string;
  node: { metrics(): NodeMetrics; readonly address: Endpoint };
}

/** A testnet's running nodes, labelled by their place in it (stable while others stop). */
export function testnetMetricsNodes(nodes: ReadonlyArray<MetricsNode['node'] & { readonly running: boolean }>): MetricsNode[] {
  const out: MetricsNode[] = [];
  nodes.forEach((node, i) => {
    if (node.running) out.push({ name: `testnet-${i}`, node });
  });
  return out;
}

/** The nodes to expose right now (read at every scrape: testnets grow and shrink). */
export type MetricsSource = () => Iterable<MetricsNode>;

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}
type MetricType = 'counter' | 'gauge' | 'histogram';

/** A metric whose samples are computed at scrape time, in the shape prom-client's Registry formats. */
class Collected {
  constructor(
    public name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly collect: (out: Sample[], m: NodeMetrics, base: Labels) => void,
    private readonly source: () => Array<{ m: NodeMetrics; base: Labels }>,
  ) {}

  get(): { name: string; help: string; type: MetricType; values: Sample[]; aggregator: 'sum' } {
    let values: Sample[] = [];
    for (const { m, base } of this.source()) this.collect(values, m, base);
    // Low cardinality: a counter's label combination appears once it counts something (most
    // methods, reasons and outcomes stay at 0 on most nodes). Gauges keep their zeros.
    if (this.type === 'counter') values = values.filter((v) => v.value !== 0);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  reset(): void {}
}

/** A histogram kept in ms (or counts) in core, exported with bounds and sum scaled (ms -> seconds). */
function histogramSamples(out: Sample[], name: string, h: Histogram, labels: Labels, scale: number): void {
  if (h.count === 0) return; // a method or kind never observed: no bucket series of zeros
  const cum = h.cumulative();
  for (let i = 0; i < h.bounds.length; i++) out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: round(h.bounds[i] * scale) }, value: cum[i] });
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cum[cum.length - 1] });
  out.push({ metricName: `${name}_sum`, labels, value: h.sum * scale });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
}

/** Bounds like 0.0025 stay exact in the `le` label (2.5 * 0.001 is 0.0025000000000000005). */
function round(x: number): number {
  return Number(x.toPrecision(12));
}

const MS = 0.001;

/** The metric set (see the README's Metrics section for what each means). Names carry their unit. */
function defineMetrics(source: () => Array<{ m: NodeMetrics; base: Labels }>): Collected[] {
  const def = (name: string, help: string, type: MetricType, collect: (out: Sample[], m: NodeMetrics, base: Labels) => void): Collected =>
    new Collected(name, help, type, collect, source);
  return [
    def('kadscope_node_info', 'A node in this process: its id and UDP address (value 1).', 'gauge', (out, m, base) => out.push({ labels: { ...base, id: m.id }, value: 1 })),
    def('kadscope_node_uptime_seconds', 'Time since the node started.', 'gauge', (out, m, base) => out.push({ labels: base, value: m.uptimeMs * MS })),
    def('kadscope_routing_table_peers', 'Peers in the routing table, by health.', 'gauge', (out, m, base) => {
      for (const [health, n] of Object.entries(m.peersByHealth)) out.push({ labels: { ...base, health }, value: n });
    }),
    def('kadscope_routing_bucket_peers', 'Peers in each non-empty k-bucket (bucket = shared prefix length with our id).', 'gauge', (out, m, base) => {
      for (const b of m.buckets) out.push({ labels: { ...base, bucket: b.index }, value: b.peers });
    }),
    def('kadscope_routing_bucket_capacity_peers', 'Peers a k-bucket holds when full (k).', 'gauge', (out, m, base) => out.push({ labels: base, value: m.k })),
    def('kadscope_datagrams_total', 'UDP datagrams, by direction.', 'counter', (out, m, base) => {
      out.push({ labels: { ...base, direction: 'in' }, value: m.counters.rxPackets });
      out.push({ labels: { ...base, direction: 'out' }, value: m.counters.txPackets });
    }),
    def('kadscope_datagram_bytes_total', 'Bytes of UDP datagrams, by direction.', 'counter', (out, m, base) => {
      out.push({ labels: { ...base, direction: 'in' }, value: m.counters.rxBytes });
      out.push({ labels: { ...base, direction: 'out' }, value: m.counters.txBytes });
    }),
    def('kadscope_dropped_datagrams_total', 'Datagrams received and dropped, by reason (malformed, rate-limited, wrong source, ...).', 'counter', (out, m, base) => {
      for (const reason of DROP_REASONS) out.push({ labels: { ...base, reason }, value: m.counters.dropped[reason] ?? 0 });
    }),
    def('kadscope_transport_errors_total', 'Sends the transport could not make, and datagrams whose handler threw.', 'counter', (out, m, base) => {
      out.push({ labels: { ...base, kind: 'send' }, value: m.transport?.sendErrors ?? 0 });
      out.push({ labels: { ...base, kind: 'handler' }, value: m.transport?.handlerErrors ?? 0 });
    }),
    def('kadscope_rpc_requests_sent_total', 'Requests this node sent, by method.', 'counter', (out, m, base) => {
      for (const method of METHODS) out.push({ labels: { ...base, method }, value: m.counters.rpc[method].sent });
    }),
    def('kadscope_rpc_requests_completed_total', 'Requests this node sent that ended, by method and outcome (response, error reply, timeout after retries).', 'counter', (out, m, base) => {
      for (const method of METHODS) {
        const c = m.counters.rpc[method];
        out.push({ labels: { ...base, method, outcome: 'response' }, value: c.responses });
        out.push({ labels: { ...base, method, outcome: 'error' }, value: c.errors });
        out.push({ labels: { ...base, method, outcome: 'timeout' }, value: c.timeouts });
      }
    }),
    def('kadscope_rpc_requests_received_total', 'Requests other nodes sent us and that passed the rate limits, by method.', 'counter', (out, m, base) => {
      for (const method of METHODS) out.push({ labels: { ...base, method }, value: m.counters.rpc[method].received });
    }),
    def('kadscope_rpc_in_flight_requests', 'Requests waiting for an answer.', 'gauge', (out, m, base) => out.push({ labels: base, value: m.inFlight })),
    def('kadscope_rpc_latency_seconds', 'Round trip of answered requests, by method.', 'histogram', (out, m, base) => {
      for (const method of METHODS) histogramSamples(out, 'kadscope_rpc_latency_seconds', m.rpcLatencyMs[method], { ...base, method }, MS);
    }),
    def('kadscope_lookups_total', 'Finished lookups, by kind and outcome.', 'counter', (out, m, base) => {
      for (const kind of LOOKUP_KINDS) {
        const o = m.lookups.byKind[kind].outcomes;
        for (const outcome of LOOKUP_TERMINATIONS) out.push({ labels: { ...base, kind, outcome }, value: o[outcome] });
      }
    }),
    def('kadscope_lookup_duration_seconds', 'Duration of finished lookups, by kind.', 'histogram', (out, m, base) => {
      for (const kind of LOOKUP_KINDS) histogramSamples(out, 'kadscope_lookup_duration_seconds', m.lookups.byKind[kind].durationMs, { ...base, kind }, MS);
    }),
    def('kadscope_lookup_messages', 'Requests sent by each finished lookup, by kind.', 'histogram', (out, m, base) => {
      for (const kind of LOOKUP_KINDS) histogramSamples(out, 'kadscope_lookup_messages', m.lookups.byKind[kind].messages, { ...base, kind }, 1);
    }),
    def('kadscope_records', 'Records held (for others and our own).', 'gauge', (out, m, base) => out.push({ labels: base, value: m.records.records })),
    def('kadscope_record_value_bytes', 'Bytes of the values of the records held.', 'gauge', (out, m, base) => out.push({ labels: base, value: m.records.valueBytes })),
    def('kadscope_record_capacity_records', 'Records the store holds at most.', 'gauge', (out, m, base) => out.push({ labels: base, value: m.records.maxRecords })),
    def('kadscope_topic_announcements', 'Announcements held, over all topics.', 'gauge', (out, m, base) => out.push({ labels: base, value: m.records.announcements })),
    def('kadscope_refusals_total', 'STORE and ANNOUNCE requests refused, by method and reason (the refusal code sent back).', 'counter', (out, m, base) => {
      for (const method of ['STORE', 'ANNOUNCE'] as const) {
        for (const [reason, n] of Object.entries(m.refusals[method])) out.push({ labels: { ...base, method, reason }, value: n ?? 0 });
      }
    }),
    def('kadscope_estimated_network_nodes', 'Estimated number of nodes in the network, from the density of ids near ours.', 'gauge', (out, m, base) =>
      out.push({ labels: base, value: m.estimatedNetworkSize }),
    ),
  ];
}

export type MetricsFormat = 'prometheus' | 'openmetrics';

/** One registry per format, each holding its own metric objects over the same source; plus the process's default metrics (CPU, memory, start time). */
export class NodeMetricsRegistry {
  private readonly registries = new Map<MetricsFormat, Registry<RegistryContentType>>();

  constructor(private readonly source: MetricsSource) {}

  /** The text of one scrape and its Content-Type. */
  async scrape(format: MetricsFormat): Promise<{ contentType: string; body: string }> {
    const reg = this.registry(format);
    return { contentType: reg.contentType, body: await reg.metrics() };
  }

  private registry(format: MetricsFormat): Registry<RegistryContentType> {
    let reg = this.registries.get(format);
    if (reg) return reg;
    reg = new Registry<RegistryContentType>();
    if (format === 'openmetrics') reg.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    collectDefaultMetrics({ register: reg });
    // prom-client names three Node gauges *_total, which Prometheus's lint (promtool check metrics) refuses.
    for (const metric of reg.getMetricsAsArray()) {
      if (metric.name.endsWith('_total') && String((metric as unknown as { type?: unknown }).type) !== 'counter') reg.removeSingleMetric(metric.name);
    }
    // One read of every node per scrape, shared by all the metrics of that scrape.
    let cached: { at: number; list: Array<{ m: NodeMetrics; base: Labels }> } | null = null;
    const read = (): Array<{ m: NodeMetrics; base: Labels }> => {
      const now = Date.now();
      if (cached && now - cached.at < READ_REUSE_MS) return cached.list;
      const list: Array<{ m: NodeMetrics; base: Labels }> = [];
      for (const { name, node } of this.source()) {
        const m = node.metrics();
        list.push({ m, base: { protocol: m.protocol, node: name } });
      }
      cached = { at: now, list };
      return list;
    };
    for (const metric of defineMetrics(read)) reg.registerMetric(metric as never);
    this.registries.set(format, reg);
    return reg;
  }
}

/** A scrape formats every metric from one read of the nodes; reads closer together than this share it. */
const READ_REUSE_MS = 50;

/** `Accept: application/openmetrics-text` gets OpenMetrics; anything else the Prometheus text format. */
export function formatFor(accept: string | undefined): MetricsFormat {
  return accept !== undefined && /application\/openmetrics-text/i.test(accept) ? 'openmetrics' : 'prometheus';
}

/** `--metrics HOST:PORT` (or just PORT, on loopback). */
export function parseMetricsAddress(value: string): { ok: true; value: Endpoint } | { ok: false; message: string } {
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const port = Number(v);
    if (port < 0 || port > 65535) return { ok: false, message: `port must be 0-65535; got ${port}` };
    return { ok: true, value: { host: DEFAULT_METRICS_HOST, port } };
  }
  return parseListenAddress(v);
}

export interface MetricsServer {
  /** http://host:port/metrics */
  readonly url: string;
  readonly address: Endpoint;
  close(): Promise<void>;
}

/** Serves GET /metrics on `at` (loopback unless the caller names another address). */
export async function startMetricsServer(source: MetricsSource, at: Endpoint): Promise<MetricsServer> {
  const registry = new NodeMetricsRegistry(source);
  const server = createServer((req, res) => void handle(registry, req, res));
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new Error(`metrics: cannot listen on ${endpointKey(at)}: ${err.code === 'EADDRINUSE' ? 'the address is in use' : err.message}`));
    };
    server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address();
  const address: Endpoint = typeof bound === 'object' && bound ? { host: bound.address, port: bound.port } : at;
  let closing: Promise<void> | null = null;
  return {
    address,
    url: `http://${endpointKey(address)}/metrics`,
    close(): Promise<void> {
      closing ??= closeServer(server);
      return closing;
    },
  };
}

async function handle(registry: NodeMetricsRegistry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed: use GET\n');
    return;
  }
  try {
    const { contentType, body } = await registry.scrape(formatFor(req.headers.accept));
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${(err as Error).message}\n`);
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
