// Persistence of a node's state in its data directory: a node killed with SIGKILL while it is
// storing records comes back from the same directory, without a bootstrap argument, with the same
// id, every record it acknowledged, and a way back into the network. Corrupt files are moved aside.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cryptoRandomBytes, bytesToHex } from '../../core/id';
import { DhtNode } from '../../core/node';
import { createTestnet, type Testnet } from '../../core/testnet';
import { main } from '../../electron/cli/index';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'records-persist.child.ts');
const KILL_AFTER_ACKS = 40;
const WRITERS = 4;
const CHILD_DEADLINE_MS = 30_000;
/** Loopback answers in well under a millisecond; no need to wait 2 s for a node that is gone. */
const FAST = { rpcTimeoutMs: 500, refreshOnBootstrap: false };

interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** The next JSON line the child prints. */
  next(): Promise<Record<string, unknown>>;
  exited: Promise<NodeJS.Signals | null>;
}

function startChild(dataDir: string, bootstrap?: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, ...(bootstrap ? [bootstrap.join(',')] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 10_000) stderr += d.toString();
  });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
  return {
    proc,
    exited,
    async next() {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the child said nothing within ${CHILD_DEADLINE_MS} ms; stderr: ${stderr}`)), CHILD_DEADLINE_MS);
      });
      try {
        const r = await Promise.race([lines.next(), deadline]);
        if (r.done) throw new Error(`the child exited; stderr: ${stderr}`);
        return JSON.parse(r.value) as Record<string, unknown>;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

describe('a node with a data directory', () => {
  let root: string;
  let tn: Testnet;
  let seed = 0xd15c;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'kadscope-records-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  // A network per test: a node a test stopped would cost the next test's lookups a timeout each.
  // Fewer nodes than k, so every put stores at every node.
  beforeEach(async () => {
    tn = await createTestnet({ size: 8, transport: 'udp', seed: seed++, node: { rpcTimeoutMs: 500 } });
  });
  afterEach(async () => {
    await tn.destroy();
  });

  it('the CLI joins through saved peers with --data-dir alone, and prints a corrupt file as a warning', async () => {
    const dataDir = join(root, 'cli');
    const n = DhtNode.create({ dataDir, bootstrap: tn.bootstrap, ...FAST });
    await n.start();
    const put = await n.records.put('via the cli');
    await n.stop();
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    // --data-dir alone: the command joins through the peers the node saved.
    expect(await main(['get', put.key, '--data-dir', dataDir], io)).toBe(0);
    expect(out).toEqual(['via the cli']);
    expect(err).toEqual([]);

    await writeFile(join(dataDir, 'peers.json'), '{"version":1,"savedAt":0,"peers":[{"id":"zz"');
    const code = await main(['get', put.key, '--data-dir', dataDir], io);
    // The peers file was corrupt, so there is nobody to rejoin through: a network failure, said plainly.
    expect(code).toBe(1);
    expect(err[0]).toMatch(/^kadscope: warning: .*peers\.json is corrupt: .*moved it to .*peers\.json\.corrupt-/);
    expect(err.at(-1)).toMatch(/^kadscope: NO_PEERS: could not join the network \(no --bootstrap given and no peers saved in /);

    // With --bootstrap as well it works, and its own copy answers at once.
    expect(await main(['get', put.key, '--data-dir', dataDir, '--bootstrap', tn.bootstrap.join(',')], io)).toBe(0);
    expect(out).toEqual(['via the cli', 'via the cli']);
  });

  it('keeps its id and key pairs across a clean restart, and moves a truncated state file aside with one clear line', async () => {
    const dataDir = join(root, 'truncated');
    const a = DhtNode.create({ dataDir, bootstrap: tn.bootstrap, ...FAST });
    await a.start();
    const kp = a.keyPairs.get('alice');
    const put = await a.records.put('kept across restarts');
    await a.stop();

    const b = DhtNode.create({ dataDir, ...FAST });
    const started = await b.start();
    try {
      expect(started).toMatchObject({ warnings: [], joinedVia: 'saved-peers' });
      expect(b.id).toBe(a.id);
      expect(b.keyPairs.get('alice')).toEqual(kp);
      expect(b.records.held().find((r) => r.key === put.key)).toMatchObject({ local: true });
    } finally {
      await b.stop();
    }

    const file = join(dataDir, 'records.json');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, Math.floor(text.length / 2)));
    const c = DhtNode.create({ dataDir, ...FAST });
    const restarted = await c.start();
    try {
      expect(restarted.warnings).toHaveLength(1);
      expect(restarted.warnings[0]).toMatch(/records\.json is corrupt: not valid JSON .*; moved it to .*records\.json\.corrupt-[0-9TZ-]+ and starting without it$/);
      const aside = (await readdir(dataDir)).filter((f) => f.startsWith('records.json.corrupt-'));
      expect(aside).toHaveLength(1);
      expect(await readFile(join(dataDir, aside[0]), 'utf8')).toBe(text.slice(0, Math.floor(text.length / 2))); // kept, never deleted
      expect(c.id).toBe(a.id); // identity.json was fine
      expect(c.records.held()).toEqual([]); // the records file was the casualty
      expect(existsSync(file)).toBe(true); // and a fresh one is written
    } finally {
      await c.stop();
    }
  });

  it('killed with SIGKILL while storing, comes back with its id and every acknowledged record, and rejoins', async () => {
    await killAndRestart(tn, join(root, 'killed'));
  });
});

async function killAndRestart(tn: Testnet, dataDir: string): Promise<void> {
  const first = startChild(dataDir, tn.bootstrap);
  const ready = await first.next();
  expect(ready).toMatchObject({ event: 'ready', joinedVia: 'bootstrap', warnings: [] });
  const id = ready.id as string;

  // Writers keep putting from the testnet; a record counts once the child's ack came back.
  const acked = new Set<string>();
  let killed = false;
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; !killed; i++) {
      const r = await tn.nodes[w].records.put(`writer ${w} record ${i} ${bytesToHex(cryptoRandomBytes(4))}`).catch(() => null);
      if (r?.storedAt.includes(id)) acked.add(r.key);
      if (acked.size >= KILL_AFTER_ACKS && !killed) {
        killed = true;
        first.proc.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  expect(await first.exited).toBe('SIGKILL');
  const ackedAtKill = [...acked];
  expect(ackedAtKill.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

  // No bootstrap argument: it rejoins through the peers it saved.
  const second = startChild(dataDir);
  try {
    const again = await second.next();
    expect(again).toMatchObject({ event: 'ready', id, joinedVia: 'saved-peers' });
    expect(again.reached as number).toBeGreaterThan(0);
    for (const w of again.warnings as string[]) expect(w).toMatch(/ignored a truncated last line/); // a write cut short, never acknowledged
    const held = new Set(again.records as string[]);
    expect(ackedAtKill.filter((k) => !held.has(k))).toEqual([]);

    // It is back on the network: it fetches a value stored after it came back.
    const fresh = await tn.nodes[1].records.put('stored after the restart');
    second.proc.stdin.write(`get ${fresh.key}\n`);
    expect(await second.next()).toMatchObject({ event: 'got', key: fresh.key, value: 'stored after the restart' });
  } finally {
    second.proc.stdin.end();
    second.proc.kill('SIGTERM');
    await second.exited;
  }
}
