// The machines service: owns every run of the engine. Launches through a Hypervisor backend,
// records console and samples in the library, follows the lifecycle, re-attaches to VMs left
// running by a previous engine (or marks them lost), and feeds live subscribers.
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KilnError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import { processAlive } from '../store/recovery.ts';
import type { Store } from '../store/index.ts';
import { CaptureSession, type CaptureConsumer } from './capture/capture-session.ts';
import { ConsoleRecorder } from './console-recorder.ts';
import { defaultMac } from './qemu/command-line.ts';
import { classifyExit } from './exit-status.ts';
import type { Hypervisor, VmHandle } from './hypervisor.ts';
import { QemuBackend } from './qemu/qemu-backend.ts';
import { XenBackend } from './xen/xen-backend.ts';
import type { QemuCapabilities } from './qemu/capabilities.ts';
import { RunRepo, type RunRow } from './run-repo.ts';
import { GuestStatsReader } from './stats/guest-stats.ts';
import { cpuPercent, readProc, type ProcReading } from './stats/proc-stats.ts';
import { readHostNicCounters } from './stats/host-nic.ts';
import type {
  Accelerator,
  HypervisorName,
  MachineExit,
  MachineSpec,
  MachineState,
  NicCounters,
  NicSpec,
  QemuMachineType,
  StatsSample,
} from './types.ts';
import { finalStates } from './types.ts';

/** Creates a disk image Kiln was asked to size (sparse, raw) when it does not exist yet. */
export function prepareDisk(d: MachineSpec['disks'][number]): void {
  if (existsSync(d.path)) return;
  if (d.sizeBytes === undefined)
    throw new KilnError('not_found', `disk image ${d.path} does not exist (give a size to create it)`);
  if (d.sizeBytes % 512 !== 0)
    throw new KilnError('invalid_input', 'disk size must be a multiple of 512 bytes');
  mkdirSync(dirname(d.path), { recursive: true });
  const fd = openSync(d.path, 'wx');
  try {
    ftruncateSync(fd, d.sizeBytes);
  } finally {
    closeSync(fd);
  }
}

/** A stop asked by a process that does not own the run (runs.stop_request, migration 005). */
interface StopRequest {
  kind: 'stop' | 'kill';
  timeoutMs: number;
  at: number;
}

export interface RunRequest {
  appliance: string;
  /** A PVH image to boot instead of the appliance's latest successful build. */
  image?: string;
  cmdline?: string;
  memoryMiB?: number;
  vcpus?: number;
  hypervisor?: HypervisorName;
  accelerator?: Accelerator;
  machineType?: QemuMachineType;
  nics?: NicSpec[];
  disks?: MachineSpec['disks'];
}

export interface LiveSample extends StatsSample {
  runId: number;
  guestMemUsed: number | null;
  /** Bytes per second per NIC, from the delta with the previous sample. */
  rates: { rx: number; tx: number }[];
}

export interface MachineServiceOptions {
  consoleCapBytes?: number;
  sampleIntervalMs?: number;
  /** How long a graceful stop waits for the guest before killing it. */
  stopTimeoutMs?: number;
  backends?: Partial<Record<HypervisorName, Hypervisor>>;
}

interface Live {
  run: RunRow;
  vm: VmHandle;
  recorder: ConsoleRecorder;
  stats: GuestStatsReader;
  lastProc: ProcReading | null;
  lastSample: StatsSample | null;
  state: MachineState;
  launchedAt: number;
  exited: Promise<MachineExit>;
}

export type MachineNotice = {
  runId: number;
  name: string;
  state: MachineState;
  reason?: string;
  hint?: string;
};

