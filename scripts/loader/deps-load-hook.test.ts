// The loader Kiln runs its TypeScript with: our sources go through tsx, dependencies' ES modules
// load natively (tsx's rewrite of their import() calls is what made asc cost ~30 s per process).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../app/build/testing.ts';

const registerTs = fileURLToPath(new URL('./register-ts.mjs', import.meta.url));

/** A tiny project: a TypeScript entry importing an ES-module dependency and a CommonJS one. */
function fixture(dir: string): string {
  const dep = (name: string, manifest: object, source: string): void => {
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify(manifest));
    writeFileSync(join(dir, 'node_modules', name, 'index.js'), source);
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  dep('esm-dep', { type: 'module' }, 'export function load() { return import("node:os"); }\n');
  dep('cjs-dep', {}, 'exports.answer = 42;\n');
  const entry = join(dir, 'main.ts');
  writeFileSync(
    entry,
    [
      "import { load } from './node_modules/esm-dep/index.js';",
      "import cjs from './node_modules/cjs-dep/index.js';",
      'const answer: number = cjs.answer;',
      'const os = await load();',
      'console.log(JSON.stringify({ source: load.toString(), answer, os: typeof os.cpus }));',
    ].join('\n'),
  );
  return entry;
}

describe('scripts/loader/register-ts.mjs', () => {
  it('runs TypeScript, loads ESM and CommonJS dependencies, and leaves dependency code as written', () => {
    const tmp = tempDir('loader');
    try {
      const entry = fixture(tmp.dir);
      const run = (loader: string): { source: string; answer: number; os: string } =>
        JSON.parse(execFileSync(process.execPath, ['--import', loader, entry], { encoding: 'utf8' })) as {
          source: string;
          answer: number;
          os: string;
        };
      const ours = run(registerTs);
      assert.equal(ours.answer, 42);
      assert.equal(ours.os, 'function');
      assert.equal(ours.source, 'function load() { return import("node:os"); }');
      // The hook is what keeps it so: tsx alone rewrites the dependency's import().
      const plain = run('tsx');
      assert.notEqual(plain.source, ours.source);
      assert.match(plain.source, /import\("node:os"\)\.then\(/);
    } finally {
      tmp.remove();
    }
  });
});
