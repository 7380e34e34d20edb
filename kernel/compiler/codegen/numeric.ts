// Integer and float operators, comparisons and conversions.

import { Op } from '../wasm/types.ts';
import { ALU, CC, Label, SHIFT, fits32, mem, NO_BASE, RAX, RCX, RDX, RSI, RDI, R11 } from './x64.ts';
import { I32, I64, F32, F64, K_CONST, K_REG, K_LOCAL, FSCRATCH, type Entry } from './values.ts';
import { Inst, Trap } from './layout.ts';
import type { FunctionCompiler } from './function.ts';

const INT_BIN: Record<number, [number, boolean]> = {
  [Op.i32_add]: [ALU.add, false],
  [Op.i32_sub]: [ALU.sub, false],
  [Op.i32_and]: [ALU.and, false],
  [Op.i32_or]: [ALU.or, false],
  [Op.i32_xor]: [ALU.xor, false],
  [Op.i64_add]: [ALU.add, true],
  [Op.i64_sub]: [ALU.sub, true],
  [Op.i64_and]: [ALU.and, true],
  [Op.i64_or]: [ALU.or, true],
  [Op.i64_xor]: [ALU.xor, true],
};
const COMMUTATIVE = new Set<number>([ALU.add, ALU.and, ALU.or, ALU.xor]);

const INT_CMP: Record<number, [number, boolean]> = {
  [Op.i32_eq]: [CC.E, false],
  [Op.i32_ne]: [CC.NE, false],
  [Op.i32_lt_s]: [CC.L, false],
  [Op.i32_lt_u]: [CC.B, false],
  [Op.i32_gt_s]: [CC.G, false],
  [Op.i32_gt_u]: [CC.A, false],
  [Op.i32_le_s]: [CC.LE, false],
  [Op.i32_le_u]: [CC.BE, false],
  [Op.i32_ge_s]: [CC.GE, false],
  [Op.i32_ge_u]: [CC.AE, false],
  [Op.i64_eq]: [CC.E, true],
  [Op.i64_ne]: [CC.NE, true],
  [Op.i64_lt_s]: [CC.L, true],
  [Op.i64_lt_u]: [CC.B, true],
  [Op.i64_gt_s]: [CC.G, true],
  [Op.i64_gt_u]: [CC.A, true],
  [Op.i64_le_s]: [CC.LE, true],
  [Op.i64_le_u]: [CC.BE, true],
  [Op.i64_ge_s]: [CC.GE, true],
  [Op.i64_ge_u]: [CC.AE, true],
};
/** Condition code and width of an integer comparison opcode, or undefined. */
export function intCompareOp(op: number): [number, boolean] | undefined {
  return INT_CMP[op];
}

/**
 * Sets the flags for `x cmp b` where neither operand needs code to read (pinned locals,
 * constants fitting an immediate; not both constants); returns the condition code. Emits exactly
 * one instruction and allocates nothing, so it may sit on one path of a branch.
 */
export function compareFlagsOnly(fc: FunctionCompiler, x: Entry, b: Entry, cc: number, w: boolean): number {
  if (x.k === K_CONST) {
    [x, b] = [b, x];
    cc = SWAP_CC[cc]!;
  }
  if (x.k !== K_LOCAL) throw new Error('compareFlagsOnly: left operand not a pinned local');
  const k = imm(b, w);
  if (k === 0) fc.a.testRR(w, x.r, x.r);
  else if (k !== null) fc.a.aluRI(ALU.cmp, w, x.r, k);
  else if (b.k === K_LOCAL) fc.a.aluRR(ALU.cmp, w, x.r, b.r);
  else throw new Error('compareFlagsOnly: right operand needs a register');
  return cc;
}

/** Swapping the operands of a comparison. */
const SWAP_CC: Record<number, number> = {
  [CC.E]: CC.E,
  [CC.NE]: CC.NE,
  [CC.L]: CC.G,
  [CC.G]: CC.L,
  [CC.LE]: CC.GE,
  [CC.GE]: CC.LE,
  [CC.B]: CC.A,
  [CC.A]: CC.B,
  [CC.BE]: CC.AE,
  [CC.AE]: CC.BE,
};

const SHIFTS: Record<number, [number, boolean]> = {
  [Op.i32_shl]: [SHIFT.shl, false],
  [Op.i32_shr_s]: [SHIFT.sar, false],
  [Op.i32_shr_u]: [SHIFT.shr, false],
  [Op.i32_rotl]: [SHIFT.rol, false],
  [Op.i32_rotr]: [SHIFT.ror, false],
  [Op.i64_shl]: [SHIFT.shl, true],
  [Op.i64_shr_s]: [SHIFT.sar, true],
  [Op.i64_shr_u]: [SHIFT.shr, true],
  [Op.i64_rotl]: [SHIFT.rol, true],
  [Op.i64_rotr]: [SHIFT.ror, true],
};

