// Messages: the extension points as a person uses them. Call a custom RPC method on a peer (and see
// its answer or its refusal), the methods this node answers, send a broadcast, and the broadcasts
// this node received: who started each, who handed it on, when, in how many hops, and what it said;
// and the call log: every custom method call this node made or answered, with its outcome.
import { useEffect, useMemo, useState, type FormEvent, type ReactElement } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { MAX_BROADCAST_BYTES, addressString, customMethodName, type BroadcastSendDto, type CallDto } from '../../electron/host/contract';
import { Card, Empty, ErrorNote, Id, Progress } from '../components/common';
import type { BroadcastDto, CallInfo, HealthState } from '../state/contract-types';
import { hostNow, useLive } from '../state/live';
import { useApi, useConnectionState } from '../state/sync';
import { unwrap } from '../state/call';
import { base64ToBytes, hexDump, utf8Length } from '../lib/bytes';
import { endpointText, formatAgo, formatDuration, plural } from '../lib/format';
import { useHostNow } from '../lib/hooks';

const SUGGEST_RANK: Record<HealthState, number> = { good: 0, unknown: 1, questionable: 2, bad: 3 };

/** Characters of a payload shown in the table; the row opens to the whole of it. */
const PREVIEW_CHARS = 80;
const DEFAULT_HOP_LIMIT = 32;

export function Messages(): ReactElement {
  return (
    <div className="stack">
      <div className="grid cols-2">
        <CallForm />
        <BroadcastForm />
      </div>
      <CallLog />
      <RegisteredMethods />
      <ReceivedBroadcasts />
    </div>
  );
}

function CallForm(): ReactElement {
  const api = useApi();
  const peers = useLive((s) => s.peers);
  const [address, setAddress] = useState('');
  const [name, setName] = useState('kadscope.info');
  const [args, setArgs] = useState('');
  const call = useMutation<CallDto, Error, void>({ mutationFn: () => unwrap(api.call({ address: address.trim(), name: name.trim(), ...(args.trim() ? { args } : {}) })) });
  const addressCheck = addressString.safeParse(address.trim());
  const nameCheck = customMethodName.safeParse(name);
  const argsError = useMemo(() => {
    if (args.trim() === '') return null;
    try {
      JSON.parse(args);
      return null;
    } catch (e) {
      return `not valid JSON: ${(e as Error).message}`;
    }
  }, [args]);
  // Peers that answer first (good, then the most recently heard); bad ones are not offered.
  const suggestions = useMemo(
    () =>
      [...peers.values()]
        .filter((p) => p.state !== 'bad')
        .sort((a, b) => SUGGEST_RANK[a.state] - SUGGEST_RANK[b.state] || (b.lastSeen ?? 0) - (a.lastSeen ?? 0))
        .slice(0, 50)
        .map((p) => `${endpointText(p)}`),
    [peers],
  );
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (addressCheck.success && nameCheck.success && argsError === null) call.mutate();
  };
  return (
    <Card title="Call a method" sub="a custom RPC method on a peer (CALL); arguments and result travel as CBOR" testId="call-card">
      <form className="form" onSubmit={submit} aria-label="Call a method">
        <div className="field">
          <label htmlFor="call-address">Peer address</label>
          <input
            id="call-address"
            className="input mono"
            list="call-peers"
            value={address}
            onChange={(e) => setAddress(e.target.value)}
            placeholder="host:port or /ip4/…/udp/…"
            autoComplete="off"
            spellCheck={false}
            data-testid="call-address"
          />
          <datalist id="call-peers">
            {suggestions.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
          {address.trim() !== '' && !addressCheck.success ? <span className="err">{addressCheck.error.issues[0]?.message}</span> : <span className="hint">A peer from the routing table, or any address.</span>}
        </div>
        <div className="field">
          <label htmlFor="call-name">Method</label>
          <input id="call-name" className="input mono" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" spellCheck={false} data-testid="call-name" />
          {!nameCheck.success && <span className="err">{nameCheck.error.issues[0]?.message}</span>}
        </div>
        <div className="field">
          <label htmlFor="call-args">Arguments (JSON, optional)</label>
          <textarea id="call-args" className="input mono" rows={2} value={args} onChange={(e) => setArgs(e.target.value)} placeholder='{"text": "hello"}' spellCheck={false} data-testid="call-args" />
          {argsError && <span className="err">{argsError}</span>}
        </div>
        <div className="btn-row">
          <button type="submit" className="btn primary" disabled={!addressCheck.success || !nameCheck.success || argsError !== null || call.isPending} data-testid="call-submit">
            {call.isPending ? 'Calling…' : 'Call'}
          </button>
          {call.isPending && <Progress>Waiting for the answer…</Progress>}
        </div>
        <ErrorNote error={call.error} context="The call" />
        {call.data && (
          <div className="result" data-testid="call-result" aria-live="polite">
            <div className="row">
              <span className="field-label">
                Answer from <Id id={call.data.id} /> at <span className="mono">{call.data.address}</span> in {formatDuration(call.data.rttMs)}
              </span>
            </div>
            <pre className="value-box" data-testid="call-value">
              {JSON.stringify(call.data.value, null, 2)}
            </pre>
          </div>
        )}
      </form>
    </Card>
  );
}

