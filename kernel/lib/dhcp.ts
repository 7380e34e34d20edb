// DHCP client (RFC 2131): DISCOVER → OFFER → REQUEST → ACK, renewal at T1 (unicast to the
// server), rebinding at T2 (broadcast), restart on NAK or lease expiry.
import { get32, put16, put32 } from "./bytes";
import { nic } from "./eth";
import { ifc } from "./netif";
import { setAcceptAnyDst } from "./ipv4";
import { UdpHandler, UdpSocket, udpBind } from "./udp";
import { schedule, Task, Timer } from "./loop";
import { randomU32 } from "./sys";
import { arpGratuitous } from "./arp";
import { statInc, ST_DHCP_RX } from "./stats";

const S_INIT = 0;
const S_SELECTING = 1;
const S_REQUESTING = 2;
const S_BOUND = 3;
const S_RENEWING = 4;
const S_REBINDING = 5;

const DISCOVER: u8 = 1;
const OFFER: u8 = 2;
const REQUEST: u8 = 3;
const ACK: u8 = 5;
const NAK: u8 = 6;

class DhcpState {
  state: i32 = S_INIT;
  xid: u32 = 0;
  offered: u32 = 0;
  server: u32 = 0;
  lease: i64 = 0; // seconds
  t1: i64 = 0;
  t2: i64 = 0;
  attempts: i32 = 0;
  timer: Timer | null = null;
  onBound: Task | null = null;
  boundOnce: bool = false;
  sock: UdpSocket | null = null;
}
export const dhcp = new DhcpState();

const pkt = new Uint8Array(548);

function build(type: u8, ciaddr: u32, requested: u32, server: u32): i32 {
  const p = pkt.dataStart;
  memory.fill(p, 0, pkt.length);
  store<u8>(p, 1); // BOOTREQUEST
  store<u8>(p + 1, 1);
  store<u8>(p + 2, 6);
  put32(p + 4, dhcp.xid);
  put16(p + 10, ciaddr == 0 ? 0x8000 : 0); // ask for broadcast replies until we own an address
  put32(p + 12, ciaddr);
  memory.copy(p + 28, nic.mac.dataStart, 6);
  put32(p + 236, 0x63825363);
  let o = p + 240;
  store<u8>(o++, 53);
  store<u8>(o++, 1);
  store<u8>(o++, type);
  store<u8>(o++, 61); // client identifier: hardware type + MAC
  store<u8>(o++, 7);
  store<u8>(o++, 1);
  memory.copy(o, nic.mac.dataStart, 6);
  o += 6;
  if (requested != 0) {
    store<u8>(o++, 50);
    store<u8>(o++, 4);
    put32(o, requested);
    o += 4;
  }
  if (server != 0) {
    store<u8>(o++, 54);
    store<u8>(o++, 4);
    put32(o, server);
    o += 4;
  }
  const host = String.UTF8.encode(ifc.hostname);
  const hl = min(host.byteLength, 63);
  if (hl > 0) {
    store<u8>(o++, 12);
    store<u8>(o++, <u8>hl);
    memory.copy(o, changetype<usize>(host), hl);
    o += hl;
  }
  store<u8>(o++, 55); // parameter request list: subnet mask, router, DNS, lease, T1, T2
  store<u8>(o++, 6);
  store<u8>(o++, 1);
  store<u8>(o++, 3);
  store<u8>(o++, 6);
  store<u8>(o++, 51);
  store<u8>(o++, 58);
  store<u8>(o++, 59);
  store<u8>(o++, 255);
  return pkt.length; // minimum BOOTP size, padded with zeros
}

function send(type: u8, ciaddr: u32, requested: u32, server: u32, dst: u32): void {
  const n = build(type, ciaddr, requested, server);
  const sock = dhcp.sock;
  if (sock == null) return;
  const data = Uint8Array.wrap(pkt.buffer, 0, n);
  sock.sendTo(dst, 67, data);
}

class DhcpTimer extends Task {
  run(): void {
    dhcp.timer = null;
    onTimeout();
  }
}

function arm(ms: i64): void {
  const t = dhcp.timer;
  if (t != null) t.cancel();
  dhcp.timer = schedule(ms, new DhcpTimer());
}

function backoffMs(): i64 {
  // RFC 2131 §4.1: 4 s doubling to 64 s, randomised by ±1 s; we start faster (1 s) for boot time.
  const base: i64 = min<i64>(64000, <i64>1000 << min(dhcp.attempts, 6));
  return base + <i64>(randomU32() % 1000);
}

function discover(): void {
  dhcp.state = S_SELECTING;
  dhcp.xid = randomU32();
  send(DISCOVER, 0, 0, 0, 0xffffffff);
  arm(backoffMs());
  dhcp.attempts++;
}

