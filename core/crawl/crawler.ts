// Maps a whole network the way Nebula does: from bootstrap addresses, ask every node reached for the
// contents of each of its buckets (a find-node for a random target in the bucket's range), until no
// answer names a node we have not seen. Protocol-neutral: it talks to a CrawlClient (types.ts) and
// takes every id length from the bytes it is sent.
//
// Per node the buckets are asked in order from the farthest (0): an answer for bucket i holds the
// node's k closest to a target in that range. Once the node's table holds fewer than k entries at
// depth i and below, the answer for i already carries every one of them, so the answer for i + 1
// names nobody new: that is where we stop ("stopping when answers repeat"). A network of N nodes
// thus costs about log2(N / k) + 2 requests per node.
import { setMaxListeners } from 'node:events';
import { parseAddressList } from '../address';
import { systemClock, type Clock } from '../clock';
import { DhtError } from '../errors';
import { bytesToHex, cryptoRandomBytes, randomIdInBucket, type RandomBytes } from '../id';
import { endpointKey, type Endpoint } from '../transport/types';
import type {
  CrawlAnswer,
  CrawlClient,
  CrawlContact,
  CrawledNode,
  CrawlFactCounts,
  CrawlNodeSamples,
  CrawlSampleCounts,
  CrawlFailure,
  CrawlProgress,
  CrawlResult,
  CrawlSummary,
} from './types';

/** Nodes crawled at once. */
export const CRAWL_CONCURRENCY = 32;
/** Per-request timeout, ms (each attempt). */
export const CRAWL_REQUEST_TIMEOUT_MS = 2_000;
/** Attempts after silence, per request. */
export const CRAWL_RETRIES = 1;
/** Requests to one address per second, at most (the nodes' own limit is 200/s). */
export const CRAWL_RATE_PER_ADDRESS = 20;
/** Nodes a crawl keeps, at most; more named ones are counted as `truncated`. */
export const MAX_CRAWL_NODES = 1_000_000;
/** Progress events, at most one per this many clock ms (and one at the end). */
export const CRAWL_PROGRESS_INTERVAL_MS = 250;
/** Addresses kept per node. */
export const MAX_ADDRESSES_PER_NODE = 4;
/** After this many failed bucket requests in a row, a reachable node's remaining buckets are skipped. */
export const MAX_FAILURES_PER_NODE = 2;
/**
 * sample_infohashes requests that outlive their node's bucket walk, at most. A node that does not
 * implement BEP 51 is silent for the whole timeout (bittorrent-dht): holding a crawl slot for that
 * made a 100-node crawl 30 times slower, so the wait goes on beside the crawl, up to this many.
 */
export const MAX_DETACHED_SAMPLES = 256;
/** Distinct infohashes (BEP 51 samples) a crawl keeps, at most; more are counted as `capped`. */
export const MAX_CRAWL_INFOHASHES = 100_000;
/** Samples of the id density behind the crawl's size estimate. */
const SIZE_SAMPLES = 256;
/** Ids per density sample (the routing table's estimator uses k). */
const SIZE_WINDOW = 20;

export interface CrawlOptions {
  /** Addresses to start from (`host:port` strings or endpoints). */
  bootstrap: Array<string | Endpoint>;
  signal?: AbortSignal;
  concurrency?: number;
  timeoutMs?: number;
  retries?: number;
  ratePerAddress?: number;
  maxNodes?: number;
  /**
   * Ask each reachable node sample_infohashes once (BEP 51), where the client can (Mainline); default
   * true. One attempt, no retry: a node that does not implement it stays silent (bittorrent-dht).
   */
  samples?: boolean;
  maxInfohashes?: number;
  progressIntervalMs?: number;
  onProgress?: (p: CrawlProgress) => void;
  clock?: Clock;
  randomBytes?: RandomBytes;
}

interface Work {
  node: CrawledNode;
  index: number;
  idBytes: Uint8Array | null;
}

/** Crawls the network reachable from options.bootstrap. Rejects only for bad options (INVALID_ARGUMENT); a cancelled crawl resolves with what it found. */
export async function crawl(client: CrawlClient, options: CrawlOptions): Promise<CrawlResult> {
  const c = new Crawler(client, options);
  return c.run();
}

