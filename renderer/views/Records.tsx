// Records: topics (announce, find peers), the local store, a Store form (text or a small file; immutable, or mutable signed with a
// generated or loaded key pair; or named, at SHA-256 of a name) and a Fetch form (by key or by name;
// value as text or hex, who returned it, its lookup).
import { useEffect, useMemo, useState, type FormEvent, type ReactElement } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { MAX_VALUE_BYTES, idHex, recordName, type GetDto, type PutDto, type PutMutableDto, type ValueInput } from '../../electron/host/contract';
import { Card, CopyButton, Empty, ErrorNote, FilePicker, Id, Progress, Segmented, SegmentedField } from '../components/common';
import { useLive } from '../state/live';
import { useLookup } from '../state/lookups';
import { useApi, useConnectionState } from '../state/sync';
import { useUi } from '../state/ui';
import { unwrap } from '../state/call';
import { base64ToBytes, bytesToBase64, hexDump, utf8Length } from '../lib/bytes';
import { formatBytes, formatDuration, plural } from '../lib/format';
import { peerRows, peerRowText } from '../lib/peers';

const HEX_ID = /^(?:[0-9a-f]{64}|[0-9a-f]{40})$/i;
/** Records this close to expiry are shown in the warning colour, ms. */
const EXPIRY_WARNING_MS = 5 * 60_000;

function NodeRef({ value }: { value: string }): ReactElement {
  const self = useLive((s) => s.node?.id);
  if (!HEX_ID.test(value)) return <span className="mono">{value}</span>;
  return (
    <>
      <Id id={value} />
      {value === self && <span className="muted"> (this node)</span>}
    </>
  );
}

export function Records(): ReactElement {
  return (
    <div className="stack">
      <div className="grid cols-2">
        <StoreForm />
        <FetchForm />
      </div>
      <TopicsCard />
      <LocalStore />
    </div>
  );
}

