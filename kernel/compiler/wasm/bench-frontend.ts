// Front-end throughput: decode + validate, in MB/s of module bytes, against V8's own validator
// (WebAssembly.validate) on the same modules in the same run.
//   npx tsx kernel/compiler/wasm/bench-frontend.ts
// Inputs: random valid modules from binaryen's translate-to-fuzz (`wasm-opt -ttf`, features
// limited to our subset) from fixed-seed inputs, so every run measures the same bytes.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadModule } from './index.ts';

const v8 = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
const WASM_OPT = resolve(import.meta.dirname, '../../../node_modules/.bin/wasm-opt');

function seededBytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

function makeModule(dir: string, seed: number, size: number): Uint8Array {
  const input = join(dir, `in${seed}.dat`);
  const output = join(dir, `out${seed}.wasm`);
  writeFileSync(input, seededBytes(seed, size));
  execFileSync(
    WASM_OPT,
    [
      input,
      '-ttf',
      '--disable-reference-types',
      '--disable-gc',
      '--disable-simd',
      '--disable-exception-handling',
      '--disable-tail-call',
      '--disable-threads',
      '-o',
      output,
    ],
    { stdio: 'ignore' },
  );
  return new Uint8Array(readFileSync(output));
}

/** Milliseconds per call, measured over at least `ms` milliseconds after a warm-up. */
function timeIt(f: () => void, ms = 1500): number {
  for (let i = 0; i < 3; i++) f();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    f();
    n++;
  }
  return (performance.now() - t0) / n;
}

const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-fe-'));
try {
  const modules = [1, 2, 3].map((seed) => makeModule(dir, seed * 7919, 1_000_000));
  const total = modules.reduce((a, m) => a + m.length, 0);
  for (const m of modules) loadModule(m); // all must be accepted
  const ours = timeIt(() => {
    for (const m of modules) loadModule(m);
  });
  const theirs = timeIt(() => {
    for (const m of modules) v8.validate(m);
  });
  const mbps = (ms: number): string => (total / ms / 1000).toFixed(1);
  console.log(`modules: ${modules.length}, ${total} bytes (wasm-opt -ttf, fixed seeds)`);
  console.log(`kiln decode+validate: ${ours.toFixed(2)} ms  ${mbps(ours)} MB/s`);
  console.log(`V8 WebAssembly.validate: ${theirs.toFixed(2)} ms  ${mbps(theirs)} MB/s`);
  console.log(`ratio kiln/V8 time: ${(ours / theirs).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
