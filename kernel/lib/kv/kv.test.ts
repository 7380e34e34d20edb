// The KV engine (the AssemblyScript code the `kv` appliance runs) against the real redis-cli
// and redis-benchmark on loopback, plus persistence: the log written to a RAM block device is
// replayed by a fresh instance ("reboot").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { connect } from 'node:net';
import { Engine, serveLoopback, type LoopbackServer } from '../bench/loopback.ts';

const DISK_BYTES = 1 << 20;
let engine: Engine;
let server: LoopbackServer;

before(async () => {
  engine = await Engine.create('kv');
  assert.equal(engine.setup(new Uint8Array(DISK_BYTES)), null); // blank disk: formatted
  server = await serveLoopback(engine);
});

after(async () => {
  await server?.close();
});

async function cli(...args: string[]): Promise<string> {
  const r = await promisify(execFile)('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), ...args], {
    encoding: 'utf8',
  });
  return r.stdout.replace(/\n$/, '');
}

/** Runs redis-cli with commands on stdin (one per line), the way scripts bulk-load data. */
function cliStdin(lines: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port)]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', () => resolve(out));
    p.stdin.end(lines);
  });
}

test('PING, SET/GET, DEL, EXISTS, DBSIZE through redis-cli', async () => {
  assert.equal(await cli('PING'), 'PONG');
  assert.equal(await cli('PING', 'hello'), 'hello');
  assert.equal(await cli('SET', 'greeting', 'hello world'), 'OK');
  assert.equal(await cli('GET', 'greeting'), 'hello world');
  assert.equal(await cli('GET', 'missing'), '');
  assert.equal(await cli('SET', 'a', '1'), 'OK');
  assert.equal(await cli('EXISTS', 'a', 'greeting', 'missing'), '2');
  assert.equal(await cli('DBSIZE'), '2');
  assert.equal(await cli('DEL', 'a', 'missing'), '1');
  assert.equal(await cli('DBSIZE'), '1');
  assert.match(await cli('NOSUCH', 'x'), /ERR unknown command 'NOSUCH'/);
  assert.match(await cli('GET'), /ERR wrong number of arguments/);
});

test('SET options NX, XX, EX, PX and GET', async () => {
  assert.equal(await cli('SET', 'nx', 'v1', 'NX'), 'OK');
  assert.equal(await cli('SET', 'nx', 'v2', 'NX'), '');
  assert.equal(await cli('GET', 'nx'), 'v1');
  assert.equal(await cli('SET', 'xx', 'v', 'XX'), '');
  assert.equal(await cli('EXISTS', 'xx'), '0');
  assert.equal(await cli('SET', 'nx', 'v3', 'XX', 'GET'), 'v1');
  assert.equal(await cli('GET', 'nx'), 'v3');
  assert.equal(await cli('SET', 'ex', 'v', 'EX', '100'), 'OK');
  const ttl = Number(await cli('TTL', 'ex'));
  assert.ok(ttl > 95 && ttl <= 100, `ttl ${ttl}`);
  assert.equal(await cli('SET', 'px', 'v', 'PX', '2000'), 'OK');
  assert.equal(await cli('GET', 'px'), 'v');
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(await cli('GET', 'px'), '');
  assert.equal(await cli('TTL', 'px'), '-2');
  assert.match(await cli('SET', 'k', 'v', 'EX', '0'), /invalid expire time/);
  assert.match(await cli('SET', 'k', 'v', 'NX', 'XX'), /syntax error/);
});

