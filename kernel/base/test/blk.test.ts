// virtio-blk against real disk image files (mmio on microvm, PCI on q35), the stats channel's
// block counters, and argument checks of every call with devices present.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootImage, ensureKernelBuilt, type Machine } from './qemu-run.ts';
import { createFramePeer } from './net-peer.ts';

before(() => ensureKernelBuilt());

function diskImage(dir: string, size: number): string {
  const file = join(dir, 'disk.img');
  const buf = Buffer.alloc(size);
  buf.write('hello from the host disk', 0);
  writeFileSync(file, buf);
  return file;
}

for (const machine of ['microvm', 'q35'] as Machine[]) {
  test(`block read, write and read back (${machine})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-blk-'));
    try {
      const size = 2 * 1024 * 1024;
      const file = diskImage(dir, size);
      const r = await bootImage({ machine, append: 'test=blk', disks: [file], stats: true });
      assert.equal(r.exitStatus, 0, r.stdout);
      assert.match(r.stdout, new RegExp(`blk: capacity ${size} block 512`));
      assert.match(r.stdout, /blk: sector0 \[hello from the host disk\]/);
      assert.match(r.stdout, /blk: ok/);
      const disk = readFileSync(file);
      for (let i = 0; i < 16384; i++) assert.equal(disk[4096 + i], (i * 7 + 3) & 0xff, `byte ${i}`);
      assert.equal(disk.subarray(size - 512, size - 497).toString(), 'kiln wrote this');
      const last = r.stats.trim().split('\n').at(-1)!;
      // reads: 512 + 16384 bytes in 2 requests; writes: 16384 + 512 in 2; no errors
      assert.match(last, / blk0=16896\/2\/16896\/2\/0$/, last);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('every call refuses bad arguments with a NIC and a disk present', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-blk-'));
  const peer = await createFramePeer('52:54:00:12:34:56');
  try {
    const file = diskImage(dir, 1024 * 1024);
    const r = await bootImage({ append: 'test=calls', disks: [file], netdevs: [peer.netdev] });
    assert.match(r.stdout, /calls: ok \(0 failures\)/, r.stdout);
    assert.equal(r.exitStatus, 0);
  } finally {
    peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
