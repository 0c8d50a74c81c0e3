// Remote attach, the client side: this host connects to another machine's `kadscope serve --listen`
// over TLS with that host's session token, and the explorer shows the remote node as it shows ours
// (the web host relays the page's WebSocket to it, see web-host.ts).
//
// The token must never reach anyone but the remote we mean: before any HTTP is sent, a bare TLS
// handshake fetches the remote's certificate and checks it (the SHA-256 fingerprint the user pinned,
// or else a certificate the system trusts for that name). The WebSocket is then opened trusting only
// that certificate, and its fingerprint is checked again on that connection.
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import WebSocket from 'ws';
import { createWsClient, type BatchSink, type ContractHandler, type KadscopeClient } from './client';
import { LOCAL_ONLY_METHODS, NODE_PARAM, isRemoteNodeId, TOKEN_PARAM, WS_PATH, err, type RemoteNodeDto, type RemoteSummary, type RemotesDto } from './contract';

export const MAX_ATTACHED_NODES = 8;
export const REMOTE_CONNECT_TIMEOUT_MS = 10_000;
/** How often the host reads each attached node's figures for the side-by-side Overview. */
export const REMOTE_POLL_MS = 2_000;
/** Pages (subscribers) one attached node serves through this host at once (handler()). */
export const MAX_REMOTE_SUBSCRIBERS = 16;
/** Lookups whose median duration the summary shows (the newest finished ones). */
const SUMMARY_LOOKUPS = 50;

export class RemoteError extends Error {}

/** Where and how to reach one remote host: what attach() verified. */
export interface RemoteTarget {
  /** wss://host:port (no path, no token). */
  origin: string;
  host: string;
  port: number;
  token: string;
  /** SHA-256 of the remote's certificate, "AB:CD:…" as openssl and Node print it. */
  fingerprint: string;
  /** The certificate itself: the WebSocket trusts it and nothing else. */
  certPem: string;
}

/** "ab cd…", "abcd…" or "AB:CD:…" to "AB:CD:…"; null when it is not 32 bytes of hex. */
function normalizeFingerprint(text: string): string | null {
  const hex = text.replace(/^sha256[:=]?/i, '').replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  return hex.match(/../g)!.join(':');
}

function parseRemoteUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RemoteError(`"${text}" is not a URL; expected https://HOST:PORT (the address kadscope serve --listen printed)`);
  }
  if (url.protocol === 'http:' || url.protocol === 'ws:') {
    throw new RemoteError(`refusing plain ${url.protocol.slice(0, -1).toUpperCase()}: remote nodes are attached over TLS only; use https://${url.host}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'wss:') throw new RemoteError(`"${url.protocol}" is not supported; expected https://HOST:PORT`);
  return url;
}

function certPem(cert: PeerCertificate): string {
  const b64 = cert.raw.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/**
 * Checks the remote's certificate with a TLS handshake that sends nothing: against the pinned
 * fingerprint if one is given, else it must be trusted by the system for the URL's host name.
 */
export async function verifyRemote(urlText: string, token: string, pinned?: string): Promise<RemoteTarget> {
  const url = parseRemoteUrl(urlText);
  if (token.trim() === '') throw new RemoteError('a session token is needed: the remote host prints it (the token=… in the URL kadscope serve printed)');
  let want: string | null = null;
  if (pinned !== undefined && pinned.trim() !== '') {
    want = normalizeFingerprint(pinned);
    if (!want) throw new RemoteError('the fingerprint is not a SHA-256 fingerprint (64 hex digits, with or without colons)');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const where = `${url.hostname}:${port}`;
  const { cert, authorized, authError } = await new Promise<{ cert: PeerCertificate; authorized: boolean; authError: string | null }>((resolve, reject) => {
    const socket = tlsConnect({ host, port, servername: /^[\d.]+$|:/.test(host) ? undefined : host, rejectUnauthorized: false, timeout: REMOTE_CONNECT_TIMEOUT_MS });
    const fail = (message: string): void => {
      socket.destroy();
      reject(new RemoteError(message));
    };
    socket.once('secureConnect', () => {
      const c = socket.getPeerCertificate();
      const r = { cert: c, authorized: socket.authorized, authError: socket.authorizationError ? String(socket.authorizationError) : null };
      socket.end();
      if (!c || !c.raw) fail(`${where} presented no certificate`);
      else resolve(r);
    });
    socket.once('timeout', () => fail(`${where} did not complete a TLS handshake within ${REMOTE_CONNECT_TIMEOUT_MS / 1000} s`));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') fail(`nothing is listening at ${where} (is kadscope serve --listen running there?)`);
      else if (/wrong version number|packet length too long|unknown protocol|EPROTO/i.test(`${e.code} ${e.message}`)) {
        fail(`${where} does not speak TLS (a plain-HTTP server?); a remote kadscope must run serve --listen, which serves TLS only`);
      } else fail(`cannot reach ${where}: ${e.message}`);
    });
  });
  const fingerprint = new X509Certificate(cert.raw).fingerprint256;
  if (want !== null && fingerprint !== want) {
    throw new RemoteError(`certificate mismatch: ${where} presented a certificate with SHA-256 fingerprint ${fingerprint}, not the pinned ${want}; not sending the token`);
  }
  if (want === null && !authorized) {
    throw new RemoteError(
      `the certificate of ${where} is not trusted (${authError ?? 'unknown issuer'}); if it is the one kadscope serve --listen generated, pin its SHA-256 fingerprint (printed at start): ${fingerprint}`,
    );
  }
  return { origin: `wss://${url.host}`, host, port, token: token.trim(), fingerprint, certPem: certPem(cert) };
}

/** The API WebSocket to a verified remote; rejects with a clear message (wrong token, too many connections, ...). */
export function openRemoteSocket(t: RemoteTarget): Promise<WebSocket> {
  const where = `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${t.origin}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(t.token)}`, {
      ca: t.certPem,
      // Trusted because it is the pinned certificate; its name need not match the address typed.
      checkServerIdentity: (_host: string, cert: PeerCertificate) =>
        cert.fingerprint256 === t.fingerprint ? undefined : new RemoteError(`certificate changed: ${where} now presents ${cert.fingerprint256}, not ${t.fingerprint}`),
      handshakeTimeout: REMOTE_CONNECT_TIMEOUT_MS,
      perMessageDeflate: false,
      maxPayload: 64 * 1024 * 1024,
    } as WebSocket.ClientOptions & { checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined } as never);
    const fail = (message: string): void => {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      reject(new RemoteError(message));
    };
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body = (body + c).slice(0, 300)));
      res.on('end', () => {
        const why = body.trim();
        if (res.statusCode === 401) fail(`${where} refused the session token${why ? `: ${why}` : ''}`);
        else fail(`${where} refused the connection: HTTP ${res.statusCode}${why ? ` (${why})` : ''}`);
      });
    });
    ws.once('error', (e) => fail(e instanceof RemoteError ? e.message : `cannot connect to ${where}: ${e.message}`));
    ws.once('open', () => {
      ws.removeAllListeners('error');
      ws.removeAllListeners('unexpected-response');
      resolve(ws);
    });
  });
}

interface Attached {
  id: string;
  label: string;
  target: RemoteTarget;
  client: KadscopeClient | null;
  socket: WebSocket | null;
  state: RemoteNodeDto['state'];
  error: string | null;
  summary: RemoteSummary | null;
  nodeId: string | null;
  last: { at: number; requests: number } | null;
  polling: boolean;
  /** Pages shown this node through handler(), and their subscriptions on the current client. */
  sinks: Map<BatchSink, (() => void) | null>;
}

