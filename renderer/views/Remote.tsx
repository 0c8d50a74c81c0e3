// Remote nodes: the Join view's "Attach to a remote node" form, the header's node switcher and the
// Overview's side-by-side figures. The list is the host's (remoteList), so it is the same whichever
// node the page shows; switching loads the page for that node (?node=<id>), and every view then
// shows that node as it shows ours: the headless host relays the page's WebSocket to it, Electron's
// main answers the window's IPC for it (electron/host/remote.ts).
import { useState, type FormEvent, type ReactElement } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { RemoteSummary, RemotesDto } from '../../electron/host/contract';
import { urlForNode } from '../api/connection';
import { Card, ErrorNote, Progress } from '../components/common';
import { shortId } from '../lib/id';
import { unwrap } from '../state/call';
import { useApi, useConnection, useConnectionState } from '../state/sync';

/** The host reads the attached nodes' figures every 2 s; the page asks as often. */
const REMOTES_REFRESH_MS = 2_000;

export function useRemotes(): ReturnType<typeof useQuery<RemotesDto>> {
  const api = useApi();
  const open = useConnectionState().status === 'open';
  return useQuery({ queryKey: ['remotes'], queryFn: () => unwrap(api.remoteList()), enabled: open, refetchInterval: REMOTES_REFRESH_MS });
}

function go(node: string | null): void {
  window.location.assign(urlForNode(window.location, node));
}

