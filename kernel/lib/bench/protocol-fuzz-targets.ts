// Fuzz targets of the protocol libraries for NETSTACK's runner (kernel/lib/fuzz/fuzz-netstack.ts):
// `dns` (messages, with compression loops and bogus counts), `http` (requests: pipelined,
// chunked, oversized, malformed) and `resp` (RESP2 and inline commands). Each feeds its engine
// directly (kernel/lib/<proto>/fuzz-harness.ts): the TCP/IP layers have their own target.
import { join } from 'node:path';
import type { FuzzTarget } from '../fuzz/runner.ts';
import { int, mutate, pick, type Rng } from '../fuzz/frames.ts';
import { LIB } from './loopback.ts';

// ---- DNS ----

const NAMES = [
  'example.test',
  'www.example.test',
  'loop.example.test',
  'nope.example.test',
  'a.b.sub.example.test',
  't.example.test',
  '_s._tcp.example.test',
  'example.org',
  '',
];

function encodeName(name: string): Buffer {
  const parts = name ? name.split('.') : [];
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])),
    Buffer.from([0]),
  ]);
}

function dnsQuery(rng: Rng): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(int(rng, 65536), 0);
  h.writeUInt16BE(rng() < 0.8 ? 0x0100 : int(rng, 65536), 2);
  h.writeUInt16BE(rng() < 0.9 ? 1 : int(rng, 4), 4);
  if (rng() < 0.1) h.writeUInt16BE(int(rng, 65536), 6 + 2 * int(rng, 3));
  const hasOpt = rng() < 0.5;
  if (hasOpt) h.writeUInt16BE(1, 10);
  let name = encodeName(pick(rng, NAMES));
  const r = rng();
  if (r < 0.1)
    name = Buffer.from([0xc0, 12]); // points at itself
  else if (r < 0.15)
    name = Buffer.from([3, 0x61, 0x61, 0x61, 0xc0, 12 + int(rng, 8)]); // loop through itself
  else if (r < 0.2)
    name = Buffer.from([0xc0 | int(rng, 64), int(rng, 256)]); // anywhere
  else if (r < 0.25) name = Buffer.concat(Array.from({ length: 130 }, () => Buffer.from([1, 0x61]))); // too long
  const q = Buffer.alloc(4);
  q.writeUInt16BE(pick(rng, [1, 2, 5, 6, 15, 16, 28, 33, 41, 252, 255, int(rng, 65536)]), 0);
  q.writeUInt16BE(rng() < 0.9 ? 1 : int(rng, 65536), 2);
  const parts = [h, name, q];
  if (hasOpt) {
    const opt = Buffer.from([0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]);
    opt.writeUInt16BE(int(rng, 65536), 3);
    opt[5] = rng() < 0.9 ? 0 : int(rng, 256);
    opt[6] = rng() < 0.9 ? 0 : int(rng, 256);
    parts.push(opt);
  }
  return Buffer.concat(parts);
}

// ---- HTTP ----

const PATHS = [
  '/',
  '/index.html',
  '/big.bin',
  '/d',
  '/d/',
  '/nope',
  '/%2e%2e/x',
  '/a%zz',
  '/../..',
  'http://h/big.bin',
  '*',
  '/big.bin?x=1#f',
];

