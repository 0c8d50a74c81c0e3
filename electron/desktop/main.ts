// Electron main: one window on the app's own origin, the ExplorerService behind IPC. Kept thin;
// everything of substance lives in service.ts, which the headless host shares and the tests drive.
//
// Security: contextIsolation and sandbox on, nodeIntegration off; the page is served from the
// privileged app:// scheme with a strict CSP; navigation, new windows, webviews and permission
// requests are refused; IPC is answered only for our own window's top frame on our own origin.
// Remote nodes: the page shows an attached node when its URL says ?node=<id>; main answers its IPC
// over main's TLS connection to that node (electron/host/remote.ts), the page never leaves app://.
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, session, shell, type IpcMainEvent, type IpcMainInvokeEvent, type MenuItemConstructorOptions, type WebContents } from 'electron';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeBatch } from '../host/batch-codec';
import type { ContractHandler } from '../host/client';
import { IPC_BATCH, IPC_INVOKE, IPC_SUBSCRIBE, IPC_UNSUBSCRIBE, err } from '../host/contract';
import { contentSecurityPolicy } from '../host/csp';
import { OptionsError, parseHostOptions } from '../host/options';
import { handlerForPage } from '../host/remote';
import { ExplorerService } from '../host/service';

const APP_SCHEME = 'app';
const APP_HOST = 'kadscope';
const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** electron-vite's dev server, in `electron-vite dev` only. */
const DEV_URL = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const PAGE_URL = DEV_URL ?? `${APP_ORIGIN}/index.html`;
const RENDERER_DIR = fileURLToPath(new URL('../renderer/', import.meta.url)).replace(/[\\/]$/, '');
const PRELOAD = fileURLToPath(new URL('../preload/preload.cjs', import.meta.url));
/** The app icon (resources/), two levels above out/main where this file is built to. */
const ICON = fileURLToPath(new URL('../../resources/icon.png', import.meta.url));

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let service: ExplorerService | null = null;
let window: BrowserWindow | null = null;
const subscriptions = new Map<number, () => void>();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  void main();
}

async function main(): Promise<void> {
  let options;
  try {
    // Electron's argv: [electron, app path, ...ours] from source, [app, ...ours] when packaged.
    options = parseHostOptions(process.argv.slice(app.isPackaged ? 1 : 2), { lenient: true });
  } catch (e) {
    if (!(e instanceof OptionsError)) throw e;
    process.stderr.write(`kadscope: ${e.message}\n`);
    app.exit(2);
    return;
  }
  if (options.dataDir) app.setPath('userData', options.dataDir);
  await app.whenReady();
  lockDownSessions();
  serveRenderer();
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate()));

  service = new ExplorerService(
    {},
    {
      host: 'electron',
      appVersion: app.getVersion(),
      dataDir: app.getPath('userData'),
      bootstrap: options.bootstrap,
      testnetSize: options.testnetSize,
      nodePort: options.nodePort,
      ...(options.host6 !== null ? { nodeHost6: options.host6 } : {}),
      ...(options.transport !== null ? { socketLayer: options.transport } : {}),
      protocol: options.protocol,
    },
  );
  bindIpc(service);
  try {
    const { warnings } = await service.start();
    for (const w of warnings) process.stderr.write(`kadscope: ${w}\n`);
  } catch (e) {
    dialog.showErrorBox('kadscope could not start its node', e instanceof Error ? e.message : String(e));
    app.exit(1);
    return;
  }
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

function createWindow(): void {
  window = new BrowserWindow({
    width: 1360,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'kadscope',
    icon: ICON,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // A middle click on a link must not open anything (new windows are refused anyway).
      disableBlinkFeatures: 'Auxclick',
    },
  });
  window.once('ready-to-show', () => window?.show());
  window.on('closed', () => (window = null));
  void window.loadURL(PAGE_URL);
}

