// Trace files in the browser (and in Electron, whose page is a browser too): saving is a download of
// a Blob URL (Electron turns it into its save dialog, see electron/desktop/main.ts), opening reads a File from
// an <input type=file> or a drop. No contract method is needed for either: the host only ever sees the
// trace's text, through traceImport, which validates it.
import { MAX_TRACE_JSON_CHARS, type Trace } from '../../electron/host/contract';
import { TRACE_FILE_SUFFIX, serializeTrace, traceFileName } from '../../electron/host/trace-format';
import { ApiError } from '../state/call';
import { formatBytes } from '../lib/format';

/** The Blob URL outlives the click by this much, so the download can start reading it, ms. */
const REVOKE_AFTER_MS = 60_000;

/** What the file picker offers. */
export const TRACE_FILE_ACCEPT = `${TRACE_FILE_SUFFIX},.json,application/json`;

/** Saves the trace as `<kind>-<target>-<time>.kadtrace.json`; returns the file name. */
export function downloadTrace(trace: Trace): string {
  const name = traceFileName(trace);
  const url = URL.createObjectURL(new Blob([serializeTrace(trace)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
  return name;
}

/** A file's text, refusing one too large to be a trace before reading it. */
export async function readTraceFile(file: File): Promise<string> {
  // Checked in bytes before reading: traces are ASCII JSON, so bytes and characters agree.
  if (file.size > MAX_TRACE_JSON_CHARS) {
    throw new ApiError('INVALID_ARGUMENT', `${file.name} is ${formatBytes(file.size)}; a trace file is at most ${formatBytes(MAX_TRACE_JSON_CHARS)}`);
  }
  return file.text();
}

/** The files of a drag, if it carries any (dragged text or links do not). */
export function dragHasFiles(dt: DataTransfer | null): boolean {
  return dt !== null && Array.from(dt.types).includes('Files');
}
