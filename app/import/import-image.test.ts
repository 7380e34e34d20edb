// Import for real: a PVH kernel (the kernel base), a Multiboot kernel assembled here, and files
// that must be refused with their reason; the imported image boots under QEMU.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../store/index.ts';
import { KilnError } from '../errors.ts';
import { tempDir } from '../build/testing.ts';
import { importImage } from './import-image.ts';
import { inspectKernelImage } from './inspect.ts';
import { BASE_IMAGE, bootImage, ensureKernelBuilt } from '../../kernel/base/test/qemu-run.ts';

/** A 32-bit Multiboot (v1) kernel: the header, then an endless halt. */
function assembleMultiboot(dir: string): string {
  const src = join(dir, 'mb.S');
  writeFileSync(
    src,
    `  .text
  .align 4
  .long 0x1BADB002
  .long 0x00000003
  .long -(0x1BADB002 + 0x00000003)
  .globl _start
_start:
  cli
1: hlt
  jmp 1b
`,
  );
  execFileSync('as', ['--32', '-o', join(dir, 'mb.o'), src]);
  execFileSync('ld', [
    '-m',
    'elf_i386',
    '-Ttext=0x100000',
    '-e',
    '_start',
    '--build-id=none',
    '-z',
    'max-page-size=0x1000',
    '-o',
    join(dir, 'mb.elf'),
    join(dir, 'mb.o'),
  ]);
  return join(dir, 'mb.elf');
}

describe('import a kernel image', () => {
  const tmp = tempDir('import');
  let store: Store;
  let multiboot: string;

  before(() => {
    ensureKernelBuilt();
    store = Store.open(tmp.dir);
    multiboot = assembleMultiboot(tmp.dir);
  });
  after(() => {
    store.close();
    tmp.remove();
  });

  it('recognises the kernel base as a PVH x86-64 ELF', () => {
    const r = inspectKernelImage(new Uint8Array(readFileSync(BASE_IMAGE)));
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.deepEqual(r.protocols, ['pvh']);
    assert.equal(r.machine, 'x86-64');
    assert.ok(r.pvhEntry !== null && r.pvhEntry > 0);
  });

  it('recognises a Multiboot i386 ELF', () => {
    const r = inspectKernelImage(new Uint8Array(readFileSync(multiboot)));
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.deepEqual(r.protocols, ['multiboot']);
    assert.equal(r.machine, 'i386');
  });

  it('imports a PVH image as a template-less appliance whose image boots', async () => {
    const result = importImage(store, null, tmp.dir, { name: 'imported-base', path: BASE_IMAGE });
    assert.equal(result.appliance.template, null);
    assert.equal(result.build.status, 'succeeded');
    assert.equal(result.build.builder, 'import');
    assert.ok(result.build.imagePath && existsSync(result.build.imagePath));
    assert.deepEqual(readFileSync(result.build.imagePath), readFileSync(BASE_IMAGE));
    assert.equal(store.builds.latestSucceeded(result.appliance.id)?.id, result.build.id);
    const boot = await bootImage({ image: result.build.imagePath, timeoutMs: 60000 });
    assert.equal(boot.exitStatus, 0, boot.stdout + boot.stderr);
    assert.match(boot.stdout, /kiln: no appliance in this image/);
  });

  it('imports a Multiboot image', () => {
    const result = importImage(store, null, tmp.dir, { name: 'imported-mb', path: multiboot });
    assert.deepEqual(result.protocols, ['multiboot']);
  });

  const refuse = (name: string, path: string, reason: RegExp): void => {
    assert.throws(
      () => importImage(store, null, tmp.dir, { name, path }),
      (e: unknown) => e instanceof KilnError && e.code === 'invalid_input' && reason.test(e.message),
    );
    assert.equal(store.appliances.find(name), undefined, 'nothing recorded for a refused file');
  };

  it('refuses a file that is not ELF, with the reason', () => {
    const p = join(tmp.dir, 'notes.txt');
    writeFileSync(p, 'this is not a kernel, just some text that is long enough to be read as a header\n');
    refuse('not-elf', p, /Not an ELF file/);
  });

  it('refuses an ELF without a PVH note or Multiboot header', () => {
    refuse('plain-elf', process.execPath, /No PVH note and no Multiboot header/);
  });

  it('refuses an ELF for another architecture', () => {
    const bytes = Buffer.from(readFileSync(BASE_IMAGE));
    bytes.writeUInt16LE(183, 18); // e_machine = AArch64
    const p = join(tmp.dir, 'arm.elf');
    writeFileSync(p, bytes);
    refuse('arm-kernel', p, /Wrong architecture: this ELF is for AArch64/);
  });

  it('refuses a missing file and a taken name', () => {
    refuse('missing', join(tmp.dir, 'nope.elf'), /does not exist/);
    assert.throws(
      () => importImage(store, null, tmp.dir, { name: 'imported-base', path: BASE_IMAGE }),
      /already exists/,
    );
  });
});
