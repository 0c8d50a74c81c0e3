// Builds the renderer the headless host serves (out/renderer) once per run, so the e2e always tests
// the current source. Only the renderer: main and preload need nothing here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CHROMIUM_PATH } from '../../playwright.config';

const ROOT = resolve(import.meta.dirname, '../..');

export default function globalSetup(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (or set KADSCOPE_CHROMIUM)`);
  }
  if (process.env.KADSCOPE_E2E_SKIP_BUILD === '1' && existsSync(resolve(ROOT, 'out/renderer/index.html'))) return;
  execFileSync(process.execPath, [resolve(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}
