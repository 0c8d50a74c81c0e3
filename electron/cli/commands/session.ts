// The short-lived node behind the record commands (put, get, announce, peers): joins through
// --bootstrap (or, with --data-dir and no --bootstrap, through the peers saved there), runs one
// operation, stops. Problems with the data directory are printed as warnings, one line each.
import { parseAddressList } from '../../../core/address';
import { DhtError } from '../../../core/errors';
import { DhtNode } from '../../../core/node';
import { hexToBytes } from '../../../core/id';
import { hyperdhtProtocol } from '../../../core/protocols/hyperdht/protocol';
import { mainlineProtocol } from '../../../core/protocols/mainline/protocol';
import type { DhtProtocol } from '../../../core/protocols/protocol';
import { endpointKey } from '../../../core/transport/types';
import { listFlag, UsageError, type Io } from '../shared';

/** The flags every record command shares, for parseArgs. */
export const SESSION_FLAGS = {
  bootstrap: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  protocol: { type: 'string' },
} as const;

export const SESSION_USAGE = `  --bootstrap   comma-separated addresses to join through: host:port, [v6]:port or /ip4|ip6/H/udp/P (required without --data-dir)
  --data-dir    keep this node's identity, key pairs, records and peers here; rejoin through them
  --host        address to bind (default 127.0.0.1)
  --json        print one machine-readable JSON object
  --protocol P  kadscope (default) or mainline (BitTorrent's DHT: 40-hex ids; one-shot commands join read-only, BEP 43)`;

export interface SessionFlags {
  bootstrap?: string;
  host?: string;
  'data-dir'?: string;
  protocol?: string;
}

/**
 * The node protocol a --protocol flag names (undefined: kadscope's own). `oneShot`: a command that
 * runs one operation and leaves; on Mainline it joins read-only (BEP 43), so the nodes it asks do
 * not put a node that is about to vanish into their routing tables.
 */
export function cliProtocol(flag: string | undefined, oneShot: boolean): DhtProtocol | undefined {
  if (flag === undefined || flag === 'kadscope') return undefined;
  if (flag === 'mainline') return mainlineProtocol({ readOnly: oneShot });
  // A one-shot HyperDHT command is a dht-rpc client: no id sent, in nobody's table.
  if (flag === 'hyperdht') return hyperdhtProtocol({ ephemeral: oneShot });
  throw new UsageError(`--protocol must be kadscope, mainline or hyperdht here; got "${flag.slice(0, 40)}"`);
}

/**
 * A topic on the command line as the node takes it: on Mainline 40 hex characters are the info
 * hash itself and any other text is hashed with SHA-1; `hashed` says which, for the output.
 */
export function cliTopic(topic: string, protocol: DhtProtocol | undefined): { topic: string | Uint8Array; hashed: string | null } {
  if (protocol?.name !== 'mainline') return { topic, hashed: 'sha256' };
  if (/^[0-9a-fA-F]{40}$/.test(topic)) return { topic: hexToBytes(topic.toLowerCase()), hashed: null };
  return { topic, hashed: 'sha1' };
}

/** Starts a node and joins; throws a UsageError for bad flags and NO_PEERS when nobody answered. */
async function openSession(values: SessionFlags, io: Io): Promise<DhtNode> {
  const parsed = parseAddressList(listFlag(values.bootstrap));
  if (!parsed.ok) throw new UsageError(`--bootstrap: ${parsed.message}`);
  const dataDir = values['data-dir'];
  if (parsed.value.length === 0 && dataDir === undefined) {
    throw new UsageError('--bootstrap is required (the addresses of nodes to join through), or --data-dir of a node that joined before');
  }
  const protocol = cliProtocol(values.protocol, true);
  const node = DhtNode.create({
    ...(protocol ? { protocol } : {}),
    host: values.host ?? '127.0.0.1',
    port: 0,
    // One operation: its own lookup finds the nodes it needs; looking up our own id and refreshing
    // every bucket would only add traffic and time. Lookups wait as long as the measured round
    // trips call for: earlier one-shot nodes that have left are still in the network's tables.
    refreshOnBootstrap: false,
    lookupSelfOnBootstrap: false,
    adaptiveTimeout: true,
    bootstrap: parsed.value.map(endpointKey),
    ...(dataDir !== undefined ? { dataDir } : {}),
  });
  const started = await node.start();
  for (const w of started.warnings) io.err(`kadscope: warning: ${w}`);
  const join = started.join;
  if (!join || join.reached.length === 0) {
    await node.stop();
    const why = join ? join.failed.map((f) => `${f.address}: ${f.error}`).join('; ') : `no --bootstrap given and no peers saved in ${dataDir}`;
    throw new DhtError('NO_PEERS', `could not join the network (${why})`);
  }
  return node;
}

/** Runs fn with a joined node and always stops it (saving state when there is a data directory). */
export async function withSession<T>(values: SessionFlags, io: Io, fn: (node: DhtNode) => Promise<T>): Promise<T> {
  const node = await openSession(values, io);
  try {
    return await fn(node);
  } finally {
    await node.stop();
  }
}
