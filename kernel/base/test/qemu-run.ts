// Boots a Kiln image under real QEMU and reports what it printed and the status it exited with
// (ABI.md section 3). Used by the kernel's own tests and by other areas' tests.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KERNEL_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const KERNEL_BUILD_DIR = join(KERNEL_DIR, 'build');
/** The base with the C test appliance; choose its behaviour with `-append "test=<name>"`. */
export const TEST_IMAGE = join(KERNEL_BUILD_DIR, 'kiln-test.elf');
/** The base alone, which the Kiln linker extends with a compiled appliance. */
export const BASE_IMAGE = join(KERNEL_BUILD_DIR, 'kiln-base.elf');
/** A few-instruction PVH kernel: the boot benchmark's floor. */
export const FLOOR_IMAGE = join(KERNEL_BUILD_DIR, 'kiln-floor.elf');
export const QBOOT_ROM = '/usr/share/qemu/qboot.rom';

export type Accel = 'kvm' | 'tcg';
export type Machine = 'microvm' | 'q35' | 'pc';

/** Builds kernel/build/* with `make -C kernel` (serialised between concurrent test files). */
export function ensureKernelBuilt(): void {
  const r = spawnSync('flock', ['/tmp/kiln-kernel-build.lock', 'make', '-s', '-C', KERNEL_DIR], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`make -C kernel failed:\n${r.stdout}\n${r.stderr}`);
}

/** True when /dev/kvm exists and we may open it read-write. */
export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function defaultAccel(): Accel {
  return kvmUsable() ? 'kvm' : 'tcg';
}

export interface NetdevSpec {
  /** QEMU -netdev value without the id, e.g. `socket,udp=127.0.0.1:5000,localaddr=127.0.0.1:5001` */
  backend: string;
  mac?: string;
}

export interface BootOptions {
  image?: string;
  append?: string;
  accel?: Accel;
  /** appended to -accel, e.g. `,xen-version=0x40011,kernel-irqchip=split` */
  accelProps?: string;
  machine?: Machine;
  /** appended to -M, e.g. `,acpi=off` */
  machineProps?: string;
  memoryMiB?: number;
  netdevs?: NetdevSpec[];
  /** raw disk image files, attached as virtio-blk */
  disks?: string[];
  /** capture COM2, the stats channel (ABI.md section 4) */
  stats?: boolean;
  extraArgs?: string[];
  /** runs QEMU through this command prefix, e.g. ['ip', 'netns', 'exec', NS] */
  wrapper?: string[];
  timeoutMs?: number;
  /** called with each chunk of console output as it arrives */
  onOutput?: (chunk: string) => void;
  /** called once QEMU is started, with its process id */
  onSpawn?: (pid: number) => void;
}

export interface BootResult {
  stdout: string;
  stderr: string;
  /** Kiln status (ABI.md section 3) when QEMU exited through isa-debug-exit, else null */
  exitStatus: number | null;
  qemuExitCode: number | null;
  timedOut: boolean;
  /** COM2 lines when `stats` was set */
  stats: string;
  durationMs: number;
}

/** The QEMU command line for these options (fast firmware, no default devices). */
export function qemuArgs(opts: BootOptions, statsPath?: string): string[] {
  const machine = opts.machine ?? 'microvm';
  const accel = opts.accel ?? defaultAccel();
  const pci = machine !== 'microvm';
  const args = [
    '-M',
    machine + (opts.machineProps ?? ''),
    '-accel',
    accel + (opts.accelProps ?? ''),
    '-m',
    String(opts.memoryMiB ?? 64),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-serial',
    'stdio',
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ];
  if (existsSync(QBOOT_ROM)) args.push('-bios', QBOOT_ROM);
  if (statsPath)
    args.push(
      '-chardev',
      `file,id=kilnstats,path=${statsPath}`,
      '-device',
      'isa-serial,chardev=kilnstats,iobase=0x2f8,irq=3',
    );
  (opts.netdevs ?? []).forEach((n, i) => {
    args.push('-netdev', `${n.backend},id=net${i}`);
    const mac = n.mac ? `,mac=${n.mac}` : '';
    args.push('-device', `${pci ? 'virtio-net-pci' : 'virtio-net-device'},netdev=net${i}${mac}`);
  });
  (opts.disks ?? []).forEach((file, i) => {
    args.push('-drive', `id=disk${i},file=${file},format=raw,if=none`);
    args.push('-device', `${pci ? 'virtio-blk-pci' : 'virtio-blk-device'},drive=disk${i}`);
  });
  args.push('-kernel', opts.image ?? TEST_IMAGE);
  if (opts.append) args.push('-append', opts.append);
  args.push(...(opts.extraArgs ?? []));
  return args;
}

/** Boots the image and waits for QEMU to exit (or kills it after timeoutMs). */
export function bootImage(opts: BootOptions): Promise<BootResult> {
  const dir = opts.stats ? mkdtempSync(join(tmpdir(), 'kiln-boot-')) : undefined;
  const statsPath = dir ? join(dir, 'com2.txt') : undefined;
  const args = qemuArgs(opts, statsPath);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const [cmd, ...pre] = [...(opts.wrapper ?? []), 'qemu-system-x86_64'];
    const child = spawn(cmd!, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      opts.onOutput?.(c);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const durationMs = performance.now() - started;
      let stats = '';
      if (statsPath && existsSync(statsPath)) stats = readFileSync(statsPath, 'utf8');
      if (dir) rmSync(dir, { recursive: true, force: true });
      const exitStatus = !timedOut && code !== null && code % 2 === 1 ? code >> 1 : null;
      resolve({ stdout, stderr, exitStatus, qemuExitCode: code, timedOut, stats, durationMs });
    });
  });
}
