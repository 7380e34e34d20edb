// The renderer's typed client of the engine API. One client shape, two transports: the Electron
// preload bridge (window.kiln) in the desktop app, HTTP + WebSocket in web mode.
import type { ApiClient, StreamHandlers, StreamName, Unsubscribe } from '../../../app/api/client-types.ts';
import type { CallResponse, StreamMessage, StreamRequest } from '../../../app/api/wire.ts';
import type { KilnErrorData } from '../../../app/errors.ts';
import type { KilnBridge } from '../../../main/bridge-types.ts';

/** Which members are streams; typed so that adding a stream to the contract requires it here. */
const STREAMS: Record<StreamName, true> = {
  'library.events': true,
  'build.events': true,
  'machines.consoleStream': true,
  'machines.samples': true,
  'machines.changes': true,
  'machines.packets': true,
};

export class ApiError extends Error {
  readonly code: KilnErrorData['code'];
  readonly field: string | undefined;
  constructor(e: KilnErrorData) {
    super(e.message);
    this.code = e.code;
    this.field = e.field;
  }
}

export interface Transport {
  call(method: string, input: unknown): Promise<CallResponse>;
  subscribe(stream: string, input: unknown, onMessage: (m: StreamMessage) => void): Unsubscribe;
}

function httpTransport(): Transport {
  let ws: WebSocket | undefined;
  let nextId = 1;
  const subs = new Map<string, { stream: string; input: unknown; onMessage: (m: StreamMessage) => void }>();
  let retry = 250;

  const send = (m: StreamRequest) => {
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  };
  const connect = () => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${proto}//${location.host}/api/stream`);
    ws = socket;
    socket.onopen = () => {
      retry = 250;
      for (const [id, s] of subs) send({ type: 'subscribe', id, stream: s.stream, input: s.input });
    };
    socket.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data)) as StreamMessage;
      const s = subs.get(m.id);
      if (!s) return;
      if (m.type === 'end') subs.delete(m.id);
      s.onMessage(m);
    };
    socket.onclose = () => {
      // The engine restarted or the network blinked: reconnect and resubscribe, with backoff.
      if (ws === socket) ws = undefined;
      if (subs.size > 0) setTimeout(ensure, (retry = Math.min(retry * 2, 5000)));
    };
  };
  const ensure = () => {
    if (!ws) connect();
  };

  return {
    async call(method, input) {
      const res = await fetch('/api/call', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ method, input }),
      });
      const text = await res.text();
      try {
        return JSON.parse(text) as CallResponse;
      } catch {
        return {
          error: { code: res.status === 401 ? 'unauthorized' : 'internal', message: text || res.statusText },
        };
      }
    },
    subscribe(stream, input, onMessage) {
      const id = `s${nextId++}`;
      subs.set(id, { stream, input, onMessage });
      ensure();
      send({ type: 'subscribe', id, stream, input });
      return () => {
        if (subs.delete(id)) send({ type: 'unsubscribe', id });
      };
    },
  };
}

function ipcTransport(bridge: KilnBridge): Transport {
  return {
    call: (method, input) => bridge.call(method, input),
    subscribe: (stream, input, onMessage) => bridge.subscribe(stream, input, onMessage),
  };
}

export function createClient(transport: Transport): ApiClient {
  const domain = (d: string) =>
    new Proxy(
      {},
      {
        get(_t, member) {
          const name = `${d}.${String(member)}`;
          if (Object.hasOwn(STREAMS, name)) {
            return (input: unknown, handlers: StreamHandlers<unknown>) =>
              transport.subscribe(name, input, (m) => {
                if (m.type === 'events') handlers.events(m.events);
                else handlers.end?.(m.error);
              });
          }
          return async (input: unknown) => {
            const r = await transport.call(name, input ?? {});
            if ('error' in r) throw new ApiError(r.error);
            return r.result;
          };
        },
      },
    );
  return new Proxy({}, { get: (_t, d) => domain(String(d)) }) as ApiClient;
}

declare global {
  interface Window {
    kiln?: KilnBridge;
  }
}

export const api: ApiClient = createClient(
  typeof window !== 'undefined' && window.kiln ? ipcTransport(window.kiln) : httpTransport(),
);
