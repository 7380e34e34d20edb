// The HTTP engine (the AssemblyScript code the `http-static` appliance runs) serving a folder
// embedded by embedSite, against the real `curl` and raw sockets on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, serveLoopback, type LoopbackServer } from '../bench/loopback.ts';
import { embedSite } from './embed-site.ts';

let dir: string;
let engine: Engine;
let server: LoopbackServer;
let base: string;
const big = randomBytes(5 * 1024 * 1024 + 123);
const png = randomBytes(3000);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-http-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><h1>Kiln</h1>\n');
  writeFileSync(join(dir, 'style.css'), 'h1 { color: red }\n');
  writeFileSync(join(dir, 'app.js'), 'console.log(1)\n');
  writeFileSync(join(dir, 'logo.png'), png);
  writeFileSync(join(dir, 'big.bin'), big);
  writeFileSync(join(dir, '.hidden'), 'secret');
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs', 'index.html'), 'docs index\n');
  writeFileSync(join(dir, 'docs', 'a b.txt'), 'spaced\n');
  const site = embedSite(dir);
  assert.equal(site.files, 7);
  engine = await Engine.create('http');
  assert.equal(engine.setup(site.bundle), null);
  server = await serveLoopback(engine);
  base = `http://127.0.0.1:${server.port}`;
});

after(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function curl(...args: string[]): Promise<{ stdout: Buffer; stderr: string }> {
  const r = await promisify(execFile)('curl', ['-s', '--max-time', '20', ...args], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
  });
  return { stdout: r.stdout, stderr: r.stderr.toString() };
}

async function status(...args: string[]): Promise<string> {
  return (await curl('-o', '/dev/null', '-w', '%{http_code}', ...args)).stdout.toString();
}

test('GET serves files with the Content-Type of their extension', async () => {
  const index = await curl('-D', '-', base + '/');
  const text = index.stdout.toString();
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /Content-Type: text\/html; charset=utf-8\r\n/);
  assert.match(text, /<h1>Kiln<\/h1>/);
  const types: Array<[string, RegExp]> = [
    ['/style.css', /text\/css/],
    ['/app.js', /text\/javascript/],
    ['/logo.png', /image\/png/],
    ['/big.bin', /application\/octet-stream/],
    ['/docs/a%20b.txt', /text\/plain/],
  ];
  for (const [path, type] of types) {
    const r = await curl('-o', '/dev/null', '-w', '%{http_code} %{content_type}', base + path);
    assert.match(r.stdout.toString(), new RegExp(`^200 ${type.source}`), path);
  }
  const logo = await curl(base + '/logo.png');
  assert.ok(logo.stdout.equals(png));
});

test('a file of several MB arrives intact (sha256)', async () => {
  const r = await curl(base + '/big.bin');
  assert.equal(r.stdout.length, big.length);
  assert.equal(
    createHash('sha256').update(r.stdout).digest('hex'),
    createHash('sha256').update(big).digest('hex'),
  );
});

test('keep-alive: curl reuses one connection for several requests', async () => {
  const r = await curl(
    '-v',
    '-o',
    '/dev/null',
    '-o',
    '/dev/null',
    '-o',
    '/dev/null',
    base + '/',
    base + '/style.css',
    base + '/big.bin',
  );
  assert.match(r.stderr, /Re-using existing connection/);
  assert.doesNotMatch(r.stderr, /Closing connection/i);
});

test('HEAD gives the headers of GET and no body', async () => {
  const r = await curl('-I', base + '/big.bin');
  const text = r.stdout.toString();
  assert.match(text, /^HTTP\/1\.1 200 OK/);
  assert.match(text, new RegExp(`Content-Length: ${big.length}\r\n`));
  assert.match(text, /Accept-Ranges: bytes/);
  assert.ok(text.endsWith('\r\n\r\n'));
});

test('404 for missing files, 301 for a folder without its slash, dot-files never published', async () => {
  assert.equal(await status(base + '/nope.html'), '404');
  assert.equal(await status(base + '/.hidden'), '404');
  assert.equal(await status('--path-as-is', base + '/../../etc/passwd'), '400');
  const r = await curl('-D', '-', '-o', '/dev/null', base + '/docs');
  assert.match(r.stdout.toString(), /^HTTP\/1\.1 301 Moved Permanently\r\n[\s\S]*Location: \/docs\/\r\n/);
  assert.equal((await curl(base + '/docs/')).stdout.toString(), 'docs index\n');
});

test('Range: single ranges give 206 with Content-Range, unsatisfiable ones 416', async () => {
  const a = (await curl('-i', '-r', '100-1099', base + '/big.bin')).stdout;
  const split = a.indexOf('\r\n\r\n');
  const head = a.subarray(0, split).toString();
  assert.ok(a.subarray(split + 4).equals(big.subarray(100, 1100)));
  assert.match(head, /206 Partial Content/);
  assert.match(head, new RegExp(`Content-Range: bytes 100-1099/${big.length}`));
  const open = await curl('-r', `${big.length - 10}-`, base + '/big.bin');
  assert.ok(open.stdout.equals(big.subarray(big.length - 10)));
  const suffix = await curl('-r', '-500', base + '/big.bin');
  assert.ok(suffix.stdout.equals(big.subarray(big.length - 500)));
  const un = await curl('-D', '-', '-o', '/dev/null', '-r', `${big.length}-`, base + '/big.bin');
  assert.match(un.stdout.toString(), /^HTTP\/1\.1 416 /);
  assert.match(un.stdout.toString(), new RegExp(`Content-Range: bytes \\*/${big.length}`));
  // several ranges: the whole file is allowed (RFC 9110)
  assert.equal(await status('-r', '0-1,5-6', base + '/style.css'), '200');
});

