// Append-only log of write commands on a block device, replayed at boot.
//
// Layout: block 0 is the header ("KIVAOF01", then the log length as u64 little-endian);
// the log (RESP commands, exactly as a client would send them) starts at block 1. Appends
// collect in memory; flush() writes the touched blocks, then the header with the new length,
// so a crash loses at most the unflushed batch and never exposes a half-written command as
// valid. When the device fills up the log is rewritten from the live data (compaction).

import { ByteWriter } from '../dns/bytes';
import { KvLog, KvServer } from './commands';
import { parseCommand, PARSE_OK, PARSE_INCOMPLETE } from './resp';

export abstract class BlockDevice {
  abstract capacity(): i64;
  abstract blockSize(): i32;
  abstract read(offset: i64, buf: Uint8Array): bool;
  abstract write(offset: i64, buf: Uint8Array): bool;
}

/** A RAM disk, for tests and the fuzzer. */
export class MemoryBlockDevice extends BlockDevice {
  data: Uint8Array;
  bs: i32;
  writes: i32 = 0;
  constructor(size: i32, bs: i32) {
    super();
    this.data = new Uint8Array(size);
    this.bs = bs;
  }
  capacity(): i64 {
    return this.data.length;
  }
  blockSize(): i32 {
    return this.bs;
  }
  read(offset: i64, buf: Uint8Array): bool {
    if (offset % this.bs != 0 || buf.length % this.bs != 0 || offset + buf.length > this.data.length) return false;
    buf.set(this.data.subarray(<i32>offset, <i32>offset + buf.length), 0);
    return true;
  }
  write(offset: i64, buf: Uint8Array): bool {
    if (offset % this.bs != 0 || buf.length % this.bs != 0 || offset + buf.length > this.data.length) return false;
    this.data.set(buf, <i32>offset);
    this.writes++;
    return true;
  }
}

const MAGIC = 'KIVAOF01';
const REPLAY_CHUNK: i32 = 64 * 1024;

export class ReplayResult {
  ok: bool = false;
  commands: i32 = 0;
  bytes: i64 = 0;
  formatted: bool = false;
  error: string = '';
}

export class AofLog extends KvLog {
  dev: BlockDevice;
  server: KvServer;
  bs: i32;
  /** Log bytes durable on the device. */
  length: i64 = 0;
  /** Block-aligned log offset where `tail` starts. */
  tailStart: i64 = 0;
  /** The last partial block plus everything appended since the last flush. */
  tail: ByteWriter = new ByteWriter(4096);
  dirty: bool = false;
  failed: bool = false;
  compactions: i32 = 0;

  constructor(dev: BlockDevice, server: KvServer) {
    super();
    this.dev = dev;
    this.server = server;
    this.bs = dev.blockSize();
  }

  enabled(): bool {
    return !this.failed;
  }

  /** Usable log bytes (everything after the header block). */
  room(): i64 {
    return this.dev.capacity() - <i64>this.bs;
  }

  append(args: Uint8Array[]): void {
    if (this.failed) return;
    const w = this.tail;
    w.u8(42);
    w.decimal(args.length);
    w.u16(0x0d0a);
    for (let i = 0; i < args.length; i++) {
      w.u8(36);
      w.decimal(args[i].length);
      w.u16(0x0d0a);
      w.bytes(args[i]);
      w.u16(0x0d0a);
    }
    this.dirty = true;
  }

  reset(): void {
    if (this.failed) return;
    this.tail.clear();
    this.tailStart = 0;
    this.length = 0;
    this.writeHeader();
    this.dirty = false;
  }

  flush(): void {
    if (!this.dirty || this.failed) return;
    this.dirty = false;
    if (this.tailStart + <i64>this.tail.len > this.room()) {
      this.compact();
      return;
    }
    if (!this.writeTail()) return;
    this.length = this.tailStart + this.tail.len;
    this.writeHeader();
    // keep only the last partial block in memory
    const full = (this.tail.len / this.bs) * this.bs;
    if (full > 0) {
      const rest = this.tail.len - full;
      this.tail.buf.copyWithin(0, full, this.tail.len);
      this.tail.len = rest;
      this.tailStart += full;
    }
  }

  private writeTail(): bool {
    const padded = ((this.tail.len + this.bs - 1) / this.bs) * this.bs;
    if (padded == 0) return true;
    const buf = new Uint8Array(padded);
    memory.copy(buf.dataStart, this.tail.buf.dataStart, <usize>this.tail.len);
    if (!this.dev.write(<i64>this.bs + this.tailStart, buf)) return this.fail();
    return true;
  }

