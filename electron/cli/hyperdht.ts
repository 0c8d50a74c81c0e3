// The record and node commands with --protocol hyperdht: the same verbs as kadscope's own protocol,
// spoken to a HyperDHT network (Hyperswarm's) through core/protocols/hyperdht. One-shot commands
// (lookup, put, get, announce, peers) run a DhtNode on the protocol seam as an ephemeral client
// (dht-rpc's client mode: no id, in nobody's table) and use node.records with HyperDHT's record
// model; `node` runs a long-lived DhtNode on the seam that decides like dht-rpc (adaptive:
// persistent once its PING_NAT probe from a second socket gets through; --ephemeral stays a
// client), and `node --testnet N` runs N kadscope HyperDHT nodes (core/testnet.ts) beside it.
// There is no default network: --bootstrap names it (public nodes only when the user types them).
import { parseAddressList } from '../../core/address';
import { DhtError } from '../../core/errors';
import { isIdHex } from '../../core/id';
import { DhtNode } from '../../core/node';
import { hyperdhtProtocol } from '../../core/protocols/hyperdht/protocol';
import { HYPERDHT_RECORDS } from '../../core/protocols/hyperdht/records';
import { acceptanceLine, type StoreResult } from '../../core/records/publish';
import { createTestnet } from '../../core/testnet';
import { endpointKey, type Endpoint } from '../../core/transport/types';
import { keyPairFile, readValue } from './commands/put';
import { withSession } from './commands/session';
import { EXIT_FAILURE, EXIT_OK, intFlag, listFlag, parse, untilSignal, UsageError, type Io } from './shared';

/** node --testnet N: at most this many (HyperDHT nodes each probe and re-key as they join). */
const HYPER_TESTNET_MAX_NODES = 2_000;

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

/**
 * A short-lived node on the protocol seam (DhtNode, hyperdhtProtocol({ ephemeral: true }): a
 * dht-rpc client, no id, in nobody's table) that has joined; NO_PEERS when no bootstrap node answered.
 */
async function session<T>(values: { bootstrap?: string; host?: string; protocol?: string }, io: Io, fn: (node: DhtNode) => Promise<T>): Promise<T> {
  bootstrapOf(values.bootstrap, true);
  return withSession({ ...values, protocol: 'hyperdht' }, io, fn);
}

/** What a write's StoreResult says in hyperdht's terms: accepted of asked, and each refusal. */
function acceptanceOf(r: Pick<StoreResult, 'storedAt' | 'failed'>): { accepted: number; asked: number; refusals: string[] } {
  const refusals = r.failed.map((f) => `${f.id.slice(0, 16)}…: ${f.code === 'TIMEOUT' ? 'no answer (hyperdht refuses in silence)' : f.code}`);
  return { accepted: r.storedAt.length, asked: r.storedAt.length + r.failed.length, refusals };
}

/** One line for stderr about a write: how many accepted, and who did not and why. */
function reportAcceptance(r: Pick<StoreResult, 'storedAt' | 'failed'>, io: Io): number {
  const a = acceptanceOf(r);
  const line = acceptanceLine(r);
  if (line === null) io.err(`kadscope: accepted by all ${a.asked} nodes asked`);
  else {
    io.err(`kadscope: ${line}`);
    for (const x of a.refusals.slice(0, 5)) io.err(`kadscope:   ${x}`);
  }
  return a.accepted > 0 ? EXIT_OK : EXIT_FAILURE;
}

