// Known ways QEMU fails on hosts like ours, recognised from its stderr and turned into a
// sentence the user can act on instead of a raw QEMU error.

export interface FailureHint {
  problem: string;
  fix: string;
}

const rules: Array<{ test: RegExp; hint: FailureHint }> = [
  {
    test: /Could not access KVM kernel module|failed to initialize kvm|\/dev\/kvm/i,
    hint: {
      problem: 'KVM is not available on this host.',
      fix: 'Choose the TCG accelerator (slower), or enable virtualisation (VT-x/AMD-V, nested virtualisation in a VM) and load kvm_intel or kvm_amd; give your user access to /dev/kvm (group "kvm").',
    },
  },
  {
    test: /kvm_msr|MSR.*0x10a|ret < cpu->kvm_msr_buf->nmsrs|Assertion.*kvm.*msr/i,
    hint: {
      problem:
        'QEMU aborted setting up the CPU model under (nested) KVM: "-cpu host" and "-cpu max" are known to crash here.',
      fix: 'Use the default CPU model (Kiln does unless you add -cpu), or "-cpu host,-arch-capabilities".',
    },
  },
  {
    test: /vhost-net|vhost.*(No such file|failed)|\/dev\/vhost/i,
    hint: {
      problem: 'vhost-net is not available (no /dev/vhost-net).',
      fix: 'Leave vhost off (Kiln does by default), or load the vhost_net module (modprobe vhost_net).',
    },
  },
  {
    test: /KVM internal error/i,
    hint: {
      problem: 'The guest stopped with a KVM internal error, typically a triple fault under nested KVM.',
      fix: 'The appliance crashed very early (bad page tables or IDT); check its console, or run it under TCG to get a clean triple-fault report.',
    },
  },
  {
    test: /could not open disk image|Could not open '.*': (No such file|Permission denied)/i,
    hint: {
      problem: 'A disk or kernel image could not be opened.',
      fix: 'Check the path exists and is readable (and writable for disks).',
    },
  },
  {
    test: /could not set up host forwarding rule|Could not set up host forwarding/i,
    hint: {
      problem:
        'A port forward could not be bound on the host (the port is in use or the address is not local).',
      fix: 'Pick another host port, or stop whatever listens on it.',
    },
  },
  {
    test: /could not configure \/dev\/net\/tun|tap.*(Operation not permitted|Device or resource busy)/i,
    hint: {
      problem: 'The tap device could not be opened.',
      fix: 'Create a persistent tap owned by your user once: sudo ip tuntap add dev tap0 mode tap user $USER; sudo ip link set tap0 master br0 up.',
    },
  },
  {
    test: /bridge helper|qemu-bridge-helper/i,
    hint: {
      problem: "QEMU's bridge helper failed.",
      fix: 'Allow the bridge in /etc/qemu/bridge.conf ("allow br0") and make qemu-bridge-helper setuid, or use a persistent tap instead.',
    },
  },
  {
    test: /Error loading uncompressed kernel without PVH ELF Note|PVH ELF Note/i,
    hint: {
      problem: 'The image is not a PVH kernel.',
      fix: 'Rebuild the appliance: Kiln images carry the Xen PHYS32_ENTRY note.',
    },
  },
];

export function recogniseFailure(stderr: string): FailureHint | null {
  for (const r of rules) if (r.test.test(stderr)) return r.hint;
  return null;
}

/** The last meaningful line of QEMU's stderr, for the reason shown next to a failed run. */
export function lastErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.at(-1) ?? '';
}
