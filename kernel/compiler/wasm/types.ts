// The decoded structure of a WebAssembly module, shared by the decoder, the validator and the
// code generator, plus the reader that walks instruction bytes. Function bodies are NOT decoded
// into instruction objects: the validator and the code generator both stream through the bytes
// with `CodeReader`, which keeps the front end fast (it runs on every build) and lets both passes
// agree on the encoding by construction.

/** Value types by their binary encoding. Only the numeric ones are accepted by the validator. */
export const ValType = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
  funcref: 0x70,
  externref: 0x6f,
} as const;
export type ValType = (typeof ValType)[keyof typeof ValType];
/** The four types values can have in an accepted module. */
export type NumType = typeof ValType.i32 | typeof ValType.i64 | typeof ValType.f32 | typeof ValType.f64;

export function valTypeName(t: number): string {
  switch (t) {
    case 0x7f:
      return 'i32';
    case 0x7e:
      return 'i64';
    case 0x7d:
      return 'f32';
    case 0x7c:
      return 'f64';
    case 0x7b:
      return 'v128';
    case 0x70:
      return 'funcref';
    case 0x6f:
      return 'externref';
    default:
      return `type(0x${t.toString(16)})`;
  }
}

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

export interface Limits {
  min: number;
  /** Absent when the limits have no maximum. */
  max?: number;
}

export interface TableType {
  elemType: ValType; // funcref in accepted modules
  limits: Limits;
}

export interface MemoryType {
  /** In 64 KiB pages. */
  limits: Limits;
}

export interface GlobalType {
  valType: ValType;
  mutable: boolean;
}

/** A constant expression (global initialisers, segment offsets). */
export type ConstExpr =
  | { op: 'i32.const'; value: number } // signed 32-bit value
  | { op: 'i64.const'; value: bigint } // signed 64-bit value
  | { op: 'f32.const'; bits: number } // raw IEEE bits as an unsigned 32-bit number
  | { op: 'f64.const'; bits: bigint } // raw IEEE bits as an unsigned 64-bit bigint
  | { op: 'global.get'; index: number }
  // Reference-types forms: decoded so that errors are precise, refused by the validator.
  | { op: 'ref.null'; type: ValType }
  | { op: 'ref.func'; index: number };

export type ExternKind = 'func' | 'table' | 'memory' | 'global';

export type ImportDesc =
  | { kind: 'func'; typeIndex: number }
  | { kind: 'table'; type: TableType }
  | { kind: 'memory'; type: MemoryType }
  | { kind: 'global'; type: GlobalType };

export interface Import {
  module: string;
  name: string;
  desc: ImportDesc;
}

export interface Export {
  name: string;
  kind: ExternKind;
  index: number;
}

export interface Global {
  type: GlobalType;
  init: ConstExpr;
}

/**
 * An element segment. In an accepted module every segment is active, targets table 0 and lists
 * function indices; the other modes are decoded so the validator can name the refused feature.
 */
export interface ElemSegment {
  mode: 'active' | 'passive' | 'declarative';
  table: number;
  offset: ConstExpr | null; // non-null when active
  elemType: ValType;
  /** Function indices; null for an element given as an expression that is not ref.func. */
  funcIndices: (number | null)[];
}

export interface DataSegment {
  mode: 'active' | 'passive';
  memory: number;
  offset: ConstExpr | null; // non-null when active
  /** Points into the module bytes (no copy). */
  bytes: Uint8Array;
}

export interface LocalDecl {
  count: number;
  type: ValType;
}

export interface FunctionBody {
  /** Local declarations after the parameters, as written (run-length). */
  locals: LocalDecl[];
  /** Total number of declared locals (not counting parameters). */
  numLocals: number;
  /** Offset in the module bytes of the body's size field (where the spec's function offset starts). */
  bodyStart: number;
  /** Offset of the first instruction (after the local declarations). */
  codeStart: number;
  /** Offset just past the body's final `end` opcode. */
  codeEnd: number;
}

export interface CustomSection {
  name: string;
  /** Content after the name, pointing into the module bytes. */
  data: Uint8Array;
}

