// The one small interface every hypervisor backend implements. The machine manager drives runs
// through it and never sees QEMU or xl details.
import type { EventEmitter } from 'node:events';
import type { HypervisorName, MachineEvent, MachineExit, MachineSpec } from './types.ts';

/** JSON-serialisable facts needed to find a running VM again after the engine restarts. */
export interface Attachment {
  hypervisor: HypervisorName;
  /** Host process of the VM (QEMU) or null (Xen domains have a domid instead). */
  pid: number | null;
  domid?: number;
  runDir: string;
  sockets: Record<string, string>;
  commandLine: string[];
}

export interface VmEvents {
  /** Guest console bytes, in order, from the first one. */
  console: [Buffer];
  /** Bytes of the stats channel (COM2 on QEMU). */
  stats: [Buffer];
  /** Lifecycle facts worth a line in the events timeline. */
  event: [MachineEvent];
  paused: [];
  resumed: [];
  /** Emitted once; the handle is dead afterwards. */
  exit: [MachineExit];
}

export interface VmHandle extends EventEmitter<VmEvents> {
  readonly attachment: Attachment;
  readonly accelerator: string;
  /** Lets a freshly launched guest run (launch returns it paused, before its first instruction). */
  start(): Promise<void>;
  writeConsole(data: Buffer | string): void;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Ask the guest to shut down (the base's stats channel and the ACPI power button / xl shutdown). May be ignored. */
  requestShutdown(): Promise<void>;
  /** Adds a packet dump (pcap) of NIC `nic` into `file` on the running VM; returns its id. QEMU only. */
  addPacketDump?(nic: number, file: string): Promise<string>;
  removePacketDump?(id: string): Promise<void>;
  /** Ends the VM now. */
  kill(): Promise<void>;
  /** Drops the engine's connections and leaves the VM running (engine shutdown, detached runs). */
  detach(): void;
}

export interface Hypervisor {
  readonly name: HypervisorName;
  /** Creates the VM paused; the caller attaches its listeners, then calls start(). */
  launch(spec: MachineSpec, runDir: string): Promise<VmHandle>;
  /** Re-attaches to a VM left by a previous engine, or returns null if it is gone. */
  reattach(attachment: Attachment): Promise<VmHandle | null>;
}
