// The host's side of crawls: one crawl at a time with the user's node, progress published as
// 'crawl' events, each finished (or cancelled) crawl stored in the data directory's history.
import { crawl, kadscopeCrawlClient, type CrawlClient, type CrawlProgress } from '../../core/crawl';
import type { DhtNode } from '../../core/node';
import { openCrawlClient } from './crawl-clients';
import type { ArgsOut, CrawlComparisonDto, CrawlDetailDto, CrawlStatus, CrawlSummaryDto, ErrorCode, ExplorerEvent } from './contract';
import { CrawlStore, CrawlStoreError } from './crawl-store';

/** Peers of the node's routing table a crawl starts from when no bootstrap is given. */
const BOOTSTRAP_FROM_TABLE = 8;

export interface CrawlServiceDeps {
  dataDir: string | null;
  node: () => DhtNode;
  /** The testnet's bootstrap addresses, if one runs. */
  testnetBootstrap: () => string[];
  publish: (e: ExplorerEvent) => void;
  fail: (code: ErrorCode, message: string) => Error;
}

export class CrawlService {
  private readonly store: CrawlStore | null;
  private running: AbortController | null = null;
  private status: Omit<CrawlStatus, 'nodeProtocol'> = { running: false, progress: null, lastId: null, error: null };
  private finished: Promise<void> = Promise.resolve();

  constructor(private readonly deps: CrawlServiceDeps) {
    this.store = deps.dataDir !== null ? new CrawlStore(deps.dataDir) : null;
  }

  get current(): CrawlStatus {
    return { ...this.status, nodeProtocol: this.deps.node().protocol.name };
  }

  start(args: ArgsOut<'crawlStart'>): CrawlStatus {
    const store = this.history();
    if (this.running) throw this.deps.fail('CONFLICT', 'a crawl is running; cancel it or wait for it to finish');
    const node = this.deps.node();
    const own = node.protocol.name;
    const protocol = args.protocol ?? own;
    // The testnet and the node's table speak the node's protocol: another one needs addresses of its own.
    if (protocol !== own && !args.bootstrap)
      throw this.deps.fail('INVALID_ARGUMENT', `crawling ${protocol} needs bootstrap addresses of ${protocol} nodes: the testnet and your node's routing table speak ${own}`);
    const bootstrap = args.bootstrap ?? this.defaultBootstrap(node);
    if (bootstrap.length === 0) throw this.deps.fail('INVALID_ARGUMENT', 'nothing to start a crawl from: give bootstrap addresses, start the testnet or join a network');
    const ac = new AbortController();
    this.running = ac;
    this.update({ running: true, progress: null, error: null });
    this.finished = (async () => {
      // The node's own protocol crawls with the node; another from a crawling node of that protocol
      // on the node's interface, stopped when the crawl ends.
      let client: CrawlClient;
      let close = async (): Promise<void> => undefined;
      try {
        if (protocol === own) client = kadscopeCrawlClient(node);
        else {
          const opened = await openCrawlClient(protocol, { host: node.address.host });
          client = opened.client;
          close = () => opened.close();
        }
        const result = await crawl(client, {
          bootstrap,
          signal: ac.signal,
          onProgress: (p: CrawlProgress) => this.update({ progress: p }),
        });
        const id = await store.save(result);
        this.update({ running: false, lastId: id });
      } catch (e) {
        this.update({ running: false, error: e instanceof Error ? e.message : String(e) });
      } finally {
        await close().catch(() => undefined);
        this.running = null;
      }
    })();
    return this.current;
  }

  async cancel(): Promise<CrawlStatus> {
    this.running?.abort();
    await this.finished;
    return this.current;
  }

  /** Cancels a running crawl and waits for it to be stored. */
  async stop(): Promise<void> {
    await this.cancel();
  }

  list(): Promise<CrawlSummaryDto[]> {
    return this.guard(() => this.history().list());
  }

  async get(id: number): Promise<CrawlDetailDto> {
    return this.guard(async () => {
      const store = this.history();
      const crawl = await store.get(id);
      if (!crawl) throw this.deps.fail('NOT_FOUND', `no crawl ${id} in the history`);
      return { crawl, nodes: await store.nodes(id) };
    });
  }

  compare(from: number, to: number): Promise<CrawlComparisonDto> {
    return this.guard(() => this.history().compare(from, to));
  }

  private defaultBootstrap(node: DhtNode): string[] {
    const t = this.deps.testnetBootstrap();
    if (t.length > 0) return t;
    return node.table
      .entries()
      .slice(0, BOOTSTRAP_FROM_TABLE)
      .map((e) => (e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`));
  }

  private history(): CrawlStore {
    if (!this.store) throw this.deps.fail('UNAVAILABLE', 'crawl history needs a data directory; this host keeps everything in memory');
    return this.store;
  }

  /** A refused history file becomes a CORRUPT_FILE error with the store's message (where it was moved). */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof CrawlStoreError) throw this.deps.fail(e.movedTo ? 'CORRUPT_FILE' : 'UNAVAILABLE', e.message);
      throw e;
    }
  }

  private update(change: Partial<Omit<CrawlStatus, 'nodeProtocol'>>): void {
    this.status = { ...this.status, ...change };
    this.deps.publish({ type: 'crawl', status: this.current });
  }
}
