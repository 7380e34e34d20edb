// One HTTP/1.1 connection of a static file server, as a state machine over received bytes:
// keep-alive and pipelining (requests answered in order), Content-Length and chunked request
// bodies (read and discarded, with a size limit), GET/HEAD, ETag/If-None-Match, single byte
// ranges, and idle / slow-client timeouts. The caller owns the socket: it passes received
// bytes to onData (which says how many it consumed) and sends what `out` holds.

import { ByteWriter } from '../dns/bytes';
import { OutQueue } from './out-queue';
import { Site, SiteFile } from './site';
import { parseHead, hasToken, percentDecode, RequestHead, HEAD_ERROR, HEAD_INCOMPLETE, MAX_REQUEST_LINE } from './request';

export class HttpLimits {
  maxBody: i64 = 1 << 20;
  idleMs: i64 = 15000;
  requestMs: i64 = 10000;
  /** Stop reading requests while this much output waits (pipelining back-pressure). */
  outHighWater: i64 = 256 * 1024;
}

export class HttpStats {
  requests: u64 = 0;
  responses2xx: u64 = 0;
  responses3xx: u64 = 0;
  responses4xx: u64 = 0;
  responses5xx: u64 = 0;
  bytesOut: u64 = 0;
  timeouts: u64 = 0;
}

const BODY_NONE = 0;
const BODY_LENGTH = 1;
const BODY_CHUNK_SIZE = 2;
const BODY_CHUNK_DATA = 3;
const BODY_CHUNK_CRLF = 4;
const BODY_TRAILER = 5;
const MAX_CHUNK_LINE = 4096;

export class HttpConnection {
  site: Site;
  limits: HttpLimits;
  stats: HttpStats;
  out: OutQueue = new OutQueue();
  /** Close once `out` is sent (Connection: close, HTTP/1.0, errors, timeouts). */
  closeAfterFlush: bool = false;
  private lastActivity: i64;
  /** When the request now being received started, or -1 between requests. */
  private requestStart: i64 = -1;
  private bodyMode: i32 = BODY_NONE;
  private bodyLeft: i64 = 0;
  private bodyTotal: i64 = 0;
  /** Response waiting for the end of the request body. */
  private deferredHead: Uint8Array | null = null;
  private deferredBody: Uint8Array | null = null;
  private deferredClose: bool = false;

  constructor(site: Site, limits: HttpLimits, stats: HttpStats, now: i64) {
    this.site = site;
    this.limits = limits;
    this.stats = stats;
    this.lastActivity = now;
  }

  /** Consumes what it can of `data` (the unconsumed rest of earlier calls plus new bytes). */
  onData(data: Uint8Array, now: i64): i32 {
    this.lastActivity = now;
    let used = 0;
    while (used < data.length) {
      if (this.closeAfterFlush) return data.length; // nothing after the last response matters
      if (this.bodyMode != BODY_NONE) {
        const n = this.consumeBody(data, used);
        if (n < 0) return data.length;
        if (n == 0) break;
        used += n;
        continue;
      }
      if (this.out.pending > this.limits.outHighWater) break;
      const view = used == 0 ? data : data.subarray(used);
      const head = parseHead(view, view.length);
      if (head.status == HEAD_INCOMPLETE) {
        if (this.requestStart < 0) this.requestStart = now;
        break;
      }
      if (head.status == HEAD_ERROR) {
        this.error(head.errorCode);
        return data.length;
      }
      used += head.length;
      this.requestStart = now;
      this.request(head);
      if (this.bodyMode == BODY_NONE) this.requestDone();
    }
    return used;
  }

  /** Called periodically; true when the connection should be closed now (after sending out). */
  checkTimeout(now: i64): bool {
    if (this.requestStart >= 0 && now - this.requestStart > this.limits.requestMs) {
      this.stats.timeouts++;
      this.bodyMode = BODY_NONE;
      this.error(408);
      this.requestStart = -1;
      return true;
    }
    if (this.requestStart < 0 && this.out.isEmpty() && now - this.lastActivity > this.limits.idleMs) {
      this.stats.timeouts++;
      return true;
    }
    return false;
  }

  /** Records that output was sent (keeps a slow reader of a big file from being idle-closed). */
  touch(now: i64): void {
    this.lastActivity = now;
  }