function BroadcastForm(): ReactElement {
  const api = useApi();
  const [text, setText] = useState('');
  const [hopLimit, setHopLimit] = useState(String(DEFAULT_HOP_LIMIT));
  const send = useMutation<BroadcastSendDto, Error, void>({ mutationFn: () => unwrap(api.broadcast({ text, hopLimit: Number(hopLimit) })) });
  const size = utf8Length(text);
  const hops = Number(hopLimit);
  const hopsOk = Number.isInteger(hops) && hops >= 1 && hops <= 64;
  const ok = size > 0 && size <= MAX_BROADCAST_BYTES && hopsOk;
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (ok) send.mutate();
  };
  return (
    <Card title="Broadcast" sub="to every node once: one contact per bucket, each forwarding below the bucket it came from" testId="broadcast-card">
      <form className="form" onSubmit={submit} aria-label="Broadcast">
        <div className="field">
          <label htmlFor="broadcast-text">Message</label>
          <textarea id="broadcast-text" className="input" rows={3} value={text} onChange={(e) => setText(e.target.value)} data-testid="broadcast-text" />
          <span className={size > MAX_BROADCAST_BYTES ? 'err' : 'hint'}>
            {size} of {MAX_BROADCAST_BYTES} bytes. Broadcasts are not signed: the origin shown to others is what this node claims.
          </span>
        </div>
        <div className="field">
          <label htmlFor="broadcast-hops">Hop limit</label>
          <input id="broadcast-hops" className="input" type="number" min={1} max={64} value={hopLimit} onChange={(e) => setHopLimit(e.target.value)} data-testid="broadcast-hops" />
          {!hopsOk && <span className="err">a whole number 1–64</span>}
        </div>
        <div className="btn-row">
          <button type="submit" className="btn primary" disabled={!ok || send.isPending} data-testid="broadcast-submit">
            {send.isPending ? 'Sending…' : 'Broadcast'}
          </button>
          {send.isPending && <Progress>Handing it to each bucket range…</Progress>}
        </div>
        <ErrorNote error={send.error} context="The broadcast" />
        {send.data && (
          <div className="result" aria-live="polite">
            <span data-testid="broadcast-sent">
              Sent as <span className="mono">{send.data.id}</span>: handed to {plural(send.data.reached, 'bucket range')}
              {send.data.failed > 0 ? `; ${plural(send.data.failed, 'range')} did not answer` : ''}.
            </span>
          </div>
        )}
      </form>
    </Card>
  );
}

