// HTTP/1.1 request heads (RFC 9112): request line, header fields, with the size limits that
// map to 414 (URI too long) and 431 (header fields too large).

import { bytesToAscii, lowerByte } from '../dns/bytes';

export const MAX_REQUEST_LINE: i32 = 8192;
export const MAX_HEAD: i32 = 16384;
export const MAX_HEADERS: i32 = 100;

/** Outcome of looking for a complete head in the buffered bytes. */
export const HEAD_INCOMPLETE: i32 = 0;
export const HEAD_OK: i32 = 1;
export const HEAD_ERROR: i32 = 2;

export class RequestHead {
  status: i32 = HEAD_INCOMPLETE;
  /** HTTP status to answer with when status is HEAD_ERROR. */
  errorCode: i32 = 400;
  /** Bytes of the head including the final empty line. */
  length: i32 = 0;
  method: string = '';
  target: string = '';
  versionMinor: i32 = 1;
  names: string[] = new Array<string>(); // lowercase
  values: string[] = new Array<string>();

  header(name: string): string | null {
    for (let i = 0; i < this.names.length; i++) if (unchecked(this.names[i]) == name) return unchecked(this.values[i]);
    return null;
  }

  headerCount(name: string): i32 {
    let n = 0;
    for (let i = 0; i < this.names.length; i++) if (unchecked(this.names[i]) == name) n++;
    return n;
  }
}

function isTchar(c: i32): bool {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return true;
  return c == 33 || c == 35 || c == 36 || c == 37 || c == 38 || c == 39 || c == 42 || c == 43 || c == 45 || c == 46 || c == 94 || c == 95 || c == 96 || c == 124 || c == 126;
}

/** Index of the next LF at or after `from` before `end`, or -1. */
function findLf(b: Uint8Array, from: i32, end: i32): i32 {
  for (let i = from; i < end; i++) if (unchecked(b[i]) == 10) return i;
  return -1;
}

function fail(h: RequestHead, code: i32): RequestHead {
  h.status = HEAD_ERROR;
  h.errorCode = code;
  return h;
}

/** Parses the head at the start of `b[0..len)`. Empty lines before a request are skipped. */
export function parseHead(b: Uint8Array, len: i32): RequestHead {
  const h = new RequestHead();
  let pos = 0;
  // RFC 9112 2.2: ignore at least one empty line before the request line
  while (pos < len && (unchecked(b[pos]) == 13 || unchecked(b[pos]) == 10) && pos < 4) pos++;
  const lineEnd = findLf(b, pos, len);
  if (lineEnd < 0) {
    if (len - pos > MAX_REQUEST_LINE) return fail(h, 414);
    return h;
  }
  if (lineEnd - pos > MAX_REQUEST_LINE) return fail(h, 414);
  let end = lineEnd;
  if (end > pos && unchecked(b[end - 1]) == 13) end--;
  // method SP target SP version
  let i = pos;
  while (i < end && isTchar(<i32>unchecked(b[i]))) i++;
  if (i == pos || i >= end || unchecked(b[i]) != 32) return fail(h, 400);
  h.method = bytesToAscii(b, pos, i);
  const tStart = i + 1;
  let j = tStart;
  while (j < end && unchecked(b[j]) > 32 && unchecked(b[j]) < 127) j++;
  if (j == tStart || j >= end || unchecked(b[j]) != 32) return fail(h, 400);
  h.target = bytesToAscii(b, tStart, j);
  const v = j + 1;
  if (end - v != 8) return fail(h, 400);
  if (b[v] != 72 || b[v + 1] != 84 || b[v + 2] != 84 || b[v + 3] != 80 || b[v + 4] != 47 || b[v + 6] != 46) return fail(h, 400);
  const major = <i32>b[v + 5] - 48;
  const minor = <i32>b[v + 7] - 48;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return fail(h, 400);
  if (major != 1) return fail(h, 505);
  h.versionMinor = minor;

  // header fields
  let p = lineEnd + 1;
  while (true) {
    if (p - pos > MAX_HEAD) return fail(h, 431);
    const le = findLf(b, p, len);
    if (le < 0) {
      if (len - pos > MAX_HEAD) return fail(h, 431);
      return h; // incomplete
    }
    let e = le;
    if (e > p && unchecked(b[e - 1]) == 13) e--;
    if (e == p) {
      h.length = le + 1;
      if (h.length - pos > MAX_HEAD) return fail(h, 431);
      h.status = HEAD_OK;
      return h;
    }
    if (h.names.length >= MAX_HEADERS) return fail(h, 431);
    // obs-fold (a line starting with whitespace) is rejected (RFC 9112 5.2)
    if (unchecked(b[p]) == 32 || unchecked(b[p]) == 9) return fail(h, 400);
    let c = p;
    while (c < e && isTchar(<i32>unchecked(b[c]))) c++;
    if (c == p || c >= e || unchecked(b[c]) != 58) return fail(h, 400); // no whitespace before ':'
    let vs = c + 1;
    while (vs < e && (unchecked(b[vs]) == 32 || unchecked(b[vs]) == 9)) vs++;
    let ve = e;
    while (ve > vs && (unchecked(b[ve - 1]) == 32 || unchecked(b[ve - 1]) == 9)) ve--;
    for (let k = vs; k < ve; k++) {
      const ch = <i32>unchecked(b[k]);
      if ((ch < 32 && ch != 9) || ch == 127) return fail(h, 400);
    }
    h.names.push(lowerAscii(b, p, c));
    h.values.push(bytesToAscii(b, vs, ve));
    p = le + 1;
  }
  return h;
}

function lowerAscii(b: Uint8Array, start: i32, end: i32): string {
  const codes = new Array<i32>(end - start);
  for (let i = start; i < end; i++) unchecked((codes[i - start] = lowerByte(<i32>unchecked(b[i]))));
  return String.fromCharCodes(codes);
}

/** True when a comma-separated header value holds `token` (case-insensitive). */
export function hasToken(value: string, token: string): bool {
  const parts = value.toLowerCase().split(',');
  for (let i = 0; i < parts.length; i++) if (parts[i].trim() == token) return true;
  return false;
}

/** Decodes %XX escapes of a path; null when an escape is malformed or decodes to NUL or "/". */
export function percentDecode(s: string): string | null {
  if (s.indexOf('%') < 0) return s;
  const bytes = new Array<u8>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c != 37) {
      bytes.push(<u8>c);
      continue;
    }
    if (i + 2 >= s.length) return null;
    const hi = hexVal(s.charCodeAt(i + 1));
    const lo = hexVal(s.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return null;
    const v = (hi << 4) | lo;
    if (v == 0) return null;
    bytes.push(<u8>v);
    i += 2;
  }
  const buf = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) buf[i] = bytes[i];
  return String.UTF8.decode(buf.buffer);
}

function hexVal(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
