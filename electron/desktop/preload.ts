// Preload (sandboxed): exposes `window.kadscope`, the contract's named functions plus subscribe,
// over IPC. Never exposes ipcRenderer. Arguments are validated here too (fail fast); main
// validates again, since a compromised page could call IPC some other way.
import { contextBridge, ipcRenderer } from 'electron';
import { createApi, decodeWireBatch, sequenceChecker, type BatchListener } from '../host/client';
import { IPC_BATCH, IPC_INVOKE, IPC_SUBSCRIBE, IPC_UNSUBSCRIBE, type InvokeFn } from '../host/contract';

const listeners = new Set<BatchListener>();

// Main sends batches compact (batch-codec.ts); a malformed one is logged and dropped.
ipcRenderer.on(IPC_BATCH, (_event, wire: unknown) => {
  const batch = decodeWireBatch(wire);
  if (!batch) return;
  for (const l of [...listeners]) l(batch);
});

const invoke = ((method: string, args?: unknown) => ipcRenderer.invoke(IPC_INVOKE, method, args)) as InvokeFn;

function subscribe(cb: BatchListener): () => void {
  const checked = sequenceChecker(cb);
  listeners.add(checked);
  if (listeners.size === 1) ipcRenderer.send(IPC_SUBSCRIBE);
  let active = true;
  return () => {
    if (!active) return;
    active = false;
    listeners.delete(checked);
    if (listeners.size === 0) ipcRenderer.send(IPC_UNSUBSCRIBE);
  };
}

contextBridge.exposeInMainWorld('kadscope', createApi(invoke, subscribe));
