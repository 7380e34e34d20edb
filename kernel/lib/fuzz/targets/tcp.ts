// The `tcp` target: a peer that keeps live connections in every state and sends them odd
// segments. It opens connections to the echo port (SYN with assorted options), asks the harness
// to open some towards it (SYN_SENT), completes handshakes, sends data, and drives closes from
// both sides (the echo's first-byte commands: 'Q' active close, 'H' hold in CLOSE_WAIT, 'A' abort),
// simultaneous closes included. Its model of each connection follows the appliance's answers (its
// ACKs and sequence numbers), so most segments are in window; the rest have odd flag combinations,
// sequence/ack numbers at the window edges and far off, zero/tiny windows, bad option lengths,
// urgent pointers, data beyond the window.
import {
  fixL4Checksum,
  int,
  ipv4,
  l4Offset,
  mutate,
  pick,
  randomBytes,
  tcp,
  udp,
  type Rng,
} from '../frames.ts';
import { layerTarget, parseSent, statesReached, type Generator } from './harness.ts';

const SYN = 2;
const FIN = 1;
const RST = 4;
const PSH = 8;
const ACK = 16;
const URG = 32;

interface Conn {
  peerPort: number;
  appPort: number;
  seq: number; // our next sequence number
  ack: number; // the appliance's next sequence number as last seen (0: none yet)
  synAcked: boolean; // the appliance's SYN is acknowledged by us
  theirFin: boolean;
  active: boolean; // the appliance opened it
}

const OPTIONS: number[][] = [
  [2, 4, 5, 0xb4, 1, 3, 3, 2, 4, 2, 1, 1], // MSS 1460, wscale 2, SACK permitted
  [2, 4, 0, 0], // MSS 0
  [2, 4, 0, 1], // MSS 1
  [3, 3, 14, 0],
  [3, 3, 15, 0],
  [3, 3, 255, 0], // wscale past 14
  [8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1], // timestamps
  [2, 0, 0, 0], // length 0
  [2, 1, 0, 0], // length 1
  [2, 40, 5, 0xb4], // length past the header
  [0, 2, 4, 5], // EOL first
  [1, 1, 1, 1, 1, 1, 1, 1],
  [254, 4, 0, 0],
];
const ODD_FLAGS = [
  0,
  FIN,
  SYN | FIN,
  SYN | RST,
  RST | FIN,
  SYN | ACK,
  SYN | ACK | FIN,
  RST | ACK,
  URG,
  URG | ACK | PSH,
  0x3f,
  SYN | FIN | PSH | URG,
  FIN | PSH | URG,
  SYN,
  RST,
];
const ACTIVE_PORT_BASE = 40000;

const seqAdd = (a: number, b: number): number => (a + b) >>> 0;
const seqGt = (a: number, b: number): boolean => ((a - b) | 0) > 0;

class TcpGen implements Generator {
  conns: Conn[] = [];
  seen = { synAcks: 0, resets: 0, fins: 0, dataSegments: 0 };

  private find(peerPort: number, appPort: number): Conn | undefined {
    return this.conns.find((c) => c.peerPort === peerPort && c.appPort === appPort);
  }
  private add(c: Conn): void {
    this.conns = this.conns.filter((x) => !(x.peerPort === c.peerPort && x.appPort === c.appPort));
    this.conns.push(c);
    if (this.conns.length > 48) this.conns.shift();
  }

