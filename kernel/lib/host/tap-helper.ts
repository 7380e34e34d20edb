// Builds the kiln-tap helper (tap-helper.c) with gcc on first use, and speaks its protocol: frames
// over stdin/stdout, each preceded by its length (u32, little-endian).
import { execFile } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';

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

/**
 * Calls `each` for every frame kiln-tap writes to `out`. The frame is a view into the read
 * buffer, valid only during the call: copy it to keep it.
 */
export function readTapFrames(out: Readable, each: (frame: Buffer) => void): void {
  let pending: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  out.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    while (pending.length - off >= 4) {
      const len = pending.readUInt32LE(off);
      if (pending.length - off - 4 < len) break;
      each(pending.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    pending = pending.subarray(off);
  });
}

/** A frame as kiln-tap reads it from stdin: length prefix, then the bytes. */
export function tapRecord(frame: Uint8Array): Buffer {
  const hdr = Buffer.alloc(4);
  hdr.writeUInt32LE(frame.length);
  return Buffer.concat([hdr, frame]);
}
