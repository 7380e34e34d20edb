// A byte ring buffer (TCP send and receive queues).
export class Ring {
  buf: Uint8Array;
  head: i32 = 0; // offset of the first byte
  len: i32 = 0;
  constructor(size: i32) {
    this.buf = new Uint8Array(size);
  }
  get capacity(): i32 {
    return this.buf.length;
  }
  get space(): i32 {
    return this.buf.length - this.len;
  }
  /** Appends up to n bytes from p; returns how many fit. */
  push(p: usize, n: i32): i32 {
    const cap = this.buf.length;
    const take = min(n, cap - this.len);
    let tail = this.head + this.len;
    if (tail >= cap) tail -= cap;
    const first = min(take, cap - tail);
    memory.copy(this.buf.dataStart + tail, p, first);
    if (take > first) memory.copy(this.buf.dataStart, p + first, take - first);
    this.len += take;
    return take;
  }
  /** Copies n bytes starting `offset` bytes past the head to dst (caller checks bounds). */
  copyOut(offset: i32, dst: usize, n: i32): void {
    const cap = this.buf.length;
    let start = this.head + offset;
    if (start >= cap) start -= cap;
    const first = min(n, cap - start);
    memory.copy(dst, this.buf.dataStart + start, first);
    if (n > first) memory.copy(dst + first, this.buf.dataStart, n - first);
  }
  /** Writes n bytes at `offset` past the head without changing len (out-of-order reassembly). */
  copyIn(offset: i32, src: usize, n: i32): void {
    const cap = this.buf.length;
    let start = this.head + offset;
    if (start >= cap) start -= cap;
    const first = min(n, cap - start);
    memory.copy(this.buf.dataStart + start, src, first);
    if (n > first) memory.copy(this.buf.dataStart, src + first, n - first);
  }
  drop(n: i32): void {
    const take = min(n, this.len);
    this.head += take;
    if (this.head >= this.buf.length) this.head -= this.buf.length;
    this.len -= take;
    // The head must not jump back to 0 when empty: out-of-order TCP data may sit past the end.
  }
}
