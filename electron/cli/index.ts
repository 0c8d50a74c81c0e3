// The kadscope CLI: one command per file in ./commands, dispatched by name.
// Exit codes: 0 success, 1 network/operation failure, 2 bad usage (see shared.ts).
import { announceCommand } from './commands/announce';
import { crawlCommand, crawlsCommand } from './commands/crawl';
import { getCommand } from './commands/get';
import { lookupCommand } from './commands/lookup';
import { nodeCommand } from './commands/node';
import { peersCommand } from './commands/peers';
import { putCommand } from './commands/put';
import { traceCommand } from './commands/trace';
import { serveCommand } from './commands/serve';
import { HYPERDHT_CLI_COMMANDS, HYPERDHT_USAGE, protocolOf, runHyperdht } from './hyperdht';
import { EXIT_OK, EXIT_USAGE, failure, stdio, type Command, type Io } from './shared';

export const COMMANDS: Command[] = [nodeCommand, lookupCommand, putCommand, getCommand, announceCommand, peersCommand, traceCommand, crawlCommand, crawlsCommand, serveCommand];

function help(io: Io): void {
  io.out('kadscope: an explorer for Kademlia DHT networks\n\nusage: kadscope <command> [options]\n\ncommands:');
  for (const c of COMMANDS) io.out(`  ${c.name.padEnd(10)} ${c.summary}`);
  io.out('\n`kadscope <command> --help` shows a command\'s options.');
  io.out(`${HYPERDHT_CLI_COMMANDS.join(', ')} also speak HyperDHT (Hyperswarm): add --protocol hyperdht (\`kadscope lookup --protocol hyperdht --help\`).`);
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`kadscope: unknown command "${name}"; try: ${COMMANDS.map((c) => c.name).join(', ')}`);
    return EXIT_USAGE;
  }
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  // `crawl` reads --protocol itself; the other commands speak HyperDHT through ./hyperdht.
  const protocol = name === 'crawl' ? undefined : protocolOf(rest);
  if (protocol !== undefined && protocol !== 'kadscope') {
    if (protocol !== 'hyperdht' || !(HYPERDHT_CLI_COMMANDS as readonly string[]).includes(name)) {
      io.err(`kadscope: ${name} speaks --protocol kadscope${(HYPERDHT_CLI_COMMANDS as readonly string[]).includes(name) ? ' or hyperdht' : ''}; got "${protocol.slice(0, 40)}"`);
      return EXIT_USAGE;
    }
    if (wantsHelp) {
      io.out(HYPERDHT_USAGE);
      return EXIT_OK;
    }
    try {
      return await runHyperdht(name, rest, io);
    } catch (err) {
      return failure(err, io);
    }
  }
  if (wantsHelp) {
    io.out(`usage: ${cmd.usage}`);
    return EXIT_OK;
  }
  try {
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
