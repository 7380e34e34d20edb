// Validation of function bodies: the algorithm of the spec's appendix (an operand stack of types
// with "unknown" for the polymorphic stack after unreachable code, and a stack of control
// frames), streamed over the bytes with CodeReader. Also where refused instructions are named.
//
// Written for speed (it runs on every build): one validator object per module with typed-array
// stacks, no allocation per instruction, and opcodes as literal numbers in the big switch (the
// names are in the comments; `Op` in types.ts has them all).

import * as sigs from './numeric-sigs.ts';
import {
  CodeReader,
  Op as OpExport,
  WasmError,
  opName,
  type FuncType,
  type GlobalType,
  type WasmModule,
} from './types.ts';

export interface BodyInfo {
  /** Deepest operand stack (values) and control stack (nesting) seen. */
  maxStack: number;
  maxDepth: number;
}

// Local copies: imported bindings may be getters (tsx), too slow for the inner loop.
const Op = { ...OpExport };
const sigIn1 = sigs.sigIn1;
const sigIn2 = sigs.sigIn2;
const sigOut = sigs.sigOut;
const memType = sigs.memType;
const memNaturalAlign = sigs.memNaturalAlign;
const satIn = sigs.satIn;
const satOut = sigs.satOut;

const I32 = 0x7f;
const I64 = 0x7e;
const F32 = 0x7d;
const F64 = 0x7c;
/** The type of a value popped from the polymorphic stack below unreachable code. */
const UNKNOWN = 0;
/** Implementation limit on the declared locals of one function (V8 has the same). */
export const MAX_LOCALS = 50000;
const FUNCTION_FRAME = -1;

export class BodyValidator {
  private vals = new Uint8Array(1024);
  private sp = 0;
  private ctrlOp = new Int32Array(64);
  private ctrlHeight = new Int32Array(64);
  private ctrlUnreachable = new Uint8Array(64);
  private ctrlType: FuncType[] = [];
  private csp = 0;
  private localTypes = new Uint8Array(64);
  private nLocals = 0;
  private readonly scratch: number[] = [];
  private maxStack = 0;
  private maxDepth = 0;
  private where = '';
  private readonly r: CodeReader;

  constructor(private readonly m: WasmModule) {
    this.r = new CodeReader(m.bytes, 0, m.bytes.length);
  }

  private fail(reason: string): never {
    throw new WasmError('invalid', reason, this.where, this.r.opOffset);
  }

  private malformed(reason: string): never {
    throw new WasmError('malformed', reason, this.where, this.r.opOffset);
  }

  private refuse(feature: string): never {
    throw new WasmError('unsupported', feature, this.where, this.r.opOffset);
  }

  private push(t: number): void {
    if (this.sp === this.vals.length) {
      const bigger = new Uint8Array(this.vals.length * 2);
      bigger.set(this.vals);
      this.vals = bigger;
    }
    this.vals[this.sp++] = t;
    if (this.sp > this.maxStack) this.maxStack = this.sp;
  }

  /** Pops any value; UNKNOWN below unreachable code. */
  private popAny(): number {
    const c = this.csp - 1;
    if (this.sp === this.ctrlHeight[c]) {
      if (this.ctrlUnreachable[c]) return UNKNOWN;
      this.fail('type mismatch');
    }
    return this.vals[--this.sp]!;
  }

  /** Pops a value of type `want`; returns the type found (UNKNOWN below unreachable code). */
  private pop(want: number): number {
    const c = this.csp - 1;
    if (this.sp === this.ctrlHeight[c]) {
      if (this.ctrlUnreachable[c]) return UNKNOWN;
      this.fail('type mismatch');
    }
    const got = this.vals[--this.sp]!;
    if (got !== want && got !== UNKNOWN) this.fail('type mismatch');
    return got;
  }

  private popTypes(ts: readonly number[]): void {
    for (let i = ts.length - 1; i >= 0; i--) this.pop(ts[i]!);
  }

  private pushTypes(ts: readonly number[]): void {
    for (let i = 0; i < ts.length; i++) this.push(ts[i]!);
  }