/** Announce our address under a topic and find who else did (GET_PEERS lookups). */
function TopicsCard(): ReactElement {
  const api = useApi();
  const [topic, setTopic] = useState('');
  const [port, setPort] = useState('');
  // The port announced: the node's own by default (a service beside it may announce its port).
  const nodePort = useLive((s) => s.node?.address.port ?? 0);
  const portValue = port.trim() === '' ? nodePort : Number(port);
  const portError = Number.isInteger(portValue) && portValue >= 1 && portValue <= 65535 ? null : 'a port is 1-65535';
  const announce = useMutation({ mutationFn: (t: string) => unwrap(api.announce({ topic: t, port: portValue })) });
  const find = useMutation({ mutationFn: (t: string) => unwrap(api.lookupPeers({ topic: t })) });
  const ready = topic.trim() !== '' && !announce.isPending && !find.isPending;
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (ready) find.mutate(topic);
  };
  const rows = find.data ? peerRows(find.data) : [];
  return (
    <Card title="Topics" sub="announce this node under a topic’s hash, and find the peers announced there" testId="topics-card">
      <form className="form" onSubmit={submit} aria-label="Topics">
        <div className="field">
          <label htmlFor="topic-text">Topic</label>
          <input id="topic-text" className="input" value={topic} onChange={(e) => setTopic(e.target.value)} placeholder="any text, e.g. lan-party" autoComplete="off" data-testid="topic-text" />
          <span className="hint">A peer behind the same public address as this node is listed at its local address on your network, when it announced one.</span>
        </div>
        <div className="field">
          <label htmlFor="topic-port">Port to announce</label>
          <input id="topic-port" className="input mono" value={port} onChange={(e) => setPort(e.target.value)} placeholder={String(nodePort)} inputMode="numeric" autoComplete="off" data-testid="topic-port" aria-invalid={portError !== null} />
          {portError ? <span className="err">{portError}</span> : <span className="hint">Empty: this node’s port.</span>}
        </div>
        <div className="btn-row">
          <button type="button" className="btn" disabled={!ready || portError !== null} onClick={() => announce.mutate(topic)} data-testid="topic-announce">
            Announce
          </button>
          <button type="submit" className="btn primary" disabled={!ready} data-testid="topic-find">
            Find peers
          </button>
        </div>
        <ErrorNote error={announce.error ?? find.error} />
        {announce.data && (
          <p className="muted" data-testid="topic-announced">
            Announced at {plural(announce.data.storedAt.length, 'node')}
            {announce.data.failed.length > 0 ? `; ${announce.data.failed.length} refused or did not answer` : ''}.
          </p>
        )}
        {find.data && (
          <div className="result" data-testid="topic-peers" aria-live="polite">
            <span className="field-label">
              {plural(rows.length, 'peer')} under “{find.data.topic}”
            </span>
            {rows.length === 0 ? (
              <p className="muted">Nobody has announced this topic.</p>
            ) : (
              <ul className="plain-list">
                {rows.map((row) => (
                  <li key={row.address} className="mono" data-testid="topic-peer" data-local={row.sameNetworkAs !== undefined ? 'true' : undefined}>
                    {peerRowText(row)}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </form>
    </Card>
  );
}

// ---------------------------------------------------------------------------------------------

type Source = 'text' | 'file';
type Kind = 'immutable' | 'named' | 'mutable';
const GENERATE = 'generate';

interface FileValue {
  name: string;
  base64: string;
  size: number;
}

/** The bytes a value takes as stored: on Mainline bencoded as a byte string, which BEP 44 limits to 1,000. */
function storedSize(n: number, mainline: boolean): number {
  return mainline ? String(n).length + 1 + n : n;
}

function StoreForm(): ReactElement {
  const api = useApi();
  const qc = useQueryClient();
  const open = useConnectionState().status === 'open';
  const setFetchKey = useUi((s) => s.setFetchKey);
  const [kind, setKind] = useState<Kind>('immutable');
  const [source, setSource] = useState<Source>('text');
  const [text, setText] = useState('');
  const [file, setFile] = useState<FileValue | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [keyPair, setKeyPair] = useState<string>(GENERATE);
  const [seq, setSeq] = useState('0');
  const [salt, setSalt] = useState('');
  const [name, setName] = useState('');
  const [keyFileName, setKeyFileName] = useState<string | null>(null);
  const mainline = useLive((s) => s.node?.protocol.name === 'mainline');
  const hyperdht = useLive((s) => s.node?.protocol.name === 'hyperdht');
  // Named records are kadscope's own (wire v2): a node speaking Mainline or HyperDHT has none to offer.
  const noNames = mainline || hyperdht;
  useEffect(() => {
    if (noNames && kind === 'named') setKind('immutable');
  }, [noNames, kind]);

  const keyPairs = useQuery({ queryKey: ['keypairs'], queryFn: () => unwrap(api.listKeyPairs()), enabled: open && kind === 'mutable' });
  const importPair = useMutation({
    mutationFn: (a: { name: string; json: string }) => unwrap(api.importKeyPair(a)),
    onSuccess: (kp) => {
      void qc.invalidateQueries({ queryKey: ['keypairs'] });
      setKeyPair(kp.name);
    },
  });
  const store = useMutation<(PutDto | PutMutableDto) & { kind: Kind }, Error, void>({
    mutationFn: async () => {
      const value: ValueInput = source === 'text' ? { text } : { base64: file?.base64 ?? '' };
      if (kind === 'immutable') return { ...(await unwrap(api.put({ value }))), kind };
      if (kind === 'named') return { ...(await unwrap(api.put({ value, at: name }))), kind };
      const r = await unwrap(api.putMutable({ value, seq: Number(seq), keyPair, ...(salt !== '' && !hyperdht ? { salt } : {}) }));
      void qc.invalidateQueries({ queryKey: ['keypairs'] });
      return { ...r, kind };
    },
    onSuccess: (r) => {
      if ('seq' in r) setSeq(String(r.seq + 1));
      if ('keyPair' in r) setKeyPair(r.keyPair);
    },
  });

  // On Mainline BEP 44 limits the value as stored: bencoded as a byte string ("<n>:" then the bytes).
  const bytes = storedSize(source === 'text' ? utf8Length(text) : (file?.size ?? 0), mainline);
  const tooBig = bytes > MAX_VALUE_BYTES;
  const seqError = kind === 'mutable' && !/^\d+$/.test(seq) ? 'seq is a whole number, 0 or more' : null;
  const saltError = kind === 'mutable' && !hyperdht && utf8Length(salt) > 64 ? 'a salt is at most 64 bytes' : null;
  const nameCheck = recordName.safeParse(name);
  const nameError = kind === 'named' && name !== '' && !nameCheck.success ? (nameCheck.error.issues[0]?.message ?? 'not a name') : null;
  const empty = source === 'text' ? text === '' : file === null;
  // Only spaces, tabs or line breaks: typed text that shows nothing is taken for a slip and refused
  // here; exact bytes, whitespace included, can still be stored from a file.
  const blank = source === 'text' && !empty && text.trim() === '';
  const canSubmit = !tooBig && !empty && !blank && !seqError && !saltError && (kind !== 'named' || nameCheck.success) && !store.isPending;

  const onFile = async (f: File | undefined): Promise<void> => {
    setFileError(null);
    setFile(null);
    if (!f) return;
    if (storedSize(f.size, mainline) > MAX_VALUE_BYTES) {
      setFileError(`${f.name} is ${formatBytes(f.size)}; a value is at most ${MAX_VALUE_BYTES} bytes${mainline ? ' bencoded (996 of content)' : ''}`);
      return;
    }
    const buf = new Uint8Array(await f.arrayBuffer());
    setFile({ name: f.name, base64: bytesToBase64(buf), size: buf.length });
  };

  const onKeyFile = async (f: File | undefined): Promise<void> => {
    if (!f) return;
    const name = f.name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'imported';
    importPair.mutate({ name, json: await f.text() });
  };

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (canSubmit) store.mutate();
  };

  return (
    <Card title="Store a value" sub="on the k nodes closest to its key" testId="store-card">
      <form className="form" onSubmit={submit} aria-label="Store a value">
        <div className="row">
          <SegmentedField
            fieldLabel="Record"
            fit
            label="Record type"
            value={kind}
            onChange={setKind}
            options={[
              { value: 'immutable', label: 'Immutable' },
              ...(noNames ? [] : [{ value: 'named' as const, label: 'At a name' }]),
              { value: 'mutable', label: 'Mutable (signed)' },
            ]}
          />
          <SegmentedField
            fieldLabel="Value from"
            label="Value source"
            value={source}
            onChange={setSource}
            options={[
              { value: 'text', label: 'Text' },
              { value: 'file', label: 'File' },
            ]}
          />
        </div>
        <p className="hint muted">
          {storeHint(hyperdht ? 'hyperdht' : mainline ? 'mainline' : 'kadscope', kind)}
        </p>
        {kind === 'named' && (
          <div className="field">
            <NameInput id="store-name" value={name} onChange={setName} error={nameError} hint="Fetch it back by this name; up to 128 bytes of text." />
          </div>
        )}

        {source === 'text' ? (
          <div className="field">
            <label htmlFor="store-text">Value</label>
            <textarea
              id="store-text"
              className="textarea"
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder="hello, DHT"
              aria-invalid={tooBig || blank}
              aria-describedby="store-size"
              data-testid="store-text"
            />
            <span id="store-size" className={tooBig || blank ? 'err' : 'hint'} data-testid="store-size">
              {blank
                ? 'The value is only spaces or line breaks, which nobody would see; type a value (to store exact whitespace, use a file).'
                : `${bytes} / ${MAX_VALUE_BYTES} bytes${mainline ? ' bencoded (BEP 44)' : ''}${tooBig ? ': too long for one record' : ''}`}
            </span>
          </div>
        ) : (
          <div className="field">
            <label htmlFor="store-file">File (at most {MAX_VALUE_BYTES} bytes)</label>
            <FilePicker id="store-file" label="Choose a file…" fileName={file?.name ?? null} onFile={(f) => void onFile(f)} invalid={fileError !== null} testId="store-file" />
            {fileError ? <span className="err">{fileError}</span> : file ? <span className="hint">{file.name}: {file.size} bytes</span> : <span className="hint">Pick a small file.</span>}
          </div>
        )}

        {kind === 'mutable' && (
          <div className="row top">
            <div className="field">
              <label htmlFor="store-keypair">Key pair</label>
              <select id="store-keypair" className="select" value={keyPair} onChange={(e) => setKeyPair(e.target.value)}>
                <option value={GENERATE}>Generate a new key pair</option>
                {keyPairs.data?.map((kp) => (
                  <option key={kp.name} value={kp.name}>
                    {kp.name} · {kp.publicKey.slice(0, 8)}
                  </option>
                ))}
              </select>
              <span className="hint key-file">
                or load one from a file:{' '}
                <FilePicker
                  label="Load a key pair…"
                  accept=".json,application/json"
                  fileName={keyFileName}
                  onFile={(f) => {
                    setKeyFileName(f?.name ?? null);
                    void onKeyFile(f);
                  }}
                  testId="store-keypair-file"
                />
              </span>
              {importPair.isPending && <Progress>Loading the key pair…</Progress>}
              <ErrorNote error={importPair.error} context="Key pair" />
              <ErrorNote error={keyPairs.error} context="Key pairs" />
            </div>
            <div className="field narrow">
              <label htmlFor="store-seq">seq</label>
              <input id="store-seq" className="input" inputMode="numeric" value={seq} onChange={(e) => setSeq(e.target.value.trim())} aria-invalid={seqError !== null} />
              {seqError && <span className="err">{seqError}</span>}
            </div>
            {!hyperdht && (
              <div className="field">
                <label htmlFor="store-salt">Salt (optional)</label>
                <input id="store-salt" className="input" value={salt} onChange={(e) => setSalt(e.target.value)} aria-invalid={saltError !== null} />
                {saltError && <span className="err">{saltError}</span>}
              </div>
            )}
          </div>
        )}

        <div className="btn-row">
          <button type="submit" className="btn primary" disabled={!canSubmit} data-testid="store-submit">
            {store.isPending ? 'Storing…' : 'Store'}
          </button>
          {store.isPending && <Progress>Finding the closest nodes and storing…</Progress>}
        </div>
        <ErrorNote error={store.error} context="Store" />
        {store.data && (
          <div className="result" data-testid="store-result" aria-live="polite">
            <div>
              <div className="field-label">Key</div>
              <span className="copy">
                <span className="id full" data-testid="store-result-key">
                  {store.data.key}
                </span>
                <CopyButton text={store.data.key} />
              </span>
            </div>
            <div>
              <div className="field-label">
                Stored on {store.data.storedAt.length} node{store.data.storedAt.length === 1 ? '' : 's'}
              </div>
              {store.data.storedAt.length === 0 ? (
                <span className="c-warn">No node accepted it. Is the node joined to a network?</span>
              ) : (
                <ul className="list-inline" data-testid="store-result-nodes" data-count={store.data.storedAt.length}>
                  {store.data.storedAt.map((n) => (
                    <li key={n}>
                      <NodeRef value={n} />
                    </li>
                  ))}
                </ul>
              )}
            </div>
            {store.data.name !== undefined && (
              <div className="muted" data-testid="store-result-name">
                at the name <b>{store.data.name}</b> · SHA-256 of the name is the key
              </div>
            )}
            {'seq' in store.data && (
              <div className="muted">
                seq {store.data.seq} · signed by key pair <b>{store.data.keyPair}</b> · public key <Id id={store.data.publicKey} />
              </div>
            )}
            <div className="btn-row">
              <button type="button" className="btn small" onClick={() => setFetchKey(store.data.key, 'salt' in store.data ? (store.data.salt ?? '') : '')} data-testid="store-fetch-it">
                Fetch it
              </button>
              {store.data.lookupId && <LookupLink id={store.data.lookupId} />}
            </div>
          </div>
        )}
      </form>
    </Card>
  );
}

/** What the key of a record of this kind is, on this network. */
function storeHint(protocol: 'kadscope' | 'mainline' | 'hyperdht', kind: Kind): string {
  if (protocol === 'hyperdht') {
    return kind === 'immutable'
      ? 'HyperDHT: the key is BLAKE2b-256 of the value; anyone can check it, nobody can change it.'
      : 'HyperDHT: the key is BLAKE2b-256 of your public key (no salt); store again with a higher seq to update it. HyperDHT answers leave the public key out: fetching needs it (this node’s own are known).';
  }
  if (protocol === 'mainline') {
    return kind === 'immutable'
      ? 'BEP 44: the key is SHA-1 of the value bencoded as a byte string; anyone can check it, nobody can change it.'
      : 'BEP 44: the key is SHA-1 of your public key and salt; store again with a higher seq to update it. Mainline answers leave the salt out: fetching needs it.';
  }
  if (kind === 'immutable') return 'The key is SHA-256 of the value: anyone can check it, nobody can change it.';
  if (kind === 'named') return 'The key is SHA-256 of the name. Nothing proves who wrote it: anyone can store another value at the same name, and the last write wins.';
  return 'The key is SHA-256 of your public key and salt; store again with a higher seq to update it.';
}

/** A record name's label, input and message (store "at a name", fetch by name). */
function NameInput({ id, value, onChange, error, hint }: { id: string; value: string; onChange: (v: string) => void; error: string | null; hint: string }): ReactElement {
  return (
    <>
      <label htmlFor={id}>Name</label>
      <input
        id={id}
        className="input"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder="config/greeting"
        aria-invalid={error !== null}
        autoComplete="off"
        spellCheck={false}
        data-testid={id}
      />
      {error ? <span className="err">{error}</span> : <span className="hint">{hint}</span>}
    </>
  );
}

function LookupLink({ id, label = 'Open its lookup' }: { id: string; label?: string }): ReactElement {
  const selectLookup = useUi((s) => s.selectLookup);
  return (
    <a href="#/lookups" onClick={() => selectLookup(id)} data-testid="lookup-link">
      {label}
    </a>
  );
}

// ---------------------------------------------------------------------------------------------

function FetchForm(): ReactElement {
  const api = useApi();
  const fetchKey = useUi((s) => s.fetchKey);
  const setFetchKey = useUi((s) => s.setFetchKey);
  const [touched, setTouched] = useState(false);
  const [show, setShow] = useState<'text' | 'hex'>('text');
  const [source, setSource] = useState<'network' | 'local'>('network');
  const [by, setBy] = useState<'key' | 'name'>('key');
  const [name, setName] = useState('');
  // "Fetch it" and a row's Fetch fill in a key: show the key field.
  useEffect(() => setBy('key'), [fetchKey]);
  const salt = useUi((s) => s.fetchSalt);
  const setSalt = useUi((s) => s.setFetchSalt);
  const idBytes = useLive((s) => s.node?.protocol.idBytes ?? 32);
  const [publicKey, setPublicKey] = useState('');
  const mainline = useLive((s) => s.node?.protocol.name === 'mainline');
  const hyperdht = useLive((s) => s.node?.protocol.name === 'hyperdht');
  const noNames = mainline || hyperdht;
  // No names on Mainline or HyperDHT (named records are kadscope's): by key only.
  useEffect(() => {
    if (noNames) setBy('key');
  }, [noNames]);
  const pk = idHex.safeParse(publicKey);
  const publicKeyError = hyperdht && publicKey.trim() !== '' && !(pk.success && pk.data.length === 64) ? 'a public key is 64 hex characters' : null;
  const get = useMutation<GetDto, Error, { key: string; source: 'network' | 'local'; salt?: string; publicKey?: string } | { name: string; source: 'auto' }>({
    mutationFn: (args) => unwrap(api.get(args)),
    onSuccess: (r) => setShow(r.text === null ? 'hex' : 'text'),
  });
  const parsed = idHex.safeParse(fetchKey);
  const wrongLength = parsed.success && parsed.data.length !== idBytes * 2;
  const keyError = fetchKey.trim() === '' ? null : wrongLength ? `this network's keys are ${idBytes * 2} hex characters` : parsed.success ? null : parsed.error.issues[0]?.message;
  // Whether this node holds the key: then the user chooses between its copy and the network's.
  const held = useLive((s) => (by === 'key' && parsed.success ? s.records.some((r) => r.key === parsed.data) : false));
  const from = held ? source : 'network';
  const nameCheck = recordName.safeParse(name);
  const nameError = name === '' || nameCheck.success ? null : (nameCheck.error.issues[0]?.message ?? 'not a name');
  const ready = by === 'key' ? parsed.success : nameCheck.success;

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setTouched(true);
    // By name the network answers (a name can be overwritten anywhere); our own copy takes part.
    if (by === 'name') {
      if (nameCheck.success) get.mutate({ name: nameCheck.data, source: 'auto' });
    } else if (parsed.success && !wrongLength && publicKeyError === null) {
      get.mutate({ key: parsed.data, source: from, ...(salt !== '' && mainline ? { salt } : {}), ...(hyperdht && pk.success ? { publicKey: pk.data } : {}) });
    }
  };

  return (
    <Card title="Fetch a value" sub={from === 'local' ? 'this node’s own copy, no lookup' : by === 'name' ? 'iterative FIND_VALUE at SHA-256(name)' : 'iterative FIND_VALUE by key'} testId="fetch-card">
      <form className="form" onSubmit={submit} aria-label="Fetch a value">
        {!noNames && (
          <SegmentedField
            fieldLabel="Fetch by"
            label="Fetch by"
            value={by}
            onChange={setBy}
            options={[
              { value: 'key', label: 'Key' },
              { value: 'name', label: 'Name' },
            ]}
          />
        )}
        {by === 'name' ? (
          <div className="field">
            <NameInput id="fetch-name" value={name} onChange={setName} error={nameError} hint="A value stored “at a name”: whoever wrote that name last, not necessarily who you expect." />
          </div>
        ) : (
          <div className="field">
            <label htmlFor="fetch-key">Key</label>
            <input
              id="fetch-key"
              className="input mono"
              value={fetchKey}
              onChange={(e) => setFetchKey(e.target.value)}
              onBlur={() => setTouched(true)}
              placeholder={`${idBytes * 2} hex characters`}
              aria-invalid={keyError !== null && keyError !== undefined}
              autoComplete="off"
              spellCheck={false}
              data-testid="fetch-key"
            />
            {keyError && (touched || fetchKey.length >= idBytes * 2) ? <span className="err">{keyError}</span> : <span className="hint">Paste a key, or use “Fetch it” after storing.</span>}
          </div>
        )}
        {mainline && by === 'key' && (
          <div className="field">
            <label htmlFor="fetch-salt">Salt of a mutable item (optional; BEP 44 answers leave it out)</label>
            <input id="fetch-salt" className="input" value={salt} onChange={(e) => setSalt(e.target.value)} data-testid="fetch-salt" />
          </div>
        )}
        {hyperdht && (
          <div className="field">
            <label htmlFor="fetch-public-key">Public key of a mutable value (optional; HyperDHT answers leave it out, this node’s own key pairs are tried)</label>
            <input
              id="fetch-public-key"
              className="input mono"
              value={publicKey}
              onChange={(e) => setPublicKey(e.target.value)}
              placeholder="64 hex characters; empty for an immutable value"
              aria-invalid={publicKeyError !== null}
              autoComplete="off"
              spellCheck={false}
              data-testid="fetch-public-key"
            />
            {publicKeyError && <span className="err">{publicKeyError}</span>}
          </div>
        )}
        {held && (
          <SegmentedField
            fieldLabel="This node holds a copy of this key. Fetch"
            testId="fetch-source"
            label="Fetch from"
            value={source}
            onChange={setSource}
            options={[
              { value: 'network', label: 'From the network' },
              { value: 'local', label: 'This node’s copy' },
            ]}
          >
            <span className="hint">{source === 'network' ? 'A find-value lookup that leaves our own copy out: what other nodes return.' : 'Read from this node’s store; nothing is sent.'}</span>
          </SegmentedField>
        )}
        <div className="btn-row">
          <button type="submit" className="btn primary" disabled={!ready || (by === 'key' && wrongLength) || publicKeyError !== null || get.isPending} data-testid="fetch-submit">
            {get.isPending ? 'Fetching…' : 'Fetch'}
          </button>
          {get.isPending && <Progress>{from === 'local' ? 'Reading this node’s copy…' : 'Asking the nodes closest to the key…'}</Progress>}
        </div>
        <ErrorNote error={get.error} context="Fetch" />
        {get.data && <FetchResult r={get.data} show={show} setShow={setShow} />}
      </form>
    </Card>
  );
}

function FetchResult({ r, show, setShow }: { r: GetDto; show: 'text' | 'hex'; setShow: (s: 'text' | 'hex') => void }): ReactElement {
  const bytes = useMemo(() => base64ToBytes(r.base64), [r.base64]);
  const lookup = useLookup(r.lookupId);
  const self = useLive((s) => s.node?.id);
  // No lookup ran: the answer is this node's own copy. A lookup whose best answer was our own
  // (mutable) copy still ran, and says so with its figures.
  const local = r.lookupId === null;
  // Every peer whose answer carried the value, from the lookup's trace; at least the one the host named.
  const holders = useMemo(() => {
    const ids = new Set<string>([r.from]);
    for (const e of lookup.model?.events ?? []) if (e.type === 'response' && e.hasValue) ids.add(e.peer.id);
    return [...ids];
  }, [lookup.model, r.from]);
  return (
    <div className="result" data-testid="fetch-result" aria-live="polite">
      <div className="row">
        <span className="field-label">
          Value · {bytes.length} bytes{r.seq !== null ? ` · seq ${r.seq}` : ''}
          {r.name !== null ? ` · at the name “${r.name}”` : ''}
        </span>
        <Segmented
          label="Show value as"
          value={show}
          onChange={setShow}
          options={[
            { value: 'text', label: 'Text' },
            { value: 'hex', label: 'Hex' },
          ]}
        />
      </div>
      {show === 'text' && r.text === null ? (
        <p className="muted">The value is not valid UTF-8 text; showing it as hex is safer.</p>
      ) : (
        <pre className="value-box" data-testid={show === 'text' ? 'fetch-value' : 'fetch-hex'}>
          {show === 'text' ? r.text : hexDump(bytes)}
        </pre>
      )}
      <div>
        <div className="field-label">
          Returned by {holders.length} node{holders.length === 1 ? '' : 's'}
        </div>
        <ul className="list-inline" data-testid="fetch-holders" data-count={holders.length}>
          {holders.map((h) => (
            <li key={h}>
              <NodeRef value={h} />
            </li>
          ))}
        </ul>
      </div>
      <div className="muted" data-testid="fetch-route">
        {local
          ? 'Answered from this node’s own copy: no lookup ran.'
          : `${r.from === self ? 'newest copy was this node’s own · ' : ''}${plural(r.hops, 'hop')} · ${plural(r.messages, 'message')} · ${formatDuration(r.durationMs)}`}
        {r.lookupId && (
          <>
            {' · '}
            <LookupLink id={r.lookupId} />
          </>
        )}
      </div>
    </div>
  );
}

// ---------------------------------------------------------------------------------------------

function LocalStore(): ReactElement {
  const records = useLive((s) => s.records);
  const setFetchKey = useUi((s) => s.setFetchKey);
  const sorted = useMemo(() => [...records].sort((a, b) => b.storedAt - a.storedAt), [records]);
  return (
    <Card title="Stored on this node" sub={`${records.length} record${records.length === 1 ? '' : 's'} other nodes (or you) asked us to keep`} flush testId="local-records">
      {sorted.length === 0 ? (
        <Empty title="No records here yet">
          Store a value above: it goes to the nodes closest to its key, which may include this one. Records other nodes store with us appear here too.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Key</th>
                <th>Type</th>
                <th className="num">Size</th>
                <th className="num">seq</th>
                <th>Expires in</th>
                <th>Publisher</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {sorted.map((r) => (
                <tr key={r.key} data-testid="record-row">
                  <td>
                    <Id id={r.key} chars={16} copy />
                  </td>
                  <td>
                    {r.type}
                    {r.name !== undefined && <span className="muted"> · {r.name}</span>}
                  </td>
                  <td className="num">{formatBytes(r.size)}</td>
                  <td className="num">{r.seq ?? '—'}</td>
                  <td className={r.expiresInMs < EXPIRY_WARNING_MS ? 'c-warn' : undefined}>{formatDuration(r.expiresInMs).replace(/\.\d+ s$/, ' s')}</td>
                  <td className="mono">{r.local ? 'you' : (r.publisher ?? '—')}</td>
                  <td>
                    <button type="button" className="btn small ghost" onClick={() => setFetchKey(r.key, '')}>
                      Fetch
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
