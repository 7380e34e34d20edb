// The only bridge between the sandboxed renderer and the main process: the typed API transport
// and the native path chooser, nothing else (no Node, no ipcRenderer object exposed).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { StreamMessage } from '../app/api/wire.ts';
import type { KilnBridge } from './bridge-types.ts';

let nextId = 1;

const bridge: KilnBridge = {
  call: (method, input) => ipcRenderer.invoke('kiln:call', method, input),
  subscribe(stream, input, onMessage) {
    const id = `p${nextId++}`;
    const listener = (_e: IpcRendererEvent, m: StreamMessage) => {
      if (m.id !== id) return;
      if (m.type === 'end') ipcRenderer.off('kiln:stream', listener);
      onMessage(m);
    };
    ipcRenderer.on('kiln:stream', listener);
    ipcRenderer.send('kiln:subscribe', id, stream, input);
    return () => {
      ipcRenderer.off('kiln:stream', listener);
      ipcRenderer.send('kiln:unsubscribe', id);
    };
  },
  openExternal: (url) => ipcRenderer.invoke('kiln:open-external', url),
  pickPath: (request) => ipcRenderer.invoke('kiln:pick-path', request),
};

contextBridge.exposeInMainWorld('kiln', bridge);
