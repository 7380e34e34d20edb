// Writes the native appliance blob (ABI.md section 5, struct kiln_blob_header in
// kernel/runtime/kiln_runtime.h): header, metadata tables, strings, segment payloads, then the
// page-aligned code. Deterministic: the same module and code give the same bytes.

import type { ConstExpr, WasmModule } from '../wasm/types.ts';
import type { CodegenResult } from '../codegen/module.ts';
import { BLOB_MAGIC, BLOB_VERSION, NONE } from '../codegen/layout.ts';
import { grownBuffer } from '../grow.ts';
import { mergeDataSegments } from './data-merge.ts';

const PAGE = 4096;
const HEADER_SIZE = 160;
const LIMIT_PRESENT = 1,
  LIMIT_HAS_MAX = 2,
  LIMIT_IMPORTED = 4;
const INIT_CONST = 0,
  INIT_IMPORT = 1,
  INIT_GLOBAL = 2;
const VAL: Record<number, number> = { 0x7f: 0, 0x7e: 1, 0x7d: 2, 0x7c: 3 };
const EXPORT_KIND = { func: 0, table: 1, memory: 2, global: 3 } as const;

export interface BlobLayout {
  blob: Uint8Array;
  metadataBytes: number;
  dataBytes: number;
  codeBytes: number;
}

class Writer {
  buf = new Uint8Array(1 << 16);
  len = 0;
  private reserve(n: number): void {
    if (this.len + n > this.buf.length) this.buf = grownBuffer(this.buf, this.len, n);
  }
  alignTo(n: number): void {
    const target = Math.ceil(this.len / n) * n;
    this.reserve(target - this.len);
    this.len = target;
  }
  bytes(b: Uint8Array): number {
    const at = this.len;
    this.reserve(b.length);
    this.buf.set(b, at);
    this.len += b.length;
    return at;
  }
  zeros(n: number): number {
    const at = this.len;
    this.reserve(n);
    this.len += n;
    return at;
  }
  view(): DataView {
    return new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }
}

function constValue(e: ConstExpr): { kind: number; value: bigint } {
  switch (e.op) {
    case 'i32.const':
      return { kind: INIT_CONST, value: BigInt(e.value >>> 0) };
    case 'i64.const':
      return { kind: INIT_CONST, value: BigInt.asUintN(64, e.value) };
    case 'f32.const':
      return { kind: INIT_CONST, value: BigInt(e.bits >>> 0) };
    case 'f64.const':
      return { kind: INIT_CONST, value: BigInt.asUintN(64, e.bits) };
    case 'global.get':
      return { kind: INIT_GLOBAL, value: BigInt(e.index) };
    default:
      throw new Error(`constant expression ${e.op} is not supported`);
  }
}

