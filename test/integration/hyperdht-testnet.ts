// A loopback network of real hyperdht nodes (hyperdht/testnet) for tests and benchmarks, with
// typings for the few calls used (read from node_modules/hyperdht/index.js, dht-rpc/index.js).
// Every node binds 127.0.0.1 and bootstraps from the first one: nothing contacts a public node
// (createTestnet passes an explicit bootstrap list to every node it makes).
import { createRequire } from 'node:module';
import { compareDistance } from '../../core/id';
import { hyperNodeId } from '../../core/protocols/hyperdht/crypto';
import type { Endpoint } from '../../core/transport/types';

const require = createRequire(import.meta.url);

export interface RefKeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

interface RefQuery extends AsyncIterable<{ from: Endpoint & { id: Buffer | null }; peers?: Array<{ publicKey: Buffer }> }> {
  finished(): Promise<void>;
  closestNodes: Array<Endpoint & { id: Buffer }>;
}

export interface RefNode {
  id: Buffer | null;
  host: string | null;
  port: number;
  ephemeral: boolean;
  table: { get(id: Uint8Array): unknown; toArray(): Array<Endpoint & { id: Buffer }> };
  address(): Endpoint;
  ping(to: Endpoint): Promise<{ from: Endpoint & { id: Buffer | null } }>;
  findNode(target: Uint8Array): RefQuery;
  lookup(topic: Uint8Array): RefQuery;
  announce(topic: Uint8Array, keyPair: RefKeyPair, relays?: Endpoint[]): RefQuery;
  immutablePut(value: Uint8Array): Promise<{ hash: Buffer }>;
  immutableGet(key: Uint8Array): Promise<{ value: Buffer } | null>;
  mutablePut(keyPair: RefKeyPair, value: Uint8Array, opts?: { seq?: number }): Promise<{ seq: number }>;
  mutableGet(publicKey: Uint8Array, opts?: { latest?: boolean }): Promise<{ seq: number; value: Buffer } | null>;
  refresh(): void;
  destroy(): Promise<void>;
}

export interface RefTestnet {
  nodes: RefNode[];
  bootstrap: Endpoint[];
  destroy(): Promise<void>;
}

const createTestnet = require('hyperdht/testnet') as (n: number, opts: { host: string }) => Promise<RefTestnet>;
const HyperDHT = require('hyperdht') as { keyPair(seed?: Uint8Array): RefKeyPair };

/** n persistent hyperdht nodes on 127.0.0.1. */
export async function createHyperTestnet(n: number): Promise<RefTestnet> {
  const net = await createTestnet(n, { host: '127.0.0.1' });
  if (net.bootstrap.some((b) => b.host !== '127.0.0.1')) throw new Error('hyperdht testnet is not on loopback');
  return net;
}

export const refKeyPair = (seed?: Uint8Array): RefKeyPair => HyperDHT.keyPair(seed);

/** Hex ids of the n reference nodes (plus extra ids, e.g. ours) closest to target. */
export function trueClosestHyper(nodes: readonly Endpoint[], target: Uint8Array, n: number): string[] {
  const ids = nodes.map((e) => hyperNodeId(e)!).sort((a, b) => compareDistance(target, a, b));
  return ids.slice(0, n).map((b) => Buffer.from(b).toString('hex'));
}
