// Resource records as the server keeps them: owner, type, TTL and RDATA split into fixed bytes
// and domain names, so names inside RDATA can be compressed when the message is built.

import { ByteWriter } from './bytes';
import { NameCompressor } from './name';

export const TYPE_A: u16 = 1;
export const TYPE_NS: u16 = 2;
export const TYPE_CNAME: u16 = 5;
export const TYPE_SOA: u16 = 6;
export const TYPE_MX: u16 = 15;
export const TYPE_TXT: u16 = 16;
export const TYPE_AAAA: u16 = 28;
export const TYPE_SRV: u16 = 33;
export const TYPE_OPT: u16 = 41;
export const TYPE_AXFR: u16 = 252;
export const TYPE_ANY: u16 = 255;

export const CLASS_IN: u16 = 1;
export const CLASS_ANY: u16 = 255;

export function typeFromMnemonic(s: string): u16 {
  if (s == 'A') return TYPE_A;
  if (s == 'NS') return TYPE_NS;
  if (s == 'CNAME') return TYPE_CNAME;
  if (s == 'SOA') return TYPE_SOA;
  if (s == 'MX') return TYPE_MX;
  if (s == 'TXT') return TYPE_TXT;
  if (s == 'AAAA') return TYPE_AAAA;
  if (s == 'SRV') return TYPE_SRV;
  return 0;
}

export class Record {
  owner: string;
  type: u16;
  ttl: u32;
  /** RDATA bytes before the names (MX preference, SRV priority/weight/port, A, AAAA, TXT). */
  head: Uint8Array;
  /** Domain names in RDATA, in order (CNAME/NS/MX/SRV: one; SOA: two). */
  names: string[];
  /** RDATA bytes after the names (SOA serial..minimum). */
  tail: Uint8Array;

  constructor(owner: string, type: u16, ttl: u32, head: Uint8Array, names: string[], tail: Uint8Array) {
    this.owner = owner;
    this.type = type;
    this.ttl = ttl;
    this.head = head;
    this.names = names;
    this.tail = tail;
  }

  /** RFC 3597: only the types of RFC 1035 may have compressed RDATA names; SRV may not. */
  compressesRdata(): bool {
    return this.type == TYPE_NS || this.type == TYPE_CNAME || this.type == TYPE_SOA || this.type == TYPE_MX;
  }

  /** Writes the whole RR; `ownerAt` >= 0 points the owner at an earlier copy of it. */
  write(w: ByteWriter, comp: NameCompressor, ownerAt: i32, ttl: u32): void {
    if (ownerAt >= 0) w.u16(0xc000 | ownerAt);
    else comp.write(w, this.owner, true);
    w.u16(this.type);
    w.u16(CLASS_IN);
    w.u32(ttl);
    const lenAt = w.len;
    w.u16(0);
    w.bytes(this.head);
    const compress = this.compressesRdata();
    for (let i = 0; i < this.names.length; i++) comp.write(w, unchecked(this.names[i]), compress);
    w.bytes(this.tail);
    w.setU16(lenAt, w.len - lenAt - 2);
  }

  /** SOA MINIMUM field (RFC 2308 negative caching TTL). */
  soaMinimum(): u32 {
    if (this.type != TYPE_SOA || this.tail.length < 20) return 0;
    const t = this.tail;
    return (<u32>t[16] << 24) | (<u32>t[17] << 16) | (<u32>t[18] << 8) | <u32>t[19];
  }
}
