// The only module that touches the host: `window.kadscope` (Electron preload) or the headless host's
// WebSocket. Everything else in the renderer uses the KadscopeApi this returns.
//
// Over WebSocket the connection is kept alive: when the socket closes, pending calls fail with
// UNAVAILABLE, subscribers get a resync batch, and we reconnect with backoff; on reconnect the
// subscription is renewed and subscribers get another resync (reload the snapshot).
import { createApi, createWsClient, sequenceChecker, type BatchListener, type KadscopeClient } from '../../electron/host/client';
import { NODE_PARAM, TOKEN_PARAM, isRemoteNodeId, WS_PATH, err, type ArgsIn, type InvokeFn, type KadscopeApi, type MethodName, type Result, type ValueOf } from '../../electron/host/contract';

export type ConnectionState =
  | { status: 'connecting'; attempt: number }
  | { status: 'open' }
  | { status: 'closed'; message: string; retryInMs: number | null }
  | { status: 'fatal'; message: string };

export type HostKindSeen = 'electron' | 'web';

export interface Connection {
  api: KadscopeApi & { invoke: InvokeFn };
  kind: HostKindSeen;
  /** The attached remote node this page shows (?node=<id>), or null for the host's own node. */
  remote: string | null;
  state(): ConnectionState;
  onState(cb: (s: ConnectionState) => void): () => void;
  /** Try now instead of waiting for the backoff timer. */
  reconnect(): void;
}

/** Reconnect delays, ms; the last repeats. */
export const RECONNECT_BACKOFF_MS = [500, 1000, 2000, 5000];

declare global {
  interface Window {
    kadscope?: KadscopeApi;
  }
}

/** The attached remote node a page shows (?node=<id>), or null for the host's own. */
function nodeOf(location: Location): string | null {
  const id = new URLSearchParams(location.search).get(NODE_PARAM);
  return isRemoteNodeId(id) ? id : null;
}

/** The URL that shows `node` (null: the host's own), keeping the token and the view. */
export function urlForNode(location: Location, node: string | null): string {
  const params = new URLSearchParams(location.search);
  if (node === null) params.delete(NODE_PARAM);
  else params.set(NODE_PARAM, node);
  return `${location.pathname}?${params.toString()}${location.hash}`;
}

export function connect(): Connection {
  if (window.kadscope) return fromPreload(window.kadscope, nodeOf(window.location));
  return fromWebSocket(window.location);
}

/** Electron: main answers for the node this page's URL names, ours or an attached one (remote.ts handlerForPage). */
function fromPreload(bridge: KadscopeApi, remote: string | null): Connection {
  const byName = bridge as unknown as Record<string, (args?: unknown) => Promise<Result<unknown>>>;
  const invoke: InvokeFn = <M extends MethodName>(method: M, args?: ArgsIn<M>) => {
    const fn = byName[method];
    if (typeof fn !== 'function') return Promise.resolve(err('UNKNOWN_METHOD', `the app does not offer ${method}`)) as Promise<Result<ValueOf<M>>>;
    return fn(args) as Promise<Result<ValueOf<M>>>;
  };
  // Preload may or may not check sequence numbers; checking twice is harmless.
  const subscribe = (cb: BatchListener) => bridge.subscribe(sequenceChecker(cb));
  const state: ConnectionState = { status: 'open' };
  return { api: createApi(invoke, subscribe), kind: 'electron', remote, state: () => state, onState: () => () => undefined, reconnect: () => undefined };
}

function fromWebSocket(location: Location): Connection {
  const token = new URLSearchParams(location.search).get(TOKEN_PARAM);
  const remote = nodeOf(location);
  // An attached remote node is reached through this host, which relays to it over TLS.
  const path = remote === null ? WS_PATH : `${WS_PATH}/remote/${remote}`;
  const listeners = new Set<BatchListener>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  let state: ConnectionState = { status: 'connecting', attempt: 1 };
  let client: KadscopeClient | null = null;
  let unsubscribeClient: (() => void) | null = null;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const setState = (s: ConnectionState): void => {
    state = s;
    for (const l of [...stateListeners]) l(s);
  };
  const resyncAll = (): void => {
    for (const l of [...listeners]) l({ seq: 0, events: [], resync: true });
  };

  const open = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    attempt++;
    setState({ status: 'connecting', attempt });
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}${path}?${TOKEN_PARAM}=${encodeURIComponent(token ?? '')}`);
    const c = createWsClient(socket);
    client = c;
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      attempt = 0;
      setState({ status: 'open' });
      if (listeners.size > 0) {
        unsubscribeClient = c.subscribe(dispatch);
        resyncAll();
      }
    });
    socket.addEventListener('close', (ev) => {
      if (client !== c) return;
      unsubscribeClient = null;
      client = null;
      if (!opened && attempt >= 2 && ev.code === 1008) {
        setState({ status: 'fatal', message: 'The host refused the session token. Open the URL the host printed.' });
        return;
      }
      const delay = RECONNECT_BACKOFF_MS[Math.min(attempt, RECONNECT_BACKOFF_MS.length - 1)];
      // 4001/4002: the host could not reach the remote node, or the remote closed (web-host.ts relay).
      const why = ev.code === 4001 || ev.code === 4002 ? `The remote node is unreachable: ${ev.reason}` : opened ? 'Lost the connection to the host.' : 'Cannot reach the host.';
      setState({ status: 'closed', message: why, retryInMs: delay });
      timer = setTimeout(open, delay);
    });
  };

  const dispatch: BatchListener = (batch) => {
    for (const l of [...listeners]) l(batch);
  };

  const invoke: InvokeFn = <M extends MethodName>(method: M, args?: ArgsIn<M>): Promise<Result<ValueOf<M>>> => {
    if (!client || state.status !== 'open') return Promise.resolve(err('UNAVAILABLE', 'not connected to the host; retrying'));
    return client.invoke(method, args);
  };
  const subscribe = (cb: BatchListener): (() => void) => {
    listeners.add(cb);
    if (listeners.size === 1 && client && state.status === 'open') unsubscribeClient = client.subscribe(dispatch);
    return () => {
      listeners.delete(cb);
      if (listeners.size === 0 && unsubscribeClient) {
        unsubscribeClient();
        unsubscribeClient = null;
      }
    };
  };

  const api = createApi(invoke, subscribe);
  if (!token) {
    state = { status: 'fatal', message: `This page needs its session token. Open the full URL the host printed (it ends in ?${TOKEN_PARAM}=…).` };
  } else {
    open();
  }
  return {
    api,
    kind: 'web',
    remote,
    state: () => state,
    onState: (cb) => {
      stateListeners.add(cb);
      return () => stateListeners.delete(cb);
    },
    reconnect: () => {
      if (token && state.status === 'closed') open();
    },
  };
}
