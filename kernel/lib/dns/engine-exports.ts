// DNS engine exported for the loopback harness (kernel/lib/bench/loopback.ts): Node owns the
// sockets, this module owns the protocol. Used by the tests, the fuzzer and the benchmark to
// drive the exact code the appliance runs, without a network stack in between.

import { ByteWriter } from './bytes';
import { parseZone } from './zone-parser';
import { encodeZone, loadZone } from './zone-blob';
import { DnsServer, DnsTcpSession } from './server';

const input = new Uint8Array(1 << 20);
let out = new ByteWriter(4096);
const server = new DnsServer();
const sessions = new Map<i32, DnsTcpSession>();

export function inPtr(): usize {
  return input.dataStart;
}

export function inCap(): i32 {
  return input.length;
}

export function outPtr(): usize {
  return out.buf.dataStart;
}

/** Input holds the zone text (UTF-8). Returns 0, or the length of an error message in out. */
export function setup(len: i32): i32 {
  out.clear();
  const text = String.UTF8.decodeUnsafe(input.dataStart, <usize>len);
  const res = parseZone(text, '');
  if (res.zone === null) {
    out.ascii(res.error);
    return out.len;
  }
  // through the compiled form, as the appliance loads it (the build compiles, zone-blob.ts)
  const loaded = loadZone(encodeZone(res.zone!));
  if (loaded.zone === null) {
    out.ascii(loaded.error);
    return out.len;
  }
  server.addZone(loaded.zone!);
  return 0;
}

/** One UDP datagram in the input; returns the answer length in out, or -1 to drop. */
export function datagram(len: i32): i32 {
  const resp = server.handle(input.slice(0, len), false);
  if (resp === null) return -1;
  out.clear();
  out.bytes(resp);
  return out.len;
}

export function open(id: i32): void {
  sessions.set(id, new DnsTcpSession(server));
}

/** TCP bytes for connection `id`; returns the output length, or -1: close the connection. */
export function data(id: i32, len: i32): i32 {
  if (!sessions.has(id)) return -1;
  out.clear();
  const ok = sessions.get(id).feed(input.slice(0, len), out);
  return ok ? out.len : -1;
}

export function closed(id: i32): void {
  if (sessions.has(id)) sessions.delete(id);
}

/** 1 when the connection must be closed once its output is sent (never for DNS). */
export function closeAfter(_id: i32): i32 {
  return 0;
}

/** Id of a connection whose timeout expired, or -1 (DNS leaves idle TCP to the client). */
export function expired(_nowMs: i64): i32 {
  return -1;
}

/** Input holds a compiled zone (zone-blob.ts): 0 when it loads, else the error length in out. */
export function loadBlob(len: i32): i32 {
  out.clear();
  const res = loadZone(input.slice(0, len));
  if (res.zone === null) {
    out.ascii(res.error);
    return out.len;
  }
  return 0;
}
