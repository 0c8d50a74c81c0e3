// `kadscope samples HOST:PORT --protocol mainline`: ask one Mainline node BEP 51's sample_infohashes
// and print the infohashes it sampled, one per line (`--json`: one object). The asking node is
// read-only (BEP 43) and joins nothing: one request, one answer. A node that does not implement it
// answers error 204 or stays silent (bittorrent-dht); both are reported as "not supported" (exit 1).
import { isIP } from 'node:net';
import { parseAddress } from '../../../core/address';
import { DhtError } from '../../../core/errors';
import { bytesToHex, cryptoRandomBytes, hexToBytes } from '../../../core/id';
import { DhtNode } from '../../../core/node';
import { describeClientVersion, mainlineProtocol } from '../../../core/protocols/mainline/protocol';
import { endpointKey } from '../../../core/transport/types';
import { EXIT_FAILURE, EXIT_OK, intFlag, parse, UsageError, type Command } from '../shared';

export const samplesCommand: Command = {
  name: 'samples',
  summary: "ask one Mainline node for samples of the infohashes it stores (BEP 51 sample_infohashes)",
  usage: `kadscope samples HOST:PORT --protocol mainline [--target HEX] [--json]

  --protocol P   mainline (BEP 51 is BitTorrent's Mainline DHT; required)
  --target HEX   40 hex characters: the nodes in the answer are the closest to it (default random)
  --host         address the asking node binds (default 127.0.0.1, or ::1 for an IPv6 node; 0.0.0.0 beyond this machine)
  --timeout-ms   how long to wait for the answer (default 2000; no retry)
  --json         print one JSON object: address, supported, id, client, num, interval, samples, nodes, rttMs

Prints one sampled infohash per line; the count, num and interval go to stderr. The asking node is
read-only (BEP 43). A node that answers error 204, stays silent (bittorrent-dht does not implement
BEP 51) or answers without samples is reported as not supported, exit 1.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      protocol: { type: 'string' },
      target: { type: 'string' },
      host: { type: 'string' },
      'timeout-ms': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.protocol !== 'mainline') throw new UsageError('sample_infohashes is BEP 51, a Mainline query: add --protocol mainline');
    if (positionals.length !== 1) throw new UsageError('samples takes one address: the HOST:PORT of a Mainline node');
    const parsed = parseAddress(positionals[0]);
    if (!parsed.ok) throw new UsageError(`address: ${parsed.message}`);
    const to = parsed.value;
    if (values.target !== undefined && !/^[0-9a-fA-F]{40}$/.test(values.target)) throw new UsageError(`--target is 40 hex characters (160 bits); got "${values.target.slice(0, 50)}"`);
    const target = values.target !== undefined ? hexToBytes(values.target.toLowerCase()) : cryptoRandomBytes(20);
    const timeoutMs = intFlag('timeout-ms', values['timeout-ms'], 50, 60_000, 2_000);
    const host = values.host ?? (isIP(to.host) === 6 ? '::1' : '127.0.0.1');
    const address = endpointKey(to);

    const node = DhtNode.create({ protocol: mainlineProtocol({ readOnly: true }), host, port: 0, refreshOnBootstrap: false, lookupSelfOnBootstrap: false });
    await node.start();
    let answer;
    try {
      answer = await node.sampleInfohashesAt(to, target, { timeoutMs, retries: 0 });
    } catch (err) {
      const code = err instanceof DhtError ? err.code : null;
      if (code !== 'UNKNOWN_METHOD' && code !== 'TIMEOUT') throw err;
      const reason = code === 'TIMEOUT' ? `no answer within ${timeoutMs} ms` : 'error 204 (method unknown)';
      if (values.json) io.out(JSON.stringify({ address, supported: false, reason: code === 'TIMEOUT' ? 'timeout' : 'method-unknown' }));
      io.err(`kadscope: ${address} does not answer sample_infohashes: ${reason}; not supported (bittorrent-dht does not implement BEP 51)`);
      return EXIT_FAILURE;
    } finally {
      await node.stop();
    }
    const id = bytesToHex(answer.id);
    const client = answer.client !== undefined ? describeClientVersion(answer.client) : null;
    if (answer.sample === null) {
      if (values.json) io.out(JSON.stringify({ address, supported: false, reason: 'no-samples', id, client }));
      io.err(`kadscope: ${address} answered without samples: not a sample_infohashes answer; not supported`);
      return EXIT_FAILURE;
    }
    const s = answer.sample;
    const samples = s.samples.map(bytesToHex);
    if (values.json) {
      const nodes = answer.nodes.map((n) => ({ id: bytesToHex(n.id), host: n.host, port: n.port }));
      io.out(JSON.stringify({ address, supported: true, id, client, num: s.num ?? null, interval: s.interval ?? null, samples, nodes, rttMs: answer.rttMs }));
      return EXIT_OK;
    }
    for (const h of samples) io.out(h);
    io.err(
      `kadscope: ${samples.length} sample${samples.length === 1 ? '' : 's'} from ${address} (id ${id}${client ? `, ${client}` : ''}): num ${s.num ?? 'not given'}, interval ${s.interval ?? 'not given'} s`,
    );
    return EXIT_OK;
  },
};
