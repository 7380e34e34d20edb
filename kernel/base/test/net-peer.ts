// A host peer for the guest's NICs: QEMU's `-netdev socket,udp=...` carries each Ethernet frame
// as one UDP datagram on loopback, so a test can send and receive raw frames without root.
import { createSocket, type Socket } from 'node:dgram';
import type { NetdevSpec } from './qemu-run.ts';

export interface FramePeer {
  netdev: NetdevSpec;
  send(frame: Buffer): void;
  frames: Buffer[];
  /** resolves when `count` frames (in total) have arrived, rejects after timeoutMs */
  waitFor(count: number, timeoutMs: number): Promise<void>;
  close(): void;
}

function bindRandom(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

/** One NIC's peer: we receive what the guest sends on `ours`, and send to QEMU's `theirs`. */
export async function createFramePeer(mac: string): Promise<FramePeer> {
  const ours = await bindRandom();
  // QEMU binds localaddr itself: pick a free port by binding and releasing it
  const probe = await bindRandom();
  const theirs = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  const frames: Buffer[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  ours.on('message', (msg) => {
    frames.push(msg);
    for (const w of waiters.splice(0)) {
      if (frames.length >= w.count) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    netdev: { backend: `socket,udp=127.0.0.1:${ours.address().port},localaddr=127.0.0.1:${theirs}`, mac },
    frames,
    send(frame) {
      ours.send(frame, theirs, '127.0.0.1');
    },
    waitFor(count, timeoutMs) {
      if (frames.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`got ${frames.length} of ${count} frames`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(t), resolve()) });
      });
    },
    close() {
      ours.close();
    },
  };
}

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

/** An Ethernet frame of experimental ethertype 0x88b5 carrying `payload`. */
export function frame(dst: string, src: string, payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const body = Buffer.concat([p, Buffer.alloc(Math.max(0, 46 - p.length))]);
  return Buffer.concat([macBytes(dst), macBytes(src), Buffer.from([0x88, 0xb5]), body]);
}
