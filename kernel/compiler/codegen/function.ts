// Compiles one function body in a single pass over its bytes.
//
// Frame (rbp-based): params at [rbp+16+8i] (the caller's outgoing area, where results are also
// returned), saved rbp at [rbp], the preserved registers it pins locals in (k of rbx/r12/r13),
// declared locals at [rbp-8(k+j+1)], then operand-stack home slots, then the outgoing area at
// [rsp+8i] for calls this function makes. r15 = instance, r14 = memory base. Compiled functions
// preserve rbx, r12-r15 and rbp and clobber all other registers (spills happen before calls).

import { CodeReader, Op, type FuncType, type WasmModule } from '../wasm/types.ts';
import { skipImmediates } from '../wasm/immediates.ts';
import {
  Assembler,
  ALU,
  CC,
  Label,
  SHIFT,
  invertCC,
  mem,
  type Mem,
  RAX,
  RCX,
  RDX,
  RDI,
  RSI,
  RSP,
  RBP,
  R11,
  R14,
  R15,
} from './x64.ts';
import {
  ValueStack,
  I32,
  I64,
  F32,
  F64,
  K_REG,
  K_CONST,
  K_MEM,
  K_LOCAL,
  SCRATCH,
  FSCRATCH,
  isFloat,
  type Entry,
  GP_POOL,
  FP_POOL,
  GP_LOCAL_REGS,
  FP_LOCAL_REGS,
  PRESERVED_GP,
} from './values.ts';
import { Inst, Trap, TABLE_ENTRY_INST, TABLE_ENTRY_SHIFT, TABLE_ENTRY_TYPE } from './layout.ts';
import { emitNumeric, intCompareOp, compareFlagsOnly } from './numeric.ts';
import { emitMemoryOp } from './memory.ts';

export interface ModuleContext {
  module: WasmModule;
  /** Label of every function (imports: their stub). */
  funcLabels: Label[];
  /** Canonical type index of each type index. */
  canonType: number[];
  /** Bytes of linear memory that always exist (initial size): constant addresses below skip checks. */
  minMemBytes: number;
  /** The module's trap call (bound after the last body): esi = code, edx = function, ecx = offset. */
  trapTail: Label;
}

interface Ctrl {
  kind: 'block' | 'loop' | 'if' | 'func';
  type: FuncType;
  base: number; // stack height below the block's params
  label: Label; // branch target: end (block/if/func) or start (loop)
  elseLabel: Label | null;
  deadAtEntry: boolean;
  hasElse: boolean;
  /** A loop of the form `loop (cond) if ... br 1 end end` whose back edge re-tests the condition. */
  rotation?: Rotation;
  /** On the `if` that tests a rotated loop's condition: that loop. */
  rotationOf?: Ctrl;
  /**
   * A block/if with no params and one result: branches and the fallthrough deliver the result
   * in this register (rax, or xmm0 for floats) instead of its home slot, so the join reads it
   * without a store and a reload. At the join nothing else is in a pool register: everything
   * below the block was spilled at its entry. -1: results go to their home slots.
   */
  resultReg: number;
}

/**
 * Loop rotation: `loop; cond; if; body; br 1; end; end` runs as `cond; jcc exit; body: ...;
 * cond; jcc body` (one branch per iteration instead of a test, a branch and a jump). The back
 * edge re-compiles the condition's bytes, which are side-effect-free but for traps (loads).
 */
interface Rotation {
  condStart: number; // offset of the condition's first instruction
  ifPos: number; // offset of the `if`
  body: Label | null; // bound right after the loop's entry test
}

/** Opcodes a rotated loop condition may contain (no control flow, no writes, no calls). */
function rotatableOp(op: number): boolean {
  return (
    op === Op.local_get ||
    op === Op.global_get ||
    (op >= Op.i32_load && op <= Op.i64_load32_u) ||
    op === Op.i32_const ||
    op === Op.i64_const ||
    (op >= Op.i32_eqz && op <= Op.i64_ge_u) ||
    (op >= Op.i32_add && op <= Op.i32_rotr) ||
    (op >= Op.i64_add && op <= Op.i64_rotr) ||
    op === Op.i32_wrap_i64 ||
    op === Op.i64_extend_i32_s ||
    op === Op.i64_extend_i32_u
  );
}
const MAX_ROTATED_COND = 48;

interface TrapSite {
  label: Label;
  code: number;
  offset: number;
}

export class FunctionCompiler {
  readonly vs: ValueStack;
  readonly r: CodeReader;
  private readonly localTypes: number[];
  private readonly nParams: number;
  private readonly ctrls: Ctrl[] = [];
  private dead = false;
  private readonly traps: TrapSite[] = [];

