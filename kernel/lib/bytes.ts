// Big-endian (network order) accessors on raw memory.

// @ts-ignore: decorator
@inline export function get16(p: usize): u32 {
  return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p + 1);
}

// @ts-ignore: decorator
@inline export function get32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

// @ts-ignore: decorator
@inline export function put16(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >> 8));
  store<u8>(p + 1, <u8>v);
}

// @ts-ignore: decorator
@inline export function put32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}

/**
 * Internet checksum partial sum (RFC 1071) of `len` bytes at `p` added to `sum`, folded to 16
 * bits (not complemented). The bytes are summed as little-endian words, 8 at a time: a ones'
 * complement sum is byte-order independent (RFC 1071 section 2(B)), so the folded sum only needs
 * its two bytes swapped at the end. Every load is bounds-checked in the compiled appliance, so
 * one 8-byte load instead of eight byte loads is most of this function's speed.
 */
export function csumAdd(sum: u32, p: usize, len: i32): u32 {
  let s: u64 = 0;
  let i = 0;
  while (i + 32 <= len) {
    const a = load<u64>(p + i);
    const b = load<u64>(p + i + 8);
    const c = load<u64>(p + i + 16);
    const d = load<u64>(p + i + 24);
    s += (a & 0xffffffff) + (a >> 32) + (b & 0xffffffff) + (b >> 32) + (c & 0xffffffff) + (c >> 32) + (d & 0xffffffff) + (d >> 32);
    i += 32;
  }
  while (i + 8 <= len) {
    const a = load<u64>(p + i);
    s += (a & 0xffffffff) + (a >> 32);
    i += 8;
  }
  if (i + 4 <= len) {
    s += <u64>load<u32>(p + i);
    i += 4;
  }
  if (i + 2 <= len) {
    s += <u64>load<u16>(p + i);
    i += 2;
  }
  if (i < len) s += <u64>load<u8>(p + i); // the odd last byte is the high byte of a BE word
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  let r: u32 = ((<u32>s & 0xff) << 8) | (<u32>s >> 8);
  r += sum;
  while (r >> 16) r = (r & 0xffff) + (r >> 16);
  return r;
}

export function csumFinish(sum: u32): u32 {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

export function ipToString(ip: u32): string {
  return (ip >> 24).toString() + "." + ((ip >> 16) & 255).toString() + "." + ((ip >> 8) & 255).toString() + "." + (ip & 255).toString();
}

/** Parses dotted quad; returns 0 on error. */
export function parseIp(s: string): u32 {
  let ip: u32 = 0;
  let part: u32 = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + <u32>(c - 48);
      digits++;
      if (part > 255 || digits > 3) return 0;
    } else if (c == 46) {
      if (digits == 0 || dots == 3) return 0;
      ip = (ip << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else return 0;
  }
  if (dots != 3 || digits == 0) return 0;
  return (ip << 8) | part;
}
