// The DNS engine (the AssemblyScript code the `dns` appliance runs) answering the real `dig`
// over UDP and TCP on loopback, plus hostile raw messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createSocket } from 'node:dgram';
import { Engine, serveLoopback, type LoopbackServer } from '../bench/loopback.ts';
import { TEST_ZONE } from '../bench/fixtures.ts';
import { checkZoneAnswers } from '../host/testing/client-checks.ts';

function bigTxtZone(): string {
  let s = 'big.example.test. 60 IN TXT';
  for (let i = 0; i < 12; i++) s += ` "${'x'.repeat(100)}-${i}"`;
  return s + '\n';
}

let engine: Engine;
let server: LoopbackServer;

before(async () => {
  engine = await Engine.create('dns');
  const err = engine.setup(new TextEncoder().encode(TEST_ZONE + bigTxtZone()));
  assert.equal(err, null);
  server = await serveLoopback(engine, { udp: true });
});

after(async () => {
  await server?.close();
});

// async: the server answers from this very process, a synchronous exec would block it
async function dig(...args: string[]): Promise<string> {
  const r = await promisify(execFile)(
    'dig',
    ['@127.0.0.1', '-p', String(server.port), '+norecurse', '+time=3', '+tries=1', ...args],
    {
      encoding: 'utf8',
    },
  ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  return r.stdout;
}

async function short(name: string, type: string, ...extra: string[]): Promise<string[]> {
  return (await dig(name, type, '+short', ...extra))
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .sort();
}

test('every record type answers what the zone holds', async () => {
  // the same checks as the appliance's, made of the engine alone
  await checkZoneAnswers({ dig, short: (name, type, ...extra) => short(name!, type!, ...extra) });
  assert.deepEqual(await short('web.example.test', 'AAAA'), ['2001:db8::1:0:0:80']);
});

test('answers are authoritative, keep TTLs and carry glue in the additional section', async () => {
  const out = await dig('example.test', 'MX', '+noall', '+comments', '+answer', '+additional');
  assert.match(out, /flags: qr aa;/);
  assert.match(out, /example\.test\.\s+3600\s+IN\s+MX\s+10 mail\.example\.test\./);
  assert.match(out, /mail\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.25/);
  assert.match(out, /mail\.example\.test\.\s+3600\s+IN\s+AAAA\s+2001:db8::25/);
  const ns2 = await dig('ns2.example.test', 'A', '+noall', '+answer');
  assert.match(ns2, /ns2\.example\.test\.\s+600\s+IN\s+A\s+192\.0\.2\.54/);
});

test('CNAME chains are followed inside the zone, not outside it', async () => {
  assert.deepEqual(
    await short('chain1.example.test', 'A'),
    ['192.0.2.80', 'chain2.example.test.', 'www.example.test.', 'web.example.test.'].sort(),
  );
  assert.deepEqual(await short('outside.example.test', 'A'), ['www.other.test.']);
});

test('NXDOMAIN and NODATA carry the SOA with the negative TTL', async () => {
  const nx = await dig('nope.example.test', 'A', '+noall', '+comments', '+authority');
  assert.match(nx, /status: NXDOMAIN/);
  assert.match(nx, /example\.test\.\s+300\s+IN\s+SOA\s+ns1\.example\.test\./);
  const nodata = await dig('web.example.test', 'TXT', '+noall', '+comments', '+authority');
  assert.match(nodata, /status: NOERROR/);
  assert.match(nodata, /ANSWER: 0/);
  assert.match(nodata, /IN\s+SOA/);
  // empty non-terminal: b.c.example.test has no records but a child
  const ent = await dig('b.c.example.test', 'A', '+noall', '+comments');
  assert.match(ent, /status: NOERROR/);
  assert.deepEqual(await short('a.b.c.example.test', 'A'), ['192.0.2.99']);
});

test('names are matched case-insensitively and echoed as asked', async () => {
  const out = await dig('WwW.ExAmPlE.tEsT', 'A', '+noall', '+answer');
  assert.match(out, /WwW\.ExAmPlE\.tEsT\.\s+3600\s+IN\s+CNAME\s+web\.example\.test\./);
});

test('delegations are referrals with glue, not authoritative answers', async () => {
  const out = await dig('host.sub.example.test', 'A', '+noall', '+comments', '+authority', '+additional');
  assert.doesNotMatch(out, /flags: qr aa/);
  assert.match(out, /sub\.example\.test\.\s+3600\s+IN\s+NS\s+ns\.sub\.example\.test\./);
  assert.match(out, /ns\.sub\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.200/);
});

test('recursion is refused for zones it does not serve; RD is echoed, RA never set', async () => {
  const out = await dig('www.example.org', 'A', '+recurse', '+noall', '+comments');
  assert.match(out, /status: REFUSED/);
  assert.match(out, /flags: qr rd;/);
});

test('a large answer is truncated over UDP and complete over TCP', async () => {
  const udp = await dig('big.example.test', 'TXT', '+noedns', '+ignore', '+noall', '+comments');
  assert.match(udp, /flags: qr aa tc/);
  assert.match(udp, /ANSWER: 0/);
  const fallback = await short('big.example.test', 'TXT', '+noedns');
  assert.equal(fallback.length, 1);
  assert.match(fallback[0] ?? '', /-11"$/);
  const tcp = await short('big.example.test', 'TXT', '+tcp');
  assert.deepEqual(tcp, fallback);
  assert.equal((await short('example.test', 'SOA', '+tcp')).length, 1);
});

test('EDNS: the OPT record is answered, an unknown version gets BADVERS', async () => {
  const out = await dig('example.test', 'A', '+edns=0', '+noall', '+comments');
  assert.match(out, /OPT PSEUDOSECTION:\n; EDNS: version: 0/);
  const bad = await dig('example.test', 'A', '+edns=1', '+noednsneg', '+noall', '+comments');
  assert.match(bad, /status: BADVERS/);
});

function rawQuery(msg: Uint8Array): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(null);
    }, 500);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(msg, server.port, '127.0.0.1');
  });
}

