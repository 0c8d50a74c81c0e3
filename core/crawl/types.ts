// The crawler's shapes: what a protocol hands it (CrawlClient) and what a crawl returns. Plain data
// with hex ids, so the hosts store and show them unchanged. Nothing here assumes an id length: every
// id's length comes from the bytes a node sent.
import type { Bep42Status } from '../protocols/mainline/bep42';
import type { Endpoint } from '../transport/types';

/** A node as an answer names it. */
export interface CrawlContact {
  id: Uint8Array;
  host: string;
  port: number;
}

/**
 * Facts that only some protocols carry, filled by that protocol's client: BEP 42 (Mainline: the id
 * derives from the node's IP), HyperDHT (the id is BLAKE2b-256 of the address it answers from).
 */
export interface CrawlFacts {
  /** Mainline: the id against the address the node answered from ('exempt': loopback, private, link-local). */
  bep42?: Bep42Status;
  idMatchesAddress?: boolean;
}

/** Reachable nodes per fact value; a fact no node carried is left out. */
export interface CrawlFactCounts {
  bep42?: Partial<Record<Bep42Status, number>>;
  idMatchesAddress?: { yes: number; no: number };
}

export interface CrawlAnswer {
  /** The responder's id, as it sent it. */
  id: Uint8Array;
  /** The nodes it returned. */
  nodes: CrawlContact[];
  rttMs: number;
  /** Client name and version, where the protocol carries one (Mainline's `v`). */
  client?: string;
  facts?: CrawlFacts;
}

/** A sample_infohashes answer (BEP 51): the responder's id and what it sampled; samples null when it sent none. */
export interface CrawlSampleAnswer {
  id: Uint8Array;
  samples: Uint8Array[] | null;
  /** The `num` it reported (how many infohashes it stores); null when it did not say. */
  num: number | null;
}

export interface CrawlRequestOptions {
  signal: AbortSignal;
  timeoutMs: number;
  /** Extra attempts after silence. */
  retries: number;
}

/**
 * What the crawler needs from a protocol: one find-node request to an address. A protocol's node
 * provides it (crawl/kadscope.ts for kadscope's own); the crawler does the rest.
 */
export interface CrawlClient {
  /** 'kadscope', 'mainline', 'hyperdht': stored with the crawl. */
  readonly protocol: string;
  /** Length of a random target for a node whose id we do not know yet (a bootstrap address). */
  readonly idBytes: number;
  /**
   * Whether the protocol lets our requests stay out of other nodes' routing tables (BEP 43
   * read-only, HyperDHT ephemeral). kadscope's wire v1 has no such flag: its crawler is an ordinary
   * short-lived node.
   */
  readonly readOnly: boolean;
  /** The crawling node's own id, when it has one: answers that name it are not counted as the network. */
  readonly selfId?: Uint8Array;
  findNode(to: Endpoint, target: Uint8Array, options: CrawlRequestOptions): Promise<CrawlAnswer>;
  /** The crawling node's own network-size estimate (routing-table density), for comparison. */
  estimateNetworkSize?(): number;
  /**
   * BEP 51 (Mainline): one sample_infohashes to an address. Absent where the protocol has none; the
   * crawler then asks nothing and leaves the samples figures out.
   */
  sampleInfohashes?(to: Endpoint, target: Uint8Array, options: CrawlRequestOptions): Promise<CrawlSampleAnswer>;
}

/**
 * What a reachable node said to sample_infohashes: `answered` (with samples), `not-supported`
 * (error 204, an answer without samples, or silence from a node that answers find_node:
 * bittorrent-dht ignores the query), `error` (any other error, or an answer from another id).
 */
export type CrawlSampleStatus = 'answered' | 'not-supported' | 'error';

export interface CrawlNodeSamples {
  status: CrawlSampleStatus;
  /** Infohashes in its answer (0 unless answered). */
  count: number;
  /** The `num` it reported (the infohashes it says it stores); null when it did not answer or did not say. */
  num: number | null;
}

/** The crawl's BEP 51 figures: reachable nodes asked and what they said, and the distinct infohashes seen. */
export interface CrawlSampleCounts {
  asked: number;
  answered: number;
  notSupported: number;
  error: number;
  /** Distinct infohashes in the answers (at most the crawl's maxInfohashes). */
  infohashes: number;
  /** More distinct infohashes arrived than the crawl keeps: `infohashes` is the cap, not the total. */
  capped: boolean;
}

/** Why a node counts as unreachable. */
export type CrawlFailure =
  /** No answer to any attempt. */
  | 'timeout'
  /** It answered with an error (rate limited, unknown method, ...). */
  | 'refused'
  /** Anything else: a send failure, an answer from another id than the one it was named with. */
  | 'error';

export type CrawlNodeStatus = 'reachable' | 'unreachable' | 'not-crawled';

export interface CrawledNode {
  /** Hex id; null for a bootstrap address that never answered. */
  id: string | null;
  host: string;
  port: number;
  /** Every `host:port` it was named with (the first is host:port), at most MAX_ADDRESSES_PER_NODE. */
  addresses: string[];
  status: CrawlNodeStatus;
  failure?: CrawlFailure;
  /** The last error's message, for an unreachable node. */
  error?: string;
  /** Lowest round-trip time of its answers, ms; null when it never answered. */
  rttMs: number | null;
  client: string | null;
  facts?: CrawlFacts;
  /** Indexes (into CrawlResult.nodes) of the distinct nodes it returned. */
  neighbours: number[];
  /** BEP 51: what it said to sample_infohashes; absent when it was not asked (unreachable, or a protocol without it). */
  samples?: CrawlNodeSamples;
  /** Requests sent to it (each may have had a retry). */
  requests: number;
  /** Clock ms when it was first named (or given as bootstrap). */
  foundAt: number;
}

export interface CrawlProgress {
  /** Nodes waiting to be crawled. */
  queued: number;
  /** Nodes being crawled right now. */
  active: number;
  /** Nodes crawled (reachable or not). */
  done: number;
  found: number;
  reachable: number;
  unreachable: number;
  requests: number;
  elapsedMs: number;
  /** Nodes crawled per second since the start. */
  ratePerSec: number;
}

export interface CrawlSummary {
  protocol: string;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  bootstrap: string[];
  /** Every distinct node named by an answer or given as bootstrap. */
  found: number;
  reachable: number;
  unreachable: number;
  /** Found but never asked (the crawl was cancelled or hit maxNodes). */
  notCrawled: number;
  requests: number;
  cancelled: boolean;
  /** maxNodes was reached: more nodes were named than the crawl kept. */
  truncated: boolean;
  /** Network size estimated from the density of the ids the crawl found. */
  sizeEstimate: number;
  /** The crawling node's own estimate from its routing table; null when the client has none. */
  nodeEstimate: number | null;
  /** Reachable nodes per client ('unknown' where the protocol carries no version). */
  clients: Record<string, number>;
  /** [neighbours returned, reachable nodes that returned that many], ascending. */
  neighbourCounts: Array<[number, number]>;
  /** Unreachable nodes per failure. */
  failures: Record<CrawlFailure, number>;
  /** Protocol facts over the reachable nodes (BEP 42 compliance, HyperDHT id-matches-address). */
  facts: CrawlFactCounts;
  /** BEP 51 figures; absent when the crawl asked no sample_infohashes (a protocol without it). */
  samples?: CrawlSampleCounts;
}

export interface CrawlResult extends CrawlSummary {
  nodes: CrawledNode[];
  /** BEP 51: the distinct infohashes the sample_infohashes answers carried (hex), at most maxInfohashes; absent when none was asked. */
  infohashes?: string[];
}