test('INCR/DECR/INCRBY, EXPIRE/TTL/PERSIST', async () => {
  assert.equal(await cli('INCR', 'counter'), '1');
  assert.equal(await cli('INCRBY', 'counter', '41'), '42');
  assert.equal(await cli('DECR', 'counter'), '41');
  assert.equal(await cli('DECRBY', 'counter', '-9'), '50');
  assert.equal(await cli('SET', 'text', 'abc'), 'OK');
  assert.match(await cli('INCR', 'text'), /not an integer/);
  assert.equal(await cli('SET', 'big', '9223372036854775807'), 'OK');
  assert.match(await cli('INCR', 'big'), /overflow/);
  assert.equal(await cli('TTL', 'counter'), '-1');
  assert.equal(await cli('EXPIRE', 'counter', '50'), '1');
  assert.ok(['49', '50'].includes(await cli('TTL', 'counter')));
  assert.equal(await cli('INCR', 'counter'), '51'); // keeps its TTL
  assert.ok(Number(await cli('PTTL', 'counter')) > 40_000);
  assert.equal(await cli('PERSIST', 'counter'), '1');
  assert.equal(await cli('TTL', 'counter'), '-1');
  assert.equal(await cli('EXPIRE', 'nokey', '5'), '0');
  assert.equal(await cli('EXPIRE', 'text', '-1'), '1');
  assert.equal(await cli('EXISTS', 'text'), '0');
});

test('KEYS with glob patterns', async () => {
  await cli('MSET', 'user:1', 'a', 'user:2', 'b', 'user:10', 'c', 'item:1', 'd', 'u[x]', 'e');
  const keys = async (p: string): Promise<string[]> =>
    (await cli('KEYS', p))
      .split('\n')
      .filter((l) => l)
      .sort();
  assert.deepEqual(await keys('user:*'), ['user:1', 'user:10', 'user:2']);
  assert.deepEqual(await keys('user:?'), ['user:1', 'user:2']);
  assert.deepEqual(await keys('user:[12]'), ['user:1', 'user:2']);
  assert.deepEqual(await keys('user:[^1]'), ['user:2']);
  assert.deepEqual(await keys('*:1*'), ['item:1', 'user:1', 'user:10']);
  assert.deepEqual(await keys('u\\[x\\]'), ['u[x]']);
  assert.deepEqual(await keys('nothing*'), []);
  assert.equal(await cli('MGET', 'user:1', 'nope', 'item:1'), 'a\n\nd');
});

test('INFO reports the server and the key space; FLUSHALL empties it', async () => {
  const info = await cli('INFO');
  assert.match(info, /redis_version:/);
  assert.match(info, /db0:keys=\d+/);
  assert.match(info, /aof_enabled:1/);
  assert.equal(await cli('FLUSHALL'), 'OK');
  assert.equal(await cli('DBSIZE'), '0');
});

test('inline commands and pipelined, binary-safe multi-bulk requests', async () => {
  const reply = await new Promise<string>((resolve) => {
    const s = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (d) => {
      chunks.push(d);
      if (Buffer.concat(chunks).toString('latin1').endsWith('+OK\r\n')) s.end();
    });
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    // inline, pipelined with multi-bulk, a binary key and value with CR LF and NUL inside
    s.write('PING\r\nSET inl "quoted value"\r\nGET inl\r\n');
    s.write(
      Buffer.from(
        '*3\r\n$3\r\nSET\r\n$5\r\nb\r\n\0k\r\n$3\r\n\x00\xff\n\r\n*2\r\n$3\r\nGET\r\n$5\r\nb\r\n\0k\r\n*1\r\n$4\r\nQUIT\r\n',
        'latin1',
      ),
    );
  });
  assert.equal(reply, '+PONG\r\n+OK\r\n$12\r\nquoted value\r\n+OK\r\n$3\r\n\x00\xff\n\r\n+OK\r\n');
});