const F_ARITH: Record<number, [number, boolean]> = {
  [Op.f32_add]: [0x58, false],
  [Op.f32_sub]: [0x5c, false],
  [Op.f32_mul]: [0x59, false],
  [Op.f32_div]: [0x5e, false],
  [Op.f64_add]: [0x58, true],
  [Op.f64_sub]: [0x5c, true],
  [Op.f64_mul]: [0x59, true],
  [Op.f64_div]: [0x5e, true],
};

/** Immediate usable as a 32-bit operand of an instruction of width w, or null. */
function imm(e: Entry, w: boolean): number | null {
  if (e.k !== K_CONST) return null;
  if (!w) return Number(BigInt.asIntN(32, e.c));
  const v = BigInt.asIntN(64, e.c);
  return fits32(Number(v)) && v >= -0x80000000n && v <= 0x7fffffffn ? Number(v) : null;
}

export function emitNumeric(fc: FunctionCompiler, op: number): boolean {
  const bin = INT_BIN[op];
  if (bin) return (intBinary(fc, bin[0], bin[1]), true);
  const cmp = INT_CMP[op];
  if (cmp) return (intCompare(fc, cmp[0], cmp[1]), true);
  const sh = SHIFTS[op];
  if (sh) return (shift(fc, sh[0], sh[1]), true);
  const fa = F_ARITH[op];
  if (fa) return (floatBinary(fc, fa[0], fa[1]), true);
  const a = fc.a;
  const vs = fc.vs;
  switch (op) {
    case Op.i32_mul:
    case Op.i64_mul: {
      const w = op === Op.i64_mul;
      let [x, b, px, pb] = popOperands(vs);
      if (x.k === K_CONST && b.k !== K_CONST) [x, b, px, pb] = [b, x, pb, px];
      const k = imm(b, w);
      if (k === null) vs.readReg(b, pb);
      const target = fc.inPlaceTarget(x);
      if (target) {
        if (k !== null) a.imulRRI(w, target.reg, target.reg, k);
        else a.imulRR(w, target.reg, b.r);
        vs.free(b);
        fc.finishInPlace(x, target);
        return true;
      }
      if (x.k === K_LOCAL && b.k === K_REG) [x, b, px, pb] = [b, x, pb, px]; // as in intBinary
      if (x.k === K_LOCAL && k !== null) {
        // Three-operand imul reads the pinned local directly.
        const d = vs.allocGP();
        a.imulRRI(w, d, x.r, k);
        vs.pushReg(w ? I64 : I32, d);
        return true;
      }
      vs.toReg(x, px);
      if (k !== null) a.imulRRI(w, x.r, x.r, k);
      else {
        a.imulRR(w, x.r, b.r);
        vs.free(b);
      }
      vs.pushReg(w ? I64 : I32, x.r);
      return true;
    }
    case Op.i32_div_s:
    case Op.i32_div_u:
    case Op.i32_rem_s:
    case Op.i32_rem_u:
    case Op.i64_div_s:
    case Op.i64_div_u:
    case Op.i64_rem_s:
    case Op.i64_rem_u:
      divide(fc, op);
      return true;
    case Op.i32_eqz:
    case Op.i64_eqz: {
      const e = vs.popRead();
      fc.fuseOrSet(CC.E, () => {
        a.testRR(op === Op.i64_eqz, e.r, e.r);
        vs.free(e);
      });
      return true;
    }
    case Op.i32_clz:
    case Op.i64_clz:
    case Op.i32_ctz:
    case Op.i64_ctz: {
      const w = op === Op.i64_clz || op === Op.i64_ctz;
      const e = vs.popReg();
      if (op === Op.i32_clz || op === Op.i64_clz) {
        a.movRI(true, R11, -1n);
        a.bsr(w, e.r, e.r);
        a.cmov(CC.E, w, e.r, R11);
        a.unary(3, w, e.r);
        a.aluRI(ALU.add, w, e.r, w ? 63 : 31);
      } else {
        a.movRI(false, R11, w ? 64n : 32n);
        a.bsf(w, e.r, e.r);
        a.cmov(CC.E, w, e.r, R11);
      }
      vs.pushReg(w ? I64 : I32, e.r);
      return true;
    }
    case Op.i32_popcnt:
    case Op.i64_popcnt:
      popcnt(fc, op === Op.i64_popcnt);
      return true;
    case Op.i32_wrap_i64: {
      const e = vs.popRead();
      const d = e.k === K_LOCAL ? vs.allocGP() : e.r;
      // wrap then `i32.const c; i32.add`: a 32-bit lea keeps the low 32 bits of the 64-bit sum,
      // which are the wrapped value plus c modulo 2^32 (sieve's p + <usize>j).
      const disp = takeConstAdd(fc);
      if (disp !== null) a.lea(false, d, mem(e.r, disp));
      else a.movRR(false, d, e.r);
      vs.pushReg(I32, d);
      return true;
    }
    case Op.i64_extend_i32_s:
    case Op.i64_extend_i32_u:
    case Op.i32_extend8_s:
    case Op.i32_extend16_s:
    case Op.i64_extend8_s:
    case Op.i64_extend16_s:
    case Op.i64_extend32_s: {
      // A pinned local is read in place: one instruction into a fresh register, no copy first.
      const e = vs.popRead();
      const d = e.k === K_LOCAL ? vs.allocGP() : e.r;
      if (op === Op.i64_extend_i32_s || op === Op.i64_extend32_s) a.movsxd(d, e.r);
      else if (op === Op.i64_extend_i32_u) a.movRR(false, d, e.r);
      else if (op === Op.i32_extend8_s) a.movsx8(false, d, e.r);
      else if (op === Op.i32_extend16_s) a.movsx16(false, d, e.r);
      else if (op === Op.i64_extend8_s) a.movsx8(true, d, e.r);
      else a.movsx16(true, d, e.r);
      vs.pushReg(op === Op.i32_extend8_s || op === Op.i32_extend16_s ? I32 : I64, d);
      return true;
    }
    default:
      return emitFloat(fc, op);
  }
}

