// Lookup data for views: the live model when this page saw the lookup start, else the host's trace.
import { useQuery } from '@tanstack/react-query';
import { useLive } from './live';
import { modelFromTrace, type LookupModel } from './lookup-model';
import { useApi, useConnectionState } from './sync';
import { unwrap } from './call';

export interface LookupResult {
  model: LookupModel | null;
  loading: boolean;
  error: unknown;
}

export function useLookup(id: string | null): LookupResult {
  const live = useLive((s) => (id ? s.lookups.get(id) : undefined));
  const api = useApi();
  const open = useConnectionState().status === 'open';
  // A live model that began before we subscribed lacks its start: the trace is complete.
  const useLiveModel = live !== undefined && live.target !== '';
  const trace = useQuery({
    queryKey: ['trace', id, live?.done ? 'done' : 'running'],
    queryFn: () => unwrap(api.traceGet({ id: id as string })),
    enabled: open && id !== null && !useLiveModel,
    staleTime: Infinity,
    retry: false,
  });
  if (!id) return { model: null, loading: false, error: null };
  if (useLiveModel) return { model: live, loading: false, error: null };
  if (trace.data) return { model: modelFromTrace(trace.data), loading: false, error: null };
  return { model: live ?? null, loading: trace.isLoading, error: trace.error };
}

export const REASON_TONE: Record<string, 'good' | 'warn' | 'bad' | 'info'> = {
  converged: 'good',
  'value-found': 'good',
  exhausted: 'warn',
  'no-peers': 'bad',
  aborted: 'warn',
  timeout: 'bad',
};

export const REASON_TEXT: Record<string, string> = {
  converged: 'converged',
  'value-found': 'value found',
  exhausted: 'exhausted',
  'no-peers': 'no peers',
  aborted: 'cancelled',
  timeout: 'timed out',
};
