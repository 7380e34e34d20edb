// The command line per platform and option. Only Linux runs QEMU here; macOS (HVF) and Windows
// (WHPX) are proven by the arguments they produce.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePortForward } from '../port-forwards.ts';
import type { MachineSpec } from '../types.ts';
import { buildQemuArgs, defaultMac, qemuBinaryName, type QemuHost } from './command-line.ts';
import { parseQemuVersion } from './capabilities.ts';
import { recogniseFailure } from './failure-hints.ts';

const paths = {
  qmpSocket: '/r/qmp.sock',
  consoleSocket: '/r/console.sock',
  statsSocket: '/r/stats.sock',
  pidFile: '/r/qemu.pid',
};
const spec: MachineSpec = {
  name: 'web',
  kernelPath: '/img/web.elf',
  cmdline: 'verbose',
  memoryMiB: 128,
  vcpus: 2,
  hypervisor: 'qemu',
  accelerator: 'auto',
  machineType: 'microvm',
  nics: [],
  disks: [],
};
const linux: QemuHost = {
  platform: 'linux',
  accelerator: 'kvm',
  qbootPath: '/usr/share/qemu/qboot.rom',
  version: { major: 7, minor: 2 },
};

function pairs(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

test('microvm under KVM: qboot, paused start, sockets, debug-exit, no -cpu', () => {
  const args = buildQemuArgs(spec, linux, paths);
  assert.deepEqual(pairs(args, '-M'), ['microvm']);
  assert.deepEqual(pairs(args, '-accel'), ['kvm']);
  assert.deepEqual(pairs(args, '-bios'), ['/usr/share/qemu/qboot.rom']);
  assert.ok(args.includes('-S') && args.includes('-no-reboot') && args.includes('-nodefaults'));
  assert.ok(!args.includes('-cpu'), 'no -cpu host/max (they abort under nested KVM)');
  assert.deepEqual(pairs(args, '-qmp'), ['unix:/r/qmp.sock,server=on,wait=off']);
  assert.deepEqual(pairs(args, '-chardev'), [
    'socket,id=con0,path=/r/console.sock,server=on,wait=off',
    'socket,id=stats0,path=/r/stats.sock,server=on,wait=off',
  ]);
  assert.deepEqual(pairs(args, '-device'), [
    'isa-serial,chardev=stats0,index=1',
    'isa-debug-exit,iobase=0xf4,iosize=0x04',
    'pvpanic',
  ]);
  assert.deepEqual([pairs(args, '-m'), pairs(args, '-smp')], [['128'], ['2']]);
  assert.deepEqual([pairs(args, '-kernel'), pairs(args, '-append')], [['/img/web.elf'], ['verbose']]);
});

test('q35 uses PCI devices and no qboot; empty cmdline adds no -append', () => {
  const s: MachineSpec = {
    ...spec,
    machineType: 'q35',
    cmdline: '',
    nics: [{ mode: 'user', forwards: [] }],
    disks: [{ path: '/d.img' }],
  };
  const args = buildQemuArgs(s, linux, paths);
  assert.deepEqual(pairs(args, '-M'), ['q35']);
  assert.ok(!args.includes('-bios') && !args.includes('-append'));
  assert.ok(pairs(args, '-device').includes(`virtio-net-pci,netdev=n0,mac=${defaultMac('web', 0)}`));
  assert.ok(pairs(args, '-device').includes('virtio-blk-pci,drive=d0'));
});

test('user networking: forwards bind loopback by default, several NICs, tap without vhost', () => {
  const s: MachineSpec = {
    ...spec,
    nics: [
      { mode: 'user', forwards: [parsePortForward('8080:80'), parsePortForward('0.0.0.0:5353:53/udp')] },
      { mode: 'tap', ifname: 'tap0', mac: '52:54:00:aa:bb:cc' },
      { mode: 'bridge', bridge: 'br0' },
    ],
  };
  const args = buildQemuArgs(s, linux, paths);
  assert.deepEqual(pairs(args, '-netdev'), [
    'user,id=n0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:0.0.0.0:5353-:53',
    'tap,id=n1,ifname=tap0,script=no,downscript=no',
    'bridge,id=n2,br=br0',
  ]);
  assert.ok(!args.join(' ').includes('vhost'));
  assert.ok(pairs(args, '-device').includes('virtio-net-device,netdev=n1,mac=52:54:00:aa:bb:cc'));
});

test('disks: raw virtio-blk, read-only when asked', () => {
  const args = buildQemuArgs(
    { ...spec, disks: [{ path: '/data.img' }, { path: '/ro.img', readOnly: true }] },
    linux,
    paths,
  );
  assert.deepEqual(pairs(args, '-drive'), [
    'id=d0,file=/data.img,format=raw,if=none',
    'id=d1,file=/ro.img,format=raw,if=none,readonly=on',
  ]);
  assert.ok(pairs(args, '-device').includes('virtio-blk-device,drive=d1'));
});

test('macOS (HVF) and Windows (WHPX) command lines, TCG fallback without qboot', () => {
  const mac = buildQemuArgs(
    spec,
    { platform: 'darwin', accelerator: 'hvf', qbootPath: null, version: { major: 10, minor: 0 } },
    paths,
  );
  assert.deepEqual(pairs(mac, '-accel'), ['hvf']);
  assert.ok(!mac.includes('-bios'));
  const win = buildQemuArgs(
    spec,
    {
      platform: 'win32',
      accelerator: 'whpx',
      qbootPath: 'C:\\qemu\\qboot.rom',
      version: { major: 9, minor: 1 },
    },
    paths,
  );
  assert.deepEqual(pairs(win, '-accel'), ['whpx']);
  assert.equal(qemuBinaryName('win32'), 'qemu-system-x86_64.exe');
  assert.equal(qemuBinaryName('darwin'), 'qemu-system-x86_64');
  const tcg = buildQemuArgs(spec, { ...linux, accelerator: 'tcg' }, paths);
  assert.deepEqual(pairs(tcg, '-accel'), ['tcg']);
});

test('MACs are stable, locally administered and distinct per NIC', () => {
  assert.equal(defaultMac('a', 0), defaultMac('a', 0));
  assert.notEqual(defaultMac('a', 0), defaultMac('a', 1));
  assert.match(defaultMac('a', 0), /^52:54:00(:[0-9a-f]{2}){3}$/);
});

test('QEMU versions 7.2 and 10.x are parsed', () => {
  assert.deepEqual(parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)'), {
    major: 7,
    minor: 2,
    micro: 22,
    text: '7.2.22',
  });
  assert.deepEqual(parseQemuVersion('QEMU emulator version 10.0.2\nCopyright'), {
    major: 10,
    minor: 0,
    micro: 2,
    text: '10.0.2',
  });
  assert.equal(parseQemuVersion('nonsense'), null);
});

test('known host failures are explained with a fix', () => {
  assert.match(
    recogniseFailure(
      'Could not access KVM kernel module: No such file or directory\nfailed to initialize kvm',
    )!.fix,
    /TCG/,
  );
  assert.match(
    recogniseFailure(
      "qemu-system-x86_64: ../target/i386/kvm/kvm.c:3040: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.",
    )!.fix,
    /default CPU model/,
  );
  assert.match(recogniseFailure('vhost-net requested but could not be initialized')!.fix, /vhost/);
  assert.match(
    recogniseFailure(
      "qemu-system-x86_64: -netdev user,id=n0,hostfwd=tcp:127.0.0.1:80-:80: could not set up host forwarding rule 'tcp:127.0.0.1:80-:80'",
    )!.fix,
    /another host port/,
  );
  assert.equal(recogniseFailure('all good'), null);
});
