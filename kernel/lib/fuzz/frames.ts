// Frame generators for the netstack fuzzer: well-formed frames of every layer (with correct
// checksums, so they reach deep into the stack), then mutations of them.
export const APP_MAC = Buffer.from([0x02, 0, 0, 0, 0, 0x02]);
export const PEER_MAC = Buffer.from([0x02, 0, 0, 0, 0, 0x01]);
export const APP_IP = 0x0a000002;
export const PEER_IP = 0x0a000001;

export type Rng = () => number; // [0, 1)

export function int(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

export function csum(buf: Buffer, start = 0, end = buf.length, initial = 0): number {
  let s = initial;
  for (let i = start; i + 1 < end; i += 2) s += buf.readUInt16BE(i);
  if ((end - start) & 1) s += buf[end - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export const BROADCAST_MAC = Buffer.alloc(6, 0xff);

export function eth(type: number, payload: Buffer, dst: boolean | Buffer = false): Buffer {
  const h = Buffer.alloc(14);
  (dst === true ? BROADCAST_MAC : dst === false ? APP_MAC : dst).copy(h, 0);
  PEER_MAC.copy(h, 6);
  h.writeUInt16BE(type, 12);
  return Buffer.concat([h, payload]);
}

export function ipv4(
  proto: number,
  l4: Buffer,
  opts: {
    src?: number;
    dst?: number;
    id?: number;
    frag?: number;
    options?: Buffer;
    ttl?: number;
    ethDst?: Buffer;
  } = {},
): Buffer {
  const optLen = opts.options?.length ?? 0;
  const h = Buffer.alloc(20 + optLen);
  h[0] = 0x40 | ((20 + optLen) >> 2);
  h.writeUInt16BE(h.length + l4.length, 2);
  h.writeUInt16BE(opts.id ?? 1, 4);
  h.writeUInt16BE(opts.frag ?? 0, 6);
  h[8] = opts.ttl ?? 64;
  h[9] = proto;
  h.writeUInt32BE(opts.src ?? PEER_IP, 12);
  h.writeUInt32BE(opts.dst ?? APP_IP, 16);
  opts.options?.copy(h, 20);
  h.writeUInt16BE(csum(h), 10);
  return eth(0x0800, Buffer.concat([h, l4]), opts.ethDst ?? false);
}

function pseudo(proto: number, len: number, src = PEER_IP, dst = APP_IP): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

export function udp(sport: number, dport: number, data: Buffer, src = PEER_IP, dst = APP_IP): Buffer {
  const u = Buffer.alloc(8 + data.length);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(u.length, 4);
  data.copy(u, 8);
  u.writeUInt16BE(csum(u, 0, u.length, pseudo(17, u.length, src, dst)) || 0xffff, 6);
  return u;
}

export interface TcpSeg {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  options?: Buffer;
  data?: Buffer;
}

export function tcp(s: TcpSeg): Buffer {
  const opt = s.options ?? Buffer.alloc(0);
  const hl = 20 + ((opt.length + 3) & ~3);
  const data = s.data ?? Buffer.alloc(0);
  const t = Buffer.alloc(hl + data.length);
  t.writeUInt16BE(s.sport, 0);
  t.writeUInt16BE(s.dport, 2);
  t.writeUInt32BE(s.seq >>> 0, 4);
  t.writeUInt32BE(s.ack >>> 0, 8);
  t.writeUInt16BE(((hl / 4) << 12) | (s.flags & 0x3f), 12);
  t.writeUInt16BE(s.window & 0xffff, 14);
  opt.copy(t, 20);
  data.copy(t, hl);
  t.writeUInt16BE(csum(t, 0, t.length, pseudo(6, t.length)), 16);
  return t;
}

export function arp(
  op: number,
  senderIp: number,
  targetIp: number,
  broadcast: boolean,
  senderMac: Buffer = PEER_MAC,
): Buffer {
  const a = Buffer.alloc(28);
  a.writeUInt16BE(1, 0);
  a.writeUInt16BE(0x0800, 2);
  a[4] = 6;
  a[5] = 4;
  a.writeUInt16BE(op, 6);
  senderMac.copy(a, 8);
  a.writeUInt32BE(senderIp >>> 0, 14);
  a.writeUInt32BE(targetIp >>> 0, 24);
  return eth(0x0806, a, broadcast);
}

export function icmpEcho(size: number, rng: Rng): Buffer {
  const m = Buffer.alloc(8 + size);
  m[0] = 8;
  m.writeUInt16BE(int(rng, 65536), 4);
  for (let i = 8; i < m.length; i++) m[i] = int(rng, 256);
  m.writeUInt16BE(csum(m), 2);
  return m;
}

/** Splits an IPv4 payload into fragments (possibly overlapping, out of order, duplicated). */
export function fragments(proto: number, l4: Buffer, rng: Rng): Buffer[] {
  const id = int(rng, 65536);
  const out: Buffer[] = [];
  let off = 0;
  while (off < l4.length) {
    const size = Math.max(8, (int(rng, 200) + 1) * 8);
    const start = rng() < 0.2 && off >= 8 ? off - 8 * (1 + int(rng, Math.min(4, off / 8))) : off; // overlap
    const end = Math.min(l4.length, start + size);
    const more = end < l4.length ? 0x2000 : 0;
    out.push(ipv4(proto, l4.subarray(start, end), { id, frag: more | (start >> 3) }));
    off = end;
  }
  if (rng() < 0.5) out.reverse();
  if (rng() < 0.3) out.push(out[int(rng, out.length)]!);
  return out;
}

/** Mutates a frame: bit flips, truncation, extension, byte overwrites in header areas. */
export function mutate(f: Buffer, rng: Rng): Buffer {
  const b = Buffer.from(f);
  const kind = int(rng, 6);
  if (kind === 0) {
    for (let i = 0, n = 1 + int(rng, 4); i < n; i++) b[int(rng, b.length)]! ^= 1 << int(rng, 8);
    return b;
  }
  if (kind === 1) return b.subarray(0, int(rng, b.length));
  if (kind === 2)
    return Buffer.concat([b, Buffer.from(Array.from({ length: int(rng, 64) }, () => int(rng, 256)))]);
  if (kind === 3 && b.length > 40) {
    // Bogus IPv4 total length / IHL / fragment fields.
    const field = [16, 17, 14, 20, 21][int(rng, 5)]!;
    b[field] = int(rng, 256);
    return b;
  }
  if (kind === 4 && b.length > 54) {
    // TCP data offset and flags.
    b[46] = int(rng, 256);
    b[47] = int(rng, 256);
    return b;
  }
  for (let i = 0, n = 1 + int(rng, 8); i < n; i++) b[int(rng, Math.min(b.length, 80))] = int(rng, 256);
  return b;
}

/** Offset of the L4 header in an Ethernet + IPv4 frame (bounded by the frame). */
export function l4Offset(f: Buffer): number {
  return Math.min(f.length, 14 + ((f[14] ?? 0x45) & 15) * 4);
}

/** Recomputes the IPv4 header checksum after a header field was changed on purpose. */
export function fixIpChecksum(f: Buffer): Buffer {
  const end = l4Offset(f);
  if (end < 26) return f;
  f.writeUInt16BE(0, 24);
  f.writeUInt16BE(csum(f, 14, end), 24);
  return f;
}

/** Recomputes the TCP/UDP/ICMP checksum (over the whole rest of the frame) after a change. */
export function fixL4Checksum(f: Buffer): Buffer {
  const o = l4Offset(f);
  const proto = f[23] ?? 0;
  const at = proto === 6 ? 16 : proto === 17 ? 6 : proto === 1 ? 2 : -1;
  if (f.length < 34 || at < 0 || f.length < o + at + 2) return f;
  const len = f.length - o;
  f.writeUInt16BE(0, o + at);
  const initial = proto === 1 ? 0 : pseudo(proto, len, f.readUInt32BE(26), f.readUInt32BE(30));
  f.writeUInt16BE(csum(f, o, f.length, initial), o + at);
  return f;
}

export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[int(rng, xs.length)] as T;
}

export function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(rng, 256);
  return b;
}