export class MachineService {
  readonly repo: RunRepo;
  private live = new Map<number, Live>();
  /** Packet captures by `runId:nic`, shared by all their consumers. */
  private captures = new Map<string, Promise<CaptureSession>>();
  private backends: Record<HypervisorName, Hypervisor | undefined>;
  private sampler: NodeJS.Timeout | null = null;
  private downsampler: NodeJS.Timeout | null = null;
  readonly consoleCapBytes: number;
  private readonly stopTimeoutMs: number;
  private readonly sampleIntervalMs: number;
  /** 'console' (runId, text), 'sample' (LiveSample), 'state' (MachineNotice). */
  readonly feed = new EventEmitter<{
    console: [number, string];
    sample: [LiveSample];
    state: [MachineNotice];
  }>();

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly home: string,
    opts: MachineServiceOptions = {},
  ) {
    this.feed.setMaxListeners(0);
    this.repo = new RunRepo(store.db);
    this.consoleCapBytes = opts.consoleCapBytes ?? 8 * 1024 * 1024;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 3000;
    this.backends = {
      qemu: opts.backends?.qemu ?? new QemuBackend(),
      xen: opts.backends?.xen ?? new XenBackend(),
    };
    const interval = opts.sampleIntervalMs ?? 1000;
    this.sampleIntervalMs = interval;
    this.sampler = setInterval(() => this.sampleAll(), interval);
    this.sampler.unref();
    this.downsampler = setInterval(() => this.repo.downsample(Date.now() - 3600_000), 60_000);
    this.downsampler.unref();
  }

  /** Sockets live under the temp dir: the data home's path may be too long for sun_path. */
  private runDir(runId: number): string {
    const tag = createHash('sha256').update(this.home).digest('hex').slice(0, 8);
    const uid = process.getuid?.() ?? 0;
    return join(tmpdir(), `kiln-${uid}`, `${tag}-${runId}`);
  }

  /** What QEMU can do on this host (binary, version, KVM usable, qboot), with fixes. */
  async qemuCapabilities(): Promise<QemuCapabilities> {
    const q = this.backends.qemu;
    if (q instanceof QemuBackend) return q.capabilities();
    throw new KilnError('unavailable', 'no QEMU backend');
  }

  private backend(name: HypervisorName): Hypervisor {
    const b = this.backends[name];
    if (!b) throw new Error(`the ${name} backend is not available on this host`);
    return b;
  }

  async run(req: RunRequest): Promise<RunRow> {
    const appliance = this.store.appliances.get(req.appliance);
    const image = req.image ?? this.store.builds.latestSucceeded(appliance.id)?.imagePath ?? null;
    if (!image)
      throw new Error(`"${req.appliance}" has no successful build yet: build it first (or pass an image).`);
    if (!existsSync(image)) throw new Error(`image ${image} does not exist`);
    const spec: MachineSpec = {
      name: appliance.name,
      kernelPath: image,
      cmdline: req.cmdline ?? '',
      memoryMiB: req.memoryMiB ?? 64,
      vcpus: req.vcpus ?? 1,
      hypervisor: req.hypervisor ?? 'qemu',
      accelerator: req.accelerator ?? 'auto',
      machineType: req.machineType ?? 'microvm',
      nics: req.nics ?? [],
      disks: req.disks ?? [],
    };
    for (const d of spec.disks) prepareDisk(d);
    return this.launch(appliance.id, spec);
  }

  private async launch(applianceId: number, spec: MachineSpec): Promise<RunRow> {
    const row = this.store.db.transaction(() => this.repo.create(applianceId, spec))();
    const dir = this.runDir(row.id);
    rmSync(dir, { recursive: true, force: true });
    const launchedAt = Date.now();
    this.repo.addEvent(row.id, launchedAt, 'launch', spec.hypervisor);
    let vm: VmHandle;
    try {
      vm = await this.backend(spec.hypervisor).launch(spec, dir);
    } catch (err) {
      const exit = (err as { exit?: MachineExit }).exit;
      const reason = (err as Error).message;
      this.repo.update(row.id, { state: 'crashed', stoppedAt: Date.now(), exitReason: reason });
      this.repo.addEvent(row.id, Date.now(), 'failed', exit?.hint ?? reason);
      this.notify({ runId: row.id, name: spec.name, state: 'crashed', reason, hint: exit?.hint });
      throw err;
    }
    this.repo.update(row.id, { state: 'running', pid: vm.attachment.pid, attachment: vm.attachment });
    this.repo.addEvent(row.id, Date.now(), 'running', `accelerator ${vm.accelerator}`);
    this.adopt(this.repo.get(row.id)!, vm, launchedAt, false);
    await vm.start();
    this.notify({ runId: row.id, name: spec.name, state: 'running' });
    return this.repo.get(row.id)!;
  }

  private adopt(run: RunRow, vm: VmHandle, launchedAt: number, reattached: boolean): void {
    const recorder = new ConsoleRecorder(this.repo, run.id, this.consoleCapBytes, (kind, at) => {
      if (reattached) return;
      if (kind === 'first-byte') this.repo.update(run.id, { bootMs: at - launchedAt });
      else this.repo.update(run.id, { readyMs: at - launchedAt });
      this.repo.addEvent(run.id, at, kind, `${at - launchedAt} ms after launch`);
      this.bus.emit({ type: 'run.changed', name: run.name, runId: run.id });
    });
    let resolveExit!: (e: MachineExit) => void;
    const live: Live = {
      run,
      vm,
      recorder,
      stats: new GuestStatsReader(),
      lastProc: null,
      lastSample: null,
      state: 'running',
      launchedAt,
      exited: new Promise((r) => (resolveExit = r)),
    };
    this.live.set(run.id, live);
    vm.on('console', (bytes) => {
      const text = recorder.output(bytes);
      if (text !== '') this.feed.emit('console', run.id, text);
    });
    vm.on('stats', (bytes) => live.stats.push(bytes));
    vm.on('event', (e) => this.repo.addEvent(run.id, e.at, e.kind, e.detail));
    vm.on('paused', () => this.setState(live, 'paused'));
    vm.on('resumed', () => this.setState(live, 'running'));
    vm.once('exit', (raw) => {
      const exit = classifyExit(raw);
      this.endCaptures(run.id, 'the VM exited');
      recorder.flush(true);
      this.sampleOne(live);
      this.live.delete(run.id);
      this.repo.update(run.id, {
        state: exit.state,
        stoppedAt: Date.now(),
        exitStatus: exit.exitStatus,
        exitReason: exit.reason,
      });
      this.repo.addEvent(run.id, Date.now(), exit.state, exit.reason);
      rmSync(vm.attachment.runDir, { recursive: true, force: true });
      this.notify({ runId: run.id, name: run.name, state: exit.state, reason: exit.reason, hint: exit.hint });
      resolveExit(exit);
    });
  }

  private setState(live: Live, state: MachineState): void {
    if (live.state === state || finalStates.has(live.state)) return;
    live.state = state;
    if (state === 'running' || state === 'paused') this.repo.update(live.run.id, { state });
    this.repo.addEvent(live.run.id, Date.now(), state);
    this.notify({ runId: live.run.id, name: live.run.name, state });
  }

  private notify(n: MachineNotice): void {
    this.feed.emit('state', n);
    this.bus.emit({ type: 'run.changed', name: n.name, runId: n.runId });
  }

  /** Finds VMs a previous engine left running: re-attach, or mark them lost (never ghosts). */
  async reattachAll(only?: number[]): Promise<{ reattached: number[]; lost: number[] }> {
    const reattached: number[] = [];
    const lost: number[] = [];
    for (const run of this.repo.active()) {
      if (this.live.has(run.id) || (only && !only.includes(run.id))) continue;
      if (this.otherOwner(run.id) !== null) continue; // another live engine holds it
      let vm: VmHandle | null = null;
      try {
        if (run.attachment) vm = await this.backend(run.attachment.hypervisor).reattach(run.attachment);
      } catch {
        vm = null;
      }
      if (!vm) {
        this.repo.update(run.id, {
          state: 'lost',
          stoppedAt: Date.now(),
          exitReason: 'the VM was gone when the engine restarted',
        });
        this.repo.addEvent(run.id, Date.now(), 'lost');
        lost.push(run.id);
        continue;
      }
      this.repo.update(run.id, { ownerPid: process.pid });
      this.repo.addEvent(run.id, Date.now(), 'reattached');
      this.adopt(run, vm, run.startedAt ?? Date.now(), true);
      const live = this.live.get(run.id)!;
      // QEMU drops console output while nobody is connected: say so in the log.
      const lastSeen = this.repo.console(run.id).at(-1)?.at ?? run.startedAt ?? Date.now();
      live.recorder.gap(
        `console not captured from ${new Date(lastSeen).toISOString()} to ${new Date().toISOString()} (engine restarted)`,
      );
      if (run.state === 'paused') live.state = 'paused';
      reattached.push(run.id);
    }
    return { reattached, lost };
  }

  private sampleAll(): void {
    for (const live of this.live.values()) this.sampleOne(live);
    this.takeStopRequests();
  }

  private stopRequestPending(runId: number): boolean {
    const row = this.store.db.prepare('SELECT stop_request FROM runs WHERE id = ?').get(runId) as
      { stop_request: string | null } | undefined;
    return (row?.stop_request ?? null) !== null;
  }

  /** Stops asked by other processes for runs this engine owns (see stopRemote). */
  private takeStopRequests(): void {
    if (this.live.size === 0) return;
    const rows = this.store.db
      .prepare('SELECT id, stop_request FROM runs WHERE owner_pid = ? AND stop_request IS NOT NULL')
      .all(process.pid) as { id: number; stop_request: string }[];
    for (const row of rows) {
      this.store.db.prepare('UPDATE runs SET stop_request = NULL WHERE id = ?').run(row.id);
      if (!this.live.has(row.id)) continue;
      const request = JSON.parse(row.stop_request) as StopRequest;
      this.repo.addEvent(row.id, Date.now(), 'stop-requested-elsewhere', request.kind);
      const done = request.kind === 'kill' ? this.kill(row.id) : this.stop(row.id, request.timeoutMs);
      done.catch(() => undefined);
    }
  }

  private sampleOne(live: Live): void {
    const pid = live.vm.attachment.pid;
    const now = Date.now();
    const proc = pid !== null ? readProc(pid, now) : null;
    const cpu = proc && live.lastProc ? cpuPercent(live.lastProc, proc) : 0;
    if (proc) live.lastProc = proc;
    const guest = live.stats.latest;
    // A tap the host can see is counted there (exact, and works for any guest); other NICs
    // (user-mode, or a tap in another namespace) use the guest's own counters.
    const perNic = live.run.spec.nics.map(
      (nic, i) => (nic.mode === 'tap' ? readHostNicCounters(nic.ifname) : null) ?? guest?.nics[i] ?? null,
    );
    const zero: NicCounters = {
      rxBytes: 0,
      txBytes: 0,
      rxPackets: 0,
      txPackets: 0,
      rxDropped: 0,
      txDropped: 0,
    };
    const nics = perNic.some((n) => n !== null) ? perNic.map((n) => n ?? zero) : (guest?.nics ?? []);
    const sample: StatsSample = { at: now, cpuPercent: cpu, memoryBytes: proc?.rssBytes ?? 0, nics };
    const prev = live.lastSample;
    const dt = prev ? (now - prev.at) / 1000 : 0;
    const rates = nics.map((n, i) => {
      const p = prev?.nics[i];
      if (!p || dt <= 0) return { rx: 0, tx: 0 };
      return { rx: Math.max(0, (n.rxBytes - p.rxBytes) / dt), tx: Math.max(0, (n.txBytes - p.txBytes) / dt) };
    });
    live.lastSample = sample;
    if (!proc && nics.length === 0) return;
    this.repo.addSample(
      live.run.id,
      now,
      { cpuPercent: cpu, memoryBytes: sample.memoryBytes, guestMemUsed: guest?.memUsed ?? null },
      nics,
    );
    this.feed.emit('sample', { ...sample, runId: live.run.id, guestMemUsed: guest?.memUsed ?? null, rates });
  }

  private liveRun(runId: number): Live {
    const live = this.live.get(runId);
    if (!live) throw new KilnError('conflict', `run ${runId} is not attached to this Kiln process`);
    return live;
  }

  /** The pid of another live engine process attached to this run, if any. */
  otherOwner(runId: number): number | null {
    if (this.live.has(runId)) return null;
    const row = this.store.db.prepare('SELECT owner_pid FROM runs WHERE id = ?').get(runId) as
      { owner_pid: number | null } | undefined;
    const owner = row?.owner_pid ?? null;
    return owner !== null && owner !== process.pid && processAlive(owner) ? owner : null;
  }

  /**
   * Makes the run usable from this process: already live here, or re-attached (when no other
   * engine holds it). Returns null when another engine owns it.
   */
  private async attachIfFree(runId: number): Promise<Live | null> {
    const live = this.live.get(runId);
    if (live) return live;
    const run = this.repo.get(runId);
    if (!run) throw new KilnError('not_found', `no run ${runId}`);
    if (finalStates.has(run.state as MachineState) || run.state === 'interrupted')
      throw new KilnError('conflict', `run ${runId} has already ended (${run.state})`);
    if (this.otherOwner(runId) !== null) return null;
    await this.reattachAll([runId]);
    return this.live.get(runId) ?? null;
  }

  /**
   * Ends a VM owned by another engine. The request goes through the library: the owner picks it
   * up at its next sampling tick and stops the VM itself (a graceful stop needs the guest channel
   * only the owner holds) and records the exit. Signals to QEMU are the fallback when the owner
   * does not act: SIGTERM after a grace, SIGKILL at the deadline.
   */
  private async stopRemote(runId: number, graceful: boolean, timeoutMs: number): Promise<MachineExit> {
    const run = this.repo.get(runId)!;
    const pid = run.pid;
    if (pid === null) throw new KilnError('conflict', `run ${runId} has no process`);
    const send = (sig: NodeJS.Signals) => {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    };
    const request: StopRequest = { kind: graceful ? 'stop' : 'kill', timeoutMs, at: Date.now() };
    this.store.db
      .prepare('UPDATE runs SET stop_request = ? WHERE id = ?')
      .run(JSON.stringify(request), runId);
    const ownerGrace = 3 * this.sampleIntervalMs + 2000;
    const deadline = Date.now() + ownerGrace + timeoutMs + 3000;
    let signalled = false;
    let killed = false;
    for (;;) {
      const row = this.repo.get(runId)!;
      if (finalStates.has(row.state as MachineState))
        return {
          state: row.state as MachineExit['state'],
          exitStatus: row.exitStatus,
          reason: row.exitReason ?? '',
        };
      if (!signalled && Date.now() > request.at + ownerGrace && this.stopRequestPending(runId)) {
        // The owner did not take the request: it is hung or gone. Signal QEMU directly.
        send(graceful ? 'SIGTERM' : 'SIGKILL');
        signalled = true;
      }
      if (!killed && Date.now() > deadline - 3000) {
        send('SIGKILL');
        killed = true;
      }
      if (Date.now() > deadline)
        throw new KilnError(
          'unavailable',
          `run ${runId} did not end; the owning Kiln process (pid ${this.otherOwner(runId)}) did not record it`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  isLive(runId: number): boolean {
    return this.live.has(runId);
  }

  state(runId: number): MachineState | 'interrupted' | undefined {
    return this.live.get(runId)?.state ?? this.repo.get(runId)?.state;
  }

  latestSample(runId: number): StatsSample | null {
    return this.live.get(runId)?.lastSample ?? null;
  }

  sendInput(runId: number, text: string): void {
    const live = this.liveRun(runId);
    live.vm.writeConsole(text);
    live.recorder.input(text);
  }

  /**
   * Joins (or starts) the packet capture of NIC `nic` of a live QEMU run; the returned function
   * leaves it, and the last consumer to leave removes the filter.
   */
  async capture(runId: number, nic: number, consumer: CaptureConsumer): Promise<() => void> {
    const live = await this.ownedHere(runId, 'capture');
    const spec = live.run.spec;
    if (!Number.isInteger(nic) || nic < 0 || nic >= spec.nics.length)
      throw new KilnError(
        'invalid_input',
        `run ${runId} has ${spec.nics.length} NIC(s): capture takes a NIC index from 0 to ${spec.nics.length - 1}`,
        'nic',
      );
    const vm = live.vm;
    if (!vm.addPacketDump || !vm.removePacketDump)
      throw new KilnError(
        'unavailable',
        `packet capture needs QEMU (filter-dump); run ${runId} is on ${spec.hypervisor}`,
      );
    const target = {
      addPacketDump: vm.addPacketDump.bind(vm),
      removePacketDump: vm.removePacketDump.bind(vm),
    };
    const key = `${runId}:${nic}`;
    let pending = this.captures.get(key);
    if (!pending) {
      pending = CaptureSession.open({
        target,
        nic,
        dir: join(vm.attachment.runDir, `capture-${nic}`),
        guestMac: (spec.nics[nic]!.mac ?? defaultMac(spec.name, nic)).toLowerCase(),
        onClosed: () => {
          if (this.captures.get(key) === pending) this.captures.delete(key);
        },
      });
      this.captures.set(key, pending);
      pending.catch(() => this.captures.delete(key));
      this.repo.addEvent(runId, Date.now(), 'capture-started', `NIC ${nic}`);
    }
    const session = await pending;
    return session.add(consumer);
  }

  private endCaptures(runId: number, reason: string): void {
    for (const [key, pending] of this.captures)
      if (key.startsWith(`${runId}:`)) void pending.then((s) => s.close(reason)).catch(() => undefined);
  }

  private async ownedHere(runId: number, what: string): Promise<Live> {
    const live = await this.attachIfFree(runId);
    if (!live)
      throw new KilnError(
        'conflict',
        `run ${runId} is attached to another Kiln process (pid ${this.otherOwner(runId)}): ${what} it there`,
      );
    return live;
  }

  async pause(runId: number): Promise<void> {
    await (await this.ownedHere(runId, 'pause')).vm.pause();
  }

  async resume(runId: number): Promise<void> {
    await (await this.ownedHere(runId, 'resume')).vm.resume();
  }

  /** Graceful stop: ask the guest, wait, then kill. Resolves with how the run ended. */
  async stop(runId: number, timeoutMs = this.stopTimeoutMs): Promise<MachineExit> {
    const maybe = await this.attachIfFree(runId);
    if (!maybe) return this.stopRemote(runId, true, timeoutMs);
    const live = maybe;
    live.state = 'stopping';
    this.repo.addEvent(runId, Date.now(), 'stop-requested');
    await live.vm.requestShutdown().catch(() => undefined);
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    const first = await Promise.race([live.exited, timer]);
    if (first !== 'timeout') return first;
    this.repo.addEvent(
      runId,
      Date.now(),
      'stop-timeout',
      `guest did not shut down within ${timeoutMs} ms; killing`,
    );
    await live.vm.kill();
    return live.exited;
  }

  async kill(runId: number): Promise<MachineExit> {
    const live = await this.attachIfFree(runId);
    if (!live) return this.stopRemote(runId, false, 0);
    await live.vm.kill();
    return live.exited;
  }

  /** A new run with the same spec (a reset would end the run anyway: QEMU runs with -no-reboot). */
  async restart(runId: number): Promise<RunRow> {
    const run = this.repo.get(runId);
    if (!run) throw new Error(`no run ${runId}`);
    if (this.live.has(runId)) await this.stop(runId);
    return this.launch(run.applianceId, run.spec);
  }

  /** How the run ended (at once if it already has). */
  async waitForExit(runId: number): Promise<MachineExit> {
    const live = this.live.get(runId);
    if (live) return live.exited;
    const row = this.repo.get(runId);
    if (row && (finalStates.has(row.state as MachineState) || row.state === 'interrupted')) {
      return {
        state: row.state === 'interrupted' ? 'lost' : (row.state as MachineExit['state']),
        exitStatus: row.exitStatus,
        reason: row.exitReason ?? row.state,
      };
    }
    return this.liveRun(runId).exited;
  }

  /** Engine shutdown: VMs keep running (detached runs survive the UI), the next engine re-attaches. */
  close(): void {
    if (this.sampler) clearInterval(this.sampler);
    if (this.downsampler) clearInterval(this.downsampler);
    for (const live of this.live.values()) {
      live.recorder.flush(true);
      live.vm.detach();
      this.repo.update(live.run.id, { ownerPid: null });
      this.repo.addEvent(live.run.id, Date.now(), 'detached', 'the engine closed; the VM keeps running');
    }
    this.live.clear();
  }

  /** Stored console plus what is queued for the next write: the start of a live view. */
  consoleSnapshot(runId: number): { text: string; lastChunkId: number } {
    const chunks = this.repo.console(runId).filter((c) => c.kind !== 'in');
    const pending = this.live.get(runId)?.recorder.pendingText() ?? '';
    return { text: chunks.map((c) => c.data).join('') + pending, lastChunkId: chunks.at(-1)?.id ?? 0 };
  }
}