  private pushCtrl(op: number, t: FuncType): void {
    const csp = this.csp;
    if (csp === this.ctrlOp.length) {
      const n = csp * 2;
      const o = new Int32Array(n);
      o.set(this.ctrlOp);
      this.ctrlOp = o;
      const h = new Int32Array(n);
      h.set(this.ctrlHeight);
      this.ctrlHeight = h;
      const u = new Uint8Array(n);
      u.set(this.ctrlUnreachable);
      this.ctrlUnreachable = u;
    }
    this.ctrlOp[csp] = op;
    this.ctrlType[csp] = t;
    this.ctrlHeight[csp] = this.sp;
    this.ctrlUnreachable[csp] = 0;
    this.csp = csp + 1;
    if (this.csp > this.maxDepth) this.maxDepth = this.csp;
    if (op !== FUNCTION_FRAME) this.pushTypes(t.params);
  }

  /** Pops the innermost frame after checking its results are exactly on the stack. */
  private popCtrl(): number {
    const t = this.ctrlType[this.csp - 1]!;
    this.popTypes(t.results);
    if (this.sp !== this.ctrlHeight[this.csp - 1]) this.fail('type mismatch');
    this.csp--;
    return this.ctrlOp[this.csp]!;
  }

  private labelTypes(depth: number): readonly number[] {
    const i = this.csp - 1 - depth;
    return this.ctrlOp[i] === 0x03 /* loop */ ? this.ctrlType[i]!.params : this.ctrlType[i]!.results;
  }

  /** A block type; the one-result shorthand may name a refused type (v128, references). */
  private blockType(): FuncType {
    const bt = this.r.blockType(this.m.types);
    if (bt.results.length === 1 && bt.params.length === 0) {
      const t = bt.results[0]!;
      if (t < 0x7c || t > 0x7f) {
        this.refuse(
          t === 0x7b ? 'SIMD (v128 block result)' : 'reference types (reference-typed block result)',
        );
      }
    }
    return bt;
  }

  private label(): number {
    const depth = this.r.u32();
    if (depth >= this.csp) this.fail(`unknown label ${depth}`);
    return depth;
  }

  private setUnreachable(): void {
    this.sp = this.ctrlHeight[this.csp - 1]!;
    this.ctrlUnreachable[this.csp - 1] = 1;
  }

  private needMemory(): void {
    if (this.m.memorySpace.length === 0) this.fail('unknown memory 0');
  }

  private zeroByte(): void {
    if (this.r.u8() !== 0) this.malformed('zero byte expected');
  }

  private memArg(op: number): void {
    const align = this.r.u32();
    if (align >= 32) this.malformed('malformed memop flags');
    this.r.u32(); // offset
    this.needMemory();
    if (align > memNaturalAlign[op - 0x28]!) this.fail('alignment must not be larger than natural');
  }

  private local(): number {
    const idx = this.r.u32();
    if (idx >= this.nLocals) this.fail(`unknown local ${idx}`);
    return this.localTypes[idx]!;
  }

  private global(): GlobalType {
    const idx = this.r.u32();
    const g = this.m.globalSpace[idx];
    if (!g) this.fail(`unknown global ${idx}`);
    return g!;
  }

  private dataIndex(): void {
    if (this.m.dataCount === null) this.malformed('data count section required');
    const idx = this.r.u32();
    if (idx >= this.m.dataCount!) this.fail(`unknown data segment ${idx}`);
  }

