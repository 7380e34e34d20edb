// The Redis command subset: PING ECHO GET SET(EX/PX/EXAT/PXAT/NX/XX/KEEPTTL/GET) DEL EXISTS
// INCR DECR INCRBY DECRBY EXPIRE PEXPIRE PEXPIREAT TTL PTTL PERSIST KEYS DBSIZE FLUSHALL
// FLUSHDB INFO MGET MSET STRLEN APPEND SELECT QUIT, plus the CONFIG GET / COMMAND / CLIENT
// probes redis-cli and redis-benchmark send. Writes are handed to the log (aof.ts) in a
// normalised form whose replay gives the same state (expiry as absolute PEXPIREAT).

import { ByteWriter, bytesToAscii, asciiBytes } from '../dns/bytes';
import { KvStore, Entry, globMatch } from './store';
import { parseInt64, replyArrayHeader, replyBulk, replyBulkString, replyError, replyInt, replyNull, replySimple } from './resp';

/** Where writes go to be persisted; the default keeps nothing. */
export class KvLog {
  /** Appends one command (arguments) to the log. */
  append(_args: Uint8Array[]): void {}
  /** The key space was emptied: the log may restart empty. */
  reset(): void {}
  /** Makes appended commands durable (called once per batch of requests). */
  flush(): void {}
  enabled(): bool {
    return false;
  }
}

export class KvStats {
  commands: u64 = 0;
  connections: u64 = 0;
  connected: i32 = 0;
  hits: u64 = 0;
  misses: u64 = 0;
  startMs: i64 = 0;
}

const WRONG_ARGS = 'ERR wrong number of arguments for ';
const NOT_INT = 'ERR value is not an integer or out of range';
const SYNTAX = 'ERR syntax error';

function upper(b: Uint8Array): string {
  const s = bytesToAscii(b, 0, b.length);
  return s.toUpperCase();
}

function key(b: Uint8Array): string {
  return bytesToAscii(b, 0, b.length);
}

function keyBytes(k: string): Uint8Array {
  return asciiBytes(k);
}

function int(b: Uint8Array): i64 {
  return parseInt64(b, 0, b.length);
}

function decimalBytes(v: i64): Uint8Array {
  return asciiBytes(v.toString());
}

export class KvServer {
  store: KvStore = new KvStore();
  log: KvLog = new KvLog();
  stats: KvStats = new KvStats();
  /** True while replaying the log at boot: writes are not logged again. */
  replaying: bool = false;
  /** The clock of the latest command (compaction drops keys expired by then). */
  lastNow: i64 = 0;

  private logWrite(args: Uint8Array[]): void {
    if (!this.replaying) this.log.append(args);
  }

