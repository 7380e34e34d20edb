// Console rows are split small next to the cap (trimming drops whole rows): the split never
// loses or reorders text and never cuts a surrogate pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitUnits } from './run-repo.ts';

test('splitUnits keeps every character, in order, in pieces of the asked size', () => {
  const text = 'a'.repeat(10) + '😀'.repeat(7) + 'é'.repeat(5);
  for (const units of [1, 2, 3, 7, 64]) {
    const pieces = splitUnits(text, units);
    assert.equal(pieces.join(''), text, `units ${units}`);
    for (const p of pieces) {
      assert.ok(p.length <= Math.max(units, 2), `units ${units}: piece of ${p.length}`);
      assert.ok(!/[\uD800-\uDBFF]$/.test(p) && !/^[\uDC00-\uDFFF]/.test(p), `units ${units}: split pair`);
    }
  }
  assert.deepEqual(splitUnits('short', 64), ['short']);
});