  constructor(
    readonly a: Assembler,
    readonly ctx: ModuleContext,
    readonly funcIndex: number,
    readonly type: FuncType,
    bodyIndex: number,
  ) {
    const body = ctx.module.codes[bodyIndex]!;
    this.nParams = type.params.length;
    this.localTypes = [...type.params];
    for (const d of body.locals) for (let i = 0; i < d.count; i++) this.localTypes.push(d.type);
    const nDecl = this.localTypes.length - this.nParams;
    this.localReg = this.pinLocals(ctx.module.bytes, body.codeStart, body.codeEnd);
    const pinned = new Set<number>();
    this.localReg.forEach((r, i) => {
      if (r >= 0) pinned.add(isFloat(this.localTypes[i]!) ? 100 + r : r);
    });
    this.saved = PRESERVED_GP.filter((r) => pinned.has(r));
    this.vs = new ValueStack(
      a,
      -8 * (this.saved.length + nDecl + 1),
      // Preserved registers serve only as pinned locals: a callee never touches one it did not save.
      GP_POOL.filter((r) => !pinned.has(r) && !PRESERVED_GP.includes(r)),
      FP_POOL.filter((r) => !pinned.has(100 + r)),
    );
    this.r = new CodeReader(ctx.module.bytes, body.codeStart, body.codeEnd);
  }

  /** Preserved registers this function pins locals in: pushed in the prologue, popped on return. */
  private readonly saved: number[];

  /** Register holding local i for the whole body, or -1 (then it lives in its frame slot). */
  private readonly localReg: number[];

  /**
   * Picks the hottest locals (uses weighted by loop depth) for the pinned registers: they live
   * there for the whole function, so locals never take part in control-flow merges; those not
   * in a preserved register are saved to their slots around calls.
   */
  private pinLocals(bytes: Uint8Array, start: number, end: number): number[] {
    const weight = new Float64Array(this.localTypes.length);
    const r = new CodeReader(bytes, start, end);
    const kinds: number[] = [];
    let loops = 0;
    const types = this.ctx.module.types;
    while (r.pos < end) {
      const op = r.opcode();
      if (op === Op.block || op === Op.if || op === Op.loop) {
        r.blockType(types);
        kinds.push(op);
        if (op === Op.loop) loops++;
      } else if (op === Op.end) {
        if (kinds.pop() === Op.loop) loops--;
      } else if (op === Op.local_get || op === Op.local_set || op === Op.local_tee) {
        weight[r.u32()]! += 8 ** Math.min(loops, 6);
      } else if (!skipImmediates(r, op, types)) break;
    }
    const order = [...weight.keys()]
      .filter((i) => weight[i]! >= 2)
      .sort((x, y) => weight[y]! - weight[x]! || x - y);
    const out = new Array<number>(this.localTypes.length).fill(-1);
    let g = 0,
      f = 0;
    for (const i of order) {
      if (isFloat(this.localTypes[i]!)) {
        if (f < FP_LOCAL_REGS.length) out[i] = FP_LOCAL_REGS[f++]!;
      } else if (g < GP_LOCAL_REGS.length) out[i] = GP_LOCAL_REGS[g++]!;
    }
    return out;
  }

  /** Stores the pinned locals to their slots (before anything that clobbers registers). */
  saveLocals(): void {
    this.localReg.forEach((r, i) => {
      if (this.clobberedByCalls(i)) this.storeTyped(this.localTypes[i]!, this.localSlot(i), r);
    });
  }
  restoreLocals(): void {
    this.localReg.forEach((r, i) => {
      if (this.clobberedByCalls(i)) this.loadTyped(this.localTypes[i]!, r, this.localSlot(i));
    });
  }
  /** Pinned local i in a register that calls clobber (not rbx/r12/r13, which callees preserve). */
  private clobberedByCalls(i: number): boolean {
    const r = this.localReg[i]!;
    return r >= 0 && (isFloat(this.localTypes[i]!) || !PRESERVED_GP.includes(r));
  }
  /** Before a call: every value to memory, pinned locals to their slots. */
  spillForCall(): void {
    this.vs.spillAll();
    this.saveLocals();
  }

  storeTyped(t: number, m: Mem, r: number): void {
    if (t === I32) this.a.store(false, m, r);
    else if (t === I64) this.a.store(true, m, r);
    else this.a.movsdStore(t === F64, m, r);
  }

  localSlot(i: number): Mem {
    return i < this.nParams
      ? mem(RBP, 16 + 8 * i)
      : mem(RBP, -8 * (this.saved.length + i - this.nParams + 1));
  }

  /** A label that, when jumped to, traps with `code` at the current instruction. */
  trapLabel(code: number): Label {
    const label = new Label();
    this.traps.push({ label, code, offset: this.r.opOffset });
    return label;
  }

