// `kadscope node`: one headless node (or a local testnet with --testnet N) that runs until Ctrl-C.
import { resolve } from 'node:path';
import { parseAddressList } from '../../../core/address';
import { DhtNode } from '../../../core/node';
import { createTestnet } from '../../../core/testnet';
import { DualStackTransport } from '../../../core/transport/dual';
import { SOCKET_LAYER_CHOICES, type SocketLayerChoice } from '../../../core/transport/socket-layer';
import { endpointKey } from '../../../core/transport/types';
import { parseMetricsAddress, startMetricsServer, testnetMetricsNodes, type MetricsServer } from '../../host/metrics';
import { EXIT_OK, intFlag, listFlag, parse, untilSignal, UsageError, type Command } from '../shared';
import { cliProtocol } from './session';

export const STATUS_INTERVAL_MS = 10_000;

export const nodeCommand: Command = {
  name: 'node',
  summary: 'run a headless DHT node (or a local testnet) until Ctrl-C',
  usage: `kadscope node [--host 127.0.0.1] [--port 0] [--bootstrap host:port,...] [--data-dir D] [--k 20] [--alpha 3] [--transport native|udx|dgram] [--testnet N] [--metrics HOST:PORT] [--json]

  --host       address to bind (default 127.0.0.1; use 0.0.0.0 or :: to serve others)
  --host6      also bind this IPv6 address (e.g. ::1 or ::): one node on IPv4 and IPv6 at once
  --port       UDP port (default 0: a free port)
  --transport  the UDP socket: native (kadscope's own binding, built by npm ci; the default
               when it loads), udx (udx-native; not for Mainline, whose peers send datagrams
               longer than udx-native reads) or dgram (node:dgram); the 'listening on' line
               says which one runs
  --bootstrap  comma-separated addresses to join through: host:port, [v6]:port or /ip4|ip6/H/udp/P
  --data-dir   keep the node's identity, records and peers here; with no --bootstrap it rejoins
               through the saved peers
  --testnet N  also start a local network of N nodes on 127.0.0.1 and join it
  --metrics    serve Prometheus metrics at http://HOST:PORT/metrics (a bare PORT means
               127.0.0.1:PORT): this node as node="self" and, with --testnet, every testnet node
               on the same endpoint as node="testnet-I"
  --json       print machine-readable JSON lines
  --protocol P kadscope (default) or mainline (BitTorrent's DHT; k defaults to 8; with --testnet N
               the local network's nodes speak Mainline too)`,
  async run(argv, io) {
    const { values } = parse(argv, {
      host: { type: 'string' },
      host6: { type: 'string' },
      port: { type: 'string' },
      bootstrap: { type: 'string' },
      k: { type: 'string' },
      alpha: { type: 'string' },
      testnet: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      metrics: { type: 'string' },
      protocol: { type: 'string' },
      transport: { type: 'string' },
    }, false);
    // A node that stays serves others: it is not read-only.
    const protocol = cliProtocol(values.protocol, false);
    const port = intFlag('port', values.port, 0, 65535, 0);
    const k = intFlag('k', values.k, 1, 20, protocol?.k ?? 20);
    const alpha = intFlag('alpha', values.alpha, 1, 16, 3);
    const socketLayer = values.transport;
    if (socketLayer !== undefined && !(SOCKET_LAYER_CHOICES as readonly string[]).includes(socketLayer)) {
      throw new UsageError(`--transport must be one of ${SOCKET_LAYER_CHOICES.join(', ')}; got "${socketLayer.slice(0, 40)}"`);
    }
    const testnetSize = values.testnet === undefined ? 0 : intFlag('testnet', values.testnet, 1, 2000, 0);
    const parsed = parseAddressList(listFlag(values.bootstrap));
    if (!parsed.ok) throw new UsageError(`--bootstrap: ${parsed.message}`);
    let metricsAt = null;
    if (values.metrics !== undefined) {
      const m = parseMetricsAddress(values.metrics);
      if (!m.ok) throw new UsageError(`--metrics: ${m.message}`);
      metricsAt = m.value;
    }
    const print = (obj: Record<string, unknown>, text: string): void => io.out(values.json ? JSON.stringify(obj) : text);

    const testnet =
      testnetSize > 0 ? await createTestnet({ size: testnetSize, transport: 'udp', host: '127.0.0.1', k, alpha, ...(protocol ? { node: { protocol } } : {}) }) : null;
    if (testnet) print({ event: 'testnet', size: testnetSize, bootstrap: testnet.bootstrap, protocol: protocol?.name ?? 'kadscope' }, `testnet: ${testnetSize} ${protocol?.name ?? 'kadscope'} nodes on 127.0.0.1, bootstrap ${testnet.bootstrap.join(',')}`);
    const bootstrap = [...parsed.value.map(endpointKey), ...(testnet?.bootstrap ?? [])];
    const dataDir = values['data-dir'] !== undefined ? resolve(values['data-dir']) : undefined;
    const node = DhtNode.create({ ...(protocol ? { protocol } : {}), host: values.host ?? '127.0.0.1', ...(values.host6 !== undefined ? { host6: values.host6 } : {}), port, k, alpha, dataDir, bootstrap, ...(socketLayer !== undefined ? { socketLayer: socketLayer as SocketLayerChoice } : {}) });
    let started;
    try {
      started = await node.start();
    } catch (err) {
      await testnet?.destroy();
      throw err;
    }
    for (const w of started.warnings) io.err(`kadscope: ${w}`);
    let metrics: MetricsServer | null = null;
    if (metricsAt) {
      try {
        metrics = await startMetricsServer(() => [{ name: 'self', node }, ...testnetMetricsNodes(testnet?.nodes ?? [])], metricsAt);
      } catch (err) {
        await node.stop();
        await testnet?.destroy();
        throw err;
      }
    }
    // Listen for the signal before saying 'started': whoever reads that line may stop us at once.
    const signalled = untilSignal();
    print(
      { event: 'started', id: node.id, protocol: node.protocol.name, address: endpointKey(node.address), socketLayer: node.transport.socketLayer ?? null, dataDir: dataDir ?? null },
      `node ${node.id} (${node.protocol.label})\nlistening on udp ${node.transport instanceof DualStackTransport ? node.transport.addresses.map(endpointKey).join(' and ') : endpointKey(node.address)} (${node.transport.socketLayer ?? 'memory'})${dataDir ? `\ndata in ${dataDir}` : ''}`,
    );
    if (metrics) print({ event: 'metrics', url: metrics.url }, `metrics at ${metrics.url}`);
    const r = started.join;
    if (r) {
      for (const f of r.failed) print({ event: 'bootstrap-failed', ...f }, `bootstrap ${f.address} failed: ${f.error}`);
      const via = started.joinedVia === 'saved-peers' ? 'saved peers' : 'bootstrap addresses';
      print({ event: 'joined', via: started.joinedVia, reached: r.reached.length, peers: r.peers }, `joined through ${r.reached.length} ${via}; ${r.peers} peers`);
    }
    const status = setInterval(() => {
      const s = node.snapshot();
      print(
        { event: 'status', peers: s.peers.length, estimatedNetworkSize: s.estimatedNetworkSize, rxPackets: s.counters.rxPackets, txPackets: s.counters.txPackets },
        `peers ${s.peers.length}, network ~${s.estimatedNetworkSize}, rx ${s.counters.rxPackets} tx ${s.counters.txPackets} packets`,
      );
    }, STATUS_INTERVAL_MS);
    const sig = await signalled;
    clearInterval(status);
    print({ event: 'stopping', signal: sig }, `${sig}: stopping`);
    await metrics?.close();
    await node.stop();
    await testnet?.destroy();
    return EXIT_OK;
  },
};
