// The master-file parser: $ORIGIN, $TTL, relative names, "@", omitted owners, TTL/class in
// either order, TTL units (1h, 2d...), and the record types A, AAAA, CNAME, MX, NS, SOA, TXT,
// SRV. Errors name the line. The build runs it (zone-compiler.ts); appliances load the result.

import { tokenize, unescapeText, Token, Entry } from './master-file';
import {
  Record, typeFromMnemonic, TYPE_A, TYPE_AAAA, TYPE_CNAME, TYPE_MX, TYPE_NS, TYPE_SOA, TYPE_SRV, TYPE_TXT,
} from './records';
import { isSubdomain, validName } from './name';
import { Zone, ZoneResult } from './zone';

class Parser {
  origin: string;
  defaultTtl: u32 = 3600;
  hasTtlDirective: bool = false;
  lastOwner: string = '';
  hasLastOwner: bool = false;
  error: string = '';
  line: i32 = 0;
  records: Record[] = new Array<Record>();

  constructor(origin: string) {
    this.origin = origin;
  }

  fail(msg: string): bool {
    if (this.error.length == 0) this.error = 'line ' + this.line.toString() + ': ' + msg;
    return false;
  }

  /** Absolute library name for a master-file name token, or null when invalid. */
  name(tok: string): string | null {
    if (tok.indexOf('\\') >= 0) return null;
    let n: string;
    if (tok == '@') n = this.origin;
    else if (tok == '.') n = '';
    else if (tok.endsWith('.')) n = tok.substring(0, tok.length - 1);
    else n = this.origin.length == 0 ? tok : tok + '.' + this.origin;
    n = n.toLowerCase();
    return validName(n) ? n : null;
  }

  entry(e: Entry): bool {
    this.line = e.line;
    const t = e.tokens;
    const first = t[0].text;
    if (!t[0].quoted && first.startsWith('$')) return this.directive(first.toUpperCase(), t);
    let i = 0;
    let owner = this.lastOwner;
    if (!e.startsBlank) {
      const n = this.name(first);
      if (n === null) return this.fail('bad owner name "' + first + '"');
      owner = n;
      i = 1;
    } else if (!this.hasLastOwner) return this.fail('no owner name');
    this.lastOwner = owner;
    this.hasLastOwner = true;
    let ttl = this.defaultTtl;
    let explicitTtl = false;
    let type: u16 = 0;
    while (i < t.length) {
      const s = t[i].text.toUpperCase();
      i++;
      const v = parseTtl(s);
      if (v >= 0) {
        ttl = <u32>v;
        explicitTtl = true;
        continue;
      }
      if (s == 'IN') continue;
      if (s == 'CH' || s == 'HS' || s == 'CS') return this.fail('only class IN is served');
      type = typeFromMnemonic(s);
      if (type == 0) return this.fail('unsupported record type "' + s + '"');
      break;
    }
    if (type == 0) return this.fail('missing record type');
    if (explicitTtl && !this.hasTtlDirective) this.defaultTtl = ttl;
    return this.rdata(owner, type, ttl, t, i);
  }

  directive(d: string, t: Token[]): bool {
    if (t.length < 2) return this.fail(d + ' needs an argument');
    if (d == '$ORIGIN') {
      const n = this.name(t[1].text);
      if (n === null) return this.fail('bad $ORIGIN');
      this.origin = n;
      return true;
    }
    if (d == '$TTL') {
      const v = parseTtl(t[1].text.toUpperCase());
      if (v < 0) return this.fail('bad $TTL');
      this.defaultTtl = <u32>v;
      this.hasTtlDirective = true;
      return true;
    }
    return this.fail('unsupported directive ' + d);
  }

