// The headless host: serves the built renderer over HTTP and the contract over a WebSocket, on
// 127.0.0.1 only. A browser tab becomes the app.
//
// Security model: the socket is loopback-only, but any local web page could try to reach it, so
//  - the WebSocket requires a random session token (in the page URL's ?token=, passed on by the page);
//  - the WebSocket's Origin must be this host's own origin (blocks other sites and pages);
//  - the Host header must name the loopback address (blocks DNS rebinding);
//  - every response carries a strict Content-Security-Policy (no inline script, no eval) and
//    no-referrer, so the token does not leak through Referer headers.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ContractHandler } from './client';
import { batchMessage } from './batch-codec';
import { openRemoteSocket, type RemoteNodes } from './remote';
import { contentSecurityPolicy } from './csp';
import { CONTRACT_VERSION, LOCAL_ONLY_METHODS, isRemoteNodeId, TOKEN_PARAM, WS_PATH, err, type ClientMessage, type ServerMessage } from './contract';

export const WEB_HOST = '127.0.0.1';
export const SESSION_TOKEN_BYTES = 32;
/** Largest message a client may send (a trace import is the biggest). */
export const MAX_WS_MESSAGE_BYTES = 16 * 1024 * 1024;
/** A connection whose unsent data exceeds this is congested: its event batches wait (and may resync). */
export const MAX_WS_BUFFERED_BYTES = 8 * 1024 * 1024;
export const MAX_CONNECTIONS = 16;
export const MAX_INFLIGHT_PER_CONNECTION = 256;
/** Where `electron-vite build` puts the renderer, relative to the repository. */
export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../out/renderer/', import.meta.url));

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export interface WebHostOptions {
  /** 0 picks a free port. */
  port: number;
  /** The built renderer (index.html and assets). Default: out/renderer. */
  rendererDir?: string;
  /** Fixed token (tests); default: 32 random bytes, hex. */
  token?: string;
  /** Attached remote nodes: the page reaches one at WS_PATH/remote/<id>, relayed here over TLS. */
  remotes?: Pick<RemoteNodes, 'target'>;
}

/** The relay path of an attached remote node, under the API's own path. */
export const REMOTE_PATH_PREFIX = `${WS_PATH}/remote/`;

export interface WebHost {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly server: Server;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Idempotent: closes every socket and the server. */
  close(): Promise<void>;
}

