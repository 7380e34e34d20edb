// Fuzz harness appliance: the whole stack with a UDP and a TCP echo on port 7, static address
// 10.0.0.2/24, fed frame by frame by kernel/lib/fuzz/runner.ts through exports (fuzz-io.ts).
// So the TCP target can drive every connection state, the echo obeys the first byte of a segment:
// 'Q' echoes then closes (active close: FIN_WAIT_1/2, CLOSING, TIME_WAIT), 'H' holds a
// half-closed connection in CLOSE_WAIT, 'A' aborts; a datagram to UDP port 9 with a 2-byte port
// opens a connection to its sender (SYN_SENT).
import { Config } from "kiln/config";
import { netStart, udpBind, tcpListen, tcpConnect, UdpHandler, UdpSocket, TcpHandler, TcpConn } from "kiln/net";
import { conns } from "kiln/tcp";

export { kiln_stats } from "kiln/net";
export { fuzz_buffer, fuzz_frame, fuzz_turn, fuzz_connections, fuzz_timers } from "./fuzz-io";

class UdpEcho extends UdpHandler {
  onDatagram(sock: UdpSocket, srcIp: u32, srcPort: u16, data: Uint8Array): void {
    sock.sendTo(srcIp, srcPort, data);
  }
}

const held = new Set<i32>();

class TcpEcho extends TcpHandler {
  onData(c: TcpConn, data: Uint8Array): i32 {
    const cmd = data.length > 0 ? data[0] : 0;
    if (cmd == 0x41) {
      c.abort();
      return data.length;
    }
    if (cmd == 0x48) held.add(c.id);
    const n = c.write(data);
    if (cmd == 0x51) c.close();
    return n;
  }
  onPeerClosed(c: TcpConn): void {
    if (!held.has(c.id)) c.close();
  }
  onClose(c: TcpConn): void {
    held.delete(c.id);
  }
}
const echo = new TcpEcho();

class Opener extends UdpHandler {
  onDatagram(sock: UdpSocket, srcIp: u32, srcPort: u16, data: Uint8Array): void {
    if (data.length < 2) return;
    const port = (<u16>data[0] << 8) | <u16>data[1];
    if (port != 0) tcpConnect(srcIp, port, echo);
  }
}

export function main(): i32 {
  const cfg = Config.fromText('{"ipv4_mode":"static","ipv4_address":"10.0.0.2/24","ipv4_gateway":"10.0.0.1","tcp_max_connections":256,"tcp_user_timeout_ms":20000}');
  if (!netStart(cfg, null)) return 1;
  udpBind(7, new UdpEcho());
  udpBind(9, new Opener());
  tcpListen(7, echo, 64);
  return 0;
}

/** Bit s set when some connection is in state s (tcp-conn.ts numbering). */
export function fuzz_states(): u32 {
  let mask: u32 = 0;
  const cs = conns.values();
  for (let i = 0; i < cs.length; i++) mask |= (<u32>1) << <u32>cs[i].state;
  return mask;
}
