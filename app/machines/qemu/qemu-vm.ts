// One QEMU process seen from the engine. QEMU runs inside a tiny `sh` wrapper that records its
// exit code in a file, so the exit status (isa-debug-exit) survives an engine restart: whoever is
// attached when QEMU ends (this engine or the next one) reads it from there.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Attachment, VmEvents, VmHandle } from '../hypervisor.ts';
import type { MachineExit, MachineSpec } from '../types.ts';
import { buildQemuArgs, type QemuHost, type QemuRunPaths } from './command-line.ts';
import { lastErrorLine, recogniseFailure } from './failure-hints.ts';
import { statusFromConsole } from '../exit-status.ts';
import { QmpClient, type QmpEvent } from './qmp-client.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function runPaths(runDir: string): QemuRunPaths & { statusFile: string; stderrFile: string } {
  const paths = {
    qmpSocket: join(runDir, 'qmp.sock'),
    consoleSocket: join(runDir, 'console.sock'),
    statsSocket: join(runDir, 'stats.sock'),
    pidFile: join(runDir, 'qemu.pid'),
    statusFile: join(runDir, 'exit-status'),
    stderrFile: join(runDir, 'qemu.stderr'),
  };
  // sun_path is 108 bytes on Linux, 104 on macOS.
  if (Buffer.byteLength(paths.consoleSocket) > 100)
    throw new Error(`run directory path too long for Unix sockets: ${runDir}`);
  return paths;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function connectSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Decoded from QEMU's exit code and the events seen before it. */
export function interpretExit(
  code: number | null,
  signal: string | null,
  stderr: string,
  seen: { killedByUs: boolean; stopRequested: boolean; panicked: boolean; tripleFault: boolean },
): MachineExit {
  const hintOf = (text: string) => {
    const h = recogniseFailure(text);
    return h ? `${h.problem} ${h.fix}` : undefined;
  };
  if (seen.panicked) return { state: 'crashed', exitStatus: null, reason: 'guest panic (pvpanic)' };
  if (seen.tripleFault) return { state: 'crashed', exitStatus: null, reason: 'triple fault (guest reset)' };
  if (signal !== null || code === null) {
    if (seen.killedByUs) return { state: 'stopped', exitStatus: null, reason: 'killed' };
    return {
      state: 'crashed',
      exitStatus: null,
      reason: `QEMU was killed (${signal ?? `status ${code}`})`,
      hint: hintOf(stderr),
    };
  }
  const err = lastErrorLine(stderr);
  if (code === 0) {
    if (seen.killedByUs || seen.stopRequested)
      return { state: 'stopped', exitStatus: null, reason: 'stopped' };
    return { state: 'stopped', exitStatus: null, reason: 'guest shut down' };
  }
  // isa-debug-exit: QEMU exits with (value << 1) | 1. An odd code with an error on stderr is
  // QEMU failing (it exits 1), not the guest.
  if (code % 2 === 1 && !(code === 1 && /qemu-system|error|warning: .*fail/i.test(err))) {
    return { state: 'stopped', exitStatus: code >> 1, reason: `guest exited with status ${code >> 1}` };
  }
  return {
    state: 'crashed',
    exitStatus: null,
    reason: `QEMU error: ${err || `exit ${code}`}`,
    hint: hintOf(stderr),
  };
}

/** The request the kernel base understands on COM2 (kernel/ABI.md section 4). */
export const shutdownRequestLine = 'kiln-shutdown\n';

export class QemuVm extends EventEmitter<VmEvents> implements VmHandle {
  private qmp: QmpClient | null = null;
  private consoleSock: Socket | null = null;
  private statsSock: Socket | null = null;
  private exited = false;
  private detached = false;
  private seen = { killedByUs: false, stopRequested: false, panicked: false, tripleFault: false };
  private liveness: NodeJS.Timeout | null = null;
  /** True when this process spawned QEMU (and so will see its wait status). */
  private parent = false;
  private consoleTail = '';

  private constructor(
    readonly attachment: Attachment,
    readonly accelerator: string,
  ) {
    super();
  }

  private get paths() {
    return runPaths(this.attachment.runDir);
  }