  compile(outSlots: number): void {
    const a = this.a;
    const nDecl = this.localTypes.length - this.nParams;
    const nSaved = this.saved.length;
    a.push(RBP);
    a.movRR(true, RBP, RSP);
    for (const r of this.saved) a.push(r);
    // Stack check before the frame is allocated, so the trap handler runs above the limit.
    const stackTrap = this.trapLabel(Trap.stackExhausted);
    const leaPatch = a.len + 4; // lea r11, [rsp + disp32] : REX, 8D, ModRM, SIB, disp32
    a.byte(0x4c);
    a.byte(0x8d);
    a.byte(0x9c);
    a.byte(0x24);
    a.u32(0);
    a.aluRM(ALU.cmp, true, R11, mem(R15, Inst.stackLimit));
    a.jcc(CC.B, stackTrap);
    const subPatch = a.len + 3; // sub rsp, imm32 : REX.W 81 /5 id
    a.byte(0x48);
    a.byte(0x81);
    a.byte(0xec);
    a.u32(0);
    if (nDecl > 0) {
      if (nDecl <= 8) {
        // Slots of pinned locals are written before they are read (saveLocals): no zeroing.
        const unpinned = [...Array(nDecl).keys()].filter((j) => this.localReg[this.nParams + j]! < 0);
        if (unpinned.length > 0) a.aluRR(ALU.xor, false, RAX, RAX);
        for (const j of unpinned) a.store(true, mem(RBP, -8 * (nSaved + j + 1)), RAX);
      } else {
        a.lea(true, RDI, mem(RBP, -8 * (nSaved + nDecl)));
        a.movRI(false, RCX, BigInt(nDecl));
        a.aluRR(ALU.xor, false, RAX, RAX);
        a.byte(0xf3);
        a.byte(0x48);
        a.byte(0xab); // rep stosq
      }
    }
    this.localReg.forEach((r, i) => {
      if (r < 0) return;
      const t = this.localTypes[i]!;
      if (i < this.nParams) this.loadTyped(t, r, this.localSlot(i));
      else if (isFloat(t)) a.sseLogic(0x57, r, r);
      else a.aluRR(ALU.xor, false, r, r);
    });
    this.ctrls.push({
      resultReg: -1,
      kind: 'func',
      type: this.type,
      base: 0,
      label: new Label(),
      elseLabel: null,
      deadAtEntry: false,
      hasElse: false,
    });
    while (this.ctrls.length > 0) this.step();
    // Frame below the saved registers: locals + operand slots + outgoing area, keeping rsp
    // 16-byte aligned (rbp is 16-byte aligned, the saved registers take 8 bytes each).
    const frame = ((8 * (nSaved + nDecl + this.vs.maxHeight + outSlots) + 15) & ~15) - 8 * nSaved;
    a.patch32(leaPatch, -frame);
    a.patch32(subPatch, frame);
    this.emitTraps();
  }

  /**
   * Out-of-line trap stubs: each site only loads its Wasm offset (ecx) and jumps to the tail of
   * its trap code, which loads the code (esi) and joins the function's tail. Each group's last
   * stub falls through into the group's tail; the others jump with rel8 when it reaches.
   */
  private emitTraps(): void {
    const a = this.a;
    const groups = new Map<number, TrapSite[]>();
    const functionTail = new Label();
    for (const t of this.traps) {
      if (t.label.fixups.length === 0) continue;
      const g = groups.get(t.code);
      if (g) g.push(t);
      else groups.set(t.code, [t]);
    }
    let left = groups.size;
    for (const sites of groups.values()) {
      // Sizes from the last stub backwards: mov ecx, imm32 (5) + jmp rel8 (2) or rel32 (5).
      const jumpSize = new Array<number>(sites.length).fill(0);
      let after = 0; // bytes between the end of stub i and the group's tail
      for (let i = sites.length - 1; i >= 0; i--) {
        if (i < sites.length - 1) jumpSize[i] = after + 2 <= 127 ? 2 : 5;
        after += 5 + jumpSize[i]!;
      }
      const tail = new Label();
      sites.forEach((t, i) => {
        a.bind(t.label);
        a.movRI(false, RCX, BigInt(t.offset));
        if (jumpSize[i] === 2) a.jmpShortForward(tail);
        else if (jumpSize[i] === 5) a.jmp(tail);
      });
      a.bind(tail);
      a.movRI(false, RSI, BigInt(sites[0]!.code));
      if (--left > 0) a.jmp(functionTail); // the last group falls through
    }
    a.bind(functionTail);
    if (groups.size === 0) return;
    a.movRI(false, RDX, BigInt(this.funcIndex));
    a.jmp(this.ctx.trapTail);
  }

  // ---- Control flow ----

  private branchArity(c: Ctrl): number {
    return c.kind === 'loop' ? c.type.params.length : c.type.results.length;
  }

