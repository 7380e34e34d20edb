// HTTP engine exported for the loopback harness (kernel/lib/bench/loopback.ts); see
// kernel/lib/dns/engine-exports.ts for the calling convention. Like NETSTACK's TcpHandler,
// bytes a connection did not consume are kept and offered again with the next data.

import { ByteWriter } from '../dns/bytes';
import { HttpConnection, HttpLimits, HttpStats } from './conn';
import { Site, loadSite } from './site';

let input = new Uint8Array(1 << 20);
let out = new ByteWriter(1 << 16);
let site = new Site();
const limits = new HttpLimits();
const stats = new HttpStats();
const conns = new Map<i32, HttpConnection>();
const leftovers = new Map<i32, Uint8Array>();
let clock: i64 = 0;

export function inPtr(): usize {
  return input.dataStart;
}

export function inCap(): i32 {
  return input.length;
}

/** Grows the input buffer (a site bundle can be many megabytes). */
export function reserve(len: i32): void {
  if (len > input.length) input = new Uint8Array(len);
}

export function outPtr(): usize {
  return out.buf.dataStart;
}

/** Input holds a site bundle (site.ts format). */
export function setup(len: i32): i32 {
  out.clear();
  const s = loadSite(input.slice(0, len));
  if (s === null) {
    out.ascii('malformed site bundle');
    return out.len;
  }
  site = s!;
  return 0;
}

/** Shortens the timeouts so tests can watch them fire. */
export function setTimeouts(idleMs: i64, requestMs: i64): void {
  limits.idleMs = idleMs;
  limits.requestMs = requestMs;
}

export function open(id: i32): void {
  conns.set(id, new HttpConnection(site, limits, stats, clock));
}

function drain(c: HttpConnection): void {
  while (true) {
    const p = c.out.peek();
    if (p === null) break;
    out.bytes(p);
    c.out.advance(p.length);
  }
}

export function data(id: i32, len: i32): i32 {
  if (!conns.has(id)) return -1;
  const c = conns.get(id);
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
  // the harness has unlimited send space: keep feeding until everything is consumed or waits
  while (true) {
    const used = c.onData(buf, clock);
    drain(c);
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
  return conns.has(id) && conns.get(id).closeAfterFlush ? 1 : 0;
}

export function closed(id: i32): void {
  if (conns.has(id)) conns.delete(id);
  if (leftovers.has(id)) leftovers.delete(id);
}

/** Advances the engine clock; returns a connection to close (its 408 is dropped) or -1. */
export function expired(nowMs: i64): i32 {
  clock = nowMs;
  const ids = conns.keys();
  for (let i = 0; i < ids.length; i++) {
    const c = conns.get(ids[i]);
    if (c.checkTimeout(nowMs)) {
      conns.delete(ids[i]);
      return ids[i];
    }
  }
  return -1;
}

export function requestCount(): u64 {
  return stats.requests;
}
