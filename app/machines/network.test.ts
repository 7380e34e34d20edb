// Real traffic through the machines service to the echo appliance (built once for this file,
// one VM shared by every test): user-mode port forwards carry TCP and UDP and the guest's own
// counters (stats channel) match what was sent; an on-demand capture (QEMU filter-dump) holds
// exactly the frames sent, never stalls the VM, and goes away with its last consumer; a graceful
// stop of a compiled appliance is a guest shutdown.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { EventBus } from '../events.ts';
import { Store } from '../store/index.ts';
import { PcapSink, SummaryBatcher, type PacketBatch } from './capture/consumers.ts';
import { PcapReader } from './capture/pcap.ts';
import { MachineService } from './service.ts';
import { echoImage } from './testing/echo-image.ts';
import type { RunRow } from './run-repo.ts';

const home = mkdtempSync(join(tmpdir(), 'kiln-mnet-'));
const store = Store.open(home);
store.appliances.create({ name: 'echo', template: null, config: {} });
const svc = new MachineService(store, new EventBus(), home, { sampleIntervalMs: 100 });
const tcpPort = 23000 + (process.pid % 10000);
const udpPort = tcpPort + 1;
let run: RunRow;

const waitFor = async (pred: () => boolean, ms = 20_000, what = 'condition') => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

before(async () => {
  const image = await echoImage();
  run = await svc.run({
    appliance: 'echo',
    image,
    accelerator: 'tcg',
    nics: [
      {
        mode: 'user',
        forwards: [
          { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: tcpPort, guestPort: 7 },
          { protocol: 'udp', hostAddress: '127.0.0.1', hostPort: udpPort, guestPort: 7 },
        ],
      },
    ],
  });
  await waitFor(() => svc.repo.consoleText(run.id).includes('kiln: ready'), 120_000, 'kiln: ready');
});

after(async () => {
  await svc.kill(run.id).catch(() => undefined);
  svc.close();
  store.close();
  rmSync(home, { recursive: true, force: true });
});

/** Sends each payload as one datagram and waits for its echo before the next. */
async function udpEcho(payloads: Buffer[]): Promise<Buffer[]> {
  const sock = createSocket('udp4');
  const got: Buffer[] = [];
  try {
    for (const p of payloads) {
      const answer = new Promise<Buffer>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no UDP echo within 20 s')), 20_000);
        sock.once('message', (m) => (clearTimeout(t), resolve(m)));
      });
      sock.send(p, udpPort, '127.0.0.1');
      got.push(await answer);
    }
  } finally {
    sock.close();
  }
  return got;
}

function tcpEcho(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect(tcpPort, '127.0.0.1');
    const chunks: Buffer[] = [];
    let n = 0;
    sock.setTimeout(20_000, () => sock.destroy(new Error('TCP echo timed out')));
    sock.on('connect', () => sock.write(data));
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      n += d.length;
      if (n >= data.length) sock.end();
    });
    sock.on('close', () => resolve(Buffer.concat(chunks)));
    sock.on('error', reject);
  });
}

/** The guest's latest counters of NIC 0, once they have stopped moving (one line a second). */
async function settledCounters() {
  const latest = () =>
    svc.repo
      .netSamples(run.id)
      .filter((s) => s.nic === 0)
      .at(-1)!;
  let prev = latest();
  for (;;) {
    await new Promise((r) => setTimeout(r, 1500));
    const now = latest();
    if (now.rxBytes === prev.rxBytes && now.txBytes === prev.txBytes) return now;
    prev = now;
  }
}

const ETH_IP_UDP = 14 + 20 + 8;

