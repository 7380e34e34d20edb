// A byte ring buffer (TCP send and receive queues).
//
// A ring promises `max` bytes but holds only what it needs: its storage starts small and doubles
// on demand, so 500 idle or chatty connections cost a few KiB each instead of 128 KiB (a 64 MiB VM
// ran out of memory and trapped). The storage of all rings together is capped by a budget: past
// it a ring stops growing and `space` says so (smaller TCP windows, shorter writes: backpressure
// instead of a trap when memory.grow fails).

/** Storage a new ring starts with (covers a request or a reply of typical size). */
const INITIAL: i32 = 2048;
let ringBytes: i64 = 0;
let ringBudget: i64 = 16 << 20;

/** Caps the storage of all rings together (bytes; <= 0 keeps the current budget). */
export function setRingBudget(bytes: i64): void {
  if (bytes > 0) ringBudget = bytes;
}

/** Storage currently held by all rings (bytes). */
export function ringBytesInUse(): i64 {
  return ringBytes;
}

export class Ring {
  buf: Uint8Array;
  head: i32 = 0; // offset of the first byte
  len: i32 = 0;
  /** the most this ring may hold */
  max: i32;
  constructor(size: i32) {
    this.max = size;
    const cap = min(size, INITIAL);
    this.buf = new Uint8Array(cap);
    ringBytes += cap;
  }
  get capacity(): i32 {
    return this.max;
  }
  /** Bytes that can be added now: up to `max`, or up to the storage held when over budget. */
  get space(): i32 {
    return this.limit() - this.len;
  }
  private limit(): i32 {
    const cap = this.buf.length;
    if (cap >= this.max) return this.max;
    return ringBytes + <i64>(this.max - cap) <= ringBudget ? this.max : cap;
  }
  /** Gives the storage back (connection closed); the ring holds nothing afterwards. */
  release(): void {
    ringBytes -= this.buf.length;
    this.buf = new Uint8Array(0);
    this.max = 0;
    this.head = 0;
    this.len = 0;
  }
  /** Grows the storage to hold `need` bytes past the head, keeping every byte at its offset. */
  private reserve(need: i32): void {
    const cap = this.buf.length;
    if (need <= cap) return;
    let next = max(cap, INITIAL);
    while (next < need) next <<= 1;
    if (next > this.max) next = this.max;
    const grown = new Uint8Array(next);
    // Linearise from the head: in-order data and out-of-order data past `len` keep their offsets.
    const first = cap - this.head;
    memory.copy(grown.dataStart, this.buf.dataStart + this.head, first);
    memory.copy(grown.dataStart + first, this.buf.dataStart, this.head);
    ringBytes += next - cap;
    this.buf = grown;
    this.head = 0;
  }
  /** Appends up to n bytes from p; returns how many fit. */
  push(p: usize, n: i32): i32 {
    const take = min(n, this.space);
    if (take <= 0) return 0;
    this.reserve(this.len + take);
    const cap = this.buf.length;
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
  /**
   * Writes n bytes at `offset` past the head without changing len (out-of-order reassembly); the
   * caller keeps `offset + n - len` within `space`.
   */
  copyIn(offset: i32, src: usize, n: i32): void {
    this.reserve(offset + n);
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
