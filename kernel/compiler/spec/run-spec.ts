// `npm run test:spec [-- <file-substring>...] [--verbose]`: runs the WebAssembly spec suite and
// prints "N passed, N failed, N skipped" per file and in total, plus why things were skipped.

import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runScript, type FileResult } from './runner.ts';

export const SUITE_DIR = resolve(import.meta.dirname, '../../../../shared/wasm-testsuite');

const args = process.argv.slice(2);
const verbose = args.includes('--verbose') || args.includes('-v');
/** --no-exec: only decode/validate assertions (execution ones are reported as not run). */
const execute = !args.includes('--no-exec');
const filters = args.filter((a) => !a.startsWith('-'));

const files = readdirSync(SUITE_DIR)
  .filter((f) => f.endsWith('.wast'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

const total = { passed: 0, failed: 0, skipped: 0, notRun: 0, textOnly: 0 };
const skipReasons = new Map<string, number>();
const skipKinds = new Map<string, number>();
const started = performance.now();
let exitCode = 0;

for (const f of files) {
  let r: FileResult;
  try {
    r = await runScript(join(SUITE_DIR, f), { execute });
  } catch (e) {
    console.log(`${f}: ERROR ${String(e)}`);
    exitCode = 1;
    continue;
  }
  total.passed += r.passed;
  total.failed += r.failed;
  total.skipped += r.skipped;
  total.notRun += r.notRun;
  total.textOnly += r.textOnly;
  for (const [k, v] of r.skips) skipReasons.set(k, (skipReasons.get(k) ?? 0) + v);
  for (const [k, v] of r.skipsByCommand) skipKinds.set(k, (skipKinds.get(k) ?? 0) + v);
  const extra = [
    r.notRun ? `${r.notRun} not run (--no-exec)` : '',
    r.textOnly ? `${r.textOnly} text-format only` : '',
  ]
    .filter(Boolean)
    .join(', ');
  console.log(
    `${f}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${extra ? ` (${extra})` : ''}`,
  );
  const shown = verbose ? r.failures : r.failures.slice(0, 5);
  for (const x of shown) console.log(`  FAIL line ${x.line} ${x.command}: ${x.detail}`);
  if (shown.length < r.failures.length)
    console.log(`  ... ${r.failures.length - shown.length} more (--verbose)`);
}

console.log('');
console.log(`skipped, by reason:`);
for (const [k, v] of [...skipReasons].sort((a, b) => b[1] - a[1])) console.log(`  ${v}  ${k}`);
console.log(
  `skipped, by command: ${[...skipKinds]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
console.log('');
console.log(`total: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
console.log(
  `not counted: ${total.notRun} execution assertions not run${execute ? '' : ' (--no-exec)'}, ` +
    `${total.textOnly} text-format assert_malformed (need a text parser; Kiln reads binary only)`,
);
console.log(`time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (total.failed > 0) exitCode = 1;
process.exitCode = exitCode;