/** Header: which node the explorer shows, and a way to switch. Hidden until a remote is attached. */
export function NodeSwitcher(): ReactElement | null {
  const remotes = useRemotes();
  const current = useConnection().remote;
  const list = remotes.data?.remotes ?? [];
  if (list.length === 0 && current === null) return null;
  return (
    <label className="chip node-switcher" title="The node this explorer shows: this host's own, or a remote node attached from Join">
      <span className={`dot ${current === null ? 'accent' : 'good'}`} aria-hidden="true" />
      <span className="sr-only">Showing</span>
      <select value={current ?? ''} onChange={(e) => go(e.target.value === '' ? null : e.target.value)} data-testid="node-switcher" aria-label="Node shown">
        <option value="">This host’s node</option>
        {list.map((r) => (
          <option key={r.id} value={r.id}>
            {r.label}
            {r.summary ? ` · ${shortId(r.summary.nodeId, 8)}` : ''}
            {r.state !== 'connected' ? ` (${r.state})` : ''}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Join: attach to a `kadscope serve --listen` elsewhere. */
export function AttachRemote(): ReactElement {
  const api = useApi();
  const qc = useQueryClient();
  const remotes = useRemotes();
  const current = useConnection().remote;
  const [url, setUrl] = useState('');
  const [token, setToken] = useState('');
  const [fingerprint, setFingerprint] = useState('');
  const attach = useMutation({
    mutationFn: () => unwrap(api.remoteAttach({ url: url.trim(), token: token.trim(), ...(fingerprint.trim() ? { fingerprint: fingerprint.trim() } : {}) })),
    onSuccess: () => {
      setToken('');
      void qc.invalidateQueries({ queryKey: ['remotes'] });
    },
  });
  const detach = useMutation({
    mutationFn: (id: string) => unwrap(api.remoteDetach({ id })),
    onSuccess: (_r, id) => (id === current ? go(null) : void qc.invalidateQueries({ queryKey: ['remotes'] })),
  });
  const plain = /^\s*(http|ws):\/\//i.test(url);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (url.trim() && token.trim() && !plain) attach.mutate();
  };
  const list = remotes.data?.remotes ?? [];
  return (
    <Card title="Attach to a remote node" sub="a kadscope serve --listen on another machine" className="span-2" testId="attach-card">
      <form className="form" onSubmit={submit} aria-label="Attach to a remote node">
        <div className="field">
          <label htmlFor="attach-url">URL (https://host:port, printed by kadscope serve --listen)</label>
          <input id="attach-url" className="input mono" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://203.0.113.7:7443" spellCheck={false} data-testid="attach-url" aria-invalid={plain} />
          {plain && <div className="err">Remote nodes are attached over TLS only: use https://</div>}
        </div>
        <div className="field">
          <label htmlFor="attach-token">Session token</label>
          <input id="attach-token" className="input mono" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} spellCheck={false} data-testid="attach-token" />
        </div>
        <div className="field">
          <label htmlFor="attach-fp">Certificate SHA-256 fingerprint to pin (printed at start; needed for a generated certificate)</label>
          <input id="attach-fp" className="input mono" value={fingerprint} onChange={(e) => setFingerprint(e.target.value)} placeholder="AB:CD:…" spellCheck={false} data-testid="attach-fingerprint" />
        </div>
        <div className="btn-row">
          <button type="submit" className="btn primary" disabled={!url.trim() || !token.trim() || plain || attach.isPending} data-testid="attach-submit">
            {attach.isPending ? 'Attaching…' : 'Attach'}
          </button>
        </div>
        {attach.isPending && <Progress>Checking the certificate, then connecting with the token…</Progress>}
        <ErrorNote error={attach.error} context="Attach" />
        {attach.data && (
          <div className="result" data-testid="attach-result" aria-live="polite">
            <strong>
              Attached {attach.data.label}
              {attach.data.summary ? `: node ${shortId(attach.data.summary.nodeId, 12)} with ${attach.data.summary.peers} peers` : ''}.
            </strong>
            <div className="btn-row">
              <button type="button" className="btn small" onClick={() => go(attach.data.id)} data-testid="attach-open">
                Show it
              </button>
            </div>
          </div>
        )}
      </form>
      {list.length > 0 && (
        <table className="table" data-testid="remote-list">
          <thead>
            <tr>
              <th>Remote node</th>
              <th>State</th>
              <th>Certificate</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.id} data-testid={`remote-row-${r.id}`}>
                <td className="mono">{r.label}</td>
                <td title={r.error ?? undefined}>{r.state}</td>
                <td className="mono faint" title={r.fingerprint}>
                  {r.fingerprint.slice(0, 17)}…
                </td>
                <td>
                  <div className="btn-row">
                    <button type="button" className="btn small" onClick={() => go(r.id)} disabled={r.id === current}>
                      {r.id === current ? 'Shown' : 'Show'}
                    </button>
                    <button type="button" className="btn small" onClick={() => detach.mutate(r.id)} disabled={detach.isPending}>
                      Detach
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorNote error={detach.error} context="Detach" />
    </Card>
  );
}

function figures(s: RemoteSummary | null): { peers: string; rpc: string; lookup: string } {
  if (!s) return { peers: '–', rpc: '–', lookup: '–' };
  return {
    peers: String(s.peers),
    rpc: s.rpcPerSecond === null ? '…' : s.rpcPerSecond.toFixed(1),
    lookup: s.lookupMedianMs === null ? 'no lookups' : `${Math.round(s.lookupMedianMs)} ms`,
  };
}

/** Overview: this host's node and every attached one, side by side. Shown once a remote is attached. */
export function NodesSideBySide(): ReactElement | null {
  const remotes = useRemotes();
  const current = useConnection().remote;
  const data = remotes.data;
  if (!data || data.remotes.length === 0) return null;
  const rows = [
    { id: null as string | null, label: 'This host’s node', state: 'local', summary: data.local as RemoteSummary | null, error: null as string | null },
    ...data.remotes.map((r) => ({ id: r.id as string | null, label: r.label, state: r.state, summary: r.summary, error: r.error })),
  ];
  return (
    <Card title="Nodes side by side" sub="this host’s node and the remote nodes attached to it" className="span-3" testId="side-by-side">
      <div className="side-by-side">
        {rows.map((r) => {
          const f = figures(r.summary);
          const shown = r.id === current;
          return (
            <button type="button" key={r.id ?? 'local'} className={`node-tile${shown ? ' shown' : ''}`} onClick={() => !shown && go(r.id)} title={r.error ?? (shown ? 'shown now' : 'show this node')} data-testid={`tile-${r.id ?? 'local'}`}>
              <span className="tile-head">
                <span className={`dot ${r.state === 'connected' || r.state === 'local' ? 'good' : 'bad'}`} aria-hidden="true" />
                <span className="mono">{r.label}</span>
                {shown && <span className="chip small">shown</span>}
              </span>
              <span className="mono faint">{r.summary ? shortId(r.summary.nodeId, 16) : r.state}</span>
              <span className="tile-figures">
                <span>
                  <b data-testid="tile-peers">{f.peers}</b> peers
                </span>
                <span>
                  <b>{f.rpc}</b> RPC/s
                </span>
                <span>
                  <b>{f.lookup}</b> lookup median
                </span>
              </span>
            </button>
          );
        })}
      </div>
    </Card>
  );
}