/**
 * Pops the two operands of a binary operator with their stack positions. A spilled operand
 * lives in its position's slot, so an operator that swaps the operands must swap the
 * positions with them (reading a swapped K_MEM operand from the other slot loads garbage).
 */
function popOperands(vs: FunctionCompiler['vs']): [Entry, Entry, number, number] {
  const h = vs.height;
  const b = vs.pop();
  const x = vs.pop();
  return [x, b, h - 2, h - 1];
}

function intBinary(fc: FunctionCompiler, alu: number, w: boolean): void {
  const vs = fc.vs;
  let [x, b, px, pb] = popOperands(vs);
  if (COMMUTATIVE.has(alu) && (x.k === K_CONST || (x.k !== K_LOCAL && b.k === K_LOCAL)) && b.k !== K_CONST)
    [x, b, px, pb] = [b, x, pb, px];
  const k = imm(b, w);
  if (k === null) vs.readReg(b, pb);
  const target = fc.inPlaceTarget(x);
  if (target) {
    if (k !== null) fc.a.aluRI(alu, w, target.reg, k);
    else fc.a.aluRR(alu, w, target.reg, b.r);
    vs.free(b);
    fc.finishInPlace(x, target);
    return;
  }
  // A pinned local with a value in a register this code owns: compute into that register
  // (`xor ecx, r8d`) instead of copying the local first.
  if (COMMUTATIVE.has(alu) && x.k === K_LOCAL && b.k === K_REG) [x, b, px, pb] = [b, x, pb, px];
  if (x.k === K_LOCAL && k !== null && (alu === ALU.add || (alu === ALU.sub && k !== -0x80000000))) {
    // A pinned local plus a constant: one lea into a fresh register instead of a copy and an add.
    const d = vs.allocGP();
    fc.a.lea(w, d, mem(x.r, alu === ALU.add ? k : -k));
    vs.pushReg(w ? I64 : I32, d);
    return;
  }
  vs.toReg(x, px);
  if (k !== null) fc.a.aluRI(alu, w, x.r, k);
  else {
    fc.a.aluRR(alu, w, x.r, b.r);
    vs.free(b);
  }
  vs.pushReg(w ? I64 : I32, x.r);
}

function intCompare(fc: FunctionCompiler, cc: number, w: boolean): void {
  const vs = fc.vs;
  let [x, b, px, pb] = popOperands(vs);
  if (x.k === K_CONST && b.k !== K_CONST) {
    [x, b, px, pb] = [b, x, pb, px];
    cc = SWAP_CC[cc]!;
  }
  vs.readReg(x, px);
  const k = imm(b, w);
  if (k === null) vs.readReg(b, pb);
  fc.fuseOrSet(cc, () => {
    // test x,x sets the flags of cmp x,0 (CF = OF = 0, SF and ZF from x) in fewer bytes.
    if (k === 0) fc.a.testRR(w, x.r, x.r);
    else if (k !== null) fc.a.aluRI(ALU.cmp, w, x.r, k);
    else fc.a.aluRR(ALU.cmp, w, x.r, b.r);
    vs.free(x);
    vs.free(b);
  });
}

