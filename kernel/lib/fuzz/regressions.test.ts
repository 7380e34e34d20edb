// Inputs the fuzzer found, replayed against the harness appliance: each once broke the stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileCached } from '../host/testing/compiled.ts';
import { NET_STAT_NAMES } from '../host/appliance.ts';
import { APP_IP, PEER_IP, arp, ipv4, tcp } from './frames.ts';
import { instantiate, type FuzzInstance } from './runner.ts';
import { STACK_HARNESS, parseSent } from './targets/harness.ts';

const ACK = 16;

async function harness(): Promise<{
  fi: FuzzInstance;
  feed(f: Buffer): Buffer[];
  stat(name: string): number;
}> {
  const fi = await instantiate(await compileCached(STACK_HARNESS));
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
  feed(arp(1, PEER_IP, APP_IP, true)); // the appliance learns our MAC
  return { fi, feed, stat };
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