  /** Emits the moves a branch to `c` needs (values to the target's slots); no state change. */
  private branchMoves(c: Ctrl): void {
    const vs = this.vs;
    const n = this.branchArity(c);
    const h = vs.height;
    if (c.resultReg >= 0) {
      // Only on the branch's own path (or at the join): a value of the fallthrough that sits in
      // the result register is not live here.
      vs.load(vs.stack[h - 1]!, c.resultReg, h - 1);
      return;
    }
    for (let i = 0; i < n; i++) {
      const p = h - n + i;
      const e = vs.stack[p]!;
      const dst = c.base + i;
      if (e.k === K_MEM) {
        if (p === dst) continue;
        const w = e.t === I64 || e.t === F64;
        this.a.load(w, SCRATCH, vs.slot(p));
        this.a.store(w, vs.slot(dst), SCRATCH);
      } else vs.storeTo(e, vs.slot(dst));
    }
  }

  /** Emits the function's return: results to the caller's area, then the epilogue. */
  private emitReturn(): void {
    const vs = this.vs;
    const n = this.type.results.length;
    const h = vs.height;
    for (let i = 0; i < n; i++) {
      const p = h - n + i;
      const e = vs.stack[p]!;
      vs.writeSlot(e, e.k === K_MEM ? vs.slot(p) : null, mem(RBP, 16 + 8 * i));
    }
    if (this.saved.length === 0) this.a.movRR(true, RSP, RBP);
    else {
      this.a.lea(true, RSP, mem(RBP, -8 * this.saved.length));
      for (let i = this.saved.length - 1; i >= 0; i--) this.a.pop(this.saved[i]!);
    }
    this.a.pop(RBP);
    this.a.ret();
  }

  /** Unconditional branch to label depth `depth`. */
  private emitBr(depth: number): void {
    const c = this.ctrls[this.ctrls.length - 1 - depth]!;
    if (c.kind === 'func') return this.emitReturn();
    this.branchMoves(c);
    this.a.jmp(c.label);
  }

  /** Branch to `depth` when condition `cc` holds (flags already set). */
  private emitBrIfCC(depth: number, cc: number): void {
    const c = this.ctrls[this.ctrls.length - 1 - depth]!;
    const n = this.branchArity(c);
    let movesNeeded = c.kind === 'func';
    if (c.resultReg >= 0) {
      const e = this.vs.peek();
      movesNeeded = !(e.k === K_REG && e.r === c.resultReg);
    } else
      for (let i = 0; i < n && !movesNeeded; i++) {
        const p = this.vs.height - n + i;
        if (this.vs.stack[p]!.k !== K_MEM || p !== c.base + i) movesNeeded = true;
      }
    if (!movesNeeded) {
      this.a.jcc(cc, c.label);
      return;
    }
    const skip = new Label();
    this.a.jcc(invertCC(cc), skip);
    this.emitBr(depth);
    this.a.bind(skip);
  }

  private enterBlock(kind: Ctrl['kind'], type: FuncType): Ctrl {
    const single =
      (kind === 'block' || kind === 'if') && type.params.length === 0 && type.results.length === 1;
    const c: Ctrl = {
      resultReg: single ? (isFloat(type.results[0]!) ? 0 : RAX) : -1,
      kind,
      type,
      base: this.vs.height - type.params.length,
      label: new Label(),
      elseLabel: null,
      deadAtEntry: false,
      hasElse: false,
    };
    this.ctrls.push(c);
    return c;
  }

  /** Sets the abstract stack to the block's base plus `types` in their home slots. */
  private resetTo(c: Ctrl, types: readonly number[]): void {
    this.vs.truncate(c.base);
    for (const t of types) this.vs.pushMem(t);
  }

  /** The stack where a block's branches and fallthrough meet: its results where they put them. */
  private joinState(c: Ctrl): void {
    if (c.resultReg < 0) return this.resetTo(c, c.type.results);
    this.vs.truncate(c.base);
    const t = c.type.results[0]!;
    if (isFloat(t)) this.vs.markFP(c.resultReg);
    else this.vs.markGP(c.resultReg);
    this.vs.pushReg(t, c.resultReg);
  }

  /** Pops an i32 condition and returns the condition code meaning "true" (flags set). */
  popCondition(): number {
    const e = this.vs.popRead();
    this.a.testRR(false, e.r, e.r);
    this.vs.free(e);
    return CC.NE;
  }

  /**
   * When the next instruction is `local.set i` / `local.tee i` and `x` is a lazy read of pinned
   * local i, consumes that instruction and returns the local's register: the caller then computes
   * in place (`add ebx, 1` instead of copy, add, copy back) and calls `finishInPlace`. Other lazy
   * reads of the local on the stack are copied first, as they must keep the old value.
   */
  inPlaceTarget(x: Entry): { reg: number; tee: boolean } | null {
    if (x.k !== K_LOCAL) return null;
    const r = this.r;
    const next = r.pos < r.end ? r.bytes[r.pos]! : -1;
    if (next !== Op.local_set && next !== Op.local_tee) return null;
    const save = r.pos;
    const saveOffset = r.opOffset;
    r.opcode();
    if (BigInt(r.u32()) !== x.c) {
      r.pos = save;
      r.opOffset = saveOffset;
      return null;
    }
    this.vs.materializeLocal(Number(x.c));
    return { reg: x.r, tee: next === Op.local_tee };
  }
  /** Ends an in-place update: `local.tee` leaves a lazy read of the local on the stack. */
  finishInPlace(x: Entry, target: { reg: number; tee: boolean }): void {
    if (target.tee) this.vs.push({ t: x.t, k: K_LOCAL, r: target.reg, c: x.c });
  }

