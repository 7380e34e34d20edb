// The fuzz runner's hang detector, run as a worker thread (source text, `eval: true`): the runner
// bumps ctl[0] for every input and sets ctl[1] to its length while the call is in flight (-1 when
// idle). When one input stays in flight longer than hangMs, the worker prints it and kills the
// process: the runner's own thread is stuck in the Wasm and cannot report anything.
export const watchdogSource = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { shared, hangMs, target, seed } = workerData;
const ctl = new Int32Array(shared, 0, 4);
const input = new Uint8Array(shared, 16);
let seen = Atomics.load(ctl, 0);
let since = Date.now();
for (;;) {
  Atomics.wait(ctl, 0, seen, 1000);
  const now = Atomics.load(ctl, 0);
  if (now !== seen) {
    seen = now;
    since = Date.now();
    continue;
  }
  const n = Atomics.load(ctl, 1);
  if (n >= 0 && Date.now() - since > hangMs) {
    const hex = Buffer.from(input.subarray(0, n)).toString('hex');
    writeSync(2, target + ': hang: one input ran ' + (Date.now() - since) + ' ms (seed ' + seed + '); input ' + hex + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}
`;