/** The attached node a page shows: its URL's ?node=<id> (as the renderer sets it), or null for this host's own. */
export function pageNode(pageUrl: string): string | null {
  let id: string | null;
  try {
    id = new URL(pageUrl).searchParams.get(NODE_PARAM);
  } catch {
    return null;
  }
  return isRemoteNodeId(id) ? id : null;
}

/**
 * The contract as the page at `pageUrl` should see it: this host's own node, or the attached node
 * its URL names. For a host whose page cannot open a connection of its own (Electron's window talks
 * to main over IPC): main calls the handler for the page, whichever node that is.
 */
export function handlerForPage(pageUrl: string, local: ContractHandler, remotes: Pick<RemoteNodes, 'handler'>): ContractHandler {
  const id = pageNode(pageUrl);
  return id === null ? local : remotes.handler(id, local);
}

type SnapshotLike = { node: { id: string; peers: unknown[]; counters: { rpc: Record<string, { sent: number; received: number }> } } };
type TraceLike = { done: boolean; summary: { durationMs: number | null } };

/** Requests sent and answered, over every method: the "RPC rate" the side-by-side view shows. */
function requestCount(s: SnapshotLike): number {
  let n = 0;
  for (const c of Object.values(s.node.counters.rpc)) n += c.sent + c.received;
  return n;
}

function medianLookupMs(traces: TraceLike[]): number | null {
  const d = traces
    .filter((t) => t.done && t.summary.durationMs !== null)
    .slice(0, SUMMARY_LOOKUPS)
    .map((t) => t.summary.durationMs!)
    .sort((a, b) => a - b);
  if (d.length === 0) return null;
  return d.length % 2 ? d[(d.length - 1) / 2] : (d[d.length / 2 - 1] + d[d.length / 2]) / 2;
}

/** Reads one host's figures through its contract (ours or a remote's): peers, request rate, lookup median. */
export function summarize(snapshot: SnapshotLike, traces: TraceLike[], last: { at: number; requests: number } | null, now: number): { summary: RemoteSummary; last: { at: number; requests: number } } {
  const requests = requestCount(snapshot);
  const dt = last ? (now - last.at) / 1000 : 0;
  return {
    summary: {
      nodeId: snapshot.node.id,
      peers: snapshot.node.peers.length,
      rpcPerSecond: last && dt > 0 ? Math.max(0, (requests - last.requests) / dt) : null,
      lookupMedianMs: medianLookupMs(traces),
    },
    last: { at: now, requests },
  };
}

/** The nodes this host is attached to (bounded), kept connected and summarised for the Overview. */
export class RemoteNodes {
  private readonly nodes = new Map<string, Attached>();
  private seq = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  constructor(private readonly local: () => Promise<{ summary: RemoteSummary }>) {}

  async attach(args: { url: string; token: string; fingerprint?: string }): Promise<RemoteNodeDto> {
    if (this.closed) throw new RemoteError('the host is stopping');
    if (this.nodes.size >= MAX_ATTACHED_NODES) throw new RemoteError(`at most ${MAX_ATTACHED_NODES} remote nodes can be attached; detach one first`);
    const target = await verifyRemote(args.url, args.token, args.fingerprint);
    for (const n of this.nodes.values()) {
      if (n.target.origin === target.origin) throw new RemoteError(`${target.origin.replace('wss://', 'https://')} is already attached`);
    }
    // Proves the token before the node joins the list.
    const socket = await openRemoteSocket(target);
    const id = `r${++this.seq}`;
    const a: Attached = {
      id,
      label: `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`,
      target,
      client: null,
      socket: null,
      state: 'connecting',
      error: null,
      summary: null,
      nodeId: null,
      last: null,
      polling: false,
      sinks: new Map(),
    };
    this.nodes.set(id, a);
    this.adopt(a, socket);
    await this.poll(a);
    this.ensureTimer();
    return this.dto(a);
  }

