// What this host can do, detected for real (a binary that exists but cannot start a VM is not
// "available"), each with the one action that fixes it when missing.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { platform } from 'node:os';
import { detectQemu } from '../machines/qemu/capabilities.ts';

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

function qemuFix(): string {
  if (platform() === 'darwin') return 'brew install qemu';
  if (platform() === 'win32') return 'Install QEMU from qemu.org';
  return 'sudo apt-get install qemu-system-x86';
}

/** QEMU, KVM and qboot, from the same probe the machines service launches with. */
async function detectQemuFamily(): Promise<Pick<HostCapabilities, 'qemu' | 'kvm' | 'qboot'>> {
  const q = await detectQemu();
  const qemu: HostCapabilities['qemu'] = q.binary
    ? q.version
      ? {
          ok: true,
          binary: q.binary,
          version: q.version.text,
          detail: `QEMU ${q.version.text} at ${q.binary}`,
        }
      : { ok: false, binary: q.binary, detail: `${q.binary} does not report a version`, fix: qemuFix() }
    : { ok: false, detail: 'qemu-system-x86_64 not found on PATH', fix: qemuFix() };
  const kvm: Capability = q.kvm.usable
    ? { ok: true, detail: 'KVM is usable (QEMU created a VM with -accel kvm)' }
    : { ok: false, detail: q.kvm.message, fix: kvmFix(q.kvm.message) };
  const qboot: HostCapabilities['qboot'] = q.qbootPath
    ? { ok: true, path: q.qbootPath, detail: `qboot firmware at ${q.qbootPath} (fast microvm boots)` }
    : {
        ok: false,
        detail: 'qboot firmware not found: microvm falls back to SeaBIOS (seconds per boot)',
        fix: 'sudo apt-get install qemu-system-data',
      };
  return { qemu, kvm, qboot };
}

function kvmFix(message: string): string {
  if (platform() !== 'linux') return 'KVM exists only on Linux; Kiln uses HVF (macOS), WHPX (Windows) or TCG';
  if (/permission/i.test(message)) return 'sudo usermod -aG kvm $USER, then log in again';
  if (/does not exist/.test(message)) {
    return 'Enable virtualization in the firmware (or nested virtualization for a VM) and load kvm_intel or kvm_amd';
  }
  return 'Check that no other hypervisor holds VT-x/AMD-V';
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
  const [family, xen, docker] = await Promise.all([detectQemuFamily(), detectXen(), detectDocker()]);
  return { ...family, xen, docker };
}