function httpRequest(rng: Rng): Buffer {
  const method = pick(rng, ['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'G\x01T', '']);
  const version = pick(rng, ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1', 'FOO']);
  const headers: string[] = [];
  if (rng() < 0.9) headers.push('Host: x');
  const r = rng();
  if (r < 0.2)
    headers.push(`Range: bytes=${pick(rng, ['0-10', '-5', '100-', '5-1', '999999-', '0-1,3-4', 'x'])}`);
  else if (r < 0.3) headers.push(`If-None-Match: ${pick(rng, ['"e1"', '*', 'W/"e2"', '"zz"'])}`);
  else if (r < 0.35) headers.push(`X-Big: ${'a'.repeat(int(rng, 20000))}`);
  else if (r < 0.4) for (let i = 0; i < int(rng, 150); i++) headers.push(`X-${i}: v`);
  if (rng() < 0.2) headers.push(`Connection: ${pick(rng, ['close', 'keep-alive', 'Upgrade, close'])}`);
  let body = '';
  const b = rng();
  if (b < 0.15) {
    const n = int(rng, 3000);
    headers.push(`Content-Length: ${rng() < 0.9 ? n : pick(rng, ['-1', '99999999999', '1, 2', 'x'])}`);
    body = 'b'.repeat(n);
  } else if (b < 0.3) {
    headers.push('Transfer-Encoding: chunked');
    for (let i = 0; i < int(rng, 4); i++) {
      const n = int(rng, 300);
      body += `${n.toString(16)}${rng() < 0.2 ? ';ext=1' : ''}\r\n${'c'.repeat(n)}\r\n`;
    }
    body +=
      rng() < 0.8 ? '0\r\n\r\n' : pick(rng, ['FFFFFFFFFFFFFFFFFF\r\n', 'zz\r\n', '0\r\nTrailer: t\r\n\r\n']);
  }
  const target = rng() < 0.05 ? '/' + 'p'.repeat(int(rng, 10000)) : pick(rng, PATHS);
  const eol = rng() < 0.9 ? '\r\n' : '\n';
  return Buffer.from(`${method} ${target} ${version}${eol}${headers.join(eol)}${eol}${eol}${body}`, 'latin1');
}

// ---- RESP ----

const COMMANDS = [
  ['SET', 'k', 'v'],
  ['SET', 'k', 'v', 'EX', '10'],
  ['SET', 'k', 'v', 'PX', '5', 'NX'],
  ['SET', 'k', 'v', 'XX', 'GET'],
  ['GET', 'k'],
  ['DEL', 'k', 'j'],
  ['EXISTS', 'k'],
  ['INCR', 'n'],
  ['DECRBY', 'n', '9223372036854775807'],
  ['INCR', 'k'],
  ['EXPIRE', 'k', '1'],
  ['PEXPIRE', 'n', '-5'],
  ['TTL', 'k'],
  ['PTTL', 'n'],
  ['KEYS', '*'],
  ['KEYS', '[a-'],
  ['KEYS', '*a*a*a*a*a*b'],
  ['DBSIZE'],
  ['FLUSHALL'],
  ['INFO'],
  ['PING'],
  ['MSET', 'a', '1', 'b'],
  ['MGET', 'a', 'b'],
  ['APPEND', 'k', 'zz'],
  ['QUIT'],
  ['NOPE', 'x'],
] as const;

function respRequest(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0, n = 1 + int(rng, 4); i < n; i++) {
    const args: string[] = [...pick(rng, COMMANDS)].map((a) =>
      a === 'k' && rng() < 0.5 ? `k${int(rng, 50)}` : a,
    );
    if (rng() < 0.05) args.push('x'.repeat(int(rng, 70000)));
    if (rng() < 0.3) parts.push(Buffer.from(`${args.join(' ')}${rng() < 0.1 ? ' "unbalanced' : ''}\r\n`));
    else
      parts.push(
        Buffer.from(
          `*${args.length}\r\n${args.map((a) => `$${rng() < 0.05 ? int(rng, 1 << 26) : Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
        ),
      );
  }
  if (rng() < 0.05)
    parts.push(
      Buffer.from(pick(rng, ['*-1\r\n', '*99999999999\r\n', '$5\r\n', '*1\r\n$3\r\nabcde', '\r\n\r\n'])),
    );
  return Buffer.concat(parts);
}

/** An input for a connection-oriented harness: byte 0 = 1 starts a new connection. */
function connInput(rng: Rng, body: Buffer): Buffer {
  const mutated = rng() < 0.3 ? mutate(body, rng) : body;
  // split at a random point sometimes: the rest comes in the next input (partial requests)
  const cut = rng() < 0.2 ? int(rng, mutated.length + 1) : mutated.length;
  return Buffer.concat([Buffer.from([rng() < 0.1 ? 1 : 0]), mutated.subarray(0, Math.min(cut, 65535))]);
}

export const PROTOCOL_TARGETS: FuzzTarget[] = [
  {
    name: 'dns',
    entry: join(LIB, 'dns', 'fuzz-harness.ts'),
    next: (rng) => [rng() < 0.4 ? mutate(dnsQuery(rng), rng) : dnsQuery(rng)],
  },
  {
    name: 'http',
    entry: join(LIB, 'http', 'fuzz-harness.ts'),
    next: (rng) => [connInput(rng, httpRequest(rng))],
  },
  {
    name: 'resp',
    entry: join(LIB, 'kv', 'fuzz-harness.ts'),
    next: (rng) => [connInput(rng, respRequest(rng))],
  },
];
