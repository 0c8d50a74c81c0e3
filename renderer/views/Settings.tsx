// Settings: theme, graph size, default testnet size; and what host this page talks to.
import { useState, type FormEvent, type ReactElement } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { settingsSchema, type Settings, type Theme } from '../../electron/host/contract';
import { Card, ErrorNote, Progress, SegmentedField } from '../components/common';
import { useApi, useConnection, useConnectionState } from '../state/sync';
import { useUi } from '../state/ui';
import { unwrap } from '../state/call';

export function SettingsView(): ReactElement {
  const api = useApi();
  const qc = useQueryClient();
  const open = useConnectionState().status === 'open';
  const kind = useConnection().kind;
  const settings = useQuery({ queryKey: ['settings'], queryFn: () => unwrap(api.settingsGet()), enabled: open, staleTime: Infinity });
  const info = useQuery({ queryKey: ['info'], queryFn: () => unwrap(api.info()), enabled: open, staleTime: 60_000 });
  const setTheme = useUi((s) => s.setTheme);
  const save = useMutation({
    mutationFn: (patch: Partial<Settings>) => unwrap(api.settingsSet(patch)),
    onSuccess: (s) => {
      qc.setQueryData(['settings'], s);
      setTheme(s.theme);
    },
  });

  if (settings.isLoading) return <Progress>Loading settings…</Progress>;
  if (!settings.data) return <ErrorNote error={settings.error} context="Settings" />;
  const s = settings.data;

  return (
    <div className="grid cols-2">
      <Card title="Appearance">
        <div className="form">
          <SegmentedField<Theme>
            fieldLabel="Theme"
            label="Theme"
            value={s.theme}
            onChange={(theme) => save.mutate({ theme })}
            options={[
              { value: 'system', label: 'Follow the system' },
              { value: 'light', label: 'Light' },
              { value: 'dark', label: 'Dark' },
            ]}
          />
          <NumberSetting
            key={`g${s.graphMaxPeers}`}
            label="Peers drawn on the graph at most"
            hint="Above this the nearest buckets are drawn first."
            field="graphMaxPeers"
            value={s.graphMaxPeers}
            onSave={(v) => save.mutate({ graphMaxPeers: v })}
          />
          <NumberSetting
            key={`t${s.defaultTestnetSize}`}
            label="Nodes in a new testnet"
            hint="The size the Testnet view proposes."
            field="defaultTestnetSize"
            value={s.defaultTestnetSize}
            onSave={(v) => save.mutate({ defaultTestnetSize: v })}
          />
          <MetricsSetting key={`m${s.metricsAddress}`} value={s.metricsAddress} url={info.data?.metricsUrl ?? null} onSave={(v) => save.mutate({ metricsAddress: v }, { onSuccess: () => void qc.invalidateQueries({ queryKey: ['info'] }) })} />
          {save.isPending && <Progress>Saving…</Progress>}
          <ErrorNote error={save.error} context="Save" />
        </div>
      </Card>
      <Card title="Host">
        {info.data ? (
          <dl className="kv">
            <dt>Connected through</dt>
            <dd>{kind === 'electron' ? 'the desktop app' : 'the headless host (WebSocket on 127.0.0.1)'}</dd>
            <dt>App version</dt>
            <dd>{info.data.appVersion}</dd>
            <dt>Contract</dt>
            <dd>v{info.data.contractVersion}</dd>
            <dt>Data directory</dt>
            <dd className="mono">{info.data.dataDir}</dd>
            <dt>Saved bootstrap</dt>
            <dd>{s.savedBootstrap.length > 0 ? <span className="mono">{s.savedBootstrap.join(', ')}</span> : <span className="muted">none (the Join view can remember addresses)</span>}</dd>
          </dl>
        ) : (
          <ErrorNote error={info.error} context="Host" />
        )}
      </Card>
    </div>
  );
}

/** Where the node's Prometheus metrics are served ('' for nowhere). */
function MetricsSetting({ value, url, onSave }: { value: string; url: string | null; onSave: (v: string) => void }): ReactElement {
  const [text, setText] = useState(value);
  const parsed = settingsSchema.shape.metricsAddress.safeParse(text);
  const error = parsed.success ? null : (parsed.error.issues[0]?.message ?? 'expected HOST:PORT');
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (parsed.success && parsed.data !== value) onSave(parsed.data);
  };
  return (
    <form className="field" onSubmit={submit} aria-label="Prometheus metrics">
      <label htmlFor="setting-metrics">Prometheus metrics (HOST:PORT, port 0 for any free port, empty for off)</label>
      <div className="btn-row">
        <input id="setting-metrics" className="input mono grow" value={text} onChange={(e) => setText(e.target.value)} placeholder="127.0.0.1:9464" aria-invalid={error !== null} spellCheck={false} data-testid="setting-metrics" />
        <button type="submit" className="btn small" disabled={!parsed.success || parsed.data === value}>
          {text.trim() === '' && value !== '' ? 'Turn off' : 'Save'}
        </button>
      </div>
      {error ? (
        <span className="err">{error}</span>
      ) : url ? (
        <span className="hint" data-testid="metrics-url">
          Serving <span className="mono">{url}</span> for Prometheus to scrape{/:0$/.test(value) ? ' (the port the system chose; another one after a restart)' : ''}.
        </span>
      ) : (
        <span className="hint">Off. 127.0.0.1 keeps the metrics on this machine; they have no password.</span>
      )}
    </form>
  );
}

function NumberSetting({ label, hint, field, value, onSave }: { label: string; hint: string; field: 'graphMaxPeers' | 'defaultTestnetSize'; value: number; onSave: (v: number) => void }): ReactElement {
  const [text, setText] = useState(String(value));
  const parsed = settingsSchema.shape[field].safeParse(/^\d+$/.test(text.trim()) ? Number(text) : NaN);
  const error = parsed.success ? null : /^\d+$/.test(text.trim()) ? parsed.error.issues[0]?.message : 'a whole number';
  const id = `setting-${field}`;
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (parsed.success && parsed.data !== value) onSave(parsed.data);
  };
  return (
    <form className="field" onSubmit={submit}>
      <label htmlFor={id}>{label}</label>
      <div className="btn-row">
        <input id={id} className="input small" inputMode="numeric" value={text} onChange={(e) => setText(e.target.value)} aria-invalid={error !== null} />
        <button type="submit" className="btn small" disabled={!parsed.success || parsed.data === value}>
          Save
        </button>
      </div>
      {error ? <span className="err">{error}</span> : <span className="hint">{hint}</span>}
    </form>
  );
}
