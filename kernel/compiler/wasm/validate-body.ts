// Validation of one function body: the algorithm of the spec's appendix (an operand stack of
// types with "unknown" for the polymorphic stack after unreachable code, and a stack of control
// frames), streamed over the bytes with CodeReader. Also where refused instructions are named.

import { memNaturalAlign, memType, satIn, satOut, sigIn1, sigIn2, sigOut } from './numeric-sigs.ts';
import { CodeReader, EMPTY_TYPE, Op, WasmError, opName, type FuncType, type WasmModule } from './types.ts';

export interface BodyInfo {
  /** Deepest operand stack (values) and control stack (nesting) seen. */
  maxStack: number;
  maxDepth: number;
}

const I32 = 0x7f;
const I64 = 0x7e;
const F32 = 0x7d;
const F64 = 0x7c;
/** The type of a value popped from the polymorphic stack below unreachable code. */
const UNKNOWN = 0;
const MAX_LOCALS = 50000;

// Reused across bodies: the validator allocates nothing per instruction.
let vals = new Uint8Array(1024);
let ctrlOp = new Int32Array(64);
let ctrlHeight = new Int32Array(64);
let ctrlUnreachable = new Uint8Array(64);
let ctrlType: FuncType[] = [];
let localTypes = new Uint8Array(64);
const scratch: number[] = [];

