// The Traces view's data: the host's trace list (refreshed as lookups finish), one whole trace, and
// opening trace files (each read, validated by the host, added to the list).
import { useEffect, useMemo, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Trace, TraceListItem } from '../../electron/host/contract';
import { useLive } from '../state/live';
import { useApi, useConnectionState } from '../state/sync';
import { unwrap } from '../state/call';
import { readTraceFile } from './files';
import { useTracesUi } from './store';

/** Files opened at once from one drop or pick. */
const MAX_FILES_AT_ONCE = 20;

export interface OpenFailure {
  name: string;
  error: unknown;
}

/** Opens trace files: each is read, sent to the host (which validates it) and joins the list. */
export function useOpenFiles(): { open(files: File[]): Promise<void>; busy: boolean; failures: OpenFailure[]; opened: string[]; dismiss(): void } {
  const api = useApi();
  const qc = useQueryClient();
  const openTrace = useTracesUi((s) => s.open);
  const [busy, setBusy] = useState(false);
  const [failures, setFailures] = useState<OpenFailure[]>([]);
  const [opened, setOpened] = useState<string[]>([]);
  const open = async (files: File[]): Promise<void> => {
    setBusy(true);
    const failed: OpenFailure[] = [];
    const ok: string[] = [];
    let last: string | null = null;
    if (files.length > MAX_FILES_AT_ONCE) failed.push({ name: `${files.length - MAX_FILES_AT_ONCE} more files`, error: new Error(`at most ${MAX_FILES_AT_ONCE} files are opened at once`) });
    for (const f of files.slice(0, MAX_FILES_AT_ONCE)) {
      try {
        const item = await unwrap(api.traceImport({ json: await readTraceFile(f) }));
        ok.push(f.name);
        last = item.id;
        // A file can replace a trace of the same id (one saved from here): drop what was loaded of it.
        await qc.invalidateQueries({ queryKey: ['trace', item.id] });
      } catch (error) {
        failed.push({ name: f.name, error });
      }
    }
    setFailures(failed);
    setOpened(ok);
    setBusy(false);
    if (last !== null) {
      await qc.invalidateQueries({ queryKey: ['traces'] });
      openTrace(last);
    }
  };
  return { open, busy, failures, opened, dismiss: () => (setFailures([]), setOpened([])) };
}

export function useTraceList(): { items: TraceListItem[]; loading: boolean; error: unknown } {
  const api = useApi();
  const qc = useQueryClient();
  const open = useConnectionState().status === 'open';
  const lookups = useLive((s) => s.lookups);
  const doneCount = useMemo(() => [...lookups.values()].filter((l) => l.summary.reason !== null).length, [lookups]);
  const q = useQuery({ queryKey: ['traces'], queryFn: () => unwrap(api.tracesList()), enabled: open });
  // A lookup finishing is when the host's list changes.
  useEffect(() => {
    void qc.invalidateQueries({ queryKey: ['traces'] });
  }, [doneCount, qc]);
  return { items: q.data ?? [], loading: q.isLoading, error: q.error };
}

/** A whole trace from the host; refetched once a running lookup has finished. */
export function useTrace(id: string | null): { trace: Trace | undefined; loading: boolean; error: unknown } {
  const api = useApi();
  const open = useConnectionState().status === 'open';
  const item = useTraceList().items.find((t) => t.id === id);
  const q = useQuery({
    queryKey: ['trace', id, item?.done === false ? 'running' : 'done'],
    queryFn: () => unwrap(api.traceGet({ id: id as string })),
    enabled: open && id !== null,
    staleTime: Infinity,
    retry: false,
  });
  return { trace: q.data, loading: q.isLoading, error: q.error };
}

