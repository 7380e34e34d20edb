// The pcap reader and writer against each other and against hand-built bytes (any split of the
// stream, big-endian and nanosecond files, corrupt input), and the packet summaries of the live
// view (direction, TCP flags, IPv6, ARP, short frames).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarize } from './decode.ts';
import { PcapReader, pcapFileHeader, pcapRecord } from './pcap.ts';

const GUEST = '52:54:00:12:34:56';
const HOST = '52:55:0a:00:02:02';
const macBytes = (m: string) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));

function ipv4Frame(
  src: string,
  dst: string,
  proto: number,
  l4: Buffer,
  fromMac = GUEST,
  toMac = HOST,
): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip[9] = proto;
  Buffer.from(src.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  return Buffer.concat([macBytes(toMac), macBytes(fromMac), Buffer.from([0x08, 0x00]), ip, l4]);
}

test('records written by pcapRecord read back whole, whatever the split of the stream', () => {
  const frames = [Buffer.alloc(60, 1), Buffer.alloc(1514, 2), Buffer.alloc(42, 3)];
  const bytes = Buffer.concat([
    pcapFileHeader(),
    ...frames.map((data, i) =>
      pcapRecord({ timeUs: 1_700_000_000_000_000 + i * 1500, origLen: data.length, data }),
    ),
  ]);
  for (const step of [1, 7, 16, 25, 1000, bytes.length]) {
    const reader = new PcapReader();
    const got = [];
    for (let at = 0; at < bytes.length; at += step) got.push(...reader.push(bytes.subarray(at, at + step)));
    assert.deepEqual(
      got.map((r) => [r.timeUs, r.origLen, r.data]),
      frames.map((d, i) => [1_700_000_000_000_000 + i * 1500, d.length, d]),
      `split every ${step} bytes`,
    );
  }
});

test('big-endian and nanosecond files are read; other link types and garbage are refused', () => {
  const h = Buffer.alloc(24);
  h.writeUInt32BE(0xa1b23c4d, 0);
  h.writeUInt32BE(65535, 16);
  h.writeUInt32BE(1, 20);
  const r = Buffer.alloc(16 + 3);
  r.writeUInt32BE(10, 0);
  r.writeUInt32BE(2_500_000, 4); // ns
  r.writeUInt32BE(3, 8);
  r.writeUInt32BE(64, 12);
  const [rec] = new PcapReader().push(Buffer.concat([h, r]));
  assert.deepEqual([rec!.timeUs, rec!.origLen, rec!.data.length], [10_002_500, 64, 3]);
  const raw = pcapFileHeader();
  raw.writeUInt32LE(101, 20);
  assert.throws(() => new PcapReader().push(raw), /link type 101 is not Ethernet/);
  assert.throws(() => new PcapReader().push(Buffer.alloc(24, 7)), /not a pcap stream/);
  const huge = Buffer.alloc(16);
  huge.writeUInt32LE(1 << 30, 8);
  assert.throws(() => new PcapReader().push(Buffer.concat([pcapFileHeader(), huge])), /corrupt stream/);
});

test('summaries: direction from the guest MAC, TCP flags and ports, UDP, ICMP', () => {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(80, 2);
  tcp[12] = 0x50;
  tcp[13] = 0x12; // SYN ACK
  const out = summarize(ipv4Frame('10.0.2.15', '10.0.2.2', 6, tcp), 1_000_500, 54, GUEST);
  assert.deepEqual(out, {
    time: 1000.5,
    direction: 'out',
    length: 54,
    protocol: 'TCP',
    src: '10.0.2.15',
    dst: '10.0.2.2',
    srcPort: 40000,
    dstPort: 80,
    info: 'SYN ACK',
  });
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(5353, 0);
  udp.writeUInt16BE(7, 2);
  const inbound = summarize(ipv4Frame('10.0.2.2', '10.0.2.15', 17, udp, HOST, GUEST), 0, 42, GUEST);
  assert.deepEqual(
    [inbound.direction, inbound.protocol, inbound.srcPort, inbound.dstPort],
    ['in', 'UDP', 5353, 7],
  );
  const icmp = summarize(ipv4Frame('1.2.3.4', '5.6.7.8', 1, Buffer.from([8, 0, 0, 0])), 0, 38, GUEST);
  assert.deepEqual([icmp.protocol, icmp.info], ['ICMP', 'type 8 code 0']);
});

test('summaries: IPv6, ARP, unknown ethertypes and truncated frames', () => {
  const v6 = Buffer.alloc(14 + 40 + 8);
  macBytes(GUEST).copy(v6, 6);
  v6.writeUInt16BE(0x86dd, 12);
  v6[20] = 17;
  v6[22] = 0xfe;
  v6[23] = 0x80;
  v6[37] = 1;
  v6[38] = 0xff;
  v6[39] = 0x02;
  v6[53] = 0xfb;
  v6.writeUInt16BE(5353, 54);
  v6.writeUInt16BE(5353, 56);
  const s = summarize(v6, 0, v6.length, GUEST);
  assert.deepEqual([s.protocol, s.src, s.dst, s.dstPort], ['UDP', 'fe80::1', 'ff02::fb', 5353]);

  const arp = Buffer.alloc(42);
  arp.fill(0xff, 0, 6);
  macBytes(HOST).copy(arp, 6);
  arp.writeUInt16BE(0x0806, 12);
  arp.writeUInt16BE(1, 20);
  Buffer.from([10, 0, 2, 2]).copy(arp, 28);
  Buffer.from([10, 0, 2, 15]).copy(arp, 38);
  assert.deepEqual(
    (({ protocol, src, dst, info, direction }) => ({ protocol, src, dst, info, direction }))(
      summarize(arp, 0, 42, GUEST),
    ),
    { protocol: 'ARP', src: '10.0.2.2', dst: '10.0.2.15', info: 'request', direction: 'in' },
  );
  const odd = Buffer.alloc(20);
  odd.writeUInt16BE(0x88b5, 12);
  assert.equal(summarize(odd, 0, 20, GUEST).info, 'ethertype 0x88b5');
  assert.equal(summarize(Buffer.alloc(5), 0, 5, GUEST).info, 'truncated frame');
  const shortTcp = ipv4Frame('1.1.1.1', '2.2.2.2', 6, Buffer.alloc(4));
  assert.equal(summarize(shortTcp, 0, shortTcp.length, GUEST).protocol, 'IP proto 6');
});
