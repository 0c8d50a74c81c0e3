// A loopback network of real bittorrent-dht nodes for the Mainline tests. bittorrent-dht defaults
// to the public BitTorrent routers: the first node here has `bootstrap: false` and every other one
// bootstraps from 127.0.0.1 only, so nothing leaves the machine. Waits are bounded.
import DHT from 'bittorrent-dht';
import { verify } from '../../core/records/signing';

/** How long one reference node may take to bootstrap on a loaded machine. */
const READY_WAIT_MS = 30_000;
/** Nodes started at once. */
const START_BATCH = 10;

export interface ReferenceNetwork {
  nodes: DHT[];
  /** "127.0.0.1:port" of the first node. */
  bootstrap: string;
  close(): Promise<void>;
}

export function referenceNode(bootstrap: string[] | false): DHT {
  // BEP 44 mutable items need a verifier; ours is node:crypto's ed25519 (records/signing.ts).
  const opts = { bootstrap, verify: (sig: Buffer, msg: Buffer, pk: Buffer) => verify(msg, sig, pk) };
  const node = new DHT(opts);
  // Warnings (unexpected tids, our hostile-input probes) are the reference's business, not the test's.
  node.on('warning', () => {});
  node.on('error', () => {});
  return node;
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${READY_WAIT_MS} ms`)), READY_WAIT_MS);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** A find_node lookup of the node's own id, as bittorrent-dht's bootstrap does: fills its table with what joined since. */
export function settle(node: DHT): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => node._rpc.populate(node.nodeId, { q: 'find_node', a: { id: node.nodeId, target: node.nodeId } }, () => resolve())),
    'bittorrent-dht settle lookup',
  );
}

function listen(node: DHT): Promise<void> {
  return new Promise((resolve) => node.listen(0, '127.0.0.1', () => resolve()));
}

function ready(node: DHT): Promise<void> {
  if (node.ready) return Promise.resolve();
  return withTimeout(new Promise<void>((resolve) => node.once('ready', () => resolve())), 'bittorrent-dht bootstrap');
}

export async function createReferenceNetwork(size: number, extraBootstrap: string[] = []): Promise<ReferenceNetwork> {
  const nodes: DHT[] = [];
  const first = referenceNode(extraBootstrap.length > 0 ? extraBootstrap : false);
  nodes.push(first);
  await listen(first);
  const bootstrap = `127.0.0.1:${first.address().port}`;
  const close = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => new Promise<void>((resolve) => n.destroy(() => resolve()))));
  };
  try {
    await ready(first);
    for (let i = 1; i < size; i += START_BATCH) {
      const batch: DHT[] = [];
      for (let j = i; j < Math.min(size, i + START_BATCH); j++) {
        const n = referenceNode([bootstrap, ...extraBootstrap]);
        nodes.push(n);
        batch.push(n);
      }
      await Promise.all(batch.map(async (n) => Promise.all([ready(n), listen(n)])));
    }
    // The early nodes joined an almost empty network: one more lookup each fills their tables.
    for (let i = 0; i < nodes.length; i += START_BATCH) await Promise.all(nodes.slice(i, i + START_BATCH).map(settle));
  } catch (err) {
    await close();
    throw err;
  }
  return { nodes, bootstrap, close };
}
