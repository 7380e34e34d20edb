// One client connection of the KV server: parses pipelined commands from received bytes,
// executes them in order and collects the replies. The caller owns the socket (see
// templates/kv/main.ts and kv/engine-exports.ts).

import { ByteWriter } from '../dns/bytes';
import { KvServer } from './commands';
import { parseCommand, replyError, PARSE_ERROR, PARSE_INCOMPLETE } from './resp';

/** Stop reading commands while this many reply bytes wait for the socket. */
export const OUT_HIGH_WATER: i32 = 1 << 20;

export class KvSession {
  server: KvServer;
  out: ByteWriter = new ByteWriter(1024);
  /** Bytes of `out` already sent. */
  sent: i32 = 0;
  closeAfterFlush: bool = false;

  constructor(server: KvServer) {
    this.server = server;
  }

  /** Consumes complete commands from `data`; returns bytes consumed. */
  onData(data: Uint8Array, now: i64): i32 {
    let used = 0;
    while (used < data.length && !this.closeAfterFlush) {
      if (this.out.len - this.sent > OUT_HIGH_WATER) break;
      const view = used == 0 ? data : data.subarray(used);
      const cmd = parseCommand(view, view.length);
      if (cmd.status == PARSE_INCOMPLETE) break;
      if (cmd.status == PARSE_ERROR) {
        replyError(this.out, cmd.error);
        this.closeAfterFlush = true;
        return data.length;
      }
      used += cmd.length;
      if (!this.server.execute(cmd.args, now, this.out)) this.closeAfterFlush = true;
    }
    this.server.log.flush();
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
