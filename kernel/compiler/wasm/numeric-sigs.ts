// Operand and result types of the operators that only move numbers (no immediates), as a
// table indexed by opcode: the validator checks them all with the same three lines.

import { Op } from './types.ts';

const I32 = 0x7f;
const I64 = 0x7e;
const F32 = 0x7d;
const F64 = 0x7c;

/** For opcode op: sigIn1[op], sigIn2[op] (0 = no second operand), sigOut[op]. 0 in sigIn1 = not numeric. */
export const sigIn1 = new Uint8Array(256);
export const sigIn2 = new Uint8Array(256);
export const sigOut = new Uint8Array(256);

function set(from: number, to: number, a: number, b: number, r: number): void {
  for (let op = from; op <= to; op++) {
    sigIn1[op] = a;
    sigIn2[op] = b;
    sigOut[op] = r;
  }
}

set(Op.i32_eqz, Op.i32_eqz, I32, 0, I32);
set(Op.i32_eq, Op.i32_ge_u, I32, I32, I32);
set(Op.i64_eqz, Op.i64_eqz, I64, 0, I32);
set(Op.i64_eq, Op.i64_ge_u, I64, I64, I32);
set(Op.f32_eq, Op.f32_ge, F32, F32, I32);
set(Op.f64_eq, Op.f64_ge, F64, F64, I32);
set(Op.i32_clz, Op.i32_popcnt, I32, 0, I32);
set(Op.i32_add, Op.i32_rotr, I32, I32, I32);
set(Op.i64_clz, Op.i64_popcnt, I64, 0, I64);
set(Op.i64_add, Op.i64_rotr, I64, I64, I64);
set(Op.f32_abs, Op.f32_sqrt, F32, 0, F32);
set(Op.f32_add, Op.f32_copysign, F32, F32, F32);
set(Op.f64_abs, Op.f64_sqrt, F64, 0, F64);
set(Op.f64_add, Op.f64_copysign, F64, F64, F64);
set(Op.i32_wrap_i64, Op.i32_wrap_i64, I64, 0, I32);
set(Op.i32_trunc_f32_s, Op.i32_trunc_f32_u, F32, 0, I32);
set(Op.i32_trunc_f64_s, Op.i32_trunc_f64_u, F64, 0, I32);
set(Op.i64_extend_i32_s, Op.i64_extend_i32_u, I32, 0, I64);
set(Op.i64_trunc_f32_s, Op.i64_trunc_f32_u, F32, 0, I64);
set(Op.i64_trunc_f64_s, Op.i64_trunc_f64_u, F64, 0, I64);
set(Op.f32_convert_i32_s, Op.f32_convert_i32_u, I32, 0, F32);
set(Op.f32_convert_i64_s, Op.f32_convert_i64_u, I64, 0, F32);
set(Op.f32_demote_f64, Op.f32_demote_f64, F64, 0, F32);
set(Op.f64_convert_i32_s, Op.f64_convert_i32_u, I32, 0, F64);
set(Op.f64_convert_i64_s, Op.f64_convert_i64_u, I64, 0, F64);
set(Op.f64_promote_f32, Op.f64_promote_f32, F32, 0, F64);
set(Op.i32_reinterpret_f32, Op.i32_reinterpret_f32, F32, 0, I32);
set(Op.i64_reinterpret_f64, Op.i64_reinterpret_f64, F64, 0, I64);
set(Op.f32_reinterpret_i32, Op.f32_reinterpret_i32, I32, 0, F32);
set(Op.f64_reinterpret_i64, Op.f64_reinterpret_i64, I64, 0, F64);
set(Op.i32_extend8_s, Op.i32_extend16_s, I32, 0, I32);
set(Op.i64_extend8_s, Op.i64_extend32_s, I64, 0, I64);

/** Saturating truncations (0xFC 0..7), indexed by sub-opcode. */
export const satIn = [F32, F32, F64, F64, F32, F32, F64, F64];
export const satOut = [I32, I32, I32, I32, I64, I64, I64, I64];

/** Loads and stores (0x28..0x3e): value type and natural alignment (log2), indexed by op - 0x28. */
export const memType = [
  I32,
  I64,
  F32,
  F64,
  I32,
  I32,
  I32,
  I32,
  I64,
  I64,
  I64,
  I64,
  I64,
  I64,
  I32,
  I64,
  F32,
  F64,
  I32,
  I32,
  I64,
  I64,
  I64,
];
export const memNaturalAlign = [2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 2, 3, 2, 3, 0, 1, 0, 1, 2];
