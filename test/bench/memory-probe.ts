// Memory per node and build time, measured in a process of its own: `memory-probe.ts <system> <size>`
// builds one settled network and prints its heap and RSS growth and how long the build took as one
// JSON line. In the benchmark process the other systems' networks, allocator reuse and first-use
// costs (JIT, native modules) would leak into each other's figures; here each system starts from the
// same empty process, warmed by a tiny network first so the figure is the network's own.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MemoryDelta } from './harness';
import { measureMemory } from './harness';
import { allDrivers } from './drivers/index';

/** A throwaway network built first so code, JIT and native-module costs are not counted per node. */
const WARM_NODES = 4;
const PROBE_TIMEOUT_MS = 300_000;
const RESULT_PREFIX = 'memory-probe-result ';

export interface ProbeResult extends MemoryDelta {
  /** Wall time of createNetwork(size): the build and settle, alone in the process. */
  buildMs: number;
}

/** Runs the probe in a child process with the same node flags (--expose-gc, the tsx loader). */
export function probeMemory(system: string, size: number): Promise<ProbeResult> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...process.execArgv, script, system, String(size)],
      { timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
        if (line) return resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as ProbeResult);
        reject(new Error(`memory probe for ${system} failed: ${err?.message ?? ''} ${stderr.split('\n').slice(0, 3).join(' ')}`.trim()));
      },
    );
  });
}

async function probeMain(system: string, size: number): Promise<void> {
  const driver = allDrivers().find((d) => d.name === system);
  if (!driver) throw new Error(`no driver named ${system}`);
  const reason = await driver.unavailableReason();
  if (reason) throw new Error(reason);
  await (await driver.createNetwork(WARM_NODES)).destroy();
  let buildMs = 0;
  const { value: net, delta } = await measureMemory(async () => {
    const t0 = performance.now();
    const built = await driver.createNetwork(size);
    buildMs = performance.now() - t0;
    return built;
  });
  const result: ProbeResult = { ...delta, buildMs };
  console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
  await net.destroy();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [system, size] = process.argv.slice(2);
  probeMain(system, Number(size)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
