// The record and node commands with --protocol hyperdht: the same verbs as kadscope's own protocol,
// spoken to a HyperDHT network (Hyperswarm's) through core/protocols/hyperdht. One-shot commands
// join as an ephemeral client (dht-rpc's client mode: no id, in nobody's table); `node` decides
// like dht-rpc (persistent when reachable) and `node --testnet N` runs N kadscope HyperDHT nodes.
// There is no default network: --bootstrap names it (public nodes only when the user types them).
import { parseAddressList } from '../../core/address';
import { DhtError } from '../../core/errors';
import { isIdHex } from '../../core/id';
import { HyperDhtNode, acceptanceLine, type Acceptance, type HyperDhtNodeOptions } from '../../core/protocols/hyperdht/node';
import { HYPER_MAX_VALUE_BYTES } from '../../core/protocols/hyperdht/store';
import { createHyperTestnet } from '../../core/protocols/hyperdht/testnet';
import { UdpTransport } from '../../core/transport/udp';
import { endpointKey, type Endpoint } from '../../core/transport/types';
import { keyPairFile, readValue } from './commands/put';
import { EXIT_FAILURE, EXIT_OK, intFlag, listFlag, parse, untilSignal, UsageError, type Io } from './shared';

export const HYPERDHT_CLI_COMMANDS = ['node', 'lookup', 'put', 'get', 'announce', 'peers'] as const;

const COMMON = {
  protocol: { type: 'string' },
  bootstrap: { type: 'string' },
  host: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function bootstrapOf(value: string | undefined, required: boolean): Endpoint[] {
  const parsed = parseAddressList(listFlag(value));
  if (!parsed.ok) throw new UsageError(`--bootstrap: ${parsed.message}`);
  if (required && parsed.value.length === 0) throw new UsageError('--bootstrap is required with --protocol hyperdht: the host:port of nodes of the network to join');
  return parsed.value;
}

function hexArg(positionals: string[], what: string, verb: string): Uint8Array {
  if (positionals.length !== 1) throw new UsageError(`${verb} takes one ${what} (64 hex characters)`);
  const s = positionals[0].toLowerCase();
  if (!isIdHex(s)) throw new UsageError(`a ${what} is 64 hex characters; got "${positionals[0].slice(0, 80)}"`);
  return Buffer.from(s, 'hex');
}

/** A short-lived ephemeral node that has joined; throws NO_PEERS when no bootstrap node answered. */
async function session<T>(values: { bootstrap?: string; host?: string }, io: Io, fn: (node: HyperDhtNode) => Promise<T>, opts: Partial<HyperDhtNodeOptions> = {}): Promise<T> {
  const bootstrap = bootstrapOf(values.bootstrap, true);
  const node = new HyperDhtNode({ transport: new UdpTransport({}, { host: values.host ?? '127.0.0.1', port: 0 }) }, { bootstrap, ephemeral: true, onLog: (l) => io.err(`kadscope: ${l}`), ...opts });
  try {
    await node.start();
    if (node.rpc.stats.repliesIn === 0) throw new DhtError('NO_PEERS', `could not join the hyperdht network: none of ${bootstrap.map(endpointKey).join(', ')} answered`);
    return await fn(node);
  } finally {
    await node.stop();
  }
}

/** One line for stderr about a write: how many accepted, and who did not and why. */
function reportAcceptance(a: Acceptance, io: Io): number {
  const line = acceptanceLine(a);
  if (line === null) io.err(`kadscope: accepted by all ${a.asked} nodes asked`);
  else {
    io.err(`kadscope: ${line}`);
    for (const r of a.refusals.slice(0, 5)) io.err(`kadscope:   ${r}`);
  }
  return a.accepted > 0 ? EXIT_OK : EXIT_FAILURE;
}

function utf8(b: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return null;
  }
}

export const HYPERDHT_USAGE = `with --protocol hyperdht (a HyperDHT / Hyperswarm network; --bootstrap host:port,... is required):
  kadscope node --protocol hyperdht [--bootstrap ...] [--testnet N] [--ephemeral] [--port P] [--json]
  kadscope lookup <64-hex target> --protocol hyperdht --bootstrap ... [--json]
  kadscope put (<text> | --file F) --protocol hyperdht --bootstrap ... [--json]        key = BLAKE2b-256(value)
  kadscope put --mutable --keys F --seq N (<text> | --file F) --protocol hyperdht ...  key = BLAKE2b-256(public key)
  kadscope get <64-hex key> --protocol hyperdht --bootstrap ... [--mutable <-- key is the public key>] [--json]
  kadscope announce <64-hex topic> --keys F --protocol hyperdht --bootstrap ... [--json]   (F created when missing)
  kadscope peers <64-hex topic> --protocol hyperdht --bootstrap ... [--json]`;

