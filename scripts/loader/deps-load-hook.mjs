// A module-loader hook placed in front of tsx: ES modules from node_modules are loaded straight
// from disk, as Node itself would. Why: tsx rewrites the dynamic `import()`s of every ES module
// it loads and builds a high-resolution source map for each; on binaryen's 15 MB index.js (pulled
// in by assemblyscript) that costs ~30 s of CPU per process, against ~1.5 s to load it natively.
// Our own sources (TypeScript, outside node_modules) still go through tsx.
import { readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageTypeByDir = new Map();

/** The "type" of the nearest package.json above a file ('commonjs' when none says otherwise). */
function packageType(file) {
  const seen = [];
  let dir = dirname(file);
  let type = 'commonjs';
  for (;;) {
    const known = packageTypeByDir.get(dir);
    if (known !== undefined) {
      type = known;
      break;
    }
    seen.push(dir);
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        type = JSON.parse(readFileSync(manifest, 'utf8')).type === 'module' ? 'module' : 'commonjs';
      } catch {
        type = 'commonjs';
      }
      break;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of seen) packageTypeByDir.set(d, type);
  return type;
}

function isDependencyEsm(url) {
  if (!url.startsWith('file:') || url.includes('?') || url.includes('#')) return false;
  if (!url.includes('/node_modules/')) return false;
  const file = fileURLToPath(url);
  if (file.endsWith('.mjs')) return true;
  return file.endsWith('.js') && packageType(file) === 'module';
}

export async function load(url, context, nextLoad) {
  if (context.format === undefined || context.format === 'module') {
    if (isDependencyEsm(url)) {
      return { format: 'module', source: await readFile(fileURLToPath(url)), shortCircuit: true };
    }
  }
  return nextLoad(url, context);
}
