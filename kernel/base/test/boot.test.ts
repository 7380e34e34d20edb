// Boot tests: the test appliance under real QEMU (microvm and q35; TCG always, KVM when usable).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import {
  bootImage,
  ensureKernelBuilt,
  kvmUsable,
  BASE_IMAGE,
  KERNEL_DIR,
  type Accel,
  type Machine,
} from './qemu-run.ts';

before(() => ensureKernelBuilt());

const EXC_PF = 96 + 14;
const configs: { machine: Machine; accel: Accel }[] = [
  { machine: 'microvm', accel: 'tcg' },
  { machine: 'q35', accel: 'tcg' },
  { machine: 'microvm', accel: 'kvm' },
  { machine: 'q35', accel: 'kvm' },
];

for (const { machine, accel } of configs) {
  const skip = accel === 'kvm' && !kvmUsable() ? '/dev/kvm is not usable on this host' : false;
  test(`boots, prints and exits 0 (${machine}, ${accel})`, { skip }, async () => {
    const r = await bootImage({ machine, accel, append: 'test=hello' });
    assert.equal(r.exitStatus, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /hello from kiln\n/);
    assert.match(r.stdout, /kiln: exit 0\n$/);
  });

  test(`clocks: monotonic, wall, 100 ms deadline (${machine}, ${accel})`, { skip }, async () => {
    const r = await bootImage({ machine, accel, append: 'test=clock sleep_ms=100' });
    assert.equal(r.exitStatus, 0, r.stdout);
    assert.match(r.stdout, /clock: backwards 0\n/);
    const wall = Number(/clock: wall (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(Math.abs(wall - Date.now() / 1000) < 120, `wall clock ${wall} vs host ${Date.now() / 1000}`);
    const slept = Number(/clock: slept (\d+) us/.exec(r.stdout)?.[1]);
    assert.ok(slept >= 100000, `woke early: ${slept} us`);
    // generous: a loaded CI host may deschedule QEMU; waking early is the strict check
    assert.ok(slept < 750000, `woke late: ${slept} us`);
    const advanced = Number(/clock: wall advanced (\d+) us/.exec(r.stdout)?.[1]);
    assert.ok(advanced >= 100000 && advanced < 2000000, `wall advanced ${advanced} us`);
  });
}

test('exit status reaches the host', async () => {
  for (const status of [0, 1, 7, 42, 63]) {
    const r = await bootImage({ append: `test=exit status=${status}` });
    assert.equal(r.exitStatus, status, r.stdout);
    assert.match(r.stdout, new RegExp(`kiln: exit ${status}\\n`));
  }
  // out-of-range appliance statuses become 63 (ABI.md section 3)
  const r = await bootImage({ append: 'test=exit status=200' });
  assert.equal(r.exitStatus, 63);
});

test('boot arguments reach the appliance', async () => {
  const r = await bootImage({ append: 'test=args hello=world x=1' });
  assert.equal(r.exitStatus, 0, r.stdout);
  assert.match(r.stdout, /args: 25 \[test=args hello=world x=1\]/);
  assert.match(r.stdout, /args: truncated 25/);
  assert.match(r.stdout, /args: bad pointer -2/);
});

test('every call refuses bad handles, pointers and lengths', async () => {
  const r = await bootImage({ append: 'test=calls' });
  assert.match(r.stdout, /calls: ok \(0 failures\)/, r.stdout);
  assert.equal(r.exitStatus, 0);
});

test('memory map and page allocator', async () => {
  const r = await bootImage({ append: 'test=mem', memoryMiB: 64 });
  assert.equal(r.exitStatus, 0, r.stdout);
  const m = /mem: total (\d+) used (\d+) after-alloc (\d+) reuse yes/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const total = Number(m[1]);
  assert.ok(total > 60 * 1024 * 1024 && total <= 64 * 1024 * 1024, `total ${total}`);
  const r2 = await bootImage({ append: 'test=mem', memoryMiB: 256 });
  const total2 = Number(/mem: total (\d+)/.exec(r2.stdout)?.[1]);
  assert.ok(total2 > 250 * 1024 * 1024, `total with 256 MiB: ${total2}`);
});

const faults: { name: string; status: number; dump: RegExp }[] = [
  {
    name: 'fault-null',
    status: EXC_PF,
    dump: /exception 14 #PF page fault[\s\S]*cr2\)=0000000000000008[\s\S]*page not present on read/,
  },
  { name: 'fault-div', status: 96, dump: /exception 0 #DE divide error/ },
  { name: 'fault-ud', status: 96 + 6, dump: /exception 6 #UD invalid opcode/ },
  { name: 'seal-write-code', status: EXC_PF, dump: /#PF[\s\S]*protection violation on write/ },
  { name: 'seal-exec-data', status: EXC_PF, dump: /#PF[\s\S]*protection violation on instruction fetch/ },
  { name: 'seal-write-rodata', status: EXC_PF, dump: /#PF[\s\S]*protection violation on write/ },
  { name: 'seal-write-pagetable', status: EXC_PF, dump: /#PF[\s\S]*protection violation on write/ },
  { name: 'stack-overflow', status: EXC_PF, dump: /#PF[\s\S]*page not present on write/ },
];
for (const f of faults) {
  test(`${f.name}: register dump and exit ${f.status}`, async () => {
    const r = await bootImage({ append: `test=${f.name}` });
    assert.equal(r.exitStatus, f.status, r.stdout);
    assert.match(r.stdout, f.dump);
    assert.match(r.stdout, /rip=[0-9a-f]{16}/);
    assert.match(r.stdout, new RegExp(`kiln: exit ${f.status}\\n$`));
  });
}

test('abort prints the AssemblyScript message and exits with the abort trap status', async () => {
  const r = await bootImage({ append: 'test=abort' });
  assert.match(r.stdout, /abort: boom at boom:12:5\n/);
  assert.equal(r.exitStatus, 64 + 9);
});

test('image: PVH note, descriptor section, spare program header, size', () => {
  const readelf = spawnSync('readelf', ['-lnSW', BASE_IMAGE], { encoding: 'utf8' });
  assert.equal(readelf.status, 0);
  assert.match(
    readelf.stdout,
    /Xen\s+0x00000008\s+Unknown note type: \(0x00000012\)|Xen\s+0x00000008\s+NT_VERSION|PHYS32_ENTRY/,
  );
  assert.match(readelf.stdout, /\.kiln_appliance\s+PROGBITS/);
  assert.match(readelf.stdout, /^\s+NULL\s/m);
  assert.ok(statSync(BASE_IMAGE).size < 64 * 1024, `base image is ${statSync(BASE_IMAGE).size} bytes`);
});

test('build is reproducible: two clean builds give the same bytes', () => {
  const outs = [1, 2].map((n) => `/tmp/kiln-repro-${process.pid}-${n}`);
  try {
    for (const out of outs) {
      const r = spawnSync('make', ['-s', '-C', KERNEL_DIR, `B=${out}`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    for (const image of ['kiln-base.elf', 'kiln-test.elf', 'kiln-floor.elf']) {
      const [a, b] = outs.map((o) => readFileSync(`${o}/${image}`));
      assert.ok(a!.equals(b!), `${image} differs between builds`);
    }
  } finally {
    for (const out of outs) spawnSync('rm', ['-rf', out]);
  }
});
