#!/usr/bin/env node
// Builds everything the app runs from: the renderer (Vite), the engine's CLI bundle, the build
// worker bundle (the packaged app's BundledBuilder loads it: app/build/locations.ts), and the
// Electron main + preload bundles (esbuild). Packages stay external: they come from node_modules
// (electron-builder copies the production ones into the app).
//   node scripts/build.mjs [renderer|app|worker [OUTFILE]]
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv[2];

if (!only || only === 'renderer') {
  execFileSync(
    process.execPath,
    [
      `${root}/node_modules/vite/bin/vite.js`,
      'build',
      '--config',
      'renderer/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

if (!only || only === 'app' || only === 'worker') {
  await build({
    ...common,
    entryPoints: ['app/build/worker.ts'],
    outfile: (only === 'worker' && process.argv[3]) || 'dist/app/build-worker.js',
    format: 'esm',
  });
}

if (!only || only === 'app') {
  await build({ ...common, entryPoints: ['app/cli/main.ts'], outfile: 'dist/app/cli.js', format: 'esm' });
  await build({ ...common, entryPoints: ['main/main.ts'], outfile: 'dist/main/main.js', format: 'esm' });
  // A sandboxed preload must be CommonJS.
  await build({
    ...common,
    entryPoints: ['main/preload.ts'],
    outfile: 'dist/main/preload.cjs',
    format: 'cjs',
  });
}
console.log('built dist/');
