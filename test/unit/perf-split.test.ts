// The bench's profile splitter (test/bench/perf-split.ts): each sample lands in the category its
// call chain says, innermost first, so the explorer's extra is attributed to the right place.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { categorize, split } from '../bench/perf-split';

describe('perf-split categorize', () => {
  it('puts a sample where its call chain says', () => {
    const js = (fn: string, path: string): string => `3f2a JS:*${fn} file:///work/x/${path}:1:58`;
    const cases: Array<[string[], boolean, string]> = [
      // The collector wins over the JS that allocated, and says which phase.
      [['1 v8::internal::Scavenger::ScavengeObject', '2 v8::internal::Heap::CollectGarbage', js('onAnswer', 'core/lookup/lookup.ts')], true, 'main gc: scavenge'],
      [['1 v8::internal::ConcurrentMarking::RunMajor'], false, 'threads gc: marking'],
      [['1 v8::internal::Sweeper::RawSweep'], false, 'threads gc: sweeping'],
      // A page fault under JS is the allocation's, not the function's.
      [['ffffffff8160a3a8 handle_mm_fault', 'ffffffff8224260d exc_page_fault', js('onSent', 'core/lookup/lookup.ts')], true, 'main page faults'],
      [['1 v8::internal::compiler::GraphTrimmer::TrimGraph'], false, 'threads compiler'],
      // The innermost JS frame of the repository owns the builtins it calls.
      [['1 Builtins_JsonStringify', js('deliver', 'test/bench/workloads/explorer-cost-subject.ts'), js('flush', 'electron/host/batcher.ts')], true, 'main js test/bench/workloads/explorer-cost-subject.ts:deliver'],
      [['1 Builtins_Call', js('', 'node_modules/udx-native/lib/socket.js')], true, 'main js node_modules/udx-native/lib/socket.js:(anonymous)'],
      [['ffffffff82242009 pvm_irq_enable', 'ffffffff81000c82 entry_SYSCALL_64', '7f00 __libc_sendmsg'], true, 'main kernel'],
      [['7f00 epoll_pwait', '5500 uv__io_poll'], true, 'main native epoll_pwait'],
      [[], true, 'main native ?'],
    ];
    for (const [frames, main, want] of cases) expect(categorize(frames, main), frames.join(' | ')).toBe(want);
  });
});

describe('perf-split split', () => {
  it('reads every sample of `perf script -F pid,tid,time,ip,sym`, whether perf pads its pid or not', async () => {
    // perf right-aligns the pid: a short one leaves the header indented like a frame.
    const text = [
      '    0/0     100.000000: ',
      '\tffffffff82242055 pvm_safe_halt_hc',
      '',
      '   801/801   100.500000: ',
      '\t3f2a JS:*onAnswer file:///work/x/core/lookup/lookup.ts:1:58',
      '',
      '   801/805   101.000000: ',
      '\t1 v8::internal::ConcurrentMarking::RunMajor',
      '',
      '123456/123456 102.000000: ',
      '\t7f00 epoll_pwait',
      '',
      '   801/801   103.000000: ',
      '\t1 v8::internal::Scavenger::ScavengeObject',
      '',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'perf-split-'));
    try {
      const file = join(dir, 'p.txt');
      writeFileSync(file, text);
      const all = await split(file, ['801', '123456'], 0);
      expect(all.totals.get('801')).toBe(3);
      expect(all.totals.get('123456')).toBe(1);
      expect(Object.fromEntries(all.counts.get('801')!)).toEqual({ 'main js core/lookup/lookup.ts:onAnswer': 1, 'threads gc: marking': 1, 'main gc: scavenge': 1 });
      expect(Object.fromEntries(all.counts.get('123456')!)).toEqual({ 'main native epoll_pwait': 1 });
      // --from counts seconds from the profile's first sample, whatever process it was.
      const late = await split(file, ['801', '123456'], 2.5);
      expect(late.totals.get('801')).toBe(1);
      expect(late.totals.get('123456')).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