  private requestDone(): void {
    this.requestStart = -1;
    const h = this.deferredHead;
    if (h !== null) {
      this.out.push(h);
      const b = this.deferredBody;
      if (b !== null) this.out.push(b);
      this.stats.bytesOut += <u64>h.length + <u64>(b === null ? 0 : b.length);
      if (this.deferredClose) this.closeAfterFlush = true;
    }
    this.deferredHead = null;
    this.deferredBody = null;
    this.deferredClose = false;
  }

  private request(h: RequestHead): void {
    this.stats.requests++;
    const keepAlive = this.wantsKeepAlive(h);
    // framing first: a bad body framing desynchronises the connection, so it closes it
    const te = h.header('transfer-encoding');
    const clCount = h.headerCount('content-length');
    if (te !== null) {
      if (clCount > 0 || !te.toLowerCase().trim().endsWith('chunked') || h.versionMinor == 0) {
        this.error(400);
        return;
      }
      this.bodyMode = BODY_CHUNK_SIZE;
      this.bodyTotal = 0;
    } else if (clCount > 0) {
      const cl = h.header('content-length');
      const n = clCount == 1 && cl !== null ? parseLength(cl) : -1;
      if (n < 0) {
        this.error(400);
        return;
      }
      if (n > this.limits.maxBody) {
        this.error(413);
        return;
      }
      if (n > 0) {
        this.bodyMode = BODY_LENGTH;
        this.bodyLeft = n;
      }
    }
    if (h.versionMinor >= 1 && h.header('host') === null) {
      this.respondError(400, keepAlive);
      return;
    }
    const isHead = h.method == 'HEAD';
    if (h.method != 'GET' && !isHead) {
      this.respond(405, 'Method Not Allowed', null, null, false, keepAlive, 'Allow: GET, HEAD\r\n');
      return;
    }
    const path = requestPath(h.target);
    if (path === null) {
      this.respondError(400, keepAlive);
      return;
    }
    const file = this.site.lookup(path!);
    if (file === null) {
      if (this.site.isDirectory(path!)) {
        this.respond(301, 'Moved Permanently', null, null, isHead, keepAlive, 'Location: ' + path! + '/\r\n');
        return;
      }
      this.respondError(404, keepAlive, isHead);
      return;
    }
    this.serveFile(h, file!, isHead, keepAlive);
  }

  private serveFile(h: RequestHead, f: SiteFile, isHead: bool, keepAlive: bool): void {
    const inm = h.header('if-none-match');
    if (inm !== null && etagMatches(inm, f.etag)) {
      this.respond(304, 'Not Modified', f, null, true, keepAlive, 'ETag: ' + f.etag + '\r\n');
      return;
    }
    const size = f.body.length;
    const range = h.header('range');
    const ifRange = h.header('if-range');
    if (range !== null && (ifRange === null || ifRange == f.etag)) {
      const r = parseRange(range, size);
      if (r.kind == RANGE_UNSATISFIABLE) {
        this.respond(416, 'Range Not Satisfiable', null, null, isHead, keepAlive, 'Content-Range: bytes */' + size.toString() + '\r\n');
        return;
      }
      if (r.kind == RANGE_OK) {
        const extra = 'ETag: ' + f.etag + '\r\nContent-Range: bytes ' + r.first.toString() + '-' + r.last.toString() + '/' + size.toString() + '\r\n';
        this.respond(206, 'Partial Content', f, f.body.subarray(r.first, r.last + 1), isHead, keepAlive, extra);
        return;
      }
      // RANGE_IGNORE: several ranges or a syntax we do not serve: the whole file (allowed)
    }
    const cached = f.okHead;
    if (keepAlive && cached !== null) {
      // The common case, answered without building a head: the same bytes every time.
      this.stats.responses2xx++;
      this.deferredHead = cached;
      this.deferredBody = isHead ? null : f.body;
      this.deferredClose = false;
      return;
    }
    this.respond(200, 'OK', f, f.body, isHead, keepAlive, 'ETag: ' + f.etag + '\r\nAccept-Ranges: bytes\r\n');
    if (keepAlive) f.okHead = this.deferredHead; // queued as a view, never written to
  }

