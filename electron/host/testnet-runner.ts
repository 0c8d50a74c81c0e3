// The app's local testnet: a real UDP network on 127.0.0.1 that the user's node can join.
//
// Up to IN_PROCESS_TESTNET_MAX nodes run in the host's own thread: 64 idle nodes cost little, and
// keeping them in-process keeps start-up fast and simple. Larger testnets run in a worker thread
// (testnet-worker.ts): hundreds of nodes answering each other's lookups would otherwise delay the
// host's event loop, which serves the UI and the user's node.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { registerInfo } from '../../core/extensions/info';
import { createTestnet, type Testnet, type TestnetOptions } from '../../core/testnet';
import type { ProtocolChoice, TestnetStatus } from './contract';

export const IN_PROCESS_TESTNET_MAX = 64;
export const TESTNET_HOST = '127.0.0.1';
/** How long a worker may take to start or change its testnet before we give up on it. */
export const WORKER_REPLY_TIMEOUT_MS = 120_000;

export interface TestnetHandle {
  readonly inWorker: boolean;
  status(): TestnetStatus;
  add(count: number): Promise<void>;
  /** Returns the ids of the nodes stopped. */
  stopRandom(count: number): Promise<string[]>;
  /** Idempotent. */
  stop(): Promise<void>;
}

export const STOPPED_TESTNET: TestnetStatus = { running: false, protocol: null, transport: null, alive: 0, stopped: 0, bootstrap: [], inWorker: false, startedAt: null };

/**
 * createTestnet's options for the app's testnet in a protocol: kadscope nodes get the `kadscope.info`
 * method to try custom calls on; Mainline has no room for custom methods.
 */
export function appTestnetOptions(size: number, host: string, protocol: ProtocolChoice = 'kadscope'): TestnetOptions {
  return protocol === 'kadscope'
    ? { size, transport: 'udp', host, onNode: registerInfo }
    : { size, transport: 'udp', host, node: { protocol } };
}

export interface StartTestnetOptions {
  size: number;
  /** What its nodes speak (default kadscope). */
  protocol?: ProtocolChoice;
  /** Wall-clock ms for status.startedAt. */
  now: () => number;
  /** Force a worker (true) or the host thread (false); default by size. */
  inWorker?: boolean;
  /** Creates the worker; default: testnet-worker.js next to this file (built) or the .ts via tsx (dev). */
  spawnWorker?: (data: WorkerStart) => Worker;
}

export async function startTestnet(options: StartTestnetOptions): Promise<TestnetHandle> {
  const useWorker = options.inWorker ?? options.size > IN_PROCESS_TESTNET_MAX;
  const protocol = options.protocol ?? 'kadscope';
  if (!useWorker) return new InProcessTestnet(await createTestnet(appTestnetOptions(options.size, TESTNET_HOST, protocol)), options.now(), protocol);
  const worker = (options.spawnWorker ?? spawnTestnetWorker)({ size: options.size, host: TESTNET_HOST, protocol });
  const handle = new WorkerTestnet(worker);
  await handle.ready;
  return handle;
}

class InProcessTestnet implements TestnetHandle {
  readonly inWorker = false;
  private stopped = false;

  constructor(
    private readonly testnet: Testnet,
    private readonly startedAt: number,
    private readonly protocol: ProtocolChoice,
  ) {}

  status(): TestnetStatus {
    if (this.stopped) return { ...STOPPED_TESTNET };
    const alive = this.testnet.live().length;
    return {
      running: true,
      protocol: this.protocol,
      transport: 'udp',
      alive,
      stopped: this.testnet.nodes.length - alive,
      bootstrap: this.testnet.bootstrap,
      inWorker: false,
      startedAt: this.startedAt,
    };
  }

  async add(count: number): Promise<void> {
    await this.testnet.addNodes(count);
  }

  stopRandom(count: number): Promise<string[]> {
    return this.testnet.stopRandom(count);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.testnet.destroy();
  }
}