export interface WasmModule {
  /** The module's bytes; every Uint8Array and offset in this structure refers to it. */
  bytes: Uint8Array;
  types: FuncType[];
  imports: Import[];
  /** Type index of each function DEFINED in the module (the function section). */
  functions: number[];
  tables: TableType[]; // defined
  memories: MemoryType[]; // defined
  globals: Global[]; // defined
  exports: Export[];
  start: number | null;
  elements: ElemSegment[];
  /** The data count section's value, or null when the section is absent. */
  dataCount: number | null;
  data: DataSegment[];
  /** One per defined function, same order as `functions`. */
  codes: FunctionBody[];
  customs: CustomSection[];
  /** Function names from the `name` custom section (function index -> name), when present. */
  funcNames: Map<number, string>;

  // Index spaces (imports first, then definitions), precomputed by the decoder.
  numImportedFuncs: number;
  numImportedTables: number;
  numImportedMemories: number;
  numImportedGlobals: number;
  /** Type index of every function in the function index space. */
  funcTypeIndices: number[];
  tableSpace: TableType[];
  memorySpace: MemoryType[];
  globalSpace: GlobalType[];
}

/** The signature of function `funcIndex` (imports first). */
export function funcTypeOf(m: WasmModule, funcIndex: number): FuncType {
  return m.types[m.funcTypeIndices[funcIndex]!]!;
}

/**
 * Why a module was rejected. `malformed` and `invalid` carry the spec's reason (the text of the
 * suite's assert_malformed / assert_invalid: the spec runner checks that the message starts
 * with it); `unsupported` names a feature Kiln refuses and where it was used.
 */
export type WasmErrorKind = 'malformed' | 'invalid' | 'unsupported';

export class WasmError extends Error {
  constructor(
    readonly kind: WasmErrorKind,
    /** The spec's reason ("type mismatch", "unexpected end", ...) or the refused feature's name. */
    readonly reason: string,
    /** Where: "function 3", "section 2", ... (for the human). */
    readonly where: string,
    /** Byte offset in the module, -1 when unknown. */
    readonly offset: number,
  ) {
    super(
      `${kind === 'unsupported' ? 'unsupported feature: ' : ''}${reason}${where ? ` (${where}` : ''}${where && offset >= 0 ? `, at byte ${offset})` : where ? ')' : ''}`,
    );
    this.name = 'WasmError';
  }
}

