// virtio-net against a host peer (QEMU -netdev socket over loopback UDP): frames round-trip on
// several NICs (virtio-mmio on microvm, virtio-pci on q35), a flood neither crashes nor wedges
// the driver, and the stats channel (COM2) counts exactly.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bootImage, ensureKernelBuilt, type Machine } from './qemu-run.ts';
import { createFramePeer, frame, type FramePeer } from './net-peer.ts';

before(() => ensureKernelBuilt());

const HOST = '02:00:00:00:00:01';
const guestMac = (i: number): string => `52:54:00:12:34:${(0x56 + i).toString(16)}`;

async function peers(n: number): Promise<FramePeer[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => createFramePeer(guestMac(i))));
}

function whenReady(): { onOutput: (c: string) => void; ready: Promise<void> } {
  let out = '';
  let resolve = (): void => {};
  const ready = new Promise<void>((r) => (resolve = r));
  return {
    onOutput: (c) => {
      out += c;
      if (out.includes('kiln: ready')) resolve();
    },
    ready,
  };
}

/** sends "quit" until the guest exits (a frame can be dropped while the guest's ring is full) */
async function quitAll(ps: FramePeer[], i: number, done: { v: boolean }): Promise<void> {
  while (!done.v) {
    ps[i]!.send(frame(guestMac(i), HOST, 'quit'));
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const machine of ['microvm', 'q35'] as Machine[]) {
  test(`frames round-trip on three NICs (${machine})`, async () => {
    const ps = await peers(3);
    const w = whenReady();
    const done = { v: false };
    const run = bootImage({
      machine,
      append: 'test=net-echo',
      netdevs: ps.map((p) => p.netdev),
      stats: true,
      onOutput: w.onOutput,
      timeoutMs: 60000,
    });
    try {
      await Promise.race([w.ready, run.then((r) => assert.fail(`exited early: ${r.stdout}`))]);
      const per = 20;
      for (let i = 0; i < ps.length; i++)
        for (let k = 0; k < per; k++)
          ps[i]!.send(frame(guestMac(i), HOST, `nic ${i} frame ${k} ${'x'.repeat(k * 50)}`));
      await Promise.all(ps.map((p) => p.waitFor(per, 20000)));
      for (let i = 0; i < ps.length; i++) {
        const got = ps[i]!.frames.map((f) => f.subarray(14).toString().replace(/\0+$/, '')).sort();
        const want = Array.from(
          { length: per },
          (_, k) => `nic ${i} frame ${k} ${'x'.repeat(k * 50)}`,
        ).sort();
        assert.deepEqual(got, want, `nic ${i}`);
        for (const f of ps[i]!.frames) {
          assert.equal(f.subarray(0, 6).toString('hex'), HOST.replace(/:/g, ''));
          assert.equal(f.subarray(6, 12).toString('hex'), guestMac(i).replace(/:/g, ''));
        }
      }
      void quitAll(ps, 0, done);
      const r = await run;
      done.v = true;
      assert.equal(r.exitStatus, 0, r.stdout);
      for (let i = 0; i < ps.length; i++)
        assert.match(r.stdout, new RegExp(`net: nic ${i} mac ${guestMac(i)} mtu 1500`));
      // the stats channel: the last line's counters are exact
      const lines = r.stats.trim().split('\n');
      assert.match(
        lines[0]!,
        /^kiln-stats 1 t=\d+ mem=\d+\/\d+ net0=0\/0\/0\/0\/0\/0 net1=0\/0\/0\/0\/0\/0 net2=0\/0\/0\/0\/0\/0$/,
      );
      const last = lines.at(-1)!;
      for (let i = 0; i < ps.length; i++) {
        const m = new RegExp(`net${i}=(\\d+)/(\\d+)/(\\d+)/(\\d+)/(\\d+)/(\\d+)`).exec(last);
        assert.ok(m, last);
        const received = Number(new RegExp(`net: nic ${i} received (\\d+)`).exec(r.stdout)?.[1]);
        assert.equal(Number(m[2]), received, `net${i} rx packets`);
        assert.equal(Number(m[5]), per, `net${i} tx packets`);
        const txBytes = ps[i]!.frames.reduce((s, f) => s + f.length, 0);
        assert.equal(Number(m[4]), txBytes, `net${i} tx bytes`);
      }
    } finally {
      done.v = true;
      ps.forEach((p) => p.close());
    }
  });
}

test('a flood of frames neither crashes nor wedges the driver', async () => {
  const ps = await peers(1);
  const w = whenReady();
  const done = { v: false };
  const run = bootImage({
    append: 'test=net-echo',
    netdevs: ps.map((p) => p.netdev),
    onOutput: w.onOutput,
    timeoutMs: 90000,
  });
  try {
    await w.ready;
    const flood = 20000;
    const big = frame(guestMac(0), HOST, Buffer.alloc(1500 - 14, 0xab));
    for (let k = 0; k < flood; k++) {
      ps[0]!.send(k % 2 ? big : frame(guestMac(0), HOST, `flood ${k}`));
      if (k % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    // afterwards the driver still answers
    const before = ps[0]!.frames.length;
    let answered = false;
    for (let tries = 0; tries < 50 && !answered; tries++) {
      ps[0]!.send(frame(guestMac(0), HOST, 'still there?'));
      await new Promise((r) => setTimeout(r, 100));
      answered = ps[0]!.frames
        .slice(before)
        .some((f) => f.subarray(14).toString().startsWith('still there?'));
    }
    assert.ok(answered, 'no answer after the flood');
    void quitAll(ps, 0, done);
    const r = await run;
    done.v = true;
    assert.equal(r.exitStatus, 0, r.stdout);
    const received = Number(/net: nic 0 received (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(received > 1000, `guest received ${received}`);
  } finally {
    done.v = true;
    ps.forEach((p) => p.close());
  }
});

/** user + system CPU seconds of a process, from /proc (clock ticks of 1/100 s) */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

test('an idle appliance waiting on yield burns (almost) no host CPU', async () => {
  const ps = await peers(1);
  const w = whenReady();
  const done = { v: false };
  let pid = 0;
  const run = bootImage({
    append: 'test=net-echo',
    netdevs: ps.map((p) => p.netdev),
    stats: true,
    onOutput: w.onOutput,
    onSpawn: (p) => (pid = p),
    timeoutMs: 30000,
  });
  try {
    await w.ready;
    await new Promise((r) => setTimeout(r, 300));
    const c0 = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 2000));
    const used = cpuSeconds(pid) - c0;
    assert.ok(used < 0.2, `QEMU used ${used} s of CPU in 2 s of guest idleness`);
    void quitAll(ps, 0, done);
    const r = await run;
    done.v = true;
    assert.equal(r.exitStatus, 0);
    // nothing changed while idle: only the first line (devices up) and the last (exit)
    const lines = r.stats.trim().split('\n');
    assert.ok(lines.length <= 3, r.stats);
  } finally {
    done.v = true;
    ps.forEach((p) => p.close());
  }
});

// The echo loop sleeps in yield with a 5 s deadline: an answer well under that proves the
// device interrupt woke the guest (virtio-mmio through either IOAPIC layout, MSI-X on PCI).
const wakeups: { machine: Machine; props: string }[] = [
  { machine: 'microvm', props: '' },
  { machine: 'microvm', props: ',acpi=off' },
  { machine: 'microvm', props: ',ioapic2=off' },
  { machine: 'q35', props: '' },
];
for (const { machine, props } of wakeups) {
  test(`a received frame wakes the sleeping guest (${machine}${props})`, async () => {
    const ps = await peers(1);
    const w = whenReady();
    const done = { v: false };
    const run = bootImage({
      machine,
      machineProps: props,
      append: 'test=net-echo',
      netdevs: ps.map((p) => p.netdev),
      onOutput: w.onOutput,
      timeoutMs: 30000,
    });
    try {
      await w.ready;
      await new Promise((r) => setTimeout(r, 1500)); // asleep until ready + 5 s
      const t0 = performance.now();
      ps[0]!.send(frame(guestMac(0), HOST, 'wake up'));
      await ps[0]!.waitFor(1, 6000);
      const ms = performance.now() - t0;
      assert.ok(ms < 1000, `answered after ${ms} ms: the frame did not wake the guest`);
      void quitAll(ps, 0, done);
      const r = await run;
      done.v = true;
      assert.equal(r.exitStatus, 0, r.stdout);
    } finally {
      done.v = true;
      ps.forEach((p) => p.close());
    }
  });
}
