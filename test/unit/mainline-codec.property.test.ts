// Hostile input for the Mainline (KRPC) codec, property-based with fixed seeds, like
// codec.property.test.ts for wire v1: for every message type, valid messages round-trip; wrong
// types, wrong lengths, missing keys, truncated bencode and arbitrary edits decode to a drop
// reason (or, where the edit happens to leave a valid message, to one that re-encodes to itself);
// nothing throws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv6 } from '../../core/wire/compact';
import { bdecode, bencode, type BDict, type BValue } from '../../core/protocols/mainline/bencode';
import { decodeKrpc, encodeKrpc } from '../../core/protocols/mainline/krpc';
import {
  MAINLINE_DROP_REASONS,
  type MainlineContact,
  type MainlineDecodeResult,
  type MainlineMessage,
  type MainlinePeer,
  type PutItem,
} from '../../core/protocols/mainline/types';

const SEED = 12;

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });
const id20 = bytes(20, 20);
const tid = bytes(1, 16);
const version = bytes(0, 16);
const token = bytes(1, 64);
const seq = fc.oneof(fc.nat(), fc.maxSafeNat());
const port = fc.integer({ min: 1, max: 65535 });
const host = fc.oneof(bytes(4, 4).map((b) => formatIPv4(b)), bytes(16, 16).map((b) => formatIPv6(b)));
const peer: fc.Arbitrary<MainlinePeer> = fc.record({ host, port });
const contact: fc.Arbitrary<MainlineContact> = fc.record({ id: id20, host, port });

/** Any bencodable value (keys are byte strings read as latin1). */
const { bvalue } = fc.letrec<{ bvalue: BValue }>((tie) => ({
  bvalue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    bytes(0, 40),
    fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    fc.array(tie('bvalue'), { maxLength: 4 }),
    fc.array(fc.tuple(bytes(0, 6).map((b) => Buffer.from(b).toString('latin1')), tie('bvalue')), { maxLength: 4 }).map((e) => new Map(e)),
  ),
}));
const bencodedValue = bvalue.map((v) => bencode(v)).filter((b) => b.length <= 1000);

const header = { tid, id: id20, readOnly: fc.boolean(), version, want: fc.subarray(['n4', 'n6'] as const) };
const hdrKeys = ['kind', 'tid', 'id', 'readOnly', 'method'];
const q = <T extends Record<string, fc.Arbitrary<unknown>>>(method: string, args: T, required: string[] = Object.keys(args)) =>
  fc.record({ kind: fc.constant('query' as const), method: fc.constant(method), ...header, ...args }, { requiredKeys: [...hdrKeys, ...required] as never[] });

const mutable: fc.Arbitrary<PutItem> = fc.record({ type: fc.constant('mutable' as const), v: bencodedValue, k: bytes(32, 32), salt: bytes(0, 64), seq, sig: bytes(64, 64) });
const immutable: fc.Arbitrary<PutItem> = fc.record({ type: fc.constant('immutable' as const), v: bencodedValue });

const queries = {
  ping: q('ping', {}),
  find_node: q('find_node', { target: id20 }),
  get_peers: q('get_peers', { infoHash: id20 }),
  announce_peer: fc.oneof(
    q('announce_peer', { infoHash: id20, port, token, impliedPort: fc.constant(false) }),
    q('announce_peer', { infoHash: id20, port: fc.integer({ min: 0, max: 65535 }), token, impliedPort: fc.constant(true) }),
  ),
  get: q('get', { target: id20, seq }, ['target']),
  put: fc.oneof(q('put', { token, item: immutable }), q('put', { token, item: mutable, cas: seq }, ['token', 'item'])),
  sample_infohashes: q('sample_infohashes', { target: id20 }),
  unknown: q('unknown', { name: fc.stringMatching(/^[a-z_]{1,20}$/).filter((n) => !['ping', 'find_node', 'get_peers', 'announce_peer', 'get', 'put', 'sample_infohashes'].includes(n)) }),
};
const response = fc.record(
  {
    kind: fc.constant('response' as const),
    tid,
    id: id20,
    version,
    observed: peer,
    nodes: fc.array(contact, { maxLength: 16 }),
    token,
    values: fc.array(peer, { maxLength: 20 }),
    v: bencodedValue,
    k: bytes(32, 32),
    sig: bytes(64, 64),
    seq,
    samples: fc.array(id20, { maxLength: 20 }),
    interval: fc.integer({ min: 0, max: 21600 }),
    num: fc.nat(),
  },
  { requiredKeys: ['kind', 'tid', 'id'] },
);
const wellFormed = (s: string): boolean => Buffer.from(s, 'utf8').toString('utf8') === s;
const error = fc.record(
  {
    kind: fc.constant('error' as const),
    tid,
    version,
    code: fc.integer({ min: 0, max: 0xffff }),
    message: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200, unit: 'binary' }).filter(wellFormed)),
  },
  { requiredKeys: ['kind', 'tid', 'code', 'message'] },
);
const messageTypes: Record<string, fc.Arbitrary<MainlineMessage>> = { ...queries, response, error } as Record<string, fc.Arbitrary<MainlineMessage>>;
const anyMessage = fc.oneof(...Object.values(messageTypes));

