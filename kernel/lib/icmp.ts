// ICMP (RFC 792): answers echo requests; everything else is counted and dropped.
import { put16, csumAdd, csumFinish } from "./bytes";
import { IpProtocol, ipSend, registerProtocol, txBuf, L4_OFF, PROTO_ICMP } from "./ipv4";
import { ifc } from "./netif";
import { statInc, ST_RX_DROPPED, ST_ICMP_RX } from "./stats";

class Icmp extends IpProtocol {
  receive(src: u32, dst: u32, p: usize, len: i32): void {
    if (len < 8 || csumFinish(csumAdd(0, p, len)) != 0) {
      statInc(ST_RX_DROPPED);
      return;
    }
    statInc(ST_ICMP_RX);
    // Echo request to our unicast address (no replies to broadcast pings: RFC 1122 §3.2.2.6 allows either).
    if (load<u8>(p) != 8 || dst != ifc.ip || ifc.ip == 0) return;
    const o = txBuf.dataStart + L4_OFF;
    memory.copy(o, p, len);
    store<u8>(o, 0);
    store<u8>(o + 1, 0);
    put16(o + 2, 0);
    put16(o + 2, csumFinish(csumAdd(0, o, len)));
    ipSend(src, PROTO_ICMP, len);
  }
}

export function icmpInit(): void {
  registerProtocol(PROTO_ICMP, new Icmp());
}

