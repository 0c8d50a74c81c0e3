// Traces: every lookup the node made (the host keeps the last 500) and trace files opened here. Save
// one to a .kadtrace.json file, open files (button or drag and drop), replay a trace with a scrubber
// (the waterfall and the graph show that moment), and compare two side by side. The list, the
// replayer and the compare panel are components of their own in renderer/trace/.
import { useRef, useState, type DragEvent, type ReactElement } from 'react';
import { Card, Empty, Segmented } from '../components/common';
import { ComparePanel } from '../trace/ComparePanel';
import { dragHasFiles } from '../trace/files';
import { useOpenFiles } from '../trace/hooks';
import { ReplayPanel } from '../trace/Replayer';
import { useTracesUi } from '../trace/store';
import { TraceList } from '../trace/TraceList';
import '../styles/traces.css';

export function Traces(): ReactElement {
  const files = useOpenFiles();
  const mode = useTracesUi((s) => s.mode);
  const setMode = useTracesUi((s) => s.setMode);
  const selected = useTracesUi((s) => s.selected);
  const listOpen = useTracesUi((s) => s.listOpen);
  const setListOpen = useTracesUi((s) => s.setListOpen);
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0);

  // Drag and drop anywhere on the view. Enter/leave fire for every child, so count them.
  const onDragEnter = (e: DragEvent): void => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    depth.current++;
    setDragging(true);
  };
  const onDragLeave = (): void => {
    depth.current = Math.max(0, depth.current - 1);
    if (depth.current === 0) setDragging(false);
  };
  const onDragOver = (e: DragEvent): void => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onDrop = (e: DragEvent): void => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    depth.current = 0;
    setDragging(false);
    void files.open(Array.from(e.dataTransfer.files));
  };

  return (
    <div className="traces-view" onDragEnter={onDragEnter} onDragLeave={onDragLeave} onDragOver={onDragOver} onDrop={onDrop} data-testid="traces-view">
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div>Drop .kadtrace.json files to open them</div>
        </div>
      )}
      <div className={listOpen ? 'traces-layout' : 'traces-layout list-hidden'}>
        {listOpen && <TraceList files={files} />}
        <div className="stack traces-main">
          <div className="traces-tabs">
            <button type="button" className="btn small ghost" onClick={() => setListOpen(!listOpen)} aria-expanded={listOpen} data-testid="toggle-list" title={listOpen ? 'Hide the list: the replay shows its waterfall and graph side by side' : 'Show the list of traces'}>
              {listOpen ? '‹ Hide list' : '› Show list'}
            </button>
            <Segmented
              label="Traces mode"
              value={mode}
              onChange={setMode}
              options={[
                { value: 'replay', label: 'Replay' },
                { value: 'compare', label: 'Compare' },
              ]}
            />
            <span className="muted">{mode === 'replay' ? 'Step through a lookup as it happened.' : 'Two lookups side by side: figures, and where their paths split.'}</span>
          </div>
          {selected === null ? (
            <Card title={mode === 'replay' ? 'Replay' : 'Compare'}>
              <Empty title="No trace open">Pick a trace from the list to {mode === 'replay' ? 'replay it' : 'compare it with another'}, or open a .kadtrace.json file (the button, or drop it here).</Empty>
            </Card>
          ) : mode === 'replay' ? (
            <ReplayPanel key={selected} id={selected} />
          ) : (
            <ComparePanel a={selected} />
          )}
        </div>
      </div>
    </div>
  );
}
