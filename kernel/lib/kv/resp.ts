// RESP2 request parsing (multi-bulk arrays) and inline commands, and reply encoding.
// https://redis.io/docs/reference/protocol-spec/ — requests are arrays of bulk strings;
// a line not starting with "*" is an inline command split on spaces (quotes honoured).

import { ByteWriter } from '../dns/bytes';

export const MAX_ARGS: i32 = 1024 * 1024;
/** Largest bulk string (Redis allows 512 MB; an appliance has tens of MB of memory). */
export const MAX_BULK: i32 = 16 * 1024 * 1024;
export const MAX_INLINE: i32 = 64 * 1024;

export const PARSE_INCOMPLETE: i32 = 0;
export const PARSE_OK: i32 = 1;
export const PARSE_ERROR: i32 = 2;

export class Command {
  status: i32 = PARSE_INCOMPLETE;
  error: string = '';
  /** Bytes of input the command used. */
  length: i32 = 0;
  args: Uint8Array[] = new Array<Uint8Array>();
}

function findCrlf(b: Uint8Array, from: i32, end: i32): i32 {
  for (let i = from; i + 1 < end; i++) if (unchecked(b[i]) == 13 && unchecked(b[i + 1]) == 10) return i;
  return -1;
}

/** Parses a decimal integer in b[start..end); returns i64.MIN_VALUE when malformed. */
export function parseInt64(b: Uint8Array, start: i32, end: i32): i64 {
  if (end <= start || end - start > 20) return i64.MIN_VALUE;
  let neg = false;
  let i = start;
  if (b[i] == 45) {
    neg = true;
    i++;
    if (i == end) return i64.MIN_VALUE;
  }
  // at most 19 digits after the sign: no u64 overflow before the range check
  if (end - i > 19) return i64.MIN_VALUE;
  let v: u64 = 0;
  for (; i < end; i++) {
    const c = <i32>b[i];
    if (c < 48 || c > 57) return i64.MIN_VALUE;
    v = v * 10 + <u64>(c - 48);
  }
  if (v > <u64>i64.MAX_VALUE) return i64.MIN_VALUE; // also rejects -2^63 (the sentinel)
  return neg ? -(<i64>v) : <i64>v;
}

function fail(c: Command, msg: string): Command {
  c.status = PARSE_ERROR;
  c.error = msg;
  return c;
}

/** Parses one command at the start of b[0..len). */
export function parseCommand(b: Uint8Array, len: i32): Command {
  const c = new Command();
  if (len == 0) return c;
  if (b[0] != 42) return parseInline(b, len, c);
  const le = findCrlf(b, 1, len);
  if (le < 0) {
    if (len > 64) return fail(c, "ERR Protocol error: invalid multibulk length");
    return c;
  }
  const n = parseInt64(b, 1, le);
  if (n == i64.MIN_VALUE || n > MAX_ARGS) return fail(c, 'ERR Protocol error: invalid multibulk length');
  let pos = le + 2;
  if (n <= 0) {
    c.status = PARSE_OK;
    c.length = pos;
    return c;
  }
  for (let i: i64 = 0; i < n; i++) {
    if (pos >= len) return c;
    if (b[pos] != 36) return fail(c, "ERR Protocol error: expected '$', got '" + String.fromCharCode(b[pos]) + "'");
    const e = findCrlf(b, pos + 1, len);
    if (e < 0) {
      if (len - pos > 64) return fail(c, 'ERR Protocol error: invalid bulk length');
      return c;
    }
    const bl = parseInt64(b, pos + 1, e);
    if (bl == i64.MIN_VALUE || bl < 0 || bl > MAX_BULK) return fail(c, 'ERR Protocol error: invalid bulk length');
    const start = e + 2;
    if (<i64>start + bl + 2 > <i64>len) return c;
    const end = start + <i32>bl;
    if (b[end] != 13 || b[end + 1] != 10) return fail(c, 'ERR Protocol error: bulk not terminated by CRLF');
    c.args.push(b.subarray(start, end));
    pos = end + 2;
  }
  c.status = PARSE_OK;
  c.length = pos;
  return c;
}

function parseInline(b: Uint8Array, len: i32, c: Command): Command {
  let lf = -1;
  for (let i = 0; i < len; i++) {
    if (unchecked(b[i]) == 10) {
      lf = i;
      break;
    }
  }
  if (lf < 0) {
    if (len > MAX_INLINE) return fail(c, 'ERR Protocol error: too big inline request');
    return c;
  }
  let end = lf;
  if (end > 0 && b[end - 1] == 13) end--;
  let i = 0;
  while (i < end) {
    while (i < end && (b[i] == 32 || b[i] == 9)) i++;
    if (i >= end) break;
    const arg = new ByteWriter(16);
    if (b[i] == 34 || b[i] == 39) {
      const q = b[i];
      i++;
      let closed = false;
      while (i < end) {
        const ch = b[i];
        if (ch == 92 && q == 34 && i + 1 < end) {
          const e = b[i + 1];
          arg.u8(e == 110 ? 10 : e == 114 ? 13 : e == 116 ? 9 : e);
          i += 2;
          continue;
        }
        if (ch == q) {
          closed = true;
          i++;
          break;
        }
        arg.u8(ch);
        i++;
      }
      if (!closed || (i < end && b[i] != 32 && b[i] != 9)) return fail(c, 'ERR Protocol error: unbalanced quotes in request');
    } else {
      while (i < end && b[i] != 32 && b[i] != 9) arg.u8(b[i++]);
    }
    c.args.push(arg.toBytes());
  }
  c.status = PARSE_OK;
  c.length = lf + 1;
  return c;
}

// ---- replies ----

export function replySimple(w: ByteWriter, s: string): void {
  w.u8(43);
  w.ascii(s);
  w.u16(0x0d0a);
}

export function replyError(w: ByteWriter, s: string): void {
  w.u8(45);
  w.ascii(s);
  w.u16(0x0d0a);
}

export function replyInt(w: ByteWriter, v: i64): void {
  w.u8(58);
  w.decimal(v);
  w.u16(0x0d0a);
}

export function replyBulk(w: ByteWriter, b: Uint8Array): void {
  w.u8(36);
  w.decimal(b.length);
  w.u16(0x0d0a);
  w.bytes(b);
  w.u16(0x0d0a);
}

export function replyBulkString(w: ByteWriter, s: string): void {
  const b = Uint8Array.wrap(String.UTF8.encode(s));
  replyBulk(w, b);
}

export function replyNull(w: ByteWriter): void {
  w.ascii('$-1\r\n');
}

export function replyArrayHeader(w: ByteWriter, n: i32): void {
  w.u8(42);
  w.decimal(n);
  w.u16(0x0d0a);
}
