// The few WebAssembly API shapes the Node-side code of the library uses (the project's TS lib
// settings declare no WebAssembly namespace).
export interface WasmMemory {
  buffer: ArrayBuffer;
}
export interface WasmApi {
  instantiate(
    bytes: Uint8Array,
    imports: object,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
