// Web mode: the same renderer and the same API as the desktop window, over HTTP + WebSocket, on
// 127.0.0.1 only, behind a random per-start token. Also how the UI is tested, and how a user
// manages a headless KVM host from a browser.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Dispatcher } from '../api/dispatcher.ts';
import type { StreamMessage, StreamRequest } from '../api/wire.ts';
import type { Engine } from '../engine.ts';
import type { ErrorCode } from '../errors.ts';
import { KilnError } from '../errors.ts';
import { authorized, newToken, sameOriginRequest, TOKEN_COOKIE } from './auth.ts';
import { CAPTURE_PATH, serveCapture } from './capture-route.ts';
import { serveStatic } from './static-files.ts';

export interface WebServerOptions {
  engine: Engine;
  rendererDir: string;
  /** 0 picks a free port */
  port?: number;
  /** loopback unless the user says otherwise */
  host?: string;
  token?: string;
}

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024 * 1024;

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  cancelled: 409,
  unavailable: 503,
  internal: 500,
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? newToken();
  const host = opts.host ?? '127.0.0.1';
  const dispatcher = new Dispatcher(opts.engine);
  let port = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: String(err) } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? host}`);
    if (!sameOriginRequest(req, port)) {
      sendJson(res, 403, { error: { code: 'unauthorized', message: 'Cross-origin request refused.' } });
      return;
    }
    if (!authorized(req, url, token)) {
      sendJson(res, 401, {
        error: {
          code: 'unauthorized',
          message: 'Missing or wrong token: open the URL that `kiln serve` printed.',
        },
      });
      return;
    }
    if (url.pathname === '/api/call') {
      if (req.method !== 'POST') {
        sendJson(res, 405, { error: { code: 'invalid_input', message: 'Use POST for /api/call.' } });
        return;
      }
      let body: { method?: unknown; input?: unknown };
      try {
        body = JSON.parse(await readBody(req)) as typeof body;
      } catch (err) {
        sendJson(res, 400, {
          error: { code: 'invalid_input', message: `Request body is not JSON: ${String(err)}` },
        });
        return;
      }
      const reply = await dispatcher.call(body.method, body.input);
      sendJson(res, 'error' in reply ? STATUS[reply.error.code] : 200, reply);
      return;
    }
    if (url.pathname === CAPTURE_PATH && req.method === 'GET') {
      try {
        await serveCapture(opts.engine, url, res);
      } catch (err) {
        if (res.headersSent) return;
        const e = err instanceof KilnError ? err : new KilnError('unavailable', (err as Error).message);
        sendJson(res, STATUS[e.code], { error: e.toJSON() });
      }
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      sendJson(res, 404, { error: { code: 'not_found', message: `No API route ${url.pathname}.` } });
      return;
    }
    if (url.searchParams.has('token')) {
      // First visit through the printed URL: keep the token in a cookie the page cannot read, so
      // later requests (and WebSocket upgrades) carry it without the page handling it.
      res.setHeader(
        'set-cookie',
        `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`,
      );
    }
    serveStatic(opts.rendererDir, url.pathname, res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? host}`);
    if (url.pathname !== '/api/stream' || !sameOriginRequest(req, port) || !authorized(req, url, token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveStreams(ws, dispatcher));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function serveStreams(ws: WebSocket, dispatcher: Dispatcher): void {
  const open = new Map<string, () => void>();
  const send = (m: StreamMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  ws.on('message', (data) => {
    let req: StreamRequest;
    try {
      req = JSON.parse(String(data)) as StreamRequest;
    } catch {
      return;
    }
    if (typeof req.id !== 'string') return;
    if (req.type === 'unsubscribe') {
      open.get(req.id)?.();
      open.delete(req.id);
      return;
    }
    if (req.type !== 'subscribe' || open.has(req.id)) return;
    const id = req.id;
    let ended = false;
    const cancel = dispatcher.subscribe(req.stream, req.input, {
      events: (events) => send({ type: 'events', id, events }),
      end: (error) => {
        ended = true;
        open.delete(id);
        send(error ? { type: 'end', id, error } : { type: 'end', id });
      },
    });
    if (!ended) open.set(id, cancel);
  });
  ws.on('close', () => {
    for (const cancel of open.values()) cancel();
    open.clear();
  });
}