  private wantsKeepAlive(h: RequestHead): bool {
    const c = h.header('connection');
    if (c !== null && hasToken(c, 'close')) return false;
    if (h.versionMinor == 0) return c !== null && hasToken(c, 'keep-alive');
    return true;
  }

  private respondError(code: i32, keepAlive: bool, isHead: bool = false): void {
    const text = reason(code);
    const body = String.UTF8.encode('<!doctype html><title>' + code.toString() + ' ' + text + '</title><h1>' + code.toString() + ' ' + text + '</h1>\n');
    const f = new SiteFile('/error.html', Uint8Array.wrap(body), '');
    this.respond(code, text, f, f.body, isHead, keepAlive, '');
  }

  /** An error that ends the connection (the request could not be delimited). */
  private error(code: i32): void {
    this.bodyMode = BODY_NONE;
    this.deferredHead = null;
    this.deferredBody = null;
    this.respondError(code, false);
    this.requestDone();
    this.closeAfterFlush = true;
  }

  private respond(code: i32, text: string, f: SiteFile | null, body: Uint8Array | null, isHead: bool, keepAlive: bool, extra: string): void {
    const w = new ByteWriter(256);
    w.ascii('HTTP/1.1 ');
    w.decimal(code);
    w.ascii(' ');
    w.ascii(text);
    w.ascii('\r\nServer: kiln\r\n');
    if (f !== null && code != 304) {
      w.ascii('Content-Type: ');
      w.ascii(f.contentType);
      w.ascii('\r\n');
    }
    if (code != 304) {
      w.ascii('Content-Length: ');
      w.decimal(body === null ? 0 : body.length);
      w.ascii('\r\n');
    }
    w.ascii(extra);
    if (!keepAlive) w.ascii('Connection: close\r\n');
    w.ascii('\r\n');
    if (code < 300) this.stats.responses2xx++;
    else if (code < 400) this.stats.responses3xx++;
    else if (code < 500) this.stats.responses4xx++;
    else this.stats.responses5xx++;
    this.deferredHead = w.toBytes();
    this.deferredBody = isHead ? null : body;
    this.deferredClose = !keepAlive;
  }

  /** Consumes request body bytes from data[at..]; returns bytes used, 0: need more, -1: closed. */
  private consumeBody(data: Uint8Array, at: i32): i32 {
    const avail = data.length - at;
    if (this.bodyMode == BODY_LENGTH) {
      const n = <i32>(this.bodyLeft < <i64>avail ? this.bodyLeft : <i64>avail);
      this.bodyLeft -= n;
      if (this.bodyLeft == 0) {
        this.bodyMode = BODY_NONE;
        this.requestDone();
      }
      return n;
    }
    if (this.bodyMode == BODY_CHUNK_DATA) {
      const n = <i32>(this.bodyLeft < <i64>avail ? this.bodyLeft : <i64>avail);
      this.bodyLeft -= n;
      if (this.bodyLeft == 0) this.bodyMode = BODY_CHUNK_CRLF;
      return n;
    }
    // line-based states: size line, CRLF after data, trailer lines
    let lf = -1;
    const limit = avail < MAX_CHUNK_LINE ? avail : MAX_CHUNK_LINE;
    for (let i = 0; i < limit; i++) {
      if (unchecked(data[at + i]) == 10) {
        lf = i;
        break;
      }
    }
    if (lf < 0) {
      if (avail >= MAX_CHUNK_LINE) {
        this.error(400);
        return -1;
      }
      return 0;
    }
    let lineLen = lf;
    if (lineLen > 0 && data[at + lineLen - 1] == 13) lineLen--;
    if (this.bodyMode == BODY_CHUNK_CRLF) {
      if (lineLen != 0) {
        this.error(400);
        return -1;
      }
      this.bodyMode = BODY_CHUNK_SIZE;
      return lf + 1;
    }
    if (this.bodyMode == BODY_TRAILER) {
      if (lineLen == 0) {
        this.bodyMode = BODY_NONE;
        this.requestDone();
      }
      return lf + 1;
    }
    // chunk-size [; extensions]
    let size: i64 = 0;
    let digits = 0;
    for (let i = 0; i < lineLen; i++) {
      const c = <i32>data[at + i];
      let d = -1;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      if (d < 0) {
        if (c == 59 || c == 32 || c == 9) break;
        this.error(400);
        return -1;
      }
      if (++digits > 15) {
        this.error(413);
        return -1;
      }
      size = size * 16 + d;
    }
    if (digits == 0) {
      this.error(400);
      return -1;
    }
    this.bodyTotal += size;
    if (this.bodyTotal > this.limits.maxBody) {
      this.error(413);
      return -1;
    }
    if (size == 0) this.bodyMode = BODY_TRAILER;
    else {
      this.bodyMode = BODY_CHUNK_DATA;
      this.bodyLeft = size;
    }
    return lf + 1;
  }
}