  rdata(owner: string, type: u16, ttl: u32, t: Token[], i: i32): bool {
    const left = t.length - i;
    const empty = new Uint8Array(0);
    const noNames = new Array<string>(0);
    if (type == TYPE_A) {
      if (left != 1) return this.fail('A needs one address');
      const a = parseIpv4(t[i].text);
      if (a === null) return this.fail('bad IPv4 address');
      this.records.push(new Record(owner, type, ttl, a, noNames, empty));
      return true;
    }
    if (type == TYPE_AAAA) {
      if (left != 1) return this.fail('AAAA needs one address');
      const a = parseIpv6(t[i].text);
      if (a === null) return this.fail('bad IPv6 address');
      this.records.push(new Record(owner, type, ttl, a, noNames, empty));
      return true;
    }
    if (type == TYPE_CNAME || type == TYPE_NS) {
      if (left != 1) return this.fail('needs one name');
      const n = this.name(t[i].text);
      if (n === null) return this.fail('bad name');
      this.records.push(new Record(owner, type, ttl, empty, [n], empty));
      return true;
    }
    if (type == TYPE_MX) {
      if (left != 2) return this.fail('MX needs preference and exchange');
      const pref = parseUint(t[i].text, 65535);
      const n = this.name(t[i + 1].text);
      if (pref < 0 || n === null) return this.fail('bad MX');
      const head = new Uint8Array(2);
      head[0] = <u8>(pref >> 8);
      head[1] = <u8>pref;
      this.records.push(new Record(owner, type, ttl, head, [n], empty));
      return true;
    }
    if (type == TYPE_SRV) {
      if (left != 4) return this.fail('SRV needs priority, weight, port and target');
      const head = new Uint8Array(6);
      for (let k = 0; k < 3; k++) {
        const v = parseUint(t[i + k].text, 65535);
        if (v < 0) return this.fail('bad SRV number');
        head[k * 2] = <u8>(v >> 8);
        head[k * 2 + 1] = <u8>v;
      }
      const n = this.name(t[i + 3].text);
      if (n === null) return this.fail('bad SRV target');
      this.records.push(new Record(owner, type, ttl, head, [n], empty));
      return true;
    }
    if (type == TYPE_SOA) {
      if (left != 7) return this.fail('SOA needs mname rname serial refresh retry expire minimum');
      const m = this.name(t[i].text);
      const r = this.name(t[i + 1].text);
      if (m === null || r === null) return this.fail('bad SOA name');
      const tail = new Uint8Array(20);
      for (let k = 0; k < 5; k++) {
        const v = k == 0 ? parseUint(t[i + 2].text, 0xffffffff) : parseTtl(t[i + 2 + k].text.toUpperCase());
        if (v < 0) return this.fail('bad SOA number');
        tail[k * 4] = <u8>(v >> 24);
        tail[k * 4 + 1] = <u8>(v >> 16);
        tail[k * 4 + 2] = <u8>(v >> 8);
        tail[k * 4 + 3] = <u8>v;
      }
      this.records.push(new Record(owner, type, ttl, empty, [m, r], tail));
      return true;
    }
    if (type == TYPE_TXT) {
      if (left < 1) return this.fail('TXT needs text');
      const parts = new Array<u8>();
      for (let k = i; k < t.length; k++) {
        const b = unescapeText(t[k].text);
        let off = 0;
        // a character-string holds at most 255 bytes: longer text is split into several
        do {
          const n = min(255, b.length - off);
          parts.push(<u8>n);
          for (let j = 0; j < n; j++) parts.push(b[off + j]);
          off += n;
        } while (off < b.length);
      }
      if (parts.length > 65535) return this.fail('TXT too long');
      const head = new Uint8Array(parts.length);
      for (let k = 0; k < parts.length; k++) head[k] = parts[k];
      this.records.push(new Record(owner, type, ttl, head, noNames, empty));
      return true;
    }
    return this.fail('unsupported type');
  }
}

