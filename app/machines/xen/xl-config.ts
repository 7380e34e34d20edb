// Generates the xl.cfg of a PVH unikernel run. xl.cfg strings are double-quoted with C-like
// escapes; every value Kiln writes goes through `quote`, so a cmdline with quotes or backslashes
// cannot break the file (tests feed every generated config to libxl's own parser).
import type { MachineSpec, NicSpec } from '../types.ts';
import { defaultMac } from '../qemu/command-line.ts';

export function quote(value: string): string {
  if (/[\n\r\0]/.test(value)) throw new Error('xl.cfg values cannot contain newlines or NUL');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Domain names: xl accepts most characters, Kiln keeps to a safe set and a prefix. */
export function domainName(spec: MachineSpec, runId: number): string {
  return `kiln-${spec.name.replace(/[^A-Za-z0-9_.-]/g, '-')}-${runId}`;
}

function vifSpec(nic: NicSpec, mac: string): string {
  switch (nic.mode) {
    case 'bridge':
      return `mac=${mac},bridge=${nic.bridge}`;
    case 'tap':
      // On Xen the backend device is vifD.N; "tap" here means: attach it to this bridge.
      return `mac=${mac},bridge=${nic.ifname}`;
    case 'user':
      throw new Error('Xen has no user-mode networking: choose a bridge (e.g. xenbr0) for each NIC.');
  }
}

export const defaultXenBridge = 'xenbr0';

export function buildXlConfig(spec: MachineSpec, runId: number): string {
  const lines = [
    `name = ${quote(domainName(spec, runId))}`,
    'type = "pvh"',
    `kernel = ${quote(spec.kernelPath)}`,
    `cmdline = ${quote(spec.cmdline)}`,
    `memory = ${Math.max(1, Math.round(spec.memoryMiB))}`,
    `vcpus = ${Math.max(1, Math.round(spec.vcpus))}`,
  ];
  if (spec.nics.length > 0) {
    const vifs = spec.nics.map((n, i) => quote(vifSpec(n, n.mac ?? defaultMac(spec.name, i))));
    lines.push(`vif = [ ${vifs.join(', ')} ]`);
  }
  if (spec.disks.length > 0) {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const disks = spec.disks.map((d, i) =>
      quote(`format=raw,vdev=xvd${letters[i]},access=${d.readOnly ? 'ro' : 'rw'},target=${d.path}`),
    );
    lines.push(`disk = [ ${disks.join(', ')} ]`);
  }
  // The appliance's exit ends the domain; a crash keeps it for inspection (xl list shows it).
  lines.push('on_poweroff = "destroy"', 'on_reboot = "destroy"', 'on_crash = "preserve"');
  return lines.join('\n') + '\n';
}
