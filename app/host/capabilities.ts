// What this host can do, detected for real (a binary that exists but cannot start a VM is not
// "available"), each with the one action that fixes it when missing.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { request } from 'node:http';
import { platform } from 'node:os';

export interface Capability {
  ok: boolean;
  /** what was found, e.g. "QEMU 7.2.15 at /usr/bin/qemu-system-x86_64" */
  detail: string;
  /** the one action that fixes it, when not ok */
  fix?: string;
}

export interface HostCapabilities {
  qemu: Capability & { binary?: string; version?: string };
  kvm: Capability;
  qboot: Capability & { path?: string };
  xen: Capability & { dom0?: boolean };
  docker: Capability;
}

function run(cmd: string, args: string[], timeoutMs = 5000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

function probeQemu(qemu: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, out: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out });
    });
    child.stdin.end('quit\n');
  });
}

export function findQemu(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KILN_QEMU) return env.KILN_QEMU;
  const dirs = (env.PATH ?? '/usr/bin:/bin').split(':');
  for (const d of dirs) {
    const p = `${d}/qemu-system-x86_64`;
    if (existsSync(p)) return p;
  }
  return undefined;
}

async function detectQemu(): Promise<HostCapabilities['qemu']> {
  const binary = findQemu();
  const fix =
    platform() === 'darwin'
      ? 'brew install qemu'
      : platform() === 'win32'
        ? 'Install QEMU from qemu.org'
        : 'sudo apt-get install qemu-system-x86';
  if (!binary) return { ok: false, detail: 'qemu-system-x86_64 not found on PATH', fix };
  const r = await run(binary, ['--version']);
  const m = /version ([0-9][^\s,]*)/.exec(r.out);
  if (r.code !== 0 || !m)
    return { ok: false, binary, detail: `${binary} does not run: ${r.out.trim()}`, fix };
  return { ok: true, binary, version: m[1]!, detail: `QEMU ${m[1]} at ${binary}` };
}

/** KVM is usable when QEMU can actually create a VM with it, not merely when /dev/kvm exists. */
async function detectKvm(qemu: string | undefined): Promise<Capability> {
  if (platform() !== 'linux')
    return { ok: false, detail: 'KVM exists only on Linux (HVF on macOS, WHPX on Windows)' };
  if (!existsSync('/dev/kvm')) {
    return {
      ok: false,
      detail: '/dev/kvm is missing',
      fix: 'Enable virtualization in the firmware and load the kvm module: sudo modprobe kvm_intel (or kvm_amd)',
    };
  }
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return {
      ok: false,
      detail: '/dev/kvm exists but this user cannot open it',
      fix: 'sudo usermod -aG kvm $USER, then log in again',
    };
  }
  if (!qemu)
    return {
      ok: false,
      detail: '/dev/kvm is accessible, but QEMU is missing to use it',
      fix: 'sudo apt-get install qemu-system-x86',
    };
  // An empty machine with KVM: QEMU fails at start when KVM cannot be used; "quit" on the
  // monitor ends it otherwise. Takes tens of milliseconds.
  const r = await probeQemu(qemu, [
    '-M',
    'none',
    '-accel',
    'kvm',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-S',
    '-monitor',
    'stdio',
  ]);
  if (r.code === 0) return { ok: true, detail: 'KVM is usable (QEMU created a VM with -accel kvm)' };
  return {
    ok: false,
    detail: `QEMU cannot use KVM: ${r.out.trim().split('\n')[0]}`,
    fix: 'Check that no other hypervisor holds VT-x/AMD-V, and that nested virtualization is on in a VM',
  };
}

function detectQboot(): HostCapabilities['qboot'] {
  for (const p of ['/usr/share/qemu/qboot.rom', '/usr/share/qemu/qboot.bin']) {
    if (existsSync(p)) return { ok: true, path: p, detail: `qboot firmware at ${p} (fast microvm boots)` };
  }
  return {
    ok: false,
    detail: 'qboot firmware not found: microvm falls back to SeaBIOS (seconds per boot)',
    fix: 'sudo apt-get install qemu-system-data',
  };
}

async function detectXen(): Promise<HostCapabilities['xen']> {
  const r = await run('xl', ['info'], 3000);
  if (r.code === 127)
    return {
      ok: false,
      detail: '`xl` not found: not a Xen host',
      fix: 'Install Xen (sudo apt-get install xen-system-amd64) and boot into it',
    };
  if (r.code !== 0)
    return {
      ok: false,
      dom0: false,
      detail: `xl exists but this is not a running Xen dom0: ${r.out.trim().split('\n')[0]}`,
      fix: 'Boot the machine into Xen and run Kiln in dom0 as root',
    };
  return { ok: true, dom0: true, detail: 'Xen dom0: xl answers' };
}

function detectDocker(
  socket = process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') ?? '/var/run/docker.sock',
): Promise<Capability> {
  const fix =
    platform() === 'linux'
      ? 'sudo apt-get install docker.io && sudo systemctl start docker'
      : 'Install and start Docker Desktop';
  return new Promise((resolve) => {
    if (!existsSync(socket)) {
      resolve({ ok: false, detail: `no Docker socket at ${socket}`, fix });
      return;
    }
    const req = request({ socketPath: socket, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(
        res.statusCode === 200
          ? { ok: true, detail: `Docker daemon answers at ${socket}` }
          : { ok: false, detail: `Docker daemon answered ${res.statusCode}`, fix },
      );
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) =>
      resolve({ ok: false, detail: `Docker daemon does not answer at ${socket}: ${e.message}`, fix }),
    );
    req.end();
  });
}

export async function detectCapabilities(): Promise<HostCapabilities> {
  const qemu = await detectQemu();
  const [kvm, xen, docker] = await Promise.all([detectKvm(qemu.binary), detectXen(), detectDocker()]);
  return { qemu, kvm, qboot: detectQboot(), xen, docker };
}
