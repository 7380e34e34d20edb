// Differential fuzzer: random valid modules from binaryen's translate-to-fuzz (`wasm-opt -ttf`,
// the pure-JS build in the binaryen package) and real AssemblyScript programs (programs.asc,
// built by asc with varying options and data), run in V8 and as our native code; traces must
// match. Usage: npm run fuzz:compiler -- --seconds N [--seed S] [--verbose]
// Each module gets a step budget (fuel.ts) written into it, identical for both engines, so a
// module that would run for minutes stops at the same point on both sides and is still
// compared. Every mismatch is saved under kernel/compiler/fuzz/cases/ (the fuelled module +
// both traces); saved modules are replayed by cases.test.ts as regression tests.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { differential, type DiffResult } from './differential.ts';
import { addFuel, MAX_DEPTH } from './fuel.ts';
import { runWasmOpt } from './ttf.ts';

const here = dirname(fileURLToPath(import.meta.url));
const WASM_OPT = join(here, '..', '..', '..', 'node_modules', 'binaryen', 'bin', 'wasm-opt');
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
export async function generate(
  seed: bigint,
  dir: string,
  size = 1024 + Number(seed % 24000n),
): Promise<Uint8Array | null> {
  const input = join(dir, 'input.dat');
  const output = join(dir, 'out.wasm');
  writeFileSync(input, randomBytes(seed, size));
  rmSync(output, { force: true });
  // --denan: the spec lets an operation on a non-canonical NaN return any arithmetic NaN, so V8
  // and our code may store different NaN bits, which a later integer load then shows as a
  // difference (seen: f64.min of two such NaNs). The instrumentation turns NaNs into 0 at run
  // time; NaN results themselves are checked by the spec suite's nan_canonical/nan_arithmetic.
  const status = await runWasmOpt(WASM_OPT, [input, '-ttf', ...FEATURES, '--denan', '-o', output]);
  return status === 0 && existsSync(output) ? new Uint8Array(readFileSync(output)) : null;
}

/** Function entries + loop iterations each export call may run (fuel.ts). */
export const FUEL = 500_000;

/** Compares V8 and native on the fuelled module; an exception is a mismatch too. */
function compare(bytes: Uint8Array): DiffResult {
  try {
    return differential(bytes);
  } catch (e) {
    return {
      kind: 'mismatch',
      v8: [`exception: ${String(e).split('\n').slice(0, 5).join(' | ')}`],
      native: [],
    };
  }
}

const ASC_OPTIONS = [
  { optimizeLevel: 0, shrinkLevel: 0, runtime: 'incremental' },
  { optimizeLevel: 3, shrinkLevel: 0, runtime: 'incremental' },
  { optimizeLevel: 2, shrinkLevel: 2, runtime: 'minimal' },
  { optimizeLevel: 3, shrinkLevel: 1, runtime: 'stub' },
  { optimizeLevel: 1, shrinkLevel: 0, runtime: 'stub', noAssert: true },
] as const;

const programCache = new Map<string, Uint8Array | null>();

/**
 * programs.asc built for this seed: data seed, problem size and asc options vary with it. Builds
 * are cached by (options, size class) since asc takes seconds; the data seed varies per build.
 */
async function buildProgram(seed: bigint): Promise<{ bytes: Uint8Array; what: string } | null> {
  const optIndex = Number((seed / 5n) % BigInt(ASC_OPTIONS.length));
  const scale = [1, 8, 37, 64, 200][Number((seed / 25n) % 5n)]!;
  const opts = ASC_OPTIONS[optIndex]!;
  const what = `programs.asc -O${opts.optimizeLevel}s${opts.shrinkLevel} ${opts.runtime} SCALE=${scale}`;
  const key = `${optIndex}/${scale}`;
  if (!programCache.has(key)) {
    const source = readFileSync(join(here, 'programs.asc'), 'utf8')
      .replace('const SEED: u32 = 12345;', `const SEED: u32 = ${Number(seed % 0xffffffffn)};`)
      .replace('const SCALE: i32 = 64;', `const SCALE: i32 = ${scale};`);
    const r = await asc.compileString(source, { ...opts });
    if (!r.binary) console.log(`asc failed: ${r.stderr.toString()}`);
    programCache.set(key, r.binary ?? null);
  }
  const bytes = programCache.get(key);
  return bytes ? { bytes, what } : null;
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
    mismatches = 0;
  const reasons = new Map<string, number>();
  console.log(`fuzz: ${seconds} s, first seed ${seed}`);
  const t0 = Date.now();
  let programs = 0;
  try {
    while (Date.now() < deadline) {
      const s = seed++;
      // Every fifth module is an AssemblyScript program, the rest binaryen's random modules.
      const isProgram = s % 5n === 0n;
      const made = isProgram
        ? await buildProgram(s)
        : ((b) => (b ? { bytes: b, what: 'wasm-opt -ttf' } : null))(await generate(s, dir));
      if (!made) {
        genFailed++;
        continue;
      }
      runs++;
      if (isProgram) programs++;
      const t1 = Date.now();
      const bytes = addFuel(made.bytes, FUEL);
      const r = compare(bytes);
      if (process.argv.includes('--verbose'))
        console.log(`  seed ${s}: ${made.what}, ${bytes.length} bytes, ${r.kind}, ${Date.now() - t1} ms`);
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
          `${made.what}\n\nV8:\n${r.v8.join('\n')}\n\nnative:\n${r.native.join('\n')}\n`,
        );
        console.log(`MISMATCH seed ${s}: saved ${join(CASES, name)}.wasm`);
      }
      if (runs % 25 === 0)
        console.log(
          `  ${runs} modules (${((runs * 1000) / (Date.now() - t0)).toFixed(2)}/s), ${same} same, ${refused} refused, ${mismatches} mismatches`,
        );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const secs = (Date.now() - t0) / 1000;
  console.log(
    `fuzz: ${runs} modules in ${secs.toFixed(0)} s (${(runs / secs).toFixed(2)} modules/s; ${runs - programs} wasm-opt -ttf, ${programs} AssemblyScript), ${same} same, ${refused} refused (feature), ${genFailed} generator failures, ${mismatches} mismatches; fuel ${FUEL} steps and call depth ${MAX_DEPTH} per export call`,
  );
  for (const [k, v] of reasons) console.log(`  refused ${v}: ${k}`);
  process.exit(mismatches > 0 ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
