// What this host can run, with a message the user can act on for everything it cannot.
// KVM is proven by starting QEMU with `-accel kvm` for a moment (opening /dev/kvm is not enough:
// nested setups may expose the node while KVM_CREATE_VM fails).
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { qemuBinaryName } from './command-line.ts';

const run = promisify(execFile);

export interface QemuCapabilities {
  binary: string | null;
  version: { major: number; minor: number; micro: number; text: string } | null;
  kvm: { usable: boolean; message: string };
  /** The accelerator 'auto' resolves to. */
  bestAccelerator: 'kvm' | 'tcg' | 'hvf' | 'whpx';
  qbootPath: string | null;
  problems: string[];
}

export const qbootCandidates = [
  '/usr/share/qemu/qboot.rom',
  '/usr/share/qboot/bios.bin',
  '/opt/homebrew/share/qemu/qboot.rom',
];

export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | null {
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '') continue;
    const full = join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // keep looking
    }
  }
  return null;
}

export function parseQemuVersion(text: string): QemuCapabilities['version'] {
  const m = /QEMU emulator version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    micro: Number(m[3] ?? 0),
    text: m[0].replace('QEMU emulator version ', ''),
  };
}

async function probeKvm(binary: string): Promise<{ usable: boolean; message: string }> {
  if (!existsSync('/dev/kvm')) {
    return {
      usable: false,
      message:
        '/dev/kvm does not exist: enable virtualisation in the firmware (or nested virtualisation for a VM) and load kvm_intel/kvm_amd. Using TCG (slower).',
    };
  }
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return {
      usable: false,
      message:
        'No permission on /dev/kvm: add your user to the "kvm" group and log in again. Using TCG (slower).',
    };
  }
  try {
    // `-M none` creates the VM (KVM_CREATE_VM) without any guest; QMP `quit` ends it at once.
    const child = execFile(
      binary,
      ['-M', 'none', '-accel', 'kvm', '-display', 'none', '-nodefaults', '-qmp', 'stdio'],
      {
        timeout: 5000,
      },
    );
    child.stdin?.end('{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n');
    const stderr: string[] = [];
    child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    if (code === 0) return { usable: true, message: 'KVM is usable.' };
    return {
      usable: false,
      message: `QEMU could not create a KVM VM (${stderr.join('').trim() || `exit ${code}`}). Using TCG (slower).`,
    };
  } catch (err) {
    return { usable: false, message: `KVM probe failed: ${(err as Error).message}` };
  }
}

export async function detectQemu(platform: NodeJS.Platform = process.platform): Promise<QemuCapabilities> {
  const problems: string[] = [];
  const binary = process.env.KILN_QEMU ?? findOnPath(qemuBinaryName(platform));
  const qbootPath = qbootCandidates.find((p) => existsSync(p)) ?? null;
  if (!binary) {
    problems.push(
      'qemu-system-x86_64 was not found: install QEMU (Debian/Ubuntu: apt install qemu-system-x86; macOS: brew install qemu).',
    );
    return {
      binary: null,
      version: null,
      kvm: { usable: false, message: 'QEMU missing' },
      bestAccelerator: 'tcg',
      qbootPath,
      problems,
    };
  }
  let version: QemuCapabilities['version'] = null;
  try {
    const { stdout } = await run(binary, ['-version'], { timeout: 5000 });
    version = parseQemuVersion(stdout);
  } catch (err) {
    problems.push(`${binary} -version failed: ${(err as Error).message}`);
  }
  let kvm = { usable: false, message: 'KVM exists only on Linux.' };
  let bestAccelerator: QemuCapabilities['bestAccelerator'] = 'tcg';
  if (platform === 'linux') {
    kvm = await probeKvm(binary);
    if (kvm.usable) bestAccelerator = 'kvm';
    else problems.push(kvm.message);
  } else if (platform === 'darwin') bestAccelerator = 'hvf';
  else if (platform === 'win32') bestAccelerator = 'whpx';
  if (!qbootPath)
    problems.push('qboot firmware not found: microvm falls back to SeaBIOS, which costs seconds per boot.');
  return { binary, version, kvm, bestAccelerator, qbootPath, problems };
}