test('protocol errors answer -ERR and close the connection', async () => {
  const reply = await new Promise<string>((resolve) => {
    const s = connect(server.port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('close', () => resolve(got));
    s.write('*2\r\n$3\r\nGET\r\n$-5\r\n');
  });
  assert.match(reply, /^-ERR Protocol error/);
  assert.equal(await cli('PING'), 'PONG');
});

test('redis-benchmark runs its PING, SET, GET, INCR and MSET tests', async () => {
  const r = await promisify(execFile)(
    'redis-benchmark',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(server.port),
      '-n',
      '2000',
      '-c',
      '10',
      '-t',
      'ping,set,get,incr,mset',
      '-q',
    ],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  for (const t of ['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'MSET \\(10 keys\\)'])
    assert.match(r.stdout, new RegExp(`${t}: [\\d.]+ requests per second`), t);
  assert.equal((await cli('GET', 'key:__rand_int__')).length, 3); // -d 3: three-byte values
});

test('the append-only log is replayed by a fresh instance (reboot)', async () => {
  await cli('FLUSHALL');
  await cli('SET', 'persist:a', 'alpha');
  await cli('SET', 'persist:b', 'beta', 'EX', '1000');
  await cli('SET', 'persist:gone', 'x', 'PX', '200');
  await cli('INCRBY', 'persist:n', '7');
  await cli('DEL', 'persist:a');
  await cli('SET', 'persist:a', 'alpha2');
  let batch = '';
  for (let i = 0; i < 300; i++) batch += `SET bulk:${i} ${'v'.repeat(100) + i}\n`; // crosses many blocks
  await cliStdin(batch);
  await new Promise((r) => setTimeout(r, 400));
  const image = engine.diskImage();
  const reborn = await Engine.create('kv');
  assert.equal(reborn.setup(image), null);
  const srv2 = await serveLoopback(reborn);
  try {
    const cli2 = async (...args: string[]): Promise<string> =>
      (
        await promisify(execFile)('redis-cli', ['-h', '127.0.0.1', '-p', String(srv2.port), ...args], {
          encoding: 'utf8',
        })
      ).stdout.replace(/\n$/, '');
    assert.equal(await cli2('GET', 'persist:a'), 'alpha2');
    assert.equal(await cli2('GET', 'persist:b'), 'beta');
    assert.ok(Number(await cli2('TTL', 'persist:b')) > 900);
    assert.equal(await cli2('GET', 'persist:gone'), '');
    assert.equal(await cli2('GET', 'persist:n'), '7');
    assert.equal(await cli2('GET', 'bulk:299'), 'v'.repeat(100) + '299');
    assert.equal(await cli2('DBSIZE'), '303');
  } finally {
    await srv2.close();
  }
});

test('a full log is compacted to the live keys and still replays', async () => {
  const small = await Engine.create('kv');
  assert.equal(small.setup(new Uint8Array(16 * 1024)), null); // 15.5 KiB of log room
  const srv = await serveLoopback(small);
  try {
    let batch = '';
    // ~40 KiB of writes over 10 keys: the log must be rewritten from the live data to fit
    for (let round = 0; round < 30; round++)
      for (let k = 0; k < 10; k++) batch += `SET key:${k} ${'r'.repeat(100)}${round}\n`;
    batch += 'SET ttl:key kept PX 3600000\nINFO\n';
    const p = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(srv.port)]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => {
      p.on('close', r);
      p.stdin.end(batch);
    });
    assert.match(out, /aof_enabled:1/); // the log never gave up
    const reborn = await Engine.create('kv');
    assert.equal(reborn.setup(small.diskImage()), null);
    const srv2 = await serveLoopback(reborn);
    try {
      const cli2 = async (...args: string[]): Promise<string> =>
        (
          await promisify(execFile)('redis-cli', ['-h', '127.0.0.1', '-p', String(srv2.port), ...args], {
            encoding: 'utf8',
          })
        ).stdout.replace(/\n$/, '');
      assert.equal(await cli2('DBSIZE'), '11');
      assert.equal(await cli2('GET', 'key:7'), `${'r'.repeat(100)}29`);
      assert.ok(Number(await cli2('TTL', 'ttl:key')) > 3500);
    } finally {
      await srv2.close();
    }
  } finally {
    await srv.close();
  }
});
