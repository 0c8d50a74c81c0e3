// The explorer-cost workload shortened, printed and not written to results/ (so latest.* keeps the
// full run): `node --import tsx test/bench/explorer-cost-probe.ts [testnetSize] [rounds] [windowS]`
// (default 20 nodes, 4 rounds of 3 s windows; an even count puts each kind of window in each
// subject process equally often). For before/after comparisons and profiles (`node --cpu-prof
// --import tsx ...`: the subject processes get the flag too, and each writes its own profile);
// the full workload is `npm run bench -- explorer-cost`.
//
// `--fixed` keeps the roles fixed, for a system-wide profile split by process (its figures are
// not paired the usual way: one process is always the explorer's): process a runs every explorer
// window, b every bare one, and both pids are printed. For example
//   perf record -e cpu-clock -F 4000 -g -a -o /tmp/ec.data -- \
//     node --perf-basic-prof --import tsx test/bench/explorer-cost-probe.ts 50 8 6 --fixed
//   perf script -i /tmp/ec.data -F pid,tid,time,ip,sym > /tmp/ec.txt
//   node --import tsx test/bench/perf-split.ts /tmp/ec.txt <explorer pid> <bare pid> --from 25
import { loadavg } from 'node:os';
import { EXPLORER_COST_DEFAULTS, runExplorerCostWorkload } from './workloads/explorer-cost';

const args = process.argv.slice(2);
const fixedRoles = args.includes('--fixed');
const [size = '20', rounds = '4', windowS = '3'] = args.filter((a) => a !== '--fixed');
for (const [name, v] of [['testnetSize', size], ['rounds', rounds], ['windowS', windowS]] as const) {
  if (!Number.isInteger(Number(v)) || Number(v) < 1) {
    console.error(`${name} must be a positive integer, got ${v}\nusage: node --import tsx test/bench/explorer-cost-probe.ts [testnetSize] [rounds] [windowS] [--fixed]`);
    process.exit(2);
  }
}
const opts = { ...EXPLORER_COST_DEFAULTS, testnetSize: Number(size), rounds: Number(rounds), windowS: Number(windowS), fixedRoles };
const before = loadavg();
const result = await runExplorerCostWorkload(opts, `node --import tsx test/bench/explorer-cost-probe.ts ${args.join(' ')}`);
for (const f of result.figures) {
  const s = f.values.kadscope!;
  console.log(`${f.metric} (${f.unit}): median ${s.median.toFixed(3)} [${s.p25.toFixed(3)}–${s.p75.toFixed(3)}]`);
}
console.log(`load average before ${before.map((x) => x.toFixed(2)).join(' / ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' / ')}`);
process.exit(0);
