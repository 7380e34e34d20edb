// Kiln statuses (kernel/ABI.md section 3): 0..63 the appliance's own, 64..95 a trap (64 + trap
// code; 94 invalid image, 95 base panic), 96..127 a CPU exception (96 + vector).
import type { MachineExit } from './types.ts';

const vectors: Record<number, string> = {
  0: '#DE divide error',
  1: '#DB debug',
  3: '#BP breakpoint',
  4: '#OF overflow',
  5: '#BR bound range',
  6: '#UD invalid opcode',
  7: '#NM device not available',
  8: '#DF double fault',
  10: '#TS invalid TSS',
  11: '#NP segment not present',
  12: '#SS stack fault',
  13: '#GP general protection',
  14: '#PF page fault',
  16: '#MF x87 error',
  17: '#AC alignment check',
  18: '#MC machine check',
  19: '#XM SIMD error',
};

export function describeStatus(status: number): { crashed: boolean; reason: string } {
  if (status < 64) return { crashed: false, reason: `exited with status ${status}` };
  if (status === 94) return { crashed: true, reason: 'invalid appliance image (status 94)' };
  if (status === 95) return { crashed: true, reason: 'kernel base panic (status 95)' };
  if (status < 96) return { crashed: true, reason: `trap ${status - 64} (status ${status})` };
  if (status < 128) {
    const v = status - 96;
    return {
      crashed: true,
      reason: `CPU exception ${v}${vectors[v] ? ` ${vectors[v]}` : ''} (status ${status})`,
    };
  }
  return { crashed: true, reason: `status ${status}` };
}

/** Applies the ABI's meaning of a guest status to an exit read from the hypervisor. */
export function classifyExit(exit: MachineExit): MachineExit {
  if (exit.exitStatus === null) return exit;
  const d = describeStatus(exit.exitStatus);
  return { ...exit, state: d.crashed ? 'crashed' : 'stopped', reason: d.reason };
}

/** Under Xen the status is only in the console: the base's last line `kiln: exit <status>`. */
export function statusFromConsole(text: string): number | null {
  const all = [...text.matchAll(/^kiln: exit (\d+)\s*$/gm)];
  const last = all.at(-1);
  return last ? Number(last[1]) : null;
}
