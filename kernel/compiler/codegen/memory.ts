// Linear-memory instructions: bounds-checked loads and stores (explicit compares against the
// current size; constant addresses inside the initial size skip the check), memory.size/grow and
// the bulk-memory operations (through runtime helpers).

import { Op } from '../wasm/types.ts';
import { ALU, CC, mem, type Mem, RAX, RCX, RDX, RSI, R8, R11, R14, R15 } from './x64.ts';
import { I32, I64, F32, F64, K_CONST, type Entry } from './values.ts';
import { Inst, Trap } from './layout.ts';
import type { FunctionCompiler } from './function.ts';

// [result type, access bytes, kind]: kind 0 plain, 1 zero-extend, 2 sign-extend
const LOADS: Record<number, [number, number, number]> = {
  [Op.i32_load]: [I32, 4, 0],
  [Op.i64_load]: [I64, 8, 0],
  [Op.f32_load]: [F32, 4, 0],
  [Op.f64_load]: [F64, 8, 0],
  [Op.i32_load8_s]: [I32, 1, 2],
  [Op.i32_load8_u]: [I32, 1, 1],
  [Op.i32_load16_s]: [I32, 2, 2],
  [Op.i32_load16_u]: [I32, 2, 1],
  [Op.i64_load8_s]: [I64, 1, 2],
  [Op.i64_load8_u]: [I64, 1, 1],
  [Op.i64_load16_s]: [I64, 2, 2],
  [Op.i64_load16_u]: [I64, 2, 1],
  [Op.i64_load32_s]: [I64, 4, 2],
  [Op.i64_load32_u]: [I64, 4, 1],
};
// [value type, access bytes]
const STORES: Record<number, [number, number]> = {
  [Op.i32_store]: [I32, 4],
  [Op.i64_store]: [I64, 8],
  [Op.f32_store]: [F32, 4],
  [Op.f64_store]: [F64, 8],
  [Op.i32_store8]: [I32, 1],
  [Op.i32_store16]: [I32, 2],
  [Op.i64_store8]: [I64, 1],
  [Op.i64_store16]: [I64, 2],
  [Op.i64_store32]: [I64, 4],
};

/**
 * The memory operand for an access of `size` bytes at address entry `addr` (popped; a register
 * or a constant) plus `offset`, after emitting its bounds check. May use r11.
 */
function address(fc: FunctionCompiler, addr: Entry, offset: number, size: number): Mem {
  const a = fc.a;
  if (addr.k === K_CONST) {
    const ea = Number(addr.c & 0xffffffffn) + offset;
    if (ea + size > fc.ctx.minMemBytes) {
      a.movRI(true, R11, BigInt(ea + size));
      a.aluRM(ALU.cmp, true, R11, mem(R15, Inst.memSize));
      a.jcc(CC.A, fc.trapLabel(Trap.memoryOutOfBounds));
    }
    if (ea <= 0x7fffffff) return mem(R14, ea);
    a.movRI(true, R11, BigInt(ea));
    return mem(R14, 0, R11);
  }
  const r = addr.r;
  if (offset + size === 1) {
    // A byte at the address itself: in bounds iff address < size, no sum to form.
    a.aluRM(ALU.cmp, true, r, mem(R15, Inst.memSize));
    a.jcc(CC.AE, fc.trapLabel(Trap.memoryOutOfBounds));
    return mem(R14, 0, r);
  }
  if (offset + size <= 8) {
    // In bounds iff address <= memSize - (offset + size), a signed compare: the limit is
    // negative when the memory is smaller than the access (the address is zero-extended).
    a.aluRM(ALU.cmp, true, r, mem(R15, Inst.memLimits + 8 * (offset + size - 2)));
    a.jcc(CC.G, fc.trapLabel(Trap.memoryOutOfBounds));
    return mem(R14, offset, r);
  }
  if (offset + size <= 0x7fffffff) {
    a.lea(true, R11, mem(r, offset + size));
    a.aluRM(ALU.cmp, true, R11, mem(R15, Inst.memSize));
    a.jcc(CC.A, fc.trapLabel(Trap.memoryOutOfBounds));
    return offset <= 0x7fffffff - size ? mem(R14, offset, r) : mem(R14, offset, r);
  }
  a.movRI(false, R11, BigInt(offset));
  a.aluRR(ALU.add, true, R11, r);
  a.aluRI(ALU.add, true, R11, size);
  a.aluRM(ALU.cmp, true, R11, mem(R15, Inst.memSize));
  a.jcc(CC.A, fc.trapLabel(Trap.memoryOutOfBounds));
  a.aluRI(ALU.sub, true, R11, size);
  return mem(R14, 0, R11);
}

/** Pops the address: constants stay constants, anything else goes to a register. */
function popAddress(fc: FunctionCompiler): Entry {
  const vs = fc.vs;
  const e = vs.peek();
  if (e.k === K_CONST) return vs.pop();
  return vs.popRead();
}

