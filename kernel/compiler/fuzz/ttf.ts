// binaryen's `wasm-opt -ttf` run in this process. Starting the pure-JS wasm-opt (an Emscripten
// build with an 11 MB embedded binary) costs more than generating a module, so the script is
// parsed once and its WebAssembly module compiled once; each run gets a fresh context and a
// fresh instance (clean C++ state), with its own argv. The output is the same file a separate
// `wasm-opt` process writes (compared byte for byte by hand when this was written).

import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

type Imports = Record<string, Record<string, unknown>>;

let script: vm.Script | null = null;
let compiled: WebAssemblyModule | null = null;
let binary: Uint8Array | null = null;

interface WebAssemblyModule {
  readonly kind?: never;
}
interface WasmNamespace {
  Module: new (bytes: Uint8Array) => WebAssemblyModule;
  Instance: new (m: WebAssemblyModule, imports: Imports) => object;
}
const WA = (globalThis as unknown as { WebAssembly: WasmNamespace & Record<string, unknown> }).WebAssembly;

/** Runs wasm-opt (the binaryen package's bin/wasm-opt) with `args`; resolves to its exit status. */
export function runWasmOpt(wasmOptPath: string, args: string[]): Promise<number> {
  if (!script) {
    // The embedded binary is decoded from a 10 MB string on every start: decode it once.
    const src = readFileSync(wasmOptPath, 'utf8')
      .replace(/^#!.*\n/, '')
      .replace(
        'function findWasmBinary(){return binaryDecode(',
        'function findWasmBinary(){return __kilnBinary??binaryDecode(',
      );
    script = new vm.Script(`(function(){${src}\n})()`, { filename: wasmOptPath });
  }
  const wasm = {
    ...Object.fromEntries(Object.getOwnPropertyNames(WA).map((k) => [k, WA[k]])),
    instantiate: (bytes: Uint8Array, imports: Imports) => {
      binary ??= bytes;
      compiled ??= new WA.Module(bytes);
      return Promise.resolve({ instance: new WA.Instance(compiled, imports), module: compiled });
    },
  };
  return new Promise((resolve) => {
    let status: number | undefined;
    const done = (code: number | undefined): void => {
      status = code ?? 0;
      resolve(status);
    };
    const proc = Object.create(process) as NodeJS.Process;
    proc.argv = [process.argv[0]!, wasmOptPath, ...args];
    Object.defineProperty(proc, 'exitCode', {
      set: (v: number) => done(Number(v)),
      get: () => status,
    });
    proc.exit = ((code?: number) => {
      done(code);
      throw new Error('wasm-opt exited');
    }) as NodeJS.Process['exit'];
    proc.on = (() => proc) as unknown as NodeJS.Process['on'];
    const quiet = { write: () => true };
    Object.defineProperty(proc, 'stderr', { value: quiet });
    Object.defineProperty(proc, 'stdout', { value: quiet });
    const sandbox: Record<string, unknown> = {
      __kilnBinary: binary,
      process: proc,
      require: createRequire(wasmOptPath),
      __filename: wasmOptPath,
      __dirname: wasmOptPath.replace(/\/[^/]*$/, ''),
      console: { ...console, log: () => {}, warn: () => {}, error: () => {} },
      WebAssembly: wasm,
      setTimeout,
      clearTimeout,
      TextDecoder,
      TextEncoder,
      URL,
      Buffer,
      performance,
      crypto: globalThis.crypto,
    };
    const ctx = vm.createContext(sandbox);
    sandbox.globalThis = ctx;
    try {
      script!.runInContext(ctx);
    } catch {
      done(1);
    }
  });
}
