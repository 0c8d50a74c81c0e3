// Electron's main and preload, in-process, with a stand-in for the `electron` module (no Electron
// binary can run here). What this holds: every contract method reaches the service through
// ipcMain, behind the sender check; every function the preload exposes calls exactly one contract
// method, its own; the window gets the security checklist's webPreferences; navigation, new
// windows, webviews, downloads and permission requests are refused. A method renamed or dropped
// in the contract fails here (PINNED_METHODS), not in the desktop app on someone's machine. A page
// that shows an attached remote node (?node=<id>) is answered through that node's handler, whose
// relaying is tested over real TLS in test/integration/remote-attach.test.ts.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { IPC_BATCH, IPC_INVOKE, IPC_SUBSCRIBE, IPC_UNSUBSCRIBE, METHOD_NAMES, type ArgsIn, type MethodName } from '../../electron/host/contract';

/* eslint-disable @typescript-eslint/no-explicit-any -- the stand-in mirrors Electron's loosely typed callbacks */
const h = vi.hoisted(() => {
  type Fn = (...args: any[]) => any;

  class Emitter {
    readonly handlers = new Map<string, Fn[]>();
    on(event: string, fn: Fn): this {
      this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
      return this;
    }
    once(event: string, fn: Fn): this {
      return this.on(event, fn);
    }
    emit(event: string, ...args: unknown[]): void {
      for (const fn of this.handlers.get(event) ?? []) fn(...args);
    }
  }

  let nextId = 1;
  class WebContents extends Emitter {
    readonly id = nextId++;
    readonly mainFrame = { url: 'app://kadscope/index.html' };
    readonly sent: unknown[][] = [];
    windowOpenHandler: Fn | null = null;
    send(channel: string, ...args: unknown[]): void {
      this.sent.push([channel, ...args]);
    }
    isDestroyed(): boolean {
      return false;
    }
    setWindowOpenHandler(fn: Fn): void {
      this.windowOpenHandler = fn;
    }
  }

  const windows: BrowserWindow[] = [];
  class BrowserWindow extends Emitter {
    static getAllWindows(): BrowserWindow[] {
      return windows;
    }
    readonly webContents = new WebContents();
    url: string | null = null;
    constructor(readonly options: any) {
      super();
      windows.push(this);
    }
    loadURL(url: string): Promise<void> {
      this.url = url;
      return Promise.resolve();
    }
    show(): void {}
    isMinimized(): boolean {
      return false;
    }
    restore(): void {}
    focus(): void {}
  }

  const ipcHandle = new Map<string, Fn>();
  const ipcOn = new Map<string, Fn>();
  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    getVersion: () => '0.0.0-test',
    getPath: () => '/nonexistent/kadscope-electron-wiring',
    setPath: () => undefined,
    quit: vi.fn(),
    exit: vi.fn(),
  });
  const defaultSession = Object.assign(new Emitter(), {
    permissionRequest: null as Fn | null,
    permissionCheck: null as Fn | null,
    setPermissionRequestHandler(fn: Fn) {
      defaultSession.permissionRequest = fn;
    },
    setPermissionCheckHandler(fn: Fn) {
      defaultSession.permissionCheck = fn;
    },
  });
  const exposed = new Map<string, any>();
  const ipcRenderer = {
    invoke: vi.fn((..._args: unknown[]) => Promise.resolve({ ok: true, value: null })),
    send: vi.fn(),
    on: vi.fn(),
  };

  /** An attached remote node as main reaches it (RemoteNodes.handler): records what it is asked. */
  class FakeRemote {
    readonly invoked: Array<[string, unknown]> = [];
    readonly sinks: Array<{ deliver: Fn }> = [];
    constructor(readonly id: string) {}
    invoke(method: string, args: unknown): Promise<unknown> {
      this.invoked.push([method, args]);
      return Promise.resolve({ ok: true, value: `${this.id}:${method}` });
    }
    subscribe(sink: { deliver: Fn }): () => void {
      this.sinks.push(sink);
      return () => this.sinks.splice(this.sinks.indexOf(sink), 1);
    }
  }

  class FakeService {
    static readonly instances: FakeService[] = [];
    readonly invoked: Array<[string, unknown]> = [];
    readonly sinks: Array<{ deliver: Fn }> = [];
    readonly attached = new Map<string, FakeRemote>();
    readonly remotes = {
      handler: (id: string, local: unknown): FakeRemote => {
        if (local !== this) throw new Error('main must pass its service as the local handler');
        if (!this.attached.has(id)) this.attached.set(id, new FakeRemote(id));
        return this.attached.get(id)!;
      },
    };
    constructor(
      readonly deps: unknown,
      readonly options: any,
    ) {
      FakeService.instances.push(this);
    }
    start(): Promise<{ warnings: string[] }> {
      return Promise.resolve({ warnings: [] });
    }
    stop(): Promise<void> {
      return Promise.resolve();
    }
    invoke(method: string, args: unknown): Promise<unknown> {
      this.invoked.push([method, args]);
      return Promise.resolve({ ok: true, value: method });
    }
    subscribe(sink: { deliver: Fn }): () => void {
      this.sinks.push(sink);
      return () => this.sinks.splice(this.sinks.indexOf(sink), 1);
    }
  }

  const electron = {
    app,
    BrowserWindow,
    dialog: { showErrorBox: vi.fn() },
    ipcMain: {
      handle: (channel: string, fn: Fn) => ipcHandle.set(channel, fn),
      on: (channel: string, fn: Fn) => ipcOn.set(channel, fn),
    },
    Menu: { setApplicationMenu: vi.fn(), buildFromTemplate: (t: unknown) => t },
    net: { fetch: vi.fn() },
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    session: { defaultSession },
    shell: { openExternal: vi.fn(() => Promise.resolve()) },
    contextBridge: { exposeInMainWorld: (name: string, api: unknown) => exposed.set(name, api) },
    ipcRenderer,
  };
  return { electron, windows, WebContents, ipcHandle, ipcOn, defaultSession, exposed, ipcRenderer, FakeService };
});
/* eslint-enable @typescript-eslint/no-explicit-any */