/** Opcodes. Prefixed opcodes (0xFC xx) are represented as 0xFC00 | xx (sub-opcode < 256 here). */
export const Op = {
  unreachable: 0x00,
  nop: 0x01,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  try_: 0x06,
  catch_: 0x07,
  throw_: 0x08,
  rethrow: 0x09,
  throw_ref: 0x0a,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  br_table: 0x0e,
  return: 0x0f,
  call: 0x10,
  call_indirect: 0x11,
  return_call: 0x12,
  return_call_indirect: 0x13,
  call_ref: 0x14,
  return_call_ref: 0x15,
  delegate: 0x18,
  catch_all: 0x19,
  drop: 0x1a,
  select: 0x1b,
  select_t: 0x1c,
  try_table: 0x1f,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  global_get: 0x23,
  global_set: 0x24,
  table_get: 0x25,
  table_set: 0x26,
  i32_load: 0x28,
  i64_load: 0x29,
  f32_load: 0x2a,
  f64_load: 0x2b,
  i32_load8_s: 0x2c,
  i32_load8_u: 0x2d,
  i32_load16_s: 0x2e,
  i32_load16_u: 0x2f,
  i64_load8_s: 0x30,
  i64_load8_u: 0x31,
  i64_load16_s: 0x32,
  i64_load16_u: 0x33,
  i64_load32_s: 0x34,
  i64_load32_u: 0x35,
  i32_store: 0x36,
  i64_store: 0x37,
  f32_store: 0x38,
  f64_store: 0x39,
  i32_store8: 0x3a,
  i32_store16: 0x3b,
  i64_store8: 0x3c,
  i64_store16: 0x3d,
  i64_store32: 0x3e,
  memory_size: 0x3f,
  memory_grow: 0x40,
  i32_const: 0x41,
  i64_const: 0x42,
  f32_const: 0x43,
  f64_const: 0x44,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  i64_eqz: 0x50,
  i64_eq: 0x51,
  i64_ne: 0x52,
  i64_lt_s: 0x53,
  i64_lt_u: 0x54,
  i64_gt_s: 0x55,
  i64_gt_u: 0x56,
  i64_le_s: 0x57,
  i64_le_u: 0x58,
  i64_ge_s: 0x59,
  i64_ge_u: 0x5a,
  f32_eq: 0x5b,
  f32_ne: 0x5c,
  f32_lt: 0x5d,
  f32_gt: 0x5e,
  f32_le: 0x5f,
  f32_ge: 0x60,
  f64_eq: 0x61,
  f64_ne: 0x62,
  f64_lt: 0x63,
  f64_gt: 0x64,
  f64_le: 0x65,
  f64_ge: 0x66,
  i32_clz: 0x67,
  i32_ctz: 0x68,
  i32_popcnt: 0x69,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_div_s: 0x6d,
  i32_div_u: 0x6e,
  i32_rem_s: 0x6f,
  i32_rem_u: 0x70,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  i32_rotl: 0x77,
  i32_rotr: 0x78,
  i64_clz: 0x79,
  i64_ctz: 0x7a,
  i64_popcnt: 0x7b,
  i64_add: 0x7c,
  i64_sub: 0x7d,
  i64_mul: 0x7e,
  i64_div_s: 0x7f,
  i64_div_u: 0x80,
  i64_rem_s: 0x81,
  i64_rem_u: 0x82,
  i64_and: 0x83,
  i64_or: 0x84,
  i64_xor: 0x85,
  i64_shl: 0x86,
  i64_shr_s: 0x87,
  i64_shr_u: 0x88,
  i64_rotl: 0x89,
  i64_rotr: 0x8a,
  f32_abs: 0x8b,
  f32_neg: 0x8c,
  f32_ceil: 0x8d,
  f32_floor: 0x8e,
  f32_trunc: 0x8f,
  f32_nearest: 0x90,
  f32_sqrt: 0x91,
  f32_add: 0x92,
  f32_sub: 0x93,
  f32_mul: 0x94,
  f32_div: 0x95,
  f32_min: 0x96,
  f32_max: 0x97,
  f32_copysign: 0x98,
  f64_abs: 0x99,
  f64_neg: 0x9a,
  f64_ceil: 0x9b,
  f64_floor: 0x9c,
  f64_trunc: 0x9d,
  f64_nearest: 0x9e,
  f64_sqrt: 0x9f,
  f64_add: 0xa0,
  f64_sub: 0xa1,
  f64_mul: 0xa2,
  f64_div: 0xa3,
  f64_min: 0xa4,
  f64_max: 0xa5,
  f64_copysign: 0xa6,
  i32_wrap_i64: 0xa7,
  i32_trunc_f32_s: 0xa8,
  i32_trunc_f32_u: 0xa9,
  i32_trunc_f64_s: 0xaa,
  i32_trunc_f64_u: 0xab,
  i64_extend_i32_s: 0xac,
  i64_extend_i32_u: 0xad,
  i64_trunc_f32_s: 0xae,
  i64_trunc_f32_u: 0xaf,
  i64_trunc_f64_s: 0xb0,
  i64_trunc_f64_u: 0xb1,
  f32_convert_i32_s: 0xb2,
  f32_convert_i32_u: 0xb3,
  f32_convert_i64_s: 0xb4,
  f32_convert_i64_u: 0xb5,
  f32_demote_f64: 0xb6,
  f64_convert_i32_s: 0xb7,
  f64_convert_i32_u: 0xb8,
  f64_convert_i64_s: 0xb9,
  f64_convert_i64_u: 0xba,
  f64_promote_f32: 0xbb,
  i32_reinterpret_f32: 0xbc,
  i64_reinterpret_f64: 0xbd,
  f32_reinterpret_i32: 0xbe,
  f64_reinterpret_i64: 0xbf,
  // sign-extension
  i32_extend8_s: 0xc0,
  i32_extend16_s: 0xc1,
  i64_extend8_s: 0xc2,
  i64_extend16_s: 0xc3,
  i64_extend32_s: 0xc4,
  // reference types (refused)
  ref_null: 0xd0,
  ref_is_null: 0xd1,
  ref_func: 0xd2,
  // 0xFC prefix: saturating truncation, bulk memory, table ops (refused)
  i32_trunc_sat_f32_s: 0xfc00,
  i32_trunc_sat_f32_u: 0xfc01,
  i32_trunc_sat_f64_s: 0xfc02,
  i32_trunc_sat_f64_u: 0xfc03,
  i64_trunc_sat_f32_s: 0xfc04,
  i64_trunc_sat_f32_u: 0xfc05,
  i64_trunc_sat_f64_s: 0xfc06,
  i64_trunc_sat_f64_u: 0xfc07,
  memory_init: 0xfc08,
  data_drop: 0xfc09,
  memory_copy: 0xfc0a,
  memory_fill: 0xfc0b,
  table_init: 0xfc0c,
  elem_drop: 0xfc0d,
  table_copy: 0xfc0e,
  table_grow: 0xfc0f,
  table_size: 0xfc10,
  table_fill: 0xfc11,
} as const;

