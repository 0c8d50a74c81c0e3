// Counters and handler dispatch shared by both transports, so the node and the UI read the same
// packet counters whichever transport a node runs on.
import { endpointKey, type Endpoint, type MessageHandler } from './types';

export interface TransportStats {
  /**
   * Datagrams handed over: to the OS socket (udp: counted once dgram takes them; an OS refusal after
   * that is seen only for IPv4-mapped sends, see UdpTransport.send) or to the simulated network (memory).
   */
  sent: number;
  /** Datagrams handed to the message handler. */
  received: number;
  /** send() calls that could not go out: bad destination, too large, not bound, closed, an OS refusal we see. */
  sendErrors: number;
  /** Times the message handler threw (caught and counted; the first is reported as a process warning). */
  handlerErrors: number;
  bytesSent: number;
  bytesReceived: number;
  /**
   * Datagrams that arrived but reached the socket layer's receive limit (udx-native reads at most
   * 2,048 bytes), so they may have been cut: dropped before the handler. The node counts them as
   * received and dropped `oversize` (DhtNode.snapshot / metrics). Always 0 on node:dgram and memory.
   */
  truncated: number;
}

export function newTransportStats(): TransportStats {
  return { sent: 0, received: 0, sendErrors: 0, handlerErrors: 0, bytesSent: 0, bytesReceived: 0, truncated: 0 };
}

/** A handler that drops everything: datagrams that arrive before onMessage() are ignored. */
export const IGNORE_MESSAGES: MessageHandler = () => {};

/** The destination ports a datagram can go to (port 0 is "any" for bind, never a destination). */
export function isDestinationPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/**
 * Calls the handler for one datagram and counts it. A throwing handler is a bug in the node, but it
 * must not take the socket (or the rest of a simulated delivery batch) down with it: the error is
 * counted, and the first one per transport is surfaced as a process warning so it is not silent.
 */
export function dispatch(
  handler: MessageHandler,
  data: Uint8Array,
  from: Endpoint,
  stats: TransportStats,
  label: () => string,
): void {
  stats.received++;
  stats.bytesReceived += data.byteLength;
  try {
    handler(data, from);
  } catch (err) {
    stats.handlerErrors++;
    if (stats.handlerErrors === 1) {
      const why = err instanceof Error ? err.stack ?? err.message : String(err);
      process.emitWarning(`${label()}: message handler threw on a datagram from ${endpointKey(from)} (further errors only counted): ${why}`, 'KadscopeTransportWarning');
    }
  }
}