  private writeHeader(): bool {
    const h = new Uint8Array(this.bs);
    for (let i = 0; i < 8; i++) h[i] = <u8>MAGIC.charCodeAt(i);
    store<u64>(h.dataStart + 8, <u64>this.length);
    if (!this.dev.write(0, h)) return this.fail();
    return true;
  }

  private fail(): bool {
    this.failed = true;
    return false;
  }

  /** Rewrites the log as one SET per live key; disables the log when even that does not fit. */
  compact(): void {
    this.compactions++;
    const now = this.server.lastNow;
    const saved = this.tail;
    this.tail = new ByteWriter(4096);
    this.tailStart = 0;
    const keys = this.server.store.map.keys();
    for (let i = 0; i < keys.length; i++) {
      const e = this.server.store.map.get(keys[i]);
      const kb = latin1Bytes(keys[i]);
      if (e.expireAt != 0 && e.expireAt <= now) continue;
      if (e.expireAt == 0) this.append([asciiOf('SET'), kb, e.value]);
      else this.append([asciiOf('SET'), kb, e.value, asciiOf('PXAT'), asciiOf(e.expireAt.toString())]);
    }
    if (this.tail.len > this.room()) {
      this.tail = saved;
      this.failed = true;
      return;
    }
    this.dirty = true;
    this.flushAfterCompaction();
  }

  private flushAfterCompaction(): void {
    this.dirty = false;
    if (!this.writeTail()) return;
    this.length = this.tail.len;
    this.writeHeader();
    const full = (this.tail.len / this.bs) * this.bs;
    const rest = this.tail.len - full;
    this.tail.buf.copyWithin(0, full, this.tail.len);
    this.tail.len = rest;
    this.tailStart = full;
  }

  /** Reads the log and re-executes it; formats the device when it holds no log. */
  replay(now: i64): ReplayResult {
    const r = new ReplayResult();
    const h = new Uint8Array(this.bs);
    if (this.bs <= 0 || this.dev.capacity() < <i64>this.bs * 2 || !this.dev.read(0, h)) {
      r.error = 'block device too small or unreadable';
      this.failed = true;
      return r;
    }
    let magic = true;
    for (let i = 0; i < 8; i++) if (h[i] != <u8>MAGIC.charCodeAt(i)) magic = false;
    const len = <i64>load<u64>(h.dataStart + 8);
    if (!magic || len < 0 || len > this.room()) {
      this.length = 0;
      this.writeHeader();
      r.ok = !this.failed;
      r.formatted = true;
      return r;
    }
    const sink = new ByteWriter(64);
    const carry = new ByteWriter(REPLAY_CHUNK);
    const chunk = new Uint8Array(REPLAY_CHUNK);
    let off: i64 = 0;
    this.server.replaying = true;
    while (off < len) {
      const take = <i32>(len - off < <i64>REPLAY_CHUNK ? len - off : <i64>REPLAY_CHUNK);
      // read whole blocks, and never past the end of a small device
      const readLen = ((take + this.bs - 1) / this.bs) * this.bs;
      const dst = readLen <= chunk.length ? chunk.subarray(0, readLen) : new Uint8Array(readLen);
      if (!this.dev.read(<i64>this.bs + off, dst)) {
        r.error = 'read error during replay';
        break;
      }
      carry.bytesRange(dst, 0, take);
      off += take;
      let pos = 0;
      while (pos < carry.len) {
        const view = carry.buf.subarray(pos, carry.len);
        const c = parseCommand(view, view.length);
        if (c.status == PARSE_INCOMPLETE) break;
        if (c.status != PARSE_OK) {
          r.error = 'corrupt log at byte ' + (off - take + pos).toString();
          off = len;
          break;
        }
        sink.clear();
        this.server.execute(c.args, now, sink);
        r.commands++;
        pos += c.length;
      }
      if (pos > 0) {
        carry.buf.copyWithin(0, pos, carry.len);
        carry.len -= pos;
      }
    }
    this.server.replaying = false;
    r.bytes = len;
    this.length = len;
    // continue appending in the last partial block
    this.tailStart = (len / this.bs) * this.bs;
    const partial = <i32>(len - this.tailStart);
    this.tail.clear();
    if (partial > 0) {
      const last = new Uint8Array(this.bs);
      if (this.dev.read(<i64>this.bs + this.tailStart, last)) this.tail.bytesRange(last, 0, partial);
    }
    r.ok = r.error.length == 0;
    return r;
  }
}

function asciiOf(s: string): Uint8Array {
  return latin1Bytes(s);
}

function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = <u8>s.charCodeAt(i);
  return out;
}
