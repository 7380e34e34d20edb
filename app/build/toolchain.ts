// The compilers the pipeline drives, behind one interface: AssemblyScript with the library OS
// (kernel/lib/build/compile-as.ts), and Kiln's Wasm -> x86-64 compiler and linker
// (kernel/compiler/index.ts). Fingerprints of their sources enter every cache key, so changing
// the library OS or the compiler rebuilds.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { compileAppliance, LIB_DIR } from '../../kernel/lib/build/compile-as.ts';
import type { AscOptions } from '../../kernel/lib/build/asc-options.ts';
import { compileWasm, linkImage } from '../../kernel/compiler/index.ts';
import { embedFolderModule } from '../../kernel/lib/http/embed-site.ts';
import {
  compileZone,
  ZONE_COMPILER_ENTRY,
  ZONE_SETTINGS,
  ZoneSyntaxError,
} from '../../kernel/lib/dns/zone-compiler-host.ts';
import { KilnError } from '../errors.ts';
import { hashFile, hashTree, sha256 } from './hash.ts';
import { checkoutToolchainPaths } from './locations.ts';
import type { BuildDiagnostic } from './types.ts';
import type { FolderEmbedder } from './generate.ts';
import { blobParts, type BlobParts } from './breakdown.ts';

export interface AsOutput {
  wasm: Uint8Array;
  diagnostics: BuildDiagnostic[];
}

export interface NativeOutput {
  /** the compiled appliance blob (ABI.md section 5) */
  blob: Uint8Array;
  /** bytes of machine code inside the blob */
  codeBytes: number;
}

/**
 * Compiles a file asset at build time ("x-kiln-compile" in template.json): an AssemblyScript
 * entry of the library OS (compiled once, cached like appliance Wasm) run under Node.
 */
export interface AssetCompiler {
  /** absolute path of the AssemblyScript entry */
  entry: string;
  asc: AscOptions;
  /** settings the output is made from (dropped from the configuration) */
  consumes: readonly string[];
  /** the compiled data; a bad input throws a KilnError naming the setting */
  run(wasm: Uint8Array, fileText: string, settings: Record<string, unknown>): Uint8Array;
}

export interface Toolchain {
  /** build-time asset compilers by name (template.json "x-kiln-compile") */
  assetCompilers: Record<string, AssetCompiler>;
  libDir: string;
  /** embeds a folder asset as an AssemblyScript module; null when the http library lacks it */
  embedFolder: FolderEmbedder | null;
  /** code, data, metadata and padding bytes of a compiled blob */
  blobParts(blob: Uint8Array): BlobParts;
  compileAs(
    entry: string,
    extraSources: Record<string, string>,
    optimize: boolean,
    asc: AscOptions,
  ): Promise<AsOutput>;
  compileNative(wasm: Uint8Array): Promise<NativeOutput>;
  /** the bootable PVH ELF: the base with the blob and the configuration appended */
  link(base: Uint8Array, blob: Uint8Array, config: Uint8Array): Promise<Uint8Array>;
  /** changes whenever the library OS or asc changes */
  libosFingerprint(): string;
  /** changes whenever Kiln's compiler, linker or runtime changes */
  compilerFingerprint(): string;
}

const SKIP = new Set(['node_modules', 'build', 'fuzz', 'bench', 'spec', 'test', 'tests', 'testdata', 'host']);
const SOURCE = (rel: string): boolean => !rel.endsWith('.test.ts') && !rel.endsWith('.md');

export function repoKernelDir(): string {
  return join(LIB_DIR, '..');
}

/** Where the toolchain's inputs are (app/build/locations.ts decides, checkout or packaged app). */
export interface ToolchainPaths {
  /** kernel/lib: the library OS sources asc compiles against */
  libDir: string;
  /**
   * Files or trees whose content identifies Kiln's compiler, linker and runtime: their sources
   * in a checkout; in a packaged app, the worker bundle that contains them.
   */
  compilerSources: string[];
}

function hashSource(path: string): string {
  return statSync(path).isDirectory()
    ? hashTree(path, { skipDirs: SKIP, include: SOURCE })
    : `${path.split(/[\\/]/).pop()} ${hashFile(path)}`;
}

function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  const path = require.resolve(`${name}/package.json`);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

export function realToolchain(paths: ToolchainPaths = checkoutToolchainPaths()): Toolchain {
  const { libDir } = paths;
  // Fingerprints are recomputed per build (a stat walk; file hashes are memoised by stat), so a
  // long-lived worker notices edits to the library OS or the compiler.
  const dnsZone: AssetCompiler = {
    entry: join(libDir, ZONE_COMPILER_ENTRY),
    asc: { runtime: 'incremental', optimize: 'speed' },
    consumes: ZONE_SETTINGS,
    run(wasm, fileText, settings) {
      try {
        return compileZone(wasm, fileText, settings);
      } catch (err) {
        if (err instanceof ZoneSyntaxError)
          throw new KilnError('invalid_input', `zone error: ${err.message}`, err.setting);
        throw err;
      }
    },
  };
  return {
    libDir,
    assetCompilers: { 'dns-zone': dnsZone },
    embedFolder: embedFolderModule,
    blobParts,
    async compileAs(entry, extraSources, optimize, asc) {
      const r = await compileAppliance({ entry, optimize, extraSources, libDir, asc });
      return { wasm: r.wasm, diagnostics: r.diagnostics };
    },
    async compileNative(wasm) {
      const { blob, stats } = compileWasm(wasm);
      return { blob, codeBytes: stats.codeBytes };
    },
    async link(base, blob, config) {
      // The base reads the configuration right after the blob, its length in the descriptor
      // (kernel/base/runtime_glue.inc); the linker places both.
      return linkImage({ baseElf: base, blob, config });
    },
    libosFingerprint() {
      return sha256(
        `${hashTree(libDir, { skipDirs: SKIP, include: SOURCE })}\nasc ${packageVersion('assemblyscript')}`,
      );
    },
    compilerFingerprint() {
      return sha256(paths.compilerSources.map(hashSource).join('\n'));
    },
  };
}