/** Prefix bytes whose opcodes are represented as (prefix << 8) | sub. */
export const PREFIX_FC = 0xfc;
export const PREFIX_SIMD = 0xfd;
export const PREFIX_ATOMIC = 0xfe;

const opNames = new Map<number, string>();
for (const [k, v] of Object.entries(Op)) {
  // i32_load8_s -> i32.load8_s, local_get -> local.get, br_table stays, try_ -> try.
  const name = k
    .replace(/_$/, '')
    .replace(/^(i32|i64|f32|f64|local|global|memory|table|ref|data|elem)_/, '$1.');
  opNames.set(v, name === 'select_t' ? 'select' : name);
}

/** The text-format name of an opcode, for messages. */
export function opName(op: number): string {
  return (
    opNames.get(op) ??
    (op > 0xff ? `0x${(op >> 8).toString(16)} 0x${(op & 0xff).toString(16)}` : `0x${op.toString(16)}`)
  );
}

export interface MemArg {
  /** log2 of the alignment hint. */
  align: number;
  /** The static offset (u32). */
  offset: number;
}

const EMPTY_TYPE: FuncType = Object.freeze({
  params: Object.freeze([]) as readonly ValType[],
  results: Object.freeze([]) as readonly ValType[],
});
const SINGLE_RESULT = new Map<number, FuncType>();
for (const t of [0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f] as ValType[]) {
  SINGLE_RESULT.set(
    t,
    Object.freeze({
      params: Object.freeze([]) as readonly ValType[],
      results: Object.freeze([t]) as readonly ValType[],
    }),
  );
}

/**
 * The reason given for reading past the end. The spec's reference decoder reads sections and
 * bodies from the whole module (then checks each section's size), so this is what it reports
 * wherever the bytes run out; the suite matches reasons by prefix, so "unexpected end" matches.
 */
export const EOF = 'unexpected end of section or function';

/**
 * Reads bytes with the spec's error reasons. LEB128 decoding enforces the spec's length limit
 * ("integer representation too long") and unused-bit rule ("integer too large").
 */
