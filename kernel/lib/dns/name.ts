// Domain names on the wire (RFC 1035 section 3.1 and 4.1.4): reading with compression pointers,
// writing with a compression table. Names inside the library are lowercase, dotted, without
// the trailing dot; the root is "".

import { ByteWriter, lowerByte } from './bytes';

export const MAX_NAME_WIRE: i32 = 255;

/** Result of reading a name: `ok` false for any malformed name (the caller answers FORMERR). */
export class ReadName {
  ok: bool = false;
  name: string = '';
  /** Offset just after the name where it starts (pointers end it early). */
  end: i32 = 0;
}

/**
 * Reads a possibly compressed name at `off`. A pointer must point strictly before the label
 * that contains it, so a chain can only move backwards and can never loop; the total wire
 * length is also capped at 255 as the RFC requires.
 */
export function readName(msg: Uint8Array, off: i32): ReadName {
  const r = new ReadName();
  let pos = off;
  let end = -1;
  let wireLen = 0;
  let limit = msg.length; // a pointer target must lie below this
  let first = true;
  let out = '';
  while (true) {
    if (pos < 0 || pos >= msg.length) return r;
    const len = <i32>unchecked(msg[pos]);
    if (len == 0) {
      if (end < 0) end = pos + 1;
      wireLen += 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind == 0xc0) {
      if (pos + 1 >= msg.length) return r;
      const target = ((len & 0x3f) << 8) | <i32>unchecked(msg[pos + 1]);
      if (end < 0) end = pos + 2;
      if (target >= pos || target >= limit) return r;
      limit = target;
      pos = target;
      continue;
    }
    if (kind != 0) return r; // 0x40 and 0x80 label types are obsolete / unassigned
    if (pos + 1 + len > msg.length) return r;
    wireLen += len + 1;
    if (wireLen > MAX_NAME_WIRE) return r;
    if (!first) out += '.';
    first = false;
    out += labelText(msg, pos + 1, len);
    if (pos < limit) limit = pos;
    pos += len + 1;
  }
  r.ok = true;
  r.name = out;
  r.end = end;
  return r;
}

/** Lowercased label text; a dot or backslash inside a label is escaped so labels stay distinct. */
function labelText(msg: Uint8Array, start: i32, len: i32): string {
  let s = '';
  let plain = true;
  for (let i = 0; i < len; i++) {
    const c = <i32>unchecked(msg[start + i]);
    if (c == 46 || c == 92 || c < 33 || c > 126) {
      plain = false;
      break;
    }
  }
  if (plain) {
    const codes = new Array<i32>(len);
    for (let i = 0; i < len; i++) unchecked((codes[i] = lowerByte(<i32>unchecked(msg[start + i]))));
    return String.fromCharCodes(codes);
  }
  for (let i = 0; i < len; i++) {
    const c = lowerByte(<i32>unchecked(msg[start + i]));
    if (c == 46 || c == 92) s += '\\' + String.fromCharCode(c);
    else if (c < 33 || c > 126) s += '\\' + (1000 + c).toString().substring(1);
    else s += String.fromCharCode(c);
  }
  return s;
}

/** Splits a library name into labels (names from zone files never hold escaped dots). */
export function nameLabels(name: string): string[] {
  if (name.length == 0) return new Array<string>(0);
  return name.split('.');
}

/** The parent of a name ("" for a single label, "" for the root). */
export function parentName(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? '' : name.substring(dot + 1);
}

/** True when `name` equals `zone` or lies below it. */
export function isSubdomain(name: string, zone: string): bool {
  if (zone.length == 0) return true;
  if (name == zone) return true;
  return name.length > zone.length && name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) == 46;
}

/** Checks label and total lengths of a library name. */
export function validName(name: string): bool {
  if (name.length == 0) return true;
  const labels = nameLabels(name);
  let wire = 1;
  for (let i = 0; i < labels.length; i++) {
    const l = unchecked(labels[i]).length;
    if (l == 0 || l > 63) return false;
    wire += l + 1;
  }
  return wire <= MAX_NAME_WIRE;
}

/** Per-message compression table: suffix name -> offset where it was written. */
export class NameCompressor {
  offsets: Map<string, i32> = new Map<string, i32>();

  remember(name: string, at: i32): void {
    if (at < 0x4000 && !this.offsets.has(name)) this.offsets.set(name, at);
  }

  /** Writes `name`, pointing at an earlier copy of its longest known suffix when `compress`. */
  write(w: ByteWriter, name: string, compress: bool): void {
    let rest = name;
    while (rest.length > 0) {
      if (compress && this.offsets.has(rest)) {
        w.u16(0xc000 | this.offsets.get(rest));
        return;
      }
      const at = w.len;
      const dot = rest.indexOf('.');
      const label = dot < 0 ? rest : rest.substring(0, dot);
      w.u8(label.length);
      w.ascii(label);
      this.remember(rest, at);
      rest = dot < 0 ? '' : rest.substring(dot + 1);
    }
    w.u8(0);
  }
}
