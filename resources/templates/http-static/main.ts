// http-static: serves the folder embedded at build time (kernel/lib/http/embed-site.ts makes
// the module ./kiln-assets/site) over HTTP/1.1. The protocol is kernel/lib/http/conn.ts; this
// file only ties it to TCP connections, back-pressure and timers.
import { print } from "kiln/console";
import { Config } from "kiln/config";
import { run, schedule, Task } from "kiln/loop";
import { nowMs } from "kiln/sys";
import { netStart, netAddress, ipToString, tcpListen, setTcpLimits, TcpHandler, TcpConn } from "kiln/net";
import { HttpConnection, HttpLimits, HttpStats } from "kiln/http/conn";
import { loadSite, base64Decode, Site } from "kiln/http/site";
import { SITE_BUNDLE } from "./kiln-assets/site";

export { kiln_stats } from "kiln/net";

class Client {
  conn: TcpConn;
  http: HttpConnection;
  /** Last time output made progress; a reader that stalls longer than the idle timeout is cut. */
  lastProgress: i64;
  constructor(conn: TcpConn, http: HttpConnection, now: i64) {
    this.conn = conn;
    this.http = http;
    this.lastProgress = now;
  }
}

let site: Site = new Site();
const limits = new HttpLimits();
const stats = new HttpStats();
const clients = new Map<i32, Client>();
let port: u16 = 80;

/** Sends what the socket accepts; closes once a Connection: close response is out. */
function flush(cl: Client): void {
  const q = cl.http.out;
  while (true) {
    const part = q.peek();
    if (part === null) break;
    const n = cl.conn.write(part!);
    if (n > 0) {
      q.advance(n);
      cl.lastProgress = nowMs();
      cl.http.touch(cl.lastProgress);
    }
    if (n < part!.length) break;
  }
  if (q.isEmpty() && cl.http.closeAfterFlush) cl.conn.close();
}

class Handler extends TcpHandler {
  onAccept(c: TcpConn): void {
    const now = nowMs();
    clients.set(c.id, new Client(c, new HttpConnection(site, limits, stats, now), now));
  }
  onData(c: TcpConn, data: Uint8Array): i32 {
    if (!clients.has(c.id)) return data.length;
    const cl = clients.get(c.id);
    const used = cl.http.onData(data, nowMs());
    flush(cl);
    return used;
  }
  onWritable(c: TcpConn): void {
    if (clients.has(c.id)) flush(clients.get(c.id));
  }
  onPeerClosed(c: TcpConn): void {
    // the client sent everything: finish the responses it asked for, then close
    if (!clients.has(c.id)) return;
    const cl = clients.get(c.id);
    cl.http.closeAfterFlush = true;
    flush(cl);
  }
  onClose(c: TcpConn): void {
    if (clients.has(c.id)) clients.delete(c.id);
  }
}

/** Once a second: idle, slow-client and stalled-reader timeouts. */
class Sweeper extends Task {
  run(): void {
    const now = nowMs();
    const ids = clients.keys();
    for (let i = 0; i < ids.length; i++) {
      if (!clients.has(ids[i])) continue;
      const cl = clients.get(ids[i]);
      if (!cl.http.out.isEmpty()) {
        if (now - cl.lastProgress > limits.idleMs) cl.conn.abort();
        continue;
      }
      if (cl.http.checkTimeout(now)) {
        flush(cl); // a 408 may be queued
        cl.conn.close();
      }
    }
    schedule(1000, this);
  }
}

class Ready extends Task {
  run(): void {
    if (tcpListen(port, new Handler(), 512) === null) {
      print("http-static: port " + port.toString() + " in use");
      return;
    }
    schedule(1000, new Sweeper());
    print("http-static: serving " + site.files.size.toString() + " files (" + site.totalBytes.toString() + " bytes) on http://" + ipToString(netAddress()) + ":" + port.toString() + "/");
    print("kiln: ready");
  }
}

export function main(): i32 {
  const cfg = Config.load();
  port = <u16>cfg.int("port", 80);
  limits.idleMs = cfg.int("idle_timeout_s", 15) * 1000;
  limits.requestMs = cfg.int("request_timeout_s", 10) * 1000;
  limits.maxBody = cfg.int("max_body_kib", 1024) * 1024;
  setTcpLimits(<i32>cfg.int("max_connections", 1024), 0);
  const s = loadSite(base64Decode(SITE_BUNDLE));
  if (s === null) {
    print("http-static: the embedded site is malformed");
    return 1;
  }
  site = s!;
  if (!netStart(cfg, new Ready())) return 1;
  return run();
}
