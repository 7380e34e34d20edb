// Fuzz harness for the KV engine (npm run fuzz:netstack -- --target resp): inputs are bytes of
// one client connection (input byte 0 = 1 starts a new one); writes go to the append-only log
// on a small RAM disk, so log flushes, compaction and the log-full path are exercised too.
import { nowMs } from "../sys";
import { KvServer } from "./commands";
import { KvSession } from "./session";
import { AofLog, MemoryBlockDevice } from "./aof";

const input = new Uint8Array(65536);
const server = new KvServer();
let session = new KvSession(server);
let leftover: Uint8Array = new Uint8Array(0);

export function main(): i32 {
  const log = new AofLog(new MemoryBlockDevice(256 * 1024, 512), server);
  server.log = log;
  log.replay(nowMs());
  return 0;
}

export function fuzz_buffer(): usize {
  return input.dataStart;
}

export function fuzz_frame(len: i32): void {
  if (len <= 0 || len > input.length) return;
  if (input[0] == 1) {
    session = new KvSession(server);
    leftover = new Uint8Array(0);
  }
  const data = new Uint8Array(leftover.length + len - 1);
  data.set(leftover, 0);
  data.set(input.subarray(1, len), leftover.length);
  const used = session.onData(data, nowMs());
  session.advance(session.pending().length);
  leftover = used >= data.length ? new Uint8Array(0) : data.slice(used);
  if (session.closeAfterFlush || leftover.length > 65536) {
    session = new KvSession(server);
    leftover = new Uint8Array(0);
  }
  // keep the key space bounded like maxmemory would
  if (server.store.size() > 20000) server.store.clear();
}

export function fuzz_turn(): void {
  server.store.sweep(nowMs(), 64);
}

export function fuzz_connections(): i32 {
  return session.partial.len;
}
