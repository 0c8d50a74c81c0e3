// Join: bootstrap into a network by address. Each address is checked as you type with the contract's
// own rules, so the message is the one the host would give ("127.0.0.1:99999: port must be 1-65535").
import { useMemo, useState, type FormEvent, type ReactElement } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { MAX_BOOTSTRAP_ADDRESSES, addressString, type ProtocolChoice } from '../../electron/host/contract';
import { Card, ErrorNote, Id, Progress } from '../components/common';
import { useLive } from '../state/live';
import { useApi, useConnectionState } from '../state/sync';
import { unwrap } from '../state/call';
import { endpointText } from '../lib/format';
import { joinResultText } from '../lib/messages';
import { AttachRemote } from './Remote';

export interface AddressCheck {
  text: string;
  error: string | null;
}

/** Splits on commas, spaces and newlines; each entry gets the contract's verdict. */
export function checkAddresses(input: string): AddressCheck[] {
  return input
    .split(/[\s,]+/)
    .filter((s) => s !== '')
    .map((text) => {
      const r = addressString.safeParse(text);
      return { text, error: r.success ? null : (r.error.issues[0]?.message ?? 'not a valid address') };
    });
}

export function Join(): ReactElement {
  const api = useApi();
  const qc = useQueryClient();
  const open = useConnectionState().status === 'open';
  const testnet = useLive((s) => s.testnet);
  const peers = useLive((s) => s.peers.size);
  const settings = useQuery({ queryKey: ['settings'], queryFn: () => unwrap(api.settingsGet()), enabled: open, staleTime: Infinity });
  const [text, setText] = useState('');
  const current = useLive((s) => s.node?.protocol.name ?? 'kadscope');
  const [protocol, setProtocol] = useState<ProtocolChoice | null>(null);
  const chosen: ProtocolChoice = protocol ?? (current === 'mainline' || current === 'hyperdht' ? current : 'kadscope');
  const checks = useMemo(() => checkAddresses(text), [text]);
  const bad = checks.filter((c) => c.error !== null);
  const tooMany = checks.length > MAX_BOOTSTRAP_ADDRESSES;

  const join = useMutation({
    mutationFn: (bootstrap: string[]) => unwrap(api.join({ bootstrap, protocol: chosen })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['snapshot'] }),
  });
  const remember = useMutation({
    mutationFn: (addresses: string[]) => unwrap(api.settingsSet({ savedBootstrap: addresses })),
    onSuccess: (s) => qc.setQueryData(['settings'], s),
  });

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (checks.length > 0 && bad.length === 0 && !tooMany) join.mutate(checks.map((c) => c.text));
  };
  const saved = settings.data?.savedBootstrap ?? [];
  const addresses = checks.map((c) => c.text);
  const alreadySaved = addresses.length > 0 && addresses.every((a) => saved.includes(a));

  return (
    <div className="grid cols-3">
      <Card title="Bootstrap addresses" sub="any node already in the network" className="span-2" testId="join-card">
        <form className="form" onSubmit={submit} aria-label="Join a network">
          <div className="field">
            <label htmlFor="join-addresses">Addresses (host:port or a multiaddr such as /ip4/127.0.0.1/udp/4000), separated by commas or new lines</label>
            <textarea
              id="join-addresses"
              className="textarea"
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder={'203.0.113.7:4000\n[2001:db8::1]:4000\n/ip6/2001:db8::1/udp/4000\nbootstrap.example.org:6881'}
              aria-invalid={bad.length > 0}
              aria-describedby="join-check"
              spellCheck={false}
              data-testid="join-addresses"
            />
            <div id="join-check" aria-live="polite" data-testid="join-validation">
              {checks.length === 0 ? (
                <span className="hint">Give at least one address. IPv6 goes in brackets: [::1]:4000, or /ip6/::1/udp/4000.</span>
              ) : bad.length > 0 ? (
                bad.map((c) => (
                  <div key={c.text} className="err" data-testid="join-error">
                    {c.error}
                  </div>
                ))
              ) : tooMany ? (
                <span className="err">At most {MAX_BOOTSTRAP_ADDRESSES} addresses.</span>
              ) : (
                <span className="ok-line">
                  ✓ {checks.length} address{checks.length === 1 ? '' : 'es'} look{checks.length === 1 ? 's' : ''} right
                </span>
              )}
            </div>
          </div>
          <div className="field">
            <label htmlFor="join-protocol">Network protocol</label>
            <select id="join-protocol" className="select input" value={chosen} onChange={(e) => setProtocol(e.target.value as ProtocolChoice)} data-testid="join-protocol">
              <option value="kadscope">kadscope (256-bit ids)</option>
              <option value="mainline">BitTorrent Mainline DHT (BEP 5, 160-bit ids)</option>
              <option value="hyperdht">HyperDHT (Hyperswarm; ids are BLAKE2b-256 of the address)</option>
            </select>
            {chosen !== current && <span className="hint">Your node restarts speaking {chosen === 'mainline' ? 'Mainline' : chosen === 'hyperdht' ? 'HyperDHT' : 'kadscope'} (its identity and records for each protocol are kept apart).</span>}
          </div>
          <div className="btn-row">
            <button type="submit" className="btn primary" disabled={checks.length === 0 || bad.length > 0 || tooMany || join.isPending} data-testid="join-submit">
              {join.isPending ? 'Joining…' : 'Join'}
            </button>
            {testnet?.running && testnet.bootstrap.length > 0 && (
              <button
                type="button"
                className="btn"
                onClick={() => {
                  setText(testnet.bootstrap.slice(0, 3).join('\n'));
                  setProtocol(testnet.protocol ?? 'kadscope');
                }}
              >
                Use the local testnet
              </button>
            )}
            {saved.length > 0 && (
              <button type="button" className="btn" onClick={() => setText(saved.join('\n'))}>
                Use saved addresses ({saved.length})
              </button>
            )}
          </div>
          {join.isPending && <Progress>Pinging {checks.length} address{checks.length === 1 ? '' : 'es'}, then looking up our own id to fill the routing table…</Progress>}
          <ErrorNote error={join.error} context="Join" />
          {join.data && (
            <div className="result" data-testid="join-result" aria-live="polite">
              <strong>
                {joinResultText(join.data.reached.length, join.data.peers)}
              </strong>
              {join.data.reached.length > 0 && (
                <table className="table">
                  <thead>
                    <tr>
                      <th>Answered</th>
                      <th>Node id</th>
                    </tr>
                  </thead>
                  <tbody>
                    {join.data.reached.map((r) => (
                      <tr key={r.id}>
                        <td className="mono">{endpointText(r)}</td>
                        <td>
                          <Id id={r.id} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {join.data.failed.map((f) => (
                <div key={f.address} className="alert error">
                  <span>
                    <span className="mono">{f.address}</span>: {f.message}
                  </span>
                </div>
              ))}
              {join.data.reached.length > 0 && !alreadySaved && (
                <div className="btn-row">
                  <button type="button" className="btn small" onClick={() => remember.mutate([...new Set([...saved, ...addresses])].slice(0, MAX_BOOTSTRAP_ADDRESSES))} disabled={remember.isPending}>
                    Remember these addresses
                  </button>
                  {remember.isSuccess && <span className="ok-line">Saved.</span>}
                </div>
              )}
              <ErrorNote error={remember.error} context="Save" />
            </div>
          )}
        </form>
      </Card>
      <Card title="Where you are now">
        <dl className="kv">
          <dt>Peers</dt>
          <dd>{peers}</dd>
          <dt>Local testnet</dt>
          <dd>{testnet?.running ? `${testnet.alive} nodes on 127.0.0.1` : 'not running'}</dd>
        </dl>
        <p className="muted">
          Joining pings each address, then looks up your own id so the routing table fills with the nodes nearest to you. You can join more than one network’s nodes; peers from
          all of them share the table.
        </p>
      </Card>
      <AttachRemote />
    </div>
  );
}
