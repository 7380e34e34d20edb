// The QEMU implementation of Hypervisor: resolves 'auto' to the best accelerator this host
// proved it can use, then hands the launch to QemuVm.
import type { Attachment, Hypervisor, VmHandle } from '../hypervisor.ts';
import type { MachineSpec } from '../types.ts';
import { detectQemu, type QemuCapabilities } from './capabilities.ts';
import type { QemuHost } from './command-line.ts';
import { QemuVm } from './qemu-vm.ts';

export class QemuBackend implements Hypervisor {
  readonly name = 'qemu' as const;
  private caps: Promise<QemuCapabilities> | null = null;

  /**
   * `binary` replaces the detected QEMU for launches (e.g. a wrapper that runs QEMU inside a
   * network namespace); capabilities are still detected from the real one.
   */
  constructor(
    private readonly platform: NodeJS.Platform = process.platform,
    private readonly binary?: string,
  ) {}

  capabilities(): Promise<QemuCapabilities> {
    this.caps ??= detectQemu(this.platform);
    return this.caps;
  }

  async hostFor(spec: MachineSpec): Promise<QemuHost & { binary: string }> {
    const caps = await this.capabilities();
    if (!caps.binary) throw new Error(caps.problems[0] ?? 'QEMU not found');
    const accelerator = spec.accelerator === 'auto' ? caps.bestAccelerator : spec.accelerator;
    if (accelerator === 'kvm' && !caps.kvm.usable)
      throw new Error(caps.kvm.message.replace('Using TCG (slower).', 'Choose TCG instead.'));
    return {
      binary: caps.binary,
      platform: this.platform,
      accelerator,
      qbootPath: caps.qbootPath,
      version: caps.version ?? { major: 7, minor: 2 },
    };
  }

  async launch(spec: MachineSpec, runDir: string): Promise<VmHandle> {
    const host = await this.hostFor(spec);
    return QemuVm.launch(this.binary ?? host.binary, spec, host, runDir);
  }

  reattach(attachment: Attachment): Promise<VmHandle | null> {
    return QemuVm.reattach(attachment);
  }
}
