// The fuzzer's step and depth budget (fuel.ts): an endless loop and endless recursion stop with
// the same trap in V8 and natively, and a module within the budget behaves as without it
// (returns through the body wrapper, multi-value results, branches to the function label).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getWabt, watToBinary } from '../spec/wat.ts';
import { addFuel, MAX_DEPTH } from './fuel.ts';
import { differential, runInV8 } from './differential.ts';

const WAT = `(module
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (global $n (mut i32) (i32.const 0))
  (func (export "spin") (loop (br 0)))
  (func $deep (export "deep") (global.set $n (i32.add (global.get $n) (i32.const 1))) (call $deep))
  (func (export "depth") (result i32) (global.get $n))
  (func (export "ret") (result i32) (block (br_if 0 (i32.const 0)) (return (i32.const 7))) (i32.const 1))
  (func (export "pair") (result i32 i64) (i32.const 3) (i64.const 4) (br 0))
  (func (export "count") (local $i i32)
    (loop (call $log (local.get $i)) (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get $i) (i32.const 3))))))`;

test('fuel stops endless loops and recursion identically in V8 and natively', async () => {
  const bytes = addFuel(watToBinary(await getWabt(), WAT), 100000);
  const r = differential(bytes);
  if (r.kind === 'mismatch') assert.deepEqual(r.native, r.v8);
  assert.equal(r.kind, 'same');
  assert.deepEqual(runInV8(bytes), [
    'call spin',
    'trap',
    'call deep',
    'trap',
    'call depth',
    `result i32 ${MAX_DEPTH.toString(16).padStart(8, '0')}`, // deep ran MAX_DEPTH frames, then trapped
    'call ret',
    'result i32 00000007',
    'call pair',
    'result i32 00000003',
    'result i64 0000000000000004',
    'call count',
    'log i32 00000000',
    'log i32 00000001',
    'log i32 00000002',
  ]);
});
