// GET /api/machines/capture.pcap?runId=N[&nic=0][&count=N][&seconds=S]: a pcap of one NIC of a
// running VM, streamed as it is captured (QEMU filter-dump, on demand) until the count or the
// time is reached, the VM exits, or the client goes away. A client that reads slowly loses frames
// (counted in the engine) instead of stalling the VM.
import type { ServerResponse } from 'node:http';
import type { Engine } from '../engine.ts';
import { KilnError } from '../errors.ts';
import { PcapSink } from '../machines/capture/consumers.ts';

export const CAPTURE_PATH = '/api/machines/capture.pcap';

function intParam(url: URL, name: string, min: number, max: number, fallback?: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new KilnError(
      'invalid_input',
      `${name} must be a whole number from ${min} to ${max}, not "${raw}"`,
      name,
    );
  return n;
}

/** Throws KilnError before anything is sent; afterwards errors end the response. */
export async function serveCapture(engine: Engine, url: URL, res: ServerResponse): Promise<void> {
  const runId = intParam(url, 'runId', 1, Number.MAX_SAFE_INTEGER);
  if (runId === undefined) throw new KilnError('invalid_input', 'runId is required', 'runId');
  const nic = intParam(url, 'nic', 0, 7, 0)!;
  const count = intParam(url, 'count', 1, 10_000_000);
  const seconds = intParam(url, 'seconds', 1, 86_400);
  const run = engine.machines.repo.get(runId);
  if (!run) throw new KilnError('not_found', `No run ${runId}.`);
  const sink = new PcapSink(res, { count, seconds });
  // subscribe first: a refusal (no such NIC, not QEMU, run ended) is still a JSON error
  sink.unsubscribe = await engine.machines.capture(runId, nic, sink);
  res.writeHead(200, {
    'content-type': 'application/vnd.tcpdump.pcap',
    'content-disposition': `attachment; filename="${run.name}-run${runId}-nic${nic}.pcap"`,
    'cache-control': 'no-store',
  });
  sink.begin();
  // the client going away closes `res`, which ends the sink (and the capture with its last consumer)
  await sink.done;
  res.end();
}
