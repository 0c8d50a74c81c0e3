// Remote attach, the server side: `kadscope serve --listen ADDR` exposes this host's API to other
// machines, only when asked, only with the session token, and only over TLS: with the certificate
// the user supplies (--tls-cert/--tls-key), or one generated once into the data directory (so its
// fingerprint, which the attaching explorer pins, survives restarts) and printed at start.
//
// Certificates are generated with the system's `openssl`: node:crypto makes keys but not X.509
// certificates, and a hand-written DER encoder for one would be security code we would have to get
// right ourselves. Without openssl the error says to install it or to pass --tls-cert/--tls-key.
//
// A plain-HTTP request to the TLS port gets a plain-HTTP 400 that says to use https: the first byte
// of a connection tells a TLS handshake (0x16) from anything else.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { endpointKey, type Endpoint } from '../../core/transport/types';
import type { ContractHandler } from './client';
import { TOKEN_PARAM, WS_PATH } from './contract';
import { MAX_CONNECTIONS, MAX_WS_MESSAGE_BYTES, rejectUpgrade, serveConnection, tokenMatches } from './web-host';

export const TLS_DIR_NAME = 'tls';
export const GENERATED_CERT_DAYS = 825;
const TLS_HANDSHAKE_BYTE = 0x16;
/** A connection that sends nothing for this long is dropped before it holds a slot. */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

export interface TlsFiles {
  cert: string;
  key: string;
}

export interface RemoteListener {
  /** https://host:port, what an explorer's "Attach to a remote node" takes. */
  readonly url: string;
  readonly address: Endpoint;
  /** SHA-256 of the certificate, "AB:CD:…". */
  readonly fingerprint: string;
  /** Whether the certificate was generated (rather than supplied). */
  readonly generated: boolean;
  close(): Promise<void>;
}

/** The certificate in dataDir/tls, generated with openssl on first use (`generated`: not the user's). */
export function generatedCertificate(dataDir: string, commonName: string): TlsFiles & { generated: boolean } {
  const dir = join(dataDir, TLS_DIR_NAME);
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (existsSync(cert) && existsSync(key)) return { cert, key, generated: true };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256', '-days', String(GENERATED_CERT_DAYS), '-subj', `/CN=${commonName}`, '-keyout', key, '-out', cert];
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('--listen needs a TLS certificate: pass --tls-cert and --tls-key, or install openssl (apt-get install openssl) so kadscope can generate one');
  }
  if (r.status !== 0) throw new Error(`openssl could not generate a certificate: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').pop()}`);
  return { cert, key, generated: true };
}

function readTls(files: TlsFiles): { cert: string; key: string; fingerprint: string } {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(files.cert, 'utf8');
  } catch (e) {
    throw new Error(`--tls-cert ${files.cert}: ${(e as Error).message}`);
  }
  try {
    key = readFileSync(files.key, 'utf8');
  } catch (e) {
    throw new Error(`--tls-key ${files.key}: ${(e as Error).message}`);
  }
  let fingerprint: string;
  try {
    fingerprint = new X509Certificate(cert).fingerprint256;
  } catch (e) {
    throw new Error(`--tls-cert ${files.cert} is not a PEM certificate: ${(e as Error).message}`);
  }
  return { cert, key, fingerprint };
}

/** Serves the contract's WebSocket at wss://at/api, token required, TLS only. */
export async function startRemoteListener(handler: ContractHandler, token: string, at: Endpoint, tls: TlsFiles & { generated?: boolean }): Promise<RemoteListener> {
  const { cert, key, fingerprint } = readTls(tls);
  let https;
  try {
    https = createHttpsServer({ cert, key, minVersion: 'TLSv1.2' }, (req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`kadscope: this address serves the API WebSocket (${WS_PATH}) to explorers attaching with the session token\n`);
    });
  } catch (e) {
    throw new Error(`--tls-cert/--tls-key: ${(e as Error).message}`);
  }
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES, perMessageDeflate: false });
  https.on('upgrade', (req, socket: Duplex, head) => {
    const url = new URL(req.url ?? '/', 'https://placeholder');
    if (url.pathname !== WS_PATH) return rejectUpgrade(socket, 404, 'Not Found', `the API is at ${WS_PATH}`);
    const given = url.searchParams.get(TOKEN_PARAM);
    if (given === null || given === '') return rejectUpgrade(socket, 401, 'Unauthorized', 'no session token: attach with the token kadscope serve printed');
    if (!tokenMatches(given, token)) return rejectUpgrade(socket, 401, 'Unauthorized', 'wrong session token');
    if (wss.clients.size >= MAX_CONNECTIONS) return rejectUpgrade(socket, 503, 'Service Unavailable', `at most ${MAX_CONNECTIONS} connections`);
    wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, handler));
  });
  https.on('tlsClientError', () => undefined);
  // The TCP front: a TLS handshake goes to the HTTPS server, anything else gets told to use TLS.
  const sockets = new Set<Socket>();
  const front = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE_BYTE) {
        // A stream, not the socket: TLS on a net.Socket reads its handle directly and would miss the
        // byte we put back; on a stream it reads through the stream.
        https.emit('connection', Duplex.from({ readable: socket, writable: socket }));
        return;
      }
      const body = 'kadscope: this address speaks TLS only; use https:// (wss://) with the certificate fingerprint kadscope serve printed\n';
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`--listen ${endpointKey(at)}: ${e.code === 'EADDRINUSE' ? 'the address is in use' : e.code === 'EADDRNOTAVAIL' ? 'no interface has this address' : e.message}`)),
    );
    front.listen(at.port, at.host, () => resolve());
  });
  const bound = front.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  let closing: Promise<void> | null = null;
  return {
    url: `https://${endpointKey(address)}`,
    address,
    fingerprint,
    generated: tls.generated ?? false,
    close() {
      closing ??= (async () => {
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((r) => wss.close(() => r()));
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => front.close(() => r()));
        https.close();
      })();
      return closing;
    },
  };
}