vi.mock('electron', () => ({ ...h.electron, default: h.electron }));
vi.mock('../../electron/host/service', () => ({ ExplorerService: h.FakeService }));

/**
 * The contract's methods as the desktop app was built against them. A rename or removal in
 * electron/host/contract.ts fails this list: rename here too, and check that the renderer and the
 * CLI still call what exists. New methods need no entry (they are checked like the rest).
 */
const PINNED_METHODS = [
  'info', 'snapshot', 'join', 'ping', 'findNode', 'startLookup', 'cancelLookup', 'records', 'get', 'put', 'putMutable',
  'generateKeyPair', 'listKeyPairs', 'importKeyPair', 'announce', 'lookupPeers', 'testnetStart', 'testnetStop',
  'testnetAdd', 'testnetStopRandom', 'testnetStatus', 'tracesList', 'traceGet', 'traceImport', 'settingsGet', 'settingsSet',
] as const;

const ID = 'ab'.repeat(32);
/** Arguments each method's schema accepts, so the preload's validation lets the call through to IPC. */
const VALID_ARGS: { [M in (typeof PINNED_METHODS)[number]]: ArgsIn<M> } = {
  info: undefined,
  snapshot: undefined,
  join: { bootstrap: ['127.0.0.1:4000'] },
  ping: { address: '127.0.0.1:4000' },
  findNode: { target: ID },
  startLookup: { target: ID },
  cancelLookup: { lookupId: 'l1' },
  records: undefined,
  get: { key: ID },
  put: { value: { text: 'hello' } },
  putMutable: { value: { text: 'hello' }, seq: 1, keyPair: 'generate' },
  generateKeyPair: {},
  listKeyPairs: undefined,
  importKeyPair: { name: 'imported', json: '{}' },
  announce: { topic: 'chat', port: 4000 },
  lookupPeers: { topic: 'chat' },
  testnetStart: { size: 4 },
  testnetStop: undefined,
  testnetAdd: { count: 1 },
  testnetStopRandom: { count: 1 },
  testnetStatus: undefined,
  tracesList: undefined,
  traceGet: { id: 't1' },
  traceImport: { json: '{}' },
  settingsGet: undefined,
  settingsSet: {},
};

