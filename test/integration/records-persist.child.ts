// A node in its own process for records-persist.test.ts, so that the test can SIGKILL it.
// Run: node --import tsx records-persist.child.ts <dataDir> [host:port,...]
// Prints one JSON line when started, then answers `get <key>` lines on stdin with a JSON line each.
import { createInterface } from 'node:readline';
import { DhtNode } from '../../core/node';

const [dataDir, bootstrap] = process.argv.slice(2);
const node = DhtNode.create({
  host: '127.0.0.1',
  port: 0,
  dataDir,
  bootstrap: bootstrap ? bootstrap.split(',') : [],
  rpcTimeoutMs: 500,
  // Acknowledged records must be in the log; snapshots keep running alongside, as in real use.
  saveDebounceMs: 20,
});
const started = await node.start();
const out = (o: Record<string, unknown>): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);
out({
  event: 'ready',
  id: node.id,
  port: node.address.port,
  warnings: started.warnings,
  joinedVia: started.joinedVia,
  reached: started.join?.reached.length ?? 0,
  records: node.records.held().map((r) => r.key),
});
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'get') {
    try {
      const r = await node.records.get(arg);
      out({ event: 'got', key: arg, value: new TextDecoder().decode(r.value), from: r.from });
    } catch (e) {
      out({ event: 'got', key: arg, error: (e as Error).message });
    }
  }
}
await node.stop();
