// The `arp` target: requests and replies for us and for others, gratuitous and probe ARPs, our
// own address claimed by another MAC, thousands of senders (cache eviction at 512), bogus
// hardware/protocol types and lengths, unknown opcodes; and IPv4 traffic from unresolved
// neighbours so the appliance has to ARP (queued packets flushed by a reply, or given up on).
import {
  APP_IP,
  PEER_IP,
  arp,
  icmpEcho,
  int,
  ipv4,
  mutate,
  pick,
  randomBytes,
  udp,
  type Rng,
} from '../frames.ts';
import { layerTarget, type Generator } from './harness.ts';

const NET = 0x0a000000;

function mac(rng: Rng): Buffer {
  const m = randomBytes(rng, 6);
  m[0] = (m[0]! & 0xfe) | 2; // locally administered unicast
  return m;
}

class ArpGen implements Generator {
  seen = { arpRequestsSent: 0, arpRepliesSent: 0 };
  /** Neighbours the appliance asked for, answered later (sometimes). */
  asked: number[] = [];
  learn(sent: Buffer[]): void {
    for (const f of sent) {
      if (f.length < 42 || f.readUInt16BE(12) !== 0x0806) continue;
      const op = f.readUInt16BE(20);
      if (op === 1) {
        this.seen.arpRequestsSent++;
        const ip = f.readUInt32BE(38);
        if (!this.asked.includes(ip)) this.asked.push(ip);
        if (this.asked.length > 64) this.asked.shift();
      } else if (op === 2) this.seen.arpRepliesSent++;
    }
  }
  next(rng: Rng, sent: Buffer[]): Buffer[] {
    this.learn(sent);
    const r = rng();
    const neighbour = NET | (3 + int(rng, rng() < 0.7 ? 60 : 65000));
    let f: Buffer;
    if (r < 0.3)
      f = arp(1, rng() < 0.3 ? PEER_IP : neighbour, APP_IP, rng() < 0.7, mac(rng)); // who-has us
    else if (r < 0.4)
      f = arp(1, neighbour, neighbour, true, mac(rng)); // gratuitous
    else if (r < 0.45)
      f = arp(1, 0, APP_IP, true, mac(rng)); // probe (RFC 5227)
    else if (r < 0.5)
      f = arp(pick(rng, [1, 2]), APP_IP, pick(rng, [APP_IP, PEER_IP]), true, mac(rng)); // our address
    else if (r < 0.6 && this.asked.length)
      f = arp(2, pick(rng, this.asked), APP_IP, false, mac(rng)); // answer
    else if (r < 0.65)
      f = arp(2, neighbour, APP_IP, false, mac(rng)); // unsolicited reply
    else if (r < 0.7) f = arp(pick(rng, [0, 3, 4, 8, 0xffff, int(rng, 65536)]), neighbour, APP_IP, true);
    else if (r < 0.75)
      f = arp(1, int(rng, 2 ** 32), int(rng, 2 ** 32), true, mac(rng)); // anyone
    else if (r < 0.85) {
      // Traffic from a neighbour we have no entry for: the answer waits for ARP.
      const src = NET | (3 + int(rng, 40));
      f =
        rng() < 0.5
          ? ipv4(1, icmpEcho(int(rng, 200), rng), { src })
          : ipv4(17, udp(1000, 7, randomBytes(rng, int(rng, 100)), src, APP_IP), { src });
    } else {
      f = arp(1, neighbour, APP_IP, true, mac(rng));
      // Hardware type, protocol type, lengths: the fields the parser checks.
      const at = 14 + pick(rng, [0, 1, 2, 3, 4, 5]);
      f[at] = int(rng, 256);
      if (rng() < 0.3) f = f.subarray(0, 14 + int(rng, 28));
    }
    return [rng() < 0.1 ? mutate(f, rng) : f];
  }
}

export const arpTarget = () =>
  layerTarget('arp', new ArpGen(), (c, n) => ({
    'most ARP frames pass the header checks': n('arpRx') > n('rxFrames') / 3,
    'the cache filled with neighbours': (c.peaks.arpEntries ?? 0) >= 64,
    'requests for us answered': (c.observed.arpRepliesSent ?? 0) > 0,
    'unresolved neighbours asked for': (c.observed.arpRequestsSent ?? 0) > 0,
  }));
