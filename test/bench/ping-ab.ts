// Two builds' ping throughput side by side, in one process: `node --import tsx
// test/bench/ping-ab.ts <dirA> <dirB> [rounds]`, where each dir is a checkout of kadscope (the
// repository root, with its core/ and a node_modules/; for an older build, `git worktree add
// /tmp/base <rev> && ln -s "$PWD/node_modules" /tmp/base/node_modules`). Each build gets two
// nodes on 127.0.0.1 (rate limit off, as the ping workload runs them); the rounds alternate which
// build goes first, each a burst of PINGS pings with IN_FLIGHT outstanding. Prints each build's
// median rate and the median of the rounds' B/A ratios with its interquartile range.
//
// Printed, not written to results/. The second build in a process reads ~2% faster than the
// first on these machines, so run it twice with the builds swapped and take the geometric mean
// of B/A and 1/(A/B). This is how the ping changes of 95a262a..a9d4514 were measured; the ping
// goal itself is read from `npm run bench -- ping` (against dht-rpc, over the socket floor).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const PINGS = 2_000;
const IN_FLIGHT = 64;
const WARMUP_BURSTS = 3;
const MAX_ROUNDS = 400;
/** A burst that has not finished in this long means something is wrong; the probe stops. */
const BURST_TIMEOUT_MS = 60_000;

interface PingNode {
  address: { host: string; port: number };
  ping(to: { host: string; port: number }): Promise<unknown>;
}
interface Core {
  createTestnet(options: object): Promise<{ nodes: PingNode[]; destroy(): Promise<void> }>;
}

function usage(message: string): never {
  console.error(`${message}\nusage: node --import tsx test/bench/ping-ab.ts <dirA> <dirB> [rounds, default 40, at most ${MAX_ROUNDS}]`);
  process.exit(2);
}

const [dirA, dirB, roundsArg = '40'] = process.argv.slice(2);
if (dirA === undefined || dirB === undefined) usage('two checkouts to compare are needed');
const rounds = Number(roundsArg);
if (!Number.isInteger(rounds) || rounds < 2 || rounds > MAX_ROUNDS) usage(`rounds must be an integer 2..${MAX_ROUNDS}, got ${roundsArg}`);

async function loadCore(dir: string): Promise<Core> {
  const index = resolve(dir, 'core/index.ts');
  if (!existsSync(index)) usage(`${dir} has no core/index.ts: not a kadscope checkout`);
  const core = (await import(pathToFileURL(index).href)) as Partial<Core>;
  if (typeof core.createTestnet !== 'function') usage(`${index} exports no createTestnet()`);
  return core as Core;
}

async function pair(core: Core): Promise<{ burst: () => Promise<number>; destroy: () => Promise<void> }> {
  const net = await core.createTestnet({ size: 2, transport: 'udp', host: '127.0.0.1', node: { rateLimit: false } });
  const [a, b] = net.nodes;
  const to = { host: b.address.host, port: b.address.port };
  const burst = async (): Promise<number> => {
    let started = 0;
    const worker = async (): Promise<void> => {
      while (started < PINGS) {
        started++;
        await a.ping(to);
      }
    };
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`a burst of ${PINGS} pings took over ${BURST_TIMEOUT_MS} ms`)), BURST_TIMEOUT_MS);
    });
    try {
      await Promise.race([Promise.all(Array.from({ length: IN_FLIGHT }, worker)), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return (PINGS / (performance.now() - t0)) * 1000;
  };
  return { burst, destroy: () => net.destroy() };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.round(q * (s.length - 1))];
}

const a = await pair(await loadCore(dirA));
const b = await pair(await loadCore(dirB));
try {
  for (let i = 0; i < WARMUP_BURSTS; i++) {
    await a.burst();
    await b.burst();
  }
  const ratesA: number[] = [];
  const ratesB: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ra: number;
    let rb: number;
    if (r % 2 === 0) {
      ra = await a.burst();
      rb = await b.burst();
    } else {
      rb = await b.burst();
      ra = await a.burst();
    }
    ratesA.push(ra);
    ratesB.push(rb);
    ratios.push(rb / ra);
  }
  console.log(`A ${dirA}: ${quantile(ratesA, 0.5).toFixed(0)} pings/s`);
  console.log(`B ${dirB}: ${quantile(ratesB, 0.5).toFixed(0)} pings/s`);
  console.log(`B/A, paired by round: median ${quantile(ratios, 0.5).toFixed(3)} [${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)}] over ${rounds} rounds`);
} finally {
  await a.destroy();
  await b.destroy();
}
