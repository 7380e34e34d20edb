// `kiln capture <run> -o file.pcap [--count N] [--seconds S] [--nic N]`: a pcap of a running
// VM's NIC through QEMU's filter-dump, added for the capture and removed after it. Written to a
// temporary file beside the target and renamed at the end, so an interrupted capture never leaves
// a half-written file under the requested name (Ctrl-C ends the capture and keeps what it has).
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { int, str, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { PcapSink } from '../../machines/capture/consumers.ts';
import { resolveRun } from '../../machines/views.ts';

export const captureCommand: Command = {
  name: 'capture',
  args: '<run-or-appliance> -o FILE.pcap [--count N] [--seconds S] [--nic N]',
  summary: 'capture the packets of a running VM into a pcap file (until Ctrl-C, a count or a time)',
  flags: {
    output: { type: 'string', short: 'o', value: 'FILE', help: 'pcap file to write (required)' },
    count: { type: 'string', value: 'N', help: 'stop after N frames' },
    seconds: { type: 'string', value: 'S', help: 'stop after S seconds' },
    nic: { type: 'string', value: 'N', help: 'NIC index (default 0)' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  positionals: [1, 1],
  async run(p, ctx) {
    const out = str(p, 'output');
    if (!out) throw new UsageError('give the pcap file to write with -o FILE.pcap');
    const count = int(p, 'count', 1, 10_000_000);
    const seconds = int(p, 'seconds', 1, 86_400);
    const nic = int(p, 'nic', 0, 7) ?? 0;
    const engine = ctx.engine();
    const run = resolveRun(
      engine.machines,
      p.positionals[0]!,
      (name) => engine.store.appliances.find(name)?.id,
    );
    const target = resolve(out);
    const tmp = `${target}.part-${process.pid}`;
    const file = createWriteStream(tmp);
    const sink = new PcapSink(file, { count, seconds });
    try {
      sink.unsubscribe = await engine.machines.capture(run.id, nic, sink);
    } catch (err) {
      file.destroy();
      rmSync(tmp, { force: true });
      throw err;
    }
    sink.begin();
    if (!ctx.json) ctx.out(`capturing NIC ${nic} of run ${run.id} (${run.name}) into ${target}…`);
    void ctx.interrupted.then(() => sink.onEnd('interrupted'));
    const result = await sink.done;
    await new Promise<void>((r, reject) => file.end((err?: Error | null) => (err ? reject(err) : r())));
    renameSync(tmp, target);
    if (ctx.json) ctx.out(JSON.stringify({ runId: run.id, nic, file: target, ...result }, null, 2));
    else
      ctx.out(
        `${result.frames} frame(s) written to ${target} (${result.reason})` +
          (result.dropped ? `; ${result.dropped} dropped (the file could not keep up)` : ''),
      );
    return 0;
  },
};
