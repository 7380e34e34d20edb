// Thin wrappers over the kiln.* imports of kernel/ABI.md section 1.

export const OK: i32 = 0;
export const AGAIN: i32 = 1;
export const EINVAL: i32 = 2;
export const EUNSPEC: i32 = 3;

// @ts-ignore: decorator
@external("kiln", "console_write") declare function kiln_console_write(ptr: usize, len: i32): i32;
// @ts-ignore: decorator
@external("kiln", "clock_monotonic") declare function kiln_clock_monotonic(): i64;
// @ts-ignore: decorator
@external("kiln", "clock_wall") declare function kiln_clock_wall(): i64;
// @ts-ignore: decorator
@external("kiln", "yield") declare function kiln_yield(deadline: i64): i64;
// @ts-ignore: decorator
@external("kiln", "net_count") declare function kiln_net_count(): i32;
// @ts-ignore: decorator
@external("kiln", "net_info") declare function kiln_net_info(h: i32, out: usize): i32;
// @ts-ignore: decorator
@external("kiln", "net_read") declare function kiln_net_read(h: i32, buf: usize, size: i32, lenOut: usize): i32;
// @ts-ignore: decorator
@external("kiln", "net_write") declare function kiln_net_write(h: i32, buf: usize, len: i32): i32;
// @ts-ignore: decorator
@external("kiln", "block_count") declare function kiln_block_count(): i32;
// @ts-ignore: decorator
@external("kiln", "block_info") declare function kiln_block_info(h: i32, out: usize): i32;
// @ts-ignore: decorator
@external("kiln", "block_read") declare function kiln_block_read(h: i32, offset: i64, buf: usize, len: i32): i32;
// @ts-ignore: decorator
@external("kiln", "block_write") declare function kiln_block_write(h: i32, offset: i64, buf: usize, len: i32): i32;
// @ts-ignore: decorator
@external("kiln", "args_get") declare function kiln_args_get(buf: usize, size: i32): i32;
// @ts-ignore: decorator
@external("kiln", "config_get") declare function kiln_config_get(buf: usize, size: i32): i32;
// @ts-ignore: decorator
@external("kiln", "random_get") declare function kiln_random_get(buf: usize, len: i32): i32;
// @ts-ignore: decorator
@external("kiln", "exit") declare function kiln_exit(status: i32): void;

export function consoleWrite(b: Uint8Array): void {
  kiln_console_write(b.dataStart, b.length);
}

export function nowNs(): i64 {
  return kiln_clock_monotonic();
}

export function nowMs(): i64 {
  return kiln_clock_monotonic() / 1000000;
}

export function wallNs(): i64 {
  return kiln_clock_wall();
}

/** Sleeps until `deadline` (monotonic ns) or a NIC is ready; returns the ready set. */
export function sysYield(deadline: i64): i64 {
  return kiln_yield(deadline);
}

export function randomBytes(out: Uint8Array): void {
  kiln_random_get(out.dataStart, out.length);
}

const rnd = new Uint8Array(4);
export function randomU32(): u32 {
  kiln_random_get(rnd.dataStart, 4);
  return load<u32>(rnd.dataStart);
}

function readBlob(config: bool): string {
  let buf = new Uint8Array(256);
  let n = config ? kiln_config_get(buf.dataStart, buf.length) : kiln_args_get(buf.dataStart, buf.length);
  if (n > buf.length) {
    buf = new Uint8Array(n);
    n = config ? kiln_config_get(buf.dataStart, buf.length) : kiln_args_get(buf.dataStart, buf.length);
  }
  if (n <= 0) return "";
  return String.UTF8.decodeUnsafe(buf.dataStart, min(n, buf.length));
}

export function args(): string {
  return readBlob(false);
}

export function configText(): string {
  return readBlob(true);
}

export function exit(status: i32): void {
  kiln_exit(status);
}

// ---- NICs (used by eth.ts) ----
export function netCount(): i32 {
  return kiln_net_count();
}

export function netInfo(h: i32, out: Uint8Array): i32 {
  return kiln_net_info(h, out.dataStart);
}

export function netRead(h: i32, buf: Uint8Array, lenOut: Uint32Array): i32 {
  return kiln_net_read(h, buf.dataStart, buf.length, lenOut.dataStart);
}

export function netWrite(h: i32, buf: usize, len: i32): i32 {
  return kiln_net_write(h, buf, len);
}

// ---- block devices ----
export class BlockInfo {
  capacity: u64 = 0;
  blockSize: u32 = 512;
}

export function blockCount(): i32 {
  return kiln_block_count();
}

export function blockInfo(h: i32): BlockInfo {
  const out = new Uint8Array(16);
  const info = new BlockInfo();
  if (kiln_block_info(h, out.dataStart) == OK) {
    info.capacity = load<u64>(out.dataStart);
    info.blockSize = <u32>load<u64>(out.dataStart + 8);
  }
  return info;
}

export function blockRead(h: i32, offset: i64, buf: Uint8Array): i32 {
  return kiln_block_read(h, offset, buf.dataStart, buf.length);
}

export function blockWrite(h: i32, offset: i64, buf: Uint8Array): i32 {
  return kiln_block_write(h, offset, buf.dataStart, buf.length);
}
