// A node with a data directory, in its own process, for hardening-crash.test.ts to SIGKILL over and
// over. Run: node --import tsx hardening-crash.child.ts <dataDir>
// Prints one JSON line once it is serving: its id, port, start-up warnings, and every record it holds
// (key, and seq for mutable ones). Then it just serves STOREs until it is killed.
import { DhtNode } from '../../core/node';

const [dataDir] = process.argv.slice(2);
const node = DhtNode.create({
  host: '127.0.0.1',
  port: 0,
  dataDir,
  rpcTimeoutMs: 500,
  // One writer address stores thousands of records over the loop; snapshots keep running alongside.
  maxPerAddressFraction: 1,
  saveDebounceMs: 10,
  refreshOnBootstrap: false,
});
const started = await node.start();
process.stdout.write(
  `${JSON.stringify({
    event: 'ready',
    id: node.id,
    port: node.address.port,
    warnings: started.warnings,
    records: node.records.held().map((r) => ({ key: r.key, seq: r.seq ?? null })),
  })}\n`,
);
