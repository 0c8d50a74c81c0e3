// The explorer-cost workload shortened, printed and not written to results/ (so latest.* keeps the
// full run): `node --import tsx test/bench/explorer-cost-probe.ts [testnetSize] [rounds] [windowS]`
// (default 20 nodes, 4 rounds of 3 s windows; an even count puts each kind of window in each
// subject process equally often). For before/after comparisons and profiles (`node --cpu-prof
// --import tsx ...`: the subject processes get the flag too, and each writes its own profile);
// the full workload is `npm run bench -- explorer-cost`.
import { loadavg } from 'node:os';
import { EXPLORER_COST_DEFAULTS, runExplorerCostWorkload } from './workloads/explorer-cost';

const [size = '20', rounds = '4', windowS = '3'] = process.argv.slice(2);
const opts = { ...EXPLORER_COST_DEFAULTS, testnetSize: Number(size), rounds: Number(rounds), windowS: Number(windowS) };
const before = loadavg();
const result = await runExplorerCostWorkload(opts, `node --import tsx test/bench/explorer-cost-probe.ts ${size} ${rounds} ${windowS}`);
for (const f of result.figures) {
  const s = f.values.kadscope!;
  console.log(`${f.metric} (${f.unit}): median ${s.median.toFixed(3)} [${s.p25.toFixed(3)}–${s.p75.toFixed(3)}]`);
}
console.log(`load average before ${before.map((x) => x.toFixed(2)).join(' / ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' / ')}`);
process.exit(0);
