// A TCP client run inside a test's network namespace (node --import tsx tcp-client.ts MODE ...).
//   many IP PORT N       N concurrent connections, each echoes 1 KiB; all held open together
//   bulk IP PORT BYTES   sends BYTES random bytes, reads the echo back, compares SHA-256
//   stall IP PORT BYTES  sends BYTES without reading, prints "stalled", then waits to be killed
// Prints one JSON line with the result.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const [mode, ip, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: ip!, port }, () => resolve(s));
    s.once('error', reject);
  });
}

function echoOnce(s: Socket, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (b: Buffer): void => {
      chunks.push(b);
      got += b.length;
      if (got >= payload.length) {
        s.off('data', onData);
        if (Buffer.concat(chunks).equals(payload)) resolve();
        else reject(new Error('echo mismatch'));
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.write(payload);
  });
}

async function many(): Promise<void> {
  const t0 = Date.now();
  const sockets = await Promise.all(Array.from({ length: count }, () => open()));
  const results = await Promise.allSettled(sockets.map((s) => echoOnce(s, randomBytes(1024))));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.end();
        }),
    ),
  );
  console.log(JSON.stringify({ ok, failed: count - ok, ms: Date.now() - t0 }));
}

async function bulk(): Promise<void> {
  const t0 = Date.now();
  const payload = randomBytes(count);
  const s = await open();
  const want = createHash('sha256').update(payload).digest('hex');
  const hash = createHash('sha256');
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    s.on('data', (b: Buffer) => {
      hash.update(b);
      got += b.length;
      if (got >= payload.length) resolve();
    });
    s.once('error', reject);
    s.once('close', () => resolve());
  });
  // Write in pieces so the kernel's buffers, not one huge write, drive the flow.
  for (let off = 0; off < payload.length; off += 65536) {
    if (!s.write(payload.subarray(off, off + 65536))) await new Promise((r) => s.once('drain', r));
  }
  await done;
  s.end();
  const ms = Date.now() - t0;
  console.log(JSON.stringify({ ok: got === payload.length && hash.digest('hex') === want, bytes: got, ms }));
}

async function stall(): Promise<void> {
  const s = await open();
  s.pause();
  s.write(randomBytes(count));
  setTimeout(() => console.log(JSON.stringify({ stalled: true })), 1000);
  await new Promise(() => {});
}

if (mode === 'many') await many();
else if (mode === 'bulk') await bulk();
else if (mode === 'stall') await stall();
else throw new Error(`unknown mode ${mode}`);
process.exit(0);