function shift(fc: FunctionCompiler, sh: number, w: boolean): void {
  const vs = fc.vs;
  const a = fc.a;
  const h = vs.height;
  const b = vs.pop();
  const x = vs.pop();
  if (b.k === K_CONST) {
    const count = Number(b.c & (w ? 63n : 31n));
    if (
      sh === SHIFT.shl &&
      count >= 1 &&
      count <= 3 &&
      scaledIndex(fc, x, (1 << count) as 2 | 4 | 8, w, h - 2)
    )
      return;
    const target = fc.inPlaceTarget(x);
    if (target) {
      a.shiftRI(sh, w, target.reg, count);
      fc.finishInPlace(x, target);
      return;
    }
    vs.toReg(x, h - 2);
    a.shiftRI(sh, w, x.r, count);
    vs.pushReg(w ? I64 : I32, x.r);
    return;
  }
  // The count goes through r11 into cl; r11 is loaded last, as allocations may spill through it.
  vs.evictGP(RCX);
  if (x.k === K_REG && x.r === RCX) {
    const n = vs.allocGP(RCX);
    a.movRR(true, n, RCX);
    vs.freeReg(false, RCX);
    x.r = n;
  } else if (x.k !== K_REG) {
    const n = vs.allocGP(RCX);
    vs.load(x, n, h - 2);
    x.k = K_REG;
    x.r = n;
  }
  if (b.k === K_REG) {
    a.movRR(true, R11, b.r);
    vs.free(b);
  } else vs.load(b, R11, h - 1);
  a.movRR(false, RCX, R11);
  a.shiftCL(sh, w, x.r);
  vs.pushReg(w ? I64 : I32, x.r);
}

/** Consumes a following `i32.const c; i32.add` and returns c (signed), or null (nothing consumed). */
function takeConstAdd(fc: FunctionCompiler): number | null {
  const r = fc.r;
  if (r.pos >= r.end || r.bytes[r.pos] !== Op.i32_const) return null;
  const save = r.pos;
  const saveOffset = r.opOffset;
  r.opcode();
  const c = r.s32();
  if (r.pos < r.end && r.bytes[r.pos] === Op.i32_add) {
    r.opcode();
    return c;
  }
  r.pos = save;
  r.opOffset = saveOffset;
  return null;
}

/**
 * `y << k` (k 1..3) followed by `const c; add` or by `add` (x below y): one lea computing
 * `y*2^k + c` or `x + y*2^k` (an address expression: `p + (i << 2)`). A 32-bit lea wraps
 * modulo 2^32 exactly as i32 arithmetic does and zero-extends its result. Consumes the fused
 * instructions and pushes the result; false (nothing consumed, nothing emitted) otherwise.
 */
function scaledIndex(fc: FunctionCompiler, y: Entry, scale: 2 | 4 | 8, w: boolean, py: number): boolean {
  const r = fc.r;
  const vs = fc.vs;
  const [constOp, addOp] = w ? [Op.i64_const, Op.i64_add] : [Op.i32_const, Op.i32_add];
  const save = r.pos;
  const saveOffset = r.opOffset;
  let disp: number | null = null;
  let x: Entry | null = null;
  if (r.pos < r.end && r.bytes[r.pos] === constOp) {
    r.opcode();
    const c = w ? r.s64() : BigInt(r.s32());
    if (r.pos < r.end && r.bytes[r.pos] === addOp && c >= -0x80000000n && c <= 0x7fffffffn) {
      r.opcode();
      disp = Number(c);
    }
  } else if (r.pos < r.end && r.bytes[r.pos] === addOp) {
    r.opcode();
    x = vs.pop(); // the add's left operand, at py - 1
    const k = imm(x, w);
    if (k !== null) {
      disp = k;
      x = null;
    } else disp = 0;
  }
  if (disp === null) {
    r.pos = save;
    r.opOffset = saveOffset;
    return false;
  }
  const yr = vs.readReg(y, py);
  const xr = x ? vs.readReg(x, py - 1) : NO_BASE;
  // The destination reuses an operand register this code owns, else takes a fresh one.
  let d: number;
  if (y.k === K_REG) {
    d = y.r;
    if (x) vs.free(x);
  } else if (x && x.k === K_REG) d = x.r;
  else d = vs.allocGP();
  fc.a.lea(w, d, mem(xr, disp, yr, scale));
  vs.pushReg(w ? I64 : I32, d);
  return true;
}