  /** Validates defined function `index` (0-based among the module's own functions). */
  validate(index: number): BodyInfo {
    const m = this.m;
    const r = this.r;
    const funcIndex = m.numImportedFuncs + index;
    const body = m.codes[index]!;
    const type = m.types[m.functions[index]!]!;
    const name = m.funcNames.get(funcIndex);
    this.where = `function ${funcIndex}${name ? ` ($${name})` : ''}`;
    const types = m.types;

    // Local types: parameters then declared locals.
    if (body.numLocals > MAX_LOCALS) this.refuse(`more than ${MAX_LOCALS} locals (implementation limit)`);
    const nLocals = type.params.length + body.numLocals;
    if (this.localTypes.length < nLocals) this.localTypes = new Uint8Array(nLocals * 2);
    let li = 0;
    for (const p of type.params) this.localTypes[li++] = p;
    for (const d of body.locals) {
      if (d.type < 0x7c || d.type > 0x7f)
        this.refuse(d.type === 0x7b ? 'SIMD (v128 locals)' : 'reference types (reference-typed locals)');
      this.localTypes.fill(d.type, li, li + d.count);
      li += d.count;
    }
    this.nLocals = nLocals;
    this.sp = 0;
    this.csp = 0;
    this.maxStack = 0;
    this.maxDepth = 0;
    r.pos = body.codeStart;
    r.end = m.bytes.length; // as the reference decoder: read on, then check the body's size
    this.pushCtrl(FUNCTION_FRAME, type);

    for (;;) {
      const op = r.opcode();
      if (op < 256) {
        const in1 = sigIn1[op]!;
        if (in1) {
          const in2 = sigIn2[op]!;
          if (in2) this.pop(in2);
          this.pop(in1);
          this.push(sigOut[op]!);
          continue;
        }
      }
      switch (op) {
        case 0x00:
          this.setUnreachable();
          break; // unreachable
        case 0x01:
          break; // nop
        case 0x02:
        case 0x03: {
          // block, loop
          const bt = this.blockType();
          this.popTypes(bt.params);
          this.pushCtrl(op, bt);
          break;
        }
        case 0x04: {
          // if
          const bt = this.blockType();
          this.pop(I32);
          this.popTypes(bt.params);
          this.pushCtrl(op, bt);
          break;
        }
        case 0x05: {
          // else
          if (this.ctrlOp[this.csp - 1] !== 0x04) this.malformed('END opcode expected');
          const bt = this.ctrlType[this.csp - 1]!;
          this.popCtrl();
          this.pushCtrl(0x05, bt);
          break;
        }
        case 0x0b: {
          // end
          const frameType = this.ctrlType[this.csp - 1]!;
          const frameOp = this.popCtrl();
          // An `if` without `else` passes its parameters through the missing branch.
          if (frameOp === 0x04 && !sameTypes(frameType.params, frameType.results)) this.fail('type mismatch');
          if (this.csp === 0) {
            if (r.pos !== body.codeEnd) this.malformed('section size mismatch');
            return { maxStack: this.maxStack, maxDepth: this.maxDepth };
          }
          this.pushTypes(frameType.results);
          break;
        }
        case 0x0c: // br
          this.popTypes(this.labelTypes(this.label()));
          this.setUnreachable();
          break;
        case 0x0d: {
          // br_if
          const lt = this.labelTypes(this.label());
          this.pop(I32);
          this.popTypes(lt);
          this.pushTypes(lt);
          break;
        }
        case 0x0e:
          this.brTable();
          break;
        case 0x0f: // return
          this.popTypes(type.results);
          this.setUnreachable();
          break;
        case 0x10: {
          // call
          const f = r.u32();
          if (f >= m.funcTypeIndices.length) this.fail(`unknown function ${f}`);
          const ft = types[m.funcTypeIndices[f]!]!;
          this.popTypes(ft.params);
          this.pushTypes(ft.results);
          break;
        }
        case 0x11: {
          // call_indirect
          const ti = r.u32();
          const table = r.u32();
          if (table >= m.tableSpace.length) this.fail(`unknown table ${table}`);
          if (ti >= types.length) this.fail(`unknown type ${ti}`);
          const ft = types[ti]!;
          this.pop(I32);
          this.popTypes(ft.params);
          this.pushTypes(ft.results);
          break;
        }
        case 0x1a:
          this.popAny();
          break; // drop
        case 0x1b: {
          // select
          this.pop(I32);
          const a = this.popAny();
          const b = this.popAny();
          if (a !== b && a !== UNKNOWN && b !== UNKNOWN) this.fail('type mismatch');
          this.push(a === UNKNOWN ? b : a);
          break;
        }
        case 0x1c: {
          // select t*
          const n = r.len32();
          if (n !== 1) this.fail('invalid result arity');
          const t = r.u8();
          if (t < 0x7c || t > 0x7f)
            this.refuse(t === 0x7b ? 'SIMD (select of v128)' : 'reference types (select of references)');
          this.pop(I32);
          this.pop(t);
          this.pop(t);
          this.push(t);
          break;
        }
        case 0x20:
          this.push(this.local());
          break; // local.get
        case 0x21:
          this.pop(this.local());
          break; // local.set
        case 0x22: {
          const t = this.local();
          this.pop(t);
          this.push(t);
          break;
        } // local.tee
        case 0x23:
          this.push(this.global().valType);
          break; // global.get
        case 0x24: {
          // global.set
          const g = this.global();
          if (!g.mutable) this.fail('global is immutable');
          this.pop(g.valType);
          break;
        }
        case 0x3f:
          this.zeroByte();
          this.needMemory();
          this.push(I32);
          break; // memory.size
        case 0x40:
          this.zeroByte();
          this.needMemory();
          this.pop(I32);
          this.push(I32);
          break; // memory.grow
        case 0x41:
          r.s32();
          this.push(I32);
          break;
        case 0x42:
          r.skipS64();
          this.push(I64);
          break;
        case 0x43:
          r.skip(4);
          this.push(F32);
          break;
        case 0x44:
          r.skip(8);
          this.push(F64);
          break;
        case 0xfc08: {
          // memory.init: the reference checks the memory before the segment
          const at = r.pos;
          r.u32();
          this.zeroByte();
          this.needMemory();
          const after = r.pos;
          r.pos = at;
          this.dataIndex();
          r.pos = after;
          this.pop(I32);
          this.pop(I32);
          this.pop(I32);
          break;
        }
        case 0xfc09:
          this.dataIndex();
          break; // data.drop
        case 0xfc0a:
          this.zeroByte();
          this.zeroByte();
          this.needMemory();
          this.pop(I32);
          this.pop(I32);
          this.pop(I32);
          break; // memory.copy
        case 0xfc0b:
          this.zeroByte();
          this.needMemory();
          this.pop(I32);
          this.pop(I32);
          this.pop(I32);
          break; // memory.fill
        default:
          if (op >= 0x28 && op <= 0x35) {
            this.memArg(op);
            this.pop(I32);
            this.push(memType[op - 0x28]!);
            break;
          } // loads
          if (op >= 0x36 && op <= 0x3e) {
            this.memArg(op);
            this.pop(memType[op - 0x28]!);
            this.pop(I32);
            break;
          } // stores
          if (op >= 0xfc00 && op <= 0xfc07) {
            this.pop(satIn[op & 0xff]!);
            this.push(satOut[op & 0xff]!);
            break;
          } // trunc_sat
          this.refuseOrIllegal(op);
      }
    }
  }

