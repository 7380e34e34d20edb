// Text format -> binary with the `wabt` npm package (parseWat per module; wabt validates nothing
// here, our own validator does). Also converts float literals of assertions to their bits with
// wabt's text-format rounding, by reading them back from a module of globals with our decoder.

import wabtInit from 'wabt';
import { decodeModule } from '../wasm/decode.ts';
import type { FloatLiteral } from './wast.ts';

type Wabt = Awaited<ReturnType<typeof wabtInit>>;

let wabtPromise: Promise<Wabt> | null = null;

export function getWabt(): Promise<Wabt> {
  wabtPromise ??= wabtInit();
  return wabtPromise;
}

/** Every proposal wabt knows, so that it can encode any module of the suite; we judge features. */
const FEATURES = {
  exceptions: true,
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  simd: true,
  threads: true,
  function_references: true,
  multi_value: true,
  tail_call: true,
  bulk_memory: true,
  reference_types: true,
  extended_const: true,
  memory64: true,
  multi_memory: true,
} as Parameters<Wabt['parseWat']>[2];

export function watToBinary(wabt: Wabt, text: string): Uint8Array {
  // As UTF-8 bytes: given a JS string, wabt mangles characters outside ASCII.
  const mod = wabt.parseWat('spec.wast', new TextEncoder().encode(text), FEATURES);
  try {
    mod.resolveNames();
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

/** Fills in `value.bits` of every float literal (batched: one module per script). */
export function resolveFloats(wabt: Wabt, floats: FloatLiteral[]): void {
  const BATCH = 2000;
  for (let i = 0; i < floats.length; i += BATCH) {
    const batch = floats.slice(i, i + BATCH);
    const text = `(module ${batch.map((f) => `(global ${f.type} (${f.type}.const ${f.text}))`).join(' ')})`;
    const m = decodeModule(watToBinary(wabt, text));
    batch.forEach((f, k) => {
      const init = m.globals[k]!.init;
      if (init.op === 'f32.const') f.value.bits = BigInt(init.bits);
      else if (init.op === 'f64.const') f.value.bits = init.bits;
      else throw new Error(`float literal ${f.text} did not decode`);
    });
  }
}