function divide(fc: FunctionCompiler, op: number): void {
  const vs = fc.vs;
  const a = fc.a;
  const w = op >= Op.i64_div_s;
  const signed = op === Op.i32_div_s || op === Op.i32_rem_s || op === Op.i64_div_s || op === Op.i64_rem_s;
  const rem = op === Op.i32_rem_s || op === Op.i32_rem_u || op === Op.i64_rem_s || op === Op.i64_rem_u;
  const h = vs.height;
  const b = vs.pop();
  const x = vs.pop();
  // rax and rdx freed first (that may spill, through r11), then divisor to r11, dividend to rax.
  vs.evictGP(RAX, RDX);
  vs.evictGP(RDX, RAX);
  if (b.k === K_REG || b.k === K_LOCAL) {
    a.movRR(true, R11, b.r);
    vs.free(b);
  } else vs.load(b, R11, h - 1);
  if (x.k === K_REG) {
    if (x.r !== RAX) a.movRR(true, RAX, x.r);
    vs.free(x);
  } else vs.load(x, RAX, h - 2);
  vs.markGP(RAX);
  vs.markGP(RDX);
  a.testRR(w, R11, R11);
  a.jcc(CC.E, fc.trapLabel(Trap.divideByZero));
  const done = new Label();
  if (signed) {
    const normal = new Label();
    a.aluRI(ALU.cmp, w, R11, -1);
    a.jcc(CC.NE, normal);
    if (rem) {
      a.aluRR(ALU.xor, false, RDX, RDX);
      a.jmp(done);
    } else {
      a.movRI(w, RDX, w ? -0x8000000000000000n : 0x80000000n);
      a.aluRR(ALU.cmp, w, RAX, RDX);
      a.jcc(CC.E, fc.trapLabel(Trap.integerOverflow));
    }
    a.bind(normal);
    if (w) a.cqo();
    else a.cdq();
    a.unary(7, w, R11);
  } else {
    a.aluRR(ALU.xor, false, RDX, RDX);
    a.unary(6, w, R11);
  }
  a.bind(done);
  if (rem) {
    vs.freeReg(false, RAX);
    vs.pushReg(w ? I64 : I32, RDX);
  } else {
    vs.freeReg(false, RDX);
    vs.pushReg(w ? I64 : I32, RAX);
  }
}

function popcnt(fc: FunctionCompiler, w: boolean): void {
  const vs = fc.vs;
  const a = fc.a;
  const x = vs.popReg();
  const t = vs.allocGP();
  const k = (b: bigint): bigint => (w ? b : b & 0xffffffffn);
  a.movRR(w, t, x.r);
  a.shiftRI(SHIFT.shr, w, t, 1);
  a.movRI(w, R11, k(0x5555555555555555n));
  a.aluRR(ALU.and, w, t, R11);
  a.aluRR(ALU.sub, w, x.r, t);
  a.movRI(w, R11, k(0x3333333333333333n));
  a.movRR(w, t, x.r);
  a.shiftRI(SHIFT.shr, w, t, 2);
  a.aluRR(ALU.and, w, t, R11);
  a.aluRR(ALU.and, w, x.r, R11);
  a.aluRR(ALU.add, w, x.r, t);
  a.movRR(w, t, x.r);
  a.shiftRI(SHIFT.shr, w, t, 4);
  a.aluRR(ALU.add, w, x.r, t);
  a.movRI(w, R11, k(0x0f0f0f0f0f0f0f0fn));
  a.aluRR(ALU.and, w, x.r, R11);
  a.movRI(w, R11, k(0x0101010101010101n));
  a.imulRR(w, x.r, R11);
  a.shiftRI(SHIFT.shr, w, x.r, w ? 56 : 24);
  vs.freeReg(false, t);
  vs.pushReg(w ? I64 : I32, x.r);
}

function floatBinary(fc: FunctionCompiler, sseOp: number, dbl: boolean): void {
  const vs = fc.vs;
  const h = vs.height;
  const b = vs.pop();
  const x = vs.pop();
  vs.toReg(x, h - 2);
  vs.readReg(b, h - 1);
  fc.a.sseArith(sseOp, dbl, x.r, b.r);
  vs.free(b);
  vs.pushReg(dbl ? F64 : F32, x.r);
}

/** Loads a float constant's raw bits into xmm `x` through r11. */
function loadFloatBits(fc: FunctionCompiler, dbl: boolean, x: number, bits: bigint): void {
  fc.a.movRI(dbl, R11, bits);
  fc.a.movGX(dbl, x, R11);
}