/** Every CALL the node made or answered since this page connected, newest first. */
function CallLog(): ReactElement {
  const calls = useLive((s) => s.calls);
  const now = useHostNow();
  return (
    <Card title="Calls" sub={`${plural(calls.length, 'custom method call')} made or answered by this node since this page opened, newest first`} flush testId="calls-card">
      {calls.length === 0 ? (
        <Empty title="No calls yet">A call made above, or one a peer makes to a method this node answers, shows here with its outcome and time.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="calls-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Direction</th>
                <th>Method</th>
                <th>Peer</th>
                <th>Outcome</th>
                <th className="num">Time</th>
              </tr>
            </thead>
            <tbody>
              {calls.map((c, i) => (
                <CallRow key={`${c.at}/${i}`} c={c} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function CallRow({ c, now }: { c: CallInfo; now: number }): ReactElement {
  return (
    <tr data-testid="call-row" data-direction={c.direction} data-outcome={c.outcome}>
      <td title={new Date(c.at).toISOString()}>{formatAgo(c.at, now)}</td>
      <td>{c.direction === 'sent' ? 'sent →' : '← received'}</td>
      <td className="mono">{c.name}</td>
      <td>
        {c.peer.id !== null && <Id id={c.peer.id} />} <span className="mono faint">{endpointText(c.peer)}</span>
      </td>
      <td className={c.outcome === 'ok' ? 'c-good' : 'c-bad'} title={c.message}>
        {c.outcome === 'ok' ? 'answered' : c.outcome}
        {c.message !== undefined && <span className="muted"> · {c.message}</span>}
      </td>
      <td className="num">{formatDuration(c.durationMs)}</td>
    </tr>
  );
}

function RegisteredMethods(): ReactElement {
  const api = useApi();
  const open = useConnectionState().status === 'open';
  const methods = useQuery({ queryKey: ['methods'], queryFn: () => unwrap(api.methodsList()), enabled: open });
  return (
    <Card title="Methods this node answers" sub="registered with node.register(); calls to them count in the Overview's RPC table under CALL" flush testId="methods-card">
      {methods.error ? (
        <ErrorNote error={methods.error} context="Methods" />
      ) : !methods.data || methods.data.length === 0 ? (
        <Empty title="No custom methods">This node answers only the built-in methods; a call to any other name is refused with UNKNOWN_METHOD.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="methods-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>What it does</th>
              </tr>
            </thead>
            <tbody>
              {methods.data.map((m) => (
                <tr key={m.name}>
                  <td className="mono">{m.name}</td>
                  <td>{m.description || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function ReceivedBroadcasts(): ReactElement {
  const api = useApi();
  const open = useConnectionState().status === 'open';
  const live = useLive((s) => s.broadcasts);
  // What arrived before this page was open; live events go on top of it.
  const earlier = useQuery({ queryKey: ['broadcasts'], queryFn: () => unwrap(api.broadcasts()), enabled: open });
  const list = useMemo(() => {
    const seen = new Set(live.map((b) => `${b.origin}/${b.id}`));
    return [...live, ...(earlier.data ?? []).filter((b) => !seen.has(`${b.origin}/${b.id}`))];
  }, [live, earlier.data]);
  const [openRow, setOpenRow] = useState<string | null>(null);
  const [now, setNow] = useState(hostNow());
  useEffect(() => {
    const t = setInterval(() => setNow(hostNow()), 1000);
    return () => clearInterval(t);
  }, []);
  return (
    <Card title="Broadcasts received" sub={`${plural(list.length, 'broadcast')}; each arrives once (duplicates are suppressed)`} flush testId="broadcasts-card">
      {list.length === 0 ? (
        <Empty title="No broadcasts yet">When a node of the network broadcasts, it shows here: who started it, who handed it on, and in how many hops.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="broadcasts-table">
            <thead>
              <tr>
                <th>Received</th>
                <th>Origin</th>
                <th>Handed on by</th>
                <th className="num">Hops</th>
                <th className="num">Size</th>
                <th>Payload</th>
              </tr>
            </thead>
            <tbody>
              {list.map((b) => {
                const key = `${b.origin}/${b.id}`;
                return (
                  <BroadcastRow key={key} b={b} now={now} open={openRow === key} onToggle={() => setOpenRow(openRow === key ? null : key)} />
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function BroadcastRow({ b, now, open, onToggle }: { b: BroadcastDto; now: number; open: boolean; onToggle: () => void }): ReactElement {
  const preview = b.text !== null ? (b.text.length > PREVIEW_CHARS ? `${b.text.slice(0, PREVIEW_CHARS)}…` : b.text) : null;
  return (
    <>
      <tr className="clickable" onClick={onToggle} aria-expanded={open} data-testid="broadcast-row">
        <td title={new Date(b.receivedAt).toISOString()}>{formatAgo(b.receivedAt, now)}</td>
        <td>
          <Id id={b.origin} />
        </td>
        <td>
          <Id id={b.from.id} /> <span className="muted mono">{endpointText(b.from)}</span>
        </td>
        <td className="num">
          {b.hops}
          <span className="muted"> / {b.hopLimit}</span>
        </td>
        <td className="num">{b.size} B</td>
        <td className={preview === null ? 'mono muted' : ''} data-testid="broadcast-preview">
          {preview ?? `binary (${b.size} bytes)`}
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={6}>
            <pre className="value-box">{b.text ?? hexDump(base64ToBytes(b.base64))}</pre>
          </td>
        </tr>
      )}
    </>
  );
}
