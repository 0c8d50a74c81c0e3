// The app's attack surface, property-based: every contract method, fed random values and malformed
// versions of valid arguments (wrong types, extra and missing fields, huge strings, prototype
// keys, deep nesting) through the in-memory client pair (a JSON round trip, as over IPC or the
// WebSocket; the client does not validate, so everything reaches the host). Each call must come back
// as a Result: ok, or a known error code with a clear message (INVALID_ARGUMENT naming the method),
// never INTERNAL, never a throw; the host keeps serving and nothing leaks into Object.prototype.
//
// The host's node runs on the in-process memory network: whatever address a fuzzed ping or join
// names, nothing leaves the process. The testnet is a stand-in (no nodes are started).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../core/clock';
import { DhtNode } from '../../core/node';
import { MemoryNetwork } from '../../core/transport/memory';
import { createMemoryClient, type KadscopeClient } from '../../electron/host/client';
import { METHOD_NAMES, type ErrorCode, type MethodName, type Result, type TestnetStatus } from '../../electron/host/contract';
import { ExplorerService } from '../../electron/host/service';
import type { TestnetHandle } from '../../electron/host/testnet-runner';

const SEED = 0xf022;
const RUNS_PER_METHOD = 120;

/** Every code a caller may see (electron/host/contract.ts ErrorCode). */
const KNOWN_CODES = new Set<ErrorCode>([
  'INVALID_ARGUMENT', 'NOT_STARTED', 'STOPPED', 'ABORTED', 'TIMEOUT', 'TOO_MANY_IN_FLIGHT', 'BIND_FAILED', 'NO_PEERS', 'NOT_FOUND',
  'REMOTE_ERROR', 'INVALID_TOKEN', 'VALUE_TOO_LARGE', 'SALT_TOO_LARGE', 'BAD_SIGNATURE', 'HASH_MISMATCH', 'SEQ_TOO_LOW', 'SEQ_REUSED',
  'CAS_MISMATCH', 'STORE_FULL', 'RATE_LIMITED', 'PROTOCOL', 'UNKNOWN_METHOD', 'UNSUPPORTED', 'CORRUPT_FILE', 'UNAVAILABLE', 'CONFLICT',
]);
/** Longest error message we accept as "clear" rather than a dump. */
const MAX_MESSAGE_CHARS = 2_000;

const HEX64 = 'ab'.repeat(32);
/** A valid argument for every method: the base the malformed ones are made from. */
const VALID: Record<MethodName, unknown> = {
  info: undefined,
  snapshot: {},
  join: { bootstrap: ['10.200.0.9:4000'] },
  ping: { address: '10.200.0.9:4000' },
  findNode: { target: HEX64 },
  startLookup: { target: HEX64, kind: 'find-node' },
  cancelLookup: { lookupId: 'abc' },
  records: undefined,
  get: { key: HEX64 },
  put: { value: { text: 'hello' } },
  putMutable: { value: { base64: 'aGk=' }, seq: 1, salt: 's', keyPair: 'generate', cas: 0 },
  generateKeyPair: { name: 'fuzz' },
  listKeyPairs: undefined,
  importKeyPair: { name: 'imported', json: '{"version":1}' },
  announce: { topic: 'fuzz', port: 4000 },
  lookupPeers: { topic: 'fuzz' },
  testnetStart: { size: 4, join: false },
  testnetStop: undefined,
  testnetAdd: { count: 1 },
  testnetStopRandom: { count: 1 },
  testnetStatus: undefined,
  tracesList: undefined,
  traceGet: { id: 'nope' },
  traceImport: { json: '{"format":"kadtrace"}' },
  remoteList: undefined,
  // Port 1 on loopback: refused at once, never anything beyond this machine.
  remoteAttach: { url: 'https://127.0.0.1:1', token: 'ab', fingerprint: 'AB:CD' },
  remoteDetach: { id: 'r1' },
  methodsList: undefined,
  call: { address: '10.200.0.9:4000', name: 'kadscope.info', args: '{}' },
  broadcast: { text: 'fuzz', hopLimit: 2 },
  broadcasts: undefined,
  settingsGet: undefined,
  settingsSet: { theme: 'dark', graphMaxPeers: 100 },
  crawlStart: { bootstrap: ['10.200.0.9:4000'] },
  crawlCancel: undefined,
  crawlStatus: undefined,
  crawlsList: undefined,
  crawlGet: { id: 1 },
  crawlCompare: { from: 1, to: 2 },
};

// ---- generators of hostile arguments ----

const nasty = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', '\u0000', '../../etc/passwd', '%00', '${x}', '<script>'),
  fc.string({ maxLength: 40 }),
);
const bigString = fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n));
const weirdNumber = fc.constantFrom(0, -0, -1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER + 2, 1e308, Number.NaN, Number.POSITIVE_INFINITY);
const leaf = fc.oneof(fc.constant(null), fc.constant(undefined), fc.boolean(), weirdNumber, fc.double(), fc.integer(), nasty, bigString, fc.constant([]), fc.constant({}));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('v'), { maxLength: 5 }), fc.dictionary(nasty, tie('v'), { maxKeys: 5 })),
})).v;
/** Nested 2,000 deep: a parser or schema that recurses naively would blow the stack. */
const deep = fc.integer({ min: 500, max: 2_000 }).map((n) => {
  let o: unknown = 1;
  for (let i = 0; i < n; i++) o = { a: o };
  return o;
});
/** Prototype-pollution payloads as they arrive after JSON.parse (own __proto__ keys). */
const pollution = fc.constantFrom(
  JSON.parse('{"__proto__":{"polluted":"yes"}}') as unknown,
  JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}') as unknown,
  JSON.parse('{"bootstrap":["10.0.0.1:1"],"__proto__":{"polluted":"yes"}}') as unknown,
  JSON.parse('{"value":{"text":"x","__proto__":{"polluted":"yes"}}}') as unknown,
);

