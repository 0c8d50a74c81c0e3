// Host startup options, shared by Electron main, `kadscope serve` and `npm start`: parsed from argv
// with one clear line per mistake, and the data directory resolved the same way everywhere.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isIP, parseAddressList } from '../../core/address';
import { SOCKET_LAYER_CHOICES, type SocketLayerChoice } from '../../core/transport/socket-layer';
import type { Endpoint } from '../../core/transport/types';
import { parseMetricsAddress } from './metrics';

export const DEFAULT_WEB_PORT = 7420;
export const DEFAULT_TESTNET_SIZE = 32;
export const APP_DIR_NAME = 'kadscope';

export interface HostOptions {
  /** Join these instead of the embedded testnet. */
  bootstrap: string[];
  /** null: the host's default (Electron userData, or the XDG data dir headless). */
  dataDir: string | null;
  /** Headless host HTTP port (0 picks a free one). */
  webPort: number;
  /** UDP port of the user's node (0 picks a free one). */
  nodePort: number;
  /** --host6: the user's node also binds this IPv6 address (dual stack, as `kadscope node --host6`); null: IPv4 only. */
  host6: string | null;
  /** Size of the embedded testnet started when no bootstrap is given; 0 turns it off. */
  testnetSize: number;
  /** Serve Prometheus metrics of the user's node here (--metrics HOST:PORT); null: no metrics. */
  metrics: Endpoint | null;
  /** Also serve the API to other machines here, over TLS with the session token (--listen HOST:PORT). */
  listen: Endpoint | null;
  /** --tls-cert/--tls-key: the certificate for --listen; null: generate one into the data directory. */
  tls: { cert: string; key: string } | null;
  /** --protocol: what the user's node (and the embedded testnet) speak at start. */
  protocol: 'kadscope' | 'mainline' | 'hyperdht';
  /** --transport: the user's node's UDP socket layer (native: kadscope's binding, udx: udx-native, dgram: node:dgram); null: the first that loads, in that order. */
  transport: SocketLayerChoice | null;
}

export class OptionsError extends Error {}

/** The flags every host understands. Unknown flags are an error unless `lenient` (Electron adds its own). */
export function parseHostOptions(argv: string[], options: { lenient?: boolean } = {}): HostOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: !options.lenient,
      allowPositionals: true,
      options: {
        bootstrap: { type: 'string' },
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        'node-port': { type: 'string' },
        host6: { type: 'string' },
        'testnet-size': { type: 'string' },
        'no-testnet': { type: 'boolean' },
        metrics: { type: 'string' },
        listen: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        protocol: { type: 'string' },
        transport: { type: 'string' },
      },
    }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new OptionsError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  let bootstrap: string[] = [];
  const b = str('bootstrap');
  if (b !== undefined) {
    const r = parseAddressList(b);
    if (!r.ok) throw new OptionsError(`--bootstrap: ${r.message}`);
    if (r.value.length === 0) throw new OptionsError('--bootstrap needs at least one host:port');
    bootstrap = b.split(/[\s,]+/).filter((s) => s !== '');
  }
  const testnetSize = values['no-testnet'] === true ? 0 : int('testnet-size', str('testnet-size'), 0, 2000, DEFAULT_TESTNET_SIZE);
  const dataDir = str('data-dir');
  let metrics: Endpoint | null = null;
  const m = str('metrics');
  if (m !== undefined) {
    const r = parseMetricsAddress(m);
    if (!r.ok) throw new OptionsError(`--metrics: ${r.message}`);
    metrics = r.value;
  }
  let listen: Endpoint | null = null;
  const l = str('listen');
  if (l !== undefined) {
    const r = parseMetricsAddress(l);
    if (!r.ok) throw new OptionsError(`--listen: ${r.message.replace('127.0.0.1:9464', '0.0.0.0:7443')}`);
    listen = r.value;
  }
  const host6 = str('host6');
  if (host6 !== undefined && isIP(host6) !== 6) throw new OptionsError(`--host6 must be an IPv6 address such as ::1 or ::; got "${host6.slice(0, 60)}"`);
  const cert = str('tls-cert');
  const key = str('tls-key');
  if ((cert === undefined) !== (key === undefined)) throw new OptionsError('--tls-cert and --tls-key go together: give both, or neither to have a certificate generated');
  if (cert !== undefined && listen === null) throw new OptionsError('--tls-cert/--tls-key are for --listen; add --listen HOST:PORT');
  const protocol = str('protocol') ?? 'kadscope';
  if (protocol !== 'kadscope' && protocol !== 'mainline' && protocol !== 'hyperdht') {
    throw new OptionsError(`--protocol must be one of kadscope, mainline, hyperdht; got "${protocol.slice(0, 40)}"`);
  }
  const transport = str('transport');
  if (transport !== undefined && !(SOCKET_LAYER_CHOICES as readonly string[]).includes(transport)) {
    throw new OptionsError(`--transport must be one of ${SOCKET_LAYER_CHOICES.join(', ')}; got "${transport.slice(0, 40)}"`);
  }
  return {
    protocol,
    transport: (transport as SocketLayerChoice | undefined) ?? null,
    bootstrap,
    dataDir: dataDir !== undefined ? resolve(dataDir) : null,
    webPort: int('port', str('port'), 0, 65535, DEFAULT_WEB_PORT),
    nodePort: int('node-port', str('node-port'), 0, 65535, 0),
    host6: host6 ?? null,
    testnetSize,
    metrics,
    listen,
    tls: cert !== undefined && key !== undefined ? { cert: resolve(cert), key: resolve(key) } : null,
  };
}

function int(name: string, value: string | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new OptionsError(`--${name} must be a whole number; got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new OptionsError(`--${name} must be ${min}-${max}; got ${n}`);
  return n;
}

/** Headless data directory: $XDG_DATA_HOME/kadscope, else ~/.local/share/kadscope. */
export function headlessDataDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  if (xdg && xdg.startsWith('/')) return join(xdg, APP_DIR_NAME);
  return join(home, '.local', 'share', APP_DIR_NAME);
}

export const HOST_USAGE =
  '[--protocol kadscope|mainline|hyperdht] [--bootstrap host:port,...] [--data-dir DIR] [--port 7420] [--node-port N] [--host6 ::1] [--transport native|udx|dgram] [--testnet-size 32 | --no-testnet] [--metrics HOST:PORT] [--listen HOST:PORT [--tls-cert F --tls-key F]]';
