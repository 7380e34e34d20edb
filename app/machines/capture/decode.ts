// One-line summaries of Ethernet frames for the live packet view: protocol, addresses, ports.
// Only headers are read, each bounds-checked: a short or odd frame gives a summary that says so.

export type PacketDirection = 'in' | 'out';

export interface PacketSummary {
  /** Capture time, ms since the epoch (with a fraction: microsecond resolution). */
  time: number;
  /** `out`: sent by the guest; `in`: received by it. */
  direction: PacketDirection;
  /** Frame length on the wire (bytes, without FCS). */
  length: number;
  protocol: string;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  /** TCP flags (`SYN ACK`...), ICMP type, ARP operation. */
  info?: string;
}

const mac = (b: Buffer, o: number) =>
  Array.from(b.subarray(o, o + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
const ipv4 = (b: Buffer, o: number) => Array.from(b.subarray(o, o + 4)).join('.');
function ipv6(b: Buffer, o: number): string {
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(o + 2 * i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

const TCP_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'];

function transport(s: PacketSummary, proto: number, b: Buffer, o: number): void {
  if (proto === 6 && b.length >= o + 14) {
    s.protocol = 'TCP';
    s.srcPort = b.readUInt16BE(o);
    s.dstPort = b.readUInt16BE(o + 2);
    const f = b[o + 13]!;
    s.info = TCP_FLAGS.filter((_, i) => f & (1 << i)).join(' ');
  } else if (proto === 17 && b.length >= o + 8) {
    s.protocol = 'UDP';
    s.srcPort = b.readUInt16BE(o);
    s.dstPort = b.readUInt16BE(o + 2);
  } else if ((proto === 1 || proto === 58) && b.length >= o + 2) {
    s.protocol = proto === 1 ? 'ICMP' : 'ICMPv6';
    s.info = `type ${b[o]} code ${b[o + 1]}`;
  } else {
    s.protocol = `IP proto ${proto}`;
  }
}

/** `guestMac` (lower-case, colon-separated) tells the direction: frames it sent are `out`. */
export function summarize(frame: Buffer, timeUs: number, origLen: number, guestMac: string): PacketSummary {
  const s: PacketSummary = {
    time: timeUs / 1000,
    direction: 'in',
    length: origLen,
    protocol: 'Ethernet',
    src: '',
    dst: '',
  };
  if (frame.length < 14) {
    s.info = 'truncated frame';
    return s;
  }
  s.dst = mac(frame, 0);
  s.src = mac(frame, 6);
  if (s.src === guestMac) s.direction = 'out';
  const type = frame.readUInt16BE(12);
  if (type === 0x0806 && frame.length >= 14 + 28) {
    s.protocol = 'ARP';
    s.info = frame.readUInt16BE(20) === 1 ? 'request' : 'reply';
    s.src = ipv4(frame, 28);
    s.dst = ipv4(frame, 38);
  } else if (type === 0x0800 && frame.length >= 14 + 20) {
    const ihl = (frame[14]! & 0x0f) * 4;
    s.protocol = 'IPv4';
    s.src = ipv4(frame, 26);
    s.dst = ipv4(frame, 30);
    const fragOffset = frame.readUInt16BE(20) & 0x1fff;
    if (fragOffset === 0) transport(s, frame[23]!, frame, 14 + ihl);
    else s.info = 'fragment';
  } else if (type === 0x86dd && frame.length >= 14 + 40) {
    s.protocol = 'IPv6';
    s.src = ipv6(frame, 22);
    s.dst = ipv6(frame, 38);
    transport(s, frame[20]!, frame, 54);
  } else {
    s.info = `ethertype 0x${type.toString(16).padStart(4, '0')}`;
  }
  return s;
}
