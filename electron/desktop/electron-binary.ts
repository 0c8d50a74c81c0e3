// Is the Electron binary here? Answered without require('electron'): that call downloads the binary
// when it is missing (electron 42+ fetches it lazily on first run), which we must never trigger.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type ElectronBinary = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Finds the Electron executable the way the electron package does (path.txt names it inside dist/,
 * ELECTRON_OVERRIDE_DIST_PATH replaces dist/), and checks that it exists.
 */
export function findElectronBinary(electronDir: string | null = electronPackageDir(), env: NodeJS.ProcessEnv = process.env): ElectronBinary {
  if (electronDir === null) return { ok: false, reason: 'the electron package is not installed' };
  const pathFile = join(electronDir, 'path.txt');
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const p = join(override, name ?? 'electron');
    return existsSync(p) ? { ok: true, path: p } : { ok: false, reason: `ELECTRON_OVERRIDE_DIST_PATH has no Electron binary at ${p}` };
  }
  if (name === null || name === '') {
    return { ok: false, reason: 'the Electron binary is not installed (Electron downloads it on first launch, and that download is not possible here)' };
  }
  const p = join(electronDir, 'dist', name);
  return existsSync(p) ? { ok: true, path: p } : { ok: false, reason: `the Electron binary is missing (${p} does not exist)` };
}

function electronPackageDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
}
