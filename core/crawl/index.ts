export { crawl, distributions, estimateSize, CRAWL_CONCURRENCY, CRAWL_REQUEST_TIMEOUT_MS, CRAWL_RETRIES, CRAWL_RATE_PER_ADDRESS, MAX_CRAWL_NODES, MAX_CRAWL_INFOHASHES, type CrawlOptions } from './crawler';
export { kadscopeCrawlClient, nodeCrawlClient } from './kadscope';
export type * from './types';
