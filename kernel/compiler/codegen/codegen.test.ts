// Code generator tests: hand-written modules that stress what the spec suite reaches less
// (br_table, multi-value blocks and calls, register pressure and spills, call_indirect, traps
// in the middle of work), each run by V8 and as our native code; the traces must be equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import wabtInit from 'wabt';
import { differential } from '../fuzz/differential.ts';

const wabt = await wabtInit();
function wasm(text: string): Uint8Array {
  const m = wabt.parseWat('t.wat', text, {
    multi_value: true,
    bulk_memory: true,
    sign_extension: true,
    sat_float_to_int: true,
  });
  try {
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

const LOG = `
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (import "fuzzing-support" "log-i64" (func $log64 (param i64)))
  (import "fuzzing-support" "log-f64" (func $logf (param f64)))`;

function same(text: string): void {
  const r = differential(wasm(`(module ${LOG} ${text}`)); // each text closes the module
  if (r.kind === 'mismatch') assert.deepEqual(r.native, r.v8);
  assert.equal(r.kind, 'same');
}

test('br_table with values, defaults and the function label', () => {
  same(`
  (func $sw (param i32) (result i32)
    (block $d (result i32)
      (block $c (result i32)
        (block $b (result i32)
          (block $a (result i32)
            (i32.const 100) (local.get 0)
            (br_table $a $b $c 3 $d))
          (i32.const 1) (i32.add) (return))
        (i32.const 2) (i32.mul))
      (i32.const 3) (i32.sub))
    (i32.const 7) (i32.xor))
  (func (export "main")
    (local i32)
    (loop $l
      (call $log (call $sw (local.get 0)))
      (br_if $l (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (i32.const 8)))))
  (func (export "empty") (result i32)
    (block $x (result i32) (i32.const 5) (i32.const 0) (br_table $x))))`);
});

test('multi-value blocks, loops with params and multi-result calls', () => {
  same(`
  (func $divmod (param i64 i64) (result i64 i64)
    (i64.div_u (local.get 0) (local.get 1)) (i64.rem_u (local.get 0) (local.get 1)))
  (func $swap (param i32 f64) (result f64 i32) (local.get 1) (local.get 0))
  (func (export "main") (result i32 i64)
    (local $i i32) (local $acc i64)
    (call $divmod (i64.const 1000000007) (i64.const 97))
    (call $log64) (call $log64)
    (call $swap (i32.const -5) (f64.const 2.5))
    (call $log) (call $logf)
    (i32.const 0) (i64.const 1)
    (loop $l (param i32 i64) (result i32 i64)
      (local.set $acc)
      (local.set $i)
      (local.set $acc (i64.mul (local.get $acc) (i64.const 3)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.get $i) (local.get $acc)
      (br_if $l (i32.lt_u (local.get $i) (i32.const 20))))
    (block (param i32 i64) (result i32 i64) (i64.const 11) (i64.add))
    (if (param i32 i64) (result i32 i64) (i32.const 1) (then (i64.const 2) (i64.shl)) (else (i64.const 5) (i64.shr_u)))))`);
});

test('register pressure: more live values than registers', () => {
  const n = 40;
  const consts = Array.from(
    { length: n },
    (_, i) => `(i64.mul (local.get 0) (i64.const ${i * 7919 + 3}))`,
  ).join(' ');
  const adds = Array.from({ length: n - 1 }, () => '(i64.xor)').join(' ');
  const fconsts = Array.from({ length: 24 }, (_, i) => `(f64.mul (local.get 1) (f64.const ${i + 0.5}))`).join(
    ' ',
  );
  const fadds = Array.from({ length: 23 }, () => '(f64.add)').join(' ');
  same(`
  (func $g (param i64 f64) (result i64 f64) ${consts} ${adds} ${fconsts} ${fadds})
  (func (export "main") (result i64 f64)
    (call $g (i64.const 0x123456789) (f64.const 1.25))))`);
});

test('call_indirect: type checks, null entries, out of range', () => {
  same(`
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (table 4 funcref)
  (elem (i32.const 0) $inc $dbl $nop)
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $ii) (i32.shl (local.get 0) (i32.const 1)))
  (func $nop (type $v))
  (func $call (param i32 i32) (result i32) (call_indirect (type $ii) (local.get 1) (local.get 0)))
  (func (export "ok") (result i32) (call $call (i32.const 1) (call $call (i32.const 0) (i32.const 20))))
  (func (export "mismatch") (result i32) (call $call (i32.const 2) (i32.const 1)))
  (func (export "null") (result i32) (call $call (i32.const 3) (i32.const 1)))
  (func (export "range") (result i32) (call $call (i32.const 4) (i32.const 1))))`);
});

test('memory: bounds at the edge, grow, bulk operations, sign extension', () => {
  same(`
  (memory 1 3)
  (data (i32.const 65530) "\\01\\02\\03\\04\\05\\06")
  (func (export "edge") (result i32) (i32.load (i32.const 65532)))
  (func (export "edge16s") (result i64) (i64.load16_s (i32.const 65534)))
  (func (export "past") (result i32) (i32.load (i32.const 65533)))
  (func (export "offset") (result i32) (local i32) (local.set 0 (i32.const 65530)) (i32.load8_u offset=5 (local.get 0)))
  (func (export "grow") (result i32)
    (call $log (memory.grow (i32.const 1)))
    (i32.store (i32.const 70000) (i32.const -1))
    (call $log (i32.load (i32.const 70000)))
    (call $log (memory.grow (i32.const 5)))
    (memory.size))
  (func (export "bulk") (result i32)
    (memory.fill (i32.const 100) (i32.const 0xab) (i32.const 10))
    (memory.copy (i32.const 103) (i32.const 100) (i32.const 7))
    (call $log64 (i64.load (i32.const 100)))
    (memory.fill (i32.const 65530) (i32.const 0) (i32.const 100))
    (i32.const 0))
  (func (export "ext") (result i64)
    (i64.extend8_s (i64.const 0x80))
    (i64.extend32_s (i64.const 0x80000000)) (i64.add)))`);
});

test('arithmetic traps and conversions in the middle of work', () => {
  same(`
  (global $g (mut i32) (i32.const 7))
  (func (export "div") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (call $log (global.get $g))
    (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "rem") (result i32) (i32.rem_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "divu") (result i64) (i64.div_u (i64.const -1) (global.get $g) (i64.extend_i32_u)))
  (func (export "trunc") (result i32) (i32.trunc_f64_u (f64.const 4294967295.9)))
  (func (export "trunc_over") (result i32) (i32.trunc_f64_u (f64.const 4294967296)))
  (func (export "sat") (result i64) (i64.trunc_sat_f64_u (f64.const 1e30)))
  (func (export "u64") (result f64) (f64.convert_i64_u (i64.const -1)))
  (func (export "round") (result f64) (f64.add (f64.nearest (f64.const 2.5)) (f64.floor (f64.const -0.5))))
  (func (export "clz") (result i32) (i32.add (i32.clz (i32.const 0)) (i32.popcnt (i32.const -1)))))`);
});

test('locals pinned in registers and read lazily keep the value they had when read', () => {
  same(`
  (func $f (param i32) (result i32) (local i32 i32 f64)
    (loop $l
      (local.get 0)
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (local.set 1 (i32.add (local.get 1)))
      (local.get 2) (local.get 1) (local.set 2) (local.set 1)
      (local.set 3 (f64.add (local.get 3) (f64.convert_i32_u (local.get 0))))
      (local.get 3) (local.tee 3 (f64.mul (local.get 3) (f64.const 0.5))) (f64.sub) (call $logf)
      (local.set 0 (local.tee 0 (local.get 0)))
      (br_if $l (i32.lt_u (local.get 0) (i32.const 10))))
    (call $log (local.get 0))
    (i32.add (local.get 1) (i32.mul (local.get 2) (i32.const 1000))))
  (func (export "main") (result i32) (call $f (i32.const 3))))`);
});

test('in-place updates of pinned locals, preserved registers across calls, immediate stores', () => {
  same(`
  (memory 1)
  (func $g (param i32) (result i32) (local i32 i32 i32)
    (local.set 1 (i32.mul (local.get 0) (i32.const 7)))
    (local.set 2 (i32.shl (local.get 1) (i32.const 3)))
    (local.set 3 (i32.sub (local.get 2) (local.get 0)))
    (i32.add (local.get 3) (local.get 1)))
  (func $f (param i32) (result i32) (local i32 i32 i64 i32 i32 i32 i32 i32)
    (local.set 1 (i32.const 5))
    (loop $l
      (local.set 1 (i32.add (local.get 1) (local.get 1)))
      (local.set 2 (i32.xor (local.get 2) (call $g (local.get 1))))
      (local.set 3 (i64.mul (local.get 3) (i64.const 3)))
      (local.set 3 (i64.add (local.get 3) (i64.extend_i32_s (local.get 2))))
      (local.set 4 (i32.shr_u (local.tee 4 (i32.add (local.get 4) (i32.const -1))) (i32.const 1)))
      (local.get 5) (local.set 5 (i32.sub (local.get 5) (i32.const -2147483648))) (call $log)
      (i32.store8 (local.get 0) (i32.const 0x1ff))
      (i32.store16 offset=2 (local.get 0) (i32.const -2))
      (i64.store offset=8 (local.get 0) (i64.const -5))
      (i64.store offset=16 (local.get 0) (i64.const 0x123456789))
      (call $log64 (i64.load (local.get 0)))
      (call $log64 (i64.load offset=16 (local.get 0)))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 0) (i32.const 20))))
    (call $log64 (local.get 3))
    (call $log (local.get 4))
    (i32.add (local.get 1) (local.get 2)))
  (func (export "main") (result i32) (call $f (i32.const 3))))`);
});

test('rotated loops: the back edge re-tests the condition, traps in it, and exits where the if ends', () => {
  same(`
  (memory 1)
  (func $sum (param i32) (result i32) (local i32 i32)
    (loop $l
      (if (i32.lt_s (local.get 1) (local.get 0))
        (then
          (local.set 2 (i32.add (local.get 2) (local.get 1)))
          (local.set 1 (i32.add (local.get 1) (i32.const 1)))
          (br $l))))
    (local.get 2))
  (func $flag (param i32) (result i32) (local i32)
    ;; condition without a comparison, work after the if inside the loop, an else branch
    (i32.store (i32.const 0) (local.get 0))
    (loop $l
      (if (i32.load (i32.const 0))
        (then
          (i32.store (i32.const 0) (i32.sub (i32.load (i32.const 0)) (i32.const 1)))
          (local.set 1 (i32.add (local.get 1) (i32.const 3)))
          (br $l))
        (else (local.set 1 (i32.mul (local.get 1) (i32.const 2)))))
      (local.set 1 (i32.add (local.get 1) (i32.const 1000))))
    (local.get 1))
  (func $walk (param i32) (result i32) (local i32)
    ;; the re-test loads past the end of memory: it must trap there
    (loop $l
      (if (i32.load8_u (local.get 0))
        (then
          (local.set 1 (i32.add (local.get 1) (i32.const 1)))
          (local.set 0 (i32.add (local.get 0) (i32.const 4096)))
          (br $l))))
    (local.get 1))
  (func (export "main") (result i32)
    (call $log (call $sum (i32.const 10)))
    (call $log (call $sum (i32.const 0)))
    (call $log (call $flag (i32.const 4)))
    (memory.fill (i32.const 0) (i32.const 1) (i32.const 65536))
    (call $walk (i32.const 0))))`);
});

test('operand swaps keep spilled operands in their own slots (x spilled by a call, b a pinned local)', () => {
  // Commutative operators and compares put the pinned local or the constant on one side; a
  // spilled operand on the other side must still be read from its own stack slot.
  same(`
  (func $g (result i32) (i32.const 1000))
  (func $h)
  (func (export "main")
    (local i32 i32 i64)
    (local.set 0 (i32.const 5))
    (local.set 1 (i32.const 40))
    (local.set 2 (i64.const 9))
    ;; x = 5 + 1 in a register, spilled by the call; then x + local 1 stored back into local 1
    (i32.add (local.get 0) (i32.const 1))
    (call $h)
    (local.get 1) (i32.add) (local.set 1)
    (call $log (local.get 1))
    (i32.mul (local.get 0) (i32.const 3))
    (call $h)
    (local.get 1) (i32.mul) (local.set 1)
    (call $log (local.get 1))
    (i32.xor (call $g) (local.get 0))
    (call $h)
    (local.get 1) (i32.and) (call $log)
    (i64.add (local.get 2) (i64.const 7))
    (call $h)
    (local.get 2) (i64.or) (local.set 2)
    (call $log64 (local.get 2))
    ;; compare with a constant on the left and a spilled value on the right
    (i32.const 100)
    (i32.add (local.get 0) (i32.const 60))
    (call $h)
    (i32.lt_u) (call $log)
    (i32.const 3)
    (i32.mul (local.get 0) (i32.const 7))
    (call $h)
    (i32.mul) (call $log)))`);
});

test('shift-and-add fuses into one lea: wraps like i32, masks the count, keeps every operand kind', () => {
  // y << k (k 1..3 after masking) followed by const+add or by add fuses; the results are widened
  // with i64.extend_i32_u so a 64-bit computation (no wrap, high bits left) would show.
  same(`
  (memory 1)
  (func $h)
  (func $c (param i32) (result i32) (local.get 0))
  (func $w (param i32) (call $log64 (i64.extend_i32_u (local.get 0))))
  (func $run (param $y i32) (param $x i32) (param $Y i64)
    (call $w (i32.add (i32.shl (local.get $y) (i32.const 2)) (i32.const 0x4f0)))
    (call $w (i32.add (i32.shl (local.get $y) (i32.const 3)) (i32.const -8)))
    (call $w (i32.add (i32.shl (local.get $y) (i32.const 33)) (i32.const 0x7fffffff)))
    (call $w (i32.add (i32.shl (local.get $y) (i32.const 4)) (i32.const 1)))
    (call $w (i32.add (i32.shl (local.get $y) (i32.const 0)) (i32.const 1)))
    (call $w (i32.add (local.get $x) (i32.shl (local.get $y) (i32.const 1))))
    (call $w (i32.add (i32.const -4) (i32.shl (local.get $y) (i32.const 2))))
    ;; operands in registers, spilled by a call, constants
    (call $w (i32.add (i32.add (local.get $x) (i32.const 1)) (i32.shl (i32.mul (local.get $y) (i32.const 3)) (i32.const 3))))
    (i32.add (local.get $x) (i32.const 7))
    (call $h)
    (i32.shl (call $c (local.get $y)) (i32.const 2))
    (i32.add) (call $w)
    (i32.shl (call $c (local.get $y)) (i32.const 1))
    (call $h)
    (i32.const 12) (i32.add) (call $w)
    ;; the shift result also feeds something else than an add (no fusion)
    (call $w (i32.sub (i32.shl (local.get $y) (i32.const 2)) (i32.const 3)))
    ;; i64: constants in and out of the 32-bit displacement range
    (call $log64 (i64.add (i64.shl (local.get $Y) (i64.const 3)) (i64.const -16)))
    (call $log64 (i64.add (i64.shl (local.get $Y) (i64.const 2)) (i64.const 0x80000000)))
    (call $log64 (i64.add (i64.shl (local.get $Y) (i64.const 65)) (i64.const 0x7fffffff)))
    (call $log64 (i64.add (i64.const 0x123456789) (i64.shl (local.get $Y) (i64.const 1))))
    (call $log64 (i64.add (i64.extend_i32_u (local.get $x)) (i64.shl (local.get $Y) (i64.const 2))))
    ;; as addresses: p + (i << 2), loads and stores through them
    (i32.store (i32.add (i32.const 64) (i32.shl (i32.and (local.get $y) (i32.const 255)) (i32.const 2))) (local.get $x))
    (call $w (i32.load (i32.add (i32.shl (i32.and (local.get $y) (i32.const 255)) (i32.const 2)) (i32.const 64)))))
  (func $addr (param $y i32) (param $x i32)
    ;; addresses that wrap modulo 2^32 into bounds: a 64-bit sum would fail the bounds check
    (i32.store (i32.const 0x10) (i32.const 0x11223344))
    (i32.store (i32.const 0x20) (i32.const 0x55667788))
    (call $w (i32.load (i32.add (local.get $x) (i32.shl (local.get $y) (i32.const 2)))))
    (call $w (i32.load (i32.add (i32.shl (local.get $y) (i32.const 3)) (i32.const 0x20))))
    (call $w (i32.load8_u (i32.add (i32.add (local.get $x) (i32.const 1)) (i32.shl (i32.shl (local.get $y) (i32.const 1)) (i32.const 1))))))
  (func (export "main")
    (call $addr (i32.const 0x40000000) (i32.const 0x10))
    (call $addr (i32.const 0xc0000000) (i32.const 0x20))
    (call $addr (i32.const 0x80000000) (i32.const 0x10))
    (call $run (i32.const 0) (i32.const 0) (i64.const 0))
    (call $run (i32.const 5) (i32.const 100) (i64.const 5))
    (call $run (i32.const 0x7fffffff) (i32.const -1) (i64.const 0x7fffffffffffffff))
    (call $run (i32.const -1) (i32.const 0x80000000) (i64.const -1))
    (call $run (i32.const 0x40000001) (i32.const 3) (i64.const 0x4000000000000001))))`);
});

test('comparisons with zero (test instead of cmp) under every condition, fused and materialised', () => {
  const conds = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
  const body = (t: string): string =>
    conds
      .map(
        (c) => `
    (call $log (${t}.${c} (local.get 0) (${t}.const 0)))
    (call $log (${t}.${c} (${t}.const 0) (local.get 0)))
    (block $b (br_if $b (${t}.${c} (local.get 0) (${t}.const 0))) (call $log (i32.const ${conds.indexOf(c)})))
    (if (${t}.${c} (${t}.const 0) (local.get 0)) (then (call $log (i32.const 100))))`,
      )
      .join('');
  same(`
  (func $t32 (param i32) ${body('i32')})
  (func $t64 (param i64) ${body('i64')})
  (func (export "main")
    (call $t32 (i32.const 0)) (call $t32 (i32.const 1)) (call $t32 (i32.const -1))
    (call $t32 (i32.const 0x80000000))
    (call $t64 (i64.const 0)) (call $t64 (i64.const 1)) (call $t64 (i64.const -1))
    (call $t64 (i64.const 0x100000000)) (call $t64 (i64.const 0x8000000000000000))))`);
});

test('single-result blocks deliver their value in a register: br_if keeps the fallthrough, every value kind', () => {
  // The result goes to rax/xmm0 on the branch's path only: a value the fallthrough still needs
  // may sit there (v1 below is allocated first, so in rax / xmm0).
  same(`
  (func $h)
  (func $g (result i32) (i32.const 77))
  (func $brif (param i32 i32 i32) (result i32)
    (block $b (result i32)
      (i32.mul (local.get 0) (i32.const 3))
      (i32.add (local.get 1) (i32.const 5))
      (br_if $b (local.get 2))
      (drop)
      (i32.const 100) (i32.add)))
  (func $brif_f (param f64 f64 i32) (result f64)
    (block $b (result f64)
      (f64.mul (local.get 0) (f64.const 3))
      (f64.add (local.get 1) (f64.const 5))
      (br_if $b (local.get 2))
      (drop)
      (f64.const 100) (f64.add)))
  (func $kinds (param i32) (result i32) (local i32)
    (local.set 1 (i32.const 9))
    ;; the branched value: a constant, a pinned local, a value spilled by a call, a call result
    (i32.add
      (block $b (result i32)
        (br_if $b (i32.const 11) (i32.eq (local.get 0) (i32.const 0)))
        (drop)
        (br_if $b (local.get 1) (i32.eq (local.get 0) (i32.const 1)))
        (drop)
        (i32.add (local.get 0) (i32.const 1000))
        (call $h)
        (br_if $b (i32.eq (local.get 0) (i32.const 2)))
        (drop)
        (br_if $b (call $g) (i32.eq (local.get 0) (i32.const 3)))
        (drop)
        (i32.const 5))
      (local.get 0)))
  (func $nest (param i32) (result i64)
    (block $o (result i64)
      (i64.const 1)
      (block $i
        (i64.extend_i32_u (local.get 0))
        (i64.const 40) (i64.shl)
        (br_if $o (i32.gt_u (local.get 0) (i32.const 5)))
        (drop)
        (br_if $i (i32.eq (local.get 0) (i32.const 2)))
        (br $o (i64.const -7)))
      (i64.const 3) (i64.add)))
  (func $ifelse (param i32) (result i32)
    (i32.mul
      (if (result i32) (local.get 0)
        (then (i32.add (local.get 0) (i32.const 2)))
        (else (i32.const 50)))
      (if (result i32) (i32.lt_s (local.get 0) (i32.const 3))
        (then (call $g))
        (else (block (result i32) (br_table 0 0 0 (i32.const 8) (local.get 0))))))
    ;; the block value survives a call and another block's entry
    (block (result i32) (i32.const 4))
    (call $h)
    (block (result i32) (i32.const 6))
    (i32.sub) (i32.add))
  (func $table (param i32) (result i32)
    (block $a (result i32)
      (block $b (result i32)
        (block $c (result i32)
          (i32.const 21) (i32.add (local.get 0) (i32.const 30))
          (br_table $a $b $c (local.get 0)))
        (i32.const 1) (i32.add) (return))
      (i32.const 2) (i32.mul)))
  (func $dead (param i32) (result i32)
    (block $b (result i32)
      (if (local.get 0) (then (br $b (i32.const 12))))
      (br $b (i32.const 13))))
  (func (export "main") (local i32)
    (call $log (call $brif (i32.const 2) (i32.const 3) (i32.const 0)))
    (call $log (call $brif (i32.const 2) (i32.const 3) (i32.const 1)))
    (call $logf (call $brif_f (f64.const 2) (f64.const 3) (i32.const 0)))
    (call $logf (call $brif_f (f64.const 2) (f64.const 3) (i32.const 1)))
    (loop $l
      (call $log (call $kinds (local.get 0)))
      (call $log64 (call $nest (local.get 0)))
      (call $log (call $ifelse (local.get 0)))
      (call $log (call $table (local.get 0)))
      (call $log (call $dead (local.get 0)))
      (br_if $l (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (i32.const 8))))))`);
});

test('commutative ops of a pinned local and a register value compute into the register, never the local', () => {
  const ops = ['add', 'and', 'or', 'xor', 'mul'];
  const body = (t: string): string =>
    ops
      .map(
        (o) => `
    (local.set 1 (${t}.${o} (local.get 0) (${t}.add (local.get 2) (${t}.const 3))))
    (call $l (local.get 0)) (call $l (local.get 1))
    (local.get 0)
    (${t}.${o} (local.get 0) (${t}.mul (local.get 2) (local.get 2)))
    (local.set 0)
    (call $l) (call $l (local.get 0))
    (call $l (${t}.${o} (local.get 2) (local.tee 1 (${t}.sub (local.get 0) (local.get 2)))))
    (call $l (local.get 1)) (call $l (local.get 2))`,
      )
      .join('');
  same(`
  (func $l (param i64) (call $log64 (local.get 0)))
  (func $l32 (param i32) (call $log (local.get 0)))
  (func $t64 (param i64 i64 i64) ${body('i64')})
  (func $t32 (param i32 i32 i32) ${body('i32').replace(/\$l\b/g, '$l32')})
  (func (export "main")
    (call $t32 (i32.const 0x12345) (i32.const 0) (i32.const -7))
    (call $t64 (i64.const 0x123456789) (i64.const 0) (i64.const -7))))`);
});

test('and of two comparisons branches twice (br_if, if with a result, rotated loop re-test), B only when A holds', () => {
  same(`
  (func $h)
  (func $f (param $a i32) (param $b i32) (param $L i64) (result i32) (local $n i32) (local $s i32)
    ;; br_if: both orders of constant and local, zero (test), i64
    (block $x
      (br_if $x (i32.and (i32.lt_s (local.get $a) (local.get $b)) (i32.ge_s (local.get $a) (i32.const 0))))
      (local.set $s (i32.add (local.get $s) (i32.const 1))))
    (block $x
      (br_if $x (i32.and (i32.ne (local.get $a) (i32.const 3)) (i32.gt_u (i32.const 5) (local.get $b))))
      (local.set $s (i32.add (local.get $s) (i32.const 10))))
    (block $x
      (br_if $x (i32.and (i64.lt_s (local.get $L) (i64.const 100)) (i64.ne (i64.const 0) (local.get $L))))
      (local.set $s (i32.add (local.get $s) (i32.const 100))))
    ;; br_if with a value to a single-result block
    (local.set $s (i32.add (local.get $s)
      (block $v (result i32)
        (br_if $v (i32.const 1000) (i32.and (i32.le_u (local.get $b) (local.get $a)) (i32.eq (local.get $b) (i32.const 2))))
        (drop) (i32.const 2000))))
    ;; if with a result and an else
    (local.set $s (i32.add (local.get $s)
      (if (result i32) (i32.and (i32.gt_s (local.get $a) (i32.const -5)) (i32.lt_u (local.get $b) (local.get $a)))
        (then (i32.const 10000)) (else (i32.const 20000)))))
    ;; a rotated loop whose test is an and of comparisons (the shape of dns's loops)
    (local.set $n (i32.const 0))
    (loop $l
      (if (i32.and (i32.lt_s (local.get $n) (local.get $b)) (i32.ge_s (local.get $a) (i32.const 0)))
        (then
          (local.set $a (i32.sub (local.get $a) (i32.const 2)))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (call $h)
          (br $l))))
    (i32.add (local.get $s) (i32.mul (local.get $n) (i32.const 1000000))))
  (func (export "main") (local $i i32) (local $j i32)
    (loop $l
      (local.set $j (i32.const 0))
      (loop $m
        (call $log (call $f (i32.sub (local.get $i) (i32.const 2)) (local.get $j)
          (i64.sub (i64.shl (i64.extend_i32_u (local.get $j)) (i64.const 5)) (i64.const 20))))
        (br_if $m (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 7))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 9))))))`);
});

test('bounds checks against the per-width limits: last byte in, first byte out, after grow, empty memory', () => {
  // offset + size <= 8 compares the address with memSize - (offset + size) (signed); larger sums
  // take the lea path. Each case is an export of its own (a trap ends only that export).
  const ops: [string, number, string][] = [
    ['i32.load16_u', 2, 'i32'],
    ['i32.load', 4, 'i32'],
    ['i64.load', 8, 'i64'],
    ['f32.load', 4, 'f32'],
    ['i32.store16', 2, 'i32'],
    ['i32.store', 4, 'i32'],
    ['i64.store', 8, 'i64'],
  ];
  const funcs: string[] = [];
  const exportsAt = (pages: number, tag: string): string[] => {
    const out: string[] = [];
    for (const [op, size, t] of ops)
      for (const offset of new Set([0, 1, 8 - size, 9 - size, 12])) {
        const name = `$${op}_${offset}`.replace('.', '_');
        if (!funcs.some((f) => f.includes(`(func ${name} `)))
          funcs.push(
            op.includes('store')
              ? `(func ${name} (param i32) (result i32) (${op} offset=${offset} (local.get 0) (${t}.const 7)) (i32.const 1))`
              : `(func ${name} (param i32) (result ${t}) (${op} offset=${offset} (local.get 0)))`,
          );
        const last = pages * 65536 - offset - size;
        for (const [k, addr] of [
          ['in', last],
          ['out', last + 1],
          ['far', 0xffffffff - offset],
        ] as const)
          out.push(
            `(func (export "${tag}_${op}_${offset}_${k}") (call ${name} (i32.const ${addr >>> 0})) (drop))`,
          );
      }
    return out;
  };
  const one = exportsAt(1, 'p1');
  const two = exportsAt(2, 'p2');
  same(`
  (memory 1 4)
  ${funcs.join('\n  ')}
  ${one.join('\n  ')}
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  ${two.join('\n  ')})`);
  same(`
  (memory 0 2)
  (func $ld (param i32) (result i32) (i32.load16_u (local.get 0)))
  (func $st (param i32) (i64.store offset=4 (local.get 0) (i64.const -1)))
  (func (export "empty_ld") (result i32) (call $ld (i32.const 0)))
  (func (export "empty_st") (call $st (i32.const 0)))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  (func (export "ld") (result i32) (call $ld (i32.const 65534)))
  (func (export "st") (call $st (i32.const 65524)))
  (func (export "st_out") (call $st (i32.const 65525))))`);
});

test('i32.wrap_i64 then const+add is one 32-bit lea: the sum wraps, high bits never leak', () => {
  same(`
  (memory 1)
  (func $h)
  (func $w (param $j i64) (param $k i64)
    (call $log64 (i64.extend_i32_u (i32.add (i32.wrap_i64 (local.get $j)) (i32.const 0x4f0))))
    (call $log64 (i64.extend_i32_u (i32.add (i32.wrap_i64 (local.get $j)) (i32.const -1))))
    (call $log64 (i64.extend_i32_u (i32.add (i32.wrap_i64 (i64.mul (local.get $j) (local.get $k))) (i32.const 0x7fffffff))))
    (i32.wrap_i64 (local.get $k))
    (call $h)
    (call $log64 (i64.extend_i32_u (i32.add (i32.const 3))))
    ;; as an address: a 64-bit sum would fail the bounds check
    (i32.store8 (i32.add (i32.wrap_i64 (local.get $j)) (i32.const 0x10)) (i32.const 0x5a))
    (call $log (i32.load8_u (i32.add (i32.wrap_i64 (local.get $j)) (i32.const 0x10))))
    (call $log (i32.load (i32.add (i32.wrap_i64 (local.get $k)) (i32.const 8)))))
  (func (export "main")
    (call $w (i64.const 0) (i64.const 0))
    (call $w (i64.const 0x100000000) (i64.const 0xfffffffffffffff8))
    (call $w (i64.const 0xffffffff00000020) (i64.const 0x7fffffff00000010))
    (call $w (i64.const -1) (i64.const 0x1fffffff8))))`);
});
