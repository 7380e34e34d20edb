// Skipping an instruction's immediates without validating it. Used where an instruction only has
// to be stepped over with the right malformed-ness: a non-constant instruction inside a constant
// expression, and the decode-only scan the validator runs after finding an invalid function (a
// malformed body later in the module makes the whole module malformed, as in the reference
// decoder, which decodes everything before it validates).

import { CodeReader, Op, type FuncType } from './types.ts';

/**
 * Reads the immediates of `op` (already read). Returns false for an opcode that does not exist
 * (the caller reports "illegal opcode"). Prefixed opcodes outside our set (SIMD, atomics) are
 * also unknown here: their immediates are not modelled.
 */
export function skipImmediates(r: CodeReader, op: number, types: readonly FuncType[]): boolean {
  if (op >= 0x45 && op <= 0xc4) return true; // numeric operators have no immediates
  switch (op) {
    case Op.unreachable:
    case Op.nop:
    case Op.else:
    case Op.end:
    case Op.return:
    case Op.drop:
    case Op.select:
    case Op.ref_is_null:
    case Op.catch_all:
      return true;
    case Op.block:
    case Op.loop:
    case Op.if:
    case Op.try_:
      r.blockType(types);
      return true;
    case Op.br:
    case Op.br_if:
    case Op.call:
    case Op.local_get:
    case Op.local_set:
    case Op.local_tee:
    case Op.global_get:
    case Op.global_set:
    case Op.table_get:
    case Op.table_set:
    case Op.ref_func:
    case Op.return_call:
    case Op.throw_:
    case Op.rethrow:
    case Op.catch_:
    case Op.delegate:
    case Op.call_ref:
    case Op.return_call_ref:
      r.u32();
      return true;
    case Op.br_table:
      r.brTable();
      return true;
    case Op.call_indirect:
    case Op.return_call_indirect:
      r.u32();
      r.u32();
      return true;
    case Op.select_t: {
      const n = r.len32();
      for (let i = 0; i < n; i++) r.u8();
      return true;
    }
    case Op.memory_size:
    case Op.memory_grow:
      zeroByte(r);
      return true;
    case Op.i32_const:
      r.s32();
      return true;
    case Op.i64_const:
      r.s64();
      return true;
    case Op.f32_const:
      r.f32Bits();
      return true;
    case Op.f64_const:
      r.f64Bits();
      return true;
    case Op.ref_null:
      r.u8();
      return true;
    case Op.memory_init:
      r.u32();
      zeroByte(r);
      return true;
    case Op.data_drop:
    case Op.elem_drop:
    case Op.table_grow:
    case Op.table_size:
    case Op.table_fill:
      r.u32();
      return true;
    case Op.memory_copy:
      zeroByte(r);
      zeroByte(r);
      return true;
    case Op.memory_fill:
      zeroByte(r);
      return true;
    case Op.table_init:
    case Op.table_copy:
      r.u32();
      r.u32();
      return true;
    default:
      if (op >= 0x28 && op <= 0x3e) {
        if (r.memArg().align >= 32) r.fail('malformed memop flags');
        return true;
      }
      if (op >= Op.i32_trunc_sat_f32_s && op <= Op.i64_trunc_sat_f64_u) return true;
      return false;
  }
}

/** Reserved memory-index bytes must be a single 0x00 (not any LEB128 encoding of zero). */
function zeroByte(r: CodeReader): void {
  if (r.u8() !== 0) r.fail('zero byte expected');
}
