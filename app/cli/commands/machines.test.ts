// The real `kiln` binary running real VMs (the minimal PVH test kernel under TCG): foreground
// run with exit status, detached run, ps with the real port binding, logs with --grep, stats,
// and a stop from another process (which re-attaches, then stops).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from '../../paths.ts';
import { tempHome } from '../../testing/temp-home.ts';
import { PcapReader } from '../../machines/capture/pcap.ts';
import { kernelBaseTestImage, pvhTestKernel } from '../../machines/testing/pvh-test-kernel.ts';

const home = tempHome('kiln-cli-machines-');
const bin = join(repoRoot(), 'bin', 'kiln.js');
const image = pvhTestKernel();
const started: number[] = [];

function kiln(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, KILN_HOME: home.dir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Starts `kiln args…` in the background, collecting what it prints. */
function spawnKiln(...args: string[]): {
  child: ChildProcess;
  out(): string;
  err(): string;
  /** resolves with the exit status (-1 when killed by a signal) */
  exited: Promise<number>;
  hasExited(): boolean;
} {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, KILN_HOME: home.dir } });
  let out = '';
  let err = '';
  let ended = false;
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((res) =>
    child.on('exit', (code) => {
      ended = true;
      res(code ?? -1);
    }),
  );
  return { child, out: () => out, err: () => err, exited, hasExited: () => ended };
}

after(() => {
  for (const id of started) kiln('kill', String(id));
  home.remove();
});

test('kiln run in the foreground prints the console and returns the guest status', () => {
  assert.equal(kiln('new', 'hello', 'demo').code, 0);
  const r = kiln('run', 'demo', '--image', image, '--append', 'x3', '--accel', 'tcg', '--net', 'none');
  assert.equal(r.code, 1, r.err);
  assert.equal(r.out, 'kiln pvh test kernel\nkiln: exit 3\n');
  assert.match(r.err, /stopped: exited with status 3/);
  const logs = kiln('logs', 'demo');
  assert.equal(logs.out, 'kiln pvh test kernel\nkiln: exit 3\n');
});

test('detached run, ps with the real binding, logs --grep, stats, stop from another process', () => {
  const port = 20000 + (process.pid % 20000);
  const r = kiln(
    'run',
    'demo',
    '-d',
    '--json',
    '--image',
    image,
    '--append',
    'e',
    '--accel',
    'tcg',
    '-p',
    `${port}:80`,
  );
  assert.equal(r.code, 0, r.err);
  const run = JSON.parse(r.out) as { runId: number; ports: { binding: string; url: string }[] };
  started.push(run.runId);
  assert.deepEqual(run.ports, [
    { binding: `127.0.0.1:${port} → guest :80/tcp`, url: `http://127.0.0.1:${port}/` },
  ]);
  const ps = JSON.parse(kiln('ps', '--json').out) as { runId: number; state: string }[];
  assert.deepEqual(
    ps.map((m) => [m.runId, m.state]),
    [[run.runId, 'running']],
  );
  assert.match(kiln('ps').out, new RegExp(`127\\.0\\.0\\.1:${port}`));
  const stop = kiln('stop', String(run.runId), '--timeout', '0', '--json');
  assert.equal(stop.code, 0, stop.err);
  assert.equal((JSON.parse(stop.out) as { state: string }).state, 'stopped');
  // The VM ran detached: output printed while no engine was attached is marked as a gap.
  const logs = kiln('logs', String(run.runId), '--grep', '^kiln');
  assert.equal(logs.code, 0);
  assert.ok(
    logs.out.split('\n').every((l) => l === '' || l.startsWith('kiln')),
    logs.out,
  );
  assert.match(kiln('logs', String(run.runId)).out, /console not captured/);
  const stats = JSON.parse(kiln('stats', String(run.runId), '--json').out) as { summary: { state: string } };
  assert.equal(stats.summary.state, 'stopped');
  assert.equal(JSON.parse(kiln('ps', '--json').out).length, 0);
  assert.equal(kiln('logs', 'nosuch').code, 1);
});

