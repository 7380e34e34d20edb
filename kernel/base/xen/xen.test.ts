// Xen, as far as this host allows: (1) the PV protocol code (console ring, xenstore, grant
// table, netfront rings) compiled for Linux and driven by a backend written from the Xen public
// interface; (2) Xen's own readnotes reads the image's PVH entry note; (3) a boot under QEMU's
// Xen emulation, which needs KVM, QEMU >= 8 and a host kernel with CONFIG_KVM_XEN, and reports
// itself skipped with the missing piece otherwise.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootImage, ensureKernelBuilt, kvmUsable, BASE_IMAGE, TEST_IMAGE } from '../test/qemu-run.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const READNOTES = [
  '/usr/lib/xen-4.17/bin/readnotes',
  '/usr/lib/xen/bin/readnotes',
  '/usr/bin/readnotes',
].find((p) => existsSync(p));

before(() => ensureKernelBuilt());

test('Xen protocols against a host backend (console, xenstore, shutdown watch, grants, netfront)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-xen-'));
  try {
    const exe = join(dir, 'xen_host_test');
    const cc = spawnSync(
      'gcc',
      [
        '-std=c11',
        '-O1',
        '-g',
        '-Wall',
        '-Wextra',
        '-Werror',
        '-fsanitize=address,undefined',
        '-fno-sanitize-recover=all',
        '-o',
        exe,
        join(HERE, 'test/xen_host_test.c'),
        join(HERE, 'xen_proto.c'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(cc.status, 0, cc.stderr);
    const r = spawnSync(exe, { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const c of ['console', 'xenstore', 'shutdown', 'grants', 'netfront'])
      assert.match(r.stdout, new RegExp(`^ok ${c}$`, 'm'));
    assert.match(r.stdout, /^all ok$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'readnotes (xen-utils) finds the PVH entry',
  { skip: READNOTES ? false : 'xen-utils (readnotes) is not installed' },
  () => {
    for (const image of [BASE_IMAGE, TEST_IMAGE]) {
      const r = spawnSync(READNOTES!, [image], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /PHYS32_ENTRY:\s+0x100000/);
    }
  },
);

/** Why QEMU's Xen emulation cannot run here, or null when it can. */
function xenEmulationMissing(): string | null {
  if (!kvmUsable()) return 'QEMU Xen emulation needs KVM; /dev/kvm is not usable on this host';
  const v = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
  const major = Number(/version (\d+)/.exec(v.stdout)?.[1] ?? 0);
  if (major < 8) return `QEMU ${major} has no Xen emulation (needs QEMU >= 8 with xen-version)`;
  const probe = spawnSync(
    'qemu-system-x86_64',
    [
      '-M',
      'pc',
      '-accel',
      'kvm,xen-version=0x40011,kernel-irqchip=split',
      '-nodefaults',
      '-display',
      'none',
      '-S',
      '-qmp',
      'stdio',
    ],
    {
      encoding: 'utf8',
      input: '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n',
      timeout: 20000,
    },
  );
  if (probe.status !== 0)
    return `QEMU's Xen emulation is unavailable: ${(probe.stderr || '').trim().split('\n')[0]} (the host kernel needs CONFIG_KVM_XEN)`;
  return null;
}

test('boots as a Xen PVH guest under QEMU Xen emulation (PV console, SCHEDOP_shutdown)', async (t) => {
  const missing = xenEmulationMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kiln-xen-'));
  try {
    const consoleFile = join(dir, 'xen-console.txt');
    const r = await bootImage({
      image: TEST_IMAGE,
      machine: 'pc',
      accel: 'kvm',
      accelProps: ',xen-version=0x40011,kernel-irqchip=split',
      append: 'test=clock',
      extraArgs: ['-chardev', `file,id=xc,path=${consoleFile}`, '-device', 'xen-console,chardev=xc'],
      timeoutMs: 60000,
    });
    // under Xen the status travels in the console line; poweroff ends QEMU normally
    const out = readFileSync(consoleFile, 'utf8');
    assert.match(out, /clock: backwards 0/, out + r.stderr);
    assert.match(out, /kiln: exit 0\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
