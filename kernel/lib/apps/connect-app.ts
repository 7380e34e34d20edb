// Test appliance for the active open: connects to `peer:peer_port`, sends a line, prints what
// comes back until the peer closes, then closes its side and exits 0 (1 on failure).
import { print } from "kiln/console";
import { Config } from "kiln/config";
import { run, stop, Task } from "kiln/loop";
import { netStart, tcpConnect, parseIp, TcpHandler, TcpConn } from "kiln/net";

let reply = "";
let peer: u32 = 0;
let peerPort: u16 = 0;

class Client extends TcpHandler {
  onAccept(c: TcpConn): void {
    print("connected from port " + c.localPort.toString());
    c.writeString("hello from kiln\n");
  }
  onData(c: TcpConn, data: Uint8Array): i32 {
    reply += String.UTF8.decode(data.buffer);
    return data.length;
  }
  onPeerClosed(c: TcpConn): void {
    print("reply: " + reply.trim());
    c.close();
  }
  onClose(c: TcpConn): void {
    print("closed");
    stop(reply.length > 0 ? 0 : 1);
  }
}

class Go extends Task {
  run(): void {
    print("kiln: ready");
    if (tcpConnect(peer, peerPort, new Client()) == null) {
      print("connect failed");
      stop(1);
    }
  }
}

export function main(): i32 {
  const cfg = Config.load();
  peer = parseIp(cfg.str("peer", "10.77.0.1"));
  peerPort = <u16>cfg.int("peer_port", 9000);
  if (!netStart(cfg, new Go())) return 1;
  return run();
}
