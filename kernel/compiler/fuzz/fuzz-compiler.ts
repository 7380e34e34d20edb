// Differential fuzzer: random valid modules from binaryen's translate-to-fuzz (`wasm-opt -ttf`,
// the pure-JS build in the binaryen package) run in V8 and as our native code; traces must match.
// Usage: npm run fuzz:compiler -- --seconds N [--seed S]
// Every mismatch is saved under kernel/compiler/fuzz/cases/ (module + both traces); saved
// modules are replayed by cases.test.ts as regression tests.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiffResult } from './differential.ts';

const here = dirname(fileURLToPath(import.meta.url));
const WASM_OPT = join(here, '..', '..', '..', 'node_modules', '.bin', 'wasm-opt');
const CASES = join(here, 'cases');
/** Only the features Kiln accepts. */
const FEATURES = [
  '--disable-reference-types',
  '--disable-gc',
  '--disable-simd',
  '--disable-threads',
  '--disable-exception-handling',
  '--disable-tail-call',
  '--disable-memory64',
  '--disable-multimemory',
  '--disable-extended-const',
  '--disable-strings',
  '--disable-relaxed-simd',
  '--disable-custom-descriptors',
  '--disable-fp16',
  '--disable-bulk-memory-opt',
  '--disable-call-indirect-overlong',
  '--enable-bulk-memory',
  '--enable-sign-ext',
  '--enable-nontrapping-float-to-int',
  '--enable-multivalue',
  '--enable-mutable-globals',
];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** xorshift64*: reproducible random bytes from the seed. */
function randomBytes(seed: bigint, n: number): Uint8Array {
  let x = seed | 1n;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x >> 12n;
    x ^= (x << 25n) & 0xffffffffffffffffn;
    x ^= x >> 27n;
    out[i] = Number(((x * 0x2545f4914f6cdd1dn) >> 56n) & 0xffn);
  }
  return out;
}

/** Generates the module for one seed with wasm-opt -ttf (null if binaryen fails). */
export function generate(seed: bigint, dir: string, size = 1024 + Number(seed % 24000n)): Uint8Array | null {
  const input = join(dir, 'input.dat');
  const output = join(dir, 'out.wasm');
  writeFileSync(input, randomBytes(seed, size));
  try {
    execFileSync(WASM_OPT, [input, '-ttf', ...FEATURES, '-o', output], { stdio: 'ignore', timeout: 120000 });
    return new Uint8Array(readFileSync(output));
  } catch {
    return null;
  }
}

/** Runs the differential check in a child process with a time limit. */
function runChild(bytes: Uint8Array, dir: string): DiffResult | { kind: 'timeout' } {
  const path = join(dir, 'module.wasm');
  writeFileSync(path, bytes);
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'diff-cli.ts'), path], {
      encoding: 'utf8',
      timeout: 30000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out) as DiffResult;
  } catch (e) {
    const err = e as { signal?: string; stderr?: string };
    if (err.signal === 'SIGTERM') return { kind: 'timeout' };
    return {
      kind: 'mismatch',
      v8: [`exception: ${(err.stderr ?? String(e)).split('\n').slice(0, 5).join(' | ')}`],
      native: [],
    };
  }
}

async function main(): Promise<void> {
  const seconds = Number(arg('--seconds') ?? '60');
  let seed = BigInt(arg('--seed') ?? Date.now());
  const deadline = Date.now() + seconds * 1000;
  const dir = mkdtempSync(join(tmpdir(), 'kiln-fuzz-'));
  let runs = 0,
    same = 0,
    refused = 0,
    genFailed = 0,
    mismatches = 0,
    timeouts = 0;
  const reasons = new Map<string, number>();
  console.log(`fuzz: ${seconds} s, first seed ${seed}`);
  try {
    while (Date.now() < deadline) {
      const s = seed++;
      const bytes = generate(s, dir);
      if (!bytes) {
        genFailed++;
        continue;
      }
      runs++;
      const t0 = Date.now();
      const r = runChild(bytes, dir);
      if (process.argv.includes('--verbose'))
        console.log(`  seed ${s}: ${bytes.length} bytes, ${r.kind}, ${Date.now() - t0} ms`);
      if (r.kind === 'timeout') {
        timeouts++;
        continue;
      }
      if (r.kind === 'same') same++;
      else if (r.kind === 'refused') {
        refused++;
        reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
      } else {
        mismatches++;
        mkdirSync(CASES, { recursive: true });
        const name = `seed-${s}`;
        writeFileSync(join(CASES, `${name}.wasm`), bytes);
        writeFileSync(
          join(CASES, `${name}.txt`),
          `V8:\n${r.v8.join('\n')}\n\nnative:\n${r.native.join('\n')}\n`,
        );
        console.log(`MISMATCH seed ${s}: saved ${join(CASES, name)}.wasm`);
      }
      if (runs % 10 === 0)
        console.log(`  ${runs} modules, ${same} same, ${refused} refused, ${mismatches} mismatches`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `fuzz: ${runs} modules, ${same} same, ${refused} refused (feature), ${genFailed} generator failures, ${timeouts} timeouts (> 30 s: inconclusive, not compared), ${mismatches} mismatches`,
  );
  for (const [k, v] of reasons) console.log(`  refused ${v}: ${k}`);
  process.exit(mismatches > 0 ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
