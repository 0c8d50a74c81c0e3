// `kadscope repl`: a shell on one live node, as go-dht's `-i` and OpenDHT's dhtnode offer. Reads
// commands from standard input: with line editing and history when it is a terminal (node:readline),
// plainly when it is not, so scripts can pipe commands in. One command a line, run in order.
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseAddress, parseAddressList } from '../../../core/address';
import { DhtError } from '../../../core/errors';
import { isIdHex } from '../../../core/id';
import { DhtNode } from '../../../core/node';
import { createTestnet } from '../../../core/testnet';
import { endpointKey } from '../../../core/transport/types';
import { TraceRecorder } from '../../host/trace-recorder';
import { serializeTrace } from '../../host/trace-format';
import { EXIT_OK, intFlag, listFlag, parse, UsageError, type Command, type Io } from '../shared';
import { renderTrace } from './trace';

/** Lines of history kept for the arrow keys (terminal only). */
export const REPL_HISTORY_LINES = 500;
/** Lookups kept for `trace`. */
const REPL_TRACES = 20;
/** Longest command line read; a longer one is refused (a value is at most 1,000 bytes anyway). */
const MAX_LINE_CHARS = 4_096;

const HELP = `commands (one a line; arguments are separated by spaces):
  h, help            this list
  r                  the routing table: one peer a line (id, address, health, rtt)
  s VALUE            store VALUE (the rest of the line) at SHA-256(VALUE); prints the key
  s --at NAME VALUE  store VALUE at SHA-256(NAME) (a named key: anyone may overwrite it); prints the key
  f KEY              fetch the value stored under KEY (64 hex)
  f --at NAME        fetch the value stored at the name NAME (one word, 1-128 bytes)
  l                  the local store: records this node holds
  lookup ID          find the nodes closest to ID (64 hex)
  ping ADDRESS       PING host:port or /ip4/H/udp/P
  announce TOPIC [PORT]   announce our address (or PORT) under SHA-256(TOPIC)
  peers TOPIC        the addresses announced under SHA-256(TOPIC)
  stats              peers, estimated network size, packets and RPCs
  trace [save FILE]  the last lookup as a waterfall, or saved to FILE
  q, quit            stop the node and leave`;

export const replCommand: Command = {
  name: 'repl',
  summary: 'an interactive shell on one node (h for its commands)',
  usage: `kadscope repl (--bootstrap host:port,... | --testnet N) [--host 127.0.0.1] [--port 0] [--data-dir D]

  --bootstrap  comma-separated addresses to join through: host:port, [v6]:port or /ip4|ip6/H/udp/P
  --testnet N  start a local network of N nodes on 127.0.0.1 and join it
  --host       address to bind (default 127.0.0.1)
  --port       UDP port (default 0: a free port)
  --data-dir   keep the node's identity, records and peers here

Commands come from standard input, one a line (h lists them); pipe a script in, or type them
with line editing and history in a terminal.

${HELP}`,
  async run(argv, io) {
    const { values } = parse(argv, {
      bootstrap: { type: 'string' },
      testnet: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
    }, false);
    const port = intFlag('port', values.port, 0, 65535, 0);
    const testnetSize = values.testnet === undefined ? 0 : intFlag('testnet', values.testnet, 1, 2000, 0);
    const parsed = parseAddressList(listFlag(values.bootstrap));
    if (!parsed.ok) throw new UsageError(`--bootstrap: ${parsed.message}`);
    if (parsed.value.length === 0 && testnetSize === 0 && values['data-dir'] === undefined) {
      throw new UsageError('repl needs --bootstrap (addresses to join through), --testnet N or --data-dir of a node that joined before');
    }
    const testnet = testnetSize > 0 ? await createTestnet({ size: testnetSize, transport: 'udp', host: '127.0.0.1' }) : null;
    const node = DhtNode.create({
      host: values.host ?? '127.0.0.1',
      port,
      bootstrap: [...parsed.value.map(endpointKey), ...(testnet?.bootstrap ?? [])],
      ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    });
    const traces = new TraceRecorder({ maxTraces: REPL_TRACES });
    node.on('lookup', (e) => traces.ingest(e));
    try {
      const started = await node.start();
      for (const w of started.warnings) io.err(`kadscope: warning: ${w}`);
      if (testnet) io.out(`testnet: ${testnetSize} nodes on 127.0.0.1, bootstrap ${testnet.bootstrap.join(',')}`);
      io.out(`node ${node.id} on udp ${endpointKey(node.address)}; ${node.table.size} peers. h for help, q to quit.`);
      await readCommands(node, traces, io);
    } finally {
      await node.stop();
      await testnet?.destroy();
    }
    return EXIT_OK;
  },
};

