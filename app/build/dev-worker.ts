// In a checkout the worker's entry is TypeScript. Loading it through tsx inside the thread
// transpiles the whole import graph (compiler, library-OS build, pipeline) on every start, which
// measured 10-25x slower than loading one prebuilt file (bench: first build of a fresh worker).
// So the checkout's worker is bundled with esbuild first, like scripts/build.mjs does for the
// packaged app, from the current sources each time (never stale), into dist/worker-cache/ keyed
// by the bundle's content (bare imports resolve from the checkout's node_modules above it).

import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { repoRoot } from '../paths.ts';
import { writeFileAtomic } from './atomic.ts';
import { sha256 } from './hash.ts';

export async function bundleDevWorker(entry: URL): Promise<URL> {
  const { build } = await import('esbuild');
  const root = repoRoot();
  const out = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    write: false,
    sourcemap: 'inline',
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const code = out.outputFiles[0]!.contents;
  const file = join(root, 'dist', 'worker-cache', `build-worker-${sha256(code).slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    writeFileAtomic(file, code);
    sweepOld(dirname(file), file);
  }
  return pathToFileURL(file);
}

/** Bundles of older sources: a worker reads its file once at start, so an hour is plenty. */
function sweepOld(dir: string, keep: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      if (
        path !== keep &&
        name.startsWith('build-worker-') &&
        Date.now() - statSync(path).mtimeMs > 3_600_000
      )
        rmSync(path, { force: true });
    } catch {
      // another process swept it first
    }
  }
}
