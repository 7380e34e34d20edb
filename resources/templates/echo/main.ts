// echo: UDP and TCP echo (RFC 862) on the configured port.
import { print } from "kiln/console";
import { Config } from "kiln/config";
import { run, Task } from "kiln/loop";
import { netStart, netAddress, ipToString, udpBind, tcpListen, UdpHandler, UdpSocket, TcpHandler, TcpConn } from "kiln/net";

export { kiln_stats } from "kiln/net";

class UdpEcho extends UdpHandler {
  onDatagram(sock: UdpSocket, srcIp: u32, srcPort: u16, data: Uint8Array): void {
    sock.sendTo(srcIp, srcPort, data);
  }
}

class TcpEcho extends TcpHandler {
  onData(c: TcpConn, data: Uint8Array): i32 {
    // Echo what fits in the send buffer; the rest stays queued (flow control toward the client).
    return c.write(data);
  }
  onPeerClosed(c: TcpConn): void {
    c.close();
  }
}

let port: u16 = 7;

class Ready extends Task {
  run(): void {
    if (udpBind(port, new UdpEcho()) == null || tcpListen(port, new TcpEcho(), <i32>backlog) == null) {
      print("echo: port " + port.toString() + " in use");
      return;
    }
    print("echo: serving UDP and TCP on " + ipToString(netAddress()) + ":" + port.toString());
    print("kiln: ready");
  }
}

let backlog: i64 = 128;

export function main(): i32 {
  const cfg = Config.load();
  port = <u16>cfg.int("port", 7);
  backlog = cfg.int("backlog", 128);
  if (!netStart(cfg, new Ready())) return 1;
  return run();
}