function parseLength(s: string): i64 {
  const t = s.trim();
  if (t.length == 0 || t.length > 15) return -1;
  let v: i64 = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** The decoded path of a request target (origin-form or absolute-form); null when invalid. */
export function requestPath(target: string): string | null {
  let t = target;
  if (t.length > MAX_REQUEST_LINE) return null;
  if (t.startsWith('http://') || t.startsWith('https://')) {
    const s = t.indexOf('/', t.indexOf('//') + 2);
    t = s < 0 ? '/' : t.substring(s);
  }
  if (!t.startsWith('/')) return null;
  const q = t.indexOf('?');
  if (q >= 0) t = t.substring(0, q);
  const h = t.indexOf('#');
  if (h >= 0) t = t.substring(0, h);
  const d = percentDecode(t);
  if (d === null) return null;
  // resolve "." and ".." segments; climbing above the root is refused
  const segs = d!.split('/');
  const outSegs = new Array<string>();
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i];
    if (s == '.' || (s.length == 0 && i < segs.length - 1)) continue;
    if (s == '..') {
      if (outSegs.length == 0) return null;
      outSegs.pop();
      continue;
    }
    outSegs.push(s);
  }
  return '/' + outSegs.join('/');
}

function etagMatches(header: string, etag: string): bool {
  if (header.trim() == '*') return true;
  const parts = header.split(',');
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i].trim();
    if (p.startsWith('W/')) p = p.substring(2); // If-None-Match uses the weak comparison
    if (p == etag) return true;
  }
  return false;
}

const RANGE_IGNORE = 0;
const RANGE_OK = 1;
const RANGE_UNSATISFIABLE = 2;

class ByteRange {
  kind: i32 = RANGE_IGNORE;
  first: i32 = 0;
  last: i32 = 0;
}

/** One "bytes=a-b" / "a-" / "-n" range (RFC 9110 14.1.2); several ranges are ignored. */
function parseRange(h: string, size: i32): ByteRange {
  const r = new ByteRange();
  const t = h.trim();
  if (!t.startsWith('bytes=')) return r;
  const spec = t.substring(6).trim();
  if (spec.indexOf(',') >= 0) return r;
  const dash = spec.indexOf('-');
  if (dash < 0) return r;
  const a = spec.substring(0, dash).trim();
  const b = spec.substring(dash + 1).trim();
  if (a.length == 0) {
    const n = parseLength(b);
    if (n < 0) return r;
    if (n == 0 || size == 0) {
      r.kind = RANGE_UNSATISFIABLE;
      return r;
    }
    r.kind = RANGE_OK;
    r.first = n >= size ? 0 : size - <i32>n;
    r.last = size - 1;
    return r;
  }
  const first = parseLength(a);
  if (first < 0) return r;
  let last: i64 = size - 1;
  if (b.length > 0) {
    last = parseLength(b);
    if (last < 0 || last < first) return r;
    if (last > size - 1) last = size - 1;
  }
  if (first >= size) {
    r.kind = RANGE_UNSATISFIABLE;
    return r;
  }
  r.kind = RANGE_OK;
  r.first = <i32>first;
  r.last = <i32>last;
  return r;
}

export function reason(code: i32): string {
  if (code == 400) return 'Bad Request';
  if (code == 404) return 'Not Found';
  if (code == 405) return 'Method Not Allowed';
  if (code == 408) return 'Request Timeout';
  if (code == 413) return 'Content Too Large';
  if (code == 414) return 'URI Too Long';
  if (code == 416) return 'Range Not Satisfiable';
  if (code == 431) return 'Request Header Fields Too Large';
  if (code == 505) return 'HTTP Version Not Supported';
  return 'Error';
}