/** Serves out/renderer on app://kadscope with the CSP, refusing anything outside that directory. */
function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return new Response('not found', { status: 404 });
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return new Response('bad path', { status: 400 });
    }
    if (rel === '/' || extname(rel) === '') rel = '/index.html';
    const file = normalize(join(RENDERER_DIR, rel));
    if (!file.startsWith(RENDERER_DIR + sep)) return new Response('forbidden', { status: 403 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', contentSecurityPolicy());
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
}

/** Our page: app://kadscope (Node's URL gives custom schemes a 'null' origin, so compare text), or the dev server. */
function isOurPage(url: string | undefined): boolean {
  if (!url) return false;
  if (url === APP_ORIGIN || url.startsWith(`${APP_ORIGIN}/`)) return true;
  if (!DEV_URL) return false;
  try {
    return new URL(url).origin === new URL(DEV_URL).origin;
  } catch {
    return false;
  }
}

/** IPC is answered only for our own window's top frame, showing our own page. */
function trustedSender(event: IpcMainEvent | IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return window !== null && event.sender === window.webContents && frame !== null && frame === event.sender.mainFrame && isOurPage(frame.url);
}

/** The window shows this host's node, or the attached remote node its URL names (?node=<id>): main relays to it. */
function handlerFor(svc: ExplorerService, event: IpcMainEvent | IpcMainInvokeEvent): ContractHandler {
  return handlerForPage(event.senderFrame?.url ?? '', svc, svc.remotes);
}

function bindIpc(svc: ExplorerService): void {
  ipcMain.handle(IPC_INVOKE, async (event, method: unknown, args: unknown) => {
    if (!trustedSender(event)) return err('UNAVAILABLE', 'refused: the request did not come from the kadscope window');
    return handlerFor(svc, event).invoke(typeof method === 'string' ? method : '', args);
  });
  ipcMain.on(IPC_SUBSCRIBE, (event) => {
    if (!trustedSender(event)) return;
    const wc = event.sender;
    // A reloaded page subscribes again: its old stream goes, the new one starts at seq 1.
    subscriptions.get(wc.id)?.();
    const unsubscribe = handlerFor(svc, event).subscribe({
      deliver: (batch) => {
        if (!wc.isDestroyed()) wc.send(IPC_BATCH, encodeBatch(batch));
      },
    });
    subscriptions.set(wc.id, unsubscribe);
    wc.once('destroyed', () => dropSubscription(wc));
  });
  ipcMain.on(IPC_UNSUBSCRIBE, (event) => {
    if (trustedSender(event)) dropSubscription(event.sender);
  });
}

function dropSubscription(wc: WebContents): void {
  subscriptions.get(wc.id)?.();
  subscriptions.delete(wc.id);
}

function lockDownSessions(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  // Copying an id to the clipboard is the one thing the page may do, and only on our origin.
  ses.setPermissionCheckHandler((_wc, permission, origin) => permission === 'clipboard-sanitized-write' && isOurPage(origin));
  // Saving a lookup trace is a download of a Blob URL our page made (renderer/trace/files.ts):
  // Electron asks where with its save dialog, suggesting the page's file name. Nothing else downloads.
  ses.on('will-download', (event, item, wc) => {
    const url = item.getURL();
    if (wc !== window?.webContents || !url.startsWith('blob:') || !isOurPage(url.slice('blob:'.length))) {
      event.preventDefault();
      return;
    }
    item.setSaveDialogOptions({ title: 'Save lookup trace', defaultPath: item.getFilename(), filters: [{ name: 'kadscope lookup trace', extensions: ['json'] }] });
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (e, url) => {
      if (!isOurPage(url)) e.preventDefault();
    });
    contents.on('will-redirect', (e, url) => {
      if (!isOurPage(url)) e.preventDefault();
    });
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // No new windows. A plain https link (docs, an issue tracker) opens in the person's browser.
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

function menuTemplate(): MenuItemConstructorOptions[] {
  const mac = process.platform === 'darwin';
  return [
    ...(mac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ role: 'about' }] },
  ];
}

// Quitting stops the node, which persists its state, before the process goes.
let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !service) return;
  event.preventDefault();
  quitting = true;
  const svc = service;
  void svc.stop().finally(() => app.quit());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
