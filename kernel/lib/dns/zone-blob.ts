// The compiled zone: the build parses the master file (zone.ts, run under Node by
// zone-compiler.ts) and the appliance loads this compact binary form, so the parser is not
// linked into the image. The format (little-endian; README.md, "Compiled zones"):
//   "KZON" u8 version(1)  str apex  u16 nodeCount  node*  u32 checksum (FNV-1a of all before)
//   node: str name  u16 recordCount  record*
//   record: u16 type  u32 ttl  bytes head  u8 nameCount  str*  bytes tail
//   str: u8 length + ASCII (a library name: lowercase, dotted, no trailing dot)
//   bytes: u16 length + bytes
// Nodes carry the empty non-terminals too; the apex node holds exactly one SOA record.
// The loader checks every length, the version and the checksum: a bad blob is an error message.

import { Zone, ZoneResult } from './zone';
import { Record, TYPE_SOA } from './records';
import { validName, isSubdomain } from './name';

export const ZONE_BLOB_VERSION: u8 = 1;
const MAGIC: u32 = 0x4e4f5a4b; // "KZON" read as a little-endian u32

class BlobWriter {
  out: u8[] = new Array<u8>();
  u8(v: i32): void {
    this.out.push(<u8>v);
  }
  u16(v: i32): void {
    this.u8(v);
    this.u8(v >> 8);
  }
  u32(v: u32): void {
    this.u16(<i32>(v & 0xffff));
    this.u16(<i32>(v >> 16));
  }
  str(s: string): void {
    this.u8(s.length);
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i));
  }
  bytes(b: Uint8Array): void {
    this.u16(b.length);
    for (let i = 0; i < b.length; i++) this.u8(b[i]);
  }
}

function fnv1a(b: Uint8Array, end: i32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = (h ^ <u32>unchecked(b[i])) * 0x01000193;
  return h;
}

/** The binary form of a parsed zone (names are at most 253 characters, RDATA under 64 KiB). */
export function encodeZone(z: Zone): Uint8Array {
  const w = new BlobWriter();
  w.u32(MAGIC);
  w.u8(ZONE_BLOB_VERSION);
  w.str(z.apex);
  const names = z.nodes.keys();
  w.u16(names.length);
  for (let i = 0; i < names.length; i++) {
    const rs = z.nodes.get(names[i]);
    w.str(names[i]);
    w.u16(rs.length);
    for (let k = 0; k < rs.length; k++) {
      const r = rs[k];
      w.u16(r.type);
      w.u32(r.ttl);
      w.bytes(r.head);
      w.u8(r.names.length);
      for (let j = 0; j < r.names.length; j++) w.str(r.names[j]);
      w.bytes(r.tail);
    }
  }
  const b = new Uint8Array(w.out.length + 4);
  for (let i = 0; i < w.out.length; i++) b[i] = w.out[i];
  const sum = fnv1a(b, w.out.length);
  for (let i = 0; i < 4; i++) b[w.out.length + i] = <u8>(sum >> (8 * i));
  return b;
}

class BlobReader {
  b: Uint8Array;
  pos: i32 = 0;
  ok: bool = true;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  has(n: i32): bool {
    if (this.pos + n > this.b.length) this.ok = false;
    return this.ok;
  }
  u8(): i32 {
    if (!this.has(1)) return 0;
    return <i32>this.b[this.pos++];
  }
  u16(): i32 {
    const lo = this.u8();
    return lo | (this.u8() << 8);
  }
  u32(): u32 {
    const lo = <u32>this.u16();
    return lo | (<u32>this.u16() << 16);
  }
  str(): string {
    const n = this.u8();
    if (!this.has(n)) return '';
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.b[this.pos + i]);
    this.pos += n;
    return s;
  }
  bytes(): Uint8Array {
    const n = this.u16();
    if (!this.has(n)) return new Uint8Array(0);
    const out = this.b.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function failed(msg: string): ZoneResult {
  const res = new ZoneResult();
  res.error = 'compiled zone: ' + msg;
  return res;
}

/** Loads a blob from encodeZone; any damage gives an error ("compiled zone: ..."), never a trap. */
export function loadZone(b: Uint8Array): ZoneResult {
  if (b.length < 9) return failed('too short (' + b.length.toString() + ' bytes)');
  const r = new BlobReader(b);
  if (r.u32() != MAGIC) return failed('not a Kiln zone (bad magic)');
  const version = r.u8();
  if (version != ZONE_BLOB_VERSION)
    return failed('version ' + version.toString() + ', this appliance reads version ' + ZONE_BLOB_VERSION.toString());
  const end = b.length - 4;
  const want = <u32>b[end] | (<u32>b[end + 1] << 8) | (<u32>b[end + 2] << 16) | (<u32>b[end + 3] << 24);
  if (fnv1a(b, end) != want) return failed('checksum mismatch (the blob is damaged)');
  const zone = new Zone();
  zone.apex = r.str();
  if (!validName(zone.apex)) return failed('bad apex name');
  const nodeCount = r.u16();
  for (let i = 0; i < nodeCount && r.ok; i++) {
    const owner = r.str();
    if (!r.ok || !validName(owner) || !isSubdomain(owner, zone.apex) || zone.nodes.has(owner))
      return failed('bad owner name in node ' + i.toString());
    zone.nodes.set(owner, new Array<Record>());
    const count = r.u16();
    for (let k = 0; k < count && r.ok; k++) {
      const type = <u16>r.u16();
      const ttl = r.u32();
      const head = r.bytes();
      const nameCount = r.u8();
      if (nameCount > 2) return failed('bad record at ' + owner);
      const names = new Array<string>(nameCount);
      for (let j = 0; j < nameCount; j++) {
        names[j] = r.str();
        if (!validName(names[j])) return failed('bad name in a record at ' + owner);
      }
      const tail = r.bytes();
      if (!r.ok) break;
      const rec = new Record(owner, type, ttl, head, names, tail);
      if (type == TYPE_SOA) {
        if (zone.soa !== null || owner != zone.apex || nameCount != 2 || tail.length != 20)
          return failed('bad SOA record');
        zone.soa = rec;
      }
      zone.add(rec);
    }
  }
  if (!r.ok || r.pos != end) return failed('truncated or trailing bytes');
  if (zone.soa === null) return failed('no SOA record');
  const res = new ZoneResult();
  res.zone = zone;
  return res;
}