  /** After a comparison: fuse with a following br_if / if, else materialise to an i32. */
  fuseOrSet(cc: number, setFlags: () => void): void {
    const r = this.r;
    const next = r.pos < r.end ? r.bytes[r.pos]! : -1;
    if (this.rotating && r.pos === this.rotating.ifPos) {
      this.vs.spillAll();
      setFlags();
      this.a.jcc(cc, this.rotating.body!);
      this.rotating = null;
      return;
    }
    if (next === Op.br_if) {
      r.opcode();
      const depth = r.u32();
      setFlags();
      this.emitBrIfCC(depth, cc);
      return;
    }
    if (next === Op.if) {
      r.opcode();
      const type = r.blockType(this.ctx.module.types);
      this.vs.spillAll();
      setFlags();
      this.emitIf(type, cc);
      return;
    }
    if (this.fuseAndOfCompares(cc, setFlags)) return;
    setFlags();
    const d = this.vs.allocGP();
    this.a.setcc(cc, d);
    this.a.movzx8(false, d, d);
    this.vs.pushReg(I32, d);
  }

  /**
   * `A; x; y; cmpB; i32.and` consumed by br_if, if or a rotated loop's re-test, where x and y are
   * pinned locals or small constants (reading them emits nothing): two compare-and-branches, B
   * only tested when A holds (both are free of side effects, so skipping B changes nothing).
   * Consumes the instructions when it fuses; otherwise leaves the reader where it was.
   */
  private fuseAndOfCompares(ccA: number, setFlagsA: () => void): boolean {
    const r = this.r;
    const save = r.pos;
    const saveOffset = r.opOffset;
    const fail = (): boolean => {
      r.pos = save;
      r.opOffset = saveOffset;
      return false;
    };
    const operands: Entry[] = [];
    for (let i = 0; i < 2; i++) {
      if (r.pos >= r.end) return fail();
      const op = r.opcode();
      if (op === Op.local_get) {
        const index = r.u32();
        const lr = this.localReg[index]!;
        if (lr < 0) return fail();
        operands.push({ t: this.localTypes[index]!, k: K_LOCAL, r: lr, c: BigInt(index) });
      } else if (op === Op.i32_const) operands.push({ t: I32, k: K_CONST, r: -1, c: BigInt(r.s32() >>> 0) });
      else if (op === Op.i64_const) {
        const v = r.s64();
        if (v < -0x80000000n || v > 0x7fffffffn) return fail();
        operands.push({ t: I64, k: K_CONST, r: -1, c: BigInt.asUintN(64, v) });
      } else return fail();
    }
    const [x, y] = operands as [Entry, Entry];
    if (x.k === K_CONST && y.k === K_CONST) return fail();
    if (r.pos >= r.end) return fail();
    const cmpB = intCompareOp(r.opcode());
    if (!cmpB || r.pos >= r.end || r.opcode() !== Op.i32_and || r.pos >= r.end) return fail();
    const a = this.a;
    const next = r.bytes[r.pos]!;
    if (this.rotating && r.pos === this.rotating.ifPos) {
      this.vs.spillAll();
      setFlagsA();
      const skip = new Label();
      a.jcc(invertCC(ccA), skip);
      a.jcc(compareFlagsOnly(this, x, y, cmpB[0], cmpB[1]), this.rotating.body!);
      a.bind(skip);
      this.rotating = null;
      return true;
    }
    if (next === Op.br_if) {
      r.opcode();
      const depth = r.u32();
      setFlagsA();
      const skip = new Label();
      a.jcc(invertCC(ccA), skip);
      this.emitBrIfCC(depth, compareFlagsOnly(this, x, y, cmpB[0], cmpB[1]));
      a.bind(skip);
      return true;
    }
    if (next === Op.if) {
      r.opcode();
      const type = r.blockType(this.ctx.module.types);
      this.vs.spillAll();
      setFlagsA();
      const elseLabel = new Label();
      a.jcc(invertCC(ccA), elseLabel);
      this.emitIf(type, compareFlagsOnly(this, x, y, cmpB[0], cmpB[1]), elseLabel);
      return true;
    }
    return fail();
  }

  private emitIf(type: FuncType, cc: number, elseLabel = new Label()): void {
    const loop = this.ctrls[this.ctrls.length - 1]!;
    const c = this.enterBlock('if', type);
    c.elseLabel = elseLabel;
    this.a.jcc(invertCC(cc), c.elseLabel);
    if (loop.rotation && loop.rotation.ifPos === this.r.opOffset) {
      loop.rotation.body = new Label();
      this.a.bind(loop.rotation.body);
      c.rotationOf = loop;
    }
  }

