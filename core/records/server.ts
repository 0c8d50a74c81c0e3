// Answering the record requests: FIND_VALUE, GET_PEERS, STORE and ANNOUNCE. Writes need a valid
// token; a STORE is acknowledged only once it is on disk (when there is a data directory).
import { DhtError, type DhtErrorCode } from '../errors';
import { bytesToHex } from '../id';
import type { ResponseBody } from '../rpc/rpc';
import { endpointKey, type Endpoint } from '../transport/types';
import type { RequestMessage } from '../wire/types';
import type { RecordLayerDeps } from './config';
import { fitResponse } from './fit';
import { StorePolicies } from './policy';
import type { RecordMaintenance } from './maintenance';
import type { RecordStore } from './store';
import type { TokenManager } from './tokens';
import { validateRecord } from './validate';

export class RecordServer {
  /** STOREs and ANNOUNCEs refused, by method and refusal code (bounded by the DhtErrorCode set). */
  readonly refusals: Record<'STORE' | 'ANNOUNCE', Partial<Record<DhtErrorCode, number>>> = { STORE: {}, ANNOUNCE: {} };
  /** What this node agrees to keep for others: store policy and validators (policy.ts). */
  readonly policies = new StorePolicies();

  constructor(
    private readonly deps: RecordLayerDeps,
    private readonly store: RecordStore,
    private readonly tokens: TokenManager,
    private readonly maintenance: RecordMaintenance,
  ) {}

  /** A write token for the requester at `from`; FIND_NODE answers carry one too. */
  issueToken(from: Endpoint): Uint8Array {
    return this.tokens.issue(from);
  }

  handle(req: RequestMessage, from: Endpoint): ResponseBody | DhtError | Promise<ResponseBody | DhtError> {
    const now = this.deps.clock.now();
    switch (req.method) {
      case 'FIND_VALUE': {
        this.maintenance.noteAsked(req.key, req.id);
        const body: ResponseBody = { nodes: this.deps.closestWire(req.key, req.families), token: this.tokens.issue(from) };
        const held = this.store.get(req.key, now);
        // With `seq` the asker already has that version: send ours only if it is newer. A protocol
        // with a get per kind (HyperDHT) is answered only with a record of the kind it asked for.
        const kindFits = req.mutable === undefined || req.mutable === (held?.record.type === 'mutable');
        if (held && kindFits && (held.record.type !== 'mutable' || req.seq === undefined || held.record.seq > req.seq)) body.record = held.record;
        return body.record ? fitResponse(body, this.deps.selfId, from, this.deps.encode, this.deps.maxAnswerBytes) : body;
      }
      case 'GET_PEERS': {
        const peers = this.store.peers(req.topic, now, undefined, from.host);
        const body: ResponseBody = { nodes: this.deps.closestWire(req.topic, req.families), token: this.tokens.issue(from), peers };
        return peers.length > 0 ? fitResponse(body, this.deps.selfId, from, this.deps.encode, this.deps.maxAnswerBytes) : body;
      }
      case 'STORE':
        return this.onStore(req, from, now);
      case 'ANNOUNCE': {
        const key = bytesToHex(req.topic);
        const bad = this.tokens.check(from, req.token);
        if (bad) return this.refuse('ANNOUNCE', key, bad, from);
        // A signed public key (HyperDHT) is kept only when signed for us and the token we issued.
        const a = req.announcer;
        const model = this.store.model;
        if (a && !model.verifyAnnouncement?.(req.topic, req.token, this.deps.selfId, a)) {
          return this.refuse('ANNOUNCE', key, DhtError.refusal('BAD_SIGNATURE', 'the announcement is not signed for this node and token'), from);
        }
        const peer = a ? { host: a.relayAddresses[0]?.host ?? '0.0.0.0', port: a.relayAddresses[0]?.port ?? 0, publicKey: a.publicKey, relayAddresses: a.relayAddresses } : { host: from.host, port: req.port };
        const r = this.store.announce(req.topic, peer, now, a ? undefined : req.locals);
        if (!r.ok) return this.refuse('ANNOUNCE', key, r.error, from);
        return {};
      }
      default:
        return new DhtError('UNKNOWN_METHOD', `${req.method} is not served by this node`, { wireCode: 3 });
    }
  }

  private onStore(req: Extract<RequestMessage, { method: 'STORE' }>, from: Endpoint, now: number): ResponseBody | DhtError | Promise<ResponseBody | DhtError> {
    const key = bytesToHex(req.key);
    const bad = this.tokens.check(from, req.token);
    if (bad) return this.refuse('STORE', key, bad, from);
    // The record's own checks first, so a forged record is refused as such (store.put checks
    // again; only a node with a policy pays for that twice).
    if (this.policies.active && validateRecord(req.key, req.record, this.store.model) === null) {
      const refused = this.policies.check(req.key, req.record, from, req.id, now);
      if (refused) return this.refuse('STORE', key, refused, from);
    }
    const r = this.store.put(req.key, req.record, { from, now, ...(req.cas !== undefined ? { cas: req.cas } : {}) });
    if (!r.ok) return this.refuse('STORE', key, r.error, from);
    // New content is passed on once; a refresh is the publisher doing that job itself.
    if (!r.stored.local && r.outcome !== 'refreshed') this.maintenance.arrived(key);
    const durable = this.maintenance.stored(r, bytesToHex(req.id));
    if (!durable) return {};
    // Acknowledge only once the record is on disk: a crash after our answer must not lose it.
    return durable.then(
      () => ({}),
      (e: unknown) => new DhtError('INTERNAL', `the record could not be saved: ${(e as Error).message}`),
    );
  }

  private refuse(method: 'STORE' | 'ANNOUNCE', key: string, error: DhtError, from: Endpoint): DhtError {
    const counts = this.refusals[method];
    counts[error.code] = (counts[error.code] ?? 0) + 1;
    this.deps.emit('record-refused', { key, method, code: error.code, reason: error.message, from: endpointKey(from) });
    return error;
  }
}
