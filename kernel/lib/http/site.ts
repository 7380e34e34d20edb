// The static site an appliance serves, loaded from the bundle `embedSite` (embed-site.ts)
// writes at build time. Bundle format (all integers big-endian):
//   "KSB1"  u32 fileCount
//   per file: u16 pathLen, path (UTF-8, starts with "/"), u8 etagLen, etag (ASCII, quoted),
//             u32 bodyLen, body
// File bodies stay views into the bundle: serving never copies them.

import { readU16, readU32 } from '../dns/bytes';
import { contentTypeFor } from './mime';

export { base64Decode } from '../base64';

export class SiteFile {
  path: string;
  body: Uint8Array;
  etag: string;
  contentType: string;
  /** The head of a keep-alive 200 for this file, built by the first one (conn.ts serveFile). */
  okHead: Uint8Array | null = null;
  constructor(path: string, body: Uint8Array, etag: string) {
    this.path = path;
    this.body = body;
    this.etag = etag;
    this.contentType = contentTypeFor(path);
  }
}

export class Site {
  files: Map<string, SiteFile> = new Map<string, SiteFile>();
  totalBytes: i64 = 0;

  add(f: SiteFile): void {
    this.files.set(f.path, f);
    this.totalBytes += f.body.length;
  }

  /** The file for a decoded request path; directories serve their index.html. */
  lookup(path: string): SiteFile | null {
    if (this.files.has(path)) return this.files.get(path);
    if (!path.endsWith('/')) return null; // "/dir" is redirected to "/dir/" (isDirectory)
    const index = path + 'index.html';
    if (this.files.has(index)) return this.files.get(index);
    return null;
  }

  /** True when `path` (no trailing slash) is a directory with an index: redirect to "path/". */
  isDirectory(path: string): bool {
    return !path.endsWith('/') && this.files.has(path + '/index.html');
  }
}

/** Parses a bundle; null when it is malformed. */
export function loadSite(b: Uint8Array): Site | null {
  if (b.length < 8 || b[0] != 75 || b[1] != 83 || b[2] != 66 || b[3] != 49) return null;
  const count = readU32(b, 4);
  const site = new Site();
  let pos = 8;
  for (let i: u32 = 0; i < count; i++) {
    if (pos + 2 > b.length) return null;
    const pathLen = readU16(b, pos);
    pos += 2;
    if (pos + pathLen + 1 > b.length) return null;
    const path = String.UTF8.decodeUnsafe(b.dataStart + <usize>pos, <usize>pathLen);
    pos += pathLen;
    const etagLen = <i32>b[pos];
    pos += 1;
    if (pos + etagLen + 4 > b.length) return null;
    const etag = String.UTF8.decodeUnsafe(b.dataStart + <usize>pos, <usize>etagLen);
    pos += etagLen;
    const bodyLen = <i32>readU32(b, pos);
    pos += 4;
    if (bodyLen < 0 || pos + bodyLen > b.length) return null;
    site.add(new SiteFile(path, b.subarray(pos, pos + bodyLen), etag));
    pos += bodyLen;
  }
  return site;
}