  static async launch(binary: string, spec: MachineSpec, host: QemuHost, runDir: string): Promise<QemuVm> {
    mkdirSync(runDir, { recursive: true });
    const paths = runPaths(runDir);
    const args = buildQemuArgs(spec, host, paths);
    // QEMU gets its own session (it outlives the engine: detached runs, re-attach) and writes its
    // errors to a file. While this engine lives it is QEMU's parent and records the exact wait
    // status (exit code or signal) in the status file; after an engine restart the status comes
    // from the base's last console line `kiln: exit <status>` (ABI section 3).
    const errFd = openSync(paths.stderrFile, 'w');
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', 'ignore', errFd] });
    closeSync(errFd);
    child.once('error', () => undefined);
    child.once('exit', (code, signal) => {
      writeFileSync(`${paths.statusFile}.tmp`, signal ? `signal ${signal}\n` : `exit ${code}\n`);
      renameSync(`${paths.statusFile}.tmp`, paths.statusFile);
    });
    child.unref();
    const vm = new QemuVm(
      {
        hypervisor: 'qemu',
        pid: null,
        runDir,
        sockets: { qmp: paths.qmpSocket, console: paths.consoleSocket, stats: paths.statsSocket },
        commandLine: [binary, ...args],
      },
      host.accelerator,
    );
    vm.parent = true;
    let wrapperDone = false;
    child.once('exit', () => (wrapperDone = true));
    // QEMU creates its sockets during start-up; poll until QMP answers or QEMU has died.
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (wrapperDone || existsSync(paths.statusFile)) {
        const exit = vm.readExit();
        throw Object.assign(
          new Error(`QEMU failed to start: ${exit.reason}${exit.hint ? ` — ${exit.hint}` : ''}`),
          { exit },
        );
      }
      if (existsSync(paths.qmpSocket)) {
        try {
          vm.qmp = await QmpClient.connect(paths.qmpSocket);
          break;
        } catch {
          // socket exists but QEMU is not listening yet
        }
      }
      if (Date.now() > deadline) {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
        throw new Error('QEMU did not open its QMP socket within 10 s');
      }
      await sleep(2);
    }
    await vm.attachStreams();
    vm.attachment.pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
    vm.watch();
    return vm;
  }

  static async reattach(attachment: Attachment): Promise<QemuVm | null> {
    const vm = new QemuVm(
      attachment,
      attachment.commandLine[attachment.commandLine.indexOf('-accel') + 1] ?? 'unknown',
    );
    const pid = attachment.pid;
    if (pid === null || !isAlive(pid)) return null;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // non-Linux: trust the QMP socket below
    }
    if (cmdline !== '' && !cmdline.includes(attachment.sockets.qmp ?? '\0none')) return null; // pid reused
    try {
      vm.qmp = await QmpClient.connect(attachment.sockets.qmp!);
      await vm.attachStreams();
    } catch {
      // A QEMU we cannot talk to is a ghost: end it rather than leave it running unseen.
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      return null;
    }
    vm.watch();
    const status = await vm.qmp.execute<{ status: string; running: boolean }>('query-status');
    if (status.status === 'paused') queueMicrotask(() => vm.emit('paused'));
    return vm;
  }

  private async attachStreams(): Promise<void> {
    const paths = this.paths;
    this.consoleSock = await connectSocket(paths.consoleSocket);
    this.statsSock = await connectSocket(paths.statsSocket);
    this.consoleSock.on('data', (d: Buffer) => {
      this.consoleTail = (this.consoleTail + d.toString('latin1')).slice(-4096);
      this.emit('console', d);
    });
    this.statsSock.on('data', (d: Buffer) => this.emit('stats', d));
    this.consoleSock.on('error', () => undefined);
    this.statsSock.on('error', () => undefined);
    this.consoleSock.on('close', () => this.checkExit());
  }

  private watch(): void {
    const qmp = this.qmp!;
    qmp.on('event', (e) => this.onQmpEvent(e));
    qmp.on('close', () => this.checkExit());
    // Belt and braces: a QEMU killed from outside closes its sockets too, but poll the pid anyway.
    this.liveness = setInterval(() => {
      if (this.attachment.pid !== null && !isAlive(this.attachment.pid)) this.checkExit();
    }, 1000);
    this.liveness.unref();
  }

  private onQmpEvent(e: QmpEvent): void {
    const at = Date.now();
    const data = e.data ?? {};
    switch (e.event) {
      case 'STOP':
        this.emit('paused');
        // Under nested KVM a triple fault stops the VM with an internal error instead of a reset.
        void this.qmp
          ?.execute<{ status: string }>('query-status')
          .then((s) => {
            if (s.status === 'internal-error' || s.status === 'guest-panicked') {
              if (s.status === 'guest-panicked') this.seen.panicked = true;
              else this.seen.tripleFault = true;
              this.emit('event', { at, kind: 'crash', detail: s.status });
              return this.qmp?.execute('quit');
            }
            return undefined;
          })
          .catch(() => undefined);
        break;
      case 'RESUME':
        this.emit('resumed');
        break;
      case 'GUEST_PANICKED':
        this.seen.panicked = true;
        this.emit('event', { at, kind: 'panic', detail: JSON.stringify(data) });
        break;
      case 'SHUTDOWN':
        if (data.reason === 'guest-reset') this.seen.tripleFault = !this.seen.stopRequested;
        this.emit('event', { at, kind: 'shutdown', detail: String(data.reason ?? '') });
        break;
      default:
        this.emit('event', {
          at,
          kind: e.event.toLowerCase(),
          detail: e.data ? JSON.stringify(e.data) : undefined,
        });
    }
  }

  private checking = false;
  private async checkExit(): Promise<void> {
    if (this.exited || this.detached || this.checking) return;
    this.checking = true;
    // QEMU has closed a socket: wait (briefly) for the wrapper to record the exit code.
    const deadline = Date.now() + 3000;
    while (!existsSync(this.paths.statusFile)) {
      const pid = this.attachment.pid;
      const alive = pid !== null && isAlive(pid);
      if (alive && this.qmp && !this.qmp.isClosed) {
        this.checking = false;
        return; // only a stream closed; QEMU lives on
      }
      if (!this.parent && !alive) break; // not our child: no status file will come
      if (Date.now() > deadline) break;
      await sleep(10);
    }
    const exit = this.readExit();
    // QEMU has exited: whatever it wrote to the console socket is still buffered on our side.
    await this.drainConsole();
    this.finish(exit);
  }

  private async drainConsole(): Promise<void> {
    const sock = this.consoleSock;
    if (!sock || sock.destroyed || sock.readableEnded) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      sock.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private readExit(): MachineExit {
    let stderr = '';
    try {
      stderr = readFileSync(this.paths.stderrFile, 'utf8');
    } catch {
      // none
    }
    let code: number | null = null;
    let signal: string | null = null;
    try {
      const [how, value] = readFileSync(this.paths.statusFile, 'utf8').trim().split(' ');
      if (how === 'signal') signal = `signal ${value}`;
      else code = Number(value);
    } catch {
      return this.exitWithoutStatus(stderr);
    }
    return interpretExit(code, signal, stderr, this.seen);
  }

  /** QEMU ended while another engine process was its parent: reconstruct what we can. */
  private exitWithoutStatus(stderr: string): MachineExit {
    const status = statusFromConsole(this.consoleTail);
    if (this.seen.panicked || this.seen.tripleFault) return interpretExit(0, null, stderr, this.seen);
    if (status !== null)
      return { state: 'stopped', exitStatus: status, reason: `guest exited with status ${status}` };
    if (this.seen.killedByUs) return { state: 'stopped', exitStatus: null, reason: 'killed' };
    return {
      state: 'stopped',
      exitStatus: null,
      reason: 'QEMU ended; exit status unknown (the engine was restarted meanwhile)',
    };
  }

  private finish(exit: MachineExit): void {
    if (this.exited) return;
    this.exited = true;
    if (this.liveness) clearInterval(this.liveness);
    this.qmp?.close();
    this.consoleSock?.destroy();
    this.statsSock?.destroy();
    this.emit('exit', exit);
  }

  /** QEMU was started with -S: the guest runs only once the caller is listening. */
  async start(): Promise<void> {
    // A guest that exits at once may end QEMU before it answers `cont`: that is not an error,
    // the exit is reported through 'exit'.
    await this.qmp?.execute('cont').catch((err: Error) => {
      if (!this.qmp?.isClosed) throw err;
    });
  }

  writeConsole(data: Buffer | string): void {
    this.consoleSock?.write(data);
  }

  async pause(): Promise<void> {
    await this.qmp?.execute('stop');
  }

  async resume(): Promise<void> {
    await this.qmp?.execute('cont');
  }

  async requestShutdown(): Promise<void> {
    this.seen.stopRequested = true;
    // The kernel base listens for this line on its stats channel (kernel/ABI.md section 4) and
    // ends at its next yield with status 0. The ACPI power button is for other guests; the base
    // has no ACPI and ignores it.
    this.statsSock?.write(shutdownRequestLine);
    await this.qmp?.execute('system_powerdown');
  }

  private dumps = 0;

  /** filter-dump on netdev n<nic>, both directions; QEMU opens `file` (a FIFO) at once. */
  async addPacketDump(nic: number, file: string): Promise<string> {
    if (!this.qmp || this.qmp.isClosed) throw new Error('the VM is not running');
    const id = `kiln-dump-${nic}-${++this.dumps}`;
    await this.qmp.execute('object-add', { 'qom-type': 'filter-dump', id, netdev: `n${nic}`, file });
    return id;
  }

  async removePacketDump(id: string): Promise<void> {
    if (!this.qmp || this.qmp.isClosed) return;
    await this.qmp.execute('object-del', { id });
  }

  async kill(): Promise<void> {
    this.seen.killedByUs = true;
    const pid = this.attachment.pid;
    if (pid !== null && isAlive(pid)) process.kill(pid, 'SIGKILL');
    await this.checkExit();
  }

  detach(): void {
    this.detached = true;
    if (this.liveness) clearInterval(this.liveness);
    this.qmp?.close();
    this.consoleSock?.destroy();
    this.statsSock?.destroy();
  }
}
