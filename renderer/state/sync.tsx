// Wires the host to the stores: the connection in a React context, the snapshot through react-query
// (refetched on resync and every few seconds for the parts events do not carry: buckets'
// replacement caches and refresh times), and event batches into the live store. Batches arriving
// within one frame are applied together, so a burst costs one render, not one per batch.
import { createContext, useContext, useEffect, useState, type ReactElement, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { Connection, ConnectionState } from '../api/connection';
import type { EventBatch } from '../../electron/host/contract';
import { useLive } from './live';
import { unwrap } from './call';

/** The snapshot is refetched this often even without a resync, ms. */
export const SNAPSHOT_REFRESH_MS = 5000;
/** Batches are applied this often while the page is hidden (no animation frames then), ms. */
export const HIDDEN_FLUSH_MS = 250;

const ConnectionContext = createContext<Connection | null>(null);

export function ConnectionProvider({ connection, children }: { connection: Connection; children: ReactNode }): ReactElement {
  return <ConnectionContext.Provider value={connection}>{children}</ConnectionContext.Provider>;
}

export function useConnection(): Connection {
  const c = useContext(ConnectionContext);
  if (!c) throw new Error('useConnection outside ConnectionProvider');
  return c;
}

export function useApi(): Connection['api'] {
  return useConnection().api;
}

export function useConnectionState(): ConnectionState {
  const c = useConnection();
  const [s, setS] = useState(c.state());
  useEffect(() => {
    setS(c.state());
    return c.onState(setS);
  }, [c]);
  return s;
}

/** Merges the batches of one frame: a resync anywhere wins (the snapshot replaces everything). */
function merge(batches: EventBatch[]): EventBatch {
  if (batches.some((b) => b.resync)) return { seq: batches[batches.length - 1].seq, events: [], resync: true };
  return { seq: batches[batches.length - 1].seq, events: batches.flatMap((b) => b.events), resync: false };
}

export function useHostSync(): void {
  const api = useApi();
  const conn = useConnectionState();
  const needsSnapshot = useLive((s) => s.needsSnapshot);
  const open = conn.status === 'open';

  const snapshot = useQuery({
    queryKey: ['snapshot'],
    queryFn: () => unwrap(api.snapshot()),
    refetchInterval: SNAPSHOT_REFRESH_MS,
    enabled: open,
    retry: 1,
  });

  useEffect(() => {
    if (snapshot.data) useLive.getState().applySnapshot(snapshot.data);
  }, [snapshot.data]);

  useEffect(() => {
    if (needsSnapshot && open) void snapshot.refetch();
  }, [needsSnapshot, open, snapshot]);

  useEffect(() => {
    let queue: EventBatch[] = [];
    let cancel: (() => void) | null = null;
    const flush = (): void => {
      cancel = null;
      const batches = queue;
      queue = [];
      if (batches.length > 0) useLive.getState().applyBatch(merge(batches));
    };
    const unsubscribe = api.subscribe((batch) => {
      queue.push(batch);
      if (cancel) return;
      // A hidden tab gets no animation frames; a timer keeps the store current anyway.
      if (document.hidden) {
        const t = window.setTimeout(flush, HIDDEN_FLUSH_MS);
        cancel = () => clearTimeout(t);
      } else {
        const f = requestAnimationFrame(flush);
        cancel = () => cancelAnimationFrame(f);
      }
    });
    return () => {
      unsubscribe();
      cancel?.();
    };
  }, [api]);
}
