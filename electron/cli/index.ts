// The kadscope CLI: one command per file in ./commands, dispatched by name.
// Exit codes: 0 success, 1 network/operation failure, 2 bad usage (see shared.ts).
// Commands are imported when named, not all up front: a one-shot `put` or `get` should not pay for
// the crawler's database or the web host (importing every command took seconds under tsx).
import { EXIT_OK, EXIT_USAGE, failure, protocolOf, stdio, type Command, type Io } from './shared';

/** Commands that speak Mainline (BitTorrent's DHT) with --protocol mainline; they read the flag themselves. */
export const MAINLINE_CLI_COMMANDS = ['node', 'lookup', 'put', 'get', 'announce', 'peers', 'samples', 'serve'] as const;

/** Command name -> its module, loaded on demand; the order is the help's. */
export const COMMAND_LOADERS: Record<string, () => Promise<Command>> = {
  node: async () => (await import('./commands/node')).nodeCommand,
  repl: async () => (await import('./commands/repl')).replCommand,
  lookup: async () => (await import('./commands/lookup')).lookupCommand,
  put: async () => (await import('./commands/put')).putCommand,
  get: async () => (await import('./commands/get')).getCommand,
  announce: async () => (await import('./commands/announce')).announceCommand,
  peers: async () => (await import('./commands/peers')).peersCommand,
  samples: async () => (await import('./commands/samples')).samplesCommand,
  trace: async () => (await import('./commands/trace')).traceCommand,
  crawl: async () => (await import('./commands/crawl')).crawlCommand,
  crawls: async () => (await import('./commands/crawl')).crawlsCommand,
  serve: async () => (await import('./commands/serve')).serveCommand,
};

const NAMES = Object.keys(COMMAND_LOADERS);

async function help(io: Io): Promise<void> {
  const commands = await Promise.all(NAMES.map((n) => COMMAND_LOADERS[n]()));
  io.out('kadscope: an explorer for Kademlia DHT networks\n\nusage: kadscope <command> [options]\n\ncommands:');
  for (const c of commands) io.out(`  ${c.name.padEnd(10)} ${c.summary}`);
  io.out('\n`kadscope <command> --help` shows a command\'s options.');
  const { HYPERDHT_CLI_COMMANDS } = await import('./hyperdht');
  io.out(`${HYPERDHT_CLI_COMMANDS.join(', ')} also speak HyperDHT (Hyperswarm): add --protocol hyperdht (\`kadscope lookup --protocol hyperdht --help\`).`);
  // `samples` speaks only Mainline (BEP 51): its summary says so.
  io.out(`${MAINLINE_CLI_COMMANDS.filter((c) => c !== 'samples').join(', ')} also speak BitTorrent's Mainline DHT: add --protocol mainline (ids and info hashes are 40 hex characters).`);
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await help(io);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const load = Object.hasOwn(COMMAND_LOADERS, name) ? COMMAND_LOADERS[name] : undefined;
  if (!load) {
    io.err(`kadscope: unknown command "${name.slice(0, 40)}"; try: ${NAMES.join(', ')}`);
    return EXIT_USAGE;
  }
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  // `crawl` and `serve` read --protocol themselves; the other commands speak HyperDHT through
  // ./hyperdht, which is loaded only when asked for (it brings the whole HyperDHT implementation).
  const protocol = name === 'crawl' || name === 'serve' ? undefined : protocolOf(rest);
  try {
    if (protocol === 'mainline') {
      if (!(MAINLINE_CLI_COMMANDS as readonly string[]).includes(name)) {
        io.err(`kadscope: ${name} does not speak --protocol mainline yet (${MAINLINE_CLI_COMMANDS.join(', ')} do)`);
        return EXIT_USAGE;
      }
      const cmd = await load();
      if (wantsHelp) {
        io.out(`usage: ${cmd.usage}`);
        return EXIT_OK;
      }
      return await cmd.run(rest, io);
    }
    if (protocol !== undefined && protocol !== 'kadscope') {
      const hyper = await import('./hyperdht');
      const speaksHyper = (hyper.HYPERDHT_CLI_COMMANDS as readonly string[]).includes(name);
      if (protocol !== 'hyperdht' || !speaksHyper) {
        io.err(`kadscope: ${name} speaks --protocol kadscope${speaksHyper ? ' or hyperdht' : ''}; got "${protocol.slice(0, 40)}"`);
        return EXIT_USAGE;
      }
      if (wantsHelp) {
        io.out(hyper.HYPERDHT_USAGE);
        return EXIT_OK;
      }
      return await hyper.runHyperdht(name, rest, io);
    }
    const cmd = await load();
    if (wantsHelp) {
      io.out(`usage: ${cmd.usage}`);
      return EXIT_OK;
    }
    return await cmd.run(protocol === 'kadscope' ? withoutProtocol(rest) : rest, io);
  } catch (err) {
    return failure(err, io);
  }
}

/** argv without its --protocol flag (and value). */
function withoutProtocol(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--protocol') i++;
    else if (!argv[i].startsWith('--protocol=')) out.push(argv[i]);
  }
  return out;
}