/** Parses a zone; `origin` is the initial $ORIGIN (may be "" when the file sets it). */
export function parseZone(text: string, origin: string): ZoneResult {
  const res = new ZoneResult();
  const tk = tokenize(text);
  if (tk.error.length > 0) {
    res.error = tk.error;
    return res;
  }
  let o = origin.toLowerCase();
  if (o.endsWith('.')) o = o.substring(0, o.length - 1);
  const p = new Parser(o);
  for (let i = 0; i < tk.entries.length; i++) {
    if (!p.entry(tk.entries[i])) {
      res.error = p.error;
      return res;
    }
  }
  let soa: Record | null = null;
  for (let i = 0; i < p.records.length; i++) {
    const r = p.records[i];
    if (r.type == TYPE_SOA) {
      if (soa !== null) {
        res.error = 'more than one SOA record';
        return res;
      }
      soa = r;
    }
  }
  if (soa === null) {
    res.error = 'the zone has no SOA record';
    return res;
  }
  const zone = new Zone();
  zone.apex = soa.owner;
  zone.soa = soa;
  for (let i = 0; i < p.records.length; i++) {
    const r = p.records[i];
    if (!isSubdomain(r.owner, zone.apex)) {
      res.error = 'record "' + r.owner + '" is outside the zone ' + zone.apex;
      return res;
    }
    zone.add(r);
  }
  zone.addEmptyNonTerminals();
  res.zone = zone;
  return res;
}

/** A TTL in seconds, with optional BIND units (1w2d3h4m5s); -1 when not a TTL. */
export function parseTtl(s: string): i64 {
  if (s.length == 0) return -1;
  let total: i64 = 0;
  let cur: i64 = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      cur = cur * 10 + (c - 48);
      digits++;
      if (cur > 0xffffffff) return -1;
      continue;
    }
    if (digits == 0) return -1;
    let mul: i64 = 0;
    if (c == 83) mul = 1;
    else if (c == 77) mul = 60;
    else if (c == 72) mul = 3600;
    else if (c == 68) mul = 86400;
    else if (c == 87) mul = 604800;
    else return -1;
    total += cur * mul;
    cur = 0;
    digits = 0;
  }
  total += cur;
  return total > 0xffffffff ? -1 : total;
}

function parseUint(s: string, max: i64): i64 {
  if (s.length == 0 || s.length > 10) return -1;
  let v: i64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v > max ? -1 : v;
}

export function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length != 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p.length == 0 || p.length > 3) return null;
    const v = parseUint(p, 255);
    if (v < 0) return null;
    out[i] = <u8>v;
  }
  return out;
}

export function parseIpv6(s: string): Uint8Array | null {
  const out = new Uint8Array(16);
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null;
  const headText = dbl >= 0 ? s.substring(0, dbl) : s;
  const tailText = dbl >= 0 ? s.substring(dbl + 2) : '';
  const head = headText.length > 0 ? headText.split(':') : new Array<string>(0);
  const tail = tailText.length > 0 ? tailText.split(':') : new Array<string>(0);
  const groups = new Array<i32>();
  const tailGroups = new Array<i32>();
  if (!ipv6Groups(head, groups, tail.length == 0 && dbl < 0)) return null;
  if (!ipv6Groups(tail, tailGroups, true)) return null;
  const total = groups.length + tailGroups.length;
  if (dbl < 0 ? total != 8 : total > 7) return null;
  for (let i = 0; i < groups.length; i++) {
    out[i * 2] = <u8>(groups[i] >> 8);
    out[i * 2 + 1] = <u8>groups[i];
  }
  const start = 8 - tailGroups.length;
  for (let i = 0; i < tailGroups.length; i++) {
    out[(start + i) * 2] = <u8>(tailGroups[i] >> 8);
    out[(start + i) * 2 + 1] = <u8>tailGroups[i];
  }
  return out;
}

/** Hex groups; the last group of the address may be a dotted IPv4 address (two groups). */
function ipv6Groups(parts: string[], out: i32[], last: bool): bool {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (last && i == parts.length - 1 && p.indexOf('.') >= 0) {
      const v4 = parseIpv4(p);
      if (v4 === null) return false;
      out.push((<i32>v4[0] << 8) | v4[1]);
      out.push((<i32>v4[2] << 8) | v4[3]);
      continue;
    }
    if (p.length == 0 || p.length > 4) return false;
    let v = 0;
    for (let k = 0; k < p.length; k++) {
      const c = p.charCodeAt(k);
      let d = -1;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out.push(v);
  }
  return true;
}