export async function runHyperdht(command: string, argv: string[], io: Io): Promise<number> {
  switch (command) {
    case 'lookup': {
      const { values, positionals } = parse(argv, COMMON);
      const target = hexArg(positionals, 'target', 'lookup');
      return session(values, io, async (node) => {
        const r = await node.findNode(target);
        if (values.json) io.out(JSON.stringify({ protocol: 'hyperdht', target: hex(target), closest: r.closest, hops: r.hops, messages: r.messages, durationMs: r.durationMs }));
        else {
          io.out(`lookup ${hex(target).slice(0, 16)}…: ${r.hops} hops, ${r.messages} messages, ${r.durationMs.toFixed(1)} ms`);
          for (const c of r.closest) io.out(`${c.id}  ${c.host}:${c.port}`);
        }
        return r.closest.length > 0 ? EXIT_OK : EXIT_FAILURE;
      });
    }
    case 'put': {
      const { values, positionals } = parse(argv, { ...COMMON, file: { type: 'string' }, mutable: { type: 'boolean' }, keys: { type: 'string' }, seq: { type: 'string' } });
      const value = await readValue(positionals, values.file, HYPER_MAX_VALUE_BYTES);
      if (!values.mutable) {
        if (values.keys !== undefined || values.seq !== undefined) throw new UsageError('--keys and --seq are for mutable values; add --mutable');
        return session(values, io, async (node) => {
          const r = await node.immutablePut(value);
          if (values.json) io.out(JSON.stringify({ protocol: 'hyperdht', key: r.key, accepted: r.accepted, asked: r.asked, refusals: r.refusals }));
          else io.out(r.key);
          return reportAcceptance(r, io);
        });
      }
      if (values.keys === undefined) throw new UsageError('--mutable needs --keys F (the key pair file; created if missing)');
      if (values.seq === undefined) throw new UsageError('--mutable needs --seq N (storers keep the highest seq)');
      const seq = intFlag('seq', values.seq, 0, Number.MAX_SAFE_INTEGER, 0);
      const keyPair = await keyPairFile(values.keys, io);
      return session(values, io, async (node) => {
        const r = await node.mutablePut(keyPair, value, seq);
        const key = hex(Buffer.from(keyPair.publicKey));
        if (values.json) io.out(JSON.stringify({ protocol: 'hyperdht', key, publicKey: r.publicKey, seq: r.seq, accepted: r.accepted, asked: r.asked, refusals: r.refusals }));
        else io.out(key);
        return reportAcceptance(r, io);
      });
    }
    case 'get': {
      const { values, positionals } = parse(argv, { ...COMMON, mutable: { type: 'boolean' }, seq: { type: 'string' } });
      const key = hexArg(positionals, values.mutable ? 'public key' : 'key', 'get');
      const minSeq = intFlag('seq', values.seq, 0, Number.MAX_SAFE_INTEGER, 0);
      return session(values, io, async (node) => {
        let value: Uint8Array | null;
        let seq: number | undefined;
        let from: string | null = null;
        let stats;
        if (values.mutable) {
          const r = await node.mutableGet(key, minSeq);
          value = r.value?.value ?? null;
          seq = r.value?.seq;
          stats = r;
        } else {
          const r = await node.immutableGet(key);
          value = r.value;
          from = r.from ? endpointKey(r.from) : null;
          stats = r;
        }
        if (value === null) throw new DhtError('NOT_FOUND', `no node of the ${stats.closest.length} closest to ${hex(key).slice(0, 16)}… holds a ${values.mutable ? 'signed value for that public key' : 'value with that key'}`);
        const text = utf8(value);
        if (values.json) {
          io.out(JSON.stringify({ protocol: 'hyperdht', key: hex(key), text, base64: Buffer.from(value).toString('base64'), ...(seq !== undefined ? { seq } : {}), from, messages: stats.messages, durationMs: stats.durationMs }));
        } else if (text !== null) io.out(text);
        else {
          io.out(Buffer.from(value).toString('base64'));
          io.err('kadscope: the value is not UTF-8 text; printed it as base64');
        }
        return EXIT_OK;
      });
    }
    case 'announce': {
      const { values, positionals } = parse(argv, { ...COMMON, keys: { type: 'string' }, relay: { type: 'string' } });
      const topic = hexArg(positionals, 'topic', 'announce');
      if (values.keys === undefined) throw new UsageError('announce --protocol hyperdht needs --keys F: the ed25519 key pair whose public key is announced (created if missing)');
      const relays = bootstrapOf(values.relay, false);
      const keyPair = await keyPairFile(values.keys, io);
      return session(values, io, async (node) => {
        const r = await node.announce(topic, keyPair, relays);
        const publicKey = hex(Buffer.from(keyPair.publicKey));
        if (values.json) io.out(JSON.stringify({ protocol: 'hyperdht', topic: hex(topic), publicKey, relayAddresses: relays.map(endpointKey), accepted: r.accepted, asked: r.asked, refusals: r.refusals }));
        else io.out(`announced ${publicKey} under ${hex(topic).slice(0, 16)}…`);
        return reportAcceptance(r, io);
      });
    }
    case 'peers': {
      const { values, positionals } = parse(argv, COMMON);
      const topic = hexArg(positionals, 'topic', 'peers');
      return session(values, io, async (node) => {
        const r = await node.lookup(topic);
        const peers = r.peers.map((p) => hex(p.publicKey));
        const relayAddresses = Object.fromEntries(r.peers.map((p) => [hex(p.publicKey), p.relayAddresses.map(endpointKey)]));
        if (values.json) io.out(JSON.stringify({ protocol: 'hyperdht', topic: hex(topic), peers, relayAddresses, messages: r.messages, durationMs: r.durationMs }));
        else {
          for (const p of r.peers) io.out(`${hex(p.publicKey)}${p.relayAddresses.length ? `  via ${p.relayAddresses.map(endpointKey).join(',')}` : ''}`);
          io.err(`kadscope: ${peers.length} peer${peers.length === 1 ? '' : 's'} announced under ${hex(topic).slice(0, 16)}…`);
        }
        return EXIT_OK;
      });
    }
    case 'node':
      return runNode(argv, io);
    default:
      throw new UsageError(`${command} does not speak --protocol hyperdht yet; these do: ${HYPERDHT_CLI_COMMANDS.join(', ')}`);
  }
}