  /** Executes one command; returns false when the connection must close (QUIT). */
  execute(args: Uint8Array[], now: i64, w: ByteWriter): bool {
    this.stats.commands++;
    this.lastNow = now;
    if (args.length == 0) return true;
    const cmd = upper(args[0]);
    const n = args.length;
    if (cmd == 'GET') {
      if (n != 2) return this.wrongArgs(w, 'get');
      const e = this.store.get(key(args[1]), now);
      if (e === null) {
        this.stats.misses++;
        replyNull(w);
      } else {
        this.stats.hits++;
        replyBulk(w, e.value);
      }
      return true;
    }
    if (cmd == 'SET') return this.set(args, now, w);
    if (cmd == 'PING') {
      if (n > 2) return this.wrongArgs(w, 'ping');
      if (n == 2) replyBulk(w, args[1]);
      else replySimple(w, 'PONG');
      return true;
    }
    if (cmd == 'INCR' || cmd == 'DECR' || cmd == 'INCRBY' || cmd == 'DECRBY') {
      const by = cmd == 'INCR' || cmd == 'DECR';
      if (n != (by ? 2 : 3)) return this.wrongArgs(w, cmd.toLowerCase());
      let delta: i64 = 1;
      if (!by) {
        delta = int(args[2]);
        if (delta == i64.MIN_VALUE) {
          replyError(w, NOT_INT);
          return true;
        }
      }
      if (cmd.startsWith('DECR')) delta = -delta;
      return this.incr(args[1], delta, now, w);
    }
    if (cmd == 'DEL' || cmd == 'UNLINK') {
      if (n < 2) return this.wrongArgs(w, 'del');
      let count = 0;
      for (let i = 1; i < n; i++) {
        const k = key(args[i]);
        if (this.store.get(k, now) !== null && this.store.remove(k)) count++;
      }
      if (count > 0) this.logWrite(args);
      replyInt(w, count);
      return true;
    }
    if (cmd == 'EXISTS') {
      if (n < 2) return this.wrongArgs(w, 'exists');
      let count = 0;
      for (let i = 1; i < n; i++) if (this.store.get(key(args[i]), now) !== null) count++;
      replyInt(w, count);
      return true;
    }
    if (cmd == 'EXPIRE' || cmd == 'PEXPIRE' || cmd == 'EXPIREAT' || cmd == 'PEXPIREAT') return this.expire(cmd, args, now, w);
    if (cmd == 'TTL' || cmd == 'PTTL') {
      if (n != 2) return this.wrongArgs(w, cmd.toLowerCase());
      const e = this.store.get(key(args[1]), now);
      if (e === null) replyInt(w, -2);
      else if (e.expireAt == 0) replyInt(w, -1);
      else {
        const ms = e.expireAt - now;
        replyInt(w, cmd == 'PTTL' ? ms : (ms + 500) / 1000);
      }
      return true;
    }
    if (cmd == 'PERSIST') {
      if (n != 2) return this.wrongArgs(w, 'persist');
      const e = this.store.get(key(args[1]), now);
      if (e === null || e.expireAt == 0) replyInt(w, 0);
      else {
        this.store.setExpire(e, 0);
        this.logWrite(args);
        replyInt(w, 1);
      }
      return true;
    }
    if (cmd == 'KEYS') {
      if (n != 2) return this.wrongArgs(w, 'keys');
      const pat = key(args[1]);
      const keys = this.store.map.keys();
      const hits = new Array<string>();
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (globMatch(pat, k) && this.store.get(k, now) !== null) hits.push(k);
      }
      replyArrayHeader(w, hits.length);
      for (let i = 0; i < hits.length; i++) replyBulk(w, keyBytes(hits[i]));
      return true;
    }
    if (cmd == 'DBSIZE') {
      replyInt(w, this.store.size());
      return true;
    }
    if (cmd == 'FLUSHALL' || cmd == 'FLUSHDB') {
      this.store.clear();
      if (!this.replaying) this.log.reset();
      replySimple(w, 'OK');
      return true;
    }
    if (cmd == 'MGET') {
      if (n < 2) return this.wrongArgs(w, 'mget');
      replyArrayHeader(w, n - 1);
      for (let i = 1; i < n; i++) {
        const e = this.store.get(key(args[i]), now);
        if (e === null) replyNull(w);
        else replyBulk(w, e.value);
      }
      return true;
    }
    if (cmd == 'MSET') {
      if (n < 3 || (n - 1) % 2 != 0) return this.wrongArgs(w, 'mset');
      for (let i = 1; i < n; i += 2) this.store.set(key(args[i]), args[i + 1].slice(), 0);
      this.logWrite(args);
      replySimple(w, 'OK');
      return true;
    }
    if (cmd == 'STRLEN') {
      if (n != 2) return this.wrongArgs(w, 'strlen');
      const e = this.store.get(key(args[1]), now);
      replyInt(w, e === null ? 0 : e.value.length);
      return true;
    }
    if (cmd == 'APPEND') {
      if (n != 3) return this.wrongArgs(w, 'append');
      const k = key(args[1]);
      const e = this.store.get(k, now);
      const old = e === null ? new Uint8Array(0) : e.value;
      const joined = new Uint8Array(old.length + args[2].length);
      joined.set(old, 0);
      joined.set(args[2], old.length);
      this.store.set(k, joined, e === null ? 0 : e.expireAt);
      this.logWrite(args);
      replyInt(w, joined.length);
      return true;
    }
    if (cmd == 'ECHO') {
      if (n != 2) return this.wrongArgs(w, 'echo');
      replyBulk(w, args[1]);
      return true;
    }
    if (cmd == 'INFO') {
      replyBulkString(w, this.info(now));
      return true;
    }
    if (cmd == 'SELECT') {
      if (n != 2) return this.wrongArgs(w, 'select');
      if (int(args[1]) == 0) replySimple(w, 'OK');
      else replyError(w, 'ERR DB index is out of range');
      return true;
    }
    if (cmd == 'QUIT') {
      replySimple(w, 'OK');
      return false;
    }
    if (cmd == 'CONFIG') {
      // redis-benchmark asks for "save" and "appendonly" at start: answer honestly
      if (n == 3 && upper(args[1]) == 'GET') {
        const p = key(args[2]).toLowerCase();
        if (p == 'save' || p == 'appendonly') {
          replyArrayHeader(w, 2);
          replyBulkString(w, p);
          replyBulkString(w, p == 'save' ? '' : this.log.enabled() ? 'yes' : 'no');
        } else replyArrayHeader(w, 0);
        return true;
      }
      replyError(w, 'ERR CONFIG subcommand not supported');
      return true;
    }
    if (cmd == 'COMMAND') {
      replyArrayHeader(w, 0);
      return true;
    }
    if (cmd == 'CLIENT') {
      replySimple(w, 'OK');
      return true;
    }
    let msg = "ERR unknown command '" + key(args[0]) + "', with args beginning with: ";
    for (let i = 1; i < n && i < 4; i++) msg += "'" + key(args[i]) + "' ";
    replyError(w, sanitize(msg));
    return true;
  }

  private wrongArgs(w: ByteWriter, cmd: string): bool {
    replyError(w, WRONG_ARGS + "'" + cmd + "' command");
    return true;
  }

  private set(args: Uint8Array[], now: i64, w: ByteWriter): bool {
    const n = args.length;
    if (n < 3) return this.wrongArgs(w, 'set');
    let expireAt: i64 = 0;
    let nx = false;
    let xx = false;
    let keepTtl = false;
    let get = false;
    let hasExpiry = false;
    for (let i = 3; i < n; i++) {
      const opt = upper(args[i]);
      if (opt == 'NX' && !xx) nx = true;
      else if (opt == 'XX' && !nx) xx = true;
      else if (opt == 'KEEPTTL' && !hasExpiry) keepTtl = true;
      else if (opt == 'GET') get = true;
      else if ((opt == 'EX' || opt == 'PX' || opt == 'EXAT' || opt == 'PXAT') && !hasExpiry && !keepTtl && i + 1 < n) {
        const v = int(args[++i]);
        if (v == i64.MIN_VALUE || v <= 0 || v > 1_000_000_000_000_000) {
          replyError(w, "ERR invalid expire time in 'set' command");
          return true;
        }
        hasExpiry = true;
        if (opt == 'EX') expireAt = now + v * 1000;
        else if (opt == 'PX') expireAt = now + v;
        else if (opt == 'EXAT') expireAt = v * 1000;
        else expireAt = v;
      } else {
        replyError(w, SYNTAX);
        return true;
      }
    }
    const k = key(args[1]);
    const old = this.store.get(k, now);
    if ((nx && old !== null) || (xx && old === null)) {
      if (get && old !== null) replyBulk(w, old.value);
      else replyNull(w);
      return true;
    }
    if (keepTtl && old !== null) expireAt = old.expireAt;
    const oldValue: Uint8Array | null = old === null ? null : old.value;
    this.store.set(k, args[2].slice(), expireAt);
    if (expireAt == 0) this.logWrite([args[0], args[1], args[2]]);
    else this.logWrite([asciiBytes('SET'), args[1], args[2], asciiBytes('PXAT'), decimalBytes(expireAt)]);
    if (get) {
      if (oldValue === null) replyNull(w);
      else replyBulk(w, oldValue);
    } else replySimple(w, 'OK');
    return true;
  }

  private incr(kb: Uint8Array, delta: i64, now: i64, w: ByteWriter): bool {
    const k = key(kb);
    const e = this.store.get(k, now);
    let v: i64 = 0;
    if (e !== null) {
      v = int(e.value);
      if (v == i64.MIN_VALUE) {
        replyError(w, NOT_INT);
        return true;
      }
    }
    const r = v + delta;
    // signed overflow: operands of one sign giving the other
    if ((delta > 0 && r < v) || (delta < 0 && r > v) || r == i64.MIN_VALUE) {
      replyError(w, 'ERR increment or decrement would overflow');
      return true;
    }
    const bytes = decimalBytes(r);
    if (e === null) this.store.set(k, bytes, 0);
    else e.value = bytes; // keeps the TTL, like Redis
    this.logWrite([asciiBytes('SET'), kb, bytes, asciiBytes('KEEPTTL')]);
    replyInt(w, r);
    return true;
  }

  private expire(cmd: string, args: Uint8Array[], now: i64, w: ByteWriter): bool {
    if (args.length != 3) return this.wrongArgs(w, cmd.toLowerCase());
    const v = int(args[2]);
    if (v == i64.MIN_VALUE || v > 1_000_000_000_000_000 || v < -1_000_000_000_000_000) {
      replyError(w, NOT_INT);
      return true;
    }
    const k = key(args[1]);
    const e = this.store.get(k, now);
    if (e === null) {
      replyInt(w, 0);
      return true;
    }
    let at: i64;
    if (cmd == 'EXPIRE') at = now + v * 1000;
    else if (cmd == 'PEXPIRE') at = now + v;
    else if (cmd == 'EXPIREAT') at = v * 1000;
    else at = v;
    if (at <= now) {
      this.store.remove(k); // an expiry in the past deletes the key (Redis semantics)
      this.logWrite([asciiBytes('DEL'), args[1]]);
    } else {
      this.store.setExpire(e, at);
      this.logWrite([asciiBytes('PEXPIREAT'), args[1], decimalBytes(at)]);
    }
    replyInt(w, 1);
    return true;
  }

  info(now: i64): string {
    const s = this.stats;
    let t = '# Server\r\nredis_version:7.0.0\r\nkiln_appliance:kv\r\nredis_mode:standalone\r\n';
    t += 'uptime_in_seconds:' + ((now - s.startMs) / 1000).toString() + '\r\n';
    t += '\r\n# Clients\r\nconnected_clients:' + s.connected.toString() + '\r\n';
    t += '\r\n# Memory\r\nused_memory:' + (<i64>memory.size() * 65536).toString() + '\r\n';
    t += 'used_memory_dataset:' + this.store.bytes.toString() + '\r\n';
    t += '\r\n# Persistence\r\naof_enabled:' + (this.log.enabled() ? '1' : '0') + '\r\n';
    t += '\r\n# Stats\r\ntotal_connections_received:' + s.connections.toString() + '\r\n';
    t += 'total_commands_processed:' + s.commands.toString() + '\r\n';
    t += 'keyspace_hits:' + s.hits.toString() + '\r\nkeyspace_misses:' + s.misses.toString() + '\r\n';
    t += 'expired_keys:' + this.store.expiredKeys.toString() + '\r\n';
    t += '\r\n# Keyspace\r\n';
    if (this.store.size() > 0) {
      t += 'db0:keys=' + this.store.size().toString() + ',expires=' + this.store.expiring.toString() + ',avg_ttl=0\r\n';
    }
    return t;
  }
}

/** Error replies are one line: control bytes in echoed arguments are replaced. */
function sanitize(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 32 || c == 127 ? ' ' : String.fromCharCode(c);
  }
  return out;
}

export { Entry };
