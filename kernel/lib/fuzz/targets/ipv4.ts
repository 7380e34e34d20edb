// The `ipv4` target: header fields (IHL 5..15 with options: NOP, EOL, record route, timestamps,
// source routes, garbage and bad option lengths; total length short of and beyond the frame;
// TTL 0/1; DF and the reserved bit; unknown protocols), addresses (subnet and limited broadcast,
// 0.0.0.0, martian sources, other hosts), and fragments: in order, reversed, shuffled,
// overlapping, duplicated, missing a piece, with two different ends, past 64 KiB, non-final ones
// not a multiple of 8, and more concurrent datagrams than the reassembly limit. The header
// checksum is recomputed after each change so the checks behind it are reached.
import {
  APP_IP,
  PEER_IP,
  fixIpChecksum,
  icmpEcho,
  int,
  ipv4,
  mutate,
  pick,
  randomBytes,
  udp,
  type Rng,
} from '../frames.ts';
import { layerTarget, parseSent, type Generator } from './harness.ts';

const OPTIONS = [
  [1, 1, 1, 0],
  [0, 0, 0, 0],
  [7, 7, 4, 0, 0, 0, 0, 0], // record route, room for one
  [68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0], // timestamp
  [131, 7, 4, 10, 0, 0, 1, 0], // loose source route
  [137, 7, 4, 10, 0, 0, 1, 0], // strict source route
  [148, 4, 0, 0], // router alert
  [7, 0, 0, 0], // length 0
  [7, 1, 0, 0], // length 1
  [7, 40, 4, 0], // length past the header
];

const DSTS = [APP_IP, APP_IP, APP_IP, 0x0a0000ff, 0xffffffff, 0, 0x0a000003, 0xe0000001];
const SRCS = [PEER_IP, PEER_IP, PEER_IP, 0x7f000001, 0xffffffff, 0xe0000001, 0, APP_IP, 0x0a0000ff];

/** A datagram the stack answers when it arrives whole: an echo request or a UDP echo. */
function l4(rng: Rng, size: number): { proto: number; body: Buffer } {
  if (rng() < 0.5) return { proto: 1, body: icmpEcho(size, rng) };
  return { proto: 17, body: udp(3000 + int(rng, 4), 7, randomBytes(rng, size)) };
}

function headerCase(rng: Rng): Buffer {
  const { proto, body } = l4(rng, int(rng, 600));
  const k = rng();
  if (k < 0.3) {
    const opts = Buffer.concat(
      Array.from({ length: 1 + int(rng, 3) }, () => Buffer.from(pick(rng, OPTIONS))),
    );
    return ipv4(proto, body, { options: opts.subarray(0, Math.min(40, opts.length & ~3)) });
  }
  if (k < 0.45) return ipv4(proto, body, { dst: pick(rng, DSTS), src: pick(rng, SRCS) });
  if (k < 0.5) return ipv4(pick(rng, [0, 2, 4, 41, 47, 50, 132, 255]), body);
  const f = ipv4(proto, body, { ttl: pick(rng, [0, 1, 255]) });
  const field = rng();
  if (field < 0.3)
    f.writeUInt16BE(pick(rng, [0, 19, 20, 28, f.length - 14 - 1, f.length - 14 + 1, 65535]), 16);
  else if (field < 0.5)
    f[14] = pick(rng, [0x40, 0x44, 0x46, 0x4f, 0x45 | 0x10, 0x65, 0x05]); // IHL/version
  else if (field < 0.7)
    f[20] = pick(rng, [0x40, 0x80, 0xc0]) | (f[20]! & 0x1f); // DF, reserved
  else if (field < 0.85)
    f[15] = int(rng, 256); // TOS
  else f.writeUInt16BE(int(rng, 65536), 18); // id
  if (rng() < 0.5) return Buffer.concat([fixIpChecksum(f), Buffer.alloc(int(rng, 32))]); // Ethernet padding
  return fixIpChecksum(f);
}

function fragmentCase(rng: Rng): Buffer[] {
  const { proto, body } = l4(rng, 8 + int(rng, rng() < 0.9 ? 4000 : 64000));
  const id = rng() < 0.3 ? int(rng, 16) : int(rng, 65536); // few ids: datagrams collide
  type Piece = { off: number; end: number; more: boolean };
  const pieces: Piece[] = [];
  for (let off = 0; off < body.length;) {
    const end = Math.min(body.length, off + 8 * (1 + int(rng, 180)));
    pieces.push({ off, end, more: end < body.length });
    off = end;
  }
  const k = rng();
  if (k < 0.15 && pieces.length > 1)
    pieces.splice(int(rng, pieces.length), 1); // a piece missing
  else if (k < 0.3) {
    // Overlaps: a piece re-sent shifted back, possibly with other content.
    const p = pick(rng, pieces);
    const back = 8 * int(rng, 4);
    pieces.push({ off: Math.max(0, p.off - back), end: p.end, more: p.more });
  } else if (k < 0.35) {
    const off = 8 * int(rng, 100);
    pieces.push({ off, end: off + 8, more: false }); // a second, different end
  } else if (k < 0.4)
    pieces.push({ off: 65528, end: 65536 + 8 * int(rng, 4), more: rng() < 0.5 }); // past 64 KiB
  else if (k < 0.5) {
    // A non-final fragment whose size is not a multiple of 8, or an empty one.
    const off = 8 * int(rng, 50);
    pieces.push({ off, end: k < 0.45 ? off + 8 * int(rng, 50) + 1 + int(rng, 7) : off, more: true });
  }
  const order = rng();
  if (order < 0.5) pieces.reverse();
  else if (order < 0.75) pieces.sort(() => rng() - 0.5);
  if (rng() < 0.2) pieces.push(pick(rng, pieces));
  return pieces.map((p) => {
    const data = Buffer.alloc(Math.max(0, p.end - p.off));
    body.copy(data, 0, Math.min(p.off, body.length), Math.min(p.end, body.length));
    if (rng() < 0.05) data.fill(int(rng, 256)); // overlapping data that disagrees
    return ipv4(proto, data, { id, frag: (p.more ? 0x2000 : 0) | ((p.off >> 3) & 0x1fff) });
  });
}

class Ipv4Gen implements Generator {
  seen = { answers: 0, fragmentedAnswers: 0 };
  next(rng: Rng, sent: Buffer[]): Buffer[] {
    for (const f of sent) {
      const p = parseSent(f);
      if (!p || p.dst !== PEER_IP) continue;
      this.seen.answers++;
      if (p.frag & 0x3fff) this.seen.fragmentedAnswers++;
    }
    const frames = rng() < 0.5 ? [headerCase(rng)] : fragmentCase(rng);
    return frames.map((f) => (rng() < 0.1 ? mutate(f, rng) : f));
  }
}

export const ipv4Target = () =>
  layerTarget(
    'ipv4',
    new Ipv4Gen(),
    (c, n) => ({
      'most datagrams pass the header checks': n('ipRx') > n('rxFrames') / 3,
      'bad headers dropped': n('rxDropped') > 0,
      'fragmented datagrams reassembled': n('ipReassembled') > 0,
      'the reassembly limit reached': (c.peaks.reassemblies ?? 0) >= 8,
      'answers, fragmented ones too':
        (c.observed.answers ?? 0) > 0 && (c.observed.fragmentedAnswers ?? 0) > 0,
    }),
    { answerArp: true },
  );
