// Building blocks shared by the views: ids, copy, health, empty and error states, progress.
import { useRef, useState, type ReactElement, type ReactNode } from 'react';
import type { HealthState } from '../state/contract-types';
import { shortId } from '../lib/id';
import { ApiError } from '../state/call';

/** How long "Copied" stays, ms. */
const COPIED_MS = 1500;

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }): ReactElement {
  const [done, setDone] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('copied');
    } catch {
      setDone('failed');
    }
    setTimeout(() => setDone('idle'), COPIED_MS);
  };
  return (
    <button type="button" className="copy-btn" onClick={() => void copy()} aria-label={`${label}: ${text}`}>
      {done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed' : label}
    </button>
  );
}

/** An id in monospace, shortened, with the full id on hover; optionally copyable. */
export function Id({ id, chars, copy = false, full = false, testId }: { id: string; chars?: number; copy?: boolean; full?: boolean; testId?: string }): ReactElement {
  return (
    <span className="copy">
      <span className={full ? 'id full' : 'id'} title={id} data-testid={testId} data-id={id}>
        {full ? id : shortId(id, chars)}
      </span>
      {copy && <CopyButton text={id} />}
    </span>
  );
}

export function Health({ state }: { state: HealthState }): ReactElement {
  return (
    <span className="health" data-health={state}>
      <span className={`dot ${state}`} aria-hidden="true" />
      {state}
    </span>
  );
}

export function Empty({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }): ReactElement {
  return (
    <div className="empty" role="status">
      <h3>{title}</h3>
      {children && <p>{children}</p>}
      {action}
    </div>
  );
}

/** An error shown where it happened: the host's code and message. */
export function ErrorNote({ error, context }: { error: unknown; context?: string }): ReactElement | null {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="alert error" role="alert">
      <div>
        {context && <strong>{context}: </strong>}
        {code && <span className="code">{code}</span>} {message}
      </div>
    </div>
  );
}

export function Progress({ children }: { children: ReactNode }): ReactElement {
  return (
    <div className="progress" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{children}</span>
    </div>
  );
}

export function Card({ title, sub, right, children, flush, className, testId }: { title?: ReactNode; sub?: ReactNode; right?: ReactNode; children: ReactNode; flush?: boolean; className?: string; testId?: string }): ReactElement {
  return (
    <section className={`card ${className ?? ''}`} data-testid={testId}>
      {title !== undefined && (
        <header className="card-head">
          <h2>{title}</h2>
          {sub && <span className="sub">{sub}</span>}
          {right && <div className="right">{right}</div>}
        </header>
      )}
      <div className={flush ? 'card-body flush' : 'card-body'}>{children}</div>
    </section>
  );
}

/** A segmented toggle (radio-like buttons). */
export function Segmented<T extends string>({ value, options, onChange, label }: { value: T; options: { value: T; label: string }[]; onChange: (v: T) => void; label: string }): ReactElement {
  return (
    <div className="seg" role="group" aria-label={label}>
      {options.map((o) => (
        <button key={o.value} type="button" aria-pressed={o.value === value} onClick={() => onChange(o.value)}>
          {o.label}
        </button>
      ))}
    </div>
  );
}

/** A form field whose input is a Segmented choice: the field's label above, an optional hint below. */
export function SegmentedField<T extends string>({ fieldLabel, fit = false, testId, children, ...seg }: { fieldLabel: string; fit?: boolean; testId?: string; children?: ReactNode; value: T; options: { value: T; label: string }[]; onChange: (v: T) => void; label: string }): ReactElement {
  return (
    <div className={fit ? 'field fit' : 'field'} data-testid={testId}>
      <span className="field-label">{fieldLabel}</span>
      <Segmented<T> {...seg} />
      {children}
    </div>
  );
}

/** What an empty view offers: start a local testnet, or join a network. */
export function StartOrJoin({ go }: { go: (view: 'testnet' | 'join') => void }): ReactElement {
  return (
    <div className="btn-row">
      <button type="button" className="btn primary" onClick={() => go('testnet')}>
        Start a local testnet
      </button>
      <button type="button" className="btn" onClick={() => go('join')}>
        Join a network
      </button>
    </div>
  );
}

/** A file input drawn as the app's button with the chosen file's name beside it (the browser's bare input does not match the forms). */
export function FilePicker({ id, label, accept, fileName, onFile, invalid = false, testId }: { id?: string; label: string; accept?: string; fileName: string | null; onFile: (f: File | undefined) => void; invalid?: boolean; testId?: string }): ReactElement {
  const input = useRef<HTMLInputElement>(null);
  return (
    <span className="file-picker">
      <input
        ref={input}
        id={id}
        type="file"
        accept={accept}
        hidden
        aria-invalid={invalid}
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = ''; // the same file can be picked again
          onFile(f);
        }}
        data-testid={testId}
      />
      <button type="button" className="btn small" onClick={() => input.current?.click()}>
        {label}
      </button>
      <span className={fileName ? 'file-name' : 'file-name faint'}>{fileName ?? 'no file chosen'}</span>
    </span>
  );
}
