// Small helpers the drivers share: free ports, bounded concurrency, waiting for a network to go quiet.
import dgram from 'node:dgram';

/** How long a freshly built network may take to finish its bootstrap traffic before we measure. */
const SETTLE_TIMEOUT_MS = 15_000;
const SETTLE_POLL_MS = 50;
/** Quiet polls in a row that count as settled (traffic can pause between two bursts). */
const SETTLE_QUIET_POLLS = 4;

/** A UDP port that was free a moment ago on `host` (for a node that must be told its own port). */
export function freeUdpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Runs fn(0..count-1) with at most `concurrency` running at once; rejects on the first failure. */
export async function runBounded(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/**
 * Waits until `quiet()` has held for a few polls in a row, or SETTLE_TIMEOUT_MS has passed (then the
 * network is measured as it is; the background traffic hits every lookup alike). Bounded either way.
 */
export async function settleUntil(quiet: () => boolean): Promise<boolean> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  let streak = 0;
  while (performance.now() < deadline) {
    streak = quiet() ? streak + 1 : 0;
    if (streak >= SETTLE_QUIET_POLLS) return true;
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
  }
  return false;
}