  detach(id: string): boolean {
    const a = this.nodes.get(id);
    if (!a) return false;
    this.nodes.delete(id);
    a.client?.close(); // its subscribers get a resync batch; what they ask next is refused as detached
    a.sinks.clear();
    a.socket?.terminate();
    if (this.nodes.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    return true;
  }

  async list(): Promise<RemotesDto> {
    return { local: (await this.local()).summary, remotes: [...this.nodes.values()].map((a) => this.dto(a)) };
  }

  /**
   * The contract as attached node `id` answers it, over this host's connection to it (for a page
   * this host serves without a connection of its own: Electron's window). The remote-node methods
   * are answered by `local`: the list is this host's, whichever node the page shows. Subscribers
   * follow reconnects: a lost connection sends them a resync batch, and so does the new one.
   */
  handler(id: string, local: ContractHandler): ContractHandler {
    const unavailable = (a: Attached | undefined) =>
      err('UNAVAILABLE', a ? `the remote node ${a.label} is not connected (${(a.error ?? 'connecting').replace(/; retrying$/, '')}); retrying every ${REMOTE_POLL_MS / 1000} s` : `no remote node "${id}" is attached (detached, or the app restarted); attach it again from Join`);
    return {
      invoke: async (method, args) => {
        if (LOCAL_ONLY_METHODS.includes(method)) return local.invoke(method, args);
        const a = this.nodes.get(id);
        if (!a?.client) return unavailable(a);
        return a.client.invoke(method as never, args as never);
      },
      subscribe: (sink) => {
        const a = this.nodes.get(id);
        if (!a || a.sinks.size >= MAX_REMOTE_SUBSCRIBERS) return () => undefined;
        a.sinks.set(sink, a.client ? a.client.subscribe((batch) => sink.deliver(batch)) : null);
        return () => {
          a.sinks.get(sink)?.();
          a.sinks.delete(sink);
        };
      },
    };
  }

  /** The verified target of an attached node (the web host opens its relays with it). */
  target(id: string): RemoteTarget | null {
    return this.nodes.get(id)?.target ?? null;
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.nodes.keys()]) this.detach(id);
  }

  private dto(a: Attached): RemoteNodeDto {
    return { id: a.id, url: a.target.origin.replace('wss://', 'https://'), label: a.label, fingerprint: a.target.fingerprint, state: a.state, error: a.error, summary: a.summary };
  }

  private adopt(a: Attached, socket: WebSocket): void {
    a.socket = socket;
    a.client = createWsClient(socket as never);
    a.state = 'connected';
    a.error = null;
    for (const sink of a.sinks.keys()) {
      // A fresh subscription on the new connection: seq starts over, so the page reloads its snapshot.
      sink.deliver({ seq: 0, events: [], resync: true });
      a.sinks.set(sink, a.client.subscribe((batch) => sink.deliver(batch)));
    }
    socket.on('close', () => {
      if (a.socket !== socket) return;
      a.socket = null;
      a.client = null;
      for (const sink of a.sinks.keys()) a.sinks.set(sink, null);
      a.state = 'disconnected';
      a.error = 'the connection closed; retrying';
    });
    socket.on('error', () => undefined);
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      for (const a of this.nodes.values()) void this.poll(a);
    }, REMOTE_POLL_MS);
    this.timer.unref();
  }

  private async poll(a: Attached): Promise<void> {
    if (a.polling || this.closed) return;
    a.polling = true;
    try {
      if (!a.client) {
        try {
          this.adopt(a, await openRemoteSocket(a.target));
        } catch (e) {
          a.state = 'error';
          a.error = (e as Error).message;
          return;
        }
      }
      const [snap, traces] = await Promise.all([a.client!.invoke('snapshot'), a.client!.invoke('tracesList')]);
      if (!snap.ok) {
        a.error = snap.message;
        return;
      }
      const r = summarize(snap.value as SnapshotLike, traces.ok ? (traces.value as TraceLike[]) : [], a.last, Date.now());
      a.summary = r.summary;
      a.last = r.last;
      a.nodeId = r.summary.nodeId;
      a.error = null;
    } finally {
      a.polling = false;
    }
  }
}