class Crawler {
  private readonly clock: Clock;
  private readonly rand: RandomBytes;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly intervalMs: number;
  private readonly maxNodes: number;
  private readonly progressMs: number;
  private readonly nodes: CrawledNode[] = [];
  private readonly work: Work[] = [];
  private readonly byId = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();
  private readonly queue: number[] = [];
  private queueHead = 0;
  private active = 0;
  private done = 0;
  private reachable = 0;
  private unreachable = 0;
  private requests = 0;
  private truncated = false;
  /** Bootstrap entries that turned out to be nodes known by id (not counted as found). */
  private aliases = 0;
  private startedAt = 0;
  private lastProgressAt = -Infinity;
  private readonly stop = new AbortController();
  private finish: (() => void) | null = null;
  private readonly bootstrapKeys: string[] = [];
  private readonly selfHex: string | null;
  /** BEP 51: asked where the client can and the options allow. */
  private readonly sampling: boolean;
  private readonly maxInfohashes: number;
  private readonly infohashes = new Set<string>();
  private infohashesCapped = false;
  /** sample_infohashes requests still waiting after their node's walk ended (MAX_DETACHED_SAMPLES). */
  private detachedSamples = 0;

  constructor(
    private readonly client: CrawlClient,
    private readonly options: CrawlOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.rand = options.randomBytes ?? cryptoRandomBytes;
    this.concurrency = positiveInt(options.concurrency ?? CRAWL_CONCURRENCY, 'concurrency');
    this.timeoutMs = positiveInt(options.timeoutMs ?? CRAWL_REQUEST_TIMEOUT_MS, 'timeoutMs');
    this.retries = nonNegativeInt(options.retries ?? CRAWL_RETRIES, 'retries');
    const rate = options.ratePerAddress ?? CRAWL_RATE_PER_ADDRESS;
    if (!(rate > 0)) throw DhtError.invalidArgument(`ratePerAddress must be > 0; got ${rate}`);
    this.intervalMs = 1000 / rate;
    this.maxNodes = positiveInt(options.maxNodes ?? MAX_CRAWL_NODES, 'maxNodes');
    this.progressMs = options.progressIntervalMs ?? CRAWL_PROGRESS_INTERVAL_MS;
    this.selfHex = client.selfId ? bytesToHex(client.selfId) : null;
    this.sampling = client.sampleInfohashes !== undefined && (options.samples ?? true);
    this.maxInfohashes = positiveInt(options.maxInfohashes ?? MAX_CRAWL_INFOHASHES, 'maxInfohashes');
    if (!Number.isInteger(client.idBytes) || client.idBytes < 1) throw DhtError.invalidArgument(`a crawl client's idBytes must be a positive integer; got ${client.idBytes}`);
  }

