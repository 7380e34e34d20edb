// Electron main process: opens the window and bridges the engine's API over IPC. Thin on
// purpose: all logic lives in app/ (the engine), shared with web mode and the CLI.
import { app, BrowserWindow, dialog, ipcMain, session, shell, type WebContents } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dispatcher } from '../app/api/dispatcher.ts';
import type { StreamMessage } from '../app/api/wire.ts';
import { Engine } from '../app/engine.ts';
import { CSP } from '../app/server/static-files.ts';
import {
  checkMethod,
  checkPickRequest,
  checkStream,
  checkSubscriptionId,
  externalAllowed,
  pickDialogOptions,
} from './ipc-validation.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const rendererIndex = join(here, '..', 'renderer', 'index.html');

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();
  void app.whenReady().then(start);
}

let engine: Engine | undefined;
let window: BrowserWindow | undefined;

function start(): void {
  // Packaged: templates, kernel base and library OS beside the asar, the build worker bundle in
  // it (app/build/locations.ts); a checkout run (npm start) uses the tree.
  engine = Engine.open(
    app.isPackaged
      ? { packaged: { resourcesPath: process.resourcesPath, appDir: app.getAppPath() } }
      : { resources: process.env.KILN_RESOURCES },
  );
  const dispatcher = new Dispatcher(engine);
  serveApi(dispatcher);
  // Pick up the VMs a previous engine left running (detached runs survive the window closing).
  void engine.machines.reattachAll();

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, allow) => allow(false));

  window = new BrowserWindow({
    width: 1280,
    height: 820,
    title: 'Kiln',
    webPreferences: {
      preload: join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webviewTag: false,
    },
  });
  lockNavigation(window.webContents);
  void window.loadFile(rendererIndex);

  app.on('second-instance', () => {
    if (window?.isMinimized()) window.restore();
    window?.focus();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => void engine?.close());
}

/** The window shows our renderer only: links open in the system browser when allowlisted. */
function lockNavigation(wc: WebContents): void {
  wc.setWindowOpenHandler(({ url }) => {
    const ok = externalAllowed(url);
    if (ok) void shell.openExternal(ok.href);
    return { action: 'deny' };
  });
  wc.on('will-navigate', (e, url) => {
    if (!url.startsWith('file://')) e.preventDefault();
  });
}

function serveApi(dispatcher: Dispatcher): void {
  ipcMain.handle('kiln:call', (_e, method: unknown, input: unknown) => {
    try {
      return dispatcher.call(checkMethod(method), input);
    } catch (err) {
      return { error: { code: 'invalid_input', message: (err as Error).message } };
    }
  });
  ipcMain.handle('kiln:open-external', async (_e, url: unknown) => {
    const ok = externalAllowed(url);
    if (ok) await shell.openExternal(ok.href);
    return ok !== undefined;
  });

  // Asset settings: the user picks a host path natively (web mode uploads instead).
  ipcMain.handle('kiln:pick-path', async (e, raw: unknown) => {
    const options = pickDialogOptions(checkPickRequest(raw));
    const owner = BrowserWindow.fromWebContents(e.sender);
    const r = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
    return r.canceled ? null : (r.filePaths[0] ?? null);
  });

  const subscriptions = new Map<string, () => void>();
  ipcMain.on('kiln:subscribe', (e, id: unknown, stream: unknown, input: unknown) => {
    const send = (m: StreamMessage) => {
      if (!e.sender.isDestroyed()) e.sender.send('kiln:stream', m);
    };
    let sid: string;
    try {
      sid = `${e.sender.id}:${checkSubscriptionId(id)}`;
      checkStream(stream);
    } catch (err) {
      if (typeof id === 'string')
        send({ type: 'end', id, error: { code: 'invalid_input', message: (err as Error).message } });
      return;
    }
    const localId = id as string;
    let ended = false;
    const cancel = dispatcher.subscribe(stream, input, {
      events: (events) => send({ type: 'events', id: localId, events }),
      end: (error) => {
        ended = true;
        subscriptions.delete(sid);
        send(error ? { type: 'end', id: localId, error } : { type: 'end', id: localId });
      },
    });
    if (!ended) subscriptions.set(sid, cancel);
    e.sender.once('destroyed', () => {
      subscriptions.get(sid)?.();
      subscriptions.delete(sid);
    });
  });
  ipcMain.on('kiln:unsubscribe', (e, id: unknown) => {
    if (typeof id !== 'string') return;
    const sid = `${e.sender.id}:${id}`;
    subscriptions.get(sid)?.();
    subscriptions.delete(sid);
  });
}
