// A small x86-64 assembler: exactly the instruction forms the code generator emits.
// Registers are numbers 0-15 (GPRs in hardware order, XMMs likewise); memory operands are
// base + index*scale + disp32, or rip-relative.
import { grownBuffer } from '../grow.ts';

export const RAX = 0,
  RCX = 1,
  RDX = 2,
  RBX = 3,
  RSP = 4,
  RBP = 5,
  RSI = 6,
  RDI = 7;
export const R8 = 8,
  R9 = 9,
  R10 = 10,
  R11 = 11,
  R12 = 12,
  R13 = 13,
  R14 = 14,
  R15 = 15;

/** Condition codes (the low nibble of Jcc / SETcc / CMOVcc). */
export const CC = {
  O: 0,
  NO: 1,
  B: 2,
  AE: 3,
  E: 4,
  NE: 5,
  BE: 6,
  A: 7,
  S: 8,
  NS: 9,
  P: 10,
  NP: 11,
  L: 12,
  GE: 13,
  LE: 14,
  G: 15,
} as const;
export function invertCC(cc: number): number {
  return cc ^ 1;
}

export interface Mem {
  /** GPR; RIP (-1): disp relative to the end of the instruction; NO_BASE (-2): [index*scale+disp32]. */
  base: number;
  index?: number;
  scale?: 1 | 2 | 4 | 8;
  disp: number;
}
export const RIP = -1;
export const NO_BASE = -2;
export function mem(base: number, disp = 0, index?: number, scale: 1 | 2 | 4 | 8 = 1): Mem {
  return index === undefined ? { base, disp } : { base, disp, index, scale };
}

/** ALU operations in their /digit order. */
export const ALU = { add: 0, or: 1, adc: 2, sbb: 3, and: 4, sub: 5, xor: 6, cmp: 7 } as const;
/** Shift/rotate operations in their /digit order. */
export const SHIFT = { rol: 0, ror: 1, shl: 4, shr: 5, sar: 7 } as const;

export class Label {
  pos = -1;
  fixups: number[] = [];
}

const fits8 = (v: number): boolean => v >= -128 && v <= 127;
const fits32 = (v: number): boolean => v >= -0x80000000 && v <= 0x7fffffff;

export class Assembler {
  buf = new Uint8Array(4096);
  len = 0;