function header(id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0): number[] {
  return [id >> 8, id & 255, flags >> 8, flags & 255, 0, qd, 0, an, 0, ns, 0, ar];
}

test('names are compressed: answer owners point at the question', async () => {
  const q = new Uint8Array([
    ...header(7, 0, 1),
    3,
    ...Buffer.from('www'),
    7,
    ...Buffer.from('example'),
    4,
    ...Buffer.from('test'),
    0,
    0,
    1,
    0,
    1,
  ]);
  const r = await rawQuery(q);
  assert.ok(r);
  const after = q.length; // first answer owner
  assert.deepEqual([r[after], r[after + 1]], [0xc0, 12]);
  // the CNAME target web.example.test is written as "web" + pointer to example.test in the question
  assert.ok(r.includes(Buffer.from([3, ...Buffer.from('web'), 0xc0, 16])));
});

test('a repeated question (answered from the cache) gets its own ID and its own spelling', async () => {
  const q = (id: number, name: string, rd: number): Uint8Array =>
    new Uint8Array([
      ...header(id, rd, 1),
      ...name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]),
      0,
      0,
      1,
      0,
      1,
    ]);
  const first = await rawQuery(q(0x1111, 'web.example.test', 0));
  assert.ok(first);
  for (const id of [0x2222, 0xfffe, 0x1111]) {
    const again = await rawQuery(q(id, 'web.example.test', 0));
    assert.ok(again);
    assert.deepEqual([again[0], again[1]], [id >> 8, id & 255]);
    assert.deepEqual(again.subarray(2), first.subarray(2));
  }
  const upper = await rawQuery(q(0x3333, 'WEB.Example.TEST', 0));
  assert.ok(upper);
  assert.ok(upper.includes(Buffer.from('WEB')) && upper.includes(Buffer.from('Example')));
  assert.equal(upper.length, first.length);
  const withRd = await rawQuery(q(0x4444, 'web.example.test', 0x0100));
  assert.ok(withRd);
  assert.equal(withRd[2]! & 1, 1, 'RD is echoed: a different header is a different question');
  const nx = await rawQuery(q(0x5555, 'nope.example.test', 0));
  const nx2 = await rawQuery(q(0x6666, 'nope.example.test', 0));
  assert.equal(nx![3]! & 15, 3);
  assert.deepEqual(nx2!.subarray(2), nx!.subarray(2));
});

test('malformed queries get FORMERR or are dropped, and the server keeps answering', async () => {
  const loop = new Uint8Array([...header(1, 0, 1), 0xc0, 12, 0, 1, 0, 1]); // pointer to itself
  const r1 = await rawQuery(loop);
  assert.ok(r1);
  assert.equal(r1[3]! & 15, 1);
  const forward = new Uint8Array([...header(2, 0, 1), 0xc0, 14, 0, 0xc0, 12, 0, 1, 0, 1]);
  const r2 = await rawQuery(forward);
  assert.equal(r2![3]! & 15, 1);
  const twoQuestions = new Uint8Array([...header(3, 0, 2), 0, 0, 1, 0, 1, 0, 0, 1, 0, 1]);
  assert.equal((await rawQuery(twoQuestions))![3]! & 15, 1);
  const shortName = new Uint8Array([...header(4, 0, 1), 63, 1, 2]);
  assert.equal((await rawQuery(shortName))![3]! & 15, 1);
  assert.equal(await rawQuery(new Uint8Array([1, 2, 3])), null); // shorter than a header: dropped
  assert.equal(await rawQuery(new Uint8Array(header(5, 0x8000, 0))), null); // a response: dropped
  const notify = new Uint8Array([...header(6, 4 << 11, 1), 0, 0, 6, 0, 1]);
  assert.equal((await rawQuery(notify))![3]! & 15, 4); // NOTIMP
  const axfr = await short('example.test', 'AXFR', '+tcp');
  assert.ok(axfr.some((l) => /failed|refused/i.test(l)) || axfr.length === 0);
  assert.deepEqual(await short('example.test', 'A'), ['192.0.2.1']);
});

test('zone files with errors are rejected with the line number', async () => {
  const e = await Engine.create('dns');
  assert.match(
    e.setup(new TextEncoder().encode('$ORIGIN x.\n@ SOA a b 1 2 3 4 5\nwww A 300.1.1.1\n')) ?? '',
    /line 3: bad IPv4/,
  );
  assert.match(e.setup(new TextEncoder().encode('$ORIGIN x.\nwww A 1.1.1.1\n')) ?? '', /no SOA/);
  assert.match(e.setup(new TextEncoder().encode('$ORIGIN x.\n@ SOA a b ( 1 2 3 4 5\n')) ?? '', /unbalanced/);
  assert.match(
    e.setup(new TextEncoder().encode('$ORIGIN x.\n@ SOA a b 1 2 3 4 5\nw LOC 1\n')) ?? '',
    /line 3: unsupported record type/,
  );
});

test("the dns template's default zone file loads", async () => {
  const { readFileSync } = await import('node:fs');
  const zone = readFileSync(new URL('../../../resources/templates/dns/example.zone', import.meta.url));
  const e = await Engine.create('dns');
  assert.equal(e.setup(new Uint8Array(zone)), null);
});
