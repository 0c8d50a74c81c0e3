// kadscope benchmarks beside dht-rpc and bittorrent-dht, in one run (a fresh process per workload, all systems together in it).
//
//   node --expose-gc --import tsx test/bench/run.ts [workload...]      (npm run bench -- <workload>)
//   node --import tsx test/bench/run.ts --render                       (latest.json -> latest.md only)
//
// With no workload named, every implemented one runs. Each prints a markdown table and writes
// test/bench/results/<workload>-<YYYY-MM-DD>.json, and merges itself into results/latest.json;
// results/latest.md (report.ts) is rendered from latest.json at the end.
//
// When more than one workload runs, each runs in a fresh child process (this file again, with the
// same Node flags), one after the other, so no workload starts from the heap, compiled code and
// closed sockets of the thousands of nodes before it. Inside a workload the systems still share
// one process, interleaved.
// Loopback only; every loop is bounded; the process exits when the last workload is done.
import { spawn } from 'node:child_process';
import type { SystemDriver, WorkloadResult } from './harness';
import { markdownTable, writeResult } from './harness';
import { allDrivers, networkDiagnostics } from './drivers/index';
import { kadscopeDriver } from './drivers/kadscope';
import { renderLatest } from './report';
import { LOOKUP_DEFAULTS, runLookupWorkload } from './workloads/lookup';
import { PING_DEFAULTS, runPingWorkload } from './workloads/ping';
import { CODEC_DEFAULTS, runCodecWorkload } from './workloads/codec';
import { PUT_GET_DEFAULTS, runPutGetWorkload } from './workloads/put-get';
import { SCALE_MEMORY_DEFAULTS, runScaleMemoryWorkload } from './workloads/scale-memory';
import { METRICS_COST_DEFAULTS, runMetricsCostWorkload } from './workloads/metrics-cost';
import { HYPERDHT_DEFAULTS, runHyperdhtWorkload } from './workloads/hyperdht';

type Runner = (drivers: SystemDriver[], command: string) => Promise<WorkloadResult | null>;

function lookupRunner(size: number): Runner {
  return (drivers, command) =>
    runLookupWorkload(`lookup-${size}`, drivers, { size, ...LOOKUP_DEFAULTS, diagnostics: networkDiagnostics }, command);
}

/** Renders results/latest.json into results/latest.md without running anything. */
const RENDER_FLAG = '--render';
/** Set in a workload's child process: the command to record (the parent's, e.g. `npm run bench`). */
const COMMAND_ENV = 'KADSCOPE_BENCH_COMMAND';

/** Runs one workload in a fresh process with this process's Node flags; resolves with its exit code. */
function runInChild(name: string, command: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], name], {
      stdio: 'inherit',
      env: { ...process.env, [COMMAND_ENV]: command },
    });
    child.on('error', (err) => {
      console.error(`could not start the ${name} workload: ${err.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Every workload, in the order a full run takes them. */
const WORKLOADS: Record<string, Runner> = {
  'lookup-100': lookupRunner(100),
  'lookup-500': lookupRunner(500),
  // kadscope on udx-native (dht-rpc's socket) and on node:dgram beside the product's default (its
  // native binding), so the table shows what the protocol costs on each.
  ping: (drivers, command) =>
    runPingWorkload([drivers[0], kadscopeDriver({ socketLayer: 'udx' }), kadscopeDriver({ socketLayer: 'dgram' }), ...drivers.slice(1)], PING_DEFAULTS, command),
  codec: (drivers, command) => runCodecWorkload(drivers, CODEC_DEFAULTS, command),
  'put-get': (drivers, command) => runPutGetWorkload(drivers, { ...PUT_GET_DEFAULTS, diagnostics: networkDiagnostics }, command),
  'scale-memory': (drivers, command) => runScaleMemoryWorkload(drivers, SCALE_MEMORY_DEFAULTS, command),
  'metrics-cost': (_drivers, command) => runMetricsCostWorkload(METRICS_COST_DEFAULTS, command),
  'hyperdht-500': (_drivers, command) => runHyperdhtWorkload(HYPERDHT_DEFAULTS, command),
  'mainline-500': async (_drivers, command) => {
    const { MAINLINE_DEFAULTS, runMainlineWorkload } = await import('./workloads/mainline');
    return runMainlineWorkload(MAINLINE_DEFAULTS, command);
  },
  'explorer-cost': async (_drivers, command) => {
    const { EXPLORER_COST_DEFAULTS, runExplorerCostWorkload } = await import('./workloads/explorer-cost');
    return runExplorerCostWorkload(EXPLORER_COST_DEFAULTS, command);
  },
  crawl: async (_drivers, command) => {
    const { CRAWL_BENCH_DEFAULTS, runCrawlWorkload } = await import('./workloads/crawl');
    return runCrawlWorkload(CRAWL_BENCH_DEFAULTS, command);
  },
  // Loaded on demand: it pulls in the web host and Playwright, which the DHT workloads do not need.
  'ui-frames': async (_drivers, command) => {
    const { UI_FRAMES_DEFAULTS, runUiFramesWorkload } = await import('./workloads/ui-frames');
    return runUiFramesWorkload(UI_FRAMES_DEFAULTS, command);
  },
};

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes(RENDER_FLAG)) {
    if (argv.length > 1) {
      console.error(`${RENDER_FLAG} takes no workloads: it renders results/latest.json as it is`);
      return 2;
    }
    console.log(`wrote ${await renderLatest()}`);
    return 0;
  }
  const args = argv;
  const unknown = args.filter((a) => !(a in WORKLOADS));
  if (unknown.length) {
    console.error(`unknown workload ${unknown.map((u) => JSON.stringify(u)).join(', ')}; choose from: ${Object.keys(WORKLOADS).join(', ')}`);
    return 2;
  }
  if (typeof globalThis.gc !== 'function') {
    console.log('note: run with node --expose-gc for memory figures without garbage in them');
  }
  const names = args.length ? args : Object.keys(WORKLOADS);
  const command = process.env[COMMAND_ENV] ?? `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
  if (names.length > 1) {
    let failed = 0;
    for (const name of names) {
      const code = await runInChild(name, command);
      if (code !== 0) {
        failed++;
        console.error(`workload ${name} exited with code ${code}`);
      }
    }
    console.log(`wrote ${await renderLatest()}`);
    return failed > 0 ? 1 : 0;
  }
  const drivers = allDrivers();

  for (const name of names) {
    console.log(`\n## ${name}`);
    const result = await WORKLOADS[name](drivers, command);
    if (!result) continue;
    console.log(`\n${markdownTable(result)}\n`);
    const { file } = await writeResult(result);
    console.log(`wrote ${file}`);
  }
  console.log(`wrote ${await renderLatest()}`);
  return 0;
}

main().then(
  // Peer libraries can leave handles behind (network-interface watchers, unref'd timers); a
  // benchmark run ends when its last workload does.
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