  async run(): Promise<CrawlResult> {
    this.startedAt = this.clock.now();
    // Every request in flight and every rate-limit wait listens on it.
    setMaxListeners(0, this.stop.signal);
    const parsed = parseAddressList(this.options.bootstrap.map((a) => (typeof a === 'string' ? a : endpointKey(a))));
    if (!parsed.ok) throw DhtError.invalidArgument(parsed.message);
    if (parsed.value.length === 0) throw DhtError.invalidArgument('a crawl needs at least one bootstrap address (host:port)');
    for (const e of parsed.value) {
      const key = endpointKey(e);
      this.bootstrapKeys.push(key);
      if (!this.byAddress.has(key)) this.add(null, e.host, e.port);
    }
    const outer = this.options.signal;
    const onAbort = (): void => this.stop.abort(DhtError.aborted(outer?.reason));
    if (outer?.aborted) onAbort();
    else outer?.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve) => {
        this.finish = resolve;
        this.pump();
      });
    } finally {
      outer?.removeEventListener('abort', onAbort);
    }
    this.progress(true);
    return this.result();
  }

  /** Starts nodes while there is room; resolves the run when nothing is queued or running. */
  private pump(): void {
    while (!this.stop.signal.aborted && this.active < this.concurrency && this.queueHead < this.queue.length) {
      const i = this.queue[this.queueHead++];
      this.active++;
      void this.crawlNode(this.work[i]).finally(() => {
        this.active--;
        this.done++;
        this.progress(false);
        this.pump();
      });
    }
    // Drop the consumed head now and then so a long crawl's queue does not keep every index.
    if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (this.active === 0 && this.detachedSamples === 0 && (this.queueHead >= this.queue.length || this.stop.signal.aborted)) this.finish?.();
  }

  private add(idBytes: Uint8Array | null, host: string, port: number): number {
    if (this.nodes.length >= this.maxNodes) {
      this.truncated = true;
      return -1;
    }
    const key = endpointKey({ host, port });
    const node: CrawledNode = {
      id: idBytes ? bytesToHex(idBytes) : null,
      host,
      port,
      addresses: [key],
      status: 'not-crawled',
      rttMs: null,
      client: null,
      neighbours: [],
      requests: 0,
      foundAt: this.clock.now(),
    };
    const index = this.nodes.length;
    this.nodes.push(node);
    this.work.push({ node, index, idBytes });
    if (node.id !== null) this.byId.set(node.id, index);
    if (!this.byAddress.has(key)) this.byAddress.set(key, index);
    this.queue.push(index);
    return index;
  }

  /** The index of a named contact, adding it (and queueing it) when it is new; -1 past maxNodes. */
  private discover(c: CrawlContact): number {
    const id = bytesToHex(c.id);
    if (id === this.selfHex) return -1;
    const known = this.byId.get(id);
    if (known !== undefined) {
      const node = this.nodes[known];
      const key = endpointKey(c);
      if (node.addresses.length < MAX_ADDRESSES_PER_NODE && !node.addresses.includes(key)) node.addresses.push(key);
      return known;
    }
    return this.add(c.id, c.host, c.port);
  }

  private async crawlNode(w: Work): Promise<void> {
    const node = w.node;
    const to = { host: node.host, port: node.port };
    const seen = new Set<number>();
    let answered = false;
    let failuresInRow = 0;
    let lastError: DhtError | null = null;
    let lastSentAt = -Infinity;
    // Set inside take() (a closure): typed by assertion so the checks below are not narrowed to null.
    let sampling = null as Promise<void> | null;
    /** Per-address rate: requests to one node are spaced by the interval (a slot is reserved before the wait, as the sample runs beside the walk). */
    const slot = async (): Promise<boolean> => {
      const now = this.clock.now();
      const at = Math.max(now, lastSentAt + this.intervalMs);
      lastSentAt = at;
      if (at > now) await delay(this.clock, at - now, this.stop.signal);
      return !this.stop.signal.aborted;
    };
    const ask = async (target: Uint8Array): Promise<CrawlAnswer | null> => {
      if (!(await slot())) return null;
      node.requests++;
      this.requests++;
      try {
        const a = await this.client.findNode(to, target, { signal: this.stop.signal, timeoutMs: this.timeoutMs, retries: this.retries });
        failuresInRow = 0;
        return a;
      } catch (err) {
        lastError = err instanceof DhtError ? err : new DhtError('INTERNAL', err instanceof Error ? err.message : String(err));
        failuresInRow++;
        return null;
      }
    };
    /** Records an answer; returns how many nodes it named that this node had not named before, or -1 if it is not the node we asked. */
    const take = (a: CrawlAnswer): number => {
      const id = bytesToHex(a.id);
      if (w.idBytes === null) {
        // A bootstrap address: its first answer tells us who it is.
        const other = this.byId.get(id);
        if (other !== undefined) {
          // Already named by someone else under this id: that entry is the node; this one is an alias.
          const o = this.nodes[other];
          if (o.addresses.length < MAX_ADDRESSES_PER_NODE && !o.addresses.includes(node.addresses[0])) o.addresses.push(node.addresses[0]);
          return -2;
        }
        w.idBytes = a.id;
        node.id = id;
        this.byId.set(id, w.index);
      } else if (id !== node.id) {
        lastError = new DhtError('PROTOCOL', `answered with id ${id.slice(0, 16)}… instead of ${node.id!.slice(0, 16)}…`);
        return -1;
      }
      if (!answered && this.sampling) sampling = this.sample(node, to, w.idBytes.length, slot);
      answered = true;
      node.rttMs = node.rttMs === null ? a.rttMs : Math.min(node.rttMs, a.rttMs);
      if (a.client !== undefined && node.client === null) node.client = a.client;
      if (a.facts !== undefined && node.facts === undefined) node.facts = a.facts;
      let fresh = 0;
      for (const c of a.nodes) {
        if (c.id.length !== w.idBytes.length) continue;
        const j = this.discover(c);
        if (j < 0 || this.nodes[j] === node || seen.has(j)) continue;
        seen.add(j);
        fresh++;
      }
      return fresh;
    };

    if (w.idBytes === null) {
      const a = await ask(this.rand(this.client.idBytes));
      if (a === null) return this.settle(node, answered, lastError, seen);
      const r = take(a);
      if (r === -2) {
        // An alias of a node crawled under its id: nothing more to ask here.
        this.dropAlias(node);
        return;
      }
      if (r === -1) return this.settle(node, answered, lastError, seen);
    }
    const id = w.idBytes!;
    const bits = id.length * 8;
    for (let bucket = 0; bucket < bits && !this.stop.signal.aborted; bucket++) {
      const a = await ask(randomIdInBucket(id, bucket, this.rand));
      if (a === null) {
        if (!answered || failuresInRow >= MAX_FAILURES_PER_NODE) break;
        continue;
      }
      const fresh = take(a);
      if (fresh === -1) break;
      // The first bucket answer cannot repeat anything asked of this node; from the second on, one
      // that names nobody new means the deeper buckets hold nothing the answers have not carried.
      if (fresh === 0 && bucket > 0) break;
    }
    if (sampling !== null) {
      if (this.detachedSamples < MAX_DETACHED_SAMPLES) {
        // The crawl ends only when it is done too (pump).
        this.detachedSamples++;
        void sampling.finally(() => {
          this.detachedSamples--;
          this.pump();
        });
      } else await sampling;
    }
    this.settle(node, answered, lastError, seen);
  }

  /** BEP 51: one sample_infohashes to a node that answered, beside its bucket walk; never rejects. */
  private async sample(node: CrawledNode, to: Endpoint, idBytes: number, slot: () => Promise<boolean>): Promise<void> {
    if (!(await slot())) return;
    node.requests++;
    this.requests++;
    let samples: CrawlNodeSamples;
    try {
      const a = await this.client.sampleInfohashes!(to, this.rand(idBytes), { signal: this.stop.signal, timeoutMs: this.timeoutMs, retries: 0 });
      if (node.id !== null && bytesToHex(a.id) !== node.id) samples = { status: 'error', count: 0, num: null };
      else if (a.samples === null) samples = { status: 'not-supported', count: 0, num: a.num };
      else {
        samples = { status: 'answered', count: a.samples.length, num: a.num };
        for (const h of a.samples) {
          const hex = bytesToHex(h);
          if (this.infohashes.has(hex)) continue;
          if (this.infohashes.size >= this.maxInfohashes) this.infohashesCapped = true;
          else this.infohashes.add(hex);
        }
      }
    } catch (err) {
      const code = err instanceof DhtError ? err.code : 'INTERNAL';
      // Cancelled: not asked after all.
      if (code === 'ABORTED' || code === 'STOPPED') return;
      samples = { status: code === 'UNKNOWN_METHOD' || code === 'TIMEOUT' ? 'not-supported' : 'error', count: 0, num: null };
    }
    node.samples = samples;
  }

  private settle(node: CrawledNode, answered: boolean, lastError: DhtError | null, seen: Set<number>): void {
    node.neighbours = [...seen];
    if (answered) {
      node.status = 'reachable';
      this.reachable++;
      return;
    }
    if (this.stop.signal.aborted && (lastError === null || lastError.code === 'ABORTED' || lastError.code === 'STOPPED')) {
      node.status = 'not-crawled';
      return;
    }
    node.status = 'unreachable';
    node.failure = failureOf(lastError);
    node.error = lastError?.message ?? 'no answer';
    this.unreachable++;
  }

  /** A bootstrap address that turned out to be a node already known by id: not a node of its own. */
  private dropAlias(node: CrawledNode): void {
    node.status = 'not-crawled';
    node.id = '';
    this.aliases++;
  }

  private progress(final: boolean): void {
    const cb = this.options.onProgress;
    if (!cb) return;
    const now = this.clock.now();
    if (!final && now - this.lastProgressAt < this.progressMs) return;
    this.lastProgressAt = now;
    cb(this.snapshotProgress(now));
  }

  private snapshotProgress(now: number): CrawlProgress {
    const elapsedMs = now - this.startedAt;
    return {
      queued: this.queue.length - this.queueHead,
      active: this.active,
      done: this.done,
      found: this.nodes.length - this.aliases,
      reachable: this.reachable,
      unreachable: this.unreachable,
      requests: this.requests,
      elapsedMs,
      ratePerSec: elapsedMs > 0 ? (this.done * 1000) / elapsedMs : 0,
    };
  }

  private result(): CrawlResult {
    // Aliases (bootstrap addresses of nodes known by id) leave the list; neighbour indexes follow.
    const keep = new Int32Array(this.nodes.length).fill(-1);
    const nodes: CrawledNode[] = [];
    this.nodes.forEach((n, i) => {
      if (n.id === '') return;
      keep[i] = nodes.length;
      nodes.push(n);
    });
    if (nodes.length !== this.nodes.length) {
      for (const n of nodes) n.neighbours = n.neighbours.map((j) => keep[j]).filter((j) => j >= 0);
    }
    const endedAt = this.clock.now();
    const summary: CrawlSummary = {
      protocol: this.client.protocol,
      startedAt: this.startedAt,
      endedAt,
      durationMs: endedAt - this.startedAt,
      bootstrap: this.bootstrapKeys,
      found: nodes.length,
      reachable: this.reachable,
      unreachable: this.unreachable,
      notCrawled: nodes.length - this.reachable - this.unreachable,
      requests: this.requests,
      cancelled: this.stop.signal.aborted,
      truncated: this.truncated,
      sizeEstimate: estimateSize(nodes),
      nodeEstimate: this.client.estimateNetworkSize?.() ?? null,
      ...distributions(nodes),
    };
    if (!this.sampling) return { ...summary, nodes };
    summary.samples = sampleCounts(nodes, this.infohashes.size, this.infohashesCapped);
    return { ...summary, nodes, infohashes: [...this.infohashes] };
  }
}

