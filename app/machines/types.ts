// Shared vocabulary of the machines area: what a run asks for, the states it goes through, and
// the events the engine and UI observe. Hypervisor backends translate a MachineSpec into their
// own launch; everything above them speaks only these types.

export type HypervisorName = 'qemu' | 'xen';
export type Accelerator = 'kvm' | 'tcg' | 'hvf' | 'whpx' | 'auto';
export type QemuMachineType = 'microvm' | 'q35';

/** `[hostip:]hostport:guestport[/udp]`, parsed. */
export interface PortForward {
  protocol: 'tcp' | 'udp';
  hostAddress: string;
  hostPort: number;
  guestPort: number;
}

export type NicSpec =
  | { mode: 'user'; forwards: PortForward[]; mac?: string }
  | { mode: 'tap'; ifname: string; mac?: string }
  | { mode: 'bridge'; bridge: string; mac?: string };

export interface DiskSpec {
  path: string;
  /** Created (sparse) when missing, with this size. */
  sizeBytes?: number;
  readOnly?: boolean;
}

export interface MachineSpec {
  name: string;
  kernelPath: string;
  cmdline: string;
  memoryMiB: number;
  vcpus: number;
  hypervisor: HypervisorName;
  accelerator: Accelerator;
  machineType: QemuMachineType;
  nics: NicSpec[];
  disks: DiskSpec[];
}

export type MachineState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'crashed' | 'lost';

export const finalStates: ReadonlySet<MachineState> = new Set(['stopped', 'crashed', 'lost']);

/** Why a run ended, as far as the host can tell. */
export interface MachineExit {
  state: 'stopped' | 'crashed' | 'lost';
  /** Guest exit status (isa-debug-exit / SCHEDOP_shutdown), when the guest chose one. */
  exitStatus: number | null;
  /** Short human reason: "guest exited", "triple fault", "killed", "QEMU error: …". */
  reason: string;
  /** An actionable fix for a known host problem, when one was recognised. */
  hint?: string;
}

export interface MachineEvent {
  at: number;
  kind: string;
  detail?: string;
}

/** Counters of one NIC at one instant (cumulative, as published). */
export interface NicCounters {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  rxDropped: number;
  txDropped: number;
}

/** One stats sample of a run: host view of the VM process plus per-NIC counters. */
export interface StatsSample {
  at: number;
  /** Host CPU % of the VM process over the last interval (100 = one core). */
  cpuPercent: number;
  /** Resident memory of the VM process, bytes. */
  memoryBytes: number;
  nics: NicCounters[];
}
