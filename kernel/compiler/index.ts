// The compiler's public API: Wasm bytes -> native appliance blob, and blob + kernel base -> image.
//
//   const { blob, stats } = compileWasm(bytes, { onProgress });
//   const image = linkImage({ blob, baseElf });

import { loadModule } from './wasm/index.ts';
import { generateCode } from './codegen/module.ts';
import { writeBlob } from './link/blob.ts';
import { linkElfImage } from './link/elf.ts';
import { checkKernelImports } from './link/imports.ts';

export { LinkError } from './link/elf.ts';
export { KERNEL_IMPORTS, blobImports } from './link/imports.ts';

export type CompileStage = 'decode' | 'validate' | 'codegen' | 'blob' | 'link';

export interface CompileProgress {
  stage: CompileStage;
  /** 0..1 within the stage. */
  fraction: number;
  message: string;
}

export interface CompileOptions {
  onProgress?: (p: CompileProgress) => void;
}

export interface CompileStats {
  wasmBytes: number;
  functions: number;
  /** Bytes of function bodies in the Wasm module. */
  bodyBytes: number;
  /** Native code bytes (before page padding). */
  codeBytes: number;
  /** Data segment bytes baked into the blob. */
  dataBytes: number;
  /** Header, tables and strings. */
  metadataBytes: number;
  blobBytes: number;
  /** Milliseconds per stage. */
  ms: { frontend: number; codegen: number; blob: number };
}

export interface CompileResult {
  blob: Uint8Array;
  stats: CompileStats;
}

/** Compiles a Wasm module to a native blob. Throws WasmError for refused modules. */
export function compileWasm(bytes: Uint8Array, opts: CompileOptions = {}): CompileResult {
  const progress = opts.onProgress ?? (() => {});
  const t0 = performance.now();
  progress({ stage: 'decode', fraction: 0, message: `decoding ${bytes.length} bytes` });
  const { module } = loadModule(bytes);
  progress({ stage: 'validate', fraction: 1, message: `${module.functions.length} functions valid` });
  const t1 = performance.now();
  let last = 0;
  const cg = generateCode(module, (done, total) => {
    if (done === total || done - last >= 256) {
      last = done;
      progress({ stage: 'codegen', fraction: done / total, message: `${done}/${total} functions` });
    }
  });
  const t2 = performance.now();
  const layout = writeBlob(module, cg);
  const t3 = performance.now();
  progress({ stage: 'blob', fraction: 1, message: `blob ${layout.blob.length} bytes` });
  return {
    blob: layout.blob,
    stats: {
      wasmBytes: bytes.length,
      functions: module.functions.length,
      bodyBytes: cg.bodyBytes,
      codeBytes: cg.code.length,
      dataBytes: layout.dataBytes,
      metadataBytes: layout.metadataBytes,
      blobBytes: layout.blob.length,
      ms: { frontend: t1 - t0, codegen: t2 - t1, blob: t3 - t2 },
    },
  };
}

export interface LinkInput {
  blob: Uint8Array;
  baseElf: Uint8Array;
  /** The appliance's configuration JSON (UTF-8), read by `kiln.config_get`. */
  config?: Uint8Array;
}

/**
 * Appends the blob to the kernel base ELF as one more PT_LOAD and fills `.kiln_appliance`.
 * Throws LinkError naming any import the kernel base does not provide.
 */
export function linkImage(input: LinkInput): Uint8Array {
  checkKernelImports(input.blob);
  return linkElfImage(input.baseElf, input.blob, input.config);
}