// ---- worker protocol ----

export interface WorkerStart {
  size: number;
  host: string;
  protocol?: ProtocolChoice;
}

export type WorkerRequest = { id: number; op: 'add'; count: number } | { id: number; op: 'stopRandom'; count: number } | { id: number; op: 'stop' };

/** id 0 is the start-up report. */
export type WorkerReply =
  | { id: number; ok: true; status: TestnetStatus; stoppedIds: string[] }
  | { id: number; ok: false; message: string; status: TestnetStatus };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

class WorkerTestnet implements TestnetHandle {
  readonly inWorker = true;
  readonly ready: Promise<void>;
  private last: TestnetStatus = { ...STOPPED_TESTNET, inWorker: true };
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: WorkerReply) => void; timer: ReturnType<typeof setTimeout> }>();
  private exited = false;
  private stopping: Promise<void> | null = null;

  constructor(private readonly worker: Worker) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.waiting.set(0, {
        resolve: (r) => (r.ok ? resolve() : reject(new Error(`the testnet worker failed to start: ${r.message}`))),
        timer: this.timeout(0),
      });
    });
    worker.on('message', (r: WorkerReply) => {
      this.last = r.status;
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      clearTimeout(w.timer);
      w.resolve(r);
    });
    const fail = (message: string): void => {
      this.exited = true;
      this.last = { ...STOPPED_TESTNET, inWorker: true };
      for (const [id, w] of this.waiting) {
        clearTimeout(w.timer);
        w.resolve({ id, ok: false, message, status: this.last });
      }
      this.waiting.clear();
    };
    worker.on('error', (e) => fail(`the testnet worker crashed: ${e.message}`));
    worker.on('exit', (code) => fail(`the testnet worker exited (code ${code})`));
  }

  status(): TestnetStatus {
    return { ...this.last };
  }

  async add(count: number): Promise<void> {
    await this.request({ op: 'add', count });
  }

  async stopRandom(count: number): Promise<string[]> {
    const r = await this.request({ op: 'stopRandom', count });
    return r.ok ? r.stoppedIds : [];
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.exited) await this.request({ op: 'stop' }).catch(() => undefined);
      await this.worker.terminate();
      this.last = { ...STOPPED_TESTNET, inWorker: true };
    })();
    return this.stopping;
  }

  private timeout(id: number): ReturnType<typeof setTimeout> {
    // Wall-clock timer on purpose: it guards a real thread, not protocol time. unref'd so it never holds the process.
    const t = setTimeout(() => {
      const w = this.waiting.get(id);
      if (!w) return;
      this.waiting.delete(id);
      w.resolve({ id, ok: false, message: `the testnet worker did not answer within ${WORKER_REPLY_TIMEOUT_MS} ms`, status: this.last });
    }, WORKER_REPLY_TIMEOUT_MS);
    t.unref();
    return t;
  }

  private request(req: DistributiveOmit<WorkerRequest, 'id'>): Promise<Extract<WorkerReply, { ok: true }>> {
    if (this.exited) return Promise.reject(new Error('the testnet worker is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: (r) => (r.ok ? resolve(r) : reject(new Error(r.message))), timer: this.timeout(id) });
      this.worker.postMessage({ ...req, id } as WorkerRequest);
    });
  }
}

/**
 * The built app ships testnet-worker.js beside the main bundle. From source (tsx, vitest) the worker
 * loads the .ts file through tsx's API: loader flags in execArgv do not reach worker threads on Node 20.
 */
function spawnTestnetWorker(data: WorkerStart): Worker {
  const js = new URL('./testnet-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData: data });
  const ts = new URL('./testnet-worker.ts', import.meta.url).href;
  // The ESM build of tsx's API (its exports map: "tsx/esm/api" -> import -> dist/esm/api/index.mjs).
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => m.tsImport(${JSON.stringify(ts)}, ${JSON.stringify(ts)}))`;
  return new Worker(boot, { eval: true, workerData: data });
}
