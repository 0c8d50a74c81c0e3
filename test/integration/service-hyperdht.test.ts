// The app's record commands on a HyperDHT node (ExplorerService with protocol hyperdht and its
// embedded testnet of seam nodes on 127.0.0.1): put and get an immutable value, put a mutable one
// and fetch it by key alone (the node knows its own public key), announce and find the public key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryClient, type KadscopeClient } from '../../electron/host/client';
import type { Result } from '../../electron/host/contract';
import { ExplorerService } from '../../electron/host/service';

let service: ExplorerService;
let c: KadscopeClient;

function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.value;
}

beforeAll(async () => {
  service = new ExplorerService({}, { host: 'memory', appVersion: 'test', dataDir: null, bootstrap: [], testnetSize: 12, protocol: 'hyperdht', node: { rpcTimeoutMs: 500 } });
  await service.start();
  c = createMemoryClient(service);
  await service.node.findNode(service.node.id);
}, 60_000);

afterAll(async () => {
  await service?.stop();
});

describe('the record commands on a HyperDHT node', () => {
  it('put and get an immutable value at BLAKE2b-256 of the value', async () => {
    const put = unwrap(await c.put({ value: { text: 'app on hyperdht' } }));
    expect(put.storedAt.length).toBeGreaterThanOrEqual(5);
    const got = unwrap(await c.get({ key: put.key, source: 'network' }));
    expect(got.text).toBe('app on hyperdht');
  });

  it('a mutable value fetched by key alone: the public key is one of our own key pairs', async () => {
    const put = unwrap(await c.putMutable({ value: { text: 'signed on hyperdht' }, seq: 2, keyPair: 'generate' }));
    const got = unwrap(await c.get({ key: put.key, source: 'network' }));
    expect([got.text, got.seq]).toEqual(['signed on hyperdht', 2]);
    const byKey = unwrap(await c.get({ key: put.key, source: 'network', publicKey: put.publicKey }));
    expect(byKey.seq).toBe(2);
  });

  it('announce publishes the public key of the key pair "announce"; lookupPeers lists public keys', async () => {
    unwrap(await c.announce({ topic: 'chat', port: 4242 }));
    const announceKey = (unwrap(await c.listKeyPairs())).find((k) => k.name === 'announce')!.publicKey;
    const found = unwrap(await c.lookupPeers({ topic: 'chat' }));
    expect(found.peers).toContain(announceKey);
  });
});
