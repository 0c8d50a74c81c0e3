// Builds kadscope's UDP binding (native/kadscope_udp.c -> native/build/Release/kadscope_udp.node)
// with node-gyp, against the headers of the Node running this (npm's own node-gyp, and its nodedir
// setting where one is configured). `npm ci` runs it (package.json "install"). A failed build is not
// an install error: kadscope then runs its UDP on udx-native (or node:dgram) and says so once per
// process; `--transport native` says why it cannot. Run it again by hand with `node native/build.mjs`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const prefix = join(dirname(process.execPath), '..');

/** npm's bundled node-gyp: npm tells its scripts where (npm_config_node_gyp); else beside the npm running this or this Node's; else on PATH. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp, join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed as a package here */
  }
  const found = candidates.find((c) => c && existsSync(c));
  return found ? [process.execPath, found] : ['node-gyp'];
}

const [command, ...gypArgs] = nodeGyp();
const args = [...gypArgs, 'rebuild', `--directory=${here}`];
// Where npm has a nodedir configured (these machines: Node's own headers, no download), npm passes it
// to its scripts as npm_config_nodedir, which node-gyp reads itself. Run by hand, the headers that
// came with this Node (<prefix>/include/node) serve the same way, where they are.
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const started = Date.now();
const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const built = join(here, 'build', 'Release', 'kadscope_udp.node');
if (result.status === 0 && existsSync(built)) {
  console.log(`kadscope: built the native UDP binding (${built}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} else {
  const why = result.error ? result.error.message : (result.stderr || result.stdout || '').split('\n').filter((l) => /ERR!|error/i.test(l)).slice(0, 6).join('\n');
  console.warn(`kadscope: the native UDP binding did not build; UDP will run on udx-native (or node:dgram).\n${why}`);
}
