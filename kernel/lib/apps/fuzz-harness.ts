// Fuzz harness appliance: the whole stack with a UDP and a TCP echo on port 7, static address
// 10.0.0.2/24, fed frame by frame by kernel/lib/fuzz/fuzz-netstack.ts through exports.
import { Config } from "kiln/config";
import { turn } from "kiln/loop";
import { netStart, udpBind, tcpListen, UdpHandler, UdpSocket, TcpHandler, TcpConn, tcpStats } from "kiln/net";
import { ethInput } from "kiln/eth";

export { kiln_stats } from "kiln/net";

class UdpEcho extends UdpHandler {
  onDatagram(sock: UdpSocket, srcIp: u32, srcPort: u16, data: Uint8Array): void {
    sock.sendTo(srcIp, srcPort, data);
  }
}

class TcpEcho extends TcpHandler {
  onData(c: TcpConn, data: Uint8Array): i32 {
    return c.write(data);
  }
  onPeerClosed(c: TcpConn): void {
    c.close();
  }
}

const frame = new Uint8Array(65536);

export function main(): i32 {
  const cfg = Config.fromText('{"ipv4_mode":"static","ipv4_address":"10.0.0.2/24","ipv4_gateway":"10.0.0.1","tcp_max_connections":256,"tcp_user_timeout_ms":20000}');
  if (!netStart(cfg, null)) return 1;
  udpBind(7, new UdpEcho());
  tcpListen(7, new TcpEcho(), 64);
  return 0;
}

export function fuzz_buffer(): usize {
  return frame.dataStart;
}

export function fuzz_frame(len: i32): void {
  if (len < 0 || len > frame.length) return;
  ethInput(frame.dataStart, len);
}

/** One event-loop turn without sleeping: runs due timers (the host advances the clock). */
export function fuzz_turn(): void {
  turn(0);
}

export function fuzz_connections(): i32 {
  return tcpStats().active;
}
