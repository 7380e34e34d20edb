// Where a build finds its inputs: the templates, the kernel base, the library OS sources, the
// worker that runs the pipeline and what identifies the compiler. The one place that knows the
// two layouts:
//
// - a checkout: resources/templates, kernel/build/kiln-base.elf (make -C kernel), kernel/lib,
//   the TypeScript worker app/build/worker.ts (run through tsx), the compiler's source trees;
// - a packaged Electron app (electron-builder.yml extraResources, beside the asar):
//     <resourcesPath>/resources/templates      templates
//     <resourcesPath>/kernel/kiln-base.elf     the prebuilt kernel base
//     <resourcesPath>/kernel/lib               library OS sources (no tests)
//   and inside the app (<app>/dist/app/build-worker.js, made by scripts/build.mjs) the worker
//   bundle, which contains the compiler and so stands for it in cache keys.
//
// $KILN_BASE_IMAGE overrides the kernel base in both (a base rebuilt in the container builder).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KilnError } from '../errors.ts';
import { repoRoot } from '../paths.ts';
// Types only: the toolchain module loads the compilers, which the engine's thread must not.
import type { ToolchainPaths } from './toolchain.ts';

export interface BuildLocations {
  layout: 'checkout' | 'packaged';
  templatesDir: string;
  /** where the kernel base should be (it may be missing in a checkout before make -C kernel) */
  baseImage: string;
  toolchain: ToolchainPaths;
  workerUrl: URL;
}

/** The worker bundle's path inside the app, as scripts/build.mjs writes it. */
export const WORKER_BUNDLE = join('dist', 'app', 'build-worker.js');

/** The checkout's library OS and the compiler's source trees (found from the checkout root). */
export function checkoutToolchainPaths(root = repoRoot()): ToolchainPaths {
  const kernel = join(root, 'kernel');
  return {
    libDir: join(kernel, 'lib'),
    compilerSources: [join(kernel, 'compiler'), join(kernel, 'runtime'), join(kernel, 'lib', 'build')],
  };
}

export function checkoutLocations(resources = join(repoRoot(), 'resources')): BuildLocations {
  const root = repoRoot();
  return {
    layout: 'checkout',
    templatesDir: join(resources, 'templates'),
    baseImage: process.env.KILN_BASE_IMAGE ?? join(root, 'kernel', 'build', 'kiln-base.elf'),
    toolchain: checkoutToolchainPaths(root),
    workerUrl: new URL('./worker.ts', import.meta.url),
  };
}

/**
 * A packaged app: `resourcesPath` is Electron's process.resourcesPath, `appDir` the app itself
 * (app.getAppPath(), the asar).
 */
export function packagedLocations(resourcesPath: string, appDir: string): BuildLocations {
  const worker = join(appDir, WORKER_BUNDLE);
  return {
    layout: 'packaged',
    templatesDir: join(resourcesPath, 'resources', 'templates'),
    baseImage: process.env.KILN_BASE_IMAGE ?? join(resourcesPath, 'kernel', 'kiln-base.elf'),
    toolchain: { libDir: join(resourcesPath, 'kernel', 'lib'), compilerSources: [worker] },
    workerUrl: pathToFileURL(worker),
  };
}

/** The kernel base, or a message saying how to get one. */
export function requireBaseImage(loc: BuildLocations): string {
  if (existsSync(loc.baseImage)) return loc.baseImage;
  throw new KilnError(
    'unavailable',
    loc.layout === 'checkout'
      ? 'The kernel base (kiln-base.elf) is missing: run `make -C kernel` (or `npm run kernel`).'
      : `The kernel base is missing from the installation (${loc.baseImage}): reinstall Kiln.`,
  );
}