async function runNode(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { ...COMMON, port: { type: 'string' }, testnet: { type: 'string' }, ephemeral: { type: 'boolean' } }, false);
  const port = intFlag('port', values.port, 0, 65535, 0);
  const size = values.testnet === undefined ? 0 : intFlag('testnet', values.testnet, 1, 2000, 0);
  const bootstrap = bootstrapOf(values.bootstrap, size === 0);
  const print = (obj: Record<string, unknown>, text: string): void => io.out(values.json ? JSON.stringify({ protocol: 'hyperdht', ...obj }) : text);
  const testnet = size > 0 ? await createHyperTestnet(size) : null;
  if (testnet) print({ event: 'testnet', size, bootstrap: testnet.bootstrap }, `hyperdht testnet: ${size} kadscope nodes on 127.0.0.1, bootstrap ${testnet.bootstrap.join(',')}`);
  const all = [...bootstrap, ...(testnet ? [testnet.nodes[0].address] : [])];
  const transport = new UdpTransport({}, { host: values.host ?? '127.0.0.1', port });
  const node = new HyperDhtNode(
    { transport, createProbeTransport: () => new UdpTransport({}, { host: values.host ?? '127.0.0.1', port: 0 }) },
    { bootstrap: all, ...(values.ephemeral ? { ephemeral: true } : {}), onLog: (l) => io.err(`kadscope: ${l}`) },
  );
  try {
    await node.start();
  } catch (e) {
    await node.stop();
    await testnet?.destroy();
    throw e;
  }
  print(
    { event: 'started', id: node.persistent ? node.id : null, persistent: node.persistent, address: endpointKey(node.address), peers: node.table.entries().length },
    `hyperdht node ${node.persistent ? node.id : '(ephemeral: no id)'}\nlistening on udp ${endpointKey(node.address)}; ${node.table.entries().length} peers`,
  );
  const status = setInterval(() => {
    print({ event: 'status', peers: node.table.entries().length, persistent: node.persistent, rx: node.rpc.stats.received, tx: node.rpc.stats.sent }, `peers ${node.table.entries().length}, rx ${node.rpc.stats.received} tx ${node.rpc.stats.sent} datagrams`);
  }, 10_000);
  const sig = await untilSignal();
  clearInterval(status);
  print({ event: 'stopping', signal: sig }, `${sig}: stopping`);
  await node.stop();
  await testnet?.destroy();
  return EXIT_OK;
}

// protocolOf lives in shared.ts, so the CLI reads --protocol without loading this module.
export { protocolOf } from './shared';