export function emitMemoryOp(fc: FunctionCompiler, op: number): boolean {
  const a = fc.a;
  const vs = fc.vs;
  const r = fc.r;
  const ld = LOADS[op];
  if (ld) {
    const [t, size, kind] = ld;
    const { offset } = r.memArg();
    const addr = popAddress(fc);
    // Allocate before the address is formed: a spill may use r11, which the operand may need.
    const d = vs.alloc(t);
    const m = address(fc, addr, offset, size);
    vs.free(addr);
    const w = t === I64;
    if (t === F32 || t === F64) a.movsdLoad(t === F64, d, m);
    else if (size === 1) {
      if (kind === 2) a.movsx8(w, d, m);
      else a.movzx8(false, d, m);
    } else if (size === 2) {
      if (kind === 2) a.movsx16(w, d, m);
      else a.movzx16(false, d, m);
    } else if (size === 4 && w) {
      if (kind === 2) a.movsxd(d, m);
      else a.load(false, d, m);
    } else a.load(w, d, m);
    vs.pushReg(t, d);
    return true;
  }
  const st = STORES[op];
  if (st) {
    const [t, size] = st;
    const { offset } = r.memArg();
    const h = vs.height;
    const value = vs.pop();
    if (value.k !== K_CONST || t === F32 || t === F64) vs.readReg(value, h - 1);
    const addr = popAddress(fc);
    // A constant is stored as an immediate; a 64-bit one that does not fit a sign-extended
    // imm32 goes through a register allocated before the address is formed (r11 may hold the
    // address, and a spill may use r11).
    const wide = value.k === K_CONST && size === 8 && !fitsImm32(value.c);
    const tmp = wide ? vs.allocGP() : -1;
    const m = address(fc, addr, offset, size);
    if (wide) {
      a.movRI(true, tmp, value.c);
      a.store(true, m, tmp);
      vs.freeReg(false, tmp);
    } else if (value.k === K_CONST) {
      const v = Number(BigInt.asIntN(32, value.c));
      if (size === 1) a.storeImm8(m, v);
      else if (size === 2) a.storeImm16(m, v);
      else a.storeImm32(size === 8, m, v);
    } else if (t === F32 || t === F64) a.movsdStore(t === F64, m, value.r);
    else storeSized(fc, m, value.r, size);
    vs.free(value);
    vs.free(addr);
    return true;
  }
  switch (op) {
    case Op.memory_size: {
      r.u8();
      const d = vs.allocGP();
      a.load(false, d, mem(R15, Inst.memPages));
      vs.pushReg(I32, d);
      return true;
    }
    case Op.memory_grow: {
      r.u8();
      helperCall(fc, Inst.growFn, 1, false);
      const d = vs.allocGP();
      a.movRR(false, d, RAX);
      vs.pushReg(I32, d);
      return true;
    }
    case Op.memory_fill:
      r.u8();
      helperCall(fc, Inst.fillFn, 3, true);
      return true;
    case Op.memory_copy:
      r.u8();
      r.u8();
      helperCall(fc, Inst.copyFn, 3, true);
      return true;
    case Op.memory_init: {
      const seg = r.u32();
      r.u8();
      helperCall(fc, Inst.initFn, 3, true, seg);
      return true;
    }
    case Op.data_drop: {
      const seg = r.u32();
      fc.spillForCall();
      a.movRI(false, RSI, BigInt(seg));
      fc.callHelper(Inst.dropFn, () => {});
      return true;
    }
    default:
      return false;
  }
}

function fitsImm32(c: bigint): boolean {
  const v = BigInt.asIntN(64, c);
  return v >= -0x80000000n && v <= 0x7fffffffn;
}

function storeSized(fc: FunctionCompiler, m: Mem, src: number, size: number): void {
  if (size === 1) fc.a.store8(m, src);
  else if (size === 2) fc.a.store16(m, src);
  else fc.a.store(size === 8, m, src);
}

/**
 * Calls a runtime helper with `n` i32 operands from the stack (after an optional leading
 * segment index). Helpers returning a trap code (`traps`) jump to an out-of-bounds trap when
 * it is non-zero.
 */
function helperCall(fc: FunctionCompiler, offset: number, n: number, traps: boolean, seg?: number): void {
  const vs = fc.vs;
  const a = fc.a;
  fc.spillForCall();
  const argRegs = seg === undefined ? [RSI, RDX, RCX] : [RDX, RCX, R8];
  const h = vs.height;
  for (let i = 0; i < n; i++) {
    const e = vs.stack[h - n + i]!;
    vs.load(e, argRegs[i]!, h - n + i);
  }
  vs.truncate(h - n);
  if (seg !== undefined) a.movRI(false, RSI, BigInt(seg));
  fc.callHelper(offset, () => {});
  if (traps) {
    a.testRR(false, RAX, RAX);
    a.jcc(CC.NE, fc.trapLabel(Trap.memoryOutOfBounds));
  }
  void R11;
}
