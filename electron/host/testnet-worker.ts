// Runs a local UDP testnet inside a worker thread, so hundreds of nodes answering each other do not
// compete with the host's event loop (which serves the UI). The parent talks to it with the small
// request/reply protocol in testnet.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { createTestnet, type Testnet } from '../../core/testnet';
import type { TestnetStatus } from './contract';
import { appTestnetOptions, type WorkerReply, type WorkerRequest, type WorkerStart } from './testnet-runner';

const port = parentPort;
if (!port) throw new Error('testnet-worker.ts runs only as a worker thread');

const start = workerData as WorkerStart;
let testnet: Testnet | null = null;
const startedAt = Date.now();

function status(): TestnetStatus {
  const live = testnet?.live().length ?? 0;
  return {
    running: testnet !== null,
    protocol: testnet !== null ? (start.protocol ?? 'kadscope') : null,
    transport: 'udp',
    alive: live,
    stopped: (testnet?.nodes.length ?? 0) - live,
    bootstrap: testnet?.bootstrap ?? [],
    inWorker: true,
    startedAt,
  };
}

const reply = (r: WorkerReply): void => port.postMessage(r);

port.on('message', (req: WorkerRequest) => {
  void (async () => {
    try {
      if (!testnet) throw new Error('the testnet is not running');
      let stoppedIds: string[] = [];
      if (req.op === 'add') await testnet.addNodes(req.count);
      else if (req.op === 'stopRandom') stoppedIds = await testnet.stopRandom(req.count);
      else if (req.op === 'stop') {
        await testnet.destroy();
        testnet = null;
      }
      reply({ id: req.id, ok: true, status: status(), stoppedIds });
      if (req.op === 'stop') port.close();
    } catch (e) {
      reply({ id: req.id, ok: false, message: (e as Error).message, status: status() });
    }
  })();
});

createTestnet(appTestnetOptions(start.size, start.host, start.protocol)).then(
  (t) => {
    testnet = t;
    reply({ id: 0, ok: true, status: status(), stoppedIds: [] });
  },
  (e: Error) => reply({ id: 0, ok: false, message: e.message, status: status() }),
);
