/**
 * A copy of `buf` big enough for `used + extra` bytes (capacity doubles), keeping the first `used`
 * bytes. Shared by the code buffer and the blob writer, which both append into a growing array.
 */
export function grownBuffer(buf: Uint8Array, used: number, extra: number): Uint8Array<ArrayBuffer> {
  let size = Math.max(buf.length * 2, 16);
  while (size < used + extra) size *= 2;
  const b = new Uint8Array(size);
  b.set(buf.subarray(0, used));
  return b;
}
