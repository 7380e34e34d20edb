// The machines domain: run appliances under QEMU (and Xen), follow their lifecycle, read their
// console and statistics. Live data arrives through streams (console text, samples, state
// changes); history comes from methods reading the library.
import { z } from 'zod';
import { method, stream } from '../define.ts';
import type { Engine } from '../../engine.ts';
import { KilnError } from '../../errors.ts';
import { parsePortForward } from '../../machines/port-forwards.ts';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { PcapSink, SummaryBatcher, type PacketBatch } from '../../machines/capture/consumers.ts';
import type { LiveSample, MachineNotice } from '../../machines/service.ts';
import { summarize, type MachineSummary } from '../../machines/views.ts';
import type { NicSpec } from '../../machines/types.ts';

const runId = z.number().int().positive();
const byRun = z.object({ runId }).strict();
const captureInput = z.object({ runId, nic: z.number().int().min(0).max(7).default(0) }).strict();

const nic = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('user'), forwards: z.array(z.string()).default([]) }).strict(),
  z
    .object({
      mode: z.literal('tap'),
      ifname: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'an interface name'),
    })
    .strict(),
  z
    .object({
      mode: z.literal('bridge'),
      bridge: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'a bridge name'),
    })
    .strict(),
]);

const runInput = z
  .object({
    appliance: z.string().min(1, 'appliance is required'),
    image: z.string().min(1).optional(),
    cmdline: z.string().max(4096).optional(),
    memoryMiB: z.number().int().min(8).max(65536).default(64),
    vcpus: z.number().int().min(1).max(64).default(1),
    hypervisor: z.enum(['qemu', 'xen']).default('qemu'),
    accelerator: z.enum(['auto', 'kvm', 'tcg', 'hvf', 'whpx']).default('auto'),
    machineType: z.enum(['microvm', 'q35']).default('microvm'),
    nics: z
      .array(nic)
      .max(8)
      .default([{ mode: 'user', forwards: [] }]),
    disks: z
      .array(
        z
          .object({
            path: z.string().min(1),
            sizeBytes: z.number().int().positive().optional(),
            readOnly: z.boolean().optional(),
          })
          .strict(),
      )
      .max(8)
      .default([]),
  })
  .strict();

function toNics(input: z.output<typeof runInput>['nics']): NicSpec[] {
  return input.map((n, i) => {
    if (n.mode !== 'user') return n;
    try {
      return { mode: 'user', forwards: n.forwards.map(parsePortForward) };
    } catch (err) {
      throw new KilnError('invalid_input', (err as Error).message, `nics.${i}.forwards`);
    }
  });
}

function wrap<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    if (err instanceof KilnError) throw err;
    const msg = (err as Error).message ?? String(err);
    throw new KilnError(/not found|no run/i.test(msg) ? 'not_found' : 'unavailable', msg);
  });
}

function find(engine: Engine, id: number) {
  const run = engine.machines.repo.get(id);
  if (!run) throw new KilnError('not_found', `No run ${id}.`);
  return run;
}

