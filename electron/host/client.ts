// The typed client of the contract, for the renderer and for tests. No Node or Electron imports:
// it runs in the browser, in Electron's renderer (behind preload) and in vitest.
//
//   createWsClient(socket)          over a WebSocket-like object (browser WebSocket or the `ws` package)
//   createApi(invoke, subscribe)    the named methods over any invoke/subscribe pair (preload uses it)
//   sequenceChecker(cb)             wraps a batch callback: a gap in seq turns into resync: true
import {
  CONTRACT_VERSION,
  METHOD_NAMES,
  err,
  isMethodName,
  parseArgs,
  type ArgsIn,
  type ClientMessage,
  type EventBatch,
  type InvokeFn,
  type KadscopeApi,
  type MethodName,
  type Result,
  type ServerMessage,
  type ValueOf,
} from './contract';
import { decodeBatch, encodeBatch } from './batch-codec';

/** Requests waiting for an answer, per client; more are refused rather than queued without bound. */
export const MAX_PENDING_REQUESTS = 1024;

export type BatchListener = (batch: EventBatch) => void;

export interface KadscopeClient extends KadscopeApi {
  /** The generic form of every named method. */
  invoke: InvokeFn;
  /** Closes the connection; pending requests resolve with UNAVAILABLE. */
  close(): void;
}

export interface ClientOptions {
  /**
   * Validate arguments with the contract's schemas before sending (default true), so a bad argument
   * fails fast without a round trip. The host validates again either way.
   */
  validate?: boolean;
}

/**
 * Builds the named API (`api.ping({ address })`, ...) over a generic invoke and subscribe.
 * With validation on, bad arguments come back as INVALID_ARGUMENT without reaching the host.
 */
export function createApi(invoke: InvokeFn, subscribe: (cb: BatchListener) => () => void, options: ClientOptions = {}): KadscopeApi & { invoke: InvokeFn } {
  const validate = options.validate ?? true;
  const checked: InvokeFn = async <M extends MethodName>(method: M, args?: ArgsIn<M>): Promise<Result<ValueOf<M>>> => {
    if (validate) {
      if (!isMethodName(method)) return err('UNKNOWN_METHOD', `unknown method ${JSON.stringify(method)}`);
      const parsed = parseArgs(method, args);
      if (!parsed.ok) return parsed;
    }
    // The host receives the caller's arguments, not the parsed ones: it parses them itself.
    return invoke(method, args);
  };
  const api: Record<string, unknown> = { invoke: checked, subscribe };
  for (const name of METHOD_NAMES) api[name] = (args?: unknown) => checked(name, args as never);
  return api as unknown as KadscopeApi & { invoke: InvokeFn };
}

/**
 * Wraps a batch listener so that a missing seq (a lost or reordered batch) is reported as
 * resync: true on the batch that revealed it. `reset()` starts over (a new subscription).
 */
export function sequenceChecker(cb: BatchListener): BatchListener & { reset(): void } {
  let expected = 1;
  const check = ((batch: EventBatch) => {
    const gap = batch.seq !== expected;
    expected = batch.seq + 1;
    cb(gap && !batch.resync ? { ...batch, resync: true } : batch);
  }) as BatchListener & { reset(): void };
  check.reset = () => {
    expected = 1;
  };
  return check;
}

/**
 * A batch as it came off IPC or the WebSocket, expanded (batch-codec.ts), or null when it is
 * malformed: then it is logged with what is wrong and nothing of it is used. The next good batch
 * shows a gap in seq, so the listener reloads the snapshot (sequenceChecker).
 */
export function decodeWireBatch(wire: unknown): EventBatch | null {
  const r = decodeBatch(wire);
  if (r.ok) return r.value;
  console.error(`kadscope: dropped an event batch from the host: ${r.message}`);
  return null;
}

/** The part of a WebSocket the client uses; both the DOM WebSocket and `ws` fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

const WS_CONNECTING = 0;
const WS_OPEN = 1;

/**
 * A client over a WebSocket speaking the contract's JSON messages. Requests sent before the socket
 * opens are queued (bounded); when it closes, every pending request resolves with UNAVAILABLE and
 * listeners get a resync batch (the caller reconnects and reloads the snapshot).
 */