  learn(rng: Rng, sent: Buffer[]): void {
    for (const f of sent) {
      const p = parseSent(f);
      if (!p || p.proto !== 6 || p.l4.length < 20) continue;
      const t = p.l4;
      const appPort = t.readUInt16BE(0);
      const peerPort = t.readUInt16BE(2);
      const seq = t.readUInt32BE(4);
      const ackNo = t.readUInt32BE(8);
      const flags = t[13]! & 0x3f;
      const dataLen = t.length - (t[12]! >> 4) * 4;
      let c = this.find(peerPort, appPort);
      if (flags & RST) {
        this.seen.resets++;
        if (c) this.conns.splice(this.conns.indexOf(c), 1);
        continue;
      }
      if (!c && flags === SYN) {
        // The harness opened a connection to us (via UDP port 9).
        c = {
          peerPort,
          appPort,
          seq: int(rng, 2 ** 32),
          ack: 0,
          synAcked: false,
          theirFin: false,
          active: true,
        };
        this.add(c);
      }
      if (!c) continue;
      if (flags & SYN && flags & ACK) this.seen.synAcks++;
      if (flags & FIN) {
        this.seen.fins++;
        c.theirFin = true;
      }
      if (dataLen > 0) this.seen.dataSegments++;
      const end = seqAdd(seq, dataLen + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0));
      if (c.ack === 0 || seqGt(end, c.ack)) c.ack = end;
      // Their ACK says where our sequence space stands: resynchronise after odd segments.
      if (flags & ACK && seqGt(ackNo, c.seq)) c.seq = ackNo;
    }
  }

  private seg(
    c: Conn,
    flags: number,
    data: Buffer,
    o: Partial<{ seq: number; ack: number; window: number; options: Buffer }> = {},
  ): Buffer {
    return ipv4(
      6,
      tcp({
        sport: c.peerPort,
        dport: c.appPort,
        seq: o.seq ?? c.seq,
        ack: o.ack ?? c.ack,
        flags,
        window: o.window ?? 65535,
        options: o.options,
        data,
      }),
    );
  }

  /** A well-formed next step for connection c. */
  private proper(rng: Rng, c: Conn): Buffer {
    if (c.active && !c.synAcked && c.ack !== 0) {
      // Answer the appliance's SYN.
      const f = this.seg(c, SYN | ACK, Buffer.alloc(0), { options: Buffer.from(pick(rng, OPTIONS)) });
      c.seq = seqAdd(c.seq, 1);
      c.synAcked = true;
      return f;
    }
    if (!c.synAcked && c.ack !== 0) {
      c.synAcked = true;
      return this.seg(c, ACK, Buffer.alloc(0)); // completes our handshake
    }
    const r = rng();
    if (r < 0.5) {
      const cmd = pick(rng, ['d', 'd', 'd', 'Q', 'H', 'A']);
      const data = Buffer.concat([Buffer.from(cmd), randomBytes(rng, int(rng, rng() < 0.9 ? 600 : 1459))]);
      const f = this.seg(c, ACK | PSH, data);
      c.seq = seqAdd(c.seq, data.length);
      return f;
    }
    if (r < 0.7) {
      // FIN; with their FIN not yet acknowledged now and then: a simultaneous close (CLOSING).
      const ack = c.theirFin && rng() < 0.5 ? seqAdd(c.ack, -1) : c.ack;
      const f = this.seg(c, FIN | ACK, Buffer.alloc(0), { ack });
      c.seq = seqAdd(c.seq, 1);
      return f;
    }
    return this.seg(c, ACK, Buffer.alloc(0), { window: rng() < 0.1 ? pick(rng, [0, 1]) : 65535 });
  }

  /** An odd segment for connection c: flags, numbers, window, options, urgent pointer. */
  private odd(rng: Rng, c: Conn): Buffer {
    const flags = rng() < 0.7 ? pick(rng, ODD_FLAGS) : int(rng, 64);
    const seq = seqAdd(
      c.seq,
      pick(rng, [0, 0, -1, 1, 65535, 65536, 262144, -65536, 2 ** 31, int(rng, 2 ** 32)]),
    );
    const ack = seqAdd(c.ack, pick(rng, [0, 0, -1, 1, -2, 1000, 2 ** 31, int(rng, 2 ** 32)]));
    const data = rng() < 0.4 ? randomBytes(rng, int(rng, rng() < 0.9 ? 1460 : 9000)) : Buffer.alloc(0);
    const window = pick(rng, [0, 1, 2, 65535, int(rng, 65536)]);
    const options = rng() < 0.3 ? Buffer.from(pick(rng, OPTIONS)) : undefined;
    const f = this.seg(c, flags, data, { seq, ack, window, options });
    if (flags & URG) {
      f.writeUInt16BE(pick(rng, [0, 1, data.length, 65535]), l4Offset(f) + 18);
      fixL4Checksum(f);
    }
    return f;
  }

  next(rng: Rng, sent: Buffer[]): Buffer[] {
    this.learn(rng, sent);
    const r = rng();
    if (r < 0.1 || this.conns.length < 4) {
      const c: Conn = {
        peerPort: 10000 + int(rng, 20000),
        appPort: 7,
        seq: int(rng, 2 ** 32),
        ack: 0,
        synAcked: false,
        theirFin: false,
        active: false,
      };
      this.add(c);
      const f = this.seg(c, SYN, Buffer.alloc(0), {
        ack: 0,
        options: rng() < 0.8 ? Buffer.from(pick(rng, OPTIONS)) : undefined,
      });
      c.seq = seqAdd(c.seq, 1);
      return [f];
    }
    if (r < 0.13) {
      // Ask the harness to connect to us.
      const port = ACTIVE_PORT_BASE + int(rng, 1000);
      return [ipv4(17, udp(port, 9, Buffer.from([port >> 8, port & 0xff])))];
    }
    const c = pick(rng, this.conns);
    if (r < 0.75) return [this.proper(rng, c)];
    if (r < 0.95) return [this.odd(rng, c)];
    const f = mutate(this.proper(rng, c), rng);
    return [rng() < 0.5 ? fixL4Checksum(f) : f];
  }
}

// tcp-conn.ts state numbers
const STATES: Record<string, number> = {
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  FIN_WAIT_1: 5,
  FIN_WAIT_2: 6,
  CLOSE_WAIT: 7,
  CLOSING: 8,
  LAST_ACK: 9,
  TIME_WAIT: 10,
};

export function statesNamed(mask: number): string[] {
  return Object.entries(STATES)
    .filter(([, s]) => mask & (1 << s))
    .map(([n]) => n);
}

export const tcpTarget = () =>
  layerTarget(
    'tcp',
    new TcpGen(),
    (c, n) => ({
      'most segments pass the TCP checks': n('tcpRx') > n('rxFrames') / 2,
      'connections accepted and reset': n('tcpAccepted') > 0 && n('tcpResets') > 0,
      'data echoed, FINs sent': (c.observed.dataSegments ?? 0) > 0 && (c.observed.fins ?? 0) > 0,
      ...statesReached(c, STATES),
    }),
    { answerArp: true },
  );
