// One client connection of the KV server: parses pipelined commands from received bytes,
// executes them in order and collects the replies. The caller owns the socket (see
// templates/kv/main.ts and kv/engine-exports.ts).

import { ByteWriter } from '../dns/bytes';
import { KvServer } from './commands';
import { parseCommand, replyError, MAX_BULK, PARSE_ERROR, PARSE_INCOMPLETE } from './resp';

/** Stop reading commands while this many reply bytes wait for the socket. */
export const OUT_HIGH_WATER: i32 = 1 << 20;
/** Largest command accepted (Redis' client-query-buffer-limit, scaled to an appliance). */
export const MAX_QUERY_BUFFER: i32 = MAX_BULK + 65536;

export class KvSession {
  server: KvServer;
  out: ByteWriter = new ByteWriter(1024);
  /** Bytes of `out` already sent. */
  sent: i32 = 0;
  closeAfterFlush: bool = false;
  /** A command received only in part, kept until the rest arrives. */
  partial: ByteWriter = new ByteWriter(64);

  constructor(server: KvServer) {
    this.server = server;
  }

  /**
   * Consumes commands from `data` (the unconsumed rest of earlier calls plus new bytes) and
   * returns how many bytes it took. A command longer than what is buffered is copied into the
   * session's own buffer: the TCP receive window (64 KiB) must never wait on a big SET value.
   */
  onData(data: Uint8Array, now: i64): i32 {
    if (this.closeAfterFlush) return data.length;
    if (this.partial.len > 0) {
      if (this.backlogged()) return 0;
      this.partial.bytes(data);
      const p = this.partial;
      const used = this.run(p.buf.subarray(0, p.len), now);
      if (used < 0) return data.length;
      p.buf.copyWithin(0, used, p.len);
      p.len -= used;
      if (p.len > MAX_QUERY_BUFFER) this.protocolError('ERR Protocol error: query buffer limit exceeded');
      this.server.log.flush();
      return data.length;
    }
    const used = this.run(data, now);
    this.server.log.flush();
    if (used < 0) return data.length;
    if (used < data.length && !this.backlogged()) {
      // an incomplete command: keep it here so the socket's window stays open
      this.partial.bytesRange(data, used, data.length);
      return data.length;
    }
    return used;
  }

  private backlogged(): bool {
    return this.out.len - this.sent > OUT_HIGH_WATER;
  }

  private protocolError(msg: string): void {
    replyError(this.out, msg);
    this.closeAfterFlush = true;
    this.partial = new ByteWriter(64);
  }

  /** Executes complete commands in `b`; bytes used, or -1 after a protocol error. */
  private run(b: Uint8Array, now: i64): i32 {
    let used = 0;
    while (used < b.length && !this.closeAfterFlush) {
      if (this.backlogged()) break;
      const view = used == 0 ? b : b.subarray(used);
      const cmd = parseCommand(view, view.length);
      if (cmd.status == PARSE_INCOMPLETE) break;
      if (cmd.status == PARSE_ERROR) {
        this.protocolError(cmd.error);
        return -1;
      }
      used += cmd.length;
      if (!this.server.execute(cmd.args, now, this.out)) this.closeAfterFlush = true;
    }
    return used;
  }

  /** The reply bytes not yet sent (a view). */
  pending(): Uint8Array {
    return this.out.buf.subarray(this.sent, this.out.len);
  }

  /** Marks `n` reply bytes as sent. */
  advance(n: i32): void {
    this.sent += n;
    if (this.sent >= this.out.len) {
      this.out.clear();
      this.sent = 0;
      if (this.out.buf.length > 1 << 16) this.out = new ByteWriter(1024); // give memory back
    }
  }
}