  /** The loop just entered has a rotatable condition followed by `if` (empty type)? */
  private findRotation(): Rotation | undefined {
    const r = this.r;
    const condStart = r.pos;
    const types = this.ctx.module.types;
    const scan = new CodeReader(r.bytes, condStart, Math.min(r.end, condStart + MAX_ROTATED_COND));
    while (scan.pos < scan.end) {
      const at = scan.pos;
      const op = scan.opcode();
      if (op === Op.if) {
        const empty = scan.pos < scan.end && r.bytes[scan.pos] === 0x40;
        return empty && at > condStart ? { condStart, ifPos: at, body: null } : undefined;
      }
      if (!rotatableOp(op) || !skipImmediates(scan, op, types)) return undefined;
    }
    return undefined;
  }

  /** A `br` from the rotated `if` back to its loop: re-test the condition, jump to the body. */
  private emitRotatedBackEdge(loop: Ctrl): void {
    const rot = loop.rotation!;
    const r = this.r;
    const savePos = r.pos;
    const saveOffset = r.opOffset;
    this.vs.truncate(loop.base); // a branch to the loop drops everything above its base
    this.rotating = rot;
    r.pos = rot.condStart;
    while (r.pos < rot.ifPos) this.step();
    if (this.rotating) {
      // The condition did not end in a fused comparison: test the i32 it left.
      const cc = this.popCondition();
      this.vs.spillAll();
      this.a.jcc(cc, rot.body!);
    }
    this.rotating = null;
    r.pos = savePos;
    r.opOffset = saveOffset;
  }
  /** Set while a rotated loop's condition is re-compiled at its back edge. */
  private rotating: Rotation | null = null;

  private step(): void {
    const r = this.r;
    const op = r.opcode();
    const vs = this.vs;
    const a = this.a;
    const types = this.ctx.module.types;
    if (this.dead) {
      switch (op) {
        case Op.block:
        case Op.loop:
        case Op.if: {
          const c = this.enterBlock(
            op === Op.block ? 'block' : op === Op.loop ? 'loop' : 'if',
            r.blockType(types),
          );
          c.deadAtEntry = true;
          return;
        }
        case Op.else: {
          const c = this.ctrls[this.ctrls.length - 1]!;
          c.hasElse = true;
          if (c.deadAtEntry) return;
          this.resetTo(c, c.type.params);
          a.bind(c.elseLabel!);
          this.dead = false;
          return;
        }
        case Op.end:
          return this.emitEnd();
        default:
          skipImmediates(r, op, types);
          return;
      }
    }
    switch (op) {
      case Op.unreachable:
        a.jmp(this.trapLabel(Trap.unreachable));
        this.dead = true;
        return;
      case Op.nop:
        return;
      case Op.block: {
        const type = r.blockType(types);
        vs.spillAll();
        this.enterBlock('block', type);
        return;
      }
      case Op.loop: {
        const type = r.blockType(types);
        vs.spillAll();
        const c = this.enterBlock('loop', type);
        a.bind(c.label);
        if (type.params.length === 0 && type.results.length === 0) c.rotation = this.findRotation();
        return;
      }
      case Op.if: {
        const type = r.blockType(types);
        const cc = this.popCondition();
        vs.spillAll(); // mov/stores only: the flags survive
        this.emitIf(type, cc);
        return;
      }
      case Op.else: {
        const c = this.ctrls[this.ctrls.length - 1]!;
        c.hasElse = true;
        this.branchMoves(c);
        a.jmp(c.label);
        this.resetTo(c, c.type.params);
        a.bind(c.elseLabel!);
        return;
      }
      case Op.end:
        return this.emitEnd();
      case Op.br: {
        const depth = r.u32();
        const target = this.ctrls[this.ctrls.length - 1 - depth]!;
        const inner = this.ctrls[this.ctrls.length - 1]!;
        // From the then-branch of the loop's test: a not-taken re-test falls through to where
        // the `if` ends, as the loop's own test would branch.
        if (depth === 1 && inner.rotationOf === target && !inner.hasElse) this.emitRotatedBackEdge(target);
        else this.emitBr(depth);
        this.dead = true;
        return;
      }
      case Op.br_if: {
        const depth = r.u32();
        const cc = this.popCondition();
        this.emitBrIfCC(depth, cc);
        return;
      }
      case Op.br_table:
        return this.emitBrTable();
      case Op.return:
        this.emitReturn();
        this.dead = true;
        return;
      case Op.call:
        return this.emitCall(r.u32());
      case Op.call_indirect: {
        const typeIndex = r.u32();
        r.u32();
        return this.emitCallIndirect(typeIndex);
      }
      case Op.drop:
        vs.free(vs.pop());
        return;
      case Op.select:
      case Op.select_t:
        if (op === Op.select_t) {
          const n = r.u32();
          for (let i = 0; i < n; i++) r.u8();
        }
        return this.emitSelect();
      case Op.local_get: {
        const i = r.u32();
        const t = this.localTypes[i]!;
        const lr = this.localReg[i]!;
        if (lr >= 0) {
          vs.push({ t, k: K_LOCAL, r: lr, c: BigInt(i) });
          return;
        }
        const d = vs.alloc(t);
        this.loadTyped(t, d, this.localSlot(i));
        vs.pushReg(t, d);
        return;
      }
      case Op.local_set:
      case Op.local_tee: {
        const i = r.u32();
        const e = vs.peek();
        const lr = this.localReg[i]!;
        if (lr >= 0) {
          if (e.k === K_LOCAL && e.c === BigInt(i)) {
            if (op === Op.local_set) vs.pop();
            return;
          }
          vs.pop();
          vs.materializeLocal(i);
          vs.push(e);
          vs.load(e, lr, vs.height - 1);
        } else {
          if (e.k === K_MEM) vs.toReg(e, vs.height - 1);
          vs.storeTo(e, this.localSlot(i));
        }
        if (op === Op.local_set) vs.free(vs.pop());
        return;
      }
      case Op.global_get: {
        const i = r.u32();
        const t = this.ctx.module.globalSpace[i]!.valType;
        const d = vs.alloc(t);
        this.loadTyped(t, d, this.globalCell(i));
        vs.pushReg(t, d);
        return;
      }
      case Op.global_set: {
        const i = r.u32();
        const e = vs.popReg();
        vs.storeTo(e, this.globalCell(i));
        vs.free(e);
        return;
      }
      case Op.i32_const:
        vs.pushConst(I32, BigInt(r.s32() >>> 0));
        return;
      case Op.i64_const:
        vs.pushConst(I64, BigInt.asUintN(64, r.s64()));
        return;
      case Op.f32_const: {
        const bits = r.f32Bits();
        const d = vs.allocFP();
        vs.load({ t: F32, k: K_CONST, r: -1, c: BigInt(bits) }, d, null);
        vs.pushReg(F32, d);
        return;
      }
      case Op.f64_const: {
        const bits = r.f64Bits();
        const d = vs.allocFP();
        vs.load({ t: F64, k: K_CONST, r: -1, c: bits }, d, null);
        vs.pushReg(F64, d);
        return;
      }
      default:
        if (emitMemoryOp(this, op)) return;
        if (emitNumeric(this, op)) return;
        throw new Error(`codegen: unsupported opcode 0x${op.toString(16)} in function ${this.funcIndex}`);
    }
  }

