// Inputs the fuzzer found, replayed against the harness appliance: each once broke the stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileCached } from '../host/testing/compiled.ts';
import { NET_STAT_NAMES } from '../host/appliance.ts';
import { APP_IP, APP_MAC, PEER_IP, arp, ipv4, tcp, udp } from './frames.ts';
import { instantiate, type FuzzInstance } from './runner.ts';
import { DHCP_HARNESS, STACK_HARNESS, parseSent } from './targets/harness.ts';

const ACK = 16;

async function harness(entry = STACK_HARNESS): Promise<{
  fi: FuzzInstance;
  /** what the appliance sent while starting */
  initial: Buffer[];
  feed(f: Buffer): Buffer[];
  stat(name: string): number;
}> {
  const fi = await instantiate(await compileCached(entry));
  const buf = (fi.exports.fuzz_buffer as () => number)();
  const feed = (f: Buffer): Buffer[] => {
    new Uint8Array(fi.memory.buffer, buf, f.length).set(f);
    (fi.exports.fuzz_frame as (n: number) => void)(f.length);
    return fi.takeSent();
  };
  const stat = (name: string): number => {
    const p = (fi.exports.kiln_stats as () => number)();
    return new DataView(fi.memory.buffer).getInt32(p + 4 + 4 * NET_STAT_NAMES.indexOf(name as never), true);
  };
  const initial = fi.takeSent();
  feed(arp(1, PEER_IP, APP_IP, true)); // the appliance learns our MAC
  return { fi, initial, feed, stat };
}

/** The TCP segments among `sent`, parsed. */
function segments(sent: Buffer[]): { seq: number; ack: number; flags: number; data: Buffer }[] {
  return sent.flatMap((f) => {
    const p = parseSent(f);
    if (!p || p.proto !== 6) return [];
    const t = p.l4;
    return [
      {
        seq: t.readUInt32BE(4),
        ack: t.readUInt32BE(8),
        flags: t[13]! & 0x3f,
        data: t.subarray((t[12]! >> 4) * 4),
      },
    ];
  });
}

test('an ACK exactly 2^31 past SND.UNA is not taken as acknowledging 2 GiB (the send ring wrapped)', async () => {
  const { feed, stat } = await harness();
  const seg = (seq: number, ack: number, flags: number, data = Buffer.alloc(0)): Buffer =>
    ipv4(6, tcp({ sport: 12252, dport: 7, seq, ack: ack >>> 0, flags, window: 65535, data }));
  const synAck = segments(feed(seg(1000, 0, 2)))[0]!;
  assert.equal(synAck.flags, 0x12);
  const una = (synAck.seq + 1) >>> 0;
  feed(seg(1001, una, ACK));
  // The fuzzer's input: an ACK 2^31 ahead of everything the appliance sent.
  feed(seg(1001, una + 2 ** 31, ACK | 8));
  assert.equal(stat('tcpBufferedBytes'), 0, 'nothing buffered');
  const echo = segments(feed(seg(1001, una, ACK | 8, Buffer.from('hello')))).find((s) => s.data.length);
  assert.equal(echo?.data.toString(), 'hello', 'the connection still echoes');
});

/** A DHCP server message (op 2) for the harness's MAC: type, xid, yiaddr 10.0.0.50, lease. */
function dhcpReply(type: number, xid: number, leaseS: number): Buffer {
  const m = Buffer.alloc(240 + 15);
  m[0] = 2;
  m[1] = 1;
  m[2] = 6;
  m.writeUInt32BE(xid, 4);
  m.writeUInt32BE(0x0a000032, 16);
  APP_MAC.copy(m, 28);
  m.writeUInt32BE(0x63825363, 236);
  Buffer.from([53, 1, type, 54, 4, 10, 0, 0, 1, 51, 4, 0, 0, 0, 0]).copy(m, 240);
  m.writeUInt32BE(leaseS, 240 + 11);
  return ipv4(17, udp(67, 68, Buffer.concat([m, Buffer.from([255])]), PEER_IP, 0xffffffff), {
    dst: 0xffffffff,
    ethDst: Buffer.alloc(6, 0xff),
  });
}

test('a DHCP lease renewed again and again with a far deadline leaves no dead timers behind', async () => {
  const { fi, initial, feed } = await harness(DHCP_HARNESS);
  const fire = fi.exports.fuzz_fire as () => void;
  const timers = fi.exports.fuzz_timers as () => number;
  const dhcpSent = (sent: Buffer[]) =>
    sent.map((f) => parseSent(f)).find((x) => x && x.proto === 17 && x.l4.readUInt16BE(2) === 67);
  const xidOf = (sent: Buffer[]): number => {
    const p = dhcpSent(sent);
    assert.ok(p, 'the client sent a DHCP message');
    return p.l4.readUInt32BE(8 + 4);
  };
  const state = (): number => Math.log2((fi.exports.fuzz_states as () => number)());
  let xid = xidOf(initial); // DISCOVER
  xid = xidOf(feed(dhcpReply(2, xid, 0x7fffffff))); // OFFER -> REQUEST
  feed(dhcpReply(5, xid, 0x7fffffff)); // ACK: bound for 68 years, T1 in 34
  assert.equal(state(), 3);
  for (let i = 0; i < 3000; i++) {
    fire(); // T1: RENEWING, a REQUEST with a new xid to the server
    let sent = fi.takeSent();
    if (!dhcpSent(sent)) sent = feed(arp(2, PEER_IP, APP_IP, false)); // the server's MAC, once
    xid = xidOf(sent);
    feed(dhcpReply(5, xid, 0x7fffffff));
    assert.equal(state(), 3, `renewal ${i} bound again`);
  }
  // Each renewal cancels a timer years away; they used to stay in the heap until then.
  assert.ok(timers() < 200, `${timers()} timers pending`);
});
