// The Xen backend's command sequence and state handling. A real Xen launch needs a hypervisor
// and dom0, which this machine lacks: that test skips itself with the reason. The sequence test
// drives the backend through a recording `xl` that answers as xl(1) documents.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import type { MachineExit, MachineSpec } from '../types.ts';
import { isDom0, XenBackend, type XlRunner } from './xen-backend.ts';

const dir = mkdtempSync(join(tmpdir(), 'kiln-xen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const spec: MachineSpec = {
  name: 'web',
  kernelPath: '/img/web.elf',
  cmdline: 'x',
  memoryMiB: 64,
  vcpus: 1,
  hypervisor: 'xen',
  accelerator: 'auto',
  machineType: 'microvm',
  nics: [{ mode: 'bridge', bridge: 'xenbr0' }],
  disks: [],
};

test('launch: create paused, attach the PV console, unpause; exit status from the console line', async () => {
  const calls: string[] = [];
  let state = '--p---';
  const consoleOut = new PassThrough();
  const consoleIn = new PassThrough();
  const typed: string[] = [];
  consoleIn.on('data', (d: Buffer) => typed.push(d.toString()));
  const xl: XlRunner = {
    async run(args) {
      calls.push(args.join(' '));
      if (args[0] === 'domid') return { code: 0, stdout: '12\n', stderr: '' };
      if (args[0] === 'unpause') state = '-b----';
      if (args[0] === 'list') {
        return {
          code: 0,
          stdout: `Name ID Mem VCPUs State Time(s)\nkiln-web-5 12 64 1 ${state} 0.1\n`,
          stderr: '',
        };
      }
      return { code: 0, stdout: '', stderr: '' };
    },
    spawn(args) {
      calls.push(`spawn ${args.join(' ')}`);
      return Object.assign(new EventEmitter(), {
        stdout: consoleOut,
        stdin: consoleIn,
        kill: () => true,
      }) as unknown as ChildProcess;
    },
  };
  const vm = await new XenBackend(xl).launch(spec, join(dir, 'run-5'));
  assert.deepEqual(calls, [
    `create -p ${join(dir, 'run-5', 'domain.cfg')}`,
    'domid kiln-web-5',
    'spawn console -t pv kiln-web-5',
  ]);
  assert.match(readFileSync(join(dir, 'run-5', 'domain.cfg'), 'utf8'), /^type = "pvh"$/m);
  assert.equal(vm.attachment.domid, 12);
  const out: string[] = [];
  vm.on('console', (d) => out.push(d.toString()));
  await vm.start();
  assert.equal(calls.at(-1), 'unpause kiln-web-5');
  vm.writeConsole('hello');
  assert.deepEqual(typed, ['hello']);
  consoleOut.write('booting\nkiln: exit 3\n');
  const exited = new Promise<MachineExit>((r) => vm.once('exit', r));
  state = '---s--';
  const keepAlive = setInterval(() => undefined, 100); // the backend's own poll timer is unref'd
  const exit = await exited;
  clearInterval(keepAlive);
  assert.deepEqual([exit.state, exit.exitStatus], ['stopped', 3]);
  assert.equal(out.join(''), 'booting\nkiln: exit 3\n');
});

test(
  'launch under a real Xen hypervisor',
  {
    skip: isDom0()
      ? false
      : 'no Xen hypervisor here (not dom0): the Xen backend has not been run on real Xen',
  },
  async () => {
    // Only reachable in dom0: boots the test kernel's sibling PVH image through xl.
    const vm = await new XenBackend().launch({ ...spec, nics: [] }, join(dir, 'run-1'));
    await vm.start();
    await vm.kill();
  },
);
