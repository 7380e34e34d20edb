import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Engine } from '../engine.ts';
import { tempHome } from '../testing/temp-home.ts';
import { MAX_UPLOAD_BODY } from './asset-upload.ts';
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

describe('asset uploads (POST /api/assets)', () => {
  const auth = () => ({ authorization: `Bearer ${server.token}`, 'content-type': 'application/json' });
  const upload = (body: unknown, headers: Record<string, string> = auth()) =>
    fetch(`${base()}/api/assets`, { method: 'POST', headers, body: JSON.stringify(body) });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const assetsDir = () => join(home.dir, 'home', 'assets');
  const stored = () =>
    existsSync(join(assetsDir(), 'folder')) ? readdirSync(join(assetsDir(), 'folder')) : [];

  it('stores a folder and answers the path to put in the setting', async () => {
    const r = await upload({
      kind: 'folder',
      files: [
        { path: 'index.html', base64: b64('<h1>uploaded</h1>') },
        { path: 'img/a.txt', base64: b64('a') },
      ],
    });
    assert.equal(r.status, 200);
    const { result } = (await r.json()) as { result: { path: string; files: number; sha256: string } };
    assert.equal(result.path, join(assetsDir(), 'folder', result.sha256));
    assert.equal(result.files, 2);
    assert.equal(readFileSync(join(result.path, 'index.html'), 'utf8'), '<h1>uploaded</h1>');
  });

  it('needs the token, a same-origin request and JSON', async () => {
    const body = { kind: 'file', files: [{ path: 'x', base64: b64('x') }] };
    assert.equal((await upload(body, { 'content-type': 'application/json' })).status, 401);
    assert.equal((await upload(body, { ...auth(), origin: 'http://evil.example' })).status, 403);
    assert.equal((await upload(body, { ...auth(), 'content-type': 'text/plain' })).status, 415);
    assert.equal((await fetch(`${base()}/api/assets`, { headers: auth() })).status, 405);
  });

  it('refuses traversal and odd names with a clear message, storing nothing', async () => {
    const before = stored();
    for (const path of ['../../etc/cron.d/x', '/etc/passwd', 'a/./b', 'a\u0000b']) {
      const r = await upload({
        kind: 'folder',
        files: [
          { path: 'ok.txt', base64: '' },
          { path, base64: b64('x') },
        ],
      });
      assert.equal(r.status, 400, path);
      const { error } = (await r.json()) as { error: { message: string; field: string } };
      assert.match(error.message, /absolute|inside the chosen folder|control character/, path);
    }
    const bad = await upload({ kind: 'folder', files: [{ path: 'a', base64: '!!!' }] });
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /base64/);
    assert.deepEqual(stored(), before);
  });

  it('answers 413 past the size limit, and an upload cut short stores nothing', async () => {
    const before = stored();
    const { request } = await import('node:http');
    // Refused from its announced length, before a byte of it is read...
    const announced = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/api/assets',
          method: 'POST',
          headers: { ...auth(), 'content-length': String(MAX_UPLOAD_BODY + 1) },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode!, body });
          });
        },
      );
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.equal(announced.status, 413);
    assert.match(announced.body, /limited to 16777216 bytes \(16 MiB\)/);
    // ...and a chunked body (no length) once it passes the limit.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, path: '/api/assets', method: 'POST', headers: auth() },
        (res) => {
          res.resume();
          req.destroy();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const pump = (): void => {
        while (req.write(chunk));
        req.once('drain', pump);
      };
      pump();
    });
    assert.equal(chunked, 413);
    // A client that goes away halfway through its body.
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port: server.port,
        path: '/api/assets',
        method: 'POST',
        headers: { ...auth(), 'content-length': '100000' },
      });
      req.on('error', () => resolve());
      req.write(`{"kind":"folder","files":[{"path":"half.txt","base64":"${b64('x'.repeat(3000))}`);
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(stored(), before);
    assert.deepEqual(
      readdirSync(assetsDir()).filter((n) => n.startsWith('.upload-')),
      [],
      'no temporary left',
    );
  });
});
