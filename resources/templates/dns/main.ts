// dns: an authoritative server for the zone in the settings (the zone file, or the inline text
// when given). The build compiles the zone (kernel/lib/dns/zone-compiler.ts) and puts the binary
// zone, base64, in the configuration under "zone_file"; the appliance only loads it. The
// protocol is kernel/lib/dns; this file ties it to UDP and TCP.
import { print } from "kiln/console";
import { Config } from "kiln/config";
import { run, Task } from "kiln/loop";
import { netStart, netAddress, ipToString, udpBind, tcpListen, UdpHandler, UdpSocket, TcpHandler, TcpConn } from "kiln/net";
import { ByteWriter } from "kiln/dns/bytes";
import { loadZone } from "kiln/dns/zone-blob";
import { base64Decode } from "kiln/base64";
import { DnsServer, DnsTcpSession } from "kiln/dns/server";

export { kiln_stats } from "kiln/net";

const server = new DnsServer();
let port: u16 = 53;

class Udp extends UdpHandler {
  onDatagram(sock: UdpSocket, srcIp: u32, srcPort: u16, data: Uint8Array): void {
    const resp = server.handle(data, false);
    if (resp !== null) sock.sendTo(srcIp, srcPort, resp!);
  }
}

class TcpClient {
  session: DnsTcpSession = new DnsTcpSession(server);
  out: ByteWriter = new ByteWriter(512);
  sent: i32 = 0;
}

const tcpClients = new Map<i32, TcpClient>();

function flush(c: TcpConn, cl: TcpClient): void {
  if (cl.sent < cl.out.len) {
    const n = c.write(cl.out.buf.subarray(cl.sent, cl.out.len));
    if (n > 0) cl.sent += n;
  }
  if (cl.sent >= cl.out.len) {
    cl.out.clear();
    cl.sent = 0;
  }
}

class Tcp extends TcpHandler {
  onAccept(c: TcpConn): void {
    tcpClients.set(c.id, new TcpClient());
  }
  onData(c: TcpConn, data: Uint8Array): i32 {
    if (!tcpClients.has(c.id)) return data.length;
    const cl = tcpClients.get(c.id);
    // hold further queries while earlier answers wait for the socket (RFC 7766 back-pressure)
    if (cl.out.len - cl.sent > 65536) return 0;
    if (!cl.session.feed(data, cl.out)) {
      c.abort();
      return data.length;
    }
    flush(c, cl);
    return data.length;
  }
  onWritable(c: TcpConn): void {
    if (tcpClients.has(c.id)) flush(c, tcpClients.get(c.id));
  }
  onPeerClosed(c: TcpConn): void {
    c.close();
  }
  onClose(c: TcpConn): void {
    if (tcpClients.has(c.id)) tcpClients.delete(c.id);
  }
}

class Ready extends Task {
  run(): void {
    if (udpBind(port, new Udp()) === null || tcpListen(port, new Tcp(), 128) === null) {
      print("dns: port " + port.toString() + " in use");
      return;
    }
    print("dns: serving " + server.zones[0].apex + " on " + ipToString(netAddress()) + ":" + port.toString() + " (UDP and TCP)");
    print("kiln: ready");
  }
}

export function main(): i32 {
  const cfg = Config.load();
  port = <u16>cfg.int("port", 53);
  const res = loadZone(base64Decode(cfg.str("zone_file", "")));
  if (res.zone === null) {
    print("dns: zone error: " + res.error);
    return 1;
  }
  server.addZone(res.zone!);
  print("dns: loaded " + res.zone!.recordCount.toString() + " records for " + res.zone!.apex);
  if (!netStart(cfg, new Ready())) return 1;
  return run();
}
