// Authoritative DNS answering (RFC 1034 section 4.3.2, RFC 2308 negative answers, RFC 6891
// EDNS): one query message in, one response message out (or null: drop silently).

import { ByteWriter, readU16 } from './bytes';
import { NameCompressor, readName, isSubdomain } from './name';
import {
  Record, CLASS_ANY, CLASS_IN, TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_AXFR, TYPE_CNAME, TYPE_MX, TYPE_NS, TYPE_OPT,
  TYPE_SOA, TYPE_SRV,
} from './records';
import { Zone } from './zone';

export const RCODE_NOERROR: i32 = 0;
export const RCODE_FORMERR: i32 = 1;
export const RCODE_SERVFAIL: i32 = 2;
export const RCODE_NXDOMAIN: i32 = 3;
export const RCODE_NOTIMP: i32 = 4;
export const RCODE_REFUSED: i32 = 5;

const HEADER = 12;
const MAX_CNAME_CHAIN = 8;
/** Largest UDP answer we send even when the client advertises more (DNS flag day 2020). */
const MAX_UDP_PAYLOAD = 1232;

export class DnsStats {
  queries: u64 = 0;
  answered: u64 = 0;
  nxdomain: u64 = 0;
  refused: u64 = 0;
  formerr: u64 = 0;
  truncated: u64 = 0;
  dropped: u64 = 0;
}

class Section {
  records: Record[] = new Array<Record>();
  /** Owner offset to point at (the question name) or -1 to write the owner itself. */
  ownerAt: i32[] = new Array<i32>();
  ttl: u32[] = new Array<u32>();

  add(r: Record, ownerAt: i32, ttl: u32): void {
    for (let i = 0; i < this.records.length; i++) if (this.records[i] === r) return;
    this.records.push(r);
    this.ownerAt.push(ownerAt);
    this.ttl.push(ttl);
  }
}

/** A response kept for a query: every byte but the ID decides it (the zones never change). */
class CachedAnswer {
  /** the query from byte 2 on, then 1 for TCP or 0 */
  key: Uint8Array;
  resp: Uint8Array;
  constructor(key: Uint8Array, resp: Uint8Array) {
    this.key = key;
    this.resp = resp;
  }
}

/** Answers kept at most; the cache starts over when full (clients repeat a few names). */
const CACHE_MAX = 4096;
/** Longer queries (many additional records) are answered but not kept. */
const CACHE_MAX_QUERY = 512;

function cacheHash(q: Uint8Array, tcp: bool): u32 {
  let h: u32 = 2166136261;
  for (let i = 2; i < q.length; i++) h = (h ^ <u32>unchecked(q[i])) * 16777619;
  return (h ^ (tcp ? 1 : 0)) * 16777619;
}

function sameQuery(e: CachedAnswer, q: Uint8Array, tcp: bool): bool {
  const k = e.key;
  if (k.length != q.length - 1 || k[k.length - 1] != (tcp ? 1 : 0)) return false;
  return memory.compare(k.dataStart, q.dataStart + 2, q.length - 2) == 0;
}

export class DnsServer {
  zones: Zone[] = new Array<Zone>();
  stats: DnsStats = new DnsStats();
  /** Set by resolve() when the answer is a referral to a delegated child zone. */
  private referral: bool = false;
  /**
   * Answer cache: the guest profiler (kernel/lib/bench/guest-profile.ts) showed the dns
   * appliance spending most of each query in name handling, compression maps and allocation;
   * a repeated question (the common case) now costs a hash, a compare and a copy.
   */
  private cache: Map<u32, CachedAnswer> = new Map<u32, CachedAnswer>();
  /** Set by answer() when its response went through the full path (cacheable, counted). */
  private complete: bool = false;

  addZone(z: Zone): void {
    this.zones.push(z);
  }

  /** The zone with the longest apex that contains `name`, or null. */
  findZone(name: string): Zone | null {
    let best: Zone | null = null;
    for (let i = 0; i < this.zones.length; i++) {
      const z = this.zones[i];
      if (isSubdomain(name, z.apex) && (best === null || z.apex.length > best.apex.length)) best = z;
    }
    return best;
  }

