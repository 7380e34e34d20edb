import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ascOptionsOf, templateAscOptions, DEFAULT_ASC_OPTIONS } from './asc-options.ts';

test('template.json runtime and optimize: defaults, chosen values, and a clear error for others', () => {
  assert.deepEqual(ascOptionsOf({}, 't.json'), DEFAULT_ASC_OPTIONS);
  assert.deepEqual(ascOptionsOf({ runtime: 'minimal', optimize: 'size' }, 't.json'), {
    runtime: 'minimal',
    optimize: 'size',
  });
  assert.throws(
    () => ascOptionsOf({ runtime: 'stub' }, 't.json'),
    /t\.json: "runtime" must be one of incremental, minimal/,
  );
  assert.throws(
    () => ascOptionsOf({ optimize: 3 }, 't.json'),
    /t\.json: "optimize" must be one of speed, size/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'kiln-asc-options-'));
  try {
    assert.deepEqual(templateAscOptions(join(dir, 'main.ts')), DEFAULT_ASC_OPTIONS, 'no template.json');
    writeFileSync(join(dir, 'template.json'), JSON.stringify({ runtime: 'minimal' }));
    assert.deepEqual(templateAscOptions(join(dir, 'main.ts')), { runtime: 'minimal', optimize: 'speed' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
