// Fuzz harness for the HTTP engine (npm run fuzz:netstack -- --target http): inputs are bytes of
// one connection (input byte 0 = 1 starts a new connection first); output is drained as a
// socket would, and fuzz_turn checks the timeouts with the fuzzer's clock.
import { nowMs } from "../sys";
import { HttpConnection, HttpLimits, HttpStats } from "./conn";
import { Site, SiteFile } from "./site";

const input = new Uint8Array(65536);
const site = new Site();
const limits = new HttpLimits();
const stats = new HttpStats();
let conn: HttpConnection = new HttpConnection(site, limits, stats, 0);
let leftover: Uint8Array = new Uint8Array(0);

export function main(): i32 {
  const big = new Uint8Array(300000);
  for (let i = 0; i < big.length; i++) big[i] = <u8>i;
  site.add(new SiteFile("/index.html", Uint8Array.wrap(String.UTF8.encode("<h1>hi</h1>")), "\"e1\""));
  site.add(new SiteFile("/big.bin", big, "\"e2\""));
  site.add(new SiteFile("/d/index.html", new Uint8Array(10), "\"e3\""));
  conn = new HttpConnection(site, limits, stats, nowMs());
  return 0;
}

export function fuzz_buffer(): usize {
  return input.dataStart;
}

function drain(): void {
  while (true) {
    const p = conn.out.peek();
    if (p === null) break;
    conn.out.advance(p!.length);
  }
}

function fresh(): void {
  conn = new HttpConnection(site, limits, stats, nowMs());
  leftover = new Uint8Array(0);
}

export function fuzz_frame(len: i32): void {
  if (len <= 0 || len > input.length) return;
  if (input[0] == 1) fresh();
  const data = new Uint8Array(leftover.length + len - 1);
  data.set(leftover, 0);
  data.set(input.subarray(1, len), leftover.length);
  let buf = data;
  while (true) {
    const used = conn.onData(buf, nowMs());
    drain();
    if (used >= buf.length) {
      leftover = new Uint8Array(0);
      break;
    }
    if (used == 0) {
      leftover = buf;
      break;
    }
    buf = buf.slice(used);
  }
  // the TCP layer buffers at most 64 KiB for a connection that does not consume
  if (leftover.length > 65536 || conn.closeAfterFlush) fresh();
}

export function fuzz_turn(): void {
  if (conn.checkTimeout(nowMs())) fresh();
  drain();
}

export function fuzz_connections(): i32 {
  return leftover.length;
}