export const machines = {
  capabilities: method(z.object({}).strict().default({}), async (engine) => {
    const q = await engine.machines.qemuCapabilities();
    return q;
  }),

  list: method(
    z
      .object({ limit: z.number().int().min(1).max(500).default(50) })
      .strict()
      .default({ limit: 50 }),
    (engine, i): MachineSummary[] =>
      engine.machines.repo.list(i.limit).map((r) => summarize(engine.machines, r)),
  ),

  get: method(byRun, (engine, i) => {
    const run = find(engine, i.runId);
    return {
      ...summarize(engine.machines, run),
      spec: run.spec,
      commandLine: run.attachment?.commandLine ?? [],
      events: engine.machines.repo.events(run.id),
    };
  }),

  /** Past runs of one appliance (the Logs tab). */
  history: method(z.object({ appliance: z.string().min(1) }).strict(), (engine, i) => {
    const a = engine.store.appliances.get(i.appliance);
    return engine.machines.repo.listForAppliance(a.id).map((r) => summarize(engine.machines, r));
  }),

  run: method(runInput, (engine, i) =>
    wrap(async () => {
      const row = await engine.machines.run({ ...i, nics: toNics(i.nics) });
      return summarize(engine.machines, row);
    }),
  ),

  stop: method(
    z.object({ runId, timeoutMs: z.number().int().min(0).max(600_000).optional() }).strict(),
    (engine, i) => wrap(() => engine.machines.stop(i.runId, i.timeoutMs)),
  ),
  kill: method(byRun, (engine, i) => wrap(() => engine.machines.kill(i.runId))),
  pause: method(byRun, (engine, i) => wrap(async () => (await engine.machines.pause(i.runId), { ok: true }))),
  resume: method(byRun, (engine, i) =>
    wrap(async () => (await engine.machines.resume(i.runId), { ok: true })),
  ),
  restart: method(byRun, (engine, i) =>
    wrap(async () => summarize(engine.machines, await engine.machines.restart(i.runId))),
  ),

  input: method(z.object({ runId, data: z.string().min(1).max(65536) }).strict(), (engine, i) => {
    engine.machines.sendInput(i.runId, i.data);
    return { ok: true };
  }),

  /** Stored console of a run (gap rows included: they mark dropped or uncaptured output). */
  console: method(
    z
      .object({
        runId,
        afterId: z.number().int().min(0).default(0),
        since: z.number().int().min(0).optional(),
      })
      .strict(),
    (engine, i) => {
      find(engine, i.runId);
      return engine.machines.repo.console(i.runId, { afterId: i.afterId, since: i.since });
    },
  ),

  search: method(z.object({ query: z.string().min(1).max(200) }).strict(), (engine, i) => {
    try {
      return engine.machines.repo.searchConsole(i.query);
    } catch {
      // FTS5 syntax errors: search the words as a phrase instead.
      return engine.machines.repo.searchConsole(`"${i.query.replace(/"/g, '""')}"`);
    }
  }),

  stats: method(z.object({ runId, since: z.number().int().min(0).default(0) }).strict(), (engine, i) => {
    find(engine, i.runId);
    return {
      host: engine.machines.repo.hostSamples(i.runId, i.since),
      net: engine.machines.repo.netSamples(i.runId, i.since),
    };
  }),

  /** Live console: first event is everything captured so far, then text as it arrives. */
  consoleStream: stream<typeof byRun, { runId: number; text: string; history?: boolean }>(
    byRun,
    (engine, i, emit) => {
      const snap = engine.machines.consoleSnapshot(i.runId);
      emit({ runId: i.runId, text: snap.text, history: true });
      const on = (id: number, text: string) => {
        if (id === i.runId) emit({ runId: id, text });
      };
      engine.machines.feed.on('console', on);
      return () => engine.machines.feed.off('console', on);
    },
  ),

  /** Live samples (every second) of one run, or of every run when runId is omitted. */
  samples: stream<z.ZodDefault<z.ZodObject<{ runId: z.ZodOptional<typeof runId> }>>, LiveSample>(
    z.object({ runId: runId.optional() }).strict().default({}),
    (engine, i, emit) => {
      const on = (s: LiveSample) => {
        if (i.runId === undefined || s.runId === i.runId) emit(s);
      };
      engine.machines.feed.on('sample', on);
      return () => engine.machines.feed.off('sample', on);
    },
  ),

  /**
   * Live packet view of one NIC (QEMU filter-dump, added on the first subscriber and removed with
   * the last): batches of summaries at most every 100 ms, with the count of frames the viewer
   * missed. The last batch carries `ended` (VM exited, capture failed).
   */
  packets: stream<typeof captureInput, PacketBatch>(captureInput, (engine, i, emit, end) => {
    let leave: (() => void) | null = null;
    let cancelled = false;
    const batcher = new SummaryBatcher((b) => {
      emit(b);
      if (b.ended !== undefined && b.ended !== 'stopped') end();
    });
    engine.machines.capture(i.runId, i.nic, batcher).then(
      (l) => (cancelled ? l() : (leave = l)),
      (err: unknown) => end(err),
    );
    return () => {
      cancelled = true;
      leave?.();
    };
  }),

  /**
   * A bounded pcap (both transports: the desktop has no HTTP route): captures until `count`
   * frames or `seconds` have passed, at most 16 MiB, and answers the file as base64. Web mode
   * also streams unbounded captures from GET /api/machines/capture.pcap.
   */
  capturePcap: method(
    z
      .object({
        runId,
        nic: z.number().int().min(0).max(7).default(0),
        count: z.number().int().min(1).max(100_000).optional(),
        seconds: z.number().int().min(1).max(300).default(10),
      })
      .strict(),
    (engine, i) =>
      wrap(async () => {
        const chunks: Buffer[] = [];
        const out = new PassThrough();
        out.on('data', (c: Buffer) => chunks.push(c));
        const sink = new PcapSink(out, { count: i.count, seconds: i.seconds, maxBytes: 16 * 1024 * 1024 });
        sink.unsubscribe = await engine.machines.capture(i.runId, i.nic, sink);
        const r = await sink.done;
        out.end();
        await once(out, 'end');
        return { ...r, pcapBase64: Buffer.concat(chunks).toString('base64') };
      }),
  ),

  /** State changes (for lists and notifications: crashed, exited, ...). */
  changes: stream<z.ZodDefault<z.ZodObject<Record<string, never>>>, MachineNotice>(
    z.object({}).strict().default({}),
    (engine, _i, emit) => {
      engine.machines.feed.on('state', emit);
      return () => engine.machines.feed.off('state', emit);
    },
  ),
};