  /**
   * Where global i lives. An imported mutable global may belong to another instance and be
   * shared with it: its slot holds the cell's address (R11 is free between instructions).
   */
  private globalCell(i: number): Mem {
    const m = this.ctx.module;
    if (i < m.numImportedGlobals && m.globalSpace[i]!.mutable) {
      this.a.load(true, R11, mem(R15, Inst.globals + 8 * i));
      return mem(R11, 0);
    }
    return mem(R15, Inst.globals + 8 * i);
  }

  loadTyped(t: number, d: number, m: Mem): void {
    if (t === I32) this.a.load(false, d, m);
    else if (t === I64) this.a.load(true, d, m);
    else this.a.movsdLoad(t === F64, d, m);
  }

  private emitEnd(): void {
    const c = this.ctrls.pop()!;
    const a = this.a;
    if (c.kind === 'func') {
      if (!this.dead) this.emitReturn();
      this.dead = false;
      return;
    }
    if (c.deadAtEntry) return; // still dead: the enclosing block's state is unchanged
    const wasDead = this.dead;
    if (c.kind === 'loop') {
      // The end of a loop is no branch target: the fallthrough keeps its registers.
      this.dead = wasDead;
      if (wasDead) this.resetTo(c, c.type.results);
      return;
    }
    const targeted = c.label.fixups.length > 0 || (c.kind === 'if' && !c.hasElse);
    if (!wasDead && !targeted) return; // plain fallthrough, values stay where they are
    if (!wasDead) this.branchMoves(c);
    if (c.kind === 'if' && !c.hasElse) a.bind(c.elseLabel!);
    a.bind(c.label);
    this.joinState(c);
    this.dead = false;
  }

  private emitBrTable(): void {
    const { targets, defaultTarget } = this.r.brTable();
    const vs = this.vs;
    const a = this.a;
    const idx = vs.popReg();
    vs.spillAll();
    const all = [...targets, defaultTarget];
    const stubs = new Map<number, Label>();
    for (const d of all) if (!stubs.has(d)) stubs.set(d, new Label());
    a.aluRI(ALU.cmp, false, idx.r, targets.length | 0);
    a.jcc(CC.AE, stubs.get(defaultTarget)!);
    if (targets.length > 0) {
      const table = new Label();
      a.leaLabel(R11, table);
      a.movsxd(idx.r, mem(R11, 0, idx.r, 4));
      a.aluRR(ALU.add, true, R11, idx.r);
      a.jmpM(R11);
      a.bind(table);
      const tablePos = a.len;
      for (let i = 0; i < targets.length; i++) a.u32(0);
      vs.free(idx);
      for (const [d, l] of stubs) {
        a.bind(l);
        for (let i = 0; i < targets.length; i++)
          if (targets[i] === d) a.patch32(tablePos + 4 * i, l.pos - tablePos);
        this.emitBr(d);
      }
    } else {
      vs.free(idx);
      for (const [d, l] of stubs) {
        a.bind(l);
        this.emitBr(d);
      }
    }
    this.dead = true;
  }

