// The abstract operand stack of the single-pass compiler (Liftoff-style): each Wasm value is a
// constant, a register, or in its home slot in the frame. Registers are allocated on the fly;
// values are spilled to their slots when registers run out, at control-flow joins and at calls.

import {
  Assembler,
  mem,
  type Mem,
  RAX,
  RCX,
  RDX,
  RBX,
  RSI,
  RDI,
  R8,
  R9,
  R10,
  R11,
  R12,
  R13,
  RBP,
} from './x64.ts';

export const I32 = 0x7f,
  I64 = 0x7e,
  F32 = 0x7d,
  F64 = 0x7c;
export const isFloat = (t: number): boolean => t === F32 || t === F64;

export const K_REG = 0,
  K_CONST = 1,
  K_MEM = 2;
/** A local pinned in register r (index in c), read lazily: consumers that only read use r. */
export const K_LOCAL = 3;

export interface Entry {
  t: number; // value type
  k: number; // K_REG, K_CONST or K_MEM (in its home slot)
  r: number; // register when K_REG
  c: bigint; // constant bits when K_CONST (i32: as unsigned 32-bit)
}

/** Allocatable registers; r11 and xmm15 are scratch, r14/r15/rbp/rsp are pinned. */
export const GP_POOL: readonly number[] = [RAX, RCX, RDX, RBX, RSI, RDI, R8, R9, R10, R12, R13];
export const FP_POOL: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
/** Registers that may hold a function's hottest locals for its whole body (taken from the pools). */
export const GP_LOCAL_REGS: readonly number[] = [RBX, R12, R13, R8, R9, R10, RSI];
export const FP_LOCAL_REGS: readonly number[] = [8, 9, 10, 11, 12, 13];
/**
 * Registers compiled functions preserve (as SysV C functions do): a function pushes the ones it
 * pins locals in, so pinned locals there survive calls without a store and a reload.
 */
export const PRESERVED_GP: readonly number[] = [RBX, R12, R13];
export const SCRATCH = R11;
export const FSCRATCH = 15;

export class ValueStack {
  readonly stack: Entry[] = [];
  maxHeight = 0;
  private gpUsed = new Uint8Array(16);
  private fpUsed = new Uint8Array(16);

  constructor(
    readonly a: Assembler,
    /** Frame offset (from rbp) of stack position 0's slot; position p is at slotBase - 8p. */
    readonly slotBase: number,
    /** Registers available for operand values (the pools minus registers pinned to locals). */
    private readonly gpPool: readonly number[] = GP_POOL,
    private readonly fpPool: readonly number[] = FP_POOL,
  ) {}

  slot(p: number): Mem {
    return mem(RBP, this.slotBase - 8 * p);
  }
  get height(): number {
    return this.stack.length;
  }

  push(e: Entry): void {
    this.stack.push(e);
    if (this.stack.length > this.maxHeight) this.maxHeight = this.stack.length;
  }
  pushReg(t: number, r: number): void {
    this.push({ t, k: K_REG, r, c: 0n });
  }
  pushConst(t: number, c: bigint): void {
    this.push({ t, k: K_CONST, r: -1, c });
  }
  pushMem(t: number): void {
    this.push({ t, k: K_MEM, r: -1, c: 0n });
  }
  /** Pops an entry; its register stays reserved until `free` (the caller owns it). */
  pop(): Entry {
    return this.stack.pop()!;
  }
  peek(depth = 0): Entry {
    return this.stack[this.stack.length - 1 - depth]!;
  }

  free(e: Entry): void {
    if (e.k !== K_REG) return;
    if (isFloat(e.t)) this.fpUsed[e.r] = 0;
    else this.gpUsed[e.r] = 0;
  }
  freeReg(float: boolean, r: number): void {
    if (float) this.fpUsed[r] = 0;
    else this.gpUsed[r] = 0;
  }
  isGpFree(r: number): boolean {
    return this.gpUsed[r] === 0;
  }

  /** Stores an entry to its home slot (position p) and marks it K_MEM. */
  spillAt(p: number): void {
    const e = this.stack[p]!;
    if (e.k === K_MEM) return;
    this.storeTo(e, this.slot(p));
    this.free(e);
    e.k = K_MEM;
  }
  spillAll(): void {
    for (let p = 0; p < this.stack.length; p++) this.spillAt(p);
  }

  /** Writes an entry's value to memory with its type's width (does not change the entry). */
  storeTo(e: Entry, m: Mem): void {
    const a = this.a;
    if (e.k === K_REG || e.k === K_LOCAL) {
      if (e.t === I32) a.store(false, m, e.r);
      else if (e.t === I64) a.store(true, m, e.r);
      else a.movsdStore(e.t === F64, m, e.r);
    } else if (e.k === K_CONST) {
      if (e.t === I32 || e.t === F32) a.storeImm32(false, m, Number(BigInt.asIntN(32, e.c)));
      else {
        const v = BigInt.asIntN(64, e.c);
        if (v >= -0x80000000n && v <= 0x7fffffffn) a.storeImm32(true, m, Number(v));
        else {
          a.movRI(true, SCRATCH, v);
          a.store(true, m, SCRATCH);
        }
      }
    } else {
      throw new Error('storeTo: value already in memory');
    }
  }

