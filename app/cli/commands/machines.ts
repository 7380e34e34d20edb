// Machine commands: run, ps, logs, stats, stop, kill, pause, resume, restart.
// They read the library directly, so they work whether the VM is attached to this process, to
// the app / `kiln serve`, or (after a crash of either) to nobody yet.
import { bool, int, list, str, UsageError, type Parsed } from '../args.ts';
import { ago, table, type Command, type CommandContext } from '../command.ts';
import type { Engine } from '../../engine.ts';
import { parsePortForward } from '../../machines/port-forwards.ts';
import type { NicSpec } from '../../machines/types.ts';
import { resolveRun, summarize } from '../../machines/views.ts';
import { finalStates, type MachineState } from '../../machines/types.ts';

const json = { type: 'boolean', help: 'print JSON' } as const;

function findRun(engine: Engine, ref: string) {
  return resolveRun(engine.machines, ref, (name) => engine.store.appliances.find(name)?.id);
}

function bytes(n: number | null): string {
  if (n === null) return '-';
  if (n < 1024) return `${Math.round(n)}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}K`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)}M`;
  return `${(n / 1024 ** 3).toFixed(2)}G`;
}

function duration(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** `10m`, `2h`, `30s` ago, or an ISO date. */
export function parseSince(text: string, now = Date.now()): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (m)
    return now - Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`--since takes 30s, 10m, 2h, 1d or a date, not "${text}"`);
  return t;
}

/** `PATH` or `PATH:SIZE` with SIZE in bytes or with a K/M/G suffix. */
export function parseDisk(text: string): { path: string; sizeBytes?: number } {
  const m = /^(.*):(\d+)([KMG]?)$/i.exec(text);
  if (!m) return { path: text };
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[3]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return { path: m[1]!, sizeBytes: Number(m[2]) * mult };
}

function nicsFrom(p: Parsed): NicSpec[] {
  const forwards = list(p, 'publish').map((f) => {
    try {
      return parsePortForward(f);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
  const nets = list(p, 'net');
  if (nets.length === 0) return [{ mode: 'user', forwards }];
  return nets.flatMap((n, i): NicSpec[] => {
    if (n === 'none') return [];
    if (n === 'user') return [{ mode: 'user', forwards: i === 0 ? forwards : [] }];
    const [mode, name] = n.split(':');
    if (mode === 'tap' && name) return [{ mode: 'tap', ifname: name }];
    if (mode === 'bridge' && name) return [{ mode: 'bridge', bridge: name }];
    throw new UsageError(`--net takes user, tap:IFNAME, bridge:BRIDGE or none, not "${n}"`);
  });
}

async function follow(
  ctx: CommandContext,
  engine: Engine,
  runId: number,
  afterId: number,
  partialLine: string,
  filter: (line: string) => boolean,
): Promise<void> {
  let last = afterId;
  let partial = partialLine;
  for (;;) {
    const chunks = engine.machines.repo.console(runId, { afterId: last });
    for (const c of chunks) {
      last = c.id;
      if (c.kind === 'in') continue;
      partial += c.data;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (filter(l)) ctx.out(l);
    }
    const state = engine.machines.state(runId);
    if (
      chunks.length === 0 &&
      (state === undefined || finalStates.has(state as MachineState) || state === 'interrupted')
    )
      break;
    const stop = await Promise.race([
      ctx.interrupted.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 200)),
    ]);
    if (stop) break;
  }
  if (partial !== '' && filter(partial)) ctx.out(partial);
}

export const runCommand: Command = {
  name: 'run',
  args: '<appliance> [options]',
  summary: 'run an appliance in a VM (console in the foreground; -d to detach)',
  flags: {
    image: { type: 'string', value: 'FILE', help: 'boot this PVH image instead of the latest build' },
    append: { type: 'string', value: 'ARGS', help: 'kernel command line' },
    memory: { type: 'string', short: 'm', value: 'MiB', help: 'guest memory (default 64)' },
    cpus: { type: 'string', value: 'N', help: 'vCPUs (default 1)' },
    accel: { type: 'string', value: 'kvm|tcg|auto', help: 'accelerator (default auto: KVM when usable)' },
    machine: { type: 'string', value: 'microvm|q35', help: 'QEMU machine type' },
    publish: {
      type: 'list',
      short: 'p',
      value: '[ip:]host:guest[/udp]',
      help: 'forward a port (binds 127.0.0.1 unless an ip is given)',
    },
    net: {
      type: 'list',
      value: 'user|tap:IF|bridge:BR|none',
      help: 'a NIC (repeatable; default one user-mode NIC)',
    },
    disk: {
      type: 'list',
      value: 'PATH[:SIZE]',
      help: 'attach a raw disk image; with a size (64M, 1G) Kiln creates it if missing',
    },
    detach: { type: 'boolean', short: 'd', help: 'start and return (the VM keeps running)' },
    json,
  },
  positionals: [1, 1],
  async run(p, ctx) {
    const engine = ctx.engine();
    const accel = str(p, 'accel') ?? 'auto';
    if (!['auto', 'kvm', 'tcg', 'hvf', 'whpx'].includes(accel))
      throw new UsageError('--accel takes auto, kvm, tcg, hvf or whpx');
    const machine = str(p, 'machine') ?? 'microvm';
    if (machine !== 'microvm' && machine !== 'q35') throw new UsageError('--machine takes microvm or q35');
    const run = await engine.machines.run({
      appliance: p.positionals[0]!,
      image: str(p, 'image'),
      cmdline: str(p, 'append'),
      memoryMiB: int(p, 'memory', 8, 65536),
      vcpus: int(p, 'cpus', 1, 64),
      accelerator: accel as 'auto',
      machineType: machine,
      nics: nicsFrom(p),
      disks: list(p, 'disk').map(parseDisk),
    });
    const summary = summarize(engine.machines, run);
    if (bool(p, 'detach')) {
      if (ctx.json) ctx.out(JSON.stringify(summary, null, 2));
      else {
        ctx.out(`Started run ${run.id} (${run.name}, ${summary.accelerator}).`);
        for (const port of summary.ports) ctx.out(`  ${port.binding}`);
        ctx.out(`Console: kiln logs ${run.id} --follow   Stop: kiln stop ${run.id}`);
      }
      return 0;
    }
    if (!ctx.json) {
      ctx.err(
        `[kiln] run ${run.id}: ${run.name} under ${summary.accelerator}${summary.ports.map((x) => `, ${x.binding}`).join('')} (${process.stdin.isTTY ? 'typing goes to the guest; Ctrl-] detaches' : 'Ctrl-C detaches'})`,
      );
    }
    const out = (text: string) => process.stdout.write(text);
    const onText = (id: number, text: string) => {
      if (id === run.id && !ctx.json) out(text);
    };
    if (!ctx.json) out(engine.machines.consoleSnapshot(run.id).text);
    engine.machines.feed.on('console', onText);
    // On a terminal the console is interactive, like a serial line: keys (Ctrl-C included) go
    // to the guest, and Ctrl-] detaches (as in `xl console` and telnet).
    let detachByKey: () => void = () => undefined;
    const detached = new Promise<null>((r) => (detachByKey = () => r(null)));
    const tty = process.stdin.isTTY && !ctx.json;
    const onKey = (d: Buffer) => {
      const i = d.indexOf(0x1d);
      const keys = i >= 0 ? d.subarray(0, i) : d;
      if (keys.length > 0 && engine.machines.isLive(run.id))
        engine.machines.sendInput(run.id, keys.toString('utf8'));
      if (i >= 0) detachByKey();
    };
    if (tty) {
      process.stdin.setRawMode(true);
      process.stdin.on('data', onKey);
      process.stdin.resume();
    }
    const exit = await Promise.race([
      engine.machines.waitForExit(run.id),
      ctx.interrupted.then(() => null),
      detached,
    ]);
    if (tty) {
      process.stdin.off('data', onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
    engine.machines.feed.off('console', onText);
    if (exit === null) {
      ctx.err(
        `\n[kiln] detached; run ${run.id} keeps running. kiln logs ${run.id} --follow, kiln stop ${run.id}`,
      );
      return 0;
    }
    if (ctx.json)
      ctx.out(
        JSON.stringify(
          {
            ...summarize(engine.machines, engine.machines.repo.get(run.id)!),
            console: engine.machines.repo.consoleText(run.id),
          },
          null,
          2,
        ),
      );
    else
      ctx.err(
        `[kiln] run ${run.id} ${exit.state}: ${exit.reason}${exit.hint ? `\n[kiln] ${exit.hint}` : ''}`,
      );
    return exit.state === 'stopped' && (exit.exitStatus ?? 0) === 0 ? 0 : 1;
  },
};

export const psCommand: Command = {
  name: 'ps',
  args: '[--all]',
  summary: 'list running machines (--all: recent runs too)',
  flags: { all: { type: 'boolean', short: 'a', help: 'include ended runs' }, json },
  positionals: [0, 0],
  async run(p, ctx) {
    const engine = ctx.engine();
    const rows = engine.machines.repo
      .list(bool(p, 'all') ? 50 : 500)
      .filter((r) => bool(p, 'all') || ['starting', 'running', 'paused'].includes(r.state))
      .map((r) => summarize(engine.machines, r));
    if (ctx.json) {
      ctx.out(JSON.stringify(rows, null, 2));
      return 0;
    }
    if (rows.length === 0) {
      ctx.out(bool(p, 'all') ? 'No runs yet.' : 'No machines running. kiln ps --all shows past runs.');
      return 0;
    }
    const t = [['RUN', 'NAME', 'STATE', 'UPTIME', 'BOOT', 'CPU', 'MEM', 'RX/s', 'TX/s', 'PORTS']];
    for (const m of rows) {
      const state =
        m.state === 'stopped' || m.state === 'crashed'
          ? `${m.state}${m.exitStatus !== null ? ` (${m.exitStatus})` : ''} ${m.stoppedAt ? ago(m.stoppedAt) : ''}`.trim()
          : m.state;
      t.push([
        String(m.runId),
        m.name,
        state,
        duration(m.uptimeMs),
        m.bootMs !== null ? `${Math.round(m.bootMs)}ms` : '-',
        m.cpuPercent !== null ? `${m.cpuPercent.toFixed(1)}%` : '-',
        bytes(m.memoryBytes),
        bytes(m.rxRate),
        bytes(m.txRate),
        m.ports.map((x) => x.binding).join(', ') || '-',
      ]);
    }
    ctx.out(table(t));
    return 0;
  },
};

export const logsCommand: Command = {
  name: 'logs',
  args: '<run-or-appliance> [--follow] [--grep RE] [--since T]',
  summary: "print a run's console (an appliance name means its latest run)",
  flags: {
    follow: { type: 'boolean', short: 'f', help: 'keep printing until the run ends (Ctrl-C stops)' },
    grep: { type: 'string', value: 'RE', help: 'only lines matching this regular expression' },
    since: { type: 'string', value: 'T', help: 'only output newer than 30s, 10m, 2h, 1d or a date' },
    json,
  },
  positionals: [1, 1],
  async run(p, ctx) {
    const engine = ctx.engine();
    const run = findRun(engine, p.positionals[0]!);
    let re: RegExp | null = null;
    const g = str(p, 'grep');
    if (g !== undefined) {
      try {
        re = new RegExp(g);
      } catch (err) {
        throw new UsageError(`--grep: ${(err as Error).message}`);
      }
    }
    const since = str(p, 'since');
    const chunks = engine.machines.repo
      .console(run.id, { since: since ? parseSince(since) : 0 })
      .filter((c) => c.kind !== 'in');
    const filter = (line: string) => re === null || re.test(line);
    if (ctx.json) {
      const text = chunks.map((c) => c.data).join('');
      ctx.out(
        JSON.stringify(
          {
            runId: run.id,
            name: run.name,
            state: run.state,
            lines: text.split('\n').filter((l, i, a) => (i < a.length - 1 || l !== '') && filter(l)),
          },
          null,
          2,
        ),
      );
      return 0;
    }
    const text = chunks.map((c) => c.data).join('');
    const lines = text.split('\n');
    const tail = lines.pop() ?? '';
    for (const l of lines) if (filter(l)) ctx.out(l);
    if (bool(p, 'follow')) {
      await follow(ctx, engine, run.id, chunks.at(-1)?.id ?? 0, tail, filter);
    } else if (tail !== '' && filter(tail)) ctx.out(tail);
    return 0;
  },
};

export const statsCommand: Command = {
  name: 'stats',
  args: '<run-or-appliance>',
  summary: "a run's CPU, memory and per-NIC network counters and rates",
  flags: { json },
  positionals: [1, 1],
  async run(p, ctx) {
    const engine = ctx.engine();
    const run = findRun(engine, p.positionals[0]!);
    const m = summarize(engine.machines, run);
    const net = engine.machines.repo.netSamples(run.id);
    const host = engine.machines.repo.hostSamples(run.id);
    const nics = [...new Set(net.map((s) => s.nic))].map((nic) => {
      const rows = net.filter((s) => s.nic === nic);
      return { nic, latest: rows.at(-1)!, samples: rows.length };
    });
    if (ctx.json) {
      ctx.out(JSON.stringify({ summary: m, host, net }, null, 2));
      return 0;
    }
    ctx.out(
      `run ${run.id} ${run.name}: ${m.state}, uptime ${duration(m.uptimeMs)}, CPU ${m.cpuPercent?.toFixed(1) ?? '-'}%, memory ${bytes(m.memoryBytes)}`,
    );
    const t = [['NIC', 'RX BYTES', 'RX PKTS', 'RX DROP', 'TX BYTES', 'TX PKTS', 'TX DROP']];
    for (const n of nics) {
      const l = n.latest;
      t.push([
        String(n.nic),
        String(l.rxBytes),
        String(l.rxPackets),
        String(l.rxDropped),
        String(l.txBytes),
        String(l.txPackets),
        String(l.txDropped),
      ]);
    }
    if (nics.length) ctx.out(table(t));
    ctx.out(`rates: rx ${bytes(m.rxRate)}/s, tx ${bytes(m.txRate)}/s; ${host.length} host samples stored`);
    return 0;
  },
};

function lifecycle(name: 'stop' | 'kill' | 'pause' | 'resume' | 'restart', summary: string): Command {
  return {
    name,
    args: '<run-or-appliance>',
    summary,
    flags:
      name === 'stop'
        ? {
            timeout: {
              type: 'string',
              value: 'SECONDS',
              help: 'wait this long for the guest before killing (default 3)',
            },
            json,
          }
        : { json },
    positionals: [1, 1],
    async run(p, ctx) {
      const engine = ctx.engine();
      const run = findRun(engine, p.positionals[0]!);
      let result: unknown;
      if (name === 'stop') {
        const t = int(p, 'timeout', 0, 600);
        result = await engine.machines.stop(run.id, t === undefined ? undefined : t * 1000);
      } else if (name === 'kill') result = await engine.machines.kill(run.id);
      else if (name === 'pause') result = (await engine.machines.pause(run.id), { state: 'paused' });
      else if (name === 'resume') result = (await engine.machines.resume(run.id), { state: 'running' });
      else {
        const next = await engine.machines.restart(run.id);
        result = summarize(engine.machines, next);
        if (!ctx.json) {
          ctx.out(`Restarted ${run.name} as run ${next.id} (detached).`);
          return 0;
        }
      }
      if (ctx.json) ctx.out(JSON.stringify({ runId: run.id, ...(result as object) }, null, 2));
      else {
        const r = result as { state: string; reason?: string };
        ctx.out(`run ${run.id} ${r.state}${r.reason ? `: ${r.reason}` : ''}`);
      }
      return 0;
    },
  };
}

export const stopCommand = lifecycle(
  'stop',
  'stop a run gracefully (guest shutdown, then kill after a timeout)',
);
export const killCommand = lifecycle('kill', 'end a run now');
export const pauseCommand = lifecycle('pause', 'pause a run');
export const resumeCommand = lifecycle('resume', 'resume a paused run');
export const restartCommand = lifecycle('restart', 'stop a run and start it again as a new run');
