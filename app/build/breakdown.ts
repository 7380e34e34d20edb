// Where an image's bytes come from: kernel base, compiled code, data, embedded assets.

import type { ImageBreakdown } from './types.ts';

function readLeb(bytes: Uint8Array, pos: { i: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos.i++];
    if (b === undefined) throw new Error('truncated LEB128');
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
  }
}

/** Skips a constant expression (i32/i64.const or global.get, then `end`). */
function skipConstExpr(bytes: Uint8Array, pos: { i: number }): void {
  for (;;) {
    const op = bytes[pos.i++];
    if (op === undefined) throw new Error('truncated constant expression');
    if (op === 0x0b) return;
    // The immediate of i32.const, i64.const and global.get is one LEB128; its bytes may hold 0x0b.
    if (op === 0x41 || op === 0x42 || op === 0x23) readLeb(bytes, pos);
  }
}

/** Total payload bytes of a Wasm module's data segments (section 11). */
export function wasmDataBytes(wasm: Uint8Array): number {
  const pos = { i: 8 };
  let total = 0;
  while (pos.i < wasm.length) {
    const id = wasm[pos.i++];
    const size = readLeb(wasm, pos);
    const end = pos.i + size;
    if (id === 11) {
      const count = readLeb(wasm, pos);
      for (let s = 0; s < count; s++) {
        const flags = readLeb(wasm, pos);
        if (flags === 2) readLeb(wasm, pos); // explicit memory index
        if (flags === 0 || flags === 2) skipConstExpr(wasm, pos);
        const len = readLeb(wasm, pos);
        total += len;
        pos.i += len;
      }
    }
    pos.i = end;
  }
  return total;
}

export function breakdown(parts: {
  imageBytes: number;
  baseBytes: number;
  codeBytes: number;
  wasmDataBytes: number;
  configBytes: number;
  assetBytes: number;
}): ImageBreakdown {
  const assets = Math.min(parts.assetBytes, parts.wasmDataBytes);
  const data = parts.wasmDataBytes - assets + parts.configBytes;
  const known = parts.baseBytes + parts.codeBytes + data + assets;
  return {
    kernelBase: parts.baseBytes,
    code: parts.codeBytes,
    data,
    assets,
    other: Math.max(0, parts.imageBytes - known),
    total: parts.imageBytes,
  };
}