test('conditional GET: If-None-Match with the ETag gives 304', async () => {
  const head = (await curl('-I', base + '/style.css')).stdout.toString();
  const etag = /ETag: ("[^"]+")/.exec(head)?.[1];
  assert.ok(etag);
  assert.equal(await status('-H', `If-None-Match: ${etag}`, base + '/style.css'), '304');
  assert.equal(await status('-H', `If-None-Match: "other", W/${etag}`, base + '/style.css'), '304');
  assert.equal(await status('-H', 'If-None-Match: "other"', base + '/style.css'), '200');
  assert.equal(await status('-r', '0-3', '-H', 'If-Range: "stale"', base + '/style.css'), '200');
  assert.equal(await status('-r', '0-3', '-H', `If-Range: ${etag}`, base + '/style.css'), '206');
});

test('405 for other methods, with Allow; request bodies (chunked too) are read and skipped', async () => {
  const r = await curl('-D', '-', '-o', '/dev/null', '-X', 'POST', '--data-binary', 'x=1', base + '/');
  assert.match(r.stdout.toString(), /^HTTP\/1\.1 405 Method Not Allowed\r\n[\s\S]*Allow: GET, HEAD\r\n/);
  const file = join(dir, 'upload.bin');
  writeFileSync(file, randomBytes(200_000));
  assert.equal(
    await status('-H', 'Transfer-Encoding: chunked', '-X', 'PUT', '--data-binary', `@${file}`, base + '/x'),
    '405',
  );
  // the chunked body is skipped exactly: the next request on the connection is read correctly
  const body = 'a\r\n0123456789\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n';
  const out = await raw(
    `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}GET /app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  );
  assert.match(out, /^HTTP\/1\.1 405 [\s\S]*HTTP\/1\.1 200 OK[\s\S]*console\.log\(1\)/);
});

/** Sends raw bytes on one connection and collects everything until the server closes. */
function raw(payload: string | Buffer, waitMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(t);
      s.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const t = setTimeout(done, waitMs);
    s.on('data', (d) => chunks.push(d));
    s.on('close', done);
    s.on('error', done);
    s.write(payload);
  });
}

test('pipelined requests are answered in order on one connection', async () => {
  const req = (p: string, extra = ''): string => `GET ${p} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
  const out = await raw(
    req('/style.css') +
      req('/nope') +
      req('/app.js') +
      'HEAD /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  assert.deepEqual(statuses, ['200', '404', '200', '200']);
  assert.ok(out.indexOf('color: red') < out.indexOf('console.log(1)'));
});

test('malformed and oversized requests get 400, 414, 431, 413 and 505', async () => {
  assert.match(await raw('GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400 /);
  assert.match(await raw('GET / HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 400 /); // no Host
  assert.match(await raw(`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`), /^HTTP\/1\.1 414 /);
  assert.match(
    await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`),
    /^HTTP\/1\.1 431 /,
  );
  let many = 'GET / HTTP/1.1\r\nHost: x\r\n';
  for (let i = 0; i < 150; i++) many += `X-H${i}: v\r\n`;
  assert.match(await raw(many + '\r\n'), /^HTTP\/1\.1 431 /);
  assert.match(
    await raw('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n'),
    /^HTTP\/1\.1 413 /,
  );
  assert.match(
    await raw('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFF\r\n'),
    /^HTTP\/1\.1 413 /,
  );
  assert.match(
    await raw('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'),
    /^HTTP\/1\.1 400 /,
  );
  assert.match(await raw('GET / HTTP/2.0\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 505 /);
  assert.match(await raw('GET / HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 OK[\s\S]*Connection: close/);
  assert.equal(await status(base + '/'), '200');
});

test('idle and slow clients are disconnected', async () => {
  engine.ex.setTimeouts?.(BigInt(400), BigInt(400));
  const t0 = Date.now();
  const slow = await raw('GET / HTTP/1.1\r\nHost: x\r\n', 5000); // head never completed
  assert.equal(slow, '');
  const idle = await raw('GET / HTTP/1.1\r\nHost: x\r\n\r\n', 5000); // answered, then idle
  assert.match(idle, /^HTTP\/1\.1 200 /);
  assert.ok(Date.now() - t0 < 4000, 'both connections were closed by the server');
  engine.ex.setTimeouts?.(BigInt(15000), BigInt(10000));
});

test("embedFolderModule (the build's FolderEmbedder) yields a module whose bundle the engine loads", async () => {
  const { embedFolderModule } = await import('./embed-site.ts');
  const text = embedFolderModule(dir, ['index.html', 'docs/index.html', '.hidden', 'docs/a b.txt']);
  assert.match(text, /^\/\/ Generated[^\n]*\nexport const SITE_BUNDLE: string = "[A-Za-z0-9+/=]+";\n$/);
  const b64 = /"([^"]+)"/.exec(text)?.[1] ?? '';
  const e = await Engine.create('http');
  assert.equal(e.setup(new Uint8Array(Buffer.from(b64, 'base64'))), null);
  assert.equal(e.setup(new Uint8Array([1, 2, 3])), 'malformed site bundle');
  // three files: the dot-file is left out
  assert.equal(Buffer.from(b64, 'base64').readUInt32BE(4), 3);
});
