/* Kiln runtime: loads a compiled appliance blob (ABI.md section 5) and calls into it.
 * Freestanding C (no libc): compiled into the kernel base and into the Linux test harness.
 * The layout constants below are mirrored by kernel/compiler/codegen/layout.ts; change both. */
#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Trap codes (ABI.md section 5). 0 is "no trap". ---- */
#define KILN_TRAP_UNREACHABLE 1
#define KILN_TRAP_MEMORY_OOB 2
#define KILN_TRAP_DIV_BY_ZERO 3
#define KILN_TRAP_INT_OVERFLOW 4
#define KILN_TRAP_INVALID_CONVERSION 5
#define KILN_TRAP_INDIRECT_TYPE_MISMATCH 6
#define KILN_TRAP_INDIRECT_NULL 7 /* null or out-of-range table entry */
#define KILN_TRAP_STACK_EXHAUSTED 8
#define KILN_TRAP_ABORT 9 /* host abort (AssemblyScript env.abort) */
#define KILN_TRAP_COUNT 10

/* ---- Result codes of kiln_rt_* functions ---- */
#define KILN_RT_OK 0
#define KILN_RT_BAD_BLOB (-1)
#define KILN_RT_UNKNOWN_IMPORT (-2)
#define KILN_RT_IMPORT_MISMATCH (-3)
#define KILN_RT_NO_MEMORY (-4)
#define KILN_RT_NO_EXPORT (-5)

typedef struct kiln_instance kiln_instance;

/* Host import: slots[i] holds param i on entry (i32 zero-extended, i64, f32/f64 raw bits);
 * results are written to slots[0..nresults-1]. The slots array has max(params, results) entries.
 * Import stubs also pass the import's index as a third argument, which host functions ignore
 * (the runtime's calls into another instance use it). */
typedef void (*kiln_host_fn)(kiln_instance *inst, uint64_t *slots);

/* Signature strings: params ':' results, one letter per value:
 * i = i32, l = i64, f = f32, d = f64. "ii:i" is (i32, i32) -> i32; ":" is () -> (). */
struct kiln_host_import {
  const char *module, *name;
  const char *sig;
  kiln_host_fn fn;
};

/* An imported (immutable) global: type letter as in signatures, value as raw bits. */
struct kiln_global_import {
  const char *module, *name;
  char type;
  uint64_t value;
};

/* A linear memory. Every instance using it (its owner, and any instance that imported it from
 * another instance) is on the users list: memory.grow updates the size each one caches. */
struct kiln_memory {
  uint8_t *base;
  uint64_t pages;     /* current size */
  uint64_t max_pages; /* growth limit: the declared maximum, capped by the reserve */
  uint32_t decl_max;  /* declared maximum in pages, KILN_NONE if none (import matching) */
  bool zeroed;        /* the reserve reads as zero: growing needs no clearing */
  kiln_instance *users;
};

/* A table, shared the same way. MVP tables do not grow. */
struct kiln_table {
  struct kiln_table_entry *entries;
  uint64_t size;
  uint32_t decl_max; /* KILN_NONE if none */
};

/* An export of an instance, as kiln_rt_export_extern finds it: what an embedder's resolver
 * hands back to link an import of one instance to another instance (the spec's `register`). */
struct kiln_extern {
  uint32_t kind;       /* KILN_EXPORT_* */
  kiln_instance *inst; /* the instance that owns the function */
  const void *code;    /* function: its entry (called with inst in r15) */
  const char *sig;     /* function: signature string */
  struct kiln_memory *memory;
  struct kiln_table *table;
  uint64_t *global; /* the global's cell: importers of a mutable global share it */
  char global_type; /* type letter */
  bool global_mutable;
};