export class ByteReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    /** Reading at or past `end` is "unexpected end". */
    public end: number,
  ) {
    this.pos = start;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  fail(reason: string, kind: WasmErrorKind = 'malformed', where = ''): never {
    throw new WasmError(kind, reason, where, this.pos);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail(EOF);
    return this.bytes[this.pos++]!;
  }

  /** Unsigned LEB128, at most 32 bits, as a non-negative number. */
  u32(): number {
    const b = this.bytes;
    let pos = this.pos;
    if (pos < this.end && b[pos]! < 0x80) {
      this.pos = pos + 1;
      return b[pos]!;
    }
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= this.end) {
        this.pos = pos;
        this.fail(EOF);
      }
      const byte = b[pos++]!;
      if (shift === 28) {
        if (byte & 0x80) {
          this.pos = pos;
          this.fail('integer representation too long');
        }
        if (byte & 0x70) {
          this.pos = pos;
          this.fail('integer too large');
        }
        result += byte * 2 ** 28;
        break;
      }
      result |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
      shift += 7;
    }
    this.pos = pos;
    return result >>> 0 === result ? result : result >>> 0;
  }

  /**
   * A length or count (u32) that cannot exceed the bytes left in the module, counted from the
   * length field itself as the reference decoder does; "length out of bounds" otherwise.
   */
  len32(): number {
    const at = this.pos;
    const n = this.u32();
    if (n > this.end - at) {
      this.pos = at;
      this.fail('length out of bounds');
    }
    return n;
  }

  /** Signed LEB128, at most 32 bits, as a signed number. */
  s32(): number {
    const b = this.bytes;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= this.end) {
        this.pos = pos;
        this.fail(EOF);
      }
      const byte = b[pos++]!;
      if (shift === 28) {
        if (byte & 0x80) {
          this.pos = pos;
          this.fail('integer representation too long');
        }
        // The 4 unused bits must equal the sign bit (bit 3 of this byte).
        const high = byte & 0x78;
        if (high !== 0 && high !== 0x78) {
          this.pos = pos;
          this.fail('integer too large');
        }
        result |= byte << 28;
        break;
      }
      result |= (byte & 0x7f) << shift;
      shift += 7;
      if (!(byte & 0x80)) {
        if (shift < 32 && byte & 0x40) result |= -1 << shift;
        break;
      }
    }
    this.pos = pos;
    return result | 0;
  }

  /** Signed LEB128, at most 64 bits. */
  s64(): bigint {
    const b = this.bytes;
    let pos = this.pos;
    // Fast path: up to 4 bytes (28 bits) fits in a JS number exactly.
    let small = 0;
    let shift = 0;
    for (; shift < 28; shift += 7) {
      if (pos >= this.end) {
        this.pos = pos;
        this.fail(EOF);
      }
      const byte = b[pos++]!;
      small |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) {
        shift += 7;
        if (byte & 0x40) small |= -1 << shift;
        this.pos = pos;
        return BigInt(small);
      }
    }
    let result = BigInt(small >>> 0);
    let bshift = 28n;
    for (;;) {
      if (pos >= this.end) {
        this.pos = pos;
        this.fail(EOF);
      }
      const byte = b[pos++]!;
      if (bshift === 63n) {
        if (byte & 0x80) {
          this.pos = pos;
          this.fail('integer representation too long');
        }
        // Only bit 0 is meaningful; the other 6 bits must repeat it.
        const high = byte & 0x7e;
        if ((byte & 1 ? 0x7e : 0) !== high) {
          this.pos = pos;
          this.fail('integer too large');
        }
        result |= BigInt(byte & 1) << 63n;
        this.pos = pos;
        return BigInt.asIntN(64, result);
      }
      result |= BigInt(byte & 0x7f) << bshift;
      bshift += 7n;
      if (!(byte & 0x80)) {
        this.pos = pos;
        if (byte & 0x40) return BigInt.asIntN(64, result - (1n << bshift));
        return BigInt.asIntN(64, result);
      }
    }
  }

  /** Steps over a signed 64-bit LEB128 with the same checks as s64(), without making a bigint. */
  skipS64(): void {
    const b = this.bytes;
    let pos = this.pos;
    for (let i = 0; ; i++) {
      if (pos >= this.end) {
        this.pos = pos;
        this.fail(EOF);
      }
      const byte = b[pos++]!;
      if (i === 9) {
        if (byte & 0x80) {
          this.pos = pos;
          this.fail('integer representation too long');
        }
        if ((byte & 1 ? 0x7e : 0) !== (byte & 0x7e)) {
          this.pos = pos;
          this.fail('integer too large');
        }
        break;
      }
      if (!(byte & 0x80)) break;
    }
    this.pos = pos;
  }

  /** Steps over `n` bytes. */
  skip(n: number): void {
    if (this.pos + n > this.end) {
      this.pos = this.end;
      this.fail(EOF);
    }
    this.pos += n;
  }

  /** Signed LEB128 of at most 33 bits (block types), as a number. */
  s33(): number {
    const b = this.bytes;
    let pos = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (pos >= this.end) {
        this.pos = pos;
        this.fail(EOF);
      }
      const byte = b[pos++]!;
      if (i === 4) {
        if (byte & 0x80) {
          this.pos = pos;
          this.fail('integer representation too long');
        }
        // 33 bits: 28 used so far, 5 bits here, the upper 2 bits must repeat bit 4.
        const high = byte & 0x60;
        const sign = byte & 0x10;
        if ((sign ? 0x60 : 0) !== high) {
          this.pos = pos;
          this.fail('integer too large');
        }
        result += (byte & 0x1f) * mul;
        if (sign) result -= 2 ** 33;
        break;
      }
      result += (byte & 0x7f) * mul;
      mul *= 128;
      if (!(byte & 0x80)) {
        if (byte & 0x40) result -= mul;
        break;
      }
    }
    this.pos = pos;
    return result;
  }

  f32Bits(): number {
    if (this.pos + 4 > this.end) {
      this.pos = this.end;
      this.fail(EOF);
    }
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  f64Bits(): bigint {
    const lo = BigInt(this.f32Bits());
    const hi = BigInt(this.f32Bits());
    return (hi << 32n) | lo;
  }

  /** `n` raw bytes as a view into the module. */
  take(n: number): Uint8Array {
    if (this.pos + n > this.end) {
      this.pos = this.end;
      this.fail(EOF);
    }
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

/**
 * Walks the instructions of one function body. Usage: `op = r.opcode()` then read the
 * immediates that opcode has, with the methods below, in encoding order:
 * - block/loop/if: `blockType(types)`
 * - br/br_if: `u32()` (label depth); br_table: `brTable()`
 * - call: `u32()` (function index); call_indirect: `u32()` type index, then `u32()` table index
 * - local.* / global.*: `u32()`
 * - loads/stores: `memArg()`; memory.size/grow: `u8()` (memory index byte, must be 0)
 * - i32.const: `s32()`; i64.const: `s64()`; f32.const: `f32Bits()`; f64.const: `f64Bits()`
 * - memory.init: `u32()` data index then `u8()` memory; data.drop: `u32()`;
 *   memory.copy: `u8()` `u8()`; memory.fill: `u8()`
 * The validator has already checked everything, so the code generator may read without care.
 */
export class CodeReader extends ByteReader {
  /** Offset of the opcode most recently read (for trap and error locations). */
  opOffset = 0;

  /** Reads an opcode; 0xFC-prefixed ones come back as 0xFC00 | sub-opcode. */
  opcode(): number {
    this.opOffset = this.pos;
    const op = this.u8();
    if (op === PREFIX_FC || op === PREFIX_SIMD || op === PREFIX_ATOMIC) {
      const sub = this.u32();
      return op === PREFIX_FC && sub < 256
        ? 0xfc00 | sub
        : (op << 8) | (sub & 0xff) | (sub > 0xff ? 0x1000000 : 0);
    }
    return op;
  }

  /**
   * A block type resolved to a function type: empty and single-result types are shared frozen
   * objects; a type index is looked up in `types` (the caller must have checked it is in range,
   * or pass a checker).
   */
  blockType(types: readonly FuncType[]): FuncType {
    const b = this.bytes;
    if (this.pos < this.end) {
      const first = b[this.pos]!;
      if (first === 0x40) {
        this.pos++;
        return EMPTY_TYPE;
      }
      const single = SINGLE_RESULT.get(first);
      if (single) {
        this.pos++;
        return single;
      }
    }
    const start = this.pos;
    const idx = this.s33();
    if (idx < 0) {
      this.pos = start;
      this.fail('malformed value type');
    }
    if (idx >= types.length) {
      this.pos = start;
      this.fail(`unknown type ${idx}`, 'invalid');
    }
    return types[idx]!;
  }

  memArg(): MemArg {
    const align = this.u32();
    const offset = this.u32();
    return { align, offset };
  }

  /** br_table: the label depths, the default last. */
  brTable(): { targets: number[]; defaultTarget: number } {
    const n = this.u32();
    if (n > this.end - this.pos) this.fail(EOF);
    const targets = new Array<number>(n);
    for (let i = 0; i < n; i++) targets[i] = this.u32();
    return { targets, defaultTarget: this.u32() };
  }
}

export { EMPTY_TYPE };
