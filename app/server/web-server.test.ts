import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Engine } from '../engine.ts';
import { tempHome } from '../testing/temp-home.ts';
import { startWebServer, type WebServer } from './web-server.ts';

const home = tempHome();
const renderer = join(home.dir, 'renderer');
let engine: Engine;
let server: WebServer;

before(async () => {
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Kiln</title>');
  engine = Engine.open({ home: join(home.dir, 'home') });
  server = await startWebServer({ engine, rendererDir: renderer });
});
after(async () => {
  await server.close();
  await engine.close();
  home.remove();
});

const base = () => `http://127.0.0.1:${server.port}`;
const call = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base()}/api/call`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('web mode', () => {
  it('listens on loopback only and prints a URL carrying the token', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('answers 401 without the token, for pages and API alike', async () => {
    assert.equal((await fetch(`${base()}/`)).status, 401);
    assert.equal((await call({ method: 'appliances.list' })).status, 401);
    assert.equal((await call({ method: 'appliances.list' }, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await fetch(`${base()}/?token=${server.token}x`)).status, 401);
  });

  it('answers 200 with the token, and sets an HttpOnly cookie from the printed URL', async () => {
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
    const cookie = page.headers.get('set-cookie')!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const r = await call({ method: 'appliances.list', input: {} }, { cookie: cookie.split(';')[0]! });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { result: [] });
  });

  it('maps structured errors to HTTP statuses', async () => {
    const auth = { authorization: `Bearer ${server.token}` };
    const bad = await call({ method: 'appliances.create', input: { name: 'BAD', template: 'hello' } }, auth);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'name');
    assert.equal((await call({ method: 'appliances.get', input: { name: 'none' } }, auth)).status, 404);
    assert.equal(
      (await fetch(`${base()}/api/call`, { method: 'POST', headers: auth, body: '{nope' })).status,
      400,
    );
    assert.equal((await fetch(`${base()}/api/call`, { headers: auth })).status, 405);
  });

  it('refuses cross-origin requests and foreign Host headers even with the token', async () => {
    const auth = { authorization: `Bearer ${server.token}` };
    assert.equal(
      (await call({ method: 'appliances.list' }, { ...auth, origin: 'http://evil.example' })).status,
      403,
    );
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/',
          headers: { host: `rebind.example:${server.port}`, ...auth },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.end();
    });
    assert.equal(status, 403);
  });

  it('streams events over WebSocket only with the token', async () => {
    const refused = new WebSocket(`ws://127.0.0.1:${server.port}/api/stream`);
    const refusedError = await new Promise<string>((resolve) =>
      refused.on('error', (e) => resolve(e.message)),
    );
    assert.match(refusedError, /401/);

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/stream?token=${server.token}`);
    await new Promise((r) => ws.on('open', r));
    const got = new Promise<unknown>((resolve) => ws.on('message', (m) => resolve(JSON.parse(String(m)))));
    ws.send(JSON.stringify({ type: 'subscribe', id: 'a', stream: 'library.events', input: {} }));
    await new Promise((r) => setTimeout(r, 50));
    await call(
      { method: 'appliances.create', input: { name: 'streamed', template: 'hello' } },
      { authorization: `Bearer ${server.token}` },
    );
    assert.deepEqual(await got, {
      type: 'events',
      id: 'a',
      events: [{ type: 'appliance.created', name: 'streamed' }],
    });
    ws.close();
  });
});