struct kiln_embedder {
  uint8_t *mem_region;   /* where linear memory lives */
  uint64_t mem_reserve;  /* bytes usable at mem_region (memory.grow fails beyond it) */
  bool mem_zeroed;       /* the whole reserve is known to read as zero: skip clearing it */
  uintptr_t stack_limit; /* compiled code traps with STACK_EXHAUSTED below this stack address */
  const struct kiln_host_import *imports;
  uint32_t n_imports;
  const struct kiln_global_import *globals;
  uint32_t n_globals;
  /* Imported memory / table names the embedder accepts ("spectest"/"memory" in the harness);
   * NULL accepts none. The instance still owns them (no cross-module sharing). */
  const char *memory_import_module, *memory_import_name;
  const char *table_import_module, *table_import_name;
  /* Their actual limits (pages / entries; max KILN_NONE = none): the import must fit the module's
   * declared limits. With all four zero, the module's declared limits are used as they are. */
  uint32_t memory_import_min, memory_import_max;
  uint32_t table_import_min, table_import_max;
  /* Called on a trap; must not return (the harness longjmps, the base exits). */
  void (*trap)(kiln_instance *inst, uint32_t code, uint32_t func_index, uint32_t code_offset);
  void *(*alloc)(uint64_t size, uint64_t align); /* zeroed memory; NULL when exhausted */
  char *err_msg;     /* optional: instantiate writes a NUL-terminated reason here */
  uint32_t err_size; /* size of err_msg */
  void *user;        /* for the embedder (kiln_rt_user) */
  /* Optional: resolves module.name to another instance's export (kiln_rt_export_extern). Tried
   * before the lists above; false means "not there". NULL in the kernel base (one instance). */
  bool (*resolve)(const struct kiln_embedder *e, const uint8_t *module, uint32_t module_len,
                  const uint8_t *name, uint32_t name_len, struct kiln_extern *out);
};

/* Parse the blob, link imports, allocate the instance, initialise memory (data segments),
 * globals and table, then run the start function. Returns KILN_RT_OK or a negative code. */
int kiln_rt_instantiate(const uint8_t *blob, uint64_t blob_len, const struct kiln_embedder *e,
                        kiln_instance **out);
/* Call an exported function: slots as for kiln_host_fn. KILN_RT_NO_EXPORT if absent. */
int kiln_rt_call_export(kiln_instance *inst, const char *name, uint64_t *slots);
/* Same, with an explicit name length (names may hold any UTF-8, even NUL). */
int kiln_rt_call_export_n(kiln_instance *inst, const char *name, uint32_t name_len, uint64_t *slots);
/* Signature string of an exported function, NULL if absent. */
const char *kiln_rt_export_sig(kiln_instance *inst, const char *name, uint32_t name_len);
/* Value (raw bits) and type letter of an exported global; false if absent. */
bool kiln_rt_export_global(kiln_instance *inst, const char *name, uint32_t name_len, uint64_t *value,
                           char *type);
/* Any export of an instance by name; false if absent. */
bool kiln_rt_export_extern(kiln_instance *inst, const uint8_t *name, uint32_t name_len, struct kiln_extern *out);
/* Pointer to [offset, offset+len) of linear memory, NULL if outside it. */
uint8_t *kiln_rt_mem(kiln_instance *inst, uint64_t offset, uint64_t len);
uint64_t kiln_rt_mem_size(kiln_instance *inst);
/* Where the code lies in the blob (page aligned), so the embedder can make it read-execute. */
void kiln_rt_code_range(const uint8_t *blob, uint64_t *start_off, uint64_t *len);
const char *kiln_rt_trap_name(uint32_t code);
/* Float rounding helper used by compiled code (see KILN_INST_FROUND_FN). */
uint64_t kiln_rt_fround(uint32_t op, uint64_t bits);
void *kiln_rt_user(kiln_instance *inst);

/* ---- Blob format (ABI.md section 5). All fields little-endian; offsets are from blob start. */
#define KILN_BLOB_MAGIC "KILNAPP1"
#define KILN_BLOB_VERSION 1
#define KILN_NONE 0xffffffffu

struct kiln_blob_header {
  uint8_t magic[8];
  uint32_t version, header_size;
  uint32_t code_off, code_len; /* page aligned */
  uint32_t n_funcs, funcs_off; /* struct kiln_blob_func[n_funcs], imported functions first */
  uint32_t n_types, types_off; /* uint32_t[n_types]: string offsets of signature strings */
  uint32_t n_imports, imports_off; /* struct kiln_blob_import[]: function imports, in index order */
  uint32_t n_globals, globals_off; /* struct kiln_blob_global[] */
  uint32_t n_exports, exports_off; /* struct kiln_blob_export[] */
  uint32_t n_elems, elems_off;     /* struct kiln_blob_segment[] (payload: uint32_t func indices) */
  uint32_t n_datas, datas_off;     /* struct kiln_blob_segment[] (payload: bytes) */
  uint32_t mem_flags, mem_min, mem_max;       /* flags: KILN_LIMIT_*; pages of 64 KiB */
  uint32_t table_flags, table_min, table_max; /* entries */
  uint32_t start_func;                        /* KILN_NONE if none */
  uint32_t mem_import_module, mem_import_name;     /* strings, KILN_NONE unless imported */
  uint32_t table_import_module, table_import_name; /* strings, KILN_NONE unless imported */
  uint32_t reserved[6];
};
#define KILN_LIMIT_PRESENT 1u
#define KILN_LIMIT_HAS_MAX 2u
#define KILN_LIMIT_IMPORTED 4u

