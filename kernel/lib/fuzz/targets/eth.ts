// The `eth` target: Ethernet framing. Destination MACs (ours, broadcast, multicast, another
// host's), EtherTypes (IPv4, ARP, IPv6, VLAN tags, 802.3 lengths, junk), lengths from 0 to 64 KiB,
// padding past the IP datagram, carrying mostly valid ARP and ICMP so accepted frames go on up.
import {
  APP_IP,
  APP_MAC,
  BROADCAST_MAC,
  PEER_IP,
  arp,
  eth,
  icmpEcho,
  int,
  ipv4,
  mutate,
  pick,
  randomBytes,
  type Rng,
} from '../frames.ts';
import { layerTarget } from './harness.ts';

const OTHER_MACS = [
  Buffer.from([0x01, 0x00, 0x5e, 0, 0, 1]), // IPv4 multicast
  Buffer.from([0x33, 0x33, 0, 0, 0, 1]), // IPv6 multicast
  Buffer.from([0x02, 0, 0, 0, 0, 0x03]), // another host
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]), // almost broadcast
  Buffer.from([0x03, 0, 0, 0, 0, 0x02]), // our MAC with the group bit set
];
const TYPES = [0x86dd, 0x8100, 0x88a8, 0x88cc, 0x0000, 0x05dc, 0x0600, 0xffff, 0x0801, 0x0805];

/** A valid upper-layer packet (without its Ethernet header). */
function payload(rng: Rng): { type: number; body: Buffer } {
  if (rng() < 0.4) return { type: 0x0806, body: arp(1, PEER_IP, APP_IP, true).subarray(14) };
  return { type: 0x0800, body: ipv4(1, icmpEcho(int(rng, 1400), rng)).subarray(14) };
}

function ethFrame(rng: Rng): Buffer {
  const r = rng();
  const { type, body } = payload(rng);
  const dst = r < 0.5 ? APP_MAC : r < 0.7 ? BROADCAST_MAC : pick(rng, OTHER_MACS);
  const k = rng();
  if (k < 0.45) return eth(type, body, dst);
  if (k < 0.55) return eth(type, Buffer.concat([body, Buffer.alloc(int(rng, 64))]), dst); // padding
  if (k < 0.65) return eth(pick(rng, TYPES), rng() < 0.5 ? body : randomBytes(rng, int(rng, 200)), dst);
  if (k < 0.72) {
    // An 802.1Q tag in front of a valid packet: not ours to strip.
    const tag = Buffer.from([0, int(rng, 256), type >> 8, type & 0xff]);
    return eth(0x8100, Buffer.concat([tag, body]), dst);
  }
  if (k < 0.8) return eth(type, body, dst).subarray(0, int(rng, 40)); // runts, header cut short
  if (k < 0.85) return Buffer.concat([eth(type, body, dst), randomBytes(rng, 1500 + int(rng, 64000))]); // jumbo
  if (k < 0.9) return Buffer.alloc(int(rng, 15)); // empty and sub-header frames
  return mutate(eth(type, body, dst), rng);
}

export const ethTarget = () =>
  layerTarget('eth', { next: (rng) => [ethFrame(rng)] }, (c, n) => ({
    'frames received': n('rxFrames') > 0,
    'foreign MACs/EtherTypes and runts dropped': n('rxDropped') > n('rxFrames') / 10,
    'ARP reached through Ethernet': n('arpRx') > n('rxFrames') / 20,
    'IPv4 reached through Ethernet': n('ipRx') > n('rxFrames') / 10,
    'answers sent': n('icmpRx') > 0 && n('txFrames') > 0,
  }));
