// The binary decoder: module bytes -> WasmModule. Function bodies are not decoded here (the
// validator streams through them); everything else is. Errors follow the reference decoder of
// the spec, whose reasons the spec suite checks: sections are read from the whole module and
// their size checked afterwards ("section size mismatch"), lengths are checked against the bytes
// left ("length out of bounds"), and running out of bytes is "unexpected end ...".

import { skipImmediates } from './immediates.ts';
import { scanBodiesForMalformed } from './scan.ts';
import { utf8Valid } from './utf8.ts';
import {
  CodeReader,
  ValType,
  WasmError,
  type ConstExpr,
  type CustomSection,
  type DataSegment,
  type ElemSegment,
  type Export,
  type ExternKind,
  type FunctionBody,
  type Global,
  type GlobalType,
  type Import,
  type Limits,
  type LocalDecl,
  type MemoryType,
  type TableType,
  type WasmModule,
} from './types.ts';

const MAGIC = 0x6d736100;
const VERSION = 1;

/** Section ids in the order they must appear (custom sections, id 0, may appear anywhere). */
const SECTION_ORDER: Record<number, number> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  6: 6,
  7: 7,
  8: 8,
  9: 9,
  12: 10,
  10: 11,
  11: 12,
};

/**
 * Invalid (not malformed) problems the decoder notices in constant expressions. They are only
 * reported once the whole module has decoded, since a malformed module is malformed first.
 */
const deferredInvalid = new WeakMap<WasmModule, WasmError>();

export function takeDeferredInvalid(m: WasmModule): WasmError | undefined {
  return deferredInvalid.get(m);
}

export function decodeModule(bytes: Uint8Array): WasmModule {
  return new Decoder(bytes).module();
}

class Decoder {
  private readonly r: CodeReader;
  private readonly m: WasmModule;
  private deferred: WasmError | null = null;
  private where = '';

  constructor(private readonly bytes: Uint8Array) {
    this.r = new CodeReader(bytes, 0, bytes.length);
    this.m = {
      bytes,
      types: [],
      imports: [],
      functions: [],
      tables: [],
      memories: [],
      globals: [],
      exports: [],
      start: null,
      elements: [],
      dataCount: null,
      data: [],
      codes: [],
      customs: [],
      funcNames: new Map(),
      numImportedFuncs: 0,
      numImportedTables: 0,
      numImportedMemories: 0,
      numImportedGlobals: 0,
      funcTypeIndices: [],
      tableSpace: [],
      memorySpace: [],
      globalSpace: [],
    };
  }

  private fail(reason: string, at = this.r.pos): never {
    throw new WasmError('malformed', reason, this.where, at);
  }

  module(): WasmModule {
    const r = this.r;
    if (r.f32Bits() !== MAGIC) this.fail('magic header not detected', 0);
    if (r.f32Bits() !== VERSION) this.fail('unknown binary version', 4);
    try {
      this.sections();
    } catch (e) {
      // The reference decoder decodes each body as it goes; we skip over bodies and leave them
      // to the validator, so an error after the code section may really come from a body
      // (e.g. one whose declared size is too small). Report the body's error first, as it would.
      if (e instanceof WasmError && e.kind === 'malformed' && this.m.codes.length > 0)
        scanBodiesForMalformed(this.m);
      throw e;
    }
    this.where = '';
    const m = this.m;
    if (m.functions.length !== m.codes.length) {
      this.fail('function and code section have inconsistent lengths');
    }
    if (m.dataCount !== null && m.dataCount !== m.data.length) {
      this.fail('data count and data section have inconsistent lengths');
    }
    this.buildIndexSpaces();
    this.readNames();
    if (this.deferred) deferredInvalid.set(m, this.deferred);
    return m;
  }

  private sections(): void {
    const r = this.r;
    let lastRank = 0;
    while (!r.atEnd()) {
      const idAt = r.pos;
      const id = r.u8();
      if (id > 12) this.fail('malformed section id', idAt);
      const size = r.len32();
      const start = r.pos;
      const end = start + size;
      this.where = `section ${id}`;
      if (id !== 0) {
        const rank = SECTION_ORDER[id]!;
        if (rank <= lastRank) this.fail('unexpected content after last section', idAt);
        lastRank = rank;
      }
      switch (id) {
        case 0:
          this.customSection(end);
          break;
        case 1:
          this.typeSection();
          break;
        case 2:
          this.importSection();
          break;
        case 3:
          this.functionSection();
          break;
        case 4:
          this.tableSection();
          break;
        case 5:
          this.memorySection();
          break;
        case 6:
          this.globalSection();
          break;
        case 7:
          this.exportSection();
          break;
        case 8:
          this.m.start = r.u32();
          break;
        case 9:
          this.elementSection();
          break;
        case 12:
          this.m.dataCount = r.u32();
          break;
        case 10:
          this.codeSection();
          break;
        case 11:
          this.dataSection();
          break;
      }
      if (r.pos !== end) this.fail('section size mismatch', start);
    }
  }

