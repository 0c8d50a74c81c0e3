// Crashes: a node with a data directory (hardening-crash.child.ts, its own process) is killed with
// SIGKILL over and over, at seeded random moments, while writers store records on it over real UDP:
// sometimes during start-up (loading its state, binding), mostly while STOREs are being written and
// acknowledged. After every restart it has the same id, every record it ever acknowledged, and the
// highest seq it acknowledged for a mutable record. (records-persist.test.ts has the single kill
// with a rejoin; this is the loop.)
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock';
import { bytesToHex, cryptoRandomBytes, seededRandom, seededRandomBytes } from '../../core/id';
import { immutableKey, keyPairFromSecretKey, mutableKey, signMutable } from '../../core/records/signing';
import { Rpc } from '../../core/rpc/rpc';
import type { Endpoint } from '../../core/transport/types';
import { UdpTransport } from '../../core/transport/udp';
import { withTempDir } from '../temp-dir';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'hardening-crash.child.ts');
const KILLS = 20;
const SEED = 0xdead;
/** Share of kills aimed at start-up rather than at a node busy storing. */
const EARLY_KILL_SHARE = 0.25;
const EARLY_KILL_MAX_MS = 400;
const BUSY_KILL_MIN_MS = 20;
const BUSY_KILL_MAX_MS = 250;
const WRITERS = 3;
const CHILD_DEADLINE_MS = 20_000;
/** Loopback answers in well under a millisecond; a STORE unanswered this long went down with the node. */
const WRITE_TIMEOUT_MS = 200;

interface Ready {
  event: 'ready';
  id: string;
  port: number;
  warnings: string[];
  records: Array<{ key: string; seq: number | null }>;
}

interface Child {
  proc: ChildProcessWithoutNullStreams;
  ready: Promise<Ready | null>;
  exited: Promise<NodeJS.Signals | null>;
  stderr: () => string;
}

function startChild(dataDir: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 10_000) stderr += d.toString();
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
  const lines = createInterface({ input: proc.stdout });
  const ready = new Promise<Ready | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), CHILD_DEADLINE_MS);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as Ready);
    });
    void exited.then(() => {
      clearTimeout(timer);
      resolve(null);
    });
  });
  return { proc, ready, exited, stderr: () => stderr };
}

/** A wire v1 client on its own UDP socket; it answers the node's verification PINGs, as nodes do. */
async function writer(): Promise<{ rpc: Rpc; close: () => Promise<void> }> {
  const transport = new UdpTransport({}, { host: '127.0.0.1', port: 0 });
  const rpc = new Rpc({ transport, clock: systemClock, randomBytes: cryptoRandomBytes, selfId: cryptoRandomBytes(32) }, { retries: 0, timeoutMs: WRITE_TIMEOUT_MS });
  rpc.setHandler((req) => (req.method === 'PING' ? {} : null));
  await transport.bind();
  return { rpc, close: async () => { rpc.close(); await transport.close(); } };
}

describe('a node killed with SIGKILL again and again while storing', () => {
  let root: string;
  withTempDir('kadscope-crash-loop-', (d) => (root = d), 'block');

  it(`loses nothing it acknowledged across ${KILLS} kills at random moments`, async () => {
    const dataDir = join(root, 'node');
    // The kill schedule has its own stream: how many values the writers drew before a kill depends
    // on the machine's speed, and must not change which rounds kill early.
    const pick = seededRandom(SEED);
    const pickSize = seededRandom(SEED + 2);
    const rand = seededRandomBytes(SEED + 1);
    const keyPair = keyPairFromSecretKey(rand(32));
    const salt = new TextEncoder().encode('crash-loop');
    const mkey = mutableKey(keyPair.publicKey, salt);
    const acked = new Set<string>();
    let ackedSeq = 0;
    let nextSeq = 1;
    let id: string | null = null;
    const writers = await Promise.all(Array.from({ length: WRITERS }, writer));
    const kills = { early: 0, busy: 0, acksAtKill: [] as number[] };

    /** What a restarted node must show: same id, every acknowledged record, the acknowledged seq. */
    const check = (r: Ready, after: string): void => {
      id ??= r.id;
      expect(r.id, after).toBe(id);
      for (const w of r.warnings) expect(w, after).toMatch(/truncated last line/);
      const held = new Map(r.records.map((x) => [x.key, x.seq]));
      expect([...acked].filter((k) => !held.has(k)), `${after}: acknowledged records missing`).toEqual([]);
      if (ackedSeq > 0) expect(held.get(bytesToHex(mkey)), `${after}: mutable seq`).toBeGreaterThanOrEqual(ackedSeq);
    };

    try {
      for (let round = 0; round < KILLS; round++) {
        const child = startChild(dataDir);
        if (pick() < EARLY_KILL_SHARE) {
          // During start-up: loading the state files, binding, maybe already serving.
          await new Promise((r) => setTimeout(r, Math.floor(pick() * EARLY_KILL_MAX_MS)));
          child.proc.kill('SIGKILL');
          expect(await child.exited).toBe('SIGKILL');
          kills.early++;
          continue;
        }
        const ready = await child.ready;
        if (!ready) throw new Error(`round ${round}: the child did not start: ${child.stderr()}`);
        check(ready, `restart ${round}`);
        const to: Endpoint = { host: '127.0.0.1', port: ready.port };
        let killed = false;
        const before = acked.size;
        const write = async (w: number): Promise<void> => {
          const { rpc } = writers[w];
          const token = await rpc.request(to, { method: 'FIND_VALUE', key: rand(32) }).then((r) => r.response.token, () => undefined);
          while (!killed && token) {
            if (w === 0) {
              // One writer keeps moving a mutable record forward.
              const seq = nextSeq++;
              const record = signMutable({ keyPair, salt, seq, value: rand(64) });
              const ok = await rpc.request(to, { method: 'STORE', key: mkey, record, token }).then(() => true, () => false);
              if (ok) ackedSeq = Math.max(ackedSeq, seq);
            } else {
              const value = rand(50 + Math.floor(pickSize() * 400));
              const key = immutableKey(value);
              const ok = await rpc.request(to, { method: 'STORE', key, record: { type: 'immutable', value }, token }).then(() => true, () => false);
              if (ok) acked.add(bytesToHex(key));
            }
          }
        };
        const writing = Promise.all(writers.map((_, w) => write(w)));
        await new Promise((r) => setTimeout(r, BUSY_KILL_MIN_MS + Math.floor(pick() * (BUSY_KILL_MAX_MS - BUSY_KILL_MIN_MS))));
        child.proc.kill('SIGKILL');
        killed = true;
        expect(await child.exited).toBe('SIGKILL');
        await writing; // requests in flight at the kill time out and are not acknowledged
        kills.busy++;
        kills.acksAtKill.push(acked.size - before);
      }
      const last = startChild(dataDir);
      const ready = await last.ready;
      if (!ready) throw new Error(`the last restart failed: ${last.stderr()}`);
      check(ready, 'the last restart');
      last.proc.kill('SIGKILL');
      await last.exited;
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
    console.log(`crash loop: ${kills.early} kills during start-up, ${kills.busy} while storing; ${acked.size} records and seq ${ackedSeq} acknowledged, all kept; acks per busy round ${kills.acksAtKill.join(',')}`);
    expect(kills.early + kills.busy).toBe(KILLS);
    expect(kills.busy).toBeGreaterThanOrEqual(12);
    expect(kills.early).toBeGreaterThanOrEqual(2);
    expect(acked.size).toBeGreaterThan(100);
  }, 120_000);
});
