// Uploaded assets (web mode's file and folder pickers) live in the library, content-addressed:
//   <home>/assets/file/<sha256 of the content>/<name>     one file, under the name it had
//   <home>/assets/folder/<sha256 of the tree>/...         a folder (hash as the build's, generate.ts)
// The asset setting then holds that absolute path, so the build, the CLI and the container
// builder read it like any host path, and the same content uploaded twice is stored once.
// An upload is written into `<home>/assets/.upload-*` first and renamed into place only once
// complete: a build never sees half an asset, and an interrupted upload leaves only a temporary
// folder that the next store sweeps.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { KilnError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';
import { hashFolder } from './generate.ts';
import { sha256 } from './hash.ts';

export type AssetKind = 'file' | 'folder';

export interface UploadedFile {
  /** relative path with `/` separators (for a file asset: its name) */
  path: string;
  data: Uint8Array;
}

export interface StoredAsset {
  kind: AssetKind;
  /** absolute path: the value to put in the asset setting */
  path: string;
  sha256: string;
  bytes: number;
  files: number;
}

export const ASSET_LIMITS = {
  /** total bytes of content in one upload (assets are embedded in an image held in memory) */
  bytes: 16 * 1024 * 1024,
  files: 2000,
  pathChars: 400,
  depth: 16,
};

const UPLOAD_PREFIX = '.upload-';
// Control characters, the other platforms' separators and reserved characters.
// eslint-disable-next-line no-control-regex
const BAD_CHARS = /[\u0000-\u001f\u007f\\:*?"<>|]/;

function refuse(message: string): never {
  throw new KilnError('invalid_input', message, 'files');
}

/** Checks one relative path; the message names it and says what is wrong. */
export function checkAssetPath(path: string): string[] {
  const shown = JSON.stringify(path.slice(0, 80));
  if (path === '') refuse('A file has an empty name.');
  if (path.length > ASSET_LIMITS.pathChars)
    refuse(`The path ${shown}… is longer than ${ASSET_LIMITS.pathChars} characters.`);
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path))
    refuse(`The path ${shown} is absolute: upload paths must be relative to the chosen folder.`);
  const parts = path.split('/');
  if (parts.length > ASSET_LIMITS.depth)
    refuse(`The path ${shown} is nested deeper than ${ASSET_LIMITS.depth} folders.`);
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..')
      refuse(`The path ${shown} has an empty, "." or ".." part: it must stay inside the chosen folder.`);
    if (BAD_CHARS.test(part))
      refuse(`The path ${shown} contains a control character or one of \\ : * ? " < > |; rename it.`);
    if (Buffer.byteLength(part) > 255) refuse(`A name in ${shown} is longer than 255 bytes.`);
  }
  return parts;
}

function checkUpload(kind: AssetKind, files: UploadedFile[]): void {
  if (files.length === 0) refuse(kind === 'file' ? 'No file was sent.' : 'The folder is empty.');
  if (kind === 'file' && files.length !== 1) refuse(`A file setting takes one file, not ${files.length}.`);
  if (files.length > ASSET_LIMITS.files)
    refuse(`The folder has ${files.length} files; the limit is ${ASSET_LIMITS.files}.`);
  let bytes = 0;
  const seen = new Set<string>();
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = checkAssetPath(f.path);
    if (kind === 'file' && parts.length !== 1) refuse(`A file asset is one name, not the path "${f.path}".`);
    if (seen.has(f.path)) refuse(`The path "${f.path}" is sent twice.`);
    seen.add(f.path);
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    bytes += f.data.length;
  }
  for (const d of dirs) if (seen.has(d)) refuse(`"${d}" is sent both as a file and as a folder.`);
  if (bytes > ASSET_LIMITS.bytes)
    refuse(`The upload holds ${bytes} bytes; the limit is ${ASSET_LIMITS.bytes} bytes (16 MiB).`);
}

export class AssetStore {
  readonly dir: string;
  private readonly inFlight = new Set<string>();

  constructor(home: string) {
    this.dir = join(home, 'assets');
    this.sweep();
  }

  /** Removes what interrupted uploads (of any process that is gone) left behind. */
  private sweep(): void {
    if (!existsSync(this.dir)) return;
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(UPLOAD_PREFIX) && !this.inFlight.has(name))
        rmSync(join(this.dir, name), { recursive: true, force: true });
    }
  }

  /** Validates, writes completely, then moves into place. Returns where the asset now lives. */
  store(kind: AssetKind, files: UploadedFile[]): StoredAsset {
    checkUpload(kind, files);
    mkdirSync(this.dir, { recursive: true });
    const tmpName = `${UPLOAD_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`;
    const tmp = join(this.dir, tmpName);
    this.inFlight.add(tmpName);
    try {
      mkdirSync(tmp);
      let bytes = 0;
      for (const f of files) {
        const dest = join(tmp, ...f.path.split('/'));
        mkdirSync(dirname(dest), { recursive: true });
        writeFileAtomic(dest, f.data);
        bytes += f.data.length;
      }
      if (kind === 'file') {
        const [f] = files as [UploadedFile];
        const hash = sha256(f.data);
        const final = join(this.dir, 'file', hash, f.path);
        if (!existsSync(final)) {
          mkdirSync(dirname(final), { recursive: true });
          renameSync(join(tmp, f.path), final);
        }
        return { kind, path: final, sha256: hash, bytes, files: 1 };
      }
      const hash = hashFolder(tmp);
      const final = join(this.dir, 'folder', hash);
      if (!existsSync(final)) {
        mkdirSync(dirname(final), { recursive: true });
        try {
          renameSync(tmp, final);
        } catch (err) {
          // Another upload of the same content won the race: it is the same tree.
          if (!existsSync(final)) throw err;
        }
      }
      return { kind, path: final, sha256: hash, bytes, files: files.length };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      this.inFlight.delete(tmpName);
    }
  }
}