export function createWsClient(socket: SocketLike, options: ClientOptions = {}): KadscopeClient {
  let nextId = 1;
  let closed = false;
  const pending = new Map<number, (r: Result<unknown>) => void>();
  const outbox: string[] = [];
  const listeners = new Set<BatchListener>();
  let lastSeq = 0;
  let subscribed = false;

  const send = (msg: ClientMessage): boolean => {
    const text = JSON.stringify(msg);
    if (socket.readyState === WS_OPEN) {
      socket.send(text);
      return true;
    }
    if (socket.readyState === WS_CONNECTING && outbox.length < MAX_PENDING_REQUESTS) {
      outbox.push(text);
      return true;
    }
    return false;
  };

  const fail = (message: string): void => {
    closed = true;
    for (const resolve of pending.values()) resolve(err('UNAVAILABLE', message));
    pending.clear();
    outbox.length = 0;
    if (subscribed) for (const l of [...listeners]) l({ seq: lastSeq + 1, events: [], resync: true });
  };

  socket.addEventListener('open', () => {
    for (const text of outbox.splice(0)) socket.send(text);
  });
  socket.addEventListener('close', () => fail('the connection to the host closed'));
  socket.addEventListener('error', () => fail('the connection to the host failed'));
  socket.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') return;
    let msg: ServerMessage;
    try {
      msg = JSON.parse(ev.data) as ServerMessage;
    } catch {
      return; // the host only sends JSON; anything else is noise we cannot act on
    }
    if (msg.type === 'result') {
      const resolve = pending.get(msg.id);
      if (!resolve) return;
      pending.delete(msg.id);
      resolve(msg.result);
    } else if (msg.type === 'batch') {
      const { type: _type, ...wire } = msg;
      const batch = decodeWireBatch(wire);
      if (!batch) return;
      lastSeq = batch.seq;
      for (const l of [...listeners]) l(batch);
    } else if (msg.type === 'hello' && msg.contractVersion !== CONTRACT_VERSION) {
      console.warn(`kadscope: the host speaks contract v${msg.contractVersion}, this page v${CONTRACT_VERSION}; reload the page`);
    }
  });

  const rawInvoke: InvokeFn = <M extends MethodName>(method: M, args?: ArgsIn<M>): Promise<Result<ValueOf<M>>> => {
    if (closed) return Promise.resolve(err('UNAVAILABLE', 'the connection to the host is closed'));
    if (pending.size >= MAX_PENDING_REQUESTS) return Promise.resolve(err('UNAVAILABLE', `more than ${MAX_PENDING_REQUESTS} requests waiting for the host`));
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve as (r: Result<unknown>) => void);
      if (!send({ type: 'invoke', id, method, args })) {
        pending.delete(id);
        resolve(err('UNAVAILABLE', 'the connection to the host is not open'));
      }
    });
  };

  const subscribe = (cb: BatchListener): (() => void) => {
    const checked = sequenceChecker(cb);
    listeners.add(checked);
    if (!subscribed) {
      subscribed = true;
      lastSeq = 0;
      send({ type: 'subscribe' });
    }
    return () => {
      listeners.delete(checked);
      if (listeners.size === 0 && subscribed) {
        subscribed = false;
        send({ type: 'unsubscribe' });
      }
    };
  };

  const api = createApi(rawInvoke, subscribe, options);
  return Object.assign(api, {
    close: () => {
      if (!closed) socket.close(1000, 'client closed');
      fail('the client was closed');
    },
  });
}

/** The host side of any transport: what ExplorerService implements and both hosts call. */
export interface ContractHandler {
  invoke(method: string, args: unknown): Promise<Result<unknown>>;
  subscribe(sink: BatchSink): () => void;
}

/** Where a subscriber's batches go. `congested()` lets the batcher hold back for a slow consumer. */
export interface BatchSink {
  deliver(batch: EventBatch): void;
  congested?(): boolean;
}

/**
 * A client wired straight to a handler in the same process, with a JSON round trip on every message
 * so nothing but plain data crosses (as over IPC or a WebSocket). For tests and embedding.
 */
export function createMemoryClient(handler: ContractHandler, options: ClientOptions = {}): KadscopeClient {
  let closed = false;
  const unsubs = new Set<() => void>();
  const plain = <T>(x: T): T => (x === undefined ? x : (JSON.parse(JSON.stringify(x)) as T));
  const invoke: InvokeFn = async <M extends MethodName>(method: M, args?: ArgsIn<M>): Promise<Result<ValueOf<M>>> => {
    if (closed) return err('UNAVAILABLE', 'the client was closed');
    return plain(await handler.invoke(method, plain(args))) as Result<ValueOf<M>>;
  };
  const subscribe = (cb: BatchListener): (() => void) => {
    const checked = sequenceChecker(cb);
    // Batches take the hosts' path: encoded, through JSON, decoded.
    const unsub = handler.subscribe({
      deliver: (batch) => {
        const decoded = decodeWireBatch(plain(encodeBatch(batch)));
        if (decoded) checked(decoded);
      },
    });
    unsubs.add(unsub);
    return () => {
      unsubs.delete(unsub);
      unsub();
    };
  };
  const api = createApi(invoke, subscribe, options);
  return Object.assign(api, {
    close: () => {
      closed = true;
      for (const u of unsubs) u();
      unsubs.clear();
    },
  });
}