/** A message as it comes back: IPv4 contacts before IPv6 ones. */
function normalized(m: MainlineMessage): MainlineMessage {
  if (m.kind !== 'response' || m.nodes === undefined) return m;
  const v4 = m.nodes.filter((c) => !c.host.includes(':'));
  const v6 = m.nodes.filter((c) => c.host.includes(':'));
  return { ...m, nodes: [...v4, ...v6] };
}

function checkResult(r: MainlineDecodeResult): void {
  if (!r.ok) {
    expect(MAINLINE_DROP_REASONS).toContain(r.reason);
    return;
  }
  const again = decodeKrpc(encodeKrpc(r.message));
  expect(again.ok).toBe(true);
  if (again.ok) expect(again.message).toEqual(r.message);
}

/** The bencoded tree of an encoded message. */
function tree(data: Uint8Array): BDict {
  const r = bdecode(data);
  if (!r.ok || !(r.value instanceof Map)) throw new Error('not a dictionary');
  return r.value;
}

type Path = Array<string | number>;

/** Every path to a value in the tree (not into a BEP 44 `v`, which may hold anything). */
function paths(v: BValue, at: Path = [], out: Path[] = []): Path[] {
  if (at.length > 0) out.push(at);
  const last = at[at.length - 1];
  if (at.length >= 2 && last === 'v') return out;
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v instanceof Map) for (const [k, x] of v) paths(x, [...at, k], out);
  return out;
}

function getAt(root: BValue, path: Path): BValue {
  let v = root;
  for (const p of path) v = (v instanceof Map ? v.get(p as string) : (v as BValue[])[p as number]) as BValue;
  return v;
}

/** A deep copy with the value at `path` replaced (or removed, for `undefined` under a dictionary). */
function withAt(root: BValue, path: Path, value: BValue | undefined): BValue {
  if (path.length === 0) return value as BValue;
  const [head, ...rest] = path;
  if (root instanceof Map) {
    const m = new Map(root);
    const next = rest.length === 0 ? value : withAt(root.get(head as string) as BValue, rest, value);
    if (next === undefined) m.delete(head as string);
    else m.set(head as string, next);
    return m;
  }
  const list = [...(root as BValue[])];
  const next = rest.length === 0 ? value : withAt(list[head as number], rest, value);
  if (next === undefined) list.splice(head as number, 1);
  else list[head as number] = next;
  return list;
}

const encodedOf = (arb: fc.Arbitrary<MainlineMessage>): fc.Arbitrary<Uint8Array> => arb.map((m) => encodeKrpc(m));

describe('Mainline codec: valid messages', () => {
  for (const [name, arb] of Object.entries(messageTypes)) {
    it(`${name}: round-trips exactly`, () => {
      fc.assert(
        fc.property(arb, (m) => {
          const r = decodeKrpc(encodeKrpc(m));
          if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
          expect(r.message).toEqual(normalized(m));
        }),
        { seed: SEED, numRuns: 150 },
      );
    });
  }
});

