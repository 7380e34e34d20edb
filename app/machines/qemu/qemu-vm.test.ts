// Real QEMU, real guest (the minimal PVH test kernel): console from byte one, exit status,
// crash detection, kill, pause/resume, console input, re-attach. TCG always; KVM when usable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pvhTestKernel } from '../testing/pvh-test-kernel.ts';
import type { MachineExit, MachineSpec } from '../types.ts';
import { QemuBackend } from './qemu-backend.ts';
import type { VmHandle } from '../hypervisor.ts';

const base = mkdtempSync(join(tmpdir(), 'kiln-qvm-'));
after(() => rmSync(base, { recursive: true, force: true }));
const backend = new QemuBackend();
let n = 0;

function spec(cmdline: string, accelerator: MachineSpec['accelerator'] = 'tcg'): MachineSpec {
  return {
    name: `t${n}`,
    kernelPath: pvhTestKernel(),
    cmdline,
    memoryMiB: 32,
    vcpus: 1,
    hypervisor: 'qemu',
    accelerator,
    machineType: 'microvm',
    nics: [],
    disks: [],
  };
}

async function runToExit(vm: VmHandle): Promise<{ out: string; exit: MachineExit }> {
  const chunks: Buffer[] = [];
  vm.on('console', (d) => chunks.push(d));
  const exited = new Promise<MachineExit>((r) => vm.once('exit', r));
  await vm.start();
  const exit = await exited;
  return { out: Buffer.concat(chunks).toString(), exit };
}

const waitFor = async (pred: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const kvmUsable = (await backend.capabilities()).kvm.usable;

for (const accel of ['tcg', 'kvm'] as const) {
  describe(
    `QEMU VM under ${accel}`,
    { skip: accel === 'kvm' && !kvmUsable ? 'KVM is not usable on this host' : false },
    () => {
      test('console is captured from the first byte and the exit status is read', async () => {
        const vm = await backend.launch(spec('x42', accel), join(base, `r${n++}`));
        const { out, exit } = await runToExit(vm);
        assert.ok(out.startsWith('kiln pvh test kernel\n'), JSON.stringify(out));
        assert.deepEqual([exit.state, exit.exitStatus], ['stopped', 42]);
      });

      test('a triple fault is reported as a crash', async () => {
        const vm = await backend.launch(spec('t', accel), join(base, `r${n++}`));
        const { exit } = await runToExit(vm);
        assert.equal(exit.state, 'crashed', exit.reason);
      });
    },
  );
}

test('a pvpanic is reported as a crash', async () => {
  const vm = await backend.launch(spec('p'), join(base, `r${n++}`));
  const { exit } = await runToExit(vm);
  assert.equal(exit.state, 'crashed');
  assert.match(exit.reason, /panic/);
});

test('console input reaches the guest and its stats line comes back on COM2', async () => {
  const vm = await backend.launch(spec('e'), join(base, `r${n++}`));
  let out = '';
  let stats = '';
  vm.on('console', (d) => (out += d.toString()));
  vm.on('stats', (d) => (stats += d.toString()));
  await vm.start();
  await waitFor(() => out.includes('kiln: ready'));
  vm.writeConsole('ab');
  await waitFor(() => out.includes('>a>b') && stats.split('\n').length > 2);
  assert.ok(
    stats.startsWith(
      'kiln-stats 1 t=0 mem=4096/33554432 net0=1/1/0/2/1/0\nkiln-stats 1 t=0 mem=4096/33554432 net0=2/2/0/4/2/0\n',
    ),
    stats,
  );
  const done = new Promise<MachineExit>((r) => vm.once('exit', r));
  vm.writeConsole('q');
  const exit = await done;
  assert.deepEqual([exit.state, exit.exitStatus], ['stopped', 0]);
});

test('pause, resume and kill', async () => {
  const vm = await backend.launch(spec('h'), join(base, `r${n++}`));
  await vm.start();
  const paused = new Promise<void>((r) => vm.once('paused', r));
  await vm.pause();
  await paused;
  const resumed = new Promise<void>((r) => vm.once('resumed', r));
  await vm.resume();
  await resumed;
  const done = new Promise<MachineExit>((r) => vm.once('exit', r));
  await vm.kill();
  const exit = await done;
  assert.equal(exit.state, 'stopped');
  assert.equal(exit.reason, 'killed');
});

test('re-attach to a running VM after the first handle detaches', async () => {
  const vm = await backend.launch(spec('e'), join(base, `r${n++}`));
  let out = '';
  vm.on('console', (d) => (out += d.toString()));
  await vm.start();
  await waitFor(() => out.includes('kiln: ready'));
  const attachment = structuredClone(vm.attachment);
  vm.detach();
  const again = await backend.reattach(attachment);
  assert.ok(again, 'reattached');
  let out2 = '';
  again.on('console', (d) => (out2 += d.toString()));
  again.writeConsole('z');
  await waitFor(() => out2.includes('>z'));
  const done = new Promise<MachineExit>((r) => again.once('exit', r));
  again.writeConsole('q');
  const exit = await done;
  assert.deepEqual([exit.state, exit.exitStatus], ['stopped', 0]);
  assert.equal(await backend.reattach(attachment), null, 'a finished VM cannot be re-attached');
});

test(
  'asking for KVM where it is unusable says why and what to do',
  { skip: kvmUsable ? 'KVM is usable here' : false },
  async () => {
    await assert.rejects(backend.launch(spec('x1', 'kvm'), join(base, `r${n++}`)), /TCG/);
  },
);

test('a QEMU start failure is explained', async () => {
  const s = spec('x1');
  s.kernelPath = '/nonexistent/kernel.elf';
  await assert.rejects(backend.launch(s, join(base, `r${n++}`)), /QEMU failed to start/);
});
