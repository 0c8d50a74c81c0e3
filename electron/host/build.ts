// Whether the app's build (out/: Electron main, preload and the renderer the hosts serve) is older
// than its sources, and the build itself: `npm start` rebuilds when anything changed, `kadscope
// serve` when the renderer is missing (right after npm install).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUILD_OUTPUTS = ['out/main/main.js', 'out/preload/preload.cjs', 'out/renderer/index.html'];
const SOURCES = ['electron', 'renderer', 'core', 'electron.vite.config.ts', 'package.json'];
/** The source walk gives up (and rebuilds) past this many files rather than crawl something huge. */
const MAX_SOURCE_FILES = 20_000;

/** Why a build is needed, or null when out/ is newer than every source file. */
export function buildReason(root = ROOT): string | null {
  let oldestOutput = Infinity;
  for (const o of BUILD_OUTPUTS) {
    try {
      oldestOutput = Math.min(oldestOutput, statSync(join(root, o)).mtimeMs);
    } catch {
      return `${o} is missing`;
    }
  }
  let seen = 0;
  const newer = (path: string): string | null => {
    if (++seen > MAX_SOURCE_FILES) return 'too many source files to compare';
    const st = statSync(path);
    if (st.isDirectory()) {
      for (const entry of readdirSync(path)) {
        if (entry === 'node_modules' || entry.startsWith('.')) continue;
        const r = newer(join(path, entry));
        if (r) return r;
      }
      return null;
    }
    return st.mtimeMs > oldestOutput ? `${path.slice(root.length)} changed` : null;
  };
  for (const s of SOURCES) {
    try {
      const r = newer(join(root, s));
      if (r) return r;
    } catch {
      // a missing optional source (e.g. no renderer yet) is not a reason to rebuild
    }
  }
  return null;
}

/** Runs `electron-vite build` (main, preload, renderer) in the repository; its output goes to `output`. */
export function buildApp(output: 'inherit' | 'stderr'): boolean {
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve('electron-vite/package.json');
  const bin = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin: Record<string, string> }).bin['electron-vite'];
  const r = spawnSync(process.execPath, [join(dirname(pkgPath), bin), 'build'], { cwd: ROOT, stdio: output === 'inherit' ? 'inherit' : ['ignore', 2, 2] });
  return r.status === 0;
}

/** The built renderer's page, which the headless host serves. */
export const RENDERER_INDEX = 'out/renderer/index.html';

/**
 * What `kadscope serve` does before it starts: 'build' when the renderer was never built (a fresh
 * clone after npm install), 'stale' when out/ is older than a source (it serves it and says so: a
 * rebuild under running tests or another host would pull files from under them), else 'ok'.
 */
export function serveBuildStep(root = ROOT): { step: 'build' | 'stale' | 'ok'; reason: string | null } {
  try {
    statSync(join(root, RENDERER_INDEX));
  } catch {
    return { step: 'build', reason: `${RENDERER_INDEX} is missing` };
  }
  const reason = buildReason(root);
  return { step: reason ? 'stale' : 'ok', reason };
}
