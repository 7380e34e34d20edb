// The `netstack` target: every layer at once (ARP, ICMP, UDP, fragments, IP options, a stateful
// TCP peer), half of the frames mutated anywhere. The per-layer targets go deeper into each one.
import {
  APP_IP,
  PEER_IP,
  arp,
  fragments,
  icmpEcho,
  int,
  ipv4,
  mutate,
  tcp,
  udp,
  type Rng,
} from '../frames.ts';
import { layerTarget } from './harness.ts';

interface PeerConn {
  sport: number;
  seq: number; // our next sequence number as the peer
  ack: number; // appliance's next sequence number
}

/** Stateful enough to get through handshakes, so data, FIN and RST paths get exercised. */
class NetstackGen {
  conns: PeerConn[] = [];
  learn(sent: Buffer[]): void {
    for (const f of sent) {
      if (f.length < 54 || f.readUInt16BE(12) !== 0x0800 || f[23] !== 6) continue;
      const t = 14 + (f[14]! & 15) * 4;
      if (f.length < t + 20) continue;
      const dport = f.readUInt16BE(t + 2);
      const flags = f[t + 13]! & 0x3f;
      const seq = f.readUInt32BE(t + 4);
      const c = this.conns.find((x) => x.sport === dport);
      if (c && flags & 2) c.ack = (seq + 1) >>> 0;
    }
  }
  next(rng: Rng, sent: Buffer[]): Buffer[] {
    this.learn(sent);
    const r = rng();
    let frames: Buffer[];
    if (r < 0.1)
      frames = [
        arp(
          int(rng, 3),
          rng() < 0.5 ? PEER_IP : int(rng, 2 ** 32),
          rng() < 0.7 ? APP_IP : int(rng, 2 ** 32),
          rng() < 0.5,
        ),
      ];
    else if (r < 0.2)
      frames = [ipv4(1, icmpEcho(int(rng, 1400), rng), { dst: rng() < 0.9 ? APP_IP : 0xffffffff })];
    else if (r < 0.3)
      frames = [
        ipv4(
          17,
          udp(
            1000 + int(rng, 10),
            rng() < 0.7 ? 7 : int(rng, 65536),
            Buffer.alloc(int(rng, 1400), int(rng, 256)),
          ),
        ),
      ];
    else if (r < 0.38)
      frames = fragments(
        rng() < 0.5 ? 1 : 17,
        rng() < 0.5 ? icmpEcho(int(rng, 6000), rng) : udp(2000, 7, Buffer.alloc(int(rng, 6000), 7)),
        rng,
      );
    else if (r < 0.45)
      frames = [
        ipv4(int(rng, 256), Buffer.alloc(int(rng, 100)), {
          options: rng() < 0.5 ? Buffer.from([1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0]) : undefined,
        }),
      ];
    else frames = [this.tcpFrame(rng)];
    // Half of all frames are mutated afterwards.
    return frames.map((f) => (rng() < 0.5 ? mutate(f, rng) : f));
  }
  tcpFrame(rng: Rng): Buffer {
    const r = rng();
    if (r < 0.2 || this.conns.length === 0) {
      const c: PeerConn = { sport: 10000 + int(rng, 300), seq: int(rng, 2 ** 32), ack: 0 };
      this.conns = this.conns.filter((x) => x.sport !== c.sport);
      this.conns.push(c);
      if (this.conns.length > 64) this.conns.shift();
      const options = Buffer.from([2, 4, 5, 0xb4, 1, 3, 3, int(rng, 16), 4, 2, 8, 10]);
      const f = ipv4(
        6,
        tcp({ sport: c.sport, dport: 7, seq: c.seq, ack: 0, flags: 2, window: 65535, options }),
      );
      c.seq = (c.seq + 1) >>> 0;
      return f;
    }
    const c = this.conns[int(rng, this.conns.length)]!;
    const flagsPick = [0x10, 0x18, 0x11, 0x04, 0x14, 0x12, 0x02, 0x3f, 0x00, 0x01, int(rng, 64)];
    const flags = flagsPick[int(rng, flagsPick.length)]!;
    const data = rng() < 0.5 ? Buffer.alloc(int(rng, 1460), int(rng, 256)) : Buffer.alloc(0);
    // Mostly in-window, sometimes off by a little or a lot.
    const jitter = rng() < 0.8 ? 0 : int(rng, 200000) - 100000;
    const f = ipv4(
      6,
      tcp({
        sport: c.sport,
        dport: 7,
        seq: (c.seq + jitter) >>> 0,
        ack: (c.ack + (rng() < 0.8 ? 0 : int(rng, 3000) - 1000)) >>> 0,
        flags,
        window: rng() < 0.1 ? 0 : int(rng, 65536),
        data,
      }),
    );
    if (jitter === 0) c.seq = (c.seq + data.length + (flags & 1)) >>> 0;
    return f;
  }
}

export const netstackTarget = () =>
  layerTarget('netstack', new NetstackGen(), (_c, n) => ({
    'TCP, UDP and ARP reached': n('tcpRx') > 0 && n('udpRx') > 0 && n('arpRx') > 0,
  }));
