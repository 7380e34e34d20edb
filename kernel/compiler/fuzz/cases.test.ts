// Replays every saved fuzzer case (kernel/compiler/fuzz/cases/*.wasm): V8 and our native code
// must produce the same trace. Cases are modules that once showed a mismatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { differential } from './differential.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'cases');
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.wasm'))
  .sort();

test('there are saved cases to replay', () => {
  assert.ok(cases.length > 0);
});

for (const name of cases) {
  test(`fuzz case ${name}`, () => {
    const r = differential(new Uint8Array(readFileSync(join(dir, name))));
    if (r.kind === 'mismatch') assert.deepEqual(r.native, r.v8);
    assert.equal(r.kind, 'same');
  });
}
