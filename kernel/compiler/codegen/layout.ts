// Constants shared with kernel/runtime/kiln_runtime.h (keep both in step).

/** Trap codes (KILN_TRAP_*). */
export const Trap = {
  unreachable: 1,
  memoryOutOfBounds: 2,
  divideByZero: 3,
  integerOverflow: 4,
  invalidConversion: 5,
  indirectTypeMismatch: 6,
  indirectNull: 7,
  stackExhausted: 8,
  abort: 9,
} as const;

/** Offsets of the instance fields compiled code reads (KILN_INST_*). */
export const Inst = {
  memBase: 0,
  memSize: 8,
  stackLimit: 16,
  trapFn: 24,
  growFn: 32,
  fillFn: 40,
  copyFn: 48,
  initFn: 56,
  dropFn: 64,
  table: 72,
  tableSize: 80,
  hostFns: 88,
  memPages: 96,
  froundFn: 104,
  callForeignFn: 112,
  /** int64 memSize - n for n = 2..8 at memLimits + 8(n - 2) (KILN_INST_MEM_LIMITS). */
  memLimits: 120,
  globals: 256,
} as const;

/** Size of one table entry (struct kiln_table_entry): code pointer, type, reserved, instance. */
export const TABLE_ENTRY_SIZE = 32;
export const TABLE_ENTRY_SHIFT = 5;
export const TABLE_ENTRY_TYPE = 8;
/** The instance the entry's function belongs to (a table may be shared by instances). */
export const TABLE_ENTRY_INST = 16;

export const BLOB_MAGIC = 'KILNAPP1';
export const BLOB_VERSION = 1;
export const NONE = 0xffffffff;