/* Strings: uint32_t length, bytes, then a NUL (not counted). A string offset points at the length. */

struct kiln_blob_func {
  uint32_t code_offset; /* from code_off; imported functions point at their generated stub */
  uint32_t type;        /* canonical type index: equal signatures have equal indices */
};
struct kiln_blob_import {
  uint32_t module, name; /* strings */
  uint32_t type;
  uint32_t reserved;
};
#define KILN_VAL_I32 0
#define KILN_VAL_I64 1
#define KILN_VAL_F32 2
#define KILN_VAL_F64 3
struct kiln_blob_global {
  uint8_t type, mutable_, init_kind, reserved; /* init_kind: KILN_INIT_* */
  uint32_t import_module, import_name;         /* strings, for KILN_INIT_IMPORT */
  uint32_t init_global;                        /* for KILN_INIT_GLOBAL: index of an earlier global */
  uint64_t value;                              /* for KILN_INIT_CONST: raw bits */
};
#define KILN_INIT_CONST 0
#define KILN_INIT_IMPORT 1
#define KILN_INIT_GLOBAL 2
#define KILN_EXPORT_FUNC 0
#define KILN_EXPORT_TABLE 1
#define KILN_EXPORT_MEMORY 2
#define KILN_EXPORT_GLOBAL 3
struct kiln_blob_export {
  uint32_t name; /* string */
  uint32_t kind, index;
  uint32_t reserved;
};
struct kiln_blob_segment {
  uint32_t active;      /* 1: applied at instantiation (then dropped); 0: passive */
  uint32_t offset_kind; /* KILN_INIT_CONST (offset_value) or KILN_INIT_GLOBAL (global index) */
  uint32_t offset_value;
  uint32_t count;       /* bytes (data) or entries (elements) */
  uint32_t payload_off;
  uint32_t reserved;
};

/* ---- Instance layout seen by compiled code (r15 holds the instance, r14 the memory base). */
#define KILN_INST_MEM_BASE 0     /* uint8_t * */
#define KILN_INST_MEM_SIZE 8     /* uint64_t bytes */
#define KILN_INST_STACK_LIMIT 16 /* uintptr_t */
#define KILN_INST_TRAP_FN 24     /* void (*)(inst, code, func, offset), never returns */
#define KILN_INST_GROW_FN 32     /* uint32_t (*)(inst, delta pages): old pages or KILN_NONE */
#define KILN_INST_FILL_FN 40     /* int (*)(inst, dst, value, n): 0, or a trap code */
#define KILN_INST_COPY_FN 48     /* int (*)(inst, dst, src, n) */
#define KILN_INST_INIT_FN 56     /* int (*)(inst, segment, dst, src, n) */
#define KILN_INST_DROP_FN 64     /* void (*)(inst, segment) */
#define KILN_INST_TABLE 72       /* struct kiln_table_entry * */
#define KILN_INST_TABLE_SIZE 80  /* uint64_t entries */
#define KILN_INST_HOST_FNS 88    /* kiln_host_fn * (one per function import) */
#define KILN_INST_MEM_PAGES 96   /* uint64_t */
#define KILN_INST_FROUND_FN 104  /* uint64_t (*)(uint32_t op, uint64_t bits): ceil/floor/trunc/nearest */
/* int (*)(inst, slots, entry, canonical type): call_indirect of a table entry owned by another
 * instance (or a null entry): checks it, calls it with its own instance; 0 or a trap code. */
#define KILN_INST_CALL_FOREIGN_FN 112
/* int64_t mem_limit[7]: mem_size - n for n = 2..8 (negative when the memory is smaller). An access
 * whose offset + size is n is in bounds iff address <= mem_limit[n - 2] (signed): one compare. */
#define KILN_INST_MEM_LIMITS 120
#define KILN_INST_GLOBALS 256    /* uint64_t globals[n] follow the fixed part */

struct kiln_table_entry {
  const void *code;    /* NULL: null entry */
  uint32_t type;       /* canonical type index in inst's blob; KILN_NONE for null */
  uint32_t reserved;
  kiln_instance *inst; /* the function's instance (code runs with it in r15); NULL for null */
  uint64_t reserved2;
};

#endif