/** host:port of a node the session met (the answerer of a get), or null. */
function addressOf(node: DhtNode, id: string): string | null {
  const e = node.table.get(id);
  return e ? endpointKey(e) : null;
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
        const r = await node.findNode(hex(target));
        const closest = r.closest.map((c) => ({ id: c.id, host: c.host, port: c.port }));
        if (values.json) io.out(JSON.stringify({ protocol: 'hyperdht', target: hex(target), closest, hops: r.hops, messages: r.messages, durationMs: r.durationMs }));
        else {
          io.out(`lookup ${hex(target).slice(0, 16)}…: ${r.hops} hops, ${r.messages} messages, ${r.durationMs.toFixed(1)} ms`);
          for (const c of r.closest) io.out(`${c.id}  ${c.host}:${c.port}`);
        }
        return r.closest.length > 0 ? EXIT_OK : EXIT_FAILURE;
      });
    }
    case 'put': {
      const { values, positionals } = parse(argv, { ...COMMON, file: { type: 'string' }, mutable: { type: 'boolean' }, keys: { type: 'string' }, seq: { type: 'string' } });
      const value = await readValue(positionals, values.file, HYPERDHT_RECORDS.maxValueBytes);
      if (!values.mutable) {
        if (values.keys !== undefined || values.seq !== undefined) throw new UsageError('--keys and --seq are for mutable values; add --mutable');
        return session(values, io, async (node) => {
          const r = await node.records.put(value);
          if (values.json) io.out(JSON.stringify({ protocol: 'hyperdht', key: r.key, ...acceptanceOf(r) }));
          else io.out(r.key);
          return reportAcceptance(r, io);
        });
      }
      if (values.keys === undefined) throw new UsageError('--mutable needs --keys F (the key pair file; created if missing)');
      if (values.seq === undefined) throw new UsageError('--mutable needs --seq N (storers keep the highest seq)');
      const seq = intFlag('seq', values.seq, 0, Number.MAX_SAFE_INTEGER, 0);
      const keyPair = await keyPairFile(values.keys, io);
      return session(values, io, async (node) => {
        const r = await node.records.putMutable({ keyPair, value, seq });
        const key = hex(Buffer.from(keyPair.publicKey));
        if (values.json) io.out(JSON.stringify({ protocol: 'hyperdht', key, publicKey: r.publicKey, seq: r.seq, ...acceptanceOf(r) }));
        else io.out(key);
        return reportAcceptance(r, io);
      });
    }
    case 'get': {
      const { values, positionals } = parse(argv, { ...COMMON, mutable: { type: 'boolean' }, seq: { type: 'string' } });
      const key = hexArg(positionals, values.mutable ? 'public key' : 'key', 'get');
      const minSeq = intFlag('seq', values.seq, 0, Number.MAX_SAFE_INTEGER, 0);
      return session(values, io, async (node) => {
        // A mutable value lives at BLAKE2b-256(public key); its answers carry no public key, we know it.
        const at = values.mutable ? hex(HYPERDHT_RECORDS.mutableKey(key, new Uint8Array(0))) : hex(key);
        const r = await node.records.get(at, values.mutable ? { publicKey: key } : {});
        if (r.seq !== undefined && r.seq < minSeq) throw new DhtError('NOT_FOUND', `the highest seq found for ${hex(key).slice(0, 16)}… is ${r.seq}, below --seq ${minSeq}`);
        const { value, seq } = r;
        const from = values.mutable ? null : addressOf(node, r.from);
        const text = utf8(value);
        if (values.json) {
          io.out(JSON.stringify({ protocol: 'hyperdht', key: hex(key), text, base64: Buffer.from(value).toString('base64'), ...(seq !== undefined ? { seq } : {}), from, messages: r.messages, durationMs: r.durationMs }));
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
        const r = await node.records.announce(topic, undefined, { keyPair, relayAddresses: relays });
        const publicKey = hex(Buffer.from(keyPair.publicKey));
        if (values.json) io.out(JSON.stringify({ protocol: 'hyperdht', topic: hex(topic), publicKey, relayAddresses: relays.slice(0, 3).map(endpointKey), ...acceptanceOf(r) }));
        else io.out(`announced ${publicKey} under ${hex(topic).slice(0, 16)}…`);
        return reportAcceptance(r, io);
      });
    }
    case 'peers': {
      const { values, positionals } = parse(argv, COMMON);
      const topic = hexArg(positionals, 'topic', 'peers');
      return session(values, io, async (node) => {
        const r = await node.records.lookupPeers(topic);
        const found = r.peers.filter((p) => p.publicKey !== undefined).map((p) => ({ publicKey: p.publicKey!, relays: (p.relayAddresses ?? []).map(endpointKey) }));
        const peers = found.map((p) => p.publicKey);
        const relayAddresses = Object.fromEntries(found.map((p) => [p.publicKey, p.relays]));
        if (values.json) io.out(JSON.stringify({ protocol: 'hyperdht', topic: hex(topic), peers, relayAddresses, messages: r.messages, durationMs: r.durationMs }));
        else {
          for (const p of found) io.out(`${p.publicKey}${p.relays.length ? `  via ${p.relays.join(',')}` : ''}`);
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
  const size = values.testnet === undefined ? 0 : intFlag('testnet', values.testnet, 1, HYPER_TESTNET_MAX_NODES, 0);
  const bootstrap = bootstrapOf(values.bootstrap, size === 0);
  const host = values.host ?? '127.0.0.1';
  const print = (obj: Record<string, unknown>, text: string): void => io.out(values.json ? JSON.stringify({ protocol: 'hyperdht', ...obj }) : text);
  // kadscope's own HyperDHT network on loopback: the first node knows its address, the others
  // join and turn persistent after their reachability probe.
  const testnet = size > 0 ? await createTestnet({ size, transport: 'udp', host, node: { protocol: 'hyperdht' } }) : null;
  if (testnet) print({ event: 'testnet', size, bootstrap: testnet.bootstrap }, `hyperdht testnet: ${size} kadscope nodes on ${host}, bootstrap ${testnet.bootstrap.join(',')}`);
  const all: Endpoint[] = [...bootstrap, ...(testnet ? [testnet.nodes[0].address] : [])];
  // Adaptive unless --ephemeral: persistent once its PING_NAT probe shows the network reaches it.
  const node = DhtNode.create({ protocol: hyperdhtProtocol(values.ephemeral ? { ephemeral: true } : {}), host, port, bootstrap: all });
  node.on('reachability', (r) =>
    io.err(`kadscope: hyperdht: ${r.reachable ? 'reachable' : 'staying ephemeral: not reachable'} at ${endpointKey(r.address)}: ${r.reason}`),
  );
  node.on('id-changed', (e) => io.err(`kadscope: hyperdht: id ${e.from.slice(0, 16)}… -> ${e.to.slice(0, 16)}…: ${e.reason}`));
  try {
    await node.start();
  } catch (e) {
    await node.stop();
    await testnet?.destroy();
    throw e;
  }
  const peers = (): number => node.table.size;
  // Listen for the signal before saying 'started': whoever reads that line may stop us at once.
  const signalled = untilSignal();
  print(
    { event: 'started', id: node.persistent ? node.id : null, persistent: node.persistent, address: endpointKey(node.address), peers: peers() },
    `hyperdht node ${node.persistent ? node.id : '(ephemeral: no id)'}\nlistening on udp ${endpointKey(node.address)}; ${peers()} peers`,
  );
  const status = setInterval(() => {
    const c = node.metrics().counters;
    print({ event: 'status', peers: peers(), persistent: node.persistent, rx: c.rxPackets, tx: c.txPackets }, `peers ${peers()}, rx ${c.rxPackets} tx ${c.txPackets} datagrams`);
  }, 10_000);
  const sig = await signalled;
  clearInterval(status);
  print({ event: 'stopping', signal: sig }, `${sig}: stopping`);
  await node.stop();
  await testnet?.destroy();
  return EXIT_OK;
}

// protocolOf lives in shared.ts, so the CLI reads --protocol without loading this module.
export { protocolOf } from './shared';
