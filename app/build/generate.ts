// The generate stage: the appliance's configuration blob (config_get, ABI.md section 1) and the
// generated sources that embed its assets.
//
// Asset convention (a string setting with "x-kiln-asset": "file" | "folder"):
// - The value is a host path; a relative path is resolved against the template's folder, so a
//   template can ship a default asset (e.g. "default": "example.zone").
// - The configuration carries "sha256:<hex>" for it instead of the path: the image depends on
//   the asset's content, never on where it sat on the host (so a container build gives the same
//   bytes).
// - The asset's content reaches the appliance as the generated module `./kiln-assets` beside the
//   entry: for a file asset `key`, `export const <key>: string` (its UTF-8 text); for a folder
//   asset, the module `./kiln-assets/<key>` made by the http library's embedder (embed-site.ts).
// - A file asset with "x-kiln-compile": "<compiler>" is compiled at build time instead (the
//   toolchain's asset compilers, e.g. the dns zone): the pipeline puts the result, base64, in
//   the configuration under the asset's key (withCompiledAssets), so it is data, not code, and
//   changing it only relinks the image.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { SettingsSchema, Settings } from '../templates/schema.ts';
import { canonicalJson, hashFile, listTree } from './hash.ts';

export interface AssetInput {
  key: string;
  kind: 'file' | 'folder';
  /** absolute host path */
  path: string;
  /** sha256 over the content (for a folder: every relative path and file hash) */
  sha256: string;
  /** total bytes of content */
  bytes: number;
  files: number;
}

/** A file asset the pipeline compiles with a toolchain's asset compiler. */
export interface CompileRequest {
  key: string;
  compiler: string;
  /** absolute host path */
  path: string;
}

export interface Generated {
  /** the configuration blob, canonical JSON (sorted keys) */
  config: string;
  /** in-memory sources by path relative to the entry's folder */
  extraSources: Record<string, string>;
  assets: AssetInput[];
  /** file assets to compile at build time (not embedded in extraSources) */
  compile: CompileRequest[];
}

/** Makes the embedding module for one folder (kernel/lib/http/embed-site.ts when present). */
export type FolderEmbedder = (folder: string, files: string[]) => string;

export class AssetError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

const SKIP_IN_FOLDERS: ReadonlySet<string> = new Set(['.git']);

/** A folder asset's hash: every relative path and file hash, sorted (the upload store's key too). */
export function hashFolder(path: string): string {
  const h = createHash('sha256');
  for (const rel of listTree(path, { skipDirs: SKIP_IN_FOLDERS }))
    h.update(`${rel}\0${hashFile(join(path, rel))}\n`);
  return h.digest('hex');
}

/** Finds and hashes the assets named by the settings; the message says which one is wrong. */
export function collectAssets(schema: SettingsSchema, settings: Settings, templateDir: string): AssetInput[] {
  const out: AssetInput[] = [];
  for (const [key, prop] of Object.entries(schema.properties)) {
    if (prop.type !== 'string' || !prop['x-kiln-asset']) continue;
    const value = settings[key];
    if (typeof value !== 'string' || value === '') continue;
    const kind = prop['x-kiln-asset'];
    const path = isAbsolute(value) ? value : resolve(templateDir, value);
    if (!existsSync(path)) throw new AssetError(key, `${prop.title}: ${path} does not exist.`);
    const st = statSync(path);
    if (kind === 'file') {
      if (!st.isFile()) throw new AssetError(key, `${prop.title}: ${path} is not a file.`);
      out.push({ key, kind, path, sha256: hashFile(path), bytes: st.size, files: 1 });
    } else {
      if (!st.isDirectory()) throw new AssetError(key, `${prop.title}: ${path} is not a folder.`);
      const files = listTree(path, { skipDirs: SKIP_IN_FOLDERS });
      let bytes = 0;
      for (const rel of files) bytes += statSync(join(path, rel)).size;
      out.push({ key, kind, path, sha256: hashFolder(path), bytes, files: files.length });
    }
  }
  return out;
}

/** An AssemblyScript string literal for any text (escapes everything outside printable ASCII). */
export function asStringLiteral(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\u{${c.toString(16)}}`;
  }
  return `${out}"`;
}

export function generate(
  schema: SettingsSchema,
  settings: Settings,
  templateDir: string,
  embedFolder: FolderEmbedder | null,
): Generated {
  const assets = collectAssets(schema, settings, templateDir);
  const config: Record<string, unknown> = { ...settings };
  const lines = ["// Generated by the Kiln build: the appliance's embedded assets."];
  const extraSources: Record<string, string> = {};
  const compile: CompileRequest[] = [];
  let embedded = 0;
  for (const a of assets) {
    config[a.key] = `sha256:${a.sha256}`;
    const prop = schema.properties[a.key];
    const compiler = prop?.type === 'string' ? prop['x-kiln-compile'] : undefined;
    if (a.kind === 'file' && compiler) {
      compile.push({ key: a.key, compiler, path: a.path });
      continue;
    }
    embedded++;
    if (a.kind === 'file') {
      lines.push(`export const ${a.key}: string = ${asStringLiteral(readFileSync(a.path, 'utf8'))};`);
    } else {
      if (!embedFolder)
        throw new AssetError(a.key, 'Folder assets need kernel/lib/http/embed-site.ts, which is missing.');
      extraSources[`kiln-assets/${a.key}.ts`] = embedFolder(
        a.path,
        listTree(a.path, { skipDirs: SKIP_IN_FOLDERS }),
      );
    }
  }
  if (embedded > 0) extraSources['kiln-assets.ts'] = `${lines.join('\n')}\n`;
  return { config: canonicalJson(config), extraSources, assets, compile };
}

export interface CompiledAsset {
  key: string;
  data: Uint8Array;
  /** settings the data was made from, dropped from the configuration (the data replaces them) */
  consumed: readonly string[];
}

/** The configuration with each compiled asset (base64) under its key. */
export function withCompiledAssets(g: Generated, compiled: CompiledAsset[]): Generated {
  if (compiled.length === 0) return g;
  const config = JSON.parse(g.config) as Record<string, unknown>;
  for (const c of compiled) {
    for (const k of c.consumed) delete config[k];
    config[c.key] = Buffer.from(c.data).toString('base64');
  }
  return { ...g, config: canonicalJson(config) };
}
