// The bundled builder's worker thread: runs the pipeline off the engine's (and the UI's) event
// loop. One build at a time; the thread stays alive between builds so the compilers stay loaded.
// Messages in: {type:'build', id, request} | {type:'cancel', id}.
// Messages out: {type:'event', id, event} | {type:'done', id, artefact} | {type:'failed', id, failure}.

import { parentPort, workerData } from 'node:worker_threads';
import { BuildCache } from './cache.ts';
import { runPipeline } from './pipeline.ts';
import { realToolchain, type ToolchainPaths } from './toolchain.ts';
import { BuildFailure } from './errors.ts';
import type { WorkerIn, WorkerOut } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('app/build/worker.ts must run as a worker thread');

// The builder passes where the library OS and the compiler are (app/build/locations.ts); a
// checkout's worker may be started without, and then uses the checkout's.
const toolchain = realToolchain((workerData as { toolchain?: ToolchainPaths } | null)?.toolchain);
const running = new Map<number, AbortController>();
// Set by scripts/test.mjs: a folder shared by every test of one run, where asc output is kept by
// its content key, so each distinct AssemblyScript input is compiled once per run instead of once
// per test home (asc -O3 of a networked template costs a minute on a 2-core machine).
const sharedDir = process.env.KILN_TEST_WASM_MEMO;
const sharedWasm = sharedDir ? new BuildCache(sharedDir) : undefined;

function send(msg: WorkerOut): void {
  port!.postMessage(msg);
}

port.on('message', (msg: WorkerIn) => {
  if (msg.type === 'cancel') {
    running.get(msg.id)?.abort();
    return;
  }
  const ac = new AbortController();
  running.set(msg.id, ac);
  runPipeline(msg.request, {
    toolchain,
    signal: ac.signal,
    builder: 'bundled',
    sharedWasm,
    emit: (event) => send({ type: 'event', id: msg.id, event }),
  })
    .then((artefact) => send({ type: 'done', id: msg.id, artefact }))
    .catch((err: unknown) => {
      const failure =
        err instanceof BuildFailure
          ? err
          : new BuildFailure('resolve', err instanceof Error ? err.message : String(err));
      send({ type: 'failed', id: msg.id, failure: failure.data() });
    })
    .finally(() => running.delete(msg.id));
});
