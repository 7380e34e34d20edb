// The content-addressed build cache under the data home:
//   images/<key>.elf + images/<key>.json   the sealed image and what is known about it
//   wasm/<hash>.wasm                          asc output by its inputs (sources, library OS, asc)
//   native/<hash>.blob                        compiled blob by the Wasm's hash and the compiler
// Settings reach the appliance at run time through config_get, so changing a setting relinks
// without recompiling: only the image key covers the configuration.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import type { BuildArtefact } from './types.ts';

export type CacheKind = 'wasm' | 'native';

export class BuildCache {
  constructor(readonly dir: string) {}

  imagePath(key: string): string {
    return join(this.dir, 'images', `${key}.elf`);
  }

  private manifestPath(key: string): string {
    return join(this.dir, 'images', `${key}.json`);
  }

  /** The recorded artefact when both the image and its manifest are there and agree on size. */
  lookupImage(key: string): BuildArtefact | null {
    const manifest = this.manifestPath(key);
    const image = this.imagePath(key);
    if (!existsSync(manifest) || !existsSync(image)) return null;
    try {
      const a = JSON.parse(readFileSync(manifest, 'utf8')) as BuildArtefact;
      if (statSync(image).size !== a.size) return null;
      return { ...a, path: image };
    } catch {
      return null;
    }
  }

  /** Image first, manifest last: a manifest always points at a complete image. */
  storeImage(key: string, image: Uint8Array, artefact: BuildArtefact): void {
    writeFileAtomic(this.imagePath(key), image);
    writeFileAtomic(this.manifestPath(key), `${JSON.stringify(artefact, null, 2)}\n`);
  }

  private stagePath(kind: CacheKind, hash: string): string {
    return join(this.dir, kind, `${hash}.${kind === 'wasm' ? 'wasm' : 'blob'}`);
  }

  get(kind: CacheKind, hash: string): Uint8Array | null {
    const p = this.stagePath(kind, hash);
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : null;
  }

  put(kind: CacheKind, hash: string, bytes: Uint8Array): void {
    writeFileAtomic(this.stagePath(kind, hash), bytes);
  }
}