export async function startWebHost(handler: ContractHandler, options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? randomBytes(SESSION_TOKEN_BYTES).toString('hex');
  const rendererDir = resolve(options.rendererDir ?? DEFAULT_RENDERER_DIR);
  let origin = '';
  let allowedHosts = new Set<string>();

  const server = createServer((req, res) => {
    void serveFile(req, res, rendererDir, origin, allowedHosts).catch((e: unknown) => {
      if (!res.headersSent) plain(res, 500, 'internal error', origin);
      else res.destroy();
      console.error('kadscope: serving a file failed:', e);
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES, perMessageDeflate: false });

  server.on('upgrade', (req, socket, head) => {
    const refusal = checkUpgrade(req, token, origin, allowedHosts, wss.clients.size);
    if (refusal) {
      rejectUpgrade(socket, refusal.status, refusal.reason);
      return;
    }
    const remoteId = refusal === null ? remoteIdOf(req) : null;
    if (remoteId !== null) {
      const target = options.remotes?.target(remoteId) ?? null;
      if (!target) return rejectUpgrade(socket, 404, 'Not Found', `no remote node "${remoteId}" is attached`);
      wss.handleUpgrade(req, socket, head, (ws) => relayConnection(ws, handler, () => openRemoteSocket(target)));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, handler));
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, WEB_HOST, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://${WEB_HOST}:${port}`;
  allowedHosts = new Set([`${WEB_HOST}:${port}`, `localhost:${port}`]);

  let closing: Promise<void> | null = null;
  return {
    url: `${origin}/?${TOKEN_PARAM}=${token}`,
    origin,
    token,
    server,
    get connections() {
      return wss.clients.size;
    },
    close() {
      closing ??= (async () => {
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((r) => wss.close(() => r()));
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      })();
      return closing;
    },
  };
}

// ---- WebSocket ----

function checkUpgrade(
  req: IncomingMessage,
  token: string,
  origin: string,
  allowedHosts: Set<string>,
  connections: number,
): { status: number; reason: string } | null {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  if (url.pathname !== WS_PATH && remoteIdOf(req) === null) return { status: 404, reason: 'Not Found' };
  if (!allowedHosts.has(req.headers.host ?? '')) return { status: 403, reason: 'Forbidden' };
  // Browsers always send Origin on a WebSocket handshake; it must be this host's own page. (A script
  // using the API sets the header itself: `new WebSocket(url, { origin })` with the `ws` package.)
  const o = req.headers.origin;
  if (o !== origin && o !== origin.replace(WEB_HOST, 'localhost')) return { status: 403, reason: 'Forbidden' };
  if (!tokenMatches(url.searchParams.get(TOKEN_PARAM), token)) return { status: 401, reason: 'Unauthorized' };
  if (connections >= MAX_CONNECTIONS) return { status: 503, reason: 'Service Unavailable' };
  return null;
}

function remoteIdOf(req: IncomingMessage): string | null {
  const path = new URL(req.url ?? '/', 'http://placeholder').pathname;
  if (!path.startsWith(REMOTE_PATH_PREFIX)) return null;
  const id = path.slice(REMOTE_PATH_PREFIX.length);
  return isRemoteNodeId(id) ? id : null;
}

/**
 * The page's connection to an attached remote node: its messages go to the remote over TLS and the
 * remote's come back, unchanged, except the remote-node methods, which this host answers (the list
 * of attached nodes is this host's, whichever node the page shows).
 */
function relayConnection(ws: WebSocket, handler: ContractHandler, open: () => Promise<import('ws').WebSocket>): void {
  const early: string[] = [];
  let remote: import('ws').WebSocket | null = null;
  let closed = false;
  const toPage = (text: string): void => {
    if (ws.readyState === ws.OPEN) ws.send(text);
  };
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    const msg = parseClientMessage(text);
    if (msg?.type === 'invoke' && LOCAL_ONLY_METHODS.includes(msg.method)) {
      void handler.invoke(msg.method, msg.args).then((result) => toPage(JSON.stringify({ type: 'result', id: msg.id, result } satisfies ServerMessage)));
      return;
    }
    if (remote && remote.readyState === remote.OPEN) remote.send(text);
    else if (early.length < MAX_INFLIGHT_PER_CONNECTION) early.push(text);
  });
  ws.on('close', () => {
    closed = true;
    remote?.close();
  });
  ws.on('error', () => ws.terminate());
  open().then(
    (r) => {
      if (closed) return r.terminate();
      remote = r;
      r.on('message', (data, isBinary) => {
        if (!isBinary) toPage(data.toString());
      });
      r.on('close', () => ws.close(4002, 'the remote node closed the connection'));
      r.on('error', () => r.terminate());
      for (const t of early.splice(0)) r.send(t);
    },
    (e: Error) => ws.close(4001, e.message.slice(0, 120)),
  );
}

export function tokenMatches(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Refuses a WebSocket handshake; `detail` (one line) tells a client that reads the body why. */
export function rejectUpgrade(socket: Duplex, status: number, reason: string, detail = ''): void {
  const body = detail ? `${detail}\n` : '';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

export function serveConnection(ws: WebSocket, handler: ContractHandler): void {
  let inflight = 0;
  let unsubscribe: (() => void) | null = null;
  const send = (msg: ServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  send({ type: 'hello', contractVersion: CONTRACT_VERSION });

  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const msg = parseClientMessage(data.toString());
    if (!msg) return; // not our protocol; nothing sensible to answer
    if (msg.type === 'invoke') {
      if (inflight >= MAX_INFLIGHT_PER_CONNECTION) {
        send({ type: 'result', id: msg.id, result: err('UNAVAILABLE', `more than ${MAX_INFLIGHT_PER_CONNECTION} requests in flight on this connection`) });
        return;
      }
      inflight++;
      void handler
        .invoke(msg.method, msg.args)
        .then((result) => send({ type: 'result', id: msg.id, result }))
        .finally(() => inflight--);
    } else if (msg.type === 'subscribe') {
      if (unsubscribe) return; // one stream per connection; the client fans it out
      try {
        unsubscribe = handler.subscribe({
          deliver: (batch) => send(batchMessage(batch)),
          congested: () => ws.bufferedAmount > MAX_WS_BUFFERED_BYTES,
        });
      } catch (e) {
        console.error('kadscope: subscribe refused:', (e as Error).message);
      }
    } else {
      unsubscribe?.();
      unsubscribe = null;
    }
  });
  ws.on('close', () => {
    unsubscribe?.();
    unsubscribe = null;
  });
  ws.on('error', () => ws.terminate());
}

function parseClientMessage(text: string): ClientMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null) return null;
  const o = m as Record<string, unknown>;
  if (o.type === 'invoke' && Number.isSafeInteger(o.id) && typeof o.method === 'string') return { type: 'invoke', id: o.id as number, method: o.method, args: o.args };
  if (o.type === 'subscribe' || o.type === 'unsubscribe') return { type: o.type };
  return null;
}

// ---- HTTP ----

async function serveFile(req: IncomingMessage, res: ServerResponse, root: string, origin: string, allowedHosts: Set<string>): Promise<void> {
  if (!allowedHosts.has(req.headers.host ?? '')) return plain(res, 403, 'forbidden: unexpected Host header', origin);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return plain(res, 405, 'method not allowed', origin);
  }
  const url = new URL(req.url ?? '/', 'http://placeholder');
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return plain(res, 400, 'bad path', origin);
  }
  if (pathname.includes('\0')) return plain(res, 400, 'bad path', origin);
  // Client-side routes (no file extension) get the app's index.html.
  const rel = pathname === '/' || extname(pathname) === '' ? 'index.html' : pathname.slice(1);
  const file = normalize(join(root, rel));
  if (file !== root && !file.startsWith(root + sep)) return plain(res, 403, 'forbidden', origin);
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) return plain(res, 404, 'not found', origin);
    size = st.size;
  } catch {
    if (rel === 'index.html') {
      return plain(res, 503, `the renderer is not built: ${join(root, 'index.html')} is missing; run \`npx electron-vite build\``, origin);
    }
    return plain(res, 404, 'not found', origin);
  }
  securityHeaders(res, origin);
  res.setHeader('Content-Type', MIME[extname(file).toLowerCase()] ?? 'application/octet-stream');
  res.setHeader('Content-Length', size);
  // Hashed assets never change; index.html must be re-read so a rebuild shows up.
  res.setHeader('Cache-Control', rel === 'index.html' ? 'no-store' : 'public, max-age=31536000, immutable');
  res.writeHead(200);
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

function securityHeaders(res: ServerResponse, origin: string): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(origin ? { websocketOrigin: origin.replace(/^http/, 'ws') } : {}));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function plain(res: ServerResponse, status: number, text: string, origin: string): void {
  securityHeaders(res, origin);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text + '\n');
}
