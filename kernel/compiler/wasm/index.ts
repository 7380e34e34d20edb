// The front end's entry point: bytes in, a decoded and validated module out (or a WasmError
// with the spec's reason, or naming the refused feature and the function).

import { decodeModule } from './decode.ts';
import type { WasmModule } from './types.ts';
import { validateModule, type ValidationInfo } from './validate.ts';

export { decodeModule } from './decode.ts';
export { validateModule, type ValidationInfo } from './validate.ts';
export * from './types.ts';

export interface LoadedModule {
  module: WasmModule;
  info: ValidationInfo;
}

/** Decodes and validates; throws WasmError (kind malformed | invalid | unsupported). */
export function loadModule(bytes: Uint8Array): LoadedModule {
  const module = decodeModule(bytes);
  return { module, info: validateModule(module) };
}
