// kv: a Redis-protocol key-value store. The protocol and commands are kernel/lib/kv; this file
// ties them to TCP, the expiry timer and, when a disk is attached, the append-only log.
import { print } from "kiln/console";
import { Config } from "kiln/config";
import { run, schedule, Task } from "kiln/loop";
import { wallNs } from "kiln/sys";
import { netStart, netAddress, ipToString, tcpListen, setTcpLimits, TcpHandler, TcpConn } from "kiln/net";
import { KvServer } from "kiln/kv/commands";
import { KvSession } from "kiln/kv/session";
import { AofLog } from "kiln/kv/aof";
import { KilnBlockDevice } from "kiln/kv/block-device";

export { kiln_stats } from "kiln/net";

const server = new KvServer();
const sessions = new Map<i32, KvSession>();
let port: u16 = 6379;

/** Expiry times are wall-clock milliseconds: they must mean the same after a reboot. */
function nowWallMs(): i64 {
  return wallNs() / 1_000_000;
}

function flush(c: TcpConn, s: KvSession): void {
  const p = s.pending();
  if (p.length > 0) {
    const n = c.write(p);
    if (n > 0) s.advance(n);
  }
  if (s.pending().length == 0 && s.closeAfterFlush) c.close();
}

class Handler extends TcpHandler {
  onAccept(c: TcpConn): void {
    sessions.set(c.id, new KvSession(server));
    server.stats.connections++;
    server.stats.connected++;
  }
  onData(c: TcpConn, data: Uint8Array): i32 {
    if (!sessions.has(c.id)) return data.length;
    const s = sessions.get(c.id);
    const used = s.onData(data, nowWallMs());
    flush(c, s);
    return used;
  }
  onWritable(c: TcpConn): void {
    if (sessions.has(c.id)) flush(c, sessions.get(c.id));
  }
  onPeerClosed(c: TcpConn): void {
    c.close();
  }
  onClose(c: TcpConn): void {
    if (sessions.has(c.id)) {
      sessions.delete(c.id);
      server.stats.connected--;
    }
  }
}

/** Active expiry, like Redis: a bounded sample of expiring keys ten times a second. */
class Expirer extends Task {
  run(): void {
    server.store.sweep(nowWallMs(), 64);
    server.log.flush();
    schedule(100, this);
  }
}

class Ready extends Task {
  run(): void {
    if (tcpListen(port, new Handler(), 512) === null) {
      print("kv: port " + port.toString() + " in use");
      return;
    }
    schedule(100, new Expirer());
    print("kv: serving RESP on " + ipToString(netAddress()) + ":" + port.toString());
    print("kiln: ready");
  }
}

export function main(): i32 {
  const cfg = Config.load();
  port = <u16>cfg.int("port", 6379);
  setTcpLimits(<i32>cfg.int("max_connections", 1024), 0);
  server.stats.startMs = nowWallMs();
  const dev = cfg.bool("persist", true) ? KilnBlockDevice.first() : null;
  if (dev !== null) {
    const log = new AofLog(dev!, server);
    server.log = log;
    const r = log.replay(nowWallMs());
    if (r.formatted) print("kv: formatted the disk for the append-only log");
    else if (r.ok) print("kv: replayed " + r.commands.toString() + " commands (" + r.bytes.toString() + " bytes), " + server.store.size().toString() + " keys");
    else print("kv: log replay stopped: " + r.error);
  } else print("kv: no disk attached, data lives in memory only");
  if (!netStart(cfg, new Ready())) return 1;
  return run();
}
