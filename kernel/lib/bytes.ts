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

/** Internet checksum partial sum (RFC 1071), not folded. */
export function csumAdd(sum: u32, p: usize, len: i32): u32 {
  let s: u64 = sum;
  let i = 0;
  while (i + 1 < len) {
    s += <u64>get16(p + i);
    i += 2;
  }
  if (i < len) s += <u64>(<u32>load<u8>(p + i) << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return <u32>s;
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