/** A valid argument object with one field replaced, removed, or one field added. */
function malformed(base: unknown): fc.Arbitrary<unknown> {
  if (typeof base !== 'object' || base === null) return fc.oneof(value, fc.dictionary(nasty, value, { maxKeys: 3 }));
  const keys = Object.keys(base);
  const withField = keys.length === 0 ? fc.constant(base) : fc.tuple(fc.constantFrom(...keys), fc.oneof(value, bigString, deep)).map(([k, v]) => ({ ...base, [k]: v }));
  const without = keys.length === 0 ? fc.constant(base) : fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(base).filter(([key]) => key !== k)));
  const extra = fc.tuple(nasty, value).map(([k, v]) => ({ ...base, [k]: v }));
  return fc.oneof(withField, without, extra);
}

function argsFor(method: MethodName): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: malformed(VALID[method]) }, { weight: 2, arbitrary: value }, { weight: 1, arbitrary: deep }, { weight: 1, arbitrary: pollution }, { weight: 1, arbitrary: fc.constant(VALID[method]) });
}

// ---- the host ----

function fakeTestnet(size: number): TestnetHandle {
  let alive = size;
  let running = true;
  const status = (): TestnetStatus =>
    running
      ? { running: true, transport: 'udp', alive, stopped: size - alive, bootstrap: ['10.200.0.1:4000'], inWorker: false, startedAt: 0 }
      : { running: false, transport: null, alive: 0, stopped: 0, bootstrap: [], inWorker: false, startedAt: null };
  return {
    inWorker: false,
    status,
    add: async (n) => {
      alive += n;
    },
    stopRandom: async (n) => {
      alive = Math.max(0, alive - n);
      return [];
    },
    stop: async () => {
      running = false;
    },
  };
}

let net: MemoryNetwork;
let service: ExplorerService;
let client: KadscopeClient;

beforeAll(async () => {
  net = new MemoryNetwork({ clock: systemClock }, { latencyMs: { min: 0, max: 1 } });
  service = new ExplorerService(
    {
      createNode: (o) => DhtNode.create({ ...o, transport: net.createTransport({ host: '10.100.0.1', port: 4000 }), rpcTimeoutMs: 20, rpcRetries: 0 }),
      startTestnet: async ({ size }) => fakeTestnet(size),
    },
    { host: 'memory', appVersion: 'fuzz', dataDir: null, bootstrap: [], testnetSize: 0 },
  );
  await service.start();
  client = createMemoryClient(service, { validate: false });
});

afterAll(async () => {
  client.close();
  await service.stop();
  net.destroy();
});

function checkResult(method: string, r: Result<unknown>): void {
  expect(typeof r).toBe('object');
  if (r.ok) return;
  expect(KNOWN_CODES.has(r.code as ErrorCode), `${method}: unexpected code ${r.code}: ${r.message}`).toBe(true);
  expect(typeof r.message).toBe('string');
  expect(r.message.length).toBeGreaterThan(0);
  expect(r.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  if (r.code === 'INVALID_ARGUMENT' && !/\bjson\b|name: a key pair|trace/.test(r.message)) expect(r.message.startsWith(`${method}:`), r.message).toBe(true);
}

describe('every contract method under random and malformed arguments', () => {
  it('has a valid base argument for every method, so none is left out', () => {
    expect(Object.keys(VALID).sort()).toEqual([...METHOD_NAMES].sort());
  });

  for (const method of METHOD_NAMES) {
    it(`${method}: a Result with a clear error, never INTERNAL, never a crash`, async () => {
      const errors = vi.spyOn(console, 'error');
      const codes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(argsFor(method), async (args) => {
          const r = await client.invoke(method, args as never);
          checkResult(method, r);
          if (!r.ok) codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        }),
        { seed: SEED + METHOD_NAMES.indexOf(method), numRuns: RUNS_PER_METHOD },
      );
      // Malformed input was refused as such, and nothing was logged as an internal failure.
      if (method !== 'info' && VALID[method] !== undefined) expect(codes.get('INVALID_ARGUMENT') ?? 0).toBeGreaterThan(0);
      expect(errors).not.toHaveBeenCalled();
      errors.mockRestore();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      // The host still serves.
      expect(await client.info()).toMatchObject({ ok: true, value: { host: 'memory' } });
    });
  }

  it('unknown and hostile method names, and a burst of concurrent hostile calls, leave the host serving', async () => {
    await fc.assert(
      fc.asyncProperty(nasty, async (name) => {
        const r = await client.invoke(name as MethodName, {} as never);
        if (!METHOD_NAMES.includes(name as MethodName)) expect(r).toMatchObject({ ok: false, code: 'UNKNOWN_METHOD' });
      }),
      { seed: SEED, numRuns: 200 },
    );
    const burst = fc.sample(fc.tuple(fc.constantFrom(...METHOD_NAMES), value), { seed: SEED, numRuns: 300 });
    const results = await Promise.all(burst.map(([m, a]) => client.invoke(m, a as never)));
    results.forEach((r, i) => checkResult(burst[i][0], r));
    const s = await client.snapshot();
    expect(s.ok).toBe(true);
    expect(service.node.running).toBe(true);
  });
});
