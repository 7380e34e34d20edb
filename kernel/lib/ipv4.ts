// IPv4 (RFC 791/1122): header validation and checksum, options skipped, broadcast, fragment
// reassembly with limits (RFC 815 style bitmap), output with fragmentation, routing via gateway.
import { get16, get32, put16, put32, csumAdd, csumFinish } from "./bytes";
import { EthReceiver, ETH_HLEN, nic } from "./eth";
import { arpResolveAndSend } from "./arp";
import { ifc, isBroadcastFor, onLink } from "./netif";
import { nowMs } from "./sys";
import { statInc, statSet, ST_RX_DROPPED, ST_REASSEMBLIES, ST_IP_RX, ST_IP_REASSEMBLED } from "./stats";

export const IP_HLEN = 20;
export const PROTO_ICMP: u8 = 1;
export const PROTO_TCP: u8 = 6;
export const PROTO_UDP: u8 = 17;
/** Offset of the L4 header in txBuf. */
export const L4_OFF: i32 = ETH_HLEN + IP_HLEN;

/** Where every outgoing packet is built: Ethernet + IPv4 header space, then the L4 packet. */
export const txBuf = new Uint8Array(L4_OFF + 65536);

export abstract class IpProtocol {
  /** `p`/`len`: the L4 packet; `dst` may be a broadcast address. */
  abstract receive(src: u32, dst: u32, p: usize, len: i32): void;
}
const protocols = new Map<u8, IpProtocol>();
export function registerProtocol(proto: u8, h: IpProtocol): void {
  protocols.set(proto, h);
}

/** When false (DHCP in progress), datagrams to any address are accepted (RFC 2131 §4.1). */
export let acceptAnyDst = false;
export function setAcceptAnyDst(v: bool): void {
  acceptAnyDst = v;
}

let nextId: u32 = 1;

function deliver(src: u32, dst: u32, proto: u8, p: usize, len: i32): void {
  if (!protocols.has(proto)) {
    statInc(ST_RX_DROPPED);
    return;
  }
  protocols.get(proto).receive(src, dst, p, len);
}

// ---- reassembly ----
const MAX_REASSEMBLIES = 8;
const REASSEMBLY_TIMEOUT_MS: i64 = 15000;

class Reassembly {
  key: u64;
  src: u32;
  dst: u32;
  proto: u8;
  data: Uint8Array = new Uint8Array(65536);
  have: Uint8Array = new Uint8Array(8192); // one flag per 8-byte block
  total: i32 = -1; // payload length once the last fragment arrived
  expires: i64;
  constructor(key: u64, src: u32, dst: u32, proto: u8) {
    this.key = key;
    this.src = src;
    this.dst = dst;
    this.proto = proto;
    this.expires = nowMs() + REASSEMBLY_TIMEOUT_MS;
  }
  complete(): bool {
    if (this.total < 0) return false;
    const blocks = (this.total + 7) >> 3;
    for (let i = 0; i < blocks; i++) if (this.have[i] == 0) return false;
    return true;
  }
}
const reassemblies = new Map<u64, Reassembly>();

function reassemble(src: u32, dst: u32, proto: u8, id: u32, offset: i32, more: bool, p: usize, len: i32): void {
  // Non-final fragments must carry a multiple of 8 bytes; the datagram must fit 64 KiB.
  if ((more && (len & 7) != 0) || offset + len > 65535 || len == 0) {
    statInc(ST_RX_DROPPED);
    return;
  }
  const key: u64 = (<u64>src << 32) ^ (<u64>dst) ^ (<u64>id << 16) ^ (<u64>proto << 56);
  let r: Reassembly;
  if (reassemblies.has(key)) r = reassemblies.get(key);
  else {
    ipExpire();
    if (reassemblies.size >= MAX_REASSEMBLIES) {
      statInc(ST_RX_DROPPED);
      return;
    }
    r = new Reassembly(key, src, dst, proto);
    reassemblies.set(key, r);
    statSet(ST_REASSEMBLIES, reassemblies.size);
  }
  if (!more) {
    const total = offset + len;
    if (r.total >= 0 && r.total != total) {
      // Two different ends: a bogus datagram. Drop it whole.
      reassemblies.delete(key);
      statSet(ST_REASSEMBLIES, reassemblies.size);
      return;
    }
    r.total = total;
  }
  if (r.total >= 0 && offset + len > r.total) {
    reassemblies.delete(key);
    statSet(ST_REASSEMBLIES, reassemblies.size);
    return;
  }
  // Overlapping fragments simply overwrite: the bitmap only says which bytes are present.
  memory.copy(r.data.dataStart + offset, p, len);
  const first = offset >> 3;
  const last = (offset + len + 7) >> 3;
  for (let i = first; i < last; i++) r.have[i] = 1;
  if (r.complete()) {
    reassemblies.delete(key);
    statSet(ST_REASSEMBLIES, reassemblies.size);
    statInc(ST_IP_REASSEMBLED);
    deliver(r.src, r.dst, r.proto, r.data.dataStart, r.total);
  }
}

