// BEP 43 from the CLI: every one-shot command with --protocol mainline (lookup, get, put, announce,
// peers, samples) joins read-only, so every query it sends carries `ro` = 1 and the nodes it asks
// keep it out of their routing tables. The node it talks to here is a bare KRPC responder on
// 127.0.0.1 that records each query and answers it (an id, a token, no nodes), so each command runs
// to its end; `node` (which stays) is not read-only, nor is serve's node (a plain 'mainline').
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeKrpc, encodeKrpc } from '../../core/protocols/mainline/krpc';
import { cliProtocol } from '../../electron/cli/commands/session';
import { runCli } from './cli-run';

const RESPONDER_ID = new Uint8Array(20).fill(0x43);
let responder: Socket;
let address = '';
const queries: Array<{ method: string; readOnly: boolean }> = [];

beforeAll(async () => {
  responder = createSocket('udp4');
  responder.on('message', (msg, rinfo) => {
    const d = decodeKrpc(new Uint8Array(msg));
    if (!d.ok || d.message.kind !== 'query') return;
    const q = d.message;
    queries.push({ method: q.method, readOnly: q.readOnly });
    const token = q.method === 'get_peers' || q.method === 'get' || q.method === 'find_node' ? { token: new Uint8Array([1, 2, 3]) } : {};
    const extra = q.method === 'sample_infohashes' ? { samples: [], num: 0, interval: 60 } : {};
    const answer = encodeKrpc({ kind: 'response', tid: q.tid, id: RESPONDER_ID, ...token, ...extra, ...(q.method === 'ping' || q.method === 'put' || q.method === 'announce_peer' ? {} : { nodes: [] }) });
    responder.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => responder.bind(0, '127.0.0.1', () => resolve()));
  address = `127.0.0.1:${responder.address().port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (responder ? responder.close(() => resolve()) : resolve()));
});

describe('BEP 43: one-shot Mainline CLI commands are read-only', () => {
  it('lookup, get, put, announce, peers and samples send only queries marked ro', async () => {
    const flags = ['--protocol', 'mainline', '--bootstrap', address];
    const runs: Array<[string, string[]]> = [
      ['lookup', ['lookup', '11'.repeat(20), ...flags]],
      ['put', ['put', 'read-only put', ...flags]],
      ['get', ['get', '22'.repeat(20), ...flags]],
      ['announce', ['announce', '33'.repeat(20), '--port', '6881', ...flags]],
      ['peers', ['peers', '33'.repeat(20), ...flags]],
      ['samples', ['samples', address, '--protocol', 'mainline']],
    ];
    const seen = new Set<string>();
    for (const [name, argv] of runs) {
      queries.length = 0;
      const r = await runCli(argv);
      // get finds no value (exit 1); every other command runs to its end against the responder.
      expect(r.code, `${name}: ${r.err.join(' | ')}`).toBe(name === 'get' ? 1 : 0);
      expect(queries.length, name).toBeGreaterThan(0);
      for (const q of queries) {
        expect(q, name).toMatchObject({ readOnly: true });
        seen.add(q.method);
      }
    }
    expect([...seen].sort()).toEqual(['announce_peer', 'find_node', 'get', 'get_peers', 'ping', 'put', 'sample_infohashes']);
  }, 60_000);

  it("`node` (which stays and answers) is not read-only; a one-shot command's node is", () => {
    const ro = (oneShot: boolean): boolean => {
      const bytes = cliProtocol('mainline', oneShot)!.codec.encode({ kind: 'request', tid: 1, id: RESPONDER_ID, method: 'PING' });
      const d = decodeKrpc(bytes);
      return d.ok && d.message.kind === 'query' && d.message.readOnly;
    };
    expect(ro(true)).toBe(true);
    expect(ro(false)).toBe(false);
  });
});
