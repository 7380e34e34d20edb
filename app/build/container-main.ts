// Entry point inside the builder container: runs the pipeline on the request given as the first
// argument (JSON) and writes one JSON message per line on stdout (the worker protocol's shapes),
// which the container builder on the host turns back into events.

import { runPipeline } from './pipeline.ts';
import { realToolchain } from './toolchain.ts';
import { BuildFailure } from './errors.ts';
import type { BuildRequest } from './types.ts';
import type { WorkerOut } from './worker-protocol.ts';

function send(msg: WorkerOut): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

const request = JSON.parse(process.argv[2] ?? '{}') as BuildRequest;
try {
  const artefact = await runPipeline(request, {
    toolchain: realToolchain(),
    builder: 'docker',
    emit: (event) => send({ type: 'event', id: 0, event }),
  });
  send({ type: 'done', id: 0, artefact });
} catch (err) {
  const failure =
    err instanceof BuildFailure
      ? err
      : new BuildFailure('resolve', err instanceof Error ? err.message : String(err));
  send({ type: 'failed', id: 0, failure: failure.data() });
  process.exitCode = 1;
}