function onTimeout(): void {
  const st = dhcp.state;
  if (st == S_SELECTING || st == S_INIT) discover();
  else if (st == S_REQUESTING) {
    if (dhcp.attempts > 4) {
      dhcp.attempts = 0;
      discover();
      return;
    }
    send(REQUEST, 0, dhcp.offered, dhcp.server, 0xffffffff);
    dhcp.attempts++;
    arm(backoffMs());
  } else if (st == S_BOUND) {
    // T1: renew with the server that gave the lease.
    dhcp.state = S_RENEWING;
    dhcp.xid = randomU32();
    send(REQUEST, ifc.ip, 0, 0, dhcp.server);
    arm((dhcp.t2 - dhcp.t1) * 1000);
  } else if (st == S_RENEWING) {
    // T2: rebind with any server.
    dhcp.state = S_REBINDING;
    send(REQUEST, ifc.ip, 0, 0, 0xffffffff);
    arm((dhcp.lease - dhcp.t2) * 1000);
  } else if (st == S_REBINDING) {
    // Lease expired: drop the address and start over.
    ifc.ip = 0;
    ifc.mask = 0;
    ifc.gateway = 0;
    setAcceptAnyDst(true);
    dhcp.attempts = 0;
    discover();
  }
}

class DhcpReceiver extends UdpHandler {
  onDatagram(sock: UdpSocket, srcIp: u32, srcPort: u16, data: Uint8Array): void {
    const n = data.length;
    if (n < 240) return;
    const p = data.dataStart;
    if (load<u8>(p) != 2 || get32(p + 4) != dhcp.xid || get32(p + 236) != 0x63825363) return;
    for (let i = 0; i < 6; i++) if (load<u8>(p + 28 + i) != nic.mac[i]) return;
    statInc(ST_DHCP_RX);
    const yiaddr = get32(p + 16);
    let type: u8 = 0;
    let mask: u32 = 0;
    let router: u32 = 0;
    let server: u32 = 0;
    let lease: i64 = 0;
    let t1: i64 = 0;
    let t2: i64 = 0;
    let i = 240;
    while (i < n) {
      const code = load<u8>(p + i);
      if (code == 255) break;
      if (code == 0) {
        i++;
        continue;
      }
      if (i + 1 >= n) break;
      const len = <i32>load<u8>(p + i + 1);
      const v = p + i + 2;
      if (i + 2 + len > n) break;
      if (code == 53 && len >= 1) type = load<u8>(v);
      else if (code == 1 && len >= 4) mask = get32(v);
      else if (code == 3 && len >= 4) router = get32(v);
      else if (code == 54 && len >= 4) server = get32(v);
      else if (code == 51 && len >= 4) lease = <i64>get32(v);
      else if (code == 58 && len >= 4) t1 = <i64>get32(v);
      else if (code == 59 && len >= 4) t2 = <i64>get32(v);
      i += 2 + len;
    }
    const st = dhcp.state;
    if (type == OFFER && st == S_SELECTING) {
      if (yiaddr == 0 || server == 0) return;
      dhcp.offered = yiaddr;
      dhcp.server = server;
      dhcp.state = S_REQUESTING;
      dhcp.attempts = 0;
      send(REQUEST, 0, yiaddr, server, 0xffffffff);
      arm(backoffMs());
    } else if (type == ACK && (st == S_REQUESTING || st == S_RENEWING || st == S_REBINDING)) {
      if (yiaddr == 0) return;
      if (lease <= 0) lease = 3600;
      if (lease > 0x7fffffff) lease = 0x7fffffff;
      if (t1 <= 0 || t1 >= lease) t1 = lease / 2;
      if (t2 <= t1 || t2 >= lease) t2 = (lease * 7) / 8;
      dhcp.lease = lease;
      dhcp.t1 = t1;
      dhcp.t2 = t2;
      if (server != 0) dhcp.server = server;
      ifc.ip = yiaddr;
      ifc.mask = mask != 0 ? mask : 0xffffff00;
      ifc.gateway = router;
      setAcceptAnyDst(false);
      dhcp.state = S_BOUND;
      dhcp.attempts = 0;
      arm(t1 * 1000);
      if (!dhcp.boundOnce) {
        dhcp.boundOnce = true;
        arpGratuitous();
        const t = dhcp.onBound;
        if (t != null) t.run();
      }
    } else if (type == NAK && st != S_BOUND && st != S_SELECTING) {
      ifc.ip = 0;
      setAcceptAnyDst(true);
      dhcp.attempts = 0;
      discover();
    }
  }
}

export function dhcpStart(onBound: Task | null): bool {
  dhcp.onBound = onBound;
  dhcp.sock = udpBind(68, new DhcpReceiver());
  if (dhcp.sock == null) return false;
  setAcceptAnyDst(true);
  discover();
  return true;
}

/** Seconds of lease left at the last renewal, for diagnostics. */
export function dhcpLeaseSeconds(): i64 {
  return dhcp.lease;
}

