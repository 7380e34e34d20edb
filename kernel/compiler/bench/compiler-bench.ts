// npm run bench:compiler [-- --reps N]
// Figures, all measured in this run:
// - compile speed (Wasm body bytes per second) and code size (native bytes per body byte), on the
//   benchmark kernels and on a large binaryen-generated module, next to V8 Liftoff's compile time;
// - run time of the kernels in kernels.asc (asc -O3): our code in kiln-harness vs V8 Liftoff
//   (--liftoff --no-wasm-tier-up --no-wasm-dynamic-tiering) vs V8 TurboFan (--no-liftoff) vs the same kernels in C (gcc -O2).
// Every engine must return the same checksum, or the run fails.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { compileWasm } from '../index.ts';
import { ensureHarness } from '../harness/build.ts';
import { generate } from '../fuzz/fuzz-compiler.ts';

const here = dirname(fileURLToPath(import.meta.url));
const KERNELS = ['crc32', 'sieve', 'quicksort', 'fnv1a', 'dns'];
const repsArg = process.argv.indexOf('--reps');
const REPS = repsArg >= 0 ? Number(process.argv[repsArg + 1]) : 3;

interface Timing {
  ns: number;
  result: string;
}

function parseTimings(text: string): Map<string, Timing> {
  const out = new Map<string, Timing>();
  for (const line of text.trim().split('\n')) {
    const [name, ns, result] = line.split(' ');
    if (name && ns && result) out.set(name, { ns: Number(ns), result: BigInt(`0x${result}`).toString(16) });
  }
  return out;
}

async function buildKernels(): Promise<Uint8Array> {
  const source = readFileSync(join(here, 'kernels.asc'), 'utf8');
  const r = await asc.compileString(source, {
    optimizeLevel: 3,
    shrinkLevel: 0,
    runtime: 'stub',
    noAssert: true,
  });
  if (!r.binary) throw new Error(`asc failed: ${r.stderr.toString()}`);
  return r.binary;
}

function kilnTimes(blobPath: string): Map<string, Timing> {
  const harness = ensureHarness();
  const out = new Map<string, Timing>();
  for (const k of KERNELS) {
    const text = execFileSync(harness, ['time', blobPath, k, String(REPS)], { encoding: 'utf8' });
    const lines = text.trim().split('\n');
    const ok = lines.find((l) => l.startsWith('ok ') && l !== 'ok');
    const ns = lines.find((l) => l.startsWith('ns '));
    if (!ok || !ns) throw new Error(`kiln-harness: ${text}`);
    out.set(k, { ns: Number(ns.slice(3)), result: BigInt(`0x${ok.split(' ')[1]}`).toString(16) });
  }
  return out;
}

function v8Times(wasmPath: string, flags: string[]): Map<string, Timing> {
  const text = execFileSync(
    process.execPath,
    [...flags, join(here, 'v8-runner.mjs'), wasmPath, String(REPS), ...KERNELS],
    { encoding: 'utf8' },
  );
  return parseTimings(text);
}

function cTimes(dir: string): Map<string, Timing> {
  const exe = join(dir, 'kernels-c');
  execFileSync('gcc', ['-O2', '-o', exe, join(here, 'kernels.c')]);
  return parseTimings(execFileSync(exe, ['all', String(REPS)], { encoding: 'utf8' }));
}

function v8CompileMs(wasmPath: string): number {
  // One compile per process: V8 caches compiled modules by their bytes, so a second
  // compile of the same bytes in one process measures the cache.
  const script = `const b=require('fs').readFileSync(${JSON.stringify(wasmPath)});const t=process.hrtime.bigint();new WebAssembly.Module(b);console.log(Number(process.hrtime.bigint()-t)/1e6)`;
  return Number(
    execFileSync(
      process.execPath,
      ['--liftoff', '--no-wasm-tier-up', '--no-wasm-lazy-compilation', '-e', script],
      { encoding: 'utf8' },
    ).trim(),
  );
}

function compileFigures(name: string, bytes: Uint8Array, dir: string): void {
  let best = Infinity;
  let stats = compileWasm(bytes).stats;
  for (let i = 0; i < REPS; i++) {
    const t = performance.now();
    stats = compileWasm(bytes).stats;
    best = Math.min(best, performance.now() - t);
  }
  const path = join(dir, `${name}.wasm`);
  writeFileSync(path, bytes);
  const v8 = v8CompileMs(path);
  const mbps = (stats.bodyBytes / 1e6 / (best / 1000)).toFixed(2);
  console.log(
    `compile ${name}: ${bytes.length} bytes (${stats.bodyBytes} in bodies, ${stats.functions} functions): ` +
      `${best.toFixed(1)} ms = ${mbps} MB/s of bodies (front end ${stats.ms.frontend.toFixed(1)} ms, codegen ${stats.ms.codegen.toFixed(1)} ms); ` +
      `code ${stats.codeBytes} bytes = ${(stats.codeBytes / stats.bodyBytes).toFixed(2)} native bytes per body byte; ` +
      `V8 Liftoff compile ${v8.toFixed(1)} ms (ratio kiln/Liftoff ${(best / v8).toFixed(2)})`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  try {
    const wasm = await buildKernels();
    const wasmPath = join(dir, 'kernels.wasm');
    writeFileSync(wasmPath, wasm);
    compileFigures('kernels', wasm, dir);
    const big = await generate(424242n, dir, 1 << 20);
    if (big) compileFigures('binaryen-ttf', big, dir);

    const blobPath = join(dir, 'kernels.blob');
    writeFileSync(blobPath, compileWasm(wasm).blob);
    const kiln = kilnTimes(blobPath);
    // V8 11 (Node 20) still tiers hot functions up to TurboFan under --no-wasm-tier-up (dynamic
    // tiering; --print-wasm-code shows TurboFan code for sieve): Liftoff alone needs both flags.
    const liftoff = v8Times(wasmPath, ['--liftoff', '--no-wasm-tier-up', '--no-wasm-dynamic-tiering']);
    const turbofan = v8Times(wasmPath, ['--no-liftoff']);
    const gcc = cTimes(dir);

    const ms = (t: Timing | undefined): string => (t ? (t.ns / 1e6).toFixed(1).padStart(9) : '      n/a');
    console.log(`\nrun time, best of ${REPS} (ms)`);
    console.log('kernel        kiln   liftoff  turbofan   gcc -O2   kiln/TF  kiln/Liftoff  kiln/gcc');
    let failed = false;
    for (const k of KERNELS) {
      const [a, l, t, c] = [kiln.get(k), liftoff.get(k), turbofan.get(k), gcc.get(k)];
      const results = new Set([a?.result, l?.result, t?.result, c?.result]);
      if (results.size !== 1) {
        failed = true;
        console.log(
          `${k}: RESULTS DIFFER kiln=${a?.result} liftoff=${l?.result} turbofan=${t?.result} gcc=${c?.result}`,
        );
      }
      const ratio = (x: Timing | undefined): string =>
        a && x ? (a.ns / x.ns).toFixed(2).padStart(8) : '     n/a';
      console.log(
        `${k.padEnd(10)}${ms(a)}${ms(l)}${ms(t)}${ms(c)}  ${ratio(t)}  ${ratio(l)}      ${ratio(c)}`,
      );
    }
    console.log('\ngoals: kiln/TF <= 1.5 and kiln/Liftoff < 1 on every kernel');
    if (failed) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
