// UDP (RFC 768): sockets bound to local ports, checksums verified and generated.
import { get16, put16, csumAdd, csumFinish } from "./bytes";
import { IpProtocol, ipSend, registerProtocol, pseudoSum, txBuf, L4_OFF, PROTO_UDP } from "./ipv4";
import { ifc } from "./netif";
import { statInc, statSet, ST_RX_DROPPED, ST_UDP_SOCKETS, ST_UDP_RX } from "./stats";

export abstract class UdpHandler {
  abstract onDatagram(sock: UdpSocket, srcIp: u32, srcPort: u16, data: Uint8Array): void;
}

const sockets = new Map<u16, UdpSocket>();

export class UdpSocket {
  port: u16;
  handler: UdpHandler;
  open: bool = true;
  constructor(port: u16, handler: UdpHandler) {
    this.port = port;
    this.handler = handler;
  }
  /** Sends one datagram (up to 65507 bytes; fragmented above the MTU). */
  sendTo(ip: u32, port: u16, data: Uint8Array): bool {
    return udpSendRaw(this.port, ip, port, data.dataStart, data.length);
  }
  close(): void {
    if (this.open && sockets.has(this.port) && sockets.get(this.port) == this) sockets.delete(this.port);
    this.open = false;
    statSet(ST_UDP_SOCKETS, sockets.size);
  }
}

export function udpSendRaw(srcPort: u16, ip: u32, port: u16, data: usize, n: i32): bool {
  if (n < 0 || n > 65507) return false;
  const o = txBuf.dataStart + L4_OFF;
  const len = 8 + n;
  put16(o, srcPort);
  put16(o + 2, port);
  put16(o + 4, len);
  put16(o + 6, 0);
  memory.copy(o + 8, data, n);
  let c = csumFinish(csumAdd(pseudoSum(ifc.ip, ip, PROTO_UDP, len), o, len));
  if (c == 0) c = 0xffff;
  put16(o + 6, c);
  ipSend(ip, PROTO_UDP, len);
  return true;
}

export function udpBind(port: u16, h: UdpHandler): UdpSocket | null {
  if (port == 0 || sockets.has(port)) return null;
  const s = new UdpSocket(port, h);
  sockets.set(port, s);
  statSet(ST_UDP_SOCKETS, sockets.size);
  return s;
}

class Udp extends IpProtocol {
  receive(src: u32, dst: u32, p: usize, len: i32): void {
    if (len < 8) return statInc(ST_RX_DROPPED);
    const ulen = <i32>get16(p + 4);
    if (ulen < 8 || ulen > len) return statInc(ST_RX_DROPPED);
    if (get16(p + 6) != 0 && csumFinish(csumAdd(pseudoSum(src, dst, PROTO_UDP, ulen), p, ulen)) != 0) {
      return statInc(ST_RX_DROPPED);
    }
    statInc(ST_UDP_RX);
    const dport = <u16>get16(p + 2);
    if (!sockets.has(dport)) return statInc(ST_RX_DROPPED); // no ICMP port unreachable: keeps scans quiet
    const s = sockets.get(dport);
    const data = new Uint8Array(ulen - 8);
    memory.copy(data.dataStart, p + 8, ulen - 8);
    s.handler.onDatagram(s, src, <u16>get16(p), data);
  }
}

export function udpInit(): void {
  registerProtocol(PROTO_UDP, new Udp());
}
