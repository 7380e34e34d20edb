// The `udp` target: datagrams to the echo port, to unbound ports and port 0, of every size up to
// 64 KiB (fragmented), to broadcast, with no checksum, a bad one, 0xffff, and length fields
// shorter than 8, past the datagram, or short of it (trailing bytes ignored; the checksum
// recomputed so the length check is what decides). Every echo is checked against what was sent.
import {
  PEER_IP,
  fixL4Checksum,
  fragments,
  int,
  ipv4,
  l4Offset,
  mutate,
  pick,
  randomBytes,
  udp,
  type Rng,
} from '../frames.ts';
import { layerTarget, parseSent, type Generator } from './harness.ts';

class UdpGen implements Generator {
  pending = new Set<string>();
  seen = { echoes: 0, unmatchedEchoes: 0 };
  next(rng: Rng, sent: Buffer[]): Buffer[] {
    for (const f of sent) {
      const p = parseSent(f);
      if (!p || p.proto !== 17 || p.frag & 0x3fff || p.l4.length < 8) continue;
      this.seen.echoes++;
      if (!this.pending.delete(p.l4.subarray(8, p.l4.readUInt16BE(4)).toString('hex')))
        this.seen.unmatchedEchoes++;
    }
    if (this.pending.size > 256) this.pending.clear();
    const r = rng();
    const size = rng() < 0.95 ? int(rng, 1473) : int(rng, 65508);
    const data = randomBytes(rng, size);
    const sport = 1 + int(rng, 65535);
    if (r < 0.5) {
      const u = udp(sport, 7, data);
      if (size <= 1472) this.pending.add(data.toString('hex'));
      return size > 1472 ? fragments(17, u, rng) : [ipv4(17, u)];
    }
    if (r < 0.6)
      return [ipv4(17, udp(sport, pick(rng, [0, 1, 53, 68, 8080, int(rng, 65536)]), data.subarray(0, 200)))];
    if (r < 0.65) {
      const dst = pick(rng, [0xffffffff, 0x0a0000ff]);
      return [ipv4(17, udp(sport, 7, data.subarray(0, 200), PEER_IP, dst), { dst })];
    }
    const f = ipv4(17, udp(sport, 7, data.subarray(0, 300)));
    const o = l4Offset(f);
    if (r < 0.75) {
      f.writeUInt16BE(0, o + 6); // no checksum: accepted as is
      if (rng() < 0.5)
        f.writeUInt16BE(pick(rng, [0, 7, 8, 9, f.length - o - 1, f.length - o + 1, 65535]), o + 4);
      return [f];
    }
    if (r < 0.85) {
      f.writeUInt16BE(pick(rng, [0, 7, 8, 9, f.length - o - 1, f.length - o + 1, 65535]), o + 4);
      return [rng() < 0.5 ? fixL4Checksum(f) : f];
    }
    if (r < 0.9) {
      f.writeUInt16BE(f.readUInt16BE(o + 6) ^ (1 << int(rng, 16)), o + 6); // bad checksum
      return [f];
    }
    return [mutate(f, rng)];
  }
}

export const udpTarget = () =>
  layerTarget(
    'udp',
    new UdpGen(),
    (c, n) => ({
      'most datagrams pass the UDP checks': n('udpRx') > n('rxFrames') / 8,
      'datagrams echoed': (c.observed.echoes ?? 0) > 0,
      'bad lengths, checksums, unbound ports dropped': n('rxDropped') > 0,
    }),
    { answerArp: true },
  );