/** Drops reassemblies that timed out. */
export function ipExpire(): void {
  const now = nowMs();
  const keys = reassemblies.keys();
  for (let i = 0; i < keys.length; i++) {
    if (reassemblies.get(keys[i]).expires < now) reassemblies.delete(keys[i]);
  }
  statSet(ST_REASSEMBLIES, reassemblies.size);
}

class Ipv4Receiver extends EthReceiver {
  receive(frame: usize, flen: i32): void {
    const p = frame + ETH_HLEN;
    const avail = flen - ETH_HLEN;
    if (avail < IP_HLEN) return drop();
    const vihl = load<u8>(p);
    const ihl = <i32>(vihl & 15) * 4;
    if (vihl >> 4 != 4 || ihl < IP_HLEN || ihl > avail) return drop();
    const total = <i32>get16(p + 2);
    if (total < ihl || total > avail) return drop(); // Ethernet padding beyond total is ignored
    if (csumFinish(csumAdd(0, p, ihl)) != 0) return drop();
    const src = get32(p + 12);
    const dst = get32(p + 16);
    // Martian sources: broadcast/multicast/loopback never source a datagram.
    if (src == 0xffffffff || (src >> 28) == 14 || (src >> 24) == 127) return drop();
    const forUs = dst == ifc.ip || isBroadcastFor(dst) || acceptAnyDst;
    if (!forUs || ifc.ip != 0 && dst == 0) return drop(); // we do not forward
    statInc(ST_IP_RX);
    const proto = load<u8>(p + 9);
    const frag = get16(p + 6);
    const more = (frag & 0x2000) != 0;
    const offset = <i32>(frag & 0x1fff) * 8;
    // Options (ihl > 20) carry nothing we act upon (RFC 1122 §3.2.1.8: ignore unknown ones).
    if (more || offset != 0) reassemble(src, dst, proto, get16(p + 4), offset, more, p + ihl, total - ihl);
    else deliver(src, dst, proto, p + ihl, total - ihl);
  }
}
function drop(): void {
  statInc(ST_RX_DROPPED);
}
export const ipv4Receiver = new Ipv4Receiver();

function writeHeader(h: usize, src: u32, dst: u32, proto: u8, len: i32, id: u32, frag: u32): void {
  store<u8>(h, 0x45);
  store<u8>(h + 1, 0);
  put16(h + 2, <u32>(IP_HLEN + len));
  put16(h + 4, id);
  put16(h + 6, frag);
  store<u8>(h + 8, 64);
  store<u8>(h + 9, proto);
  put16(h + 10, 0);
  put32(h + 12, src);
  put32(h + 16, dst);
  put16(h + 10, csumFinish(csumAdd(0, h, IP_HLEN)));
}

function nextHop(dst: u32): u32 {
  if (dst == 0xffffffff || isBroadcastFor(dst)) return 0xffffffff;
  if (ifc.gateway != 0 && !onLink(dst)) return ifc.gateway;
  return dst;
}

const fragBuf = new Uint8Array(L4_OFF + 1500);

/** Sends the L4 packet at txBuf[L4_OFF, L4_OFF+len) to `dst`, fragmenting above the MTU. */
export function ipSend(dst: u32, proto: u8, len: i32): void {
  const hop = nextHop(dst);
  const id = nextId++ & 0xffff;
  const maxPayload = nic.mtu - IP_HLEN;
  if (len <= maxPayload) {
    writeHeader(txBuf.dataStart + ETH_HLEN, ifc.ip, dst, proto, len, id, 0);
    arpResolveAndSend(hop, txBuf.dataStart, L4_OFF + len);
    return;
  }
  const chunk = maxPayload & ~7;
  for (let off = 0; off < len; off += chunk) {
    const n = min(chunk, len - off);
    const more: u32 = off + n < len ? 0x2000 : 0;
    writeHeader(fragBuf.dataStart + ETH_HLEN, ifc.ip, dst, proto, n, id, more | <u32>(off >> 3));
    memory.copy(fragBuf.dataStart + L4_OFF, txBuf.dataStart + L4_OFF + off, n);
    arpResolveAndSend(hop, fragBuf.dataStart, L4_OFF + n);
  }
}

/** Pseudo-header checksum start for TCP/UDP (RFC 793/768). */
export function pseudoSum(src: u32, dst: u32, proto: u8, len: i32): u32 {
  let s: u32 = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + <u32>proto + <u32>len;
  return s;
}
