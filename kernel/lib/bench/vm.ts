// Runs a VM for `npm run bench:net` inside the benchmark's network namespace, on its TAP. The
// appliance and its Linux peer get the same QEMU command line from kernel/base/test/qemu-run.ts
// (machine, accelerator, memory, vCPUs, firmware, NIC); only -kernel, -initrd and -append differ.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { qemuArgs, type Accel } from '../../base/test/qemu-run.ts';

/** The settings both VMs of a pair share. */
export interface VmSettings {
  accel: Accel;
  memoryMiB: number;
}

export interface VmHandle {
  pid: number;
  output(): string;
  /** Resolves once the console printed `text` (rejects on exit or after timeoutMs). */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  /** Resident memory of the QEMU process (guest RAM it touched + QEMU itself), bytes. */
  rssBytes(): number;
  /** Guest CPU seconds so far (user + system time of the QEMU process). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export function bootVm(
  ns: string,
  tap: string,
  vm: VmSettings,
  boot: { kernel: string; initrd?: string; append?: string },
  /** more QEMU arguments (the guest profiler's gdb stub) */
  extraArgs: string[] = [],
): VmHandle {
  const args = qemuArgs({
    image: boot.kernel,
    append: boot.append,
    accel: vm.accel,
    memoryMiB: vm.memoryMiB,
    machine: 'microvm',
    netdevs: [{ backend: `tap,ifname=${tap},script=no,downscript=no`, mac: '52:54:00:12:34:56' }],
    extraArgs: [...(boot.initrd ? ['-initrd', boot.initrd] : []), ...extraArgs],
  });
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'qemu-system-x86_64', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exited = false;
  const waiters = new Set<() => void>();
  const onChunk = (c: Buffer): void => {
    out += c.toString('utf8');
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onChunk);
  child.stderr?.on('data', onChunk);
  child.on('exit', () => {
    exited = true;
    for (const w of waiters) w();
  });
  const pid = child.pid ?? 0; // `ip netns exec` execs QEMU: same process
  const stat = (): string[] => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return {
    pid,
    output: () => out,
    waitFor(text, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (out.includes(text)) done(null);
          else if (exited) done(new Error(`VM exited before "${text}":\n${out.slice(-3000)}`));
        };
        const timer = setTimeout(
          () => done(new Error(`no "${text}" within ${timeoutMs} ms:\n${out.slice(-3000)}`)),
          timeoutMs,
        );
        const done = (e: Error | null): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (e) reject(e);
          else resolve();
        };
        waiters.add(check);
        check();
      });
    },
    rssBytes() {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return Number(m?.[1] ?? NaN) * 1024;
    },
    cpuSeconds() {
      const f = stat(); // fields after "(comm) ": state is [0], utime [11], stime [12]
      return (Number(f[11]) + Number(f[12])) / 100;
    },
    stop() {
      return new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000);
      });
    },
  };
}
