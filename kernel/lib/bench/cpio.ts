// Writes a cpio archive in the "newc" format (the one Linux unpacks as an initramfs): a
// 110-byte ASCII header of hex fields, the NUL-terminated name, the data, each padded to 4 bytes,
// ended by the entry "TRAILER!!!". Used by the benchmark to give its Linux VM peers a root
// filesystem without needing the cpio tool.

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`cpio field out of range: ${n}`);
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/**
 * One archive from the entries, in order (parents must come before their children). Every entry
 * gets the same `mtime` (seconds), so the same inputs give the same bytes; keep it non-zero for
 * programs that skip files not newer than what they loaded (NSD does, with zone files).
 */
export function cpioNewc(entries: CpioEntry[], mtime = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  let ino = 1;
  const push = (
    path: string,
    mode: number,
    data: Uint8Array,
    rdev: { major: number; minor: number } = { major: 0, minor: 0 },
  ): void => {
    const name = Buffer.from(`${path.replace(/^\/+/, '')}\0`, 'utf8');
    const header =
      '070701' +
      [
        ino++,
        mode,
        0, // uid
        0, // gid
        (mode & 0o170000) === S_IFDIR ? 2 : 1,
        mtime,
        data.length,
        0,
        0,
        rdev.major,
        rdev.minor,
        name.length,
        0, // check (unused by newc)
      ]
        .map(hex8)
        .join('');
    parts.push(Buffer.from(header, 'ascii'), name, new Uint8Array(pad4(110 + name.length)));
    parts.push(data, new Uint8Array(pad4(data.length)));
  };
  for (const e of entries) {
    if (e.kind === 'dir') push(e.path, S_IFDIR | (e.mode ?? 0o755), new Uint8Array(0));
    else if (e.kind === 'file') push(e.path, S_IFREG | (e.mode ?? 0o644), e.data);
    else if (e.kind === 'symlink') push(e.path, S_IFLNK | 0o777, Buffer.from(e.target, 'utf8'));
    else push(e.path, S_IFCHR | (e.mode ?? 0o600), new Uint8Array(0), e);
  }
  ino = 0;
  push('TRAILER!!!', 0, new Uint8Array(0));
  return Buffer.concat(parts);
}
