// Compiles every function of a validated module into one code buffer: import stubs first (they
// adapt the internal calling convention to the runtime's kiln_host_fn), then the bodies.

import { funcTypeOf, type FuncType, type WasmModule } from '../wasm/types.ts';
import { Assembler, Label, mem, RAX, RDI, RDX, RSI, RSP, R15, ALU } from './x64.ts';
import { FunctionCompiler, type ModuleContext } from './function.ts';
import { Inst } from './layout.ts';

export interface CodegenResult {
  code: Uint8Array;
  /** Code offset of every function in the function index space (imports: their stub). */
  funcOffsets: number[];
  /** Canonical type index of each type index (equal signatures share the smallest index). */
  canonType: number[];
  /** Signature string of each type ("ii:i"). */
  sigs: string[];
  /** Bytes of function bodies compiled (for the stats). */
  bodyBytes: number;
}

const LETTER: Record<number, string> = { 0x7f: 'i', 0x7e: 'l', 0x7d: 'f', 0x7c: 'd' };
export function signature(t: FuncType): string {
  return `${t.params.map((p) => LETTER[p] ?? '?').join('')}:${t.results.map((p) => LETTER[p] ?? '?').join('')}`;
}

export function generateCode(
  m: WasmModule,
  onFunction?: (done: number, total: number) => void,
): CodegenResult {
  const sigs = m.types.map(signature);
  const firstOf = new Map<string, number>();
  const canonType = sigs.map((s, i) => {
    if (!firstOf.has(s)) firstOf.set(s, i);
    return firstOf.get(s)!;
  });
  let outSlots = 1;
  for (const t of m.types) outSlots = Math.max(outSlots, t.params.length, t.results.length);
  const nFuncs = m.numImportedFuncs + m.functions.length;
  const funcLabels = Array.from({ length: nFuncs }, () => new Label());
  const mem0 = m.memorySpace[0];
  const ctx: ModuleContext = {
    module: m,
    funcLabels,
    canonType,
    minMemBytes: mem0 ? mem0.limits.min * 65536 : 0,
    trapTail: new Label(),
  };
  const a = new Assembler();
  const funcOffsets: number[] = [];
  for (let i = 0; i < m.numImportedFuncs; i++) {
    align(a);
    a.bind(funcLabels[i]!);
    funcOffsets.push(a.len);
    // Entry rsp is 8 mod 16: one push-sized adjustment aligns it for the C call.
    a.aluRI(ALU.sub, true, RSP, 8);
    a.movRR(true, RDI, R15);
    a.lea(true, RSI, mem(RSP, 16));
    a.movRI(false, RDX, BigInt(i)); // the import index: cross-instance links need it
    a.load(true, RAX, mem(R15, Inst.hostFns));
    a.callM(mem(RAX, 8 * i));
    a.aluRI(ALU.add, true, RSP, 8);
    a.ret();
  }
  let bodyBytes = 0;
  for (let j = 0; j < m.functions.length; j++) {
    const f = m.numImportedFuncs + j;
    align(a);
    a.bind(funcLabels[f]!);
    funcOffsets.push(a.len);
    const body = m.codes[j]!;
    bodyBytes += body.codeEnd - body.bodyStart;
    new FunctionCompiler(a, ctx, f, funcTypeOf(m, f), j).compile(outSlots);
    onFunction?.(j + 1, m.functions.length);
  }
  // The trap call every function's trap stubs end in (esi, edx, ecx set by them).
  a.bind(ctx.trapTail);
  a.movRR(true, RDI, R15);
  a.aluRI(ALU.and, true, RSP, -16);
  a.callM(mem(R15, Inst.trapFn));
  a.ud2();
  return { code: a.bytes(), funcOffsets, canonType, sigs, bodyBytes };
}

function align(a: Assembler): void {
  while (a.len % 16 !== 0) a.byte(0xcc);
}
