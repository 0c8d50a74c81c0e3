// SIGKILL right after acknowledged stores: a restarted process must hold every acknowledged record.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock';
import { NodeStateStore } from '../../core/persist/state';
import { withTempDir } from '../temp-dir';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'persist-crash.child.ts');
const RUNS = 3;
const CHILD_DEADLINE_MS = 20_000;

interface RunResult {
  acked: string[];
  maxSeq: number;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the child, lets it acknowledge `killAfter` records, SIGKILLs it, and returns what it acknowledged. */
function runChild(dataDir: string, run: number, killAfter: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let maxSeq = 0;
    let buf = '';
    let stderr = '';
    let killed = false;
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child run ${run} did not acknowledge ${killAfter} records in time; stderr: ${stderr}`));
    }, CHILD_DEADLINE_MS);
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 10_000) stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, arg] = line.split(' ');
        if (kind === 'ack') acked.push(arg);
        if (kind === 'seq') maxSeq = Math.max(maxSeq, Number(arg));
      }
      if (!killed && acked.length >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(deadline);
      // A partial last line was never a complete acknowledgement; ignore it.
      resolve({ acked, maxSeq, signal, stderr });
    });
  });
}

describe('records survive SIGKILL after acknowledgement', () => {
  let root: string;
  withTempDir('kadscope-crash-', (d) => (root = d), 'block');

  it(`holds every acknowledged record across ${RUNS} kills`, async () => {
    const dataDir = join(root, 'data');
    const everAcked = new Set<string>();
    let maxSeq = 0;
    for (let run = 0; run < RUNS; run++) {
      const r = await runChild(dataDir, run, 40 + 25 * run);
      expect(r.signal, r.stderr).toBe('SIGKILL');
      for (const k of r.acked) everAcked.add(k);
      maxSeq = Math.max(maxSeq, r.maxSeq);

      // What a restarted node finds (the warnings may mention a torn last line, nothing worse).
      const clock = new FakeClock(Date.now());
      const loader = new NodeStateStore({ clock }, { dataDir });
      const { state, warnings } = await loader.load();
      for (const w of warnings) expect(w).toMatch(/ignored a truncated last line/);
      const held = new Set(state!.records.map((s) => s.key));
      const missing = [...everAcked].filter((k) => !held.has(k));
      expect(missing).toEqual([]);
      const mutable = state!.records.find((s) => s.record.type === 'mutable');
      if (maxSeq > 0) expect(mutable?.record.type === 'mutable' && mutable.record.seq).toBeGreaterThanOrEqual(maxSeq);
      await loader.close();
    }
    expect(everAcked.size).toBeGreaterThanOrEqual(40 + 65 + 90);
  });
});
