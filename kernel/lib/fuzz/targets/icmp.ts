// The `icmp` target: echo requests of every size (odd lengths, empty, fragmented past the MTU),
// other types and codes (replies, unreachables, redirects, time exceeded, timestamps, unknown),
// broadcast pings, bad and corrected checksums, messages shorter than their header. Every echo
// reply is checked against its request (same identifier, sequence and data).
import { csum, fixL4Checksum, fragments, icmpEcho, int, ipv4, mutate, pick, type Rng } from '../frames.ts';
import { layerTarget, parseSent, type Generator } from './harness.ts';

class IcmpGen implements Generator {
  pending = new Map<string, number>(); // request body (after the type/code/checksum) → count
  seen = { echoReplies: 0, unmatchedReplies: 0 };
  next(rng: Rng, sent: Buffer[]): Buffer[] {
    for (const f of sent) {
      const p = parseSent(f);
      if (!p || p.proto !== 1 || p.frag & 0x3fff || p.l4[0] !== 0) continue;
      this.seen.echoReplies++;
      const key = p.l4.subarray(4).toString('hex');
      if (!this.pending.delete(key)) this.seen.unmatchedReplies++;
    }
    if (this.pending.size > 256) this.pending.clear();
    const r = rng();
    const size = rng() < 0.8 ? int(rng, 1473) : int(rng, 9000);
    if (r < 0.5) {
      const m = icmpEcho(size, rng);
      if (size <= 1472) this.pending.set(m.subarray(4).toString('hex'), 1);
      return size > 1472 ? fragments(1, m, rng) : [ipv4(1, m)];
    }
    const m = icmpEcho(int(rng, 64), rng);
    if (r < 0.7) {
      m[0] = pick(rng, [0, 3, 4, 5, 11, 12, 13, 14, 17, 18, 30, 255, int(rng, 256)]);
      m[1] = rng() < 0.5 ? 0 : int(rng, 256);
      m.writeUInt16BE(0, 2);
      m.writeUInt16BE(csum(m), 2);
      return [ipv4(1, m)];
    }
    if (r < 0.8) return [ipv4(1, m, { dst: pick(rng, [0xffffffff, 0x0a0000ff]) })];
    if (r < 0.9) return [ipv4(1, m.subarray(0, int(rng, 8)))]; // shorter than the header
    const f = mutate(ipv4(1, m), rng);
    return [rng() < 0.5 ? fixL4Checksum(f) : f];
  }
}

export const icmpTarget = () =>
  layerTarget(
    'icmp',
    new IcmpGen(),
    (c, n) => ({
      'most messages pass the ICMP checks': n('icmpRx') > n('rxFrames') / 3,
      'echo requests answered': (c.observed.echoReplies ?? 0) > n('rxFrames') / 10,
      'bad messages dropped': n('rxDropped') > 0,
    }),
    { answerArp: true },
  );
