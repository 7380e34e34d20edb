// KV engine exported for the loopback harness (kernel/lib/bench/loopback.ts); see
// kernel/lib/dns/engine-exports.ts for the calling convention. Persistence goes to a RAM
// block device whose bytes the test can take out and put into a fresh instance (a "reboot").

import { ByteWriter } from '../dns/bytes';
import { KvServer } from './commands';
import { KvSession } from './session';
import { AofLog, MemoryBlockDevice } from './aof';

const input = new Uint8Array(1 << 20);
let out = new ByteWriter(1 << 16);
const server = new KvServer();
const sessions = new Map<i32, KvSession>();
const leftovers = new Map<i32, Uint8Array>();
let clock: i64 = 0;
let disk: MemoryBlockDevice | null = null;

export function inPtr(): usize {
  return input.dataStart;
}

export function inCap(): i32 {
  return input.length;
}

export function outPtr(): usize {
  return out.buf.dataStart;
}

/**
 * Input: empty (no persistence) or a disk image (its length a multiple of 512) holding a log
 * to replay. Returns 0, or an error length in out.
 */
export function setup(len: i32): i32 {
  out.clear();
  if (len == 0) return 0;
  const d = new MemoryBlockDevice(len, 512);
  d.data.set(input.subarray(0, len), 0);
  disk = d;
  const log = new AofLog(d, server);
  server.log = log;
  const r = log.replay(clock);
  if (!r.ok) {
    out.ascii(r.error);
    return out.len;
  }
  return 0;
}

/** Copies the RAM disk into out; returns its length. */
export function diskImage(): i32 {
  out.clear();
  if (disk !== null) out.bytes(disk!.data);
  return out.len;
}

export function open(id: i32): void {
  sessions.set(id, new KvSession(server));
  server.stats.connections++;
  server.stats.connected++;
}

export function data(id: i32, len: i32): i32 {
  if (!sessions.has(id)) return -1;
  const s = sessions.get(id);
  out.clear();
  let buf = input.slice(0, len);
  if (leftovers.has(id)) {
    const old = leftovers.get(id);
    const joined = new Uint8Array(old.length + len);
    joined.set(old, 0);
    joined.set(buf, old.length);
    buf = joined;
    leftovers.delete(id);
  }
  while (true) {
    const used = s.onData(buf, clock);
    const p = s.pending();
    out.bytes(p);
    s.advance(p.length);
    if (used >= buf.length) break;
    if (used == 0) {
      leftovers.set(id, buf);
      break;
    }
    buf = buf.slice(used);
  }
  return out.len;
}

export function closeAfter(id: i32): i32 {
  return sessions.has(id) && sessions.get(id).closeAfterFlush ? 1 : 0;
}

export function closed(id: i32): void {
  if (sessions.has(id)) {
    sessions.delete(id);
    server.stats.connected--;
  }
  if (leftovers.has(id)) leftovers.delete(id);
}

/** The harness passes wall-clock ms: expiry times are absolute wall-clock ms. */
export function expired(nowMs: i64): i32 {
  if (clock == 0) server.stats.startMs = nowMs;
  clock = nowMs;
  server.store.sweep(nowMs, 64);
  return -1;
}
