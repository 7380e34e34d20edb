// Growable byte buffer and small byte helpers shared by the DNS, HTTP and KV libraries.
// AssemblyScript has no exceptions: every reader here checks bounds itself so malformed input
// never reaches a trapping array access.

export class ByteWriter {
  buf: Uint8Array;
  len: i32 = 0;

  constructor(capacity: i32 = 512) {
    this.buf = new Uint8Array(capacity > 16 ? capacity : 16);
  }

  private reserve(extra: i32): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    memory.copy(next.dataStart, this.buf.dataStart, <usize>this.len);
    this.buf = next;
  }

  u8(v: i32): void {
    this.reserve(1);
    unchecked((this.buf[this.len++] = <u8>v));
  }

  u16(v: i32): void {
    this.reserve(2);
    unchecked((this.buf[this.len++] = <u8>(v >>> 8)));
    unchecked((this.buf[this.len++] = <u8>v));
  }

  u32(v: u32): void {
    this.u16(<i32>(v >>> 16));
    this.u16(<i32>(v & 0xffff));
  }

  bytes(src: Uint8Array): void {
    this.bytesRange(src, 0, src.length);
  }

  bytesRange(src: Uint8Array, start: i32, end: i32): void {
    if (start < 0) start = 0;
    if (end > src.length) end = src.length;
    const n = end - start;
    if (n <= 0) return;
    this.reserve(n);
    memory.copy(this.buf.dataStart + <usize>this.len, src.dataStart + <usize>start, <usize>n);
    this.len += n;
  }

  /** Writes an ASCII/Latin-1 string byte for byte (protocol text is ASCII). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    for (let i = 0; i < n; i++) unchecked((this.buf[this.len++] = <u8>s.charCodeAt(i)));
  }

  /** Writes a decimal integer. */
  decimal(v: i64): void {
    this.ascii(v.toString());
  }

  setU16(at: i32, v: i32): void {
    if (at < 0 || at + 2 > this.len) return;
    unchecked((this.buf[at] = <u8>(v >>> 8)));
    unchecked((this.buf[at + 1] = <u8>v));
  }

  truncate(len: i32): void {
    if (len >= 0 && len < this.len) this.len = len;
  }

  clear(): void {
    this.len = 0;
  }

  /** A copy of the written bytes. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Reads a big-endian u16 at `at`; the caller checks bounds. */
export function readU16(b: Uint8Array, at: i32): i32 {
  return (<i32>unchecked(b[at]) << 8) | <i32>unchecked(b[at + 1]);
}

export function readU32(b: Uint8Array, at: i32): u32 {
  return ((<u32>readU16(b, at)) << 16) | <u32>readU16(b, at + 2);
}

/** Bytes of an ASCII string. */
export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) unchecked((out[i] = <u8>s.charCodeAt(i)));
  return out;
}

/** Latin-1 string of a byte range: each byte becomes one char, so any bytes round-trip. */
export function bytesToAscii(b: Uint8Array, start: i32, end: i32): string {
  if (start < 0) start = 0;
  if (end > b.length) end = b.length;
  if (end <= start) return '';
  const n = end - start;
  const out = changetype<string>(__new(<usize>n << 1, idof<string>()));
  const src = b.dataStart + <usize>start;
  const dst = changetype<usize>(out);
  for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), load<u8>(src + <usize>i));
  return out;
}

/** ASCII lowercase of one byte. */
export function lowerByte(c: i32): i32 {
  return c >= 65 && c <= 90 ? c + 32 : c;
}