  /**
   * Answers one query. `tcp` lifts the UDP size limit (the caller frames the message);
   * over UDP an answer that does not fit is cut to the question with TC set, so the client
   * retries over TCP.
   */
  handle(q: Uint8Array, tcp: bool): Uint8Array | null {
    const small = q.length >= HEADER && q.length <= CACHE_MAX_QUERY;
    const h = small ? cacheHash(q, tcp) : 0;
    if (small && this.cache.has(h)) {
      const e = this.cache.get(h);
      if (sameQuery(e, q, tcp)) return this.fromCache(e, q);
    }
    const r = this.answer(q, tcp);
    if (small && r !== null && this.complete) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      const key = new Uint8Array(q.length - 1);
      memory.copy(key.dataStart, q.dataStart + 2, q.length - 2);
      key[key.length - 1] = tcp ? 1 : 0;
      this.cache.set(h, new CachedAnswer(key, r.slice()));
    }
    return r;
  }

  /** A copy of the kept response with the query's ID, counted as answer() counts it. */
  private fromCache(e: CachedAnswer, q: Uint8Array): Uint8Array {
    const st = this.stats;
    st.queries++;
    const r = e.resp.slice();
    r[0] = q[0];
    r[1] = q[1];
    const rcode = r[3] & 0xf;
    if (rcode == RCODE_REFUSED) st.refused++;
    else if (rcode == RCODE_NXDOMAIN) st.nxdomain++;
    else if (rcode == RCODE_FORMERR) st.formerr++;
    if ((r[2] & 0x02) != 0) st.truncated++;
    st.answered++;
    return r;
  }

  private answer(q: Uint8Array, tcp: bool): Uint8Array | null {
    this.complete = false;
    this.stats.queries++;
    if (q.length < HEADER) return this.drop();
    const id = readU16(q, 0);
    const flags = readU16(q, 2);
    if ((flags & 0x8000) != 0) return this.drop(); // a response: never answer it (loops)
    const opcode = (flags >> 11) & 0xf;
    const rd = flags & 0x0100;
    const qdcount = readU16(q, 4);
    const arcount = readU16(q, 10);
    if (opcode != 0) return this.headerOnly(id, opcode, rd, RCODE_NOTIMP);
    if (qdcount != 1) return this.formErr(id, opcode, rd);
    const qn = readName(q, HEADER);
    if (!qn.ok || qn.end + 4 > q.length) return this.formErr(id, opcode, rd);
    const qtype = <u16>readU16(q, qn.end);
    const qclass = <u16>readU16(q, qn.end + 2);
    const questionEnd = qn.end + 4;

    // EDNS: find an OPT record in the additional section (answer/authority must be empty).
    let edns = false;
    let udpLimit = 512;
    let badVersion = false;
    if (arcount > 0) {
      if (readU16(q, 6) != 0 || readU16(q, 8) != 0) return this.formErr(id, opcode, rd);
      let pos = questionEnd;
      for (let i = 0; i < arcount; i++) {
        const rn = readName(q, pos);
        if (!rn.ok || rn.end + 10 > q.length) return this.formErr(id, opcode, rd);
        const t = readU16(q, rn.end);
        const rdlen = readU16(q, rn.end + 8);
        if (rn.end + 10 + rdlen > q.length) return this.formErr(id, opcode, rd);
        if (t == TYPE_OPT) {
          if (edns || rn.name.length != 0) return this.formErr(id, opcode, rd);
          edns = true;
          const size = readU16(q, rn.end + 2);
          udpLimit = size < 512 ? 512 : size > MAX_UDP_PAYLOAD ? MAX_UDP_PAYLOAD : size;
          if (q[rn.end + 5] != 0) badVersion = true;
        }
        pos = rn.end + 10 + rdlen;
      }
    }

    const w = new ByteWriter(udpLimit);
    w.u16(id);
    const flagsAt = w.len;
    w.u16(0);
    w.u16(1);
    w.u16(0);
    w.u16(0);
    w.u16(0);
    w.bytesRange(q, HEADER, questionEnd);
    const comp = new NameCompressor();
    // the question name is at offset 12 in our answer exactly as the client spelled it
    this.rememberQuestion(comp, q, qn.name, qn.end);

    if (badVersion) {
      // RFC 6891: BADVERS is extended RCODE 16 = upper bits 1 in the OPT TTL, header RCODE 0
      w.setU16(flagsAt, 0x8000 | rd);
      this.writeOpt(w, 1);
      w.setU16(10, 1);
      return w.toBytes();
    }

    let rcode = RCODE_NOERROR;
    let aa = 0;
    const answer = new Section();
    const authority = new Section();
    const additional = new Section();
    const zone = this.findZone(qn.name);
    if (qclass != CLASS_IN && qclass != CLASS_ANY) rcode = RCODE_REFUSED;
    else if (zone === null) rcode = RCODE_REFUSED; // not ours: we never recurse
    else if (qtype == TYPE_AXFR || qtype == 251 || qtype == TYPE_OPT) rcode = qtype == TYPE_OPT ? RCODE_FORMERR : RCODE_REFUSED;
    else {
      rcode = this.resolve(zone!, qn.name, qtype, answer, authority, additional);
      // a referral (delegation NS in authority, nothing answered) is not authoritative
      if (!this.referral) aa = 0x0400;
    }
    if (rcode == RCODE_REFUSED) this.stats.refused++;
    else if (rcode == RCODE_NXDOMAIN) this.stats.nxdomain++;
    else if (rcode == RCODE_FORMERR) this.stats.formerr++;

    const bodyStart = w.len;
    this.writeSection(w, comp, answer);
    this.writeSection(w, comp, authority);
    const beforeAdditional = w.len;
    this.writeSection(w, comp, additional);
    let arOut = additional.records.length;
    if (edns) {
      this.writeOpt(w, 0);
      arOut++;
    }
    let tc = 0;
    let an = answer.records.length;
    let ns = authority.records.length;
    if (!tcp && w.len > udpLimit) {
      // additional data is optional: drop it first; if still too big, truncate to the question
      w.truncate(beforeAdditional);
      arOut = 0;
      if (edns) {
        this.writeOpt(w, 0);
        arOut = 1;
      }
      if (w.len > udpLimit) {
        w.truncate(bodyStart);
        an = 0;
        ns = 0;
        arOut = 0;
        if (edns) {
          this.writeOpt(w, 0);
          arOut = 1;
        }
        tc = 0x0200;
        this.stats.truncated++;
      }
    }
    w.setU16(flagsAt, 0x8000 | aa | tc | rd | rcode);
    w.setU16(6, an);
    w.setU16(8, ns);
    w.setU16(10, arOut);
    this.stats.answered++;
    this.complete = true;
    return w.toBytes();
  }

  private rememberQuestion(comp: NameCompressor, q: Uint8Array, name: string, end: i32): void {
    // escaped labels or a pointer inside the question: offsets would not line up
    if (name.indexOf('\\') >= 0 || end - HEADER != name.length + 2) return;
    // Answers point at the question for the owner (echoing the client's spelling, which is
    // expected); other names may only reuse its suffixes when it is spelled in lowercase.
    for (let i = HEADER; i < end; i++) {
      const c = <i32>q[i];
      if (c >= 65 && c <= 90) {
        comp.remember(name, HEADER);
        return;
      }
    }
    let at = HEADER;
    let rest = name;
    while (rest.length > 0) {
      comp.remember(rest, at);
      const dot = rest.indexOf('.');
      const labelLen = dot < 0 ? rest.length : dot;
      at += labelLen + 1;
      rest = dot < 0 ? '' : rest.substring(dot + 1);
    }
  }

  private resolve(zone: Zone, qname: string, qtype: u16, answer: Section, authority: Section, additional: Section): i32 {
    let name = qname;
    let ownerAt = HEADER;
    this.referral = false;
    for (let hop = 0; hop <= MAX_CNAME_CHAIN; hop++) {
      // a delegation (NS below the apex) on the way down: refer, not authoritative
      const cut = this.delegation(zone, name);
      if (cut.length > 0) {
        if (hop == 0) this.referral = true;
        const nsSet = zone.recordsAt(cut);
        for (let i = 0; i < nsSet.length; i++) {
          if (nsSet[i].type == TYPE_NS) {
            authority.add(nsSet[i], -1, nsSet[i].ttl);
            this.addGlue(zone, nsSet[i].names[0], additional);
          }
        }
        return RCODE_NOERROR;
      }
      if (!zone.has(name)) {
        this.addSoa(zone, authority);
        return RCODE_NXDOMAIN;
      }
      const rrs = zone.recordsAt(name);
      let cname: Record | null = null;
      let matched = 0;
      for (let i = 0; i < rrs.length; i++) {
        const r = rrs[i];
        if (r.type == qtype || qtype == TYPE_ANY) {
          answer.add(r, ownerAt, r.ttl);
          this.addTargets(zone, r, additional);
          matched++;
        } else if (r.type == TYPE_CNAME) cname = r;
      }
      if (matched > 0) {
        if (name == zone.apex && qtype != TYPE_NS && qtype != TYPE_ANY) this.addApexNs(zone, authority, additional);
        return RCODE_NOERROR;
      }
      if (cname !== null) {
        answer.add(cname, ownerAt, cname.ttl);
        const target = cname.names[0];
        if (!isSubdomain(target, zone.apex)) return RCODE_NOERROR; // out of zone: client resolves it
        name = target;
        ownerAt = -1;
        continue;
      }
      this.addSoa(zone, authority); // NODATA
      return RCODE_NOERROR;
    }
    return RCODE_NOERROR;
  }

  /** The closest zone cut at or above `name` (below the apex), or "". */
  private delegation(zone: Zone, name: string): string {
    let n = name;
    let found = '';
    while (n.length > zone.apex.length) {
      const rrs = zone.recordsAt(n);
      for (let i = 0; i < rrs.length; i++) if (rrs[i].type == TYPE_NS) found = n;
      const dot = n.indexOf('.');
      if (dot < 0) break;
      n = n.substring(dot + 1);
    }
    return found;
  }

  private addSoa(zone: Zone, authority: Section): void {
    const soa = zone.soa;
    if (soa === null) return;
    // RFC 2308: the SOA in a negative answer carries min(SOA TTL, SOA MINIMUM)
    const min = soa.soaMinimum();
    authority.add(soa, -1, soa.ttl < min ? soa.ttl : min);
  }

  private addApexNs(zone: Zone, authority: Section, additional: Section): void {
    const rrs = zone.recordsAt(zone.apex);
    for (let i = 0; i < rrs.length; i++) {
      if (rrs[i].type == TYPE_NS) {
        authority.add(rrs[i], -1, rrs[i].ttl);
        this.addGlue(zone, rrs[i].names[0], additional);
      }
    }
  }

  /** Additional-section processing for NS, MX and SRV targets inside the zone. */
  private addTargets(zone: Zone, r: Record, additional: Section): void {
    if (r.type == TYPE_NS || r.type == TYPE_MX || r.type == TYPE_SRV) this.addGlue(zone, r.names[0], additional);
  }

  private addGlue(zone: Zone, target: string, additional: Section): void {
    if (!isSubdomain(target, zone.apex)) return;
    const rrs = zone.recordsAt(target);
    for (let i = 0; i < rrs.length; i++) {
      const t = rrs[i].type;
      if (t == TYPE_A || t == TYPE_AAAA) additional.add(rrs[i], -1, rrs[i].ttl);
    }
  }

  private writeSection(w: ByteWriter, comp: NameCompressor, s: Section): void {
    for (let i = 0; i < s.records.length; i++) s.records[i].write(w, comp, s.ownerAt[i], s.ttl[i]);
  }

  private writeOpt(w: ByteWriter, extRcode: i32): void {
    w.u8(0); // root owner
    w.u16(TYPE_OPT);
    w.u16(MAX_UDP_PAYLOAD);
    w.u8(extRcode);
    w.u8(0); // version 0
    w.u16(0); // flags
    w.u16(0); // no options
  }

  private drop(): Uint8Array | null {
    this.stats.dropped++;
    return null;
  }

  private formErr(id: i32, opcode: i32, rd: i32): Uint8Array {
    this.stats.formerr++;
    return this.headerOnly(id, opcode, rd, RCODE_FORMERR);
  }

  private headerOnly(id: i32, opcode: i32, rd: i32, rcode: i32): Uint8Array {
    const w = new ByteWriter(HEADER);
    w.u16(id);
    w.u16(0x8000 | (opcode << 11) | rd | rcode);
    w.u16(0);
    w.u16(0);
    w.u16(0);
    w.u16(0);
    return w.toBytes();
  }
}

/** Frames DNS over TCP (RFC 7766): 2-byte length prefix, several queries per connection. */
export class DnsTcpSession {
  server: DnsServer;
  buf: ByteWriter = new ByteWriter(512);

  constructor(server: DnsServer) {
    this.server = server;
  }

  /** Feeds received bytes; returns bytes to send (possibly empty). False `ok` = close. */
  feed(data: Uint8Array, out: ByteWriter): bool {
    this.buf.bytes(data);
    let pos = 0;
    while (this.buf.len - pos >= 2) {
      const len = readU16(this.buf.buf, pos);
      if (len < HEADER) return false;
      if (this.buf.len - pos - 2 < len) break;
      const msg = this.buf.buf.slice(pos + 2, pos + 2 + len);
      pos += 2 + len;
      const resp = this.server.handle(msg, true);
      if (resp === null) continue;
      out.u16(resp.length);
      out.bytes(resp);
    }
    if (pos > 0) {
      const rest = this.buf.len - pos;
      this.buf.buf.copyWithin(0, pos, this.buf.len);
      this.buf.len = rest;
    }
    return true;
  }
}