test('user-mode forwards carry UDP and TCP to the appliance; guest counters match what was sent', async () => {
  await udpEcho([Buffer.from('warm-up')]); // slirp learns the guest's MAC (ARP) on first use
  const before0 = await settledCounters();
  const payloads = Array.from({ length: 20 }, (_, i) => Buffer.alloc(100 + i * 37, 65 + i));
  const answers = await udpEcho(payloads);
  assert.deepEqual(answers, payloads);
  const after0 = await settledCounters();
  const sent = payloads.reduce((n, p) => n + ETH_IP_UDP + p.length, 0);
  // exactly one frame in and one out per datagram, of exactly the UDP/IPv4/Ethernet size
  assert.deepEqual(
    [after0.rxPackets - before0.rxPackets, after0.rxBytes - before0.rxBytes],
    [payloads.length, sent],
  );
  assert.deepEqual(
    [after0.txPackets - before0.txPackets, after0.txBytes - before0.txBytes],
    [payloads.length, sent],
  );

  const data = Buffer.alloc(20_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  assert.deepEqual(await tcpEcho(data), data);
  const after1 = await settledCounters();
  const rxFrames = after1.rxPackets - after0.rxPackets;
  const rxOverhead = after1.rxBytes - after0.rxBytes - data.length;
  const txOverhead = after1.txBytes - after0.txBytes - data.length;
  const txFrames = after1.txPackets - after0.txPackets;
  // every frame carries 14 (Ethernet) + 20 (IPv4) + 20..60 (TCP) bytes of headers around the data
  assert.ok(
    rxOverhead >= 54 * rxFrames && rxOverhead <= 94 * rxFrames,
    `rx ${rxOverhead} B over ${rxFrames}`,
  );
  assert.ok(
    txOverhead >= 54 * txFrames && txOverhead <= 94 * txFrames,
    `tx ${txOverhead} B over ${txFrames}`,
  );
  assert.ok(rxFrames >= Math.ceil(data.length / 1460) + 2, `${rxFrames} frames for ${data.length} B`);
  assert.equal(after1.rxDropped + after1.txDropped, 0);
});

test('an on-demand capture holds exactly the frames sent, live summaries included', async () => {
  const file = new PassThrough();
  const chunks: Buffer[] = [];
  file.on('data', (c: Buffer) => chunks.push(c));
  const sink = new PcapSink(file);
  const batches: PacketBatch[] = [];
  const batcher = new SummaryBatcher((b) => batches.push(b));
  const leaveSink = await svc.capture(run.id, 0, sink);
  const leaveView = await svc.capture(run.id, 0, batcher);
  const payloads = Array.from({ length: 10 }, (_, i) => Buffer.from(`capture datagram ${i} `.repeat(i + 1)));
  assert.deepEqual(await udpEcho(payloads), payloads);
  await waitFor(() => sink.frames >= 2 * payloads.length, 10_000, 'captured frames');
  await new Promise((r) => setTimeout(r, 300)); // nothing else may trickle in
  leaveSink();
  leaveView();
  const result = await sink.done;
  assert.equal(result.dropped, 0);

  const records = new PcapReader().push(Buffer.concat(chunks));
  assert.equal(records.length, 2 * payloads.length, 'only the datagrams and their echoes');
  records.forEach((r, i) => {
    const p = payloads[i >> 1]!;
    assert.equal(r.origLen, ETH_IP_UDP + p.length);
    assert.deepEqual(r.data.subarray(ETH_IP_UDP), p);
    assert.equal(r.data.readUInt16BE(14 + 20 + (i % 2 ? 0 : 2)), 7, 'to port 7, then from it');
  });
  const packets = batches.flatMap((b) => b.packets);
  assert.deepEqual(
    packets.map((s) => [s.direction, s.protocol, s.length, i7(s)]),
    payloads.flatMap((p) => [
      ['in', 'UDP', ETH_IP_UDP + p.length, 'to 7'],
      ['out', 'UDP', ETH_IP_UDP + p.length, 'from 7'],
    ]),
  );
  assert.equal(batches.at(-1)!.ended, 'stopped');

  if (spawnSync('tcpdump', ['--version']).status === 0) {
    const pcap = join(home, 'c.pcap');
    writeFileSync(pcap, Buffer.concat(chunks));
    const td = spawnSync('tcpdump', ['-nn', '-r', pcap], { encoding: 'utf8' });
    assert.equal(td.status, 0, td.stderr);
    const lines = td.stdout.trim().split('\n');
    assert.equal(lines.length, 2 * payloads.length);
    assert.match(lines[0]!, /IP 10\.0\.2\.2\.\d+ > 10\.0\.2\.15\.7: UDP, length 19/);
  }
  // the filter is gone with its last consumer, and the VM serves on
  await waitFor(() => !existsSync(join(run.attachment!.runDir, 'capture-0')), 5000, 'capture removed');
  assert.deepEqual(await udpEcho([Buffer.from('still here')]), [Buffer.from('still here')]);
  assert.equal(svc.repo.get(run.id)!.state, 'running');
});

function i7(s: { srcPort?: number; dstPort?: number }): string {
  return s.dstPort === 7 ? 'to 7' : s.srcPort === 7 ? 'from 7' : 'other';
}

test('a consumer that stops reading loses frames (counted), never the VM', async () => {
  // a writable that never finishes a write: after the file header, everything pushes back
  const stuck = new Writable({ highWaterMark: 1, write: () => undefined });
  const sink = new PcapSink(stuck);
  const leave = await svc.capture(run.id, 0, sink);
  const payloads = Array.from({ length: 30 }, (_, i) => Buffer.alloc(1000, i));
  assert.deepEqual(await udpEcho(payloads), payloads);
  await waitFor(() => sink.dropped >= 2 * payloads.length - 1, 10_000, 'dropped frames');
  assert.equal(sink.frames, 1, 'one frame written, then the stream pushed back');
  leave();
  stuck.destroy();
  assert.equal((await sink.done).frames, 1);
});

test('capturing a NIC that does not exist is refused with the range', async () => {
  await assert.rejects(
    svc.capture(run.id, 3, new SummaryBatcher(() => undefined)),
    /has 1 NIC\(s\): capture takes a NIC index from 0 to 0/,
  );
});

test('a compiled appliance stops gracefully (status 0), and its capture ends with the VM', async () => {
  const batches: PacketBatch[] = [];
  await svc.capture(run.id, 0, new SummaryBatcher((b) => batches.push(b)));
  const exit = await svc.stop(run.id, 60_000);
  assert.deepEqual([exit.state, exit.exitStatus], ['stopped', 0]);
  assert.match(svc.repo.consoleText(run.id), /kiln: shutdown requested\n[\s\S]*kiln: exit 0\n$/);
  assert.ok(!svc.repo.events(run.id).some((e) => e.kind === 'stop-timeout'));
  await waitFor(() => batches.at(-1)?.ended !== undefined, 5000, 'capture end');
  assert.equal(batches.at(-1)!.ended, 'the VM exited');
});
