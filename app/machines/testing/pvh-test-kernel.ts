// Builds the minimal PVH test kernel (pvh-test-kernel.S) with the system's gcc and ld, once per
// process, into a temporary directory. Tests use it so that the machines area does not depend on
// the kernel base being built.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let built: string | null = null;

export function pvhTestKernel(): string {
  if (built && existsSync(built)) return built;
  const dir = mkdtempSync(join(tmpdir(), 'kiln-pvh-'));
  const src = new URL('./pvh-test-kernel.S', import.meta.url).pathname;
  const obj = join(dir, 'k.o');
  const elf = join(dir, 'pvh-test.elf');
  execFileSync('gcc', ['-m32', '-c', src, '-o', obj]);
  execFileSync('ld', ['-m', 'elf_i386', '-Ttext=0x100000', '-o', elf, obj]);
  built = elf;
  return elf;
}

/** The kernel base's test appliance, when the kernel engineer's build has produced it. */
export function kernelBaseTestImage(): string | null {
  const p = new URL('../../../kernel/build/kiln-test.elf', import.meta.url).pathname;
  return existsSync(p) ? p : null;
}
