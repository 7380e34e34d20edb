// The Xen implementation of Hypervisor, through the `xl` tool in dom0. The domain is created
// paused (`xl create -p`), the PV console attached (`xl console -t pv`), then unpaused, so no
// console byte is lost. State comes from `xl list` every second; NIC counters from the dom0 vif
// devices, re-published as the stats channel's line format so the service treats both alike.
// Not run on a real Xen host here (none available): configs are proven by libxl's parser and
// the `xl` output parsers against documented formats; the command sequence is unit-tested.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statusFromConsole } from '../exit-status.ts';
import type { Attachment, Hypervisor, VmEvents, VmHandle } from '../hypervisor.ts';
import type { MachineExit, MachineSpec } from '../types.ts';
import { buildXlConfig, domainName } from './xl-config.ts';
import { parseXlList, readVifCounters } from './xl-parsers.ts';

export interface XlRunner {
  run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A long-running `xl` child (the console). */
  spawn(args: string[]): ChildProcess;
}

export const realXl: XlRunner = {
  run: (args) =>
    new Promise((resolve) => {
      execFile('xl', args, { timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    }),
  spawn: (args) => spawn('xl', args, { stdio: ['pipe', 'pipe', 'pipe'] }),
};

/** dom0 is where `xl` can manage domains: /proc/xen/capabilities says "control_d". */
export function isDom0(capabilitiesFile = '/proc/xen/capabilities'): boolean {
  try {
    return readFileSync(capabilitiesFile, 'utf8').includes('control_d');
  } catch {
    return false;
  }
}

class XenVm extends EventEmitter<VmEvents> implements VmHandle {
  readonly accelerator = 'xen-pvh';
  private console: ChildProcess | null = null;
  private poll: NodeJS.Timeout | null = null;
  private consoleTail = '';
  private exited = false;
  private killedByUs = false;

  constructor(
    readonly attachment: Attachment,
    private readonly xl: XlRunner,
    private readonly nicCount: number,
  ) {
    super();
  }

  get name(): string {
    return this.attachment.sockets.domain!;
  }

  attachConsole(): void {
    const c = this.xl.spawn(['console', '-t', 'pv', this.name]);
    this.console = c;
    c.stdout?.on('data', (d: Buffer) => {
      this.consoleTail = (this.consoleTail + d.toString('latin1')).slice(-4096);
      this.emit('console', d);
    });
    c.on('exit', () => void this.check());
  }

  watch(): void {
    this.poll = setInterval(() => void this.check(), 1000);
    this.poll.unref();
  }

  private async check(): Promise<void> {
    if (this.exited) return;
    const r = await this.xl.run(['list', this.name]);
    const dom = r.code === 0 ? parseXlList(r.stdout).find((d) => d.name === this.name) : undefined;
    if (dom) {
      this.attachment.domid = dom.id;
      this.publishStats(dom.id);
      if (dom.flags.paused) this.emit('paused');
      if (dom.flags.crashed) {
        // on_crash="preserve" kept it for inspection; the run is over.
        this.finish({
          state: 'crashed',
          exitStatus: statusFromConsole(this.consoleTail),
          reason: 'domain crashed (preserved: xl list shows it until destroyed)',
        });
      } else if (dom.flags.shutdown || dom.flags.dying) {
        this.finish(this.exitFromConsole());
      }
      return;
    }
    this.finish(
      this.killedByUs ? { state: 'stopped', exitStatus: null, reason: 'destroyed' } : this.exitFromConsole(),
    );
  }

  private exitFromConsole(): MachineExit {
    const status = statusFromConsole(this.consoleTail);
    if (status === null) return { state: 'stopped', exitStatus: null, reason: 'domain shut down' };
    return { state: 'stopped', exitStatus: status, reason: `guest exited with status ${status}` };
  }

  private publishStats(domid: number): void {
    const nics = Array.from({ length: this.nicCount }, (_, i) => readVifCounters(domid, i));
    if (nics.length === 0 || nics.some((n) => n === null)) return;
    const fields = nics.map(
      (n, i) =>
        `net${i}=${n!.rxBytes}/${n!.rxPackets}/${n!.rxDropped}/${n!.txBytes}/${n!.txPackets}/${n!.txDropped}`,
    );
    this.emit('stats', Buffer.from(`kiln-stats 1 ${fields.join(' ')}\n`));
  }

  private finish(exit: MachineExit): void {
    if (this.exited) return;
    this.exited = true;
    if (this.poll) clearInterval(this.poll);
    this.console?.kill();
    this.emit('exit', exit);
  }

  async start(): Promise<void> {
    const r = await this.xl.run(['unpause', this.name]);
    if (r.code !== 0) throw new Error(`xl unpause failed: ${r.stderr.trim()}`);
  }

  writeConsole(data: Buffer | string): void {
    this.console?.stdin?.write(data);
  }

  async pause(): Promise<void> {
    await this.xl.run(['pause', this.name]);
    this.emit('paused');
  }

  async resume(): Promise<void> {
    await this.xl.run(['unpause', this.name]);
    this.emit('resumed');
  }

  async requestShutdown(): Promise<void> {
    await this.xl.run(['shutdown', this.name]);
  }

  async kill(): Promise<void> {
    this.killedByUs = true;
    await this.xl.run(['destroy', this.name]);
    await this.check();
  }

  detach(): void {
    this.exited = true;
    if (this.poll) clearInterval(this.poll);
    this.console?.kill();
  }
}

export class XenBackend implements Hypervisor {
  readonly name = 'xen' as const;
  private nextRun = Date.now() % 100000;

  constructor(private readonly xl: XlRunner = realXl) {}

  async launch(spec: MachineSpec, runDir: string): Promise<VmHandle> {
    if (this.xl === realXl && !isDom0()) {
      throw new Error(
        'Xen is not available: this host is not a Xen dom0 (no /proc/xen/capabilities with control_d). Use QEMU, or run Kiln in dom0 of a Xen host.',
      );
    }
    mkdirSync(runDir, { recursive: true });
    const runId = Number(/(\d+)$/.exec(runDir)?.[1] ?? this.nextRun++);
    const cfgPath = join(runDir, 'domain.cfg');
    writeFileSync(cfgPath, buildXlConfig(spec, runId));
    const name = domainName(spec, runId);
    // -p: created paused, so the console is attached before the first instruction.
    const created = await this.xl.run(['create', '-p', cfgPath]);
    if (created.code !== 0)
      throw new Error(`xl create failed: ${created.stderr.trim() || created.stdout.trim()}`);
    const domid = await this.xl.run(['domid', name]);
    const vm = new XenVm(
      {
        hypervisor: 'xen',
        pid: null,
        domid: Number(domid.stdout.trim()),
        runDir,
        sockets: { domain: name, config: cfgPath },
        commandLine: ['xl', 'create', '-p', cfgPath],
      },
      this.xl,
      spec.nics.length,
    );
    vm.attachConsole();
    vm.watch();
    return vm;
  }

  async reattach(attachment: Attachment): Promise<VmHandle | null> {
    const name = attachment.sockets.domain;
    if (!name || !existsSync(attachment.runDir)) return null;
    const r = await this.xl.run(['domid', name]);
    if (r.code !== 0) return null;
    const cfg =
      attachment.sockets.config && existsSync(attachment.sockets.config)
        ? readFileSync(attachment.sockets.config, 'utf8')
        : '';
    const nics = /^vif = \[(.*)\]$/m.exec(cfg)?.[1]?.split('",').length ?? 0;
    const vm = new XenVm({ ...attachment, domid: Number(r.stdout.trim()) }, this.xl, nics);
    vm.attachConsole();
    vm.watch();
    return vm;
  }
}