export function validateBody(m: WasmModule, index: number, r: CodeReader): BodyInfo {
  const funcIndex = m.numImportedFuncs + index;
  const body = m.codes[index]!;
  const type = m.types[m.functions[index]!]!;
  const name = m.funcNames.get(funcIndex);
  const where = `function ${funcIndex}${name ? ` ($${name})` : ''}`;
  const types = m.types;

  const fail = (reason: string): never => {
    throw new WasmError('invalid', reason, where, r.opOffset);
  };
  const malformed = (reason: string): never => {
    throw new WasmError('malformed', reason, where, r.opOffset);
  };
  const refuse = (feature: string): never => {
    throw new WasmError('unsupported', feature, where, r.opOffset);
  };

  // Local types: parameters then declared locals.
  const nLocals = type.params.length + body.numLocals;
  if (body.numLocals > MAX_LOCALS) refuse(`more than ${MAX_LOCALS} locals (implementation limit)`);
  if (localTypes.length < nLocals) localTypes = new Uint8Array(nLocals * 2);
  let li = 0;
  for (const p of type.params) localTypes[li++] = p;
  for (const d of body.locals) {
    if (d.type < 0x7c || d.type > 0x7f) refuse(d.type === 0x7b ? 'SIMD (v128 locals)' : 'reference types (reference-typed locals)');
    localTypes.fill(d.type, li, li + d.count);
    li += d.count;
  }

  let sp = 0; // operand stack height
  let csp = 0; // control stack height
  let maxStack = 0;
  let maxDepth = 0;

  const push = (t: number): void => {
    if (sp === vals.length) {
      const bigger = new Uint8Array(vals.length * 2);
      bigger.set(vals);
      vals = bigger;
    }
    vals[sp++] = t;
    if (sp > maxStack) maxStack = sp;
  };
  const popAny = (): number => {
    if (sp === ctrlHeight[csp - 1]!) {
      if (ctrlUnreachable[csp - 1]) return UNKNOWN;
      fail('type mismatch');
    }
    return vals[--sp]!;
  };
  const pop = (want: number): number => {
    if (sp === ctrlHeight[csp - 1]!) {
      if (ctrlUnreachable[csp - 1]) return UNKNOWN;
      fail('type mismatch');
    }
    const got = vals[--sp]!;
    if (got !== want && got !== UNKNOWN) fail('type mismatch');
    return got;
  };
  const popTypes = (ts: readonly number[]): void => {
    for (let i = ts.length - 1; i >= 0; i--) pop(ts[i]!);
  };
  const pushTypes = (ts: readonly number[]): void => {
    for (const t of ts) push(t);
  };
  const pushCtrl = (op: number, t: FuncType): void => {
    if (csp === ctrlOp.length) {
      const n = csp * 2;
      const o = new Int32Array(n); o.set(ctrlOp); ctrlOp = o;
      const h = new Int32Array(n); h.set(ctrlHeight); ctrlHeight = h;
      const u = new Uint8Array(n); u.set(ctrlUnreachable); ctrlUnreachable = u;
    }
    ctrlOp[csp] = op;
    ctrlType[csp] = t;
    ctrlHeight[csp] = sp;
    ctrlUnreachable[csp] = 0;
    csp++;
    if (csp > maxDepth) maxDepth = csp;
    pushTypes(t.params);
  };
  /** Pops the innermost frame after checking its results are exactly on the stack. */
  const popCtrl = (): number => {
    const t = ctrlType[csp - 1]!;
    popTypes(t.results);
    if (sp !== ctrlHeight[csp - 1]) fail('type mismatch');
    csp--;
    return ctrlOp[csp]!;
  };
  const labelTypes = (depth: number): readonly number[] => {
    const i = csp - 1 - depth;
    return ctrlOp[i] === Op.loop ? ctrlType[i]!.params : ctrlType[i]!.results;
  };
  const labelAt = (): number => {
    const depth = r.u32();
    if (depth >= csp) fail(`unknown label ${depth}`);
    return depth;
  };
  const setUnreachable = (): void => {
    sp = ctrlHeight[csp - 1]!;
    ctrlUnreachable[csp - 1] = 1;
  };
  const needMemory = (): void => {
    if (m.memorySpace.length === 0) fail('unknown memory 0');
  };
  const zeroByte = (): void => {
    if (r.u8() !== 0) malformed('zero byte expected');
  };
  const memArg = (op: number): void => {
    const align = r.u32();
    if (align >= 32) malformed('malformed memop flags');
    r.u32(); // offset
    needMemory();
    if (align > memNaturalAlign[op - 0x28]!) fail('alignment must not be larger than natural');
  };
  const local = (): number => {
    const idx = r.u32();
    if (idx >= nLocals) fail(`unknown local ${idx}`);
    return localTypes[idx]!;
  };
  const globalType = (): { valType: number; mutable: boolean } => {
    const idx = r.u32();
    const g = m.globalSpace[idx];
    if (!g) fail(`unknown global ${idx}`);
    return g!;
  };
  const dataIndex = (): void => {
    if (m.dataCount === null) malformed('data count section required');
    const idx = r.u32();
    if (idx >= m.dataCount!) fail(`unknown data segment ${idx}`);
  };

  r.pos = body.codeStart;
  r.end = m.bytes.length; // as the reference decoder: read on, then check the body's size
  pushCtrl(-1, { params: EMPTY_TYPE.params, results: type.results });
  sp = 0; // the function frame's parameters are locals, not operands
  ctrlHeight[0] = 0;

  for (;;) {
    const op = r.opcode();
    const in1 = op < 256 ? sigIn1[op]! : 0;
    if (in1) {
      const in2 = sigIn2[op]!;
      if (in2) pop(in2);
      pop(in1);
      push(sigOut[op]!);
      continue;
    }
    switch (op) {
      case Op.unreachable: setUnreachable(); break;
      case Op.nop: break;
      case Op.block: case Op.loop: {
        const bt = r.blockType(types);
        popTypes(bt.params);
        pushCtrl(op, bt);
        break;
      }
      case Op.if: {
        const bt = r.blockType(types);
        pop(I32);
        popTypes(bt.params);
        pushCtrl(op, bt);
        break;
      }
      case Op.else: {
        if (csp === 0 || ctrlOp[csp - 1] !== Op.if) malformed('END opcode expected');
        const bt = ctrlType[csp - 1]!;
        popCtrl();
        pushCtrl(Op.else, bt);
        break;
      }
      case Op.end: {
        const frameType = ctrlType[csp - 1]!;
        const frameOp = popCtrl();
        // An `if` without `else` passes its parameters through the missing branch.
        if (frameOp === Op.if && !sameTypes(frameType.params, frameType.results)) fail('type mismatch');
        if (csp === 0) {
          if (r.pos !== body.codeEnd) malformed('section size mismatch');
          return { maxStack, maxDepth };
        }
        pushTypes(frameType.results);
        break;
      }
      case Op.br: {
        popTypes(labelTypes(labelAt()));
        setUnreachable();
        break;
      }
      case Op.br_if: {
        const lt = labelTypes(labelAt());
        pop(I32);
        popTypes(lt);
        pushTypes(lt);
        break;
      }
      case Op.br_table: {
        const n = r.len32();
        const depths = new Array<number>(n);
        for (let i = 0; i < n; i++) depths[i] = labelAt();
        const dflt = labelAt();
        pop(I32);
        const arity = labelTypes(dflt).length;
        for (const d of depths) {
          const lt = labelTypes(d);
          if (lt.length !== arity) fail('type mismatch');
          // Check the operands against this label without consuming them (popped types, which
          // may be "unknown" under unreachable code, go back as they were).
          for (let i = lt.length - 1; i >= 0; i--) scratch[i] = pop(lt[i]!);
          for (let i = 0; i < lt.length; i++) push(scratch[i]!);
        }
        popTypes(labelTypes(dflt));
        setUnreachable();
        break;
      }
      case Op.return: {
        popTypes(type.results);
        setUnreachable();
        break;
      }
      case Op.call: {
        const f = r.u32();
        if (f >= m.funcTypeIndices.length) fail(`unknown function ${f}`);
        const ft = types[m.funcTypeIndices[f]!]!;
        popTypes(ft.params);
        pushTypes(ft.results);
        break;
      }
      case Op.call_indirect: {
        const ti = r.u32();
        const table = r.u32();
        if (table >= m.tableSpace.length) fail(`unknown table ${table}`);
        if (ti >= types.length) fail(`unknown type ${ti}`);
        const ft = types[ti]!;
        pop(I32);
        popTypes(ft.params);
        pushTypes(ft.results);
        break;
      }
      case Op.drop: popAny(); break;
      case Op.select: {
        pop(I32);
        const a = popAny();
        const b = popAny();
        if (a !== b && a !== UNKNOWN && b !== UNKNOWN) fail('type mismatch');
        push(a === UNKNOWN ? b : a);
        break;
      }
      case Op.select_t: {
        const n = r.len32();
        if (n !== 1) fail('invalid result arity');
        const t = r.u8();
        if (t < 0x7c || t > 0x7f) refuse(t === 0x7b ? 'SIMD (select of v128)' : 'reference types (select of references)');
        pop(I32);
        pop(t);
        pop(t);
        push(t);
        break;
      }
      case Op.local_get: push(local()); break;
      case Op.local_set: pop(local()); break;
      case Op.local_tee: { const t = local(); pop(t); push(t); break; }
      case Op.global_get: push(globalType().valType); break;
      case Op.global_set: {
        const g = globalType();
        if (!g.mutable) fail('global is immutable');
        pop(g.valType);
        break;
      }
      case Op.memory_size: zeroByte(); needMemory(); push(I32); break;
      case Op.memory_grow: zeroByte(); needMemory(); pop(I32); push(I32); break;
      case Op.i32_const: r.s32(); push(I32); break;
      case Op.i64_const: r.s64(); push(I64); break;
      case Op.f32_const: r.f32Bits(); push(F32); break;
      case Op.f64_const: r.f64Bits(); push(F64); break;
      case Op.memory_init: {
        // The reference checks the memory before the segment; read both immediates first.
        const at = r.pos;
        r.u32();
        zeroByte();
        needMemory();
        const after = r.pos;
        r.pos = at;
        dataIndex();
        r.pos = after;
        pop(I32); pop(I32); pop(I32);
        break;
      }
      case Op.data_drop: dataIndex(); break;
      case Op.memory_copy: zeroByte(); zeroByte(); needMemory(); pop(I32); pop(I32); pop(I32); break;
      case Op.memory_fill: zeroByte(); needMemory(); pop(I32); pop(I32); pop(I32); break;
      default:
        if (op >= 0x28 && op <= 0x35) { memArg(op); pop(I32); push(memType[op - 0x28]!); break; }
        if (op >= 0x36 && op <= 0x3e) { memArg(op); pop(memType[op - 0x28]!); pop(I32); break; }
        if (op >= Op.i32_trunc_sat_f32_s && op <= Op.i64_trunc_sat_f64_u) {
          pop(satIn[op & 0xff]!);
          push(satOut[op & 0xff]!);
          break;
        }
        refuseOrIllegal(op, refuse, malformed);
    }
  }
}

function sameTypes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Names the proposal an opcode outside our subset belongs to, or reports it illegal. */
function refuseOrIllegal(op: number, refuse: (f: string) => never, malformed: (r: string) => never): never {
  const name = opName(op);
  if (op === Op.ref_null || op === Op.ref_is_null || op === Op.ref_func || op === Op.table_get || op === Op.table_set ||
      (op >= Op.table_grow && op <= Op.table_fill)) {
    refuse(`reference types (${name})`);
  }
  if (op >= Op.table_init && op <= Op.table_copy) refuse(`bulk table operations (${name})`);
  if (op >= Op.return_call && op <= Op.return_call_indirect) refuse(`tail calls (${name})`);
  if (op === Op.call_ref || op === Op.return_call_ref) refuse(`typed function references (${name})`);
  if ((op >= Op.try_ && op <= Op.throw_ref) || op === Op.delegate || op === Op.catch_all || op === Op.try_table) {
    refuse(`exception handling (${name})`);
  }
  if (op >> 8 === 0xfd || op >> 8 === 0x10fd) refuse('SIMD (0xfd prefix)');
  if (op >> 8 === 0xfe || op >> 8 === 0x10fe) refuse('threads (atomic operations, 0xfe prefix)');
  malformed('illegal opcode');
}