export function writeBlob(m: WasmModule, cg: CodegenResult): BlobLayout {
  const w = new Writer();
  const enc = new TextEncoder();
  w.zeros(HEADER_SIZE);
  const strings = new Map<string, number>();
  const pendingStrings: { at: number; s: string }[] = [];
  // Tables are written first with string references patched once the strings are placed.
  const strRef = (at: number, s: string): void => {
    pendingStrings.push({ at, s });
  };

  const nFuncs = cg.funcOffsets.length;
  const funcsOff = w.zeros(8 * nFuncs);
  const typesOff = w.zeros(4 * m.types.length);
  const funcImports = m.imports.filter((i) => i.desc.kind === 'func');
  const importsOff = w.zeros(16 * funcImports.length);
  const nGlobals = m.globalSpace.length;
  const globalsOff = w.zeros(24 * nGlobals);
  const exportsOff = w.zeros(16 * m.exports.length);
  const elemsOff = w.zeros(24 * m.elements.length);
  const datas = mergeDataSegments(m);
  const datasOff = w.zeros(24 * datas.length);

  let v = w.view();
  for (let f = 0; f < nFuncs; f++) {
    v.setUint32(funcsOff + 8 * f, cg.funcOffsets[f]!, true);
    v.setUint32(funcsOff + 8 * f + 4, cg.canonType[m.funcTypeIndices[f]!]!, true);
  }
  for (let t = 0; t < m.types.length; t++) strRef(typesOff + 4 * t, cg.sigs[t]!);
  funcImports.forEach((imp, i) => {
    strRef(importsOff + 16 * i, imp.module);
    strRef(importsOff + 16 * i + 4, imp.name);
    if (imp.desc.kind === 'func')
      v.setUint32(importsOff + 16 * i + 8, cg.canonType[imp.desc.typeIndex]!, true);
  });
  let g = 0;
  const globalAt = (i: number): number => globalsOff + 24 * i;
  for (const imp of m.imports) {
    if (imp.desc.kind !== 'global') continue;
    const at = globalAt(g++);
    v.setUint8(at, VAL[imp.desc.type.valType] ?? 255);
    v.setUint8(at + 1, imp.desc.type.mutable ? 1 : 0);
    v.setUint8(at + 2, INIT_IMPORT);
    strRef(at + 4, imp.module);
    strRef(at + 8, imp.name);
  }
  for (const gl of m.globals) {
    const at = globalAt(g++);
    v.setUint8(at, VAL[gl.type.valType] ?? 255);
    v.setUint8(at + 1, gl.type.mutable ? 1 : 0);
    const c = constValue(gl.init);
    v.setUint8(at + 2, c.kind);
    v.setUint32(at + 4, NONE, true);
    v.setUint32(at + 8, NONE, true);
    if (c.kind === INIT_GLOBAL) v.setUint32(at + 12, Number(c.value), true);
    else v.setBigUint64(at + 16, c.value, true);
  }
  m.exports.forEach((ex, i) => {
    strRef(exportsOff + 16 * i, ex.name);
    v.setUint32(exportsOff + 16 * i + 4, EXPORT_KIND[ex.kind], true);
    v.setUint32(exportsOff + 16 * i + 8, ex.index, true);
  });

  // Segment payloads.
  const elemPayload: number[] = [];
  for (const seg of m.elements) {
    const at = w.zeros(4 * seg.funcIndices.length);
    elemPayload.push(at);
    v = w.view();
    seg.funcIndices.forEach((f, k) => v.setUint32(at + 4 * k, f === null ? NONE : f, true));
  }
  w.alignTo(8);
  const dataStart = w.len;
  const dataPayload = datas.map((d) => w.bytes(d.bytes));
  const dataBytes = w.len - dataStart;
  v = w.view();
  m.elements.forEach((seg, i) =>
    writeSegment(
      v,
      elemsOff + 24 * i,
      seg.mode === 'active',
      seg.offset,
      seg.funcIndices.length,
      elemPayload[i]!,
    ),
  );
  datas.forEach((d, i) =>
    writeSegment(v, datasOff + 24 * i, d.mode === 'active', d.offset, d.bytes.length, dataPayload[i]!),
  );

  const memImport = m.imports.find((i) => i.desc.kind === 'memory');
  const tableImport = m.imports.find((i) => i.desc.kind === 'table');
  if (memImport) {
    strRef(108, memImport.module);
    strRef(112, memImport.name);
  }
  if (tableImport) {
    strRef(116, tableImport.module);
    strRef(120, tableImport.name);
  }

  // Strings: length, bytes, NUL.
  w.alignTo(4);
  for (const { s } of pendingStrings) {
    if (strings.has(s)) continue;
    const b = enc.encode(s);
    w.alignTo(4);
    const at = w.zeros(4);
    w.bytes(b);
    w.zeros(1);
    w.view().setUint32(at, b.length, true);
    strings.set(s, at);
  }
  v = w.view();
  for (const { at, s } of pendingStrings) v.setUint32(at, strings.get(s)!, true);
  const metadataBytes = w.len - dataBytes;

  // Code, page aligned for sealing.
  w.alignTo(PAGE);
  const codeOff = w.bytes(cg.code);
  w.alignTo(PAGE);
  const codeLen = w.len - codeOff;
  v = w.view();

  // Header.
  for (let i = 0; i < 8; i++) v.setUint8(i, BLOB_MAGIC.charCodeAt(i));
  const u32 = (at: number, x: number): void => v.setUint32(at, x >>> 0, true);
  u32(8, BLOB_VERSION);
  u32(12, HEADER_SIZE);
  u32(16, codeOff);
  u32(20, codeLen);
  u32(24, nFuncs);
  u32(28, funcsOff);
  u32(32, m.types.length);
  u32(36, typesOff);
  u32(40, funcImports.length);
  u32(44, importsOff);
  u32(48, nGlobals);
  u32(52, globalsOff);
  u32(56, m.exports.length);
  u32(60, exportsOff);
  u32(64, m.elements.length);
  u32(68, elemsOff);
  u32(72, datas.length);
  u32(76, datasOff);
  const mem0 = m.memorySpace[0];
  u32(
    80,
    mem0
      ? LIMIT_PRESENT | (mem0.limits.max !== undefined ? LIMIT_HAS_MAX : 0) | (memImport ? LIMIT_IMPORTED : 0)
      : 0,
  );
  u32(84, mem0?.limits.min ?? 0);
  u32(88, mem0?.limits.max ?? 0);
  const tab0 = m.tableSpace[0];
  u32(
    92,
    tab0
      ? LIMIT_PRESENT |
          (tab0.limits.max !== undefined ? LIMIT_HAS_MAX : 0) |
          (tableImport ? LIMIT_IMPORTED : 0)
      : 0,
  );
  u32(96, tab0?.limits.min ?? 0);
  u32(100, tab0?.limits.max ?? 0);
  u32(104, m.start ?? NONE);
  if (!memImport) {
    u32(108, NONE);
    u32(112, NONE);
  }
  if (!tableImport) {
    u32(116, NONE);
    u32(120, NONE);
  }
  return { blob: w.buf.slice(0, w.len), metadataBytes, dataBytes, codeBytes: cg.code.length };
}

function writeSegment(
  v: DataView,
  at: number,
  active: boolean,
  offset: ConstExpr | null,
  count: number,
  payload: number,
): void {
  v.setUint32(at, active ? 1 : 0, true);
  if (active && offset) {
    const c = constValue(offset);
    v.setUint32(at + 4, c.kind, true);
    v.setUint32(at + 8, Number(c.value & 0xffffffffn), true);
  }
  v.setUint32(at + 12, count, true);
  v.setUint32(at + 16, payload, true);
}