  private defer(reason: string, at: number): void {
    this.deferred ??= new WasmError('invalid', reason, this.where, at);
  }

  private name(): string {
    const n = this.r.len32();
    const at = this.r.pos;
    const raw = this.r.take(n);
    if (!utf8Valid(raw)) this.fail('malformed UTF-8 encoding', at);
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  }

  private valType(): ValType {
    const at = this.r.pos;
    const b = this.r.u8();
    if (b >= 0x7b && b <= 0x7f) return b as ValType;
    if (b === 0x70 || b === 0x6f) return b as ValType;
    this.fail('malformed value type', at);
  }

  private refType(): ValType {
    const at = this.r.pos;
    const b = this.r.u8();
    if (b === 0x70 || b === 0x6f) return b as ValType;
    this.fail('malformed reference type', at);
  }

  private limits(): Limits {
    const at = this.r.pos;
    // The flags are a 1-byte LEB128; 2/3 (shared, threads) and 4+ (memory64) are malformed in 2.0.
    const flags = this.r.u8();
    if (flags & 0x80) this.fail('integer representation too long', at);
    if (flags > 1) this.fail('integer too large', at);
    const min = this.r.u32();
    return flags === 1 ? { min, max: this.r.u32() } : { min };
  }

  private tableType(): TableType {
    const elemType = this.refType();
    return { elemType, limits: this.limits() };
  }

  private globalType(): GlobalType {
    const valType = this.valType();
    const at = this.r.pos;
    const mut = this.r.u8();
    if (mut > 1) this.fail('malformed mutability', at);
    return { valType, mutable: mut === 1 };
  }

  /** A constant expression up to and including its `end`. */
  private constExpr(): ConstExpr {
    const r = this.r;
    const start = r.pos;
    const found: ConstExpr[] = [];
    for (;;) {
      const op = r.opcode();
      const opAt = r.opOffset;
      switch (op) {
        case 0x0b:
          if (found.length !== 1) {
            // Empty or several values: the result does not have the expected single type.
            this.defer('type mismatch', start);
            return found[0] ?? { op: 'i32.const', value: 0 };
          }
          return found[0]!;
        case 0x41:
          found.push({ op: 'i32.const', value: r.s32() });
          break;
        case 0x42:
          found.push({ op: 'i64.const', value: r.s64() });
          break;
        case 0x43:
          found.push({ op: 'f32.const', bits: r.f32Bits() });
          break;
        case 0x44:
          found.push({ op: 'f64.const', bits: r.f64Bits() });
          break;
        case 0x23:
          found.push({ op: 'global.get', index: r.u32() });
          break;
        case 0xd0:
          found.push({ op: 'ref.null', type: this.refType() });
          break;
        case 0xd2:
          found.push({ op: 'ref.func', index: r.u32() });
          break;
        default:
          if (!skipImmediates(r, op, this.m.types)) this.fail('illegal opcode', opAt);
          this.defer('constant expression required', opAt);
      }
    }
  }

  private customSection(end: number): void {
    const name = this.name();
    if (this.r.pos > end) this.fail('unexpected end', this.r.pos);
    const data = this.r.take(end - this.r.pos);
    const c: CustomSection = { name, data };
    this.m.customs.push(c);
  }

