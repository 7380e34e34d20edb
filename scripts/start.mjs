#!/usr/bin/env node
// `npm start`: the desktop app when Electron's binary is installed, otherwise web mode (same
// renderer, same API) with the URL and the reason printed.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

function electronBinary() {
  let dir;
  try {
    dir = join(require.resolve('electron/package.json'), '..');
  } catch {
    return {
      reason: 'the electron package is not installed (it is optional: its binary cannot be downloaded here)',
    };
  }
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile))
    return {
      reason:
        "Electron's binary was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD, or no internet at install time)",
    };
  const bin = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(bin)) return { reason: `Electron's binary is missing at ${bin}` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'no graphical display (DISPLAY / WAYLAND_DISPLAY unset)' };
  }
  return { bin };
}

const build = spawn(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
build.on('exit', (code) => {
  if (code !== 0) process.exit(code ?? 1);
  const e = electronBinary();
  const args = e.bin ? [root] : [join(root, 'bin/kiln.js'), 'serve', ...process.argv.slice(2)];
  if (!e.bin) console.log(`Starting web mode instead of the desktop window: ${e.reason}.`);
  const child = spawn(e.bin ?? process.execPath, args, { stdio: 'inherit' });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (c) => process.exit(c ?? 0));
});