describe('Mainline codec: hostile input never throws and is dropped with a reason', () => {
  it('arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (data) => checkResult(decodeKrpc(data))),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('arbitrary bencoded values (past the bencode parser)', () => {
    fc.assert(
      fc.property(bvalue, (v) => checkResult(decodeKrpc(bencode(v)))),
      { seed: SEED, numRuns: 800 },
    );
  });

  for (const [name, arb] of Object.entries(messageTypes)) {
    it(`${name}: every truncation is dropped as not-bencode`, () => {
      fc.assert(
        fc.property(encodedOf(arb), fc.nat(), (data, cut) => {
          const at = cut % data.length;
          const r = decodeKrpc(data.subarray(0, at));
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.reason).toBe(at === 0 ? 'empty' : 'not-bencode');
        }),
        { seed: SEED, numRuns: 150 },
      );
    });

    it(`${name}: a wrong type anywhere (an integer for a string, a string for an integer, a list or dictionary for either) is dropped`, () => {
      fc.assert(
        fc.property(encodedOf(arb), fc.nat(), fc.nat({ max: 2 }), (data, pick, kind) => {
          const t = tree(data);
          // A BEP 44 `v` may be any value, so changing its type leaves a valid message.
          const leaves = paths(t).filter((p) => {
            if (p.length >= 2 && p[p.length - 1] === 'v') return false;
            const v = getAt(t, p);
            return v instanceof Uint8Array || typeof v === 'number';
          });
          const path = leaves[pick % leaves.length];
          const old = getAt(t, path);
          const wrong: BValue = kind === 0 ? (typeof old === 'number' ? new Uint8Array(2) : 7) : kind === 1 ? [old] : new Map([['x', old]]);
          const r = decodeKrpc(bencode(withAt(t, path, wrong)));
          expect(r.ok, `${path.join('.')} -> ${kind}`).toBe(false);
          checkResult(r);
        }),
        { seed: SEED, numRuns: 300 },
      );
    });

    // An error has no fixed-size field.
    if (name !== 'error') it(`${name}: a fixed-size field one byte short or long is dropped`, () => {
      const sized = new Set(['id', 'target', 'info_hash', 'k', 'sig', 'nodes', 'nodes6', 'samples', 'ip']);
      fc.assert(
        fc.property(encodedOf(arb), fc.nat(), fc.boolean(), (data, pick, longer) => {
          const t = tree(data);
          const fields = paths(t).filter((p) => {
            const v = getAt(t, p);
            if (!(v instanceof Uint8Array)) return false;
            const key = p[p.length - 1];
            return sized.has(key as string) || (p[p.length - 2] === 'values' && typeof key === 'number');
          });
          fc.pre(fields.length > 0);
          const path = fields[pick % fields.length];
          const old = getAt(t, path) as Uint8Array;
          fc.pre(longer || old.length > 0);
          const changed = longer ? Buffer.concat([old, new Uint8Array(1)]) : old.subarray(0, old.length - 1);
          const r = decodeKrpc(bencode(withAt(t, path, changed)));
          expect(r.ok, path.join('.')).toBe(false);
          checkResult(r);
        }),
        { seed: SEED, numRuns: 300 },
      );
    });
  }

  const required: Record<string, string[][]> = {
    any: [['y'], ['t']],
    query: [['q'], ['a'], ['a', 'id']],
    find_node: [['a', 'target']],
    sample_infohashes: [['a', 'target']],
    get: [['a', 'target']],
    get_peers: [['a', 'info_hash']],
    announce_peer: [['a', 'info_hash'], ['a', 'token']],
    put: [['a', 'token'], ['a', 'v'], ['a', 'sig'], ['a', 'seq']],
    response: [['r'], ['r', 'id']],
    error: [['e']],
  };
  for (const [name, arb] of Object.entries(messageTypes)) {
    it(`${name}: a missing required key is dropped`, () => {
      const keys = [...required.any, ...(name === 'response' || name === 'error' ? [] : required.query), ...(required[name] ?? [])];
      fc.assert(
        fc.property(encodedOf(arb), fc.nat(), (data, pick) => {
          const t = tree(data);
          const present = keys.filter((p) => getAt(t, p.slice(0, -1)) instanceof Map && (getAt(t, p.slice(0, -1)) as BDict).has(p[p.length - 1]));
          const path = present[pick % present.length];
          const r = decodeKrpc(bencode(withAt(t, path, undefined)));
          expect(r.ok, path.join('.')).toBe(false);
          checkResult(r);
        }),
        { seed: SEED, numRuns: 150 },
      );
    });
  }

  it('a port without implied_port must be 1..65535', () => {
    const data = encodeKrpc({ kind: 'query', tid: new Uint8Array([1]), id: new Uint8Array(20), readOnly: false, method: 'announce_peer', infoHash: new Uint8Array(20), port: 80, token: new Uint8Array([1]), impliedPort: false });
    for (const bad of [0, 65536, -1]) {
      const r = decodeKrpc(bencode(withAt(tree(data), ['a', 'port'], bad)));
      expect(r).toMatchObject({ ok: false, reason: 'bad-args' });
    }
  });

  it('random edits at any depth: a field replaced, removed or added', () => {
    const hostile: fc.Arbitrary<BValue> = fc.oneof(
      fc.integer({ min: -5, max: 70000 }),
      fc.constantFrom(0, 1, 2, 5, 6, 17, 18, 19, 20, 21, 26, 32, 38, 64, 65).chain((n) => bytes(n, n)),
      bvalue,
    );
    fc.assert(
      fc.property(encodedOf(anyMessage), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), hostile, fc.constantFrom('id', 'v', 'x', 'nodes', 'ro', 'ip')), { minLength: 1, maxLength: 3 }), (data, edits) => {
        let t: BValue = tree(data);
        for (const [pick, op, value, key] of edits) {
          const all = paths(t);
          if (all.length === 0) break;
          const path = all[pick % all.length];
          const parent = getAt(t, path.slice(0, -1));
          if (op === 0) t = withAt(t, path, value);
          else if (op === 1 && parent instanceof Map) t = withAt(t, path, undefined);
          else if (parent instanceof Map) t = withAt(t, [...path.slice(0, -1), key], value);
        }
        checkResult(decodeKrpc(bencode(t)));
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('byte mutations of valid datagrams', () => {
    fc.assert(
      fc.property(encodedOf(anyMessage), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (data, edits) => {
        const b = new Uint8Array(data);
        for (const [at, value] of edits) b[at % b.length] = value;
        checkResult(decodeKrpc(b));
      }),
      { seed: SEED, numRuns: 800 },
    );
  });
});