/** One turn of the event loop: main()'s awaits on already-settled promises run to the end. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the contract the desktop app was built against', () => {
  it('still has every pinned method', () => {
    const missing = PINNED_METHODS.filter((m) => !(METHOD_NAMES as readonly string[]).includes(m));
    expect(missing, 'methods renamed or removed in electron/host/contract.ts').toEqual([]);
  });
});

describe('Electron main', () => {
  let win: (typeof h.windows)[number];
  let service: InstanceType<typeof h.FakeService>;

  beforeAll(async () => {
    const argv = process.argv;
    process.argv = [argv[0], '.'];
    try {
      await import('../../electron/desktop/main');
      await settle();
    } finally {
      process.argv = argv;
    }
    expect(h.windows).toHaveLength(1);
    expect(h.FakeService.instances).toHaveLength(1);
    win = h.windows[0];
    service = h.FakeService.instances[0];
  });

  const trusted = () => ({ sender: win.webContents, senderFrame: win.webContents.mainFrame });
  const invoke = (event: unknown, method: unknown, args?: unknown) => h.ipcHandle.get(IPC_INVOKE)!(event, method, args);

  it('creates the window with the security checklist webPreferences', () => {
    const prefs = win.options.webPreferences;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
    expect(prefs.allowRunningInsecureContent ?? false).toBe(false);
    expect(prefs.experimentalFeatures ?? false).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames ?? false).toBe(false);
    expect(prefs.preload).toMatch(/[\\/]preload[\\/]preload\.cjs$/);
    expect(win.url).toBe('app://kadscope/index.html');
  });

  it('gives the window the app icon from resources/', () => {
    expect(win.options.icon).toMatch(/[\\/]resources[\\/]icon\.png$/);
    expect(existsSync(win.options.icon), win.options.icon).toBe(true);
  });

  it('binds the invoke, subscribe and unsubscribe channels and nothing else', () => {
    expect([...h.ipcHandle.keys()]).toEqual([IPC_INVOKE]);
    expect([...h.ipcOn.keys()].sort()).toEqual([IPC_SUBSCRIBE, IPC_UNSUBSCRIBE].sort());
  });

  it('passes every contract method from our window to the service, name and arguments unchanged', async () => {
    for (const m of METHOD_NAMES) {
      service.invoked.length = 0;
      const args = { probe: m };
      const r = await invoke(trusted(), m, args);
      expect(service.invoked, m).toEqual([[m, args]]);
      expect(r).toEqual({ ok: true, value: m });
    }
  });

  it('refuses invoke from any other sender, frame or page, and the service never sees it', async () => {
    const other = new h.WebContents();
    const subFrame = { url: 'app://kadscope/index.html' };
    const strangers = [
      { sender: other, senderFrame: other.mainFrame },
      { sender: win.webContents, senderFrame: subFrame },
      { sender: win.webContents, senderFrame: null },
    ];
    const before = win.webContents.mainFrame.url;
    service.invoked.length = 0;
    for (const m of METHOD_NAMES) {
      for (const event of strangers) {
        const r = await invoke(event, m, {});
        expect(r, m).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
      }
    }
    for (const url of ['https://example.com/', 'file:///etc/passwd', 'app://evil/index.html', 'app://kadscope.evil/x']) {
      (win.webContents.mainFrame as { url: string }).url = url;
      expect(await invoke(trusted(), 'info', undefined), url).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    }
    (win.webContents.mainFrame as { url: string }).url = before;
    expect(service.invoked).toEqual([]);
  });

  it('subscribes our window only, and unsubscribes it', () => {
    const other = new h.WebContents();
    h.ipcOn.get(IPC_SUBSCRIBE)!({ sender: other, senderFrame: other.mainFrame });
    expect(service.sinks).toHaveLength(0);
    h.ipcOn.get(IPC_SUBSCRIBE)!(trusted());
    expect(service.sinks).toHaveLength(1);
    // Batches go out compact (batch-codec.ts): the lookup event as a tuple, its peer in the contact table.
    const peer = { id: 'ab'.repeat(32), host: '127.0.0.1', port: 4001 };
    service.sinks[0].deliver({ seq: 1, events: [{ type: 'lookup', event: { type: 'query', lookupId: 'l1', at: 5, peer, hop: 1, bytes: 40 } }], resync: false });
    expect(win.webContents.sent).toEqual([[IPC_BATCH, { seq: 1, resync: false, contacts: [[peer.id, peer.host, peer.port]], lookups: ['l1'], events: [['q', 0, 5, 0, 1, 40]] }]]);
    h.ipcOn.get(IPC_UNSUBSCRIBE)!({ sender: other, senderFrame: other.mainFrame });
    expect(service.sinks).toHaveLength(1);
    h.ipcOn.get(IPC_UNSUBSCRIBE)!(trusted());
    expect(service.sinks).toHaveLength(0);
  });

  it('answers a page that shows an attached remote node (?node=<id>) through that node, not the service', async () => {
    const before = win.webContents.mainFrame.url;
    const frame = win.webContents.mainFrame as { url: string };
    try {
      frame.url = 'app://kadscope/index.html?token=x&node=r2#overview';
      service.invoked.length = 0;
      expect(await invoke(trusted(), 'snapshot', undefined)).toEqual({ ok: true, value: 'r2:snapshot' });
      const remote = service.attached.get('r2')!;
      expect(remote.invoked).toEqual([['snapshot', undefined]]);
      expect(service.invoked).toEqual([]);
      // Its event stream comes from the remote node; switching back to our node swaps the stream.
      h.ipcOn.get(IPC_SUBSCRIBE)!(trusted());
      expect(remote.sinks).toHaveLength(1);
      expect(service.sinks).toHaveLength(0);
      win.webContents.sent.length = 0;
      remote.sinks[0].deliver({ seq: 1, events: [], resync: false });
      expect(win.webContents.sent).toEqual([[IPC_BATCH, { seq: 1, resync: false, contacts: [], lookups: [], events: [] }]]);
      frame.url = 'app://kadscope/index.html';
      h.ipcOn.get(IPC_SUBSCRIBE)!(trusted());
      expect(remote.sinks).toHaveLength(0);
      expect(service.sinks).toHaveLength(1);
      h.ipcOn.get(IPC_UNSUBSCRIBE)!(trusted());
      // A node parameter that is no attached node's id is our own node's page.
      frame.url = 'app://kadscope/index.html?node=../../etc';
      expect(await invoke(trusted(), 'info', undefined)).toEqual({ ok: true, value: 'info' });
      // A stranger naming a remote node is refused like any stranger.
      const other = new h.WebContents();
      (other.mainFrame as { url: string }).url = 'app://kadscope/index.html?node=r2';
      remote.invoked.length = 0;
      expect(await invoke({ sender: other, senderFrame: other.mainFrame }, 'snapshot', undefined)).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
      expect(remote.invoked).toEqual([]);
    } finally {
      frame.url = before;
    }
  });

  it('refuses navigation, redirects, webviews and new windows away from the app', () => {
    const contents = new h.WebContents();
    h.electron.app.emit('web-contents-created', {}, contents);
    const fire = (event: string, url?: string) => {
      const e = { preventDefault: vi.fn() };
      contents.emit(event, e, url);
      return e.preventDefault.mock.calls.length > 0;
    };
    for (const url of ['https://example.com/', 'file:///etc/passwd', 'app://evil/', 'javascript:alert(1)']) {
      expect(fire('will-navigate', url), url).toBe(true);
      expect(fire('will-redirect', url), url).toBe(true);
    }
    expect(fire('will-navigate', 'app://kadscope/index.html')).toBe(false);
    expect(fire('will-attach-webview')).toBe(true);

    const open = contents.windowOpenHandler!;
    for (const url of ['https://example.com/docs', 'http://example.com/', 'file:///etc/passwd', 'app://kadscope/index.html', 'smb://host/share']) {
      expect(open({ url }), url).toEqual({ action: 'deny' });
    }
    // Only the https link went to the person's browser.
    expect(h.electron.shell.openExternal.mock.calls).toEqual([['https://example.com/docs']]);
  });

  it('refuses every permission request, and allows only clipboard writes from our page', () => {
    const answers: boolean[] = [];
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'openExternal']) {
      h.defaultSession.permissionRequest!(win.webContents, p, (granted: boolean) => answers.push(granted));
    }
    expect(answers).toEqual([false, false, false, false, false, false]);
    const check = h.defaultSession.permissionCheck!;
    expect(check(win.webContents, 'clipboard-sanitized-write', 'app://kadscope')).toBe(true);
    expect(check(win.webContents, 'clipboard-sanitized-write', 'https://example.com')).toBe(false);
    expect(check(win.webContents, 'media', 'app://kadscope')).toBe(false);
  });

  it('refuses downloads other than a trace our page made', () => {
    const download = (url: string, wc: unknown) => {
      const e = { preventDefault: vi.fn() };
      const item = { getURL: () => url, getFilename: () => 'trace.json', setSaveDialogOptions: vi.fn() };
      h.defaultSession.emit('will-download', e, item, wc);
      return { refused: e.preventDefault.mock.calls.length > 0, dialog: item.setSaveDialogOptions.mock.calls.length > 0 };
    };
    expect(download('blob:app://kadscope/1234', win.webContents)).toEqual({ refused: false, dialog: true });
    expect(download('https://example.com/x.exe', win.webContents)).toEqual({ refused: true, dialog: false });
    expect(download('blob:https://example.com/1234', win.webContents)).toEqual({ refused: true, dialog: false });
    expect(download('blob:app://kadscope/1234', new h.WebContents())).toEqual({ refused: true, dialog: false });
  });
});

describe('Electron preload', () => {
  let api: Record<string, unknown>;

  beforeAll(async () => {
    await import('../../electron/desktop/preload');
    expect([...h.exposed.keys()]).toEqual(['kadscope']);
    api = h.exposed.get('kadscope') as Record<string, unknown>;
  });

  it('exposes the contract methods, subscribe and the generic invoke, and never ipcRenderer', () => {
    const names = Object.keys(api).sort();
    expect(names).toEqual([...METHOD_NAMES, 'invoke', 'subscribe'].sort());
    for (const value of Object.values(api)) {
      expect(typeof value).toBe('function');
      expect(value).not.toBe(h.ipcRenderer);
      expect(value).not.toBe(h.ipcRenderer.invoke);
    }
  });

  it('maps every function to one contract method, its own', async () => {
    for (const m of PINNED_METHODS) {
      if (!(METHOD_NAMES as readonly string[]).includes(m)) continue; // reported by the pinned list
      h.ipcRenderer.invoke.mockClear();
      await (api[m] as (a: unknown) => Promise<unknown>)(VALID_ARGS[m]);
      expect(h.ipcRenderer.invoke.mock.calls, m).toEqual([[IPC_INVOKE, m, VALID_ARGS[m]]]);
    }
    for (const m of METHOD_NAMES.filter((n) => !(PINNED_METHODS as readonly string[]).includes(n))) {
      // A method added since: whatever its arguments, it may reach IPC only under its own name.
      h.ipcRenderer.invoke.mockClear();
      await (api[m as MethodName] as (a: unknown) => Promise<unknown>)(undefined);
      for (const call of h.ipcRenderer.invoke.mock.calls) expect(call.slice(0, 2), m).toEqual([IPC_INVOKE, m]);
    }
  });

  it('stops bad arguments and unknown methods before IPC', async () => {
    h.ipcRenderer.invoke.mockClear();
    expect(await (api.ping as (a: unknown) => Promise<unknown>)({ address: 'not an address' })).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
    expect(await (api.invoke as (m: string, a?: unknown) => Promise<unknown>)('evalInMain', {})).toMatchObject({ ok: false, code: 'UNKNOWN_METHOD' });
    expect(h.ipcRenderer.invoke).not.toHaveBeenCalled();
  });

  it('subscribes over IPC once for any number of listeners, and unsubscribes after the last', () => {
    h.ipcRenderer.send.mockClear();
    const subscribe = api.subscribe as (cb: () => void) => () => void;
    const a = subscribe(() => undefined);
    const b = subscribe(() => undefined);
    expect(h.ipcRenderer.send.mock.calls).toEqual([[IPC_SUBSCRIBE]]);
    a();
    a();
    expect(h.ipcRenderer.send.mock.calls).toEqual([[IPC_SUBSCRIBE]]);
    b();
    expect(h.ipcRenderer.send.mock.calls).toEqual([[IPC_SUBSCRIBE], [IPC_UNSUBSCRIBE]]);
  });
});