function emitFloat(fc: FunctionCompiler, op: number): boolean {
  const a = fc.a;
  const vs = fc.vs;
  switch (op) {
    case Op.f32_min:
    case Op.f32_max:
    case Op.f64_min:
    case Op.f64_max: {
      const dbl = op === Op.f64_min || op === Op.f64_max;
      const isMin = op === Op.f32_min || op === Op.f64_min;
      const h = vs.height;
      const b = vs.pop();
      const x = vs.pop();
      vs.toReg(x, h - 2);
      vs.toReg(b, h - 1);
      const nan = new Label(),
        equal = new Label(),
        done = new Label();
      a.ucomis(dbl, x.r, b.r);
      a.jcc(CC.P, nan);
      a.jcc(CC.E, equal);
      a.sseArith(isMin ? 0x5d : 0x5f, dbl, x.r, b.r);
      a.jmp(done);
      a.bind(equal); // equal values: only the signs of zeros can differ
      a.sseLogic(isMin ? 0x56 : 0x54, x.r, b.r);
      a.jmp(done);
      a.bind(nan);
      a.sseArith(0x58, dbl, x.r, b.r);
      a.bind(done);
      vs.free(b);
      vs.pushReg(dbl ? F64 : F32, x.r);
      return true;
    }
    case Op.f32_abs:
    case Op.f32_neg:
    case Op.f64_abs:
    case Op.f64_neg: {
      const dbl = op === Op.f64_abs || op === Op.f64_neg;
      const e = vs.popReg();
      a.movXG(dbl, R11, e.r);
      a.btI(op === Op.f32_abs || op === Op.f64_abs ? 6 : 7, dbl, R11, dbl ? 63 : 31);
      a.movGX(dbl, e.r, R11);
      vs.pushReg(dbl ? F64 : F32, e.r);
      return true;
    }
    case Op.f32_copysign:
    case Op.f64_copysign: {
      const dbl = op === Op.f64_copysign;
      const h = vs.height;
      const b = vs.pop();
      const x = vs.pop();
      vs.toReg(x, h - 2);
      vs.toReg(b, h - 1);
      const t = vs.allocGP();
      a.movXG(dbl, t, b.r);
      a.shiftRI(SHIFT.shr, dbl, t, dbl ? 63 : 31);
      a.shiftRI(SHIFT.shl, dbl, t, dbl ? 63 : 31);
      a.movXG(dbl, R11, x.r);
      a.btI(6, dbl, R11, dbl ? 63 : 31);
      a.aluRR(ALU.or, dbl, R11, t);
      a.movGX(dbl, x.r, R11);
      vs.freeReg(false, t);
      vs.free(b);
      vs.pushReg(dbl ? F64 : F32, x.r);
      return true;
    }
    case Op.f32_sqrt:
    case Op.f64_sqrt: {
      const dbl = op === Op.f64_sqrt;
      const e = vs.popReg();
      a.sseArith(0x51, dbl, e.r, e.r);
      vs.pushReg(dbl ? F64 : F32, e.r);
      return true;
    }
    case Op.f32_ceil:
    case Op.f32_floor:
    case Op.f32_trunc:
    case Op.f32_nearest:
    case Op.f64_ceil:
    case Op.f64_floor:
    case Op.f64_trunc:
    case Op.f64_nearest: {
      const dbl = op >= Op.f64_ceil;
      const kind = op - (dbl ? Op.f64_ceil : Op.f32_ceil);
      fc.spillForCall();
      const h = vs.height;
      const e = vs.pop();
      if (e.k === K_REG) {
        a.movXG(dbl, RSI, e.r);
        vs.free(e);
      } else {
        vs.load({ ...e, t: dbl ? I64 : I32 }, RSI, h - 1);
      }
      a.movRI(false, RDI, BigInt(kind | (dbl ? 4 : 0)));
      a.callM({ base: 15, disp: Inst.froundFn });
      fc.restoreLocals();
      const d = vs.allocFP();
      a.movGX(dbl, d, RAX);
      vs.pushReg(dbl ? F64 : F32, d);
      return true;
    }
    case Op.f32_eq:
    case Op.f32_ne:
    case Op.f32_lt:
    case Op.f32_gt:
    case Op.f32_le:
    case Op.f32_ge:
    case Op.f64_eq:
    case Op.f64_ne:
    case Op.f64_lt:
    case Op.f64_gt:
    case Op.f64_le:
    case Op.f64_ge: {
      const dbl = op >= Op.f64_eq;
      const kind = op - (dbl ? Op.f64_eq : Op.f32_eq);
      const h = vs.height;
      const b = vs.pop();
      const x = vs.pop();
      vs.readReg(x, h - 2);
      vs.readReg(b, h - 1);
      const d = vs.allocGP();
      // lt/le compare reversed so that unordered (NaN) gives false through CF/ZF.
      if (kind === 2 || kind === 4) a.ucomis(dbl, b.r, x.r);
      else a.ucomis(dbl, x.r, b.r);
      if (kind === 0) {
        a.setcc(CC.E, d);
        a.setcc(CC.NP, R11);
        a.aluRR(ALU.and, false, d, R11);
      } else if (kind === 1) {
        a.setcc(CC.NE, d);
        a.setcc(CC.P, R11);
        a.aluRR(ALU.or, false, d, R11);
      } else a.setcc(kind === 2 || kind === 3 ? CC.A : CC.AE, d);
      a.movzx8(false, d, d);
      vs.free(x);
      vs.free(b);
      vs.pushReg(I32, d);
      return true;
    }
    default:
      return emitConversion(fc, op);
  }
}

