// Content hashing for the build cache. Trees are hashed by relative path and content (never by
// mtime), so the same sources give the same key on any machine; a per-process memo keyed by
// (path, size, mtime, inode) avoids rereading unchanged files, which keeps a cache hit fast.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const memo = new Map<string, { stamp: string; hash: string }>();

/** sha256 of a file's content, remembered until the file's size, mtime or inode change. */
export function hashFile(path: string): string {
  const st = statSync(path);
  const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const known = memo.get(path);
  if (known && known.stamp === stamp) return known.hash;
  const hash = sha256(readFileSync(path));
  memo.set(path, { stamp, hash });
  return hash;
}

export interface TreeOptions {
  /** folder names skipped anywhere in the tree */
  skipDirs?: ReadonlySet<string>;
  /** keeps a file when true (relative path with `/` separators) */
  include?: (rel: string) => boolean;
}

/** Lists the files of a tree, sorted by relative path with `/` separators. */
export function listTree(root: string, opts: TreeOptions = {}): string[] {
  const out: string[] = [];
  if (!existsSync(root)) return out;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const st = statSync(full);
      if (st.isDirectory()) {
        if (!opts.skipDirs?.has(name)) walk(full);
      } else if (st.isFile()) {
        const rel = relative(root, full).split(sep).join('/');
        if (!opts.include || opts.include(rel)) out.push(rel);
      }
    }
  };
  walk(root);
  return out.sort();
}

/** One hash for a whole tree: every file's relative path and content hash, in sorted order. */
export function hashTree(root: string, opts: TreeOptions = {}): string {
  const h = createHash('sha256');
  for (const rel of listTree(root, opts)) h.update(`${rel}\0${hashFile(join(root, rel))}\n`);
  return h.digest('hex');
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
