// Ethernet: the NIC (handle 0), frame reception and transmission, EtherType dispatch.
import { netCount, netInfo, netRead, netWrite, AGAIN, OK } from "./sys";
import { get16, put16 } from "./bytes";
import { statInc, ST_RX_FRAMES, ST_TX_FRAMES, ST_RX_DROPPED } from "./stats";

export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4: u32 = 0x0800;
export const ETHERTYPE_ARP: u32 = 0x0806;

export class Nic {
  handle: i32 = -1;
  mac: Uint8Array = new Uint8Array(6);
  mtu: i32 = 1500;
}

export const nic = new Nic();
const rxBuf = new Uint8Array(65536 + 64);
const rxLen = new Uint32Array(1);

/** Handler for a received frame of a given EtherType; installed by arp.ts / ipv4.ts. */
export abstract class EthReceiver {
  abstract receive(frame: usize, len: i32): void;
}
let arpRx: EthReceiver | null = null;
let ipRx: EthReceiver | null = null;

export function setReceivers(arp: EthReceiver, ip: EthReceiver): void {
  arpRx = arp;
  ipRx = ip;
}

export function nicOpen(): bool {
  if (netCount() < 1) return false;
  const info = new Uint8Array(12);
  if (netInfo(0, info) != OK) return false;
  nic.handle = 0;
  for (let i = 0; i < 6; i++) nic.mac[i] = info[i];
  nic.mtu = <i32>load<u32>(info.dataStart + 8);
  if (nic.mtu < 576 || nic.mtu > 9000) nic.mtu = 1500;
  return true;
}

/** Dispatches one received frame (also the fuzzer's entry point). */
export function ethInput(p: usize, len: i32): void {
  statInc(ST_RX_FRAMES);
  if (len < ETH_HLEN) {
    statInc(ST_RX_DROPPED);
    return;
  }
  // Accept frames for our MAC, broadcast, and (for DHCP before we have an address) nothing else.
  const d0 = load<u8>(p);
  if ((d0 & 1) == 0) {
    for (let i = 0; i < 6; i++) {
      if (load<u8>(p + i) != nic.mac[i]) {
        statInc(ST_RX_DROPPED);
        return;
      }
    }
  } else {
    for (let i = 0; i < 6; i++) {
      if (load<u8>(p + i) != 0xff) {
        statInc(ST_RX_DROPPED); // multicast: not joined to any group
        return;
      }
    }
  }
  const type = get16(p + 12);
  if (type == ETHERTYPE_IPV4) {
    if (ipRx != null) (<EthReceiver>ipRx).receive(p, len);
  } else if (type == ETHERTYPE_ARP) {
    if (arpRx != null) (<EthReceiver>arpRx).receive(p, len);
  } else statInc(ST_RX_DROPPED);
}

/** Reads every pending frame from the NIC. */
export function nicDrain(): void {
  if (nic.handle < 0) return;
  // Bounded so a flood cannot starve timers.
  for (let n = 0; n < 512; n++) {
    const rc = netRead(nic.handle, rxBuf, rxLen);
    if (rc != OK) break;
    ethInput(rxBuf.dataStart, <i32>rxLen[0]);
  }
}

/** Fills the Ethernet header at p (dst MAC from `dst`, 6 bytes) and sends `len` bytes. */
export function ethSend(p: usize, len: i32, dst: usize, type: u32): bool {
  memory.copy(p, dst, 6);
  memory.copy(p + 6, nic.mac.dataStart, 6);
  put16(p + 12, type);
  if (nic.handle < 0) return false;
  statInc(ST_TX_FRAMES);
  // A full transmit ring drops the frame; TCP retransmits, the rest is best effort.
  return netWrite(nic.handle, p, len) != AGAIN;
}
