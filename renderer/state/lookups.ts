// Lookup data for views: the live model when this page saw the lookup start, else the host's trace.
import { useQuery } from '@tanstack/react-query';
import { useLive } from './live';
import type { LookupModel } from './lookup-model';
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
    queryKey: ['trace', id, live?.summary.reason != null ? 'done' : 'running'],
    queryFn: () => unwrap(api.traceGet({ id: id as string })),
    enabled: open && id !== null && !useLiveModel,
    staleTime: Infinity,
    retry: false,
  });
  if (!id) return { model: null, loading: false, error: null };
  if (useLiveModel) return { model: live, loading: false, error: null };
  if (trace.data) return { model: trace.data, loading: false, error: null };
  return { model: live ?? null, loading: trace.isLoading, error: trace.error };
}

export type Tone = 'good' | 'warn' | 'bad' | 'info';

export interface OutcomeView {
  /** What the user reads: "converged", "found", "not found", "timed out", ... */
  text: string;
  tone: Tone;
  /** For tests and styles: the reason, or for a finished find-value 'found' / 'not-found'. */
  verdict: string;
}

const REASON_VIEW: Record<string, { text: string; tone: Tone }> = {
  converged: { text: 'converged', tone: 'good' },
  'value-found': { text: 'found', tone: 'good' },
  exhausted: { text: 'exhausted', tone: 'warn' },
  'no-peers': { text: 'no peers', tone: 'bad' },
  aborted: { text: 'cancelled', tone: 'warn' },
  timeout: { text: 'timed out', tone: 'bad' },
};

/**
 * How a finished lookup's outcome reads. A find-value is judged by its purpose: the lookup ends
 * 'value-found' exactly when a valid value came back, so any other end of a find-value (converged,
 * exhausted) means the network had no value for the key; a green "converged" there would read as
 * success. Cancelled, timed out and no peers say why it also found nothing.
 */
export function outcomeView(kind: string, reason: string | null): OutcomeView | null {
  if (reason === null) return null;
  const base = REASON_VIEW[reason] ?? { text: reason, tone: 'info' as Tone };
  if (kind !== 'find-value') return { ...base, verdict: reason };
  if (reason === 'value-found') return { text: 'found', tone: 'good', verdict: 'found' };
  if (reason === 'converged' || reason === 'exhausted') return { text: 'not found', tone: 'warn', verdict: 'not-found' };
  return { text: `not found (${base.text})`, tone: base.tone, verdict: 'not-found' };
}