test(
  'kiln stop while another engine owns the VM: that engine shuts the guest down (status 0)',
  { skip: kernelBaseTestImage() ? false : 'kernel/build/kiln-test.elf not built' },
  async () => {
    // The owner: a foreground `kiln run` holding the VM (and its guest channel) until it exits.
    const owner = spawnKiln(
      'run',
      'demo',
      '--image',
      kernelBaseTestImage()!,
      '--append',
      'test=idle',
      '--accel',
      'tcg',
      '--net',
      'none',
    );
    const deadline = Date.now() + 120_000;
    while (!/kiln: ready/.test(owner.out()) || !/\[kiln\] run \d+/.test(owner.err())) {
      assert.ok(
        Date.now() < deadline && !owner.hasExited(),
        `the owner never got ready:\n${owner.out()}\n${owner.err()}`,
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    const runId = Number(/\[kiln\] run (\d+)/.exec(owner.err())![1]);
    started.push(runId);
    const stop = kiln('stop', String(runId), '--timeout', '30', '--json');
    assert.equal(stop.code, 0, stop.err);
    const ended = JSON.parse(stop.out) as { state: string; exitStatus: number | null };
    assert.equal(ended.state, 'stopped');
    assert.equal(ended.exitStatus, 0, 'a guest shutdown, not a signal to QEMU');
    assert.equal(await owner.exited, 0);
    assert.match(owner.out(), /kiln: shutdown requested/);
    assert.match(kiln('logs', String(runId)).out, /kiln: shutdown requested/);
  },
);

test(
  'kiln capture writes a pcap of a running VM and leaves it running',
  { skip: kernelBaseTestImage() ? false : 'kernel/build/kiln-test.elf not built' },
  async () => {
    const port = 40000 + (process.pid % 20000);
    const r = kiln(
      'run',
      'demo',
      '-d',
      '--json',
      '--image',
      kernelBaseTestImage()!,
      '--append',
      'test=net-echo',
      '--accel',
      'tcg',
      '-p',
      `${port}:7/udp`,
    );
    assert.equal(r.code, 0, r.err);
    const runId = (JSON.parse(r.out) as { runId: number }).runId;
    started.push(runId);
    const file = join(home.dir, 'out.pcap');
    assert.equal(kiln('capture', String(runId)).code, 2, 'no -o: usage error');
    const capture = spawnKiln('capture', String(runId), '-o', file, '--count', '4', '--json');
    // slirp does not know the guest's MAC: each datagram makes it send an ARP request, which the
    // net-echo guest sends back with the MACs swapped
    const udp = createSocket('udp4');
    while (!capture.hasExited()) {
      udp.send('x', port, '127.0.0.1');
      await new Promise((res) => setTimeout(res, 300));
    }
    udp.close();
    const printed = (): string => capture.out() + capture.err();
    assert.equal(await capture.exited, 0, printed());
    assert.equal((JSON.parse(capture.out()) as { frames: number }).frames, 4, printed());
    assert.ok(!existsSync(`${file}.part-${capture.child.pid}`));
    const frames = new PcapReader().push(readFileSync(file)).map((f) => f.data);
    assert.equal(frames.length, 4);
    assert.ok(
      frames.every((f) => f.readUInt16BE(12) === 0x0806),
      'only ARP: requests from slirp, echoes',
    );
    const swap = (f: Buffer) => Buffer.concat([f.subarray(6, 12), f.subarray(0, 6), f.subarray(12)]);
    assert.ok(
      frames.some((f, i) => i > 0 && frames.slice(0, i).some((g) => swap(g).equals(f))),
      'a request echoed by the guest with the MACs swapped',
    );
    const ps = JSON.parse(kiln('ps', '--json').out) as { runId: number; state: string }[];
    assert.deepEqual(ps.find((m) => m.runId === runId)?.state, 'running');
    assert.equal(kiln('kill', String(runId)).code, 0);
  },
);