  /** Writes the top `n` values as call arguments and pops them; spills everything else. */
  private prepareCall(n: number): void {
    const vs = this.vs;
    const h = vs.height;
    for (let i = 0; i < n; i++) {
      const p = h - n + i;
      const e = vs.stack[p]!;
      vs.writeSlot(e, e.k === K_MEM ? vs.slot(p) : null, mem(RSP, 8 * i));
    }
    vs.truncate(h - n);
    this.spillForCall();
  }

  private pushResults(results: readonly number[]): void {
    for (let i = 0; i < results.length; i++) {
      const t = results[i]!;
      const d = this.vs.alloc(t);
      this.loadTyped(t, d, mem(RSP, 8 * i));
      this.vs.pushReg(t, d);
    }
  }

  private emitCall(f: number): void {
    const m = this.ctx.module;
    const type = m.types[m.funcTypeIndices[f]!]!;
    this.prepareCall(type.params.length);
    this.a.call(this.ctx.funcLabels[f]!);
    this.restoreLocals();
    this.pushResults(type.results);
  }

  private emitCallIndirect(typeIndex: number): void {
    const type = this.ctx.module.types[typeIndex]!;
    const vs = this.vs;
    const a = this.a;
    const idx = vs.popReg();
    this.prepareCall(type.params.length);
    const nullTrap = this.trapLabel(Trap.indirectNull);
    const mismatchTrap = this.trapLabel(Trap.indirectTypeMismatch);
    a.movRR(false, R11, idx.r); // zero-extends the index
    vs.free(idx);
    a.aluRM(ALU.cmp, true, R11, mem(R15, Inst.tableSize));
    a.jcc(CC.AE, nullTrap);
    a.shiftRI(SHIFT.shl, true, R11, TABLE_ENTRY_SHIFT);
    a.aluRM(ALU.add, true, R11, mem(R15, Inst.table));
    // An entry of another instance (shared table) or a null entry: the runtime checks it and
    // calls it with its own instance (canonical type indices are per module).
    const foreign = new Label();
    a.aluRM(ALU.cmp, true, R15, mem(R11, TABLE_ENTRY_INST));
    a.jcc(CC.NE, foreign);
    a.aluMI(ALU.cmp, false, mem(R11, TABLE_ENTRY_TYPE), this.ctx.canonType[typeIndex]! | 0);
    a.jcc(CC.NE, mismatchTrap);
    a.callM(mem(R11, 0));
    const done = new Label();
    a.jmp(done);
    a.bind(foreign);
    a.movRR(true, RDI, R15);
    a.movRR(true, RSI, RSP);
    a.movRR(true, RDX, R11);
    a.movRI(false, RCX, BigInt(this.ctx.canonType[typeIndex]!));
    a.callM(mem(R15, Inst.callForeignFn));
    a.testRR(false, RAX, RAX);
    a.jcc(CC.E, done);
    a.aluRI(ALU.cmp, false, RAX, Trap.indirectNull);
    a.jcc(CC.E, nullTrap);
    a.jmp(mismatchTrap);
    a.bind(done);
    this.restoreLocals();
    this.pushResults(type.results);
  }

  private emitSelect(): void {
    const vs = this.vs;
    const a = this.a;
    const h = vs.height;
    const cond = vs.popReg();
    const bE = vs.pop();
    const aE = vs.pop();
    vs.toReg(aE, h - 3);
    vs.toReg(bE, h - 2);
    a.testRR(false, cond.r, cond.r);
    vs.free(cond);
    if (isFloat(aE.t)) {
      const skip = new Label();
      a.jcc(CC.NE, skip);
      a.movaps(aE.r, bE.r);
      a.bind(skip);
    } else {
      a.cmov(CC.E, aE.t === I64, aE.r, bE.r);
    }
    vs.free(bE);
    vs.pushReg(aE.t, aE.r);
  }

  /** Calls a C helper through the instance: spills first; `setup` loads the arguments. */
  callHelper(offset: number, setup: () => void): void {
    setup();
    this.a.movRR(true, RDI, R15);
    this.a.callM(mem(R15, offset));
    this.restoreLocals();
  }
}

export { RAX, RCX, RDX, RSI, RDI, R11, R14, R15, FSCRATCH, K_REG, K_CONST, K_MEM };
export type { Entry };