/** Integer range of a truncation: valid iff lo <(=) x < hi, as float bit patterns. */
interface TruncRange {
  lo: number; // the bound as a JS number (exact in both f32 and f64 where used)
  loInclusive: boolean;
  hi: number;
}
function truncRange(signed: boolean, to64: boolean, fromDouble: boolean): TruncRange {
  if (!signed) return { lo: -1, loInclusive: false, hi: to64 ? 2 ** 64 : 2 ** 32 };
  if (to64) return { lo: -(2 ** 63), loInclusive: true, hi: 2 ** 63 };
  return fromDouble
    ? { lo: -(2 ** 31) - 1, loInclusive: false, hi: 2 ** 31 }
    : { lo: -(2 ** 31), loInclusive: true, hi: 2 ** 31 };
}
function floatBits(v: number, dbl: boolean): bigint {
  const buf = new DataView(new ArrayBuffer(8));
  if (dbl) {
    buf.setFloat64(0, v, true);
    return buf.getBigUint64(0, true);
  }
  buf.setFloat32(0, v, true);
  return BigInt(buf.getUint32(0, true));
}

function emitTrunc(
  fc: FunctionCompiler,
  fromDouble: boolean,
  to64: boolean,
  signed: boolean,
  saturating: boolean,
): void {
  const a = fc.a;
  const vs = fc.vs;
  const x = vs.popReg();
  const d = vs.allocGP();
  const range = truncRange(signed, to64, fromDouble);
  const done = new Label();
  const tooLow = saturating ? new Label() : fc.trapLabel(Trap.integerOverflow);
  const tooHigh = saturating ? new Label() : tooLow;
  const nan = saturating ? new Label() : fc.trapLabel(Trap.invalidConversion);
  a.ucomis(fromDouble, x.r, x.r);
  a.jcc(CC.P, nan);
  loadFloatBits(fc, fromDouble, FSCRATCH, floatBits(range.lo, fromDouble));
  a.ucomis(fromDouble, x.r, FSCRATCH);
  a.jcc(range.loInclusive ? CC.B : CC.BE, tooLow);
  loadFloatBits(fc, fromDouble, FSCRATCH, floatBits(range.hi, fromDouble));
  a.ucomis(fromDouble, x.r, FSCRATCH);
  a.jcc(CC.AE, tooHigh);
  if (to64 && !signed) {
    // Values >= 2^63 convert after subtracting 2^63, then get the top bit back.
    const small = new Label();
    loadFloatBits(fc, fromDouble, FSCRATCH, floatBits(2 ** 63, fromDouble));
    a.ucomis(fromDouble, x.r, FSCRATCH);
    a.jcc(CC.B, small);
    a.sseArith(0x5c, fromDouble, x.r, FSCRATCH);
    a.cvtts2si(fromDouble, true, d, x.r);
    a.btI(7, true, d, 63);
    a.jmp(done);
    a.bind(small);
    a.cvtts2si(fromDouble, true, d, x.r);
  } else if (to64 || !signed) {
    a.cvtts2si(fromDouble, true, d, x.r);
    if (!to64) a.movRR(false, d, d);
  } else {
    a.cvtts2si(fromDouble, false, d, x.r);
  }
  if (saturating) {
    a.jmp(done);
    a.bind(nan);
    a.aluRR(ALU.xor, false, d, d);
    a.jmp(done);
    a.bind(tooLow);
    if (signed) a.movRI(to64, d, to64 ? -0x8000000000000000n : 0x80000000n);
    else a.aluRR(ALU.xor, false, d, d);
    a.jmp(done);
    a.bind(tooHigh);
    if (signed) a.movRI(to64, d, to64 ? 0x7fffffffffffffffn : 0x7fffffffn);
    else a.movRI(to64, d, to64 ? -1n : 0xffffffffn);
  }
  a.bind(done);
  vs.free(x);
  vs.pushReg(to64 ? I64 : I32, d);
}

