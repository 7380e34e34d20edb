// Turns a MachineSpec into a QEMU argument vector. Pure: everything host-specific (which
// accelerator works, whether qboot exists, the QEMU version) arrives in `QemuHost`, so every
// platform's command line (KVM, TCG, HVF on macOS, WHPX on Windows) is unit-tested here even
// though only Linux runs it.
import type { MachineSpec, NicSpec } from '../types.ts';

export interface QemuHost {
  platform: NodeJS.Platform;
  /** The accelerator actually chosen (never 'auto' here). */
  accelerator: 'kvm' | 'tcg' | 'hvf' | 'whpx';
  /** Path of qboot.rom when present: SeaBIOS's microvm build costs seconds per boot. */
  qbootPath: string | null;
  version: { major: number; minor: number };
}

/** Where the engine meets the VM: all sockets are created by QEMU and connected to by the engine. */
export interface QemuRunPaths {
  qmpSocket: string;
  consoleSocket: string;
  /** The guest's second serial port (COM2), on which the kernel base publishes its counters. */
  statsSocket: string;
  pidFile: string;
}

export const debugExitPort = 0xf4;

function nicDevice(spec: MachineSpec): string {
  return spec.machineType === 'microvm' ? 'virtio-net-device' : 'virtio-net-pci';
}

function netdevArg(nic: NicSpec, id: string): string {
  switch (nic.mode) {
    case 'user': {
      const fwds = nic.forwards.map(
        (f) =>
          `,hostfwd=${f.protocol}:${f.hostAddress.includes(':') ? `[${f.hostAddress}]` : f.hostAddress}:${f.hostPort}-:${f.guestPort}`,
      );
      return `user,id=${id}${fwds.join('')}`;
    }
    case 'tap':
      // No vhost: /dev/vhost-net is often absent (and QEMU 7.2 aborts on vhost=on without it).
      return `tap,id=${id},ifname=${nic.ifname},script=no,downscript=no`;
    case 'bridge':
      return `bridge,id=${id},br=${nic.bridge}`;
  }
}

/** Locally administered MAC derived from the run name and NIC index, stable across restarts. */
export function defaultMac(name: string, index: number): string {
  let h = 2166136261;
  for (const ch of `${name}#${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const b = [0x52, 0x54, 0x00, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function buildQemuArgs(spec: MachineSpec, host: QemuHost, paths: QemuRunPaths): string[] {
  const args: string[] = [];
  const microvm = spec.machineType === 'microvm';
  args.push('-name', `${spec.name},debug-threads=on`);
  args.push('-M', microvm ? 'microvm' : 'q35');
  args.push('-accel', host.accelerator);
  // Deliberately no `-cpu host`/`max`: under nested KVM they abort on MSR 0x10a; the default
  // model boots everywhere.
  args.push('-m', String(spec.memoryMiB), '-smp', String(spec.vcpus));
  args.push('-nodefaults', '-no-user-config', '-display', 'none');
  // A triple fault must end the run (and be reported as a crash), not reboot in a loop.
  args.push('-no-reboot');
  if (microvm && host.qbootPath) args.push('-bios', host.qbootPath);
  // Start paused: the engine attaches to the console before the first instruction runs, then
  // sends `cont`. Nothing the guest prints can be lost.
  args.push('-S');
  args.push('-qmp', `unix:${paths.qmpSocket},server=on,wait=off`);
  args.push('-pidfile', paths.pidFile);
  args.push('-chardev', `socket,id=con0,path=${paths.consoleSocket},server=on,wait=off`);
  args.push('-serial', 'chardev:con0');
  args.push('-chardev', `socket,id=stats0,path=${paths.statsSocket},server=on,wait=off`);
  args.push('-device', 'isa-serial,chardev=stats0,index=1');
  args.push('-device', `isa-debug-exit,iobase=0x${debugExitPort.toString(16)},iosize=0x04`);
  args.push('-device', 'pvpanic');
  spec.nics.forEach((nic, i) => {
    const id = `n${i}`;
    args.push('-netdev', netdevArg(nic, id));
    args.push('-device', `${nicDevice(spec)},netdev=${id},mac=${nic.mac ?? defaultMac(spec.name, i)}`);
  });
  spec.disks.forEach((disk, i) => {
    const id = `d${i}`;
    args.push(
      '-drive',
      `id=${id},file=${disk.path},format=raw,if=none${disk.readOnly ? ',readonly=on' : ''}`,
    );
    args.push('-device', `${microvm ? 'virtio-blk-device' : 'virtio-blk-pci'},drive=${id}`);
  });
  args.push('-kernel', spec.kernelPath);
  if (spec.cmdline !== '') args.push('-append', spec.cmdline);
  return args;
}

/** Binary name per platform (QEMU's Windows build ships `.exe`). */
export function qemuBinaryName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'qemu-system-x86_64.exe' : 'qemu-system-x86_64';
}
