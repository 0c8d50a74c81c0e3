// Wall time of the CLI's one-shot commands against bare process start, on a 20-node UDP testnet
// on 127.0.0.1 (in this process). Rounds are interleaved so load on the machine hits all alike.
//   node --import tsx test/bench/cli-times.ts [--rounds 10] [--bin electron/bin/kadscope.mjs]
// Each put and get is a fresh process with a fresh node that joins, as a script would run them; the
// nodes of earlier rounds have left, and stay in the testnet's tables as dead peers.
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createTestnet } from '../../core/testnet';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, bin: { type: 'string' }, size: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 10);
const SIZE = Number(values.size ?? 20);
const BIN = resolve(values.bin ?? 'electron/bin/kadscope.mjs');

function timed(args: string[]): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((ok, fail) => {
    execFile(process.execPath, args, { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${args.join(' ')}: ${err.message} ${stderr}`));
      else ok({ ms: performance.now() - t0, stdout });
    });
  });
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `${(q(0.5) / 1000).toFixed(2)} s [${(q(0.25) / 1000).toFixed(2)}–${(q(0.75) / 1000).toFixed(2)}]`;
}

const testnet = await createTestnet({ size: SIZE, transport: 'udp', host: '127.0.0.1' });
const bootstrap = testnet.bootstrap.join(',');
const rows: Record<string, number[]> = { 'node -e 0': [], 'kadscope put --help': [], 'kadscope put': [], 'kadscope get': [] };
try {
  for (let i = 0; i < ROUNDS; i++) {
    rows['node -e 0'].push((await timed(['-e', '0'])).ms);
    rows['kadscope put --help'].push((await timed([BIN, 'put', '--help'])).ms);
    const put = await timed([BIN, 'put', `cli-times ${process.pid} ${i}`, '--bootstrap', bootstrap, '--json']);
    rows['kadscope put'].push(put.ms);
    const key = (JSON.parse(put.stdout) as { key: string }).key;
    rows['kadscope get'].push((await timed([BIN, 'get', key, '--bootstrap', bootstrap])).ms);
  }
} finally {
  await testnet.destroy();
}
console.log(`${SIZE}-node UDP testnet on 127.0.0.1, ${ROUNDS} interleaved rounds, median [IQR]; load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')}`);
console.log('| command | wall time |\n| --- | ---: |');
for (const [name, xs] of Object.entries(rows)) console.log(`| \`${name}\` | ${stats(xs)} |`);
