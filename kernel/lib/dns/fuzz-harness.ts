// Fuzz harness for the DNS engine (npm run fuzz:netstack -- --target dns): every input is a
// query given to the UDP path and, length-prefixed, to one long-lived TCP session.
import { ByteWriter } from "./bytes";
import { parseZone } from "./zone-parser";
import { DnsServer, DnsTcpSession } from "./server";

const ZONE = "$ORIGIN example.test.\n$TTL 300\n@ SOA ns1 host 1 2 3 4 60\n NS ns1\n MX 10 mail\n A 192.0.2.1\nns1 A 192.0.2.2\nmail A 192.0.2.3\n AAAA 2001:db8::3\nwww CNAME @\nloop CNAME loop2\nloop2 CNAME loop\nt TXT \"a\" \"b\"\n_s._tcp SRV 1 2 3 www\nsub NS ns.sub\nns.sub A 192.0.2.9\n";
const input = new Uint8Array(65536);
const server = new DnsServer();
let session = new DnsTcpSession(server);
const out = new ByteWriter(4096);

export function main(): i32 {
  const z = parseZone(ZONE, "");
  if (z.zone === null) return 1;
  server.addZone(z.zone!);
  return 0;
}

export function fuzz_buffer(): usize {
  return input.dataStart;
}

export function fuzz_frame(len: i32): void {
  if (len < 0 || len > input.length) return;
  const msg = input.slice(0, len);
  server.handle(msg, false);
  const framed = new Uint8Array(len + 2);
  framed[0] = <u8>(len >> 8);
  framed[1] = <u8>len;
  framed.set(msg, 2);
  out.clear();
  if (!session.feed(framed, out)) session = new DnsTcpSession(server);
  if (session.buf.len > 70000) session = new DnsTcpSession(server);
}

export function fuzz_turn(): void {}

export function fuzz_connections(): i32 {
  return session.buf.len;
}
