// The Traces view's list: every lookup the host kept and the trace files opened here; pick one to
// replay or compare, open files with the button (drag and drop is the view's).
import { useMemo, useRef, useState, type ReactElement } from 'react';
import { Card, Empty, ErrorNote, Progress, Segmented } from '../components/common';
import { LookupTable } from '../components/lookup';
import { plural } from '../lib/format';
import { TRACE_FILE_ACCEPT } from './files';
import { useTraceList, type useOpenFiles } from './hooks';
import { useTracesUi } from './store';

/** Rows shown in the list (the host keeps up to 500). */
const LIST_ROWS = 500;

type Filter = 'all' | 'live' | 'imported';

export function TraceList({ files }: { files: ReturnType<typeof useOpenFiles> }): ReactElement {
  const { items, loading, error } = useTraceList();
  const selected = useTracesUi((s) => s.selected);
  const select = useTracesUi((s) => s.select);
  const [filter, setFilter] = useState<Filter>('all');
  const input = useRef<HTMLInputElement>(null);
  const rows = useMemo(() => items.filter((t) => filter === 'all' || t.origin === filter).slice(0, LIST_ROWS), [items, filter]);
  const importedCount = items.filter((t) => t.origin === 'imported').length;

  return (
    <Card
      title="Traces"
      sub={`${items.length} kept`}
      right={
        <>
          <input
            ref={input}
            type="file"
            accept={TRACE_FILE_ACCEPT}
            multiple
            hidden
            onChange={(e) => {
              const list = Array.from(e.target.files ?? []);
              e.target.value = ''; // the same file can be picked again
              if (list.length > 0) void files.open(list);
            }}
            data-testid="trace-file-input"
          />
          <button type="button" className="btn small" onClick={() => input.current?.click()} disabled={files.busy} data-testid="open-trace">
            Open file…
          </button>
        </>
      }
      flush
      testId="trace-list"
    >
      <div className="trace-list-tools">
        <Segmented
          label="Show"
          value={filter}
          onChange={setFilter}
          options={[
            { value: 'all', label: 'All' },
            { value: 'live', label: 'Recorded' },
            { value: 'imported', label: `Opened${importedCount > 0 ? ` (${importedCount})` : ''}` },
          ]}
        />
        <span className="faint">or drop files here</span>
      </div>
      {(files.busy || files.failures.length > 0 || files.opened.length > 0) && (
        <div className="trace-open-status" data-testid="open-status">
          {files.busy && <Progress>Opening…</Progress>}
          {files.opened.length > 0 && (
            <div className="alert success" role="status">
              Opened {files.opened.length === 1 ? files.opened[0] : plural(files.opened.length, 'file')}.
            </div>
          )}
          {files.failures.map((f) => (
            <ErrorNote key={f.name} error={f.error} context={`Could not open ${f.name}`} />
          ))}
          {!files.busy && (
            <button type="button" className="btn small ghost" onClick={files.dismiss}>
              Dismiss
            </button>
          )}
        </div>
      )}
      {loading ? (
        <div className="card-body">
          <Progress>Loading traces…</Progress>
        </div>
      ) : error ? (
        <div className="card-body">
          <ErrorNote error={error} context="Traces" />
        </div>
      ) : rows.length === 0 ? (
        <Empty title={filter === 'imported' ? 'No files opened' : 'No traces yet'}>
          {filter === 'imported' ? 'Open a .kadtrace.json file with the button above, or drop one here.' : 'Every lookup the node makes is recorded here. Run one in Lookups, or open a .kadtrace.json file.'}
        </Empty>
      ) : (
        <div className="table-wrap trace-list-wrap">
          <LookupTable rows={rows} selected={selected} onSelect={select} rowTestId="trace-row" narrow />
        </div>
      )}
    </Card>
  );
}