/** `--at NAME [REST]`: the name and the rest of the line; null when the line does not start with --at. */
function atName(rest: string, usage: string): { name: string; rest: string } | null {
  if (rest !== '--at' && !/^--at\s/.test(rest)) return null;
  const tail = rest.slice(4).trim();
  if (tail === '') throw new UsageError(`--at needs a name: ${usage}`);
  const space = tail.search(/\s/);
  return space < 0 ? { name: tail, rest: '' } : { name: tail.slice(0, space), rest: tail.slice(space + 1).trim() };
}

async function readCommands(node: DhtNode, traces: TraceRecorder, io: Io): Promise<void> {
  const terminal = Boolean(process.stdin.isTTY);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal, historySize: terminal ? REPL_HISTORY_LINES : 0, prompt: 'kadscope> ' });
  // Ctrl-C at the prompt quits like q (readline would otherwise swallow it in a terminal).
  rl.on('SIGINT', () => rl.close());
  try {
    if (terminal) rl.prompt();
    for await (const line of rl) {
      const quit = await runLine(line, node, traces, io);
      if (quit) break;
      if (terminal) rl.prompt();
    }
  } finally {
    rl.close();
  }
}

/** Runs one command line; true when it asks to quit. Errors are printed, never thrown. */
async function runLine(line: string, node: DhtNode, traces: TraceRecorder, io: Io): Promise<boolean> {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return false;
  if (text.length > MAX_LINE_CHARS) {
    io.err(`error: line too long (${text.length} characters; at most ${MAX_LINE_CHARS})`);
    return false;
  }
  const space = text.search(/\s/);
  const cmd = space < 0 ? text : text.slice(0, space);
  const rest = space < 0 ? '' : text.slice(space + 1).trim();
  const args = rest === '' ? [] : rest.split(/\s+/);
  try {
    switch (cmd) {
      case 'h':
      case 'help':
      case '?':
        io.out(HELP);
        return false;
      case 'q':
      case 'quit':
      case 'exit':
        return true;
      case 'r':
        routingTable(node, io);
        return false;
      case 's': {
        if (rest === '') throw new UsageError('s needs a value: s VALUE');
        const at = atName(rest, 's --at NAME VALUE');
        if (at) {
          if (at.rest === '') throw new UsageError('s --at needs a value: s --at NAME VALUE');
          const r = await node.records.putNamed(at.name, at.rest);
          io.out(r.key);
          io.out(`stored "${at.name}" at ${r.storedAt.length} nodes${r.failed.length > 0 ? `; ${r.failed.length} refused or did not answer` : ''}`);
          return false;
        }
        const r = await node.records.put(rest);
        io.out(r.key);
        io.out(`stored at ${r.storedAt.length} nodes${r.failed.length > 0 ? `; ${r.failed.length} refused or did not answer` : ''}`);
        return false;
      }
      case 'f': {
        const at = atName(rest, 'f --at NAME');
        if (at) {
          if (at.rest !== '') throw new UsageError('f --at takes one name: f --at NAME');
          const r = await node.records.getNamed(at.name);
          io.out(printable(r.value));
          io.out(`"${at.name}" from ${r.from === node.id ? 'our own copy' : r.from} · ${r.hops} hops, ${r.messages} messages, ${r.durationMs.toFixed(1)} ms`);
          return false;
        }
        const key = oneId(args, 'f KEY');
        const r = await node.records.get(key);
        io.out(printable(r.value));
        io.out(`from ${r.from === node.id ? 'our own copy' : r.from} · ${r.hops} hops, ${r.messages} messages, ${r.durationMs.toFixed(1)} ms`);
        return false;
      }
      case 'l': {
        const records = node.records.held();
        if (records.length === 0) io.out('(no records)');
        for (const rec of records) {
          io.out(`${rec.key} ${rec.type}${rec.name !== undefined ? ` "${rec.name}"` : ''}${rec.seq !== undefined ? ` seq ${rec.seq}` : ''} ${rec.size} B, expires in ${Math.round(rec.expiresInMs / 1000)} s${rec.local ? ', ours' : ''}`);
        }
        return false;
      }
      case 'lookup': {
        const target = oneId(args, 'lookup ID');
        const r = await node.findNode(target);
        io.out(`${r.reason}: ${r.hops} hops, ${r.messages} messages, ${r.durationMs.toFixed(1)} ms`);
        for (const c of r.closest) io.out(`${c.id} ${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`);
        return false;
      }
      case 'ping': {
        if (args.length !== 1) throw new UsageError('ping ADDRESS (host:port or /ip4/H/udp/P)');
        const a = parseAddress(args[0]);
        if (!a.ok) throw new UsageError(a.message);
        const r = await node.ping(a.value);
        io.out(`${r.id} answered in ${r.rttMs.toFixed(1)} ms; ${r.observed ? `it sees us at ${endpointKey(r.observed)}` : 'it did not say where it sees us'}`);
        return false;
      }
      case 'announce': {
        if (args.length < 1 || args.length > 2) throw new UsageError('announce TOPIC [PORT]');
        const p = args[1] === undefined ? undefined : Number(args[1]);
        if (p !== undefined && !(Number.isInteger(p) && p >= 1 && p <= 65535)) throw new UsageError(`PORT must be 1-65535; got "${args[1].slice(0, 20)}"`);
        const r = await node.records.announce(args[0], p);
        io.out(`announced ${endpointKey({ host: node.address.host, port: r.port })} under ${r.key} at ${r.storedAt.length} nodes`);
        return false;
      }
      case 'peers': {
        if (args.length !== 1) throw new UsageError('peers TOPIC');
        const r = await node.records.lookupPeers(args[0]);
        if (r.peers.length === 0) io.out('(no peers announced)');
        const local = new Map(r.sameNetwork.map((n) => [endpointKey(n.address), endpointKey(n.publicAddress)]));
        for (const p of r.peers) {
          const key = endpointKey(p);
          const of = local.get(key);
          io.out(of === undefined ? key : `local ${key} (same network as ${of})`);
        }
        return false;
      }
      case 'stats': {
        const s = node.snapshot();
        const dropped = Object.values(s.counters.dropped).reduce((a, b) => a + (b ?? 0), 0);
        io.out(`peers ${s.peers.length}, network ~${s.estimatedNetworkSize}, records ${node.records.held().length}`);
        io.out(`rx ${s.counters.rxPackets} packets, tx ${s.counters.txPackets} packets, dropped ${dropped}`);
        for (const [method, m] of Object.entries(s.counters.rpc)) {
          if (m.sent + m.received > 0) io.out(`  ${method.padEnd(10)} sent ${m.sent}, answered ${m.responses}, timeouts ${m.timeouts}; received ${m.received}`);
        }
        return false;
      }
      case 'trace': {
        const last = traces.list()[0];
        const trace = last ? traces.get(last.id) : undefined;
        if (!trace) throw new UsageError('no lookup yet: run lookup, s or f first');
        if (args[0] === 'save') {
          if (args.length !== 2) throw new UsageError('trace save FILE');
          await writeFile(args[1], serializeTrace(trace));
          io.out(`saved to ${args[1]} (${trace.events.length} events)`);
        } else if (args.length > 0) {
          throw new UsageError('trace, or trace save FILE');
        } else {
          for (const l of renderTrace(trace)) io.out(l);
        }
        return false;
      }
      default:
        throw new UsageError(`unknown command "${cmd.slice(0, 40)}"; h lists them`);
    }
  } catch (err) {
    const why = err instanceof DhtError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    io.err(`error: ${why}`);
    return false;
  }
}

function routingTable(node: DhtNode, io: Io): void {
  const peers = node.snapshot().peers;
  if (peers.length === 0) io.out('(no peers)');
  for (const p of peers) {
    const addr = endpointKey({ host: p.host, port: p.port });
    io.out(`${p.id} ${addr} bucket ${p.bucket} ${p.state}${p.rttMs !== null ? ` ${p.rttMs.toFixed(1)} ms` : ''}`);
  }
}

function oneId(args: string[], form: string): string {
  if (args.length !== 1) throw new UsageError(form);
  const id = args[0].toLowerCase();
  if (!isIdHex(id)) throw new UsageError(`expected 64 hex characters; got "${args[0].slice(0, 80)}"`);
  return id;
}

function printable(value: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    return `(not UTF-8, base64) ${Buffer.from(value).toString('base64')}`;
  }
}
