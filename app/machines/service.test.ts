// The machines service against real QEMU VMs and a real library database: console persisted
// from byte one, exit status and crashes, the console cap's gap marker, stats sampled from COM2
// and /proc, graceful stop, re-attach after an engine restart, and two VMs side by side.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EventBus } from '../events.ts';
import { Store } from '../store/index.ts';
import { MachineService } from './service.ts';
import { kernelBaseTestImage, pvhTestKernel } from './testing/pvh-test-kernel.ts';

const home = mkdtempSync(join(tmpdir(), 'kiln-msvc-'));
const image = pvhTestKernel();
const store = Store.open(home);
store.appliances.create({ name: 'demo', template: null, config: {} });
store.appliances.create({ name: 'other', template: null, config: {} });
const svc = new MachineService(store, new EventBus(), home, { sampleIntervalMs: 100, stopTimeoutMs: 500 });
after(() => {
  svc.close();
  store.close();
  rmSync(home, { recursive: true, force: true });
});

const waitFor = async (pred: () => boolean, ms = 8000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('a run is recorded with its console, exit status and boot time', async () => {
  const run = await svc.run({ appliance: 'demo', image, cmdline: 'x42', accelerator: 'tcg' });
  const exit = await svc.waitForExit(run.id);
  assert.deepEqual([exit.state, exit.exitStatus], ['stopped', 42]);
  const row = svc.repo.get(run.id)!;
  assert.equal(row.state, 'stopped');
  assert.equal(row.exitStatus, 42);
  assert.ok(row.bootMs !== null && row.bootMs > 0);
  assert.equal(svc.repo.consoleText(run.id), 'kiln pvh test kernel\nkiln: exit 42\n');
  assert.deepEqual(
    svc.repo.searchConsole('pvh').map((h) => h.runId),
    [run.id],
  );
});

test('a CPU exception status (ABI section 3) is a crash with its name', async () => {
  const run = await svc.run({ appliance: 'demo', image, cmdline: 'x110', accelerator: 'tcg' });
  const exit = await svc.waitForExit(run.id);
  assert.equal(exit.state, 'crashed');
  assert.match(exit.reason, /#PF page fault/);
  assert.equal(svc.repo.get(run.id)!.state, 'crashed');
});

test('the console cap drops the oldest output and marks the gap', async () => {
  const small = new MachineService(store, new EventBus(), home, { consoleCapBytes: 4096 });
  try {
    const run = await small.run({ appliance: 'demo', image, cmdline: 'c2000', accelerator: 'tcg' });
    await small.waitForExit(run.id);
    const text = small.repo.consoleText(run.id);
    assert.ok(Buffer.byteLength(text) < 4096 + 200, `kept ${text.length} bytes`);
    assert.match(text, /^\[kiln: \d+ bytes of older output dropped \(console cap 4096 bytes\)\]\n/);
    assert.ok(text.endsWith('chatter line 1999\nchatter done\nkiln: exit 0\n'));
    const dropped = Number(/(\d+) bytes/.exec(text)![1]);
    const full =
      'kiln pvh test kernel\n' +
      Array.from({ length: 2000 }, (_, i) => `chatter line ${i}\n`).join('') +
      'chatter done\nkiln: exit 0\n';
    assert.equal(
      dropped + Buffer.byteLength(text.slice(text.indexOf('\n') + 1)),
      Buffer.byteLength(full),
      'nothing lost silently',
    );
  } finally {
    small.close();
  }
});

test('stats from the guest channel and /proc are sampled and stored', async () => {
  const run = await svc.run({ appliance: 'demo', image, cmdline: 'e', accelerator: 'tcg' });
  await waitFor(() => svc.repo.consoleText(run.id).includes('kiln: ready'));
  svc.sendInput(run.id, 'abc');
  await waitFor(() => svc.repo.netSamples(run.id).some((s) => s.rxBytes === 3));
  const last = svc.repo.netSamples(run.id).at(-1)!;
  assert.deepEqual([last.rxBytes, last.rxPackets, last.txBytes, last.txPackets], [3, 3, 6, 3]);
  const host = svc.repo.hostSamples(run.id);
  assert.ok(host.length > 0 && host.every((h) => h.memoryBytes > 0));
  assert.equal(host.at(-1)!.guestMemUsed, 4096);
  assert.ok(svc.repo.get(run.id)!.readyMs! > 0, 'ready time recorded');
  svc.sendInput(run.id, 'q');
  assert.equal((await svc.waitForExit(run.id)).exitStatus, 0);
});

test('a graceful stop that the guest ignores ends with a kill', async () => {
  const run = await svc.run({ appliance: 'demo', image, cmdline: 'h', accelerator: 'tcg' });
  const exit = await svc.stop(run.id, 300);
  assert.equal(exit.state, 'stopped');
  assert.deepEqual(
    svc.repo
      .events(run.id)
      .map((e) => e.kind)
      .filter((k) => k.startsWith('stop')),
    ['stop-requested', 'stop-timeout', 'stopped'],
  );
});

test('two VMs at once keep separate consoles and counters', async () => {
  const a = await svc.run({ appliance: 'demo', image, cmdline: 'e', accelerator: 'tcg' });
  const b = await svc.run({ appliance: 'other', image, cmdline: 'e', accelerator: 'tcg' });
  await waitFor(
    () => svc.repo.consoleText(a.id).includes('ready') && svc.repo.consoleText(b.id).includes('ready'),
  );
  svc.sendInput(a.id, 'A');
  svc.sendInput(b.id, 'BBBB');
  await waitFor(
    () => svc.repo.netSamples(a.id).at(-1)?.rxBytes === 1 && svc.repo.netSamples(b.id).at(-1)?.rxBytes === 4,
  );
  await waitFor(
    () => svc.repo.consoleText(a.id).includes('>A') && svc.repo.consoleText(b.id).includes('>B>B>B>B'),
  );
  assert.ok(!svc.repo.consoleText(a.id).includes('>B'));
  assert.ok(!svc.repo.consoleText(b.id).includes('>A'));
  await Promise.all([svc.kill(a.id), svc.kill(b.id)]);
});

test('an engine restart re-attaches to a running VM, and marks a vanished one lost', async () => {
  const first = new MachineService(store, new EventBus(), home);
  const keep = await first.run({ appliance: 'demo', image, cmdline: 'e', accelerator: 'tcg' });
  const gone = await first.run({ appliance: 'other', image, cmdline: 'h', accelerator: 'tcg' });
  await waitFor(() => first.repo.consoleText(keep.id).includes('ready'));
  first.close(); // the engine goes away; the VMs stay
  const gonePid = first.repo.get(gone.id)!.pid!;
  process.kill(gonePid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 200));

  const second = new MachineService(store, new EventBus(), home);
  try {
    const result = await second.reattachAll();
    assert.deepEqual(result, { reattached: [keep.id], lost: [gone.id] });
    assert.equal(second.repo.get(gone.id)!.state, 'lost');
    second.sendInput(keep.id, 'r');
    await waitFor(() => second.repo.consoleText(keep.id).includes('>r'));
    assert.match(
      second.repo.consoleText(keep.id),
      /\[kiln: console not captured from .* \(engine restarted\)\]\n/,
    );
    second.sendInput(keep.id, 'q');
    const exit = await second.waitForExit(keep.id);
    assert.deepEqual([exit.state, exit.exitStatus], ['stopped', 0]);
  } finally {
    second.close();
  }
});

test('asking for Xen on a host without it fails with the reason, recorded on the run', async () => {
  await assert.rejects(svc.run({ appliance: 'demo', image, hypervisor: 'xen' }), /not a Xen dom0/);
  const run = svc.repo.list(1)[0]!;
  assert.equal(run.state, 'crashed');
  assert.match(run.exitReason ?? '', /not a Xen dom0/);
});

test(
  'the kernel base test image: hello exits 0, a null read is a #PF crash',
  { skip: kernelBaseTestImage() ? false : 'kernel/build/kiln-test.elf not built' },
  async () => {
    const kimage = kernelBaseTestImage()!;
    const ok = await svc.run({
      appliance: 'demo',
      image: kimage,
      cmdline: 'test=hello',
      accelerator: 'tcg',
      nics: [],
    });
    assert.deepEqual([(await svc.waitForExit(ok.id)).exitStatus, svc.repo.get(ok.id)!.state], [0, 'stopped']);
    assert.match(svc.repo.consoleText(ok.id), /hello from kiln[\s\S]*kiln: exit 0/);
    const bad = await svc.run({
      appliance: 'demo',
      image: kimage,
      cmdline: 'test=fault-null',
      accelerator: 'tcg',
      nics: [],
    });
    const exit = await svc.waitForExit(bad.id);
    assert.equal(exit.state, 'crashed');
    assert.equal(exit.exitStatus, 110);
    assert.match(exit.reason, /#PF page fault/);
  },
);

test(
  'a graceful stop is a guest shutdown: the kernel base ends by itself with status 0',
  { skip: kernelBaseTestImage() ? false : 'kernel/build/kiln-test.elf not built' },
  async () => {
    for (const machineType of ['microvm', 'q35'] as const) {
      const run = await svc.run({
        appliance: 'demo',
        image: kernelBaseTestImage()!,
        cmdline: 'test=idle',
        accelerator: 'tcg',
        machineType,
        nics: [],
      });
      await waitFor(() => svc.repo.consoleText(run.id).includes('kiln: ready'), 30_000);
      // a timeout far beyond any boot here: reaching it would mean the request was ignored
      const exit = await svc.stop(run.id, 60_000);
      assert.deepEqual([exit.state, exit.exitStatus], ['stopped', 0], machineType);
      assert.match(svc.repo.consoleText(run.id), /kiln: shutdown requested\nkiln: exit 0\n$/);
      assert.deepEqual(
        svc.repo
          .events(run.id)
          .map((e) => e.kind)
          .filter((k) => k.startsWith('stop')),
        ['stop-requested', 'stopped'],
        machineType,
      );
    }
  },
);

test(
  'a disk created and sized by Kiln is attached and used by the guest',
  { skip: kernelBaseTestImage() ? false : 'kernel/build/kiln-test.elf not built' },
  async () => {
    const disk = join(home, 'disks', 'data.img');
    const run = await svc.run({
      appliance: 'demo',
      image: kernelBaseTestImage()!,
      cmdline: 'test=blk',
      accelerator: 'tcg',
      nics: [],
      disks: [{ path: disk, sizeBytes: 1024 * 1024 }],
    });
    const exit = await svc.waitForExit(run.id);
    assert.equal(exit.exitStatus, 0, svc.repo.consoleText(run.id));
    assert.match(svc.repo.consoleText(run.id), /blk: ok/);
    assert.equal(statSync(disk).size, 1024 * 1024);
    assert.ok(readFileSync(disk).includes(Buffer.from('kiln wrote this')), 'the guest wrote to the disk');
    await assert.rejects(
      svc.run({ appliance: 'demo', image, disks: [{ path: join(home, 'nope.img') }] }),
      /does not exist/,
    );
  },
);
