// The kadscope CLI run in-process through main(), with what it prints captured line by line.
import type { Testnet } from '../../core/testnet';
import { main } from '../../electron/cli/index';

export interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

/** Runs one command: its exit code, stdout lines and stderr lines. */
export async function runCli(argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/**
 * Runs one command against a testnet. Each command runs its own short-lived node, which the
 * testnet's nodes add to their tables; once it has stopped, every later lookup would wait out a
 * timeout on it. A real network forgets departed nodes as they fail; the test forgets them at once,
 * as if that had happened.
 */
export async function runCliOn(tn: Testnet, argv: string[]): Promise<CliRun> {
  const run = await runCli(argv);
  const members = new Set(tn.nodes.map((n) => n.id));
  for (const n of tn.nodes) for (const e of n.table.entries()) if (!members.has(e.id)) n.table.remove(e.id);
  return run;
}
