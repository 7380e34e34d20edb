#!/usr/bin/env node
// Runs every *.test.ts beside the code with Node's own test runner (through tsx).
// Usage: node scripts/test.mjs [--unit|--e2e] [path-substring ...]
//   --unit  only unit/integration tests (*.test.ts but not *.e2e.test.ts)
//   --e2e   only browser end-to-end tests (*.e2e.test.ts)
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = ['app', 'main', 'renderer', 'kernel', 'resources', 'scripts'];
const skipDirs = new Set(['node_modules', 'dist', '.git']);
// Build outputs (gitignored); source folders named build (app/build, kernel/lib/build) have tests.
const skipPaths = new Set([join(root, 'kernel', 'build')]);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const full = join(dir, name);
    if (skipDirs.has(name) || skipPaths.has(full)) continue;
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, full));
  }
}

const args = process.argv.slice(2);
const mode = args.includes('--unit') ? 'unit' : args.includes('--e2e') ? 'e2e' : 'all';
const filters = args.filter((a) => !a.startsWith('--'));
const files = [];
for (const r of roots) walk(join(root, r), files);
const selected = files
  .filter((f) =>
    mode === 'unit' ? !f.endsWith('.e2e.test.ts') : mode === 'e2e' ? f.endsWith('.e2e.test.ts') : true,
  )
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// asc output shared by the tests of this run only (read by app/build/worker.ts: sharedWasm).
const memo = process.env.KILN_TEST_WASM_MEMO ? null : mkdtempSync(join(tmpdir(), 'kiln-test-wasm-'));
const res = spawnSync(
  process.execPath,
  [
    '--import',
    join(root, 'scripts', 'loader', 'register-ts.mjs'),
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=1',
    ...selected,
  ],
  { cwd: root, stdio: 'inherit', env: memo ? { ...process.env, KILN_TEST_WASM_MEMO: memo } : process.env },
);
if (memo) rmSync(memo, { recursive: true, force: true });
process.exit(res.status ?? 1);