  private grow(n: number): void {
    if (this.len + n > this.buf.length) this.buf = grownBuffer(this.buf, this.len, n);
  }
  byte(b: number): void {
    this.grow(1);
    this.buf[this.len++] = b & 0xff;
  }
  u32(v: number): void {
    this.grow(4);
    const b = this.buf,
      p = this.len;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.len += 4;
  }
  u64(v: bigint): void {
    this.u32(Number(v & 0xffffffffn));
    this.u32(Number((v >> 32n) & 0xffffffffn));
  }
  patch32(at: number, v: number): void {
    const b = this.buf;
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = (v >>> 24) & 0xff;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  // ---- Core encoding ----

  /**
   * prefix (0x66/0xF2/0xF3 or 0), REX (W, and R/X/B from the operands), opcode bytes, ModRM.
   * `byteRegs`: the register operands are 8-bit (forces REX for spl/bpl/sil/dil).
   */
  private rm(
    prefix: number,
    w: boolean,
    opcode: number[],
    reg: number,
    rm: number | Mem,
    byteRegs = false,
    immBytes = 0,
  ): void {
    if (prefix) this.byte(prefix);
    let rex = (w ? 8 : 0) | (reg & 8 ? 4 : 0);
    if (typeof rm === 'number') {
      rex |= rm & 8 ? 1 : 0;
      if (byteRegs && (((rm & 15) >= 4 && (rm & 15) <= 7) || (reg >= 4 && reg <= 7))) rex |= 0x40;
    } else {
      if (rm.index !== undefined && rm.index & 8) rex |= 2;
      if (rm.base >= 0 && rm.base & 8) rex |= 1; // (negative bases have bit 3 set: not a register)
      if (byteRegs && reg >= 4 && reg <= 7) rex |= 0x40;
    }
    if (rex) this.byte(0x40 | (rex & 15));
    for (const o of opcode) this.byte(o);
    this.modrm(reg & 7, rm, immBytes);
  }

  private modrm(reg: number, rm: number | Mem, immBytes: number): void {
    if (typeof rm === 'number') {
      this.byte(0xc0 | (reg << 3) | (rm & 7));
      return;
    }
    if (rm.base === NO_BASE) {
      // SIB with base 101 and mod 00: no base register, a 32-bit displacement.
      const scale = rm.scale === 8 ? 3 : rm.scale === 4 ? 2 : rm.scale === 2 ? 1 : 0;
      this.byte((reg << 3) | 4);
      this.byte((scale << 6) | ((rm.index! & 7) << 3) | 5);
      this.u32(rm.disp);
      return;
    }
    if (rm.base < 0) {
      // rip-relative: disp is relative to the end of this instruction.
      this.byte((reg << 3) | 5);
      this.u32(rm.disp - 4 - immBytes);
      return;
    }
    const base = rm.base & 7;
    const disp = rm.disp;
    const mod = disp === 0 && base !== 5 ? 0 : fits8(disp) ? 1 : 2;
    if (rm.index === undefined && base !== 4) {
      this.byte((mod << 6) | (reg << 3) | base);
    } else {
      const scale = rm.scale === 8 ? 3 : rm.scale === 4 ? 2 : rm.scale === 2 ? 1 : 0;
      const index = rm.index === undefined ? 4 : rm.index & 7;
      this.byte((mod << 6) | (reg << 3) | 4);
      this.byte((scale << 6) | (index << 3) | base);
    }
    if (mod === 1) this.byte(disp);
    else if (mod === 2) this.u32(disp);
  }

  // ---- Integer instructions ----

  aluRR(op: number, w: boolean, dst: number, src: number): void {
    this.rm(0, w, [(op << 3) | 1], src, dst);
  }
  aluRI(op: number, w: boolean, dst: number, imm: number): void {
    if (fits8(imm)) {
      this.rm(0, w, [0x83], op, dst, false, 1);
      this.byte(imm);
    } else {
      this.rm(0, w, [0x81], op, dst, false, 4);
      this.u32(imm);
    }
  }
  aluRM(op: number, w: boolean, dst: number, m: Mem): void {
    this.rm(0, w, [(op << 3) | 3], dst, m);
  }
  aluMI(op: number, w: boolean, m: Mem, imm: number): void {
    if (fits8(imm)) {
      this.rm(0, w, [0x83], op, m, false, 1);
      this.byte(imm);
    } else {
      this.rm(0, w, [0x81], op, m, false, 4);
      this.u32(imm);
    }
  }
  movRR(w: boolean, dst: number, src: number): void {
    this.rm(0, w, [0x89], src, dst);
  }
  /** Loads an immediate; `w` false loads 32 bits (zero-extended). */
  movRI(w: boolean, dst: number, imm: bigint): void {
    const v = w ? BigInt.asIntN(64, imm) : BigInt.asUintN(32, imm);
    if (v >= 0n && v <= 0xffffffffn) {
      if (dst & 8) this.byte(0x41);
      this.byte(0xb8 | (dst & 7));
      this.u32(Number(v));
    } else if (v >= -0x80000000n && v < 0n) {
      this.rm(0, true, [0xc7], 0, dst, false, 4);
      this.u32(Number(v));
    } else {
      this.byte(0x48 | (dst & 8 ? 1 : 0));
      this.byte(0xb8 | (dst & 7));
      this.u64(BigInt.asUintN(64, v));
    }
  }
  load(w: boolean, dst: number, m: Mem): void {
    this.rm(0, w, [0x8b], dst, m);
  }
  store(w: boolean, m: Mem, src: number): void {
    this.rm(0, w, [0x89], src, m);
  }
  store8(m: Mem, src: number): void {
    this.rm(0, false, [0x88], src, m, true);
  }
  store16(m: Mem, src: number): void {
    this.rm(0x66, false, [0x89], src, m);
  }
  storeImm32(w: boolean, m: Mem, imm: number): void {
    this.rm(0, w, [0xc7], 0, m, false, 4);
    this.u32(imm);
  }
  /** mov byte/word [m], imm (the low 8 or 16 bits of `imm`). */
  storeImm8(m: Mem, imm: number): void {
    this.rm(0, false, [0xc6], 0, m, false, 1);
    this.byte(imm);
  }
  storeImm16(m: Mem, imm: number): void {
    this.rm(0x66, false, [0xc7], 0, m, false, 2);
    this.byte(imm);
    this.byte(imm >> 8);
  }
  /** movzx/movsx from 8 or 16 bits; `w` selects a 64-bit destination. */
  movzx8(w: boolean, dst: number, src: number | Mem): void {
    this.rm(0, w, [0x0f, 0xb6], dst, src, typeof src === 'number');
  }
  movzx16(w: boolean, dst: number, src: number | Mem): void {
    this.rm(0, w, [0x0f, 0xb7], dst, src);
  }
  movsx8(w: boolean, dst: number, src: number | Mem): void {
    this.rm(0, w, [0x0f, 0xbe], dst, src, typeof src === 'number');
  }
  movsx16(w: boolean, dst: number, src: number | Mem): void {
    this.rm(0, w, [0x0f, 0xbf], dst, src);
  }
  movsxd(dst: number, src: number | Mem): void {
    this.rm(0, true, [0x63], dst, src);
  }
  lea(w: boolean, dst: number, m: Mem): void {
    this.rm(0, w, [0x8d], dst, m);
  }
  imulRR(w: boolean, dst: number, src: number): void {
    this.rm(0, w, [0x0f, 0xaf], dst, src);
  }
  imulRRI(w: boolean, dst: number, src: number, imm: number): void {
    if (fits8(imm)) {
      this.rm(0, w, [0x6b], dst, src, false, 1);
      this.byte(imm);
    } else {
      this.rm(0, w, [0x69], dst, src, false, 4);
      this.u32(imm);
    }
  }
  /** Group 3 (F7): 2 not, 3 neg, 6 div, 7 idiv. */
  unary(digit: number, w: boolean, r: number): void {
    this.rm(0, w, [0xf7], digit, r);
  }
  shiftCL(op: number, w: boolean, r: number): void {
    this.rm(0, w, [0xd3], op, r);
  }
  shiftRI(op: number, w: boolean, r: number, imm: number): void {
    this.rm(0, w, [0xc1], op, r, false, 1);
    this.byte(imm);
  }
  testRR(w: boolean, a: number, b: number): void {
    this.rm(0, w, [0x85], b, a);
  }
  setcc(cc: number, r: number): void {
    this.rm(0, false, [0x0f, 0x90 | cc], 0, r, true);
  }
  cmov(cc: number, w: boolean, dst: number, src: number): void {
    this.rm(0, w, [0x0f, 0x40 | cc], dst, src);
  }
  bsr(w: boolean, dst: number, src: number): void {
    this.rm(0, w, [0x0f, 0xbd], dst, src);
  }
  bsf(w: boolean, dst: number, src: number): void {
    this.rm(0, w, [0x0f, 0xbc], dst, src);
  }
  /** bt/btc/bts/btr with an immediate bit: digit 4 bt, 5 bts, 6 btr, 7 btc. */
  btI(digit: number, w: boolean, r: number, bit: number): void {
    this.rm(0, w, [0x0f, 0xba], digit, r, false, 1);
    this.byte(bit);
  }
  cdq(): void {
    this.byte(0x99);
  }
  cqo(): void {
    this.byte(0x48);
    this.byte(0x99);
  }
  push(r: number): void {
    if (r & 8) this.byte(0x41);
    this.byte(0x50 | (r & 7));
  }
  pop(r: number): void {
    if (r & 8) this.byte(0x41);
    this.byte(0x58 | (r & 7));
  }
  ret(): void {
    this.byte(0xc3);
  }
  ud2(): void {
    this.byte(0x0f);
    this.byte(0x0b);
  }
  callM(m: Mem | number): void {
    this.rm(0, false, [0xff], 2, m);
  }
  jmpM(m: Mem | number): void {
    this.rm(0, false, [0xff], 4, m);
  }

  // ---- Branches ----

  private ref(l: Label): void {
    if (l.pos >= 0) this.u32(l.pos - (this.len + 4));
    else {
      l.fixups.push(this.len);
      this.u32(0);
    }
  }
  /** jmp; rel8 when the label is bound (a backward branch) and near enough. */
  jmp(l: Label): void {
    if (l.pos >= 0 && fits8(l.pos - (this.len + 2))) {
      this.byte(0xeb);
      this.byte(l.pos - (this.len + 1));
      return;
    }
    this.byte(0xe9);
    this.ref(l);
  }
  jcc(cc: number, l: Label): void {
    if (l.pos >= 0 && fits8(l.pos - (this.len + 2))) {
      this.byte(0x70 | cc);
      this.byte(l.pos - (this.len + 1));
      return;
    }
    this.byte(0x0f);
    this.byte(0x80 | cc);
    this.ref(l);
  }
  /** jmp rel8 to a label not bound yet: the caller guarantees it binds within 127 bytes. */
  jmpShortForward(l: Label): void {
    this.byte(0xeb);
    this.shortFixups.push({ at: this.len, label: l });
    this.byte(0);
  }
  private shortFixups: { at: number; label: Label }[] = [];
  call(l: Label): void {
    this.byte(0xe8);
    this.ref(l);
  }
  bind(l: Label): void {
    l.pos = this.len;
    for (const f of l.fixups) this.patch32(f, l.pos - (f + 4));
    l.fixups = [];
    if (this.shortFixups.length === 0) return;
    this.shortFixups = this.shortFixups.filter(({ at, label }) => {
      if (label !== l) return true;
      const rel = l.pos - (at + 1);
      if (!fits8(rel)) throw new Error(`assembler: short jump of ${rel} bytes`);
      this.buf[at] = rel & 0xff;
      return false;
    });
  }
  /** lea dst, [rip + label] */
  leaLabel(dst: number, l: Label): void {
    this.rm(0, true, [0x8d], dst, { base: -1, disp: 0 });
    // The rm() call wrote disp - 4 for a label at the end; fix it up through the label.
    this.len -= 4;
    this.ref(l);
  }

  // ---- SSE ----

  /** movss/movsd between registers or from memory: `dbl` picks sd. */
  movsdLoad(dbl: boolean, dst: number, src: Mem): void {
    this.rm(dbl ? 0xf2 : 0xf3, false, [0x0f, 0x10], dst, src);
  }
  movsdStore(dbl: boolean, dst: Mem, src: number): void {
    this.rm(dbl ? 0xf2 : 0xf3, false, [0x0f, 0x11], src, dst);
  }
  movaps(dst: number, src: number): void {
    this.rm(0, false, [0x0f, 0x28], dst, src);
  }
  /** GPR -> XMM (movd / movq). */
  movGX(w: boolean, xmm: number, gpr: number): void {
    this.rm(0x66, w, [0x0f, 0x6e], xmm, gpr);
  }
  /** XMM -> GPR (movd / movq). */
  movXG(w: boolean, gpr: number, xmm: number): void {
    this.rm(0x66, w, [0x0f, 0x7e], xmm, gpr);
  }
  /** Scalar arithmetic: 0x58 add, 0x59 mul, 0x5c sub, 0x5d min, 0x5e div, 0x5f max, 0x51 sqrt. */
  sseArith(op: number, dbl: boolean, dst: number, src: number): void {
    this.rm(dbl ? 0xf2 : 0xf3, false, [0x0f, op], dst, src);
  }
  ucomis(dbl: boolean, a: number, b: number): void {
    this.rm(dbl ? 0x66 : 0, false, [0x0f, 0x2e], a, b);
  }
  /** Packed logic on the whole register: 0x54 and, 0x55 andn, 0x56 or, 0x57 xor. */
  sseLogic(op: number, dst: number, src: number): void {
    this.rm(0, false, [0x0f, op], dst, src);
  }
  /** cvtsi2ss/sd from a 32- or 64-bit GPR. */
  cvtsi2s(dbl: boolean, w: boolean, xmm: number, gpr: number): void {
    this.rm(dbl ? 0xf2 : 0xf3, w, [0x0f, 0x2a], xmm, gpr);
  }
  /** cvttss2si / cvttsd2si into a 32- or 64-bit GPR. */
  cvtts2si(dbl: boolean, w: boolean, gpr: number, xmm: number): void {
    this.rm(dbl ? 0xf2 : 0xf3, w, [0x0f, 0x2c], gpr, xmm);
  }
  /** cvtss2sd (fromDouble false) or cvtsd2ss (fromDouble true). */
  cvtFloat(fromDouble: boolean, dst: number, src: number): void {
    this.rm(fromDouble ? 0xf2 : 0xf3, false, [0x0f, 0x5a], dst, src);
  }
}

export { fits8, fits32 };
