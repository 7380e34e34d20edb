// The `dhcp` target: a server that answers the client (apps/fuzz-dhcp-harness.ts) in each of its
// states with offers, acks and naks (mostly the right one for the state, with the client's xid
// learnt from its DISCOVER/REQUEST), and mutates them: lease 0, tiny or huge, T1/T2 out of order,
// no server identifier, yiaddr 0, option lengths past the end, pad runs, no end option, overloaded
// fields, wrong op/xid/magic/chaddr, messages cut below the 240-byte BOOTP header, answers meant
// for another state. Leases are short, so the runner's clock moves the client through
// renewing, rebinding and expiry.
import {
  APP_MAC,
  BROADCAST_MAC,
  PEER_IP,
  int,
  ipv4,
  mutate,
  pick,
  randomBytes,
  udp,
  fixL4Checksum,
  type Rng,
} from '../frames.ts';
import { DHCP_HARNESS, layerTarget, parseSent, statesReached, type Generator } from './harness.ts';

const OFFER = 2;
const ACK = 5;
const NAK = 6;
const SERVER = PEER_IP;

function opt(code: number, ...bytes: number[]): Buffer {
  return Buffer.from([code, bytes.length, ...bytes]);
}
function u32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

class DhcpGen implements Generator {
  xid = 0;
  lastType = 0; // what the client sent last (1 DISCOVER, 3 REQUEST)
  seen = { clientMessages: 0 };

  learn(sent: Buffer[]): void {
    for (const f of sent) {
      const p = parseSent(f);
      if (!p || p.proto !== 17 || p.l4.length < 8 + 240 || p.l4.readUInt16BE(2) !== 67) continue;
      const m = p.l4.subarray(8);
      this.xid = m.readUInt32BE(4);
      this.seen.clientMessages++;
      for (let i = 240; i + 2 < m.length && m[i] !== 255; i += m[i] === 0 ? 1 : 2 + m[i + 1]!)
        if (m[i] === 53) this.lastType = m[i + 2]!;
    }
  }

  private message(rng: Rng, type: number): Buffer {
    const h = Buffer.alloc(240);
    h[0] = 2;
    h[1] = 1;
    h[2] = 6;
    h.writeUInt32BE(this.xid, 4);
    const yiaddr = rng() < 0.9 ? 0x0a000032 + int(rng, 4) : pick(rng, [0, 0xffffffff, int(rng, 2 ** 32)]);
    h.writeUInt32BE(yiaddr >>> 0, 16);
    h.writeUInt32BE(SERVER, 20);
    APP_MAC.copy(h, 28);
    h.writeUInt32BE(0x63825363, 236);
    const lease = pick(rng, [2, 10, 30, 60, 600, 0, 1, 0xffffffff, int(rng, 2 ** 32)]);
    const opts: Buffer[] = [opt(53, type)];
    if (rng() < 0.9) opts.push(opt(54, ...u32(SERVER)));
    if (rng() < 0.9) opts.push(opt(51, ...u32(lease)));
    if (rng() < 0.3) opts.push(opt(58, ...u32(pick(rng, [0, 1, lease, lease + 1, int(rng, 2 ** 32)]))));
    if (rng() < 0.3) opts.push(opt(59, ...u32(pick(rng, [0, 1, lease, lease - 1, int(rng, 2 ** 32)]))));
    if (rng() < 0.8) opts.push(opt(1, ...u32(pick(rng, [0xffffff00, 0, 0xffffffff, 0xff00ff00]))));
    if (rng() < 0.8) opts.push(opt(3, ...u32(pick(rng, [SERVER, 0, 0xffffffff]))));
    if (rng() < 0.2) opts.push(opt(52, pick(rng, [1, 2, 3]))); // overload: file/sname hold options
    if (rng() < 0.2) opts.push(Buffer.alloc(int(rng, 40))); // pad run
    if (rng() < 0.2) opts.push(opt(6, ...u32(SERVER), 8, 8)); // odd length
    if (rng() < 0.1) opts.push(Buffer.from([int(rng, 256), 255, 1, 2])); // length past the end
    if (rng() < 0.1) opts.push(opt(53, pick(rng, [OFFER, ACK, NAK, 0, 9]))); // a second type
    if (rng() < 0.1) opts.sort(() => rng() - 0.5);
    if (rng() < 0.9) opts.push(Buffer.from([255]));
    return Buffer.concat([h, ...opts]);
  }

  next(rng: Rng, sent: Buffer[]): Buffer[] {
    this.learn(sent);
    if (this.seen.clientMessages === 0 || rng() < 0.3) return []; // let time pass
    // Mostly the answer the client waits for; sometimes any type, in any state.
    const right = this.lastType === 1 ? OFFER : rng() < 0.85 ? ACK : NAK;
    const type = rng() < 0.8 ? right : pick(rng, [OFFER, ACK, NAK, 1, 3, 4, 7, 8, 0]);
    let m = this.message(rng, type);
    const k = rng();
    if (k < 0.05) m[0] = pick(rng, [0, 1, 3]);
    else if (k < 0.1) m.writeUInt32BE((this.xid ^ (1 + int(rng, 255))) >>> 0, 4);
    else if (k < 0.13) m.writeUInt32BE(int(rng, 2 ** 32), 236);
    else if (k < 0.16) m[28 + int(rng, 6)]! ^= 1;
    else if (k < 0.2) m = m.subarray(0, int(rng, 300));
    else if (k < 0.25) m = Buffer.concat([m, randomBytes(rng, int(rng, 300))]);
    const unicast = rng() < 0.3;
    const dst = unicast ? (m.length >= 20 ? m.readUInt32BE(16) : 0xffffffff) : 0xffffffff;
    let f = ipv4(17, udp(67, 68, m, SERVER, dst), { dst, ethDst: unicast ? APP_MAC : BROADCAST_MAC });
    if (rng() < 0.05) f = fixL4Checksum(mutate(f, rng));
    return [f];
  }
}

const STATES: Record<string, number> = { SELECTING: 1, REQUESTING: 2, BOUND: 3, RENEWING: 4, REBINDING: 5 };

export const dhcpTarget = () =>
  layerTarget(
    'dhcp',
    new DhcpGen(),
    (c, n) => ({
      'most answers pass the client checks (xid, magic, MAC)': n('dhcpRx') > n('rxFrames') / 3,
      ...statesReached(c, STATES),
    }),
    { entry: DHCP_HARNESS, fire: (rng) => rng() < 0.02, answerArp: true },
  );
