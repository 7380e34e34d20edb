// ARP (RFC 826): cache with timeouts, replies, requests with retries, gratuitous ARP, and a small
// queue of packets waiting for resolution.
import { get16, get32, put16, put32 } from "./bytes";
import { ethSend, nic, EthReceiver, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "./eth";
import { ifc } from "./netif";
import { nowMs } from "./sys";
import { statInc, statSet, ST_ARP_ENTRIES, ST_ARP_RX } from "./stats";

const ENTRY_TTL_MS: i64 = 60000; // reachable entries are refreshed after a minute
const PENDING_TTL_MS: i64 = 3000; // give up resolving after 3 s (3 requests)
const MAX_ENTRIES = 512;
const MAX_QUEUED_PER_IP = 8;

class ArpEntry {
  mac: Uint8Array = new Uint8Array(6);
  resolved: bool = false;
  expires: i64 = 0;
  // Far in the past: the monotonic clock starts near 0 at boot, and the first request must go out.
  lastRequest: i64 = -1000000000;
  queue: Array<Uint8Array> = [];
}

const cache = new Map<u32, ArpEntry>();
const BROADCAST: Uint8Array = new Uint8Array(6).fill(0xff);
const arpFrame = new Uint8Array(ETH_HLEN + 28);

function sendArp(op: u32, targetMac: Uint8Array, targetIp: u32, ethDst: Uint8Array): void {
  const p = arpFrame.dataStart;
  const a = p + ETH_HLEN;
  put16(a, 1);
  put16(a + 2, ETHERTYPE_IPV4);
  store<u8>(a + 4, 6);
  store<u8>(a + 5, 4);
  put16(a + 6, op);
  memory.copy(a + 8, nic.mac.dataStart, 6);
  put32(a + 14, ifc.ip);
  memory.copy(a + 18, targetMac.dataStart, 6);
  put32(a + 24, targetIp);
  ethSend(p, ETH_HLEN + 28, ethDst.dataStart, ETHERTYPE_ARP);
}

export function arpGratuitous(): void {
  if (ifc.ip == 0) return;
  sendArp(1, new Uint8Array(6), ifc.ip, BROADCAST);
}

function evictIfFull(): void {
  if (cache.size < MAX_ENTRIES) return;
  const now = nowMs();
  const keys = cache.keys();
  for (let i = 0; i < keys.length; i++) {
    const e = cache.get(keys[i]);
    if (e.expires < now || !e.resolved) cache.delete(keys[i]);
  }
  if (cache.size >= MAX_ENTRIES) cache.delete(keys[0]);
}

function learn(ip: u32, mac: usize, create: bool): void {
  if (ip == 0 || ip == 0xffffffff) return;
  let e: ArpEntry;
  if (cache.has(ip)) e = cache.get(ip);
  else {
    if (!create) return;
    evictIfFull();
    e = new ArpEntry();
    cache.set(ip, e);
  }
  memory.copy(e.mac.dataStart, mac, 6);
  e.resolved = true;
  e.expires = nowMs() + ENTRY_TTL_MS;
  // Flush packets that waited for this address.
  const q = e.queue;
  e.queue = [];
  for (let i = 0; i < q.length; i++) {
    const f = q[i];
    ethSend(f.dataStart, f.length, e.mac.dataStart, ETHERTYPE_IPV4);
  }
  statSet(ST_ARP_ENTRIES, cache.size);
}

class ArpReceiver extends EthReceiver {
  receive(p: usize, len: i32): void {
    if (len < ETH_HLEN + 28) return;
    const a = p + ETH_HLEN;
    if (get16(a) != 1 || get16(a + 2) != ETHERTYPE_IPV4 || load<u8>(a + 4) != 6 || load<u8>(a + 5) != 4) return;
    statInc(ST_ARP_RX);
    const op = get16(a + 6);
    const senderIp = get32(a + 14);
    const targetIp = get32(a + 24);
    const forUs = ifc.ip != 0 && targetIp == ifc.ip;
    // RFC 826: update an existing entry; add one only when the request is for us.
    learn(senderIp, a + 8, forUs);
    if (op == 1 && forUs) {
      const mac = new Uint8Array(6);
      memory.copy(mac.dataStart, a + 8, 6);
      sendArp(2, mac, senderIp, mac);
    }
  }
}
export const arpReceiver = new ArpReceiver();

/**
 * Sends an IPv4 frame (Ethernet header space at `frame`) to next hop `ip`: directly when the MAC
 * is known, otherwise queued (a copy) while an ARP request goes out.
 */
export function arpResolveAndSend(ip: u32, frame: usize, len: i32): void {
  if (ip == 0xffffffff) {
    ethSend(frame, len, BROADCAST.dataStart, ETHERTYPE_IPV4);
    return;
  }
  const now = nowMs();
  let e: ArpEntry;
  if (cache.has(ip)) {
    e = cache.get(ip);
    if (e.resolved) {
      ethSend(frame, len, e.mac.dataStart, ETHERTYPE_IPV4);
      // Stale: send anyway and refresh in the background.
      if (e.expires < now && now - e.lastRequest > 1000) {
        e.lastRequest = now;
        sendArp(1, new Uint8Array(6), ip, e.mac);
      }
      return;
    }
    if (now - e.expires > 0 && e.expires != 0) {
      // Resolution failed earlier; retry from scratch.
      e.queue = [];
    }
  } else {
    evictIfFull();
    e = new ArpEntry();
    cache.set(ip, e);
    statSet(ST_ARP_ENTRIES, cache.size);
  }
  if (e.queue.length < MAX_QUEUED_PER_IP) {
    const copy = new Uint8Array(len);
    memory.copy(copy.dataStart, frame, len);
    e.queue.push(copy);
  }
  if (now - e.lastRequest >= 1000) {
    e.lastRequest = now;
    e.expires = now + PENDING_TTL_MS;
    sendArp(1, new Uint8Array(6), ip, BROADCAST);
  }
}

/** Periodic housekeeping: drops expired unresolved entries and their queues. */
export function arpExpire(): void {
  const now = nowMs();
  const keys = cache.keys();
  for (let i = 0; i < keys.length; i++) {
    const e = cache.get(keys[i]);
    if (!e.resolved && e.expires < now) cache.delete(keys[i]);
    else if (e.resolved && e.expires + ENTRY_TTL_MS * 4 < now) cache.delete(keys[i]);
  }
  statSet(ST_ARP_ENTRIES, cache.size);
}

export function arpCacheSize(): i32 {
  return cache.size;
}