function sampleCounts(nodes: readonly CrawledNode[], infohashes: number, capped: boolean): CrawlSampleCounts {
  const c: CrawlSampleCounts = { asked: 0, answered: 0, notSupported: 0, error: 0, infohashes, capped };
  for (const n of nodes) {
    const s = n.samples?.status;
    if (s === undefined) continue;
    c.asked++;
    if (s === 'answered') c.answered++;
    else if (s === 'not-supported') c.notSupported++;
    else c.error++;
  }
  return c;
}

function failureOf(err: DhtError | null): CrawlFailure {
  if (err === null || err.code === 'TIMEOUT') return 'timeout';
  if (err.wireCode !== undefined) return 'refused';
  return 'error';
}

/** Client, neighbour-count and failure distributions of a crawl's nodes. */
export function distributions(nodes: readonly CrawledNode[]): Pick<CrawlSummary, 'clients' | 'neighbourCounts' | 'failures' | 'facts'> {
  const clients: Record<string, number> = {};
  const counts = new Map<number, number>();
  const failures: Record<CrawlFailure, number> = { timeout: 0, refused: 0, error: 0 };
  const facts: CrawlFactCounts = {};
  for (const n of nodes) {
    if (n.status === 'reachable') {
      const c = n.client ?? 'unknown';
      clients[c] = (clients[c] ?? 0) + 1;
      counts.set(n.neighbours.length, (counts.get(n.neighbours.length) ?? 0) + 1);
      const f = n.facts;
      if (f?.bep42 !== undefined) (facts.bep42 ??= {})[f.bep42] = (facts.bep42?.[f.bep42] ?? 0) + 1;
      if (f?.idMatchesAddress !== undefined) (facts.idMatchesAddress ??= { yes: 0, no: 0 })[f.idMatchesAddress ? 'yes' : 'no']++;
    } else if (n.status === 'unreachable' && n.failure) failures[n.failure]++;
  }
  return { clients, neighbourCounts: [...counts].sort((a, b) => a[0] - b[0]), failures, facts };
}

