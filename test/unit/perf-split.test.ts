// The bench's profile splitter (test/bench/perf-split.ts): each sample lands in the category its
// call chain says, innermost first, so the explorer's extra is attributed to the right place.
import { describe, expect, it } from 'vitest';
import { categorize } from '../bench/perf-split';

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
