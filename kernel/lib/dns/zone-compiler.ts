// The zone compiler the BUILD runs under Node (zone-compiler-host.ts): master-file text in,
// the binary zone of zone-blob.ts out. The appliance only links the loader.

import { parseZone } from './zone-parser';
import { encodeZone } from './zone-blob';

let input = new Uint8Array(1 << 16);
let out = new Uint8Array(0);

/** Makes room for `len` input bytes. */
export function reserve(len: i32): void {
  if (len > input.length) input = new Uint8Array(len);
}

export function inPtr(): usize {
  return input.dataStart;
}

export function outPtr(): usize {
  return out.dataStart;
}

/**
 * Input: `originLen` bytes of initial origin, then `textLen` bytes of master-file text (UTF-8).
 * Returns the blob's length (>= 0), or minus the length of the error message (UTF-8) in out.
 */
export function compile(originLen: i32, textLen: i32): i32 {
  const origin = String.UTF8.decodeUnsafe(input.dataStart, <usize>originLen);
  const text = String.UTF8.decodeUnsafe(input.dataStart + <usize>originLen, <usize>textLen);
  const res = parseZone(text, origin);
  if (res.zone === null) {
    out = Uint8Array.wrap(String.UTF8.encode(res.error));
    return -out.length;
  }
  out = encodeZone(res.zone!);
  return out.length;
}
