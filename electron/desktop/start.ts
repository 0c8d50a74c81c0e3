// `npm start`: builds the app if its sources changed, then launches Electron. Where the Electron
// binary is missing (it downloads on first launch, which cannot happen everywhere), says so in one
// line and serves the same UI headless instead, printing the URL.
//
// Run with tsx: `tsx electron/desktop/start.ts [host options]` (see options.ts). KADSCOPE_SKIP_BUILD=1
// skips the build step (tests, or when out/ is known to be fresh).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectronBinary } from './electron-binary';
import { HOST_USAGE, OptionsError, parseHostOptions } from '../host/options';
import { startHeadless } from '../host/headless';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUTPUTS = ['out/main/main.js', 'out/preload/preload.cjs', 'out/renderer/index.html'];
const SOURCES = ['electron', 'renderer', 'core', 'electron.vite.config.ts', 'package.json'];
/** The source walk gives up (and rebuilds) past this many files rather than crawl something huge. */
const MAX_SOURCE_FILES = 20_000;

/** Why a build is needed, or null when out/ is newer than every source file. */
export function buildReason(root = ROOT): string | null {
  let oldestOutput = Infinity;
  for (const o of OUTPUTS) {
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

function build(): boolean {
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve('electron-vite/package.json');
  const bin = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin: Record<string, string> }).bin['electron-vite'];
  const r = spawnSync(process.execPath, [join(dirname(pkgPath), bin), 'build'], { cwd: ROOT, stdio: 'inherit' });
  return r.status === 0;
}

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseHostOptions(argv);
  } catch (e) {
    if (!(e instanceof OptionsError)) throw e;
    process.stderr.write(`kadscope: ${e.message}\nusage: npm start -- ${HOST_USAGE}\n`);
    return 2;
  }
  if (process.env.KADSCOPE_SKIP_BUILD !== '1') {
    const reason = buildReason();
    if (reason) {
      process.stdout.write(`kadscope: building the app (${reason})…\n`);
      if (!build()) {
        process.stderr.write('kadscope: the build failed; see the messages above\n');
        return 1;
      }
    }
  }

  const electron = findElectronBinary();
  if (electron.ok) {
    const child = spawn(electron.path, ['.', ...argv], { cwd: ROOT, stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  }

  process.stdout.write(`kadscope: ${electron.reason}; serving the UI headless instead.\n`);
  const host = await startHeadless(options);
  for (const w of host.warnings) process.stderr.write(`kadscope: ${w}\n`);
  process.stdout.write(`kadscope: open ${host.web.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await host.close();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
