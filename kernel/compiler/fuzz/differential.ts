// Differential execution: one module run by V8 (in this process) and by our compiled code in
// kiln-harness (fuzz mode), both printing the same trace: every fuzzing-support.log-* call and
// every export's results, calling the exports in order with zero arguments. Floats print as the
// bits of the double JavaScript sees, NaN as "nan" (NaN payloads are not deterministic).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileWasm } from '../index.ts';
import { loadModule } from '../wasm/index.ts';
import { funcTypeOf, WasmError } from '../wasm/types.ts';
import { ensureHarness } from '../harness/build.ts';
import { RESET_EXPORT } from './fuel.ts';

// Node has WebAssembly; the project's TypeScript lib settings do not declare it.
interface WasmInstance {
  exports: Record<string, unknown>;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
  RuntimeError: new (message?: string) => Error;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const hex = (v: bigint, digits: number): string =>
  BigInt.asUintN(digits * 4, v)
    .toString(16)
    .padStart(digits, '0');
function floatLine(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v, true);
  return hex(b.getBigUint64(0, true), 16);
}

/** The trace V8 produces. */
export function runInV8(bytes: Uint8Array): string[] {
  const { module } = loadModule(bytes);
  const out: string[] = [];
  let instance: WasmInstance | undefined;
  const funcExports = module.exports.filter((e) => e.kind === 'func');
  const callExport = (index: number): void => {
    const ex = funcExports[index >>> 0];
    if (!ex || !instance) throw new WA.RuntimeError('call-export: no such export');
    const type = funcTypeOf(module, ex.index);
    (instance!.exports[ex.name] as (...a: unknown[]) => unknown)(
      ...type.params.map((t) => (t === 0x7e ? 0n : 0)),
    );
  };
  // AssemblyScript's env.abort, printed as kiln-harness prints it (harness.c env_abort).
  const asString = (ptr: number): string => {
    const memory = instance?.exports.memory as { buffer: ArrayBuffer } | undefined;
    if (!memory || ptr < 4 || ptr > memory.buffer.byteLength) return '?';
    const view = new DataView(memory.buffer);
    const len = view.getUint32(ptr - 4, true);
    if (len > memory.buffer.byteLength - ptr) return '?';
    let s = '';
    for (let k = 0; k + 1 < len; k += 2) {
      const c = view.getUint16(ptr + k, true);
      s += c < 128 ? String.fromCharCode(c) : '?';
    }
    return s;
  };
  const imports = {
    env: {
      abort: (msg: number, file: number, line: number, col: number) => {
        out.push(`abort: ${asString(msg)} at ${asString(file)}:${line >>> 0}:${col >>> 0}`);
        throw new WA.RuntimeError('abort');
      },
    },
    'fuzzing-support': {
      'call-export': (index: number) => callExport(index),
      'call-export-catch': (index: number) => {
        try {
          callExport(index);
          return 0;
        } catch {
          return 1;
        }
      },
      sleep: (_ms: number, id: number) => id,
      'log-i32': (v: number) => void out.push(`log i32 ${hex(BigInt(v), 8)}`),
      'log-i64': (v: bigint) => void out.push(`log i64 ${hex(v, 16)}`),
      'log-f32': (v: number) => void out.push(`log f ${floatLine(v)}`),
      'log-f64': (v: number) => void out.push(`log f ${floatLine(v)}`),
    },
  };
  try {
    instance = new WA.Instance(new WA.Module(bytes), imports);
  } catch (e) {
    if (e instanceof WA.RuntimeError || e instanceof RangeError) return [...out, 'instantiate trap'];
    throw e;
  }
  const reset = instance.exports[RESET_EXPORT] as (() => void) | undefined;
  for (const ex of module.exports) {
    if (ex.kind !== 'func' || ex.name === RESET_EXPORT) continue;
    reset?.();
    out.push(`call ${ex.name}`);
    const type = funcTypeOf(module, ex.index);
    const fn = instance.exports[ex.name] as (...args: unknown[]) => unknown;
    let r: unknown;
    try {
      r = fn(...type.params.map((t) => (t === 0x7e ? 0n : 0)));
    } catch (e) {
      if (e instanceof WA.RuntimeError || e instanceof RangeError) {
        out.push('trap');
        continue;
      }
      throw e;
    }
    const values = type.results.length > 1 ? (r as unknown[]) : type.results.length === 1 ? [r] : [];
    type.results.forEach((t, i) => {
      const v = values[i];
      if (t === 0x7f) out.push(`result i32 ${hex(BigInt(v as number), 8)}`);
      else if (t === 0x7e) out.push(`result i64 ${hex(v as bigint, 16)}`);
      else out.push(`result f ${floatLine(v as number)}`);
    });
  }
  return out;
}

/** The trace our compiled code produces. */
export function runNative(bytes: Uint8Array): string[] {
  const { blob } = compileWasm(bytes);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-diff-'));
  try {
    const path = join(dir, 'm.blob');
    writeFileSync(path, blob);
    let text: string;
    try {
      // Traces can be long (a module may log in a loop until its fuel runs out): no 1 MiB cap.
      text = execFileSync(ensureHarness(), ['fuzz', path], {
        encoding: 'utf8',
        timeout: 60000,
        maxBuffer: 1 << 30,
      });
    } catch (e) {
      const err = e as { stdout?: string; status?: number };
      text = `${err.stdout ?? ''}harness exit ${err.status}\n`;
    }
    return text.split('\n').filter((l) => l.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type DiffResult =
  | { kind: 'same'; lines: number }
  | { kind: 'refused'; reason: string }
  | { kind: 'mismatch'; v8: string[]; native: string[] };

export function differential(bytes: Uint8Array): DiffResult {
  try {
    loadModule(bytes);
  } catch (e) {
    if (e instanceof WasmError && e.kind === 'unsupported') return { kind: 'refused', reason: e.reason };
    throw e;
  }
  const v8 = runInV8(bytes);
  const native = runNative(bytes);
  if (v8.length === native.length && v8.every((l, i) => l === native[i]))
    return { kind: 'same', lines: v8.length };
  return { kind: 'mismatch', v8, native };
}
