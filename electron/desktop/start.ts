// `npm start`: builds the app if its sources changed, then launches Electron. Where the Electron
// binary is missing (it downloads on first launch, which cannot happen everywhere), says so in one
// line and serves the same UI headless instead, printing the URL.
//
// Run with tsx: `tsx electron/desktop/start.ts [host options]` (see options.ts). KADSCOPE_SKIP_BUILD=1
// skips the build step (tests, or when out/ is known to be fresh).
import { spawn } from 'node:child_process';
import { buildApp, buildReason, ROOT } from '../host/build';
import { findElectronBinary } from './electron-binary';
import { HOST_USAGE, OptionsError, parseHostOptions } from '../host/options';
import { startHeadless } from '../host/headless';

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
      if (!buildApp('inherit')) {
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
