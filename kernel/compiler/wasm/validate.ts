// The validator: checks a decoded module against the WebAssembly 2.0 validation rules for the
// subset Kiln compiles (MVP + sign-extension + saturating truncation + bulk memory's memory
// operations + multi-value + mutable globals), and refuses everything else with the feature and
// the function named. Errors use the spec's reasons, which the spec suite checks.
//
// Function bodies are streamed (not decoded beforehand), so a malformed body may be met after an
// invalid one; since the spec decodes the whole module before validating, every non-malformed
// error first runs a decode-only scan of the bodies (scan.ts) and reports malformed if found.

import { takeDeferredInvalid } from './decode.ts';
import { scanBodiesForMalformed } from './scan.ts';
import { ValType, WasmError, valTypeName, type ConstExpr, type Limits, type WasmModule } from './types.ts';
import { BodyValidator, type BodyInfo } from './validate-body.ts';

export interface ValidationInfo {
  /** Per defined function (same order as `module.codes`): stack depths seen while validating. */
  bodies: BodyInfo[];
}

const MAX_PAGES = 65536;

export function validateModule(m: WasmModule): ValidationInfo {
  try {
    const deferred = takeDeferredInvalid(m);
    if (deferred) throw deferred;
    checkModuleFields(m);
    const bodies: BodyInfo[] = [];
    const v = new BodyValidator(m);
    for (let i = 0; i < m.codes.length; i++) bodies.push(v.validate(i));
    return { bodies };
  } catch (e) {
    if (e instanceof WasmError && e.kind !== 'malformed') scanBodiesForMalformed(m);
    throw e;
  }
}

function invalid(reason: string, where: string): never {
  throw new WasmError('invalid', reason, where, -1);
}

function unsupported(feature: string, where: string): never {
  throw new WasmError('unsupported', feature, where, -1);
}

function isNum(t: number): boolean {
  return t >= 0x7c && t <= 0x7f;
}

/** Refuses value types outside i32/i64/f32/f64, naming the feature. */
export function requireNumType(t: number, where: string): void {
  if (isNum(t)) return;
  if (t === ValType.v128) unsupported('SIMD (v128 values)', where);
  unsupported(`reference types (${valTypeName(t)} values)`, where);
}

function checkLimits(l: Limits, bound: number, what: string, where: string): void {
  if (l.min > bound) invalid(what, where);
  if (l.max !== undefined) {
    if (l.max > bound) invalid(what, where);
    if (l.min > l.max) invalid('size minimum must not be greater than maximum', where);
  }
}

function checkConstExpr(m: WasmModule, e: ConstExpr, want: number, where: string): void {
  let got: number;
  switch (e.op) {
    case 'i32.const':
      got = ValType.i32;
      break;
    case 'i64.const':
      got = ValType.i64;
      break;
    case 'f32.const':
      got = ValType.f32;
      break;
    case 'f64.const':
      got = ValType.f64;
      break;
    case 'global.get': {
      // Wasm 2.0: constant expressions may only read imported globals, and only immutable ones.
      if (e.index >= m.numImportedGlobals) invalid(`unknown global ${e.index}`, where);
      const g = m.globalSpace[e.index]!;
      if (g.mutable) invalid('constant expression required', where);
      got = g.valType;
      break;
    }
    case 'ref.null':
    case 'ref.func':
      unsupported(`reference types (${e.op} in a constant expression)`, where);
  }
  if (got !== want) invalid('type mismatch', where);
}

function checkModuleFields(m: WasmModule): void {
  m.types.forEach((t, i) => {
    for (const v of t.params) requireNumType(v, `type ${i}`);
    for (const v of t.results) requireNumType(v, `type ${i}`);
  });
  const typeIndexOk = (idx: number, where: string): void => {
    if (idx >= m.types.length) invalid(`unknown type ${idx}`, where);
  };
  m.imports.forEach((imp, i) => {
    const where = `import ${i} (${imp.module}.${imp.name})`;
    switch (imp.desc.kind) {
      case 'func':
        typeIndexOk(imp.desc.typeIndex, where);
        break;
      case 'table':
        checkLimits(imp.desc.type.limits, 0xffffffff, 'table size must be at most 2^32-1', where);
        break;
      case 'memory':
        checkLimits(imp.desc.type.limits, MAX_PAGES, 'memory size must be at most 65536 pages (4GiB)', where);
        break;
      case 'global':
        requireNumType(imp.desc.type.valType, where);
        break;
    }
  });
  m.functions.forEach((t, i) => typeIndexOk(t, `function ${m.numImportedFuncs + i}`));
  m.tables.forEach((t, i) =>
    checkLimits(
      t.limits,
      0xffffffff,
      'table size must be at most 2^32-1',
      `table ${m.numImportedTables + i}`,
    ),
  );
  m.memories.forEach((t, i) =>
    checkLimits(
      t.limits,
      MAX_PAGES,
      'memory size must be at most 65536 pages (4GiB)',
      `memory ${m.numImportedMemories + i}`,
    ),
  );
  if (m.memorySpace.length > 1) invalid('multiple memories', 'memory section');
  m.tableSpace.forEach((t, i) => {
    if (t.elemType !== ValType.funcref) unsupported('reference types (externref table)', `table ${i}`);
    if (i > 0) unsupported('reference types (more than one table)', `table ${i}`);
  });
  m.globals.forEach((g, i) => {
    const where = `global ${m.numImportedGlobals + i}`;
    requireNumType(g.type.valType, where);
    checkConstExpr(m, g.init, g.type.valType, where);
  });
  const nFuncs = m.funcTypeIndices.length;
  m.elements.forEach((seg, i) => {
    const where = `element segment ${i}`;
    if (seg.mode === 'active' && seg.table >= m.tableSpace.length)
      invalid(`unknown table ${seg.table}`, where);
    if (seg.elemType !== ValType.funcref) unsupported('reference types (externref elements)', where);
    if (seg.mode !== 'active') unsupported(`bulk table operations (${seg.mode} element segment)`, where);
    checkConstExpr(m, seg.offset!, ValType.i32, where);
    for (const f of seg.funcIndices) {
      if (f === null) unsupported('reference types (ref.null element)', where);
      if (f >= nFuncs) invalid(`unknown function ${f}`, where);
    }
  });
  m.data.forEach((seg, i) => {
    const where = `data segment ${i}`;
    if (seg.mode === 'active') {
      if (seg.memory >= m.memorySpace.length) invalid(`unknown memory ${seg.memory}`, where);
      checkConstExpr(m, seg.offset!, ValType.i32, where);
    }
  });
  if (m.start !== null) {
    if (m.start >= nFuncs) invalid(`unknown function ${m.start}`, 'start section');
    const t = m.types[m.funcTypeIndices[m.start]!]!;
    if (t.params.length || t.results.length) invalid('start function', 'start section');
  }
  const names = new Set<string>();
  for (const e of m.exports) {
    const where = `export "${e.name}"`;
    if (names.has(e.name)) invalid('duplicate export name', where);
    names.add(e.name);
    const space =
      e.kind === 'func'
        ? nFuncs
        : e.kind === 'table'
          ? m.tableSpace.length
          : e.kind === 'memory'
            ? m.memorySpace.length
            : m.globalSpace.length;
    if (e.index >= space) invalid(`unknown ${e.kind === 'func' ? 'function' : e.kind} ${e.index}`, where);
  }
}
