// npm run soak [-- --datagrams N --max-minutes M --seed S --senders N --rate-limit]
//
// Sends a live node on 127.0.0.1 a million random and mutated datagrams (bounded in count and in
// time), prints progress and a summary, and writes the figures to test/bench/results/soak-<date>.json.
// Exit code 0 when every check passed, 1 otherwise, 2 for a bad option.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';
import { fmtMb, runSoak, type SoakOptions } from './soak';

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'results');
const DEFAULTS = { datagrams: 1_000_000, maxMinutes: 10, seed: 0x50a6, senders: 8 };

function parse(argv: string[]): SoakOptions {
  const o: SoakOptions = { datagrams: DEFAULTS.datagrams, maxMs: DEFAULTS.maxMinutes * 60_000, seed: DEFAULTS.seed, senders: DEFAULTS.senders };
  const num = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min || n > max) {
      process.stderr.write(`soak: ${flag} needs a number ${min}-${max}; got ${v ?? 'nothing'}\n`);
      process.exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--datagrams') o.datagrams = Math.floor(num(a, argv[++i], 1, 100_000_000));
    else if (a === '--max-minutes') o.maxMs = num(a, argv[++i], 0.01, 600) * 60_000;
    else if (a === '--seed') o.seed = Math.floor(num(a, argv[++i], 0, 2 ** 31));
    else if (a === '--senders') o.senders = Math.floor(num(a, argv[++i], 1, 256));
    else if (a === '--rate-limit') o.rateLimit = true;
    else {
      process.stderr.write(`soak: unknown option ${a}\nusage: npm run soak -- [--datagrams N] [--max-minutes M] [--seed S] [--senders N] [--rate-limit]\n`);
      process.exit(2);
    }
  }
  return o;
}

const options = parse(process.argv.slice(2));
process.stdout.write(
  `soak: ${options.datagrams.toLocaleString('en')} hostile datagrams from ${options.senders} sockets to a node on 127.0.0.1 ` +
    `(seed ${options.seed}, at most ${(options.maxMs / 60_000).toFixed(1)} min, rate limits ${options.rateLimit ? 'on' : 'off'})\n`,
);
const result = await runSoak({
  ...options,
  onProgress: (p) =>
    process.stdout.write(
      `  ${p.sent.toLocaleString('en').padStart(11)} / ${p.total.toLocaleString('en')}  ${String(p.perSecond).padStart(6)}/s  ` +
        `heap ${fmtMb(p.heapUsedBytes).padStart(8)}  dropped ${p.dropped.toLocaleString('en')}  handled ${p.handled.toLocaleString('en')}\n`,
    ),
});

process.stdout.write(`\n${result.sent.toLocaleString('en')} datagrams in ${(result.durationMs / 1000).toFixed(1)} s (${result.perSecond}/s)${result.complete ? '' : ' — stopped by the time bound'}\n`);
process.stdout.write(`dropped by reason: ${JSON.stringify(result.node.dropped)}\n`);
process.stdout.write(`requests handled ${result.node.requestsHandled}, answers consumed ${result.node.answersConsumed}, verification PINGs ${result.node.ownRequests}\n`);
for (const c of result.checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);

const date = new Date().toISOString().slice(0, 10);
const file = join(RESULTS_DIR, `soak-${date}.json`);
await mkdir(dirname(file), { recursive: true });
const machine = { node: process.version, platform: process.platform, arch: process.arch, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryBytes: totalmem() };
await writeFile(file, `${JSON.stringify({ kind: 'soak', date: new Date().toISOString(), options: { ...options, onProgress: undefined }, machine, result }, null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
process.exit(result.ok ? 0 : 1);
