// Counters of the network stack, published to the host through the `kiln_stats` export
// (order must match NET_STAT_NAMES in host/appliance.ts).
export const ST_TCP_ACTIVE = 0;
export const ST_TCP_LISTENERS = 1;
export const ST_TCP_TIME_WAIT = 2;
export const ST_TCP_ACCEPTED = 3;
export const ST_TCP_RESETS = 4;
export const ST_TCP_RETRANSMITS = 5;
export const ST_ARP_ENTRIES = 6;
export const ST_REASSEMBLIES = 7;
export const ST_UDP_SOCKETS = 8;
export const ST_RX_FRAMES = 9;
export const ST_TX_FRAMES = 10;
export const ST_RX_DROPPED = 11;
export const ST_TCP_BUFFERED = 12;
// Inputs each layer accepted after its own checks (what the fuzzer's per-layer targets must reach).
export const ST_ARP_RX = 13;
export const ST_IP_RX = 14;
export const ST_IP_REASSEMBLED = 15;
export const ST_ICMP_RX = 16;
export const ST_UDP_RX = 17;
export const ST_TCP_RX = 18;
export const ST_DHCP_RX = 19;
export const ST_COUNT = 20;

// Layout: u32 count, then ST_COUNT u32 values.
export const statsBlock = new Uint32Array(ST_COUNT + 1);
statsBlock[0] = ST_COUNT;

// @ts-ignore: decorator
@inline export function statInc(i: i32): void {
  statsBlock[i + 1] = statsBlock[i + 1] + 1;
}

// @ts-ignore: decorator
@inline export function statAdd(i: i32, d: i32): void {
  statsBlock[i + 1] = statsBlock[i + 1] + <u32>d;
}

export function statSet(i: i32, v: u32): void {
  statsBlock[i + 1] = v;
}

export function statGet(i: i32): u32 {
  return statsBlock[i + 1];
}
