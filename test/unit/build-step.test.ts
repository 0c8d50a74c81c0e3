// When `npm start` and `kadscope serve` build the app first (electron/host/build.ts), decided from
// file times in a scratch repository layout.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILD_OUTPUTS, RENDERER_INDEX, buildReason, serveBuildStep } from '../../electron/host/build';

let root = '';
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = '';
});

function file(rel: string, mtimeS: number): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, '');
  utimesSync(p, mtimeS, mtimeS);
}

describe('build step', () => {
  it('serve builds when the renderer was never built (a fresh clone), and npm start too', () => {
    root = mkdtempSync(join(tmpdir(), 'kadscope-build-'));
    file('core/node.ts', 1_000);
    expect(serveBuildStep(root)).toEqual({ step: 'build', reason: `${RENDERER_INDEX} is missing` });
    expect(buildReason(root)).toMatch(/is missing$/);
  });

  it('serves a fresh build as it is, and says so when a source changed after it', () => {
    root = mkdtempSync(join(tmpdir(), 'kadscope-build-'));
    file('core/node.ts', 1_000);
    for (const o of BUILD_OUTPUTS) file(o, 2_000);
    expect(serveBuildStep(root)).toEqual({ step: 'ok', reason: null });
    file('renderer/views/Records.tsx', 3_000);
    const s = serveBuildStep(root);
    expect(s.step).toBe('stale');
    expect(s.reason).toMatch(/renderer\/views\/Records\.tsx changed/);
  });
});
