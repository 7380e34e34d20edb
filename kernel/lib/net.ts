// The appliance-facing network API: interface bring-up (static or DHCP), UDP, TCP, counters.
import { Config } from "./config";
import { addPoller, Poller, schedule, Task } from "./loop";
import { nicOpen, nicDrain, setReceivers } from "./eth";
import { arpReceiver, arpGratuitous, arpExpire } from "./arp";
import { ipv4Receiver, ipExpire } from "./ipv4";
import { icmpInit } from "./icmp";
import { udpInit } from "./udp";
import { tcpInit, timeWaitCount, bufferedBytes, conns, setTcpLimits } from "./tcp";
import { setRingBudget } from "./ring";
import { dhcpStart } from "./dhcp";
import { ifc } from "./netif";
import { parseIp } from "./bytes";
import { print } from "./console";
import { statsBlock, statSet, statGet, ST_TCP_ACTIVE, ST_TCP_TIME_WAIT, ST_TCP_BUFFERED, ST_TCP_ACCEPTED, ST_TCP_RESETS, ST_TCP_RETRANSMITS } from "./stats";

export { UdpHandler, UdpSocket, udpBind } from "./udp";
export { TcpHandler, TcpConn, TcpListener } from "./tcp-conn";
export { tcpListen, tcpUnlisten, tcpConnect, setTcpLimits } from "./tcp";
export { ipToString, parseIp } from "./bytes";

class NicPoller extends Poller {
  poll(ready: i64): void {
    // Drain even when the ready bit is clear: a frame may have arrived during processing.
    nicDrain();
  }
}

class Housekeeping extends Task {
  run(): void {
    arpExpire();
    ipExpire();
    schedule(1000, this);
  }
}

let started = false;

/**
 * Brings the first NIC up from the networked settings (resources/templates/_network.json) and
 * runs `onReady` once an address is bound. Returns false when there is no NIC or the config is bad.
 * Optional TCP settings: `tcp_max_connections`, `tcp_user_timeout_s` (RFC 9293 user timeout, the
 * template setting) or `tcp_user_timeout_ms` (the same in milliseconds, for tests and harnesses),
 * `tcp_buffer_budget_kib` (storage of all TCP send/receive rings together, default 16 MiB).
 */
export function netStart(cfg: Config, onReady: Task | null): bool {
  if (started) return false;
  if (!nicOpen()) {
    print("net: no network interface");
    return false;
  }
  started = true;
  setReceivers(arpReceiver, ipv4Receiver);
  icmpInit();
  udpInit();
  tcpInit();
  const userTimeoutMs = cfg.has("tcp_user_timeout_s")
    ? cfg.int("tcp_user_timeout_s", 120) * 1000
    : cfg.int("tcp_user_timeout_ms", 120000);
  setTcpLimits(<i32>cfg.int("tcp_max_connections", 1024), userTimeoutMs);
  setRingBudget(cfg.int("tcp_buffer_budget_kib", 0) * 1024);
  ifc.hostname = cfg.str("hostname", "kiln");
  addPoller(new NicPoller());
  schedule(1000, new Housekeeping());
  const mode = cfg.str("ipv4_mode", "dhcp");
  if (mode == "static") {
    const cidr = cfg.str("ipv4_address", "10.0.2.15/24");
    const slash = cidr.indexOf("/");
    const ip = parseIp(slash >= 0 ? cidr.substring(0, slash) : cidr);
    let len: i32 = slash >= 0 ? I32.parseInt(cidr.substring(slash + 1), 10) : 24;
    if (ip == 0 || len < 1 || len > 32) {
      print("net: bad ipv4_address " + cidr);
      return false;
    }
    ifc.ip = ip;
    ifc.mask = len == 32 ? 0xffffffff : ~((<u32>0xffffffff) >> <u32>len);
    ifc.gateway = parseIp(cfg.str("ipv4_gateway", ""));
    arpGratuitous();
    if (onReady != null) onReady.run();
    return true;
  }
  return dhcpStart(onReady);
}

export function netAddress(): u32 {
  return ifc.ip;
}
export function netMask(): u32 {
  return ifc.mask;
}
export function netGateway(): u32 {
  return ifc.gateway;
}

export class TcpStats {
  active: i32 = 0;
  timeWait: i32 = 0;
  totalAccepted: u32 = 0;
  totalReset: u32 = 0;
  retransmits: u32 = 0;
  bufferedBytes: i32 = 0;
}

export function tcpStats(): TcpStats {
  const s = new TcpStats();
  s.timeWait = timeWaitCount();
  s.active = conns.size - s.timeWait;
  s.totalAccepted = statGet(ST_TCP_ACCEPTED);
  s.totalReset = statGet(ST_TCP_RESETS);
  s.retransmits = statGet(ST_TCP_RETRANSMITS);
  s.bufferedBytes = bufferedBytes();
  return s;
}

/**
 * Host hook (kernel/lib/host): an appliance re-exports this from its entry file
 * (`export { kiln_stats } from "kiln/net"`) so tests can read connection counts.
 */
export function kiln_stats(): usize {
  const tw = timeWaitCount();
  statSet(ST_TCP_ACTIVE, conns.size - tw);
  statSet(ST_TCP_TIME_WAIT, tw);
  statSet(ST_TCP_BUFFERED, bufferedBytes());
  return statsBlock.dataStart;
}