const TRUNCS: Record<number, [boolean, boolean, boolean, boolean]> = {
  // [fromDouble, to64, signed, saturating]
  [Op.i32_trunc_f32_s]: [false, false, true, false],
  [Op.i32_trunc_f32_u]: [false, false, false, false],
  [Op.i32_trunc_f64_s]: [true, false, true, false],
  [Op.i32_trunc_f64_u]: [true, false, false, false],
  [Op.i64_trunc_f32_s]: [false, true, true, false],
  [Op.i64_trunc_f32_u]: [false, true, false, false],
  [Op.i64_trunc_f64_s]: [true, true, true, false],
  [Op.i64_trunc_f64_u]: [true, true, false, false],
  [Op.i32_trunc_sat_f32_s]: [false, false, true, true],
  [Op.i32_trunc_sat_f32_u]: [false, false, false, true],
  [Op.i32_trunc_sat_f64_s]: [true, false, true, true],
  [Op.i32_trunc_sat_f64_u]: [true, false, false, true],
  [Op.i64_trunc_sat_f32_s]: [false, true, true, true],
  [Op.i64_trunc_sat_f32_u]: [false, true, false, true],
  [Op.i64_trunc_sat_f64_s]: [true, true, true, true],
  [Op.i64_trunc_sat_f64_u]: [true, true, false, true],
};

const CONVERTS: Record<number, [boolean, boolean, boolean]> = {
  // [toDouble, from64, signed]
  [Op.f32_convert_i32_s]: [false, false, true],
  [Op.f32_convert_i32_u]: [false, false, false],
  [Op.f32_convert_i64_s]: [false, true, true],
  [Op.f32_convert_i64_u]: [false, true, false],
  [Op.f64_convert_i32_s]: [true, false, true],
  [Op.f64_convert_i32_u]: [true, false, false],
  [Op.f64_convert_i64_s]: [true, true, true],
  [Op.f64_convert_i64_u]: [true, true, false],
};

function emitConversion(fc: FunctionCompiler, op: number): boolean {
  const a = fc.a;
  const vs = fc.vs;
  const tr = TRUNCS[op];
  if (tr) return (emitTrunc(fc, tr[0], tr[1], tr[2], tr[3]), true);
  const cv = CONVERTS[op];
  if (cv) {
    const [dbl, from64, signed] = cv;
    const e = vs.popReg();
    const d = vs.allocFP();
    a.sseLogic(0x57, d, d);
    if (!from64 && signed) a.cvtsi2s(dbl, false, d, e.r);
    else if (!from64 || signed)
      a.cvtsi2s(dbl, true, d, e.r); // u32 is zero-extended: exact as i64
    else {
      const big = new Label(),
        done = new Label();
      a.testRR(true, e.r, e.r);
      a.jcc(CC.S, big);
      a.cvtsi2s(dbl, true, d, e.r);
      a.jmp(done);
      a.bind(big); // halve keeping the low bit (round-to-odd), convert, double
      a.movRR(true, R11, e.r);
      a.shiftRI(SHIFT.shr, true, R11, 1);
      a.aluRI(ALU.and, false, e.r, 1);
      a.aluRR(ALU.or, true, R11, e.r);
      a.cvtsi2s(dbl, true, d, R11);
      a.sseArith(0x58, dbl, d, d);
      a.bind(done);
    }
    vs.free(e);
    vs.pushReg(dbl ? F64 : F32, d);
    return true;
  }
  switch (op) {
    case Op.f32_demote_f64:
    case Op.f64_promote_f32: {
      const e = vs.popReg();
      a.cvtFloat(op === Op.f32_demote_f64, e.r, e.r);
      vs.pushReg(op === Op.f32_demote_f64 ? F32 : F64, e.r);
      return true;
    }
    case Op.i32_reinterpret_f32:
    case Op.i64_reinterpret_f64: {
      const w = op === Op.i64_reinterpret_f64;
      const e = vs.popReg();
      const d = vs.allocGP();
      a.movXG(w, d, e.r);
      vs.free(e);
      vs.pushReg(w ? I64 : I32, d);
      return true;
    }
    case Op.f32_reinterpret_i32:
    case Op.f64_reinterpret_i64: {
      const w = op === Op.f64_reinterpret_i64;
      const e = vs.popReg();
      const d = vs.allocFP();
      a.movGX(w, d, e.r);
      vs.free(e);
      vs.pushReg(w ? F64 : F32, d);
      return true;
    }
    default:
      return false;
  }
}

export { RDX, RAX };