/**
 * The network size the crawl's ids imply: at sampled points of the sorted id list, SIZE_WINDOW ids
 * span a fraction f of the id space, so the space holds about SIZE_WINDOW / f. The median of the
 * samples. On a complete crawl this agrees with the count found; the node's own estimator sees only
 * the ids near it.
 */
export function estimateSize(nodes: readonly CrawledNode[]): number {
  const fr: number[] = [];
  for (const n of nodes) if (n.id && n.status === 'reachable') fr.push(idFraction(n.id));
  const m = fr.length;
  if (m <= SIZE_WINDOW) return m;
  fr.sort((a, b) => a - b);
  const samples: number[] = [];
  const step = Math.max(1, Math.floor(m / SIZE_SAMPLES));
  for (let i = 0; i < m; i += step) {
    const j = i + SIZE_WINDOW;
    const span = j < m ? fr[j] - fr[i] : fr[j - m] + 1 - fr[i];
    if (span > 0) samples.push(SIZE_WINDOW / span);
  }
  if (samples.length === 0) return m;
  samples.sort((a, b) => a - b);
  return Math.round(samples[samples.length >> 1]);
}

/** The first 52 bits of a hex id as a fraction of the id space. */
function idFraction(hex: string): number {
  return parseInt(hex.slice(0, 13).padEnd(13, '0'), 16) / 2 ** 52;
}

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw DhtError.invalidArgument(`${what} must be a positive integer; got ${v}`);
  return v;
}

function nonNegativeInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0) throw DhtError.invalidArgument(`${what} must be a non-negative integer; got ${v}`);
  return v;
}

function delay(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clock.clearTimeout(t);
      resolve();
    };
    const t = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
