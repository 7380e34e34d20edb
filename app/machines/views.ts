// What front ends see of a run: the stored row plus live figures, with ports already described
// (the real binding) and clickable URLs. Shared by the API domain and the CLI.
import { describeForward, forwardUrl } from './port-forwards.ts';
import type { RunRow } from './run-repo.ts';
import type { MachineService } from './service.ts';

export interface MachinePort {
  binding: string;
  url: string | null;
}

export interface MachineSummary {
  runId: number;
  name: string;
  hypervisor: string;
  accelerator: string;
  state: string;
  attached: boolean;
  startedAt: number | null;
  stoppedAt: number | null;
  uptimeMs: number | null;
  bootMs: number | null;
  readyMs: number | null;
  exitStatus: number | null;
  exitReason: string | null;
  memoryMiB: number;
  vcpus: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  rxRate: number;
  txRate: number;
  ports: MachinePort[];
  image: string;
}

export function summarize(svc: MachineService, run: RunRow, now = Date.now()): MachineSummary {
  const state = svc.state(run.id) ?? run.state;
  const ended = run.stoppedAt ?? (['stopped', 'crashed', 'lost', 'interrupted'].includes(state) ? now : null);
  const host = svc.repo.hostSamples(run.id, now - 10_000).at(-1);
  const net = svc.repo.netSamples(run.id, now - 10_000);
  let rxRate = 0;
  let txRate = 0;
  // Rates from the last two samples of each NIC (deltas of cumulative counters).
  const byNic = new Map<number, typeof net>();
  for (const s of net) byNic.set(s.nic, [...(byNic.get(s.nic) ?? []), s]);
  for (const rows of byNic.values()) {
    const [a, b] = rows.slice(-2);
    if (a && b && b.at > a.at) {
      rxRate += ((b.rxBytes - a.rxBytes) * 1000) / (b.at - a.at);
      txRate += ((b.txBytes - a.txBytes) * 1000) / (b.at - a.at);
    }
  }
  const active = ['starting', 'running', 'paused', 'stopping'].includes(state);
  const accel =
    run.attachment?.commandLine[run.attachment.commandLine.indexOf('-accel') + 1] ?? run.spec.accelerator;
  return {
    runId: run.id,
    name: run.name,
    hypervisor: run.hypervisor,
    accelerator: accel,
    state,
    attached: svc.isLive(run.id),
    startedAt: run.startedAt,
    stoppedAt: run.stoppedAt,
    uptimeMs: run.startedAt !== null ? (active ? now : (ended ?? now)) - run.startedAt : null,
    bootMs: run.bootMs,
    readyMs: run.readyMs,
    exitStatus: run.exitStatus,
    exitReason: run.exitReason,
    memoryMiB: run.spec.memoryMiB,
    vcpus: run.spec.vcpus,
    cpuPercent: active ? (host?.cpuPercent ?? null) : null,
    memoryBytes: active ? (host?.memoryBytes ?? null) : null,
    rxRate: active ? rxRate : 0,
    txRate: active ? txRate : 0,
    ports: run.spec.nics.flatMap((n) =>
      n.mode === 'user' ? n.forwards.map((f) => ({ binding: describeForward(f), url: forwardUrl(f) })) : [],
    ),
    image: run.spec.kernelPath,
  };
}

/** Resolves "12" (a run id) or an appliance name (its latest run). */
export function resolveRun(
  svc: MachineService,
  ref: string | number,
  applianceId?: (name: string) => number | undefined,
): RunRow {
  if (typeof ref === 'number' || /^\d+$/.test(ref)) {
    const r = svc.repo.get(Number(ref));
    if (r) return r;
  }
  const id = applianceId?.(String(ref));
  const latest = id !== undefined ? svc.repo.listForAppliance(id, 1)[0] : undefined;
  if (!latest)
    throw Object.assign(new Error(`no run "${ref}" (give a run id or an appliance name)`), {
      code: 'not_found',
    });
  return latest;
}
