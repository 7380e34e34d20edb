// Output waiting for the socket: a queue of byte views. Bodies of embedded files are queued as
// views into the site bundle (no copy), so a multi-megabyte file costs no extra memory.

export class OutQueue {
  parts: Uint8Array[] = new Array<Uint8Array>();
  head: i32 = 0;
  offset: i32 = 0;
  pending: i64 = 0;

  push(b: Uint8Array): void {
    if (b.length == 0) return;
    this.parts.push(b);
    this.pending += b.length;
  }

  isEmpty(): bool {
    return this.pending == 0;
  }

  /** The next bytes to send (a view), or null when empty. */
  peek(): Uint8Array | null {
    if (this.head >= this.parts.length) return null;
    const p = unchecked(this.parts[this.head]);
    return this.offset == 0 ? p : p.subarray(this.offset);
  }

  /** Marks `n` bytes of the current part as sent. */
  advance(n: i32): void {
    if (this.head >= this.parts.length || n <= 0) return;
    const p = unchecked(this.parts[this.head]);
    const left = p.length - this.offset;
    const k = n < left ? n : left;
    this.offset += k;
    this.pending -= k;
    if (this.offset >= p.length) {
      this.head++;
      this.offset = 0;
      if (this.head >= this.parts.length) this.clear();
      else if (this.head >= 64) this.compact();
    }
  }

  private compact(): void {
    this.parts = this.parts.slice(this.head);
    this.head = 0;
  }

  clear(): void {
    this.parts = new Array<Uint8Array>();
    this.head = 0;
    this.offset = 0;
    this.pending = 0;
  }
}