  private typeSection(): void {
    const r = this.r;
    const n = r.len32();
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      // The form is a 1-byte signed LEB128 (-0x20).
      const form = r.u8();
      if (form & 0x80) this.fail('integer representation too long', at);
      if (form !== 0x60) this.fail('malformed function type', at);
      const np = r.len32();
      const params: ValType[] = [];
      for (let j = 0; j < np; j++) params.push(this.valType());
      const nr = r.len32();
      const results: ValType[] = [];
      for (let j = 0; j < nr; j++) results.push(this.valType());
      this.m.types.push({ params, results });
    }
  }

  private importSection(): void {
    const r = this.r;
    const n = r.len32();
    for (let i = 0; i < n; i++) {
      const module = this.name();
      const name = this.name();
      const at = r.pos;
      const kind = r.u8();
      let imp: Import;
      switch (kind) {
        case 0:
          imp = { module, name, desc: { kind: 'func', typeIndex: r.u32() } };
          break;
        case 1:
          imp = { module, name, desc: { kind: 'table', type: this.tableType() } };
          break;
        case 2:
          imp = { module, name, desc: { kind: 'memory', type: { limits: this.limits() } } };
          break;
        case 3:
          imp = { module, name, desc: { kind: 'global', type: this.globalType() } };
          break;
        default:
          this.fail('malformed import kind', at);
      }
      this.m.imports.push(imp);
    }
  }

  private functionSection(): void {
    const n = this.r.len32();
    for (let i = 0; i < n; i++) this.m.functions.push(this.r.u32());
  }

  private tableSection(): void {
    const n = this.r.len32();
    for (let i = 0; i < n; i++) this.m.tables.push(this.tableType());
  }

  private memorySection(): void {
    const n = this.r.len32();
    for (let i = 0; i < n; i++) {
      const t: MemoryType = { limits: this.limits() };
      this.m.memories.push(t);
    }
  }

  private globalSection(): void {
    const n = this.r.len32();
    for (let i = 0; i < n; i++) {
      const type = this.globalType();
      const g: Global = { type, init: this.constExpr() };
      this.m.globals.push(g);
    }
  }

  private exportSection(): void {
    const r = this.r;
    const n = r.len32();
    const kinds: ExternKind[] = ['func', 'table', 'memory', 'global'];
    for (let i = 0; i < n; i++) {
      const name = this.name();
      const at = r.pos;
      const kind = kinds[r.u8()];
      if (!kind) this.fail('malformed export kind', at);
      const e: Export = { name, kind, index: r.u32() };
      this.m.exports.push(e);
    }
  }

  private elementSection(): void {
    const r = this.r;
    const n = r.len32();
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const flags = r.u32();
      if (flags > 7) this.fail('malformed elements segment kind', at);
      // bit 0: passive or declarative; bit 1: explicit table index (active) / declarative;
      // bit 2: elements are expressions rather than function indices.
      const mode: ElemSegment['mode'] = flags & 1 ? (flags & 2 ? 'declarative' : 'passive') : 'active';
      const table = (flags & 3) === 2 ? r.u32() : 0;
      const offset = mode === 'active' ? this.constExpr() : null;
      let elemType: ValType = ValType.funcref;
      if (flags & 3) {
        if (flags & 4) elemType = this.refType();
        else {
          const kAt = r.pos;
          if (r.u8() !== 0) this.fail('malformed element kind', kAt);
        }
      }
      const count = r.len32();
      const funcIndices: (number | null)[] = [];
      for (let j = 0; j < count; j++) {
        if (flags & 4) {
          const e = this.constExpr();
          funcIndices.push(e.op === 'ref.func' ? e.index : null);
        } else {
          funcIndices.push(r.u32());
        }
      }
      this.m.elements.push({ mode, table, offset, elemType, funcIndices });
    }
  }

  private codeSection(): void {
    const r = this.r;
    const n = r.len32();
    for (let i = 0; i < n; i++) {
      this.where = `function body ${i}`;
      const bodyStart = r.pos;
      const size = r.len32();
      const sizeEnd = r.pos;
      const locals: LocalDecl[] = [];
      const nDecls = r.len32();
      let total = 0;
      for (let j = 0; j < nDecls; j++) {
        const count = r.u32();
        total += count;
        if (total > 0xffffffff) this.fail('too many locals', bodyStart);
        locals.push({ count, type: this.valType() });
      }
      const body: FunctionBody = {
        locals,
        numLocals: total,
        bodyStart,
        codeStart: r.pos,
        codeEnd: sizeEnd + size,
      };
      if (body.codeEnd < body.codeStart) this.fail('section size mismatch', bodyStart);
      // The body's instructions are checked by the validator; step over them here.
      r.pos = body.codeEnd;
      this.m.codes.push(body);
    }
  }

  private dataSection(): void {
    const r = this.r;
    const n = r.len32();
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const flags = r.u32();
      if (flags > 2) this.fail('malformed data segment kind', at);
      const memory = flags === 2 ? r.u32() : 0;
      const offset = flags === 1 ? null : this.constExpr();
      const len = r.len32();
      const seg: DataSegment = {
        mode: flags === 1 ? 'passive' : 'active',
        memory,
        offset,
        bytes: r.take(len),
      };
      this.m.data.push(seg);
    }
  }

  private buildIndexSpaces(): void {
    const m = this.m;
    for (const imp of m.imports) {
      switch (imp.desc.kind) {
        case 'func':
          m.funcTypeIndices.push(imp.desc.typeIndex);
          m.numImportedFuncs++;
          break;
        case 'table':
          m.tableSpace.push(imp.desc.type);
          m.numImportedTables++;
          break;
        case 'memory':
          m.memorySpace.push(imp.desc.type);
          m.numImportedMemories++;
          break;
        case 'global':
          m.globalSpace.push(imp.desc.type);
          m.numImportedGlobals++;
          break;
      }
    }
    for (const t of m.functions) m.funcTypeIndices.push(t);
    for (const t of m.tables) m.tableSpace.push(t);
    for (const t of m.memories) m.memorySpace.push(t);
    for (const g of m.globals) m.globalSpace.push(g.type);
  }

  /** Function names from the `name` section; a damaged name section is ignored, as the spec says. */
  private readNames(): void {
    const sec = this.m.customs.find((c) => c.name === 'name');
    if (!sec) return;
    try {
      const r = new CodeReader(sec.data, 0, sec.data.length);
      while (!r.atEnd()) {
        const sub = r.u8();
        const size = r.len32();
        const end = r.pos + size;
        if (sub === 1) {
          const n = r.len32();
          for (let i = 0; i < n; i++) {
            const idx = r.u32();
            const len = r.len32();
            const raw = r.take(len);
            this.m.funcNames.set(
              idx,
              Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'),
            );
          }
        }
        r.pos = end;
      }
    } catch {
      this.m.funcNames.clear();
    }
  }
}
