// The newc writer against GNU cpio's reader when it is installed, and against the format's
// layout (header fields, 4-byte padding, trailer) always.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { cpioNewc } from './cpio.ts';

const entries = [
  { kind: 'dir', path: '/bin' },
  { kind: 'file', path: '/bin/init', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
  { kind: 'symlink', path: '/bin/sh', target: 'busybox' },
  { kind: 'chardev', path: '/console', major: 5, minor: 1 },
] as const;

function field(buf: Uint8Array, off: number, i: number): number {
  return parseInt(Buffer.from(buf.subarray(off + 6 + 8 * i, off + 14 + 8 * i)).toString('ascii'), 16);
}

describe('cpioNewc', () => {
  it('lays out headers, names and data on 4-byte boundaries and ends with the trailer', () => {
    const a = cpioNewc([...entries], 1_700_000_000);
    let off = 0;
    const seen: Array<{ name: string; mode: number; size: number; rdev: string }> = [];
    for (;;) {
      assert.equal(Buffer.from(a.subarray(off, off + 6)).toString('ascii'), '070701');
      const mode = field(a, off, 1);
      const size = field(a, off, 6);
      const nameLen = field(a, off, 11);
      const name = Buffer.from(a.subarray(off + 110, off + 110 + nameLen - 1)).toString();
      assert.equal(a[off + 110 + nameLen - 1], 0, 'name is NUL-terminated');
      seen.push({ name, mode, size, rdev: `${field(a, off, 9)}:${field(a, off, 10)}` });
      if (name !== 'TRAILER!!!') assert.equal(field(a, off, 5), 1_700_000_000);
      off += 110 + nameLen;
      off += (4 - (off % 4)) % 4;
      off += size;
      off += (4 - (off % 4)) % 4;
      if (name === 'TRAILER!!!') break;
    }
    assert.equal(off, a.length);
    assert.deepEqual(
      seen.map((s) => [s.name, s.mode.toString(8), s.size]),
      [
        ['bin', '40755', 0],
        ['bin/init', '100755', 18],
        ['bin/sh', '120777', 7],
        ['console', '20600', 0],
        ['TRAILER!!!', '0', 0],
      ],
    );
    assert.equal(seen[3]!.rdev, '5:1');
  });

  it('is read back by GNU cpio when installed', (t) => {
    const list = spawnSync('cpio', ['-itv'], { input: cpioNewc([...entries]), encoding: 'utf8' });
    if (list.error) return t.skip('cpio not installed');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^-rwxr-xr-x .* bin\/init$/m);
    assert.match(list.stdout, /^lrwxrwxrwx .* bin\/sh -> busybox$/m);
    assert.match(list.stdout, /^crw------- .* 5,\s+1 .* console$/m);
  });

  it('refuses a field that does not fit in 32 bits', () => {
    assert.throws(
      () => cpioNewc([{ kind: 'chardev', path: '/x', major: 2 ** 32, minor: 0 }]),
      /out of range/,
    );
  });
});