  private brTable(): void {
    const r = this.r;
    const n = r.len32();
    const scratch = this.scratch;
    // Read all depths first (they are immediates), then check them.
    const depths = n <= 64 ? smallDepths : new Array<number>(n);
    for (let i = 0; i < n; i++) depths[i] = this.label();
    const dflt = this.label();
    this.pop(I32);
    const arity = this.labelTypes(dflt).length;
    for (let k = 0; k < n; k++) {
      const lt = this.labelTypes(depths[k]!);
      if (lt.length !== arity) this.fail('type mismatch');
      // Check the operands against this label without consuming them (popped types, which
      // may be "unknown" under unreachable code, go back as they were).
      for (let i = lt.length - 1; i >= 0; i--) scratch[i] = this.pop(lt[i]!);
      for (let i = 0; i < lt.length; i++) this.push(scratch[i]!);
    }
    this.popTypes(this.labelTypes(dflt));
    this.setUnreachable();
  }

  /** Names the proposal an opcode outside our subset belongs to, or reports it illegal. */
  private refuseOrIllegal(op: number): never {
    const name = opName(op);
    if (
      op === Op.ref_null ||
      op === Op.ref_is_null ||
      op === Op.ref_func ||
      op === Op.table_get ||
      op === Op.table_set ||
      (op >= Op.table_grow && op <= Op.table_fill)
    ) {
      this.refuse(`reference types (${name})`);
    }
    if (op >= Op.table_init && op <= Op.table_copy) this.refuse(`bulk table operations (${name})`);
    if (op >= Op.return_call && op <= Op.return_call_indirect) this.refuse(`tail calls (${name})`);
    if (op === Op.call_ref || op === Op.return_call_ref) this.refuse(`typed function references (${name})`);
    if (
      (op >= Op.try_ && op <= Op.throw_ref) ||
      op === Op.delegate ||
      op === Op.catch_all ||
      op === Op.try_table
    ) {
      this.refuse(`exception handling (${name})`);
    }
    if (op >> 8 === 0xfd || op >> 8 === 0x10fd) this.refuse('SIMD (0xfd prefix)');
    if (op >> 8 === 0xfe || op >> 8 === 0x10fe) this.refuse('threads (atomic operations, 0xfe prefix)');
    this.malformed('illegal opcode');
  }
}

const smallDepths: number[] = new Array<number>(64).fill(0);

function sameTypes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