  /** Writes an entry as a full 8-byte slot (i32/f32 zero-extended): call arguments, results. */
  writeSlot(e: Entry, src: Mem | null, m: Mem): void {
    const a = this.a;
    if (e.k === K_REG || e.k === K_LOCAL) {
      if (e.t === I32 || e.t === I64) a.store(true, m, e.r);
      else if (e.t === F32) {
        a.movXG(false, SCRATCH, e.r);
        a.store(true, m, SCRATCH);
      } else a.movsdStore(true, m, e.r);
    } else if (e.k === K_CONST) {
      a.movRI(e.t === I64 || e.t === F64, SCRATCH, e.c);
      a.store(true, m, SCRATCH);
    } else {
      a.load(e.t === I64 || e.t === F64, SCRATCH, src!);
      a.store(true, m, SCRATCH);
    }
  }

  private spillOldest(float: boolean): void {
    for (let p = 0; p < this.stack.length; p++) {
      const e = this.stack[p]!;
      if (e.k === K_REG && isFloat(e.t) === float) {
        this.spillAt(p);
        return;
      }
    }
    throw new Error('register allocator: nothing to spill');
  }

  allocGP(avoid = -1, avoid2 = -1): number {
    for (;;) {
      for (const r of this.gpPool) {
        if (this.gpUsed[r] === 0 && r !== avoid && r !== avoid2) {
          this.gpUsed[r] = 1;
          return r;
        }
      }
      this.spillOldest(false);
    }
  }
  allocFP(): number {
    for (;;) {
      for (const r of this.fpPool) {
        if (this.fpUsed[r] === 0) {
          this.fpUsed[r] = 1;
          return r;
        }
      }
      this.spillOldest(true);
    }
  }
  alloc(t: number): number {
    return isFloat(t) ? this.allocFP() : this.allocGP();
  }
  markGP(r: number): void {
    this.gpUsed[r] = 1;
  }
  markFP(r: number): void {
    this.fpUsed[r] = 1;
  }

  /** Makes sure no stack entry uses GPR r (moves its value elsewhere). */
  evictGP(r: number, avoid = -1): void {
    if (this.gpUsed[r] === 0) return;
    for (const e of this.stack) {
      if (e.k === K_REG && !isFloat(e.t) && e.r === r) {
        const n = this.allocGP(r, avoid);
        this.a.movRR(true, n, r);
        e.r = n;
        this.gpUsed[r] = 0;
        return;
      }
    }
    // Held by a popped operand: the caller handles it.
  }

  /** Loads a popped entry into a register the caller owns (reusing its own register). */
  toReg(e: Entry, p: number | null = null): number {
    if (e.k === K_REG) return e.r;
    const r = this.alloc(e.t);
    this.load(e, r, p);
    e.k = K_REG;
    e.r = r;
    return r;
  }

  /** A register holding a popped entry's value, for reading only (pinned locals are not copied). */
  readReg(e: Entry, p: number): number {
    return e.k === K_LOCAL ? e.r : this.toReg(e, p);
  }

  /** Copies every lazy read of local `index` still on the stack into its own register. */
  materializeLocal(index: number): void {
    for (const e of this.stack) {
      if (e.k === K_LOCAL && e.c === BigInt(index)) {
        const r = this.alloc(e.t);
        if (isFloat(e.t)) this.a.movaps(r, e.r);
        else this.a.movRR(e.t === I64, r, e.r);
        e.k = K_REG;
        e.r = r;
      }
    }
  }

  /** Materialises a non-register entry into register r. `p` is its position when K_MEM. */
  load(e: Entry, r: number, p: number | null): void {
    const a = this.a;
    if (e.k === K_CONST) {
      if (e.t === I32) a.movRI(false, r, e.c);
      else if (e.t === I64) a.movRI(true, r, e.c);
      else if (e.c === 0n) a.sseLogic(0x57, r, r);
      else {
        a.movRI(e.t === F64, SCRATCH, e.c);
        a.movGX(e.t === F64, r, SCRATCH);
      }
    } else if (e.k === K_MEM) {
      const m = this.slot(p!);
      if (e.t === I32) a.load(false, r, m);
      else if (e.t === I64) a.load(true, r, m);
      else a.movsdLoad(e.t === F64, r, m);
    } else if (e.r !== r) {
      if (isFloat(e.t)) a.movaps(r, e.r);
      else a.movRR(e.t === I64, r, e.r); // i32 values are kept zero-extended
    }
  }

  /** Pops the top entry into a register the caller owns. */
  popReg(): Entry {
    const p = this.stack.length - 1;
    const e = this.pop();
    this.toReg(e, p);
    return e;
  }

  /** Pops the top entry for reading only (see readReg). */
  popRead(): Entry {
    const p = this.stack.length - 1;
    const e = this.pop();
    this.readReg(e, p);
    return e;
  }

  /** Drops entries down to `height`, releasing their registers. */
  truncate(height: number): void {
    while (this.stack.length > height) this.free(this.stack.pop()!);
  }
}
