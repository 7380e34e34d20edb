// The few WebAssembly API shapes the Node-side code of the library uses (the project's TS lib
// settings declare no WebAssembly namespace).
export interface WasmMemory {
  buffer: ArrayBuffer;
}
export interface WasmApi {
  /** Synchronous compile and instantiation, for small modules. */
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  instantiate(
    bytes: Uint8Array,
    imports: object,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
