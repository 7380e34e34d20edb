// Builds the kiln-tap helper (tap-helper.c) with gcc on first use.
import { execFile } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'tap-helper.c');
export const TAP_HELPER_PATH = join(here, 'build', 'kiln-tap');

let building: Promise<string> | null = null;

async function mtime(path: string): Promise<number> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return -1;
  }
}

/** Returns the path of the compiled helper, compiling it when missing or older than its source. */
export function ensureTapHelper(): Promise<string> {
  building ??= (async () => {
    if ((await mtime(TAP_HELPER_PATH)) < (await mtime(source))) {
      await mkdir(dirname(TAP_HELPER_PATH), { recursive: true });
      const tmp = `${TAP_HELPER_PATH}.${process.pid}`;
      await promisify(execFile)('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, source]);
      await promisify(execFile)('mv', ['-f', tmp, TAP_HELPER_PATH]);
    }
    return TAP_HELPER_PATH;
  })();
  return building;
}
