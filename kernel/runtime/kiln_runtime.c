/* Kiln runtime: instantiates a compiled appliance blob and calls its exports.
 * Freestanding: shared by the kernel base and the Linux harness (see kiln_runtime.h). */
#include "kiln_runtime.h"

#define PAGE_BYTES 65536ull

struct kiln_instance {
  /* Fixed part read by compiled code: offsets are KILN_INST_* (checked below). */
  uint8_t *mem_base;
  uint64_t mem_size;
  uintptr_t stack_limit;
  void *trap_fn, *grow_fn, *fill_fn, *copy_fn, *init_fn, *drop_fn;
  struct kiln_table_entry *table;
  uint64_t table_size;
  kiln_host_fn *host_fns;
  uint64_t mem_pages;
  void *fround_fn;
  void *call_foreign_fn;
  int64_t mem_limit[7];
  /* Private to the runtime. */
  const uint8_t *blob;
  const struct kiln_blob_header *hdr;
  const struct kiln_embedder *emb;
  uint8_t *data_dropped;
  struct kiln_memory *memory;   /* NULL without a memory */
  kiln_instance *next_mem_user; /* next instance on memory->users */
  struct kiln_table *tab;       /* NULL without a table */
  struct kiln_link *links;      /* per function import: set for imports of another instance */
  uint8_t pad[KILN_INST_GLOBALS - 240];
  uint64_t globals[];
};

/* A function import satisfied by another instance's export. */
struct kiln_link {
  kiln_instance *inst;
  const void *code;
  uint64_t nslots;
};

#define CHECK_OFFSET(field, off) _Static_assert(__builtin_offsetof(struct kiln_instance, field) == (off), #field)
CHECK_OFFSET(mem_base, KILN_INST_MEM_BASE);
CHECK_OFFSET(mem_size, KILN_INST_MEM_SIZE);
CHECK_OFFSET(stack_limit, KILN_INST_STACK_LIMIT);
CHECK_OFFSET(trap_fn, KILN_INST_TRAP_FN);
CHECK_OFFSET(grow_fn, KILN_INST_GROW_FN);
CHECK_OFFSET(fill_fn, KILN_INST_FILL_FN);
CHECK_OFFSET(copy_fn, KILN_INST_COPY_FN);
CHECK_OFFSET(init_fn, KILN_INST_INIT_FN);
CHECK_OFFSET(drop_fn, KILN_INST_DROP_FN);
CHECK_OFFSET(table, KILN_INST_TABLE);
CHECK_OFFSET(table_size, KILN_INST_TABLE_SIZE);
CHECK_OFFSET(host_fns, KILN_INST_HOST_FNS);
CHECK_OFFSET(mem_pages, KILN_INST_MEM_PAGES);
CHECK_OFFSET(fround_fn, KILN_INST_FROUND_FN);
CHECK_OFFSET(call_foreign_fn, KILN_INST_CALL_FOREIGN_FN);
CHECK_OFFSET(mem_limit, KILN_INST_MEM_LIMITS);
CHECK_OFFSET(links, 232);
_Static_assert(sizeof(struct kiln_table_entry) == 32, "table entry size (codegen layout.ts)");
CHECK_OFFSET(globals, KILN_INST_GLOBALS);

/* Calls compiled code: copies nslots slots to an outgoing area on an aligned stack, sets the
 * pinned registers (r15 instance, r14 memory base), calls, copies the slots back. */
uint64_t kiln_rt_enter(kiln_instance *inst, const void *code, uint64_t *slots, uint64_t nslots);
__asm__(".text\n"
        ".globl kiln_rt_enter\n"
        ".type kiln_rt_enter,@function\n"
        "kiln_rt_enter:\n"
        "  push %rbp\n"
        "  mov %rsp, %rbp\n"
        "  push %rbx\n"
        "  push %r12\n"
        "  push %r13\n"
        "  push %r14\n"
        "  push %r15\n"
        "  push %rdx\n" /* slots and count survive the call in the frame: code clobbers r12/r13 */
        "  push %rcx\n"
        "  mov %rdx, %r12\n"
        "  mov %rcx, %r13\n"
        "  lea 15(,%rcx,8), %rax\n"
        "  and $-16, %rax\n"
        "  sub %rax, %rsp\n"
        "  and $-16, %rsp\n"
        "  xor %ecx, %ecx\n"
        "1: cmp %r13, %rcx\n"
        "  jae 2f\n"
        "  mov (%r12,%rcx,8), %rax\n"
        "  mov %rax, (%rsp,%rcx,8)\n"
        "  inc %rcx\n"
        "  jmp 1b\n"
        "2: mov %rdi, %r15\n"
        "  mov (%rdi), %r14\n"
        "  call *%rsi\n"
        "  mov -48(%rbp), %r12\n"
        "  mov -56(%rbp), %r13\n"
        "  xor %ecx, %ecx\n"
        "3: cmp %r13, %rcx\n"
        "  jae 4f\n"
        "  mov (%rsp,%rcx,8), %rax\n"
        "  mov %rax, (%r12,%rcx,8)\n"
        "  inc %rcx\n"
        "  jmp 3b\n"
        "4: lea -40(%rbp), %rsp\n"
        "  pop %r15\n"
        "  pop %r14\n"
        "  pop %r13\n"
        "  pop %r12\n"
        "  pop %rbx\n"
        "  pop %rbp\n"
        "  ret\n"
        ".size kiln_rt_enter, .-kiln_rt_enter\n");

static void copy_bytes(uint8_t *dst, const uint8_t *src, uint64_t n) {
  if (dst <= src || dst >= src + n) {
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
  } else {
    dst += n - 1;
    src += n - 1;
    __asm__ volatile("std\n rep movsb\n cld" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
  }
}

static void fill_bytes(uint8_t *dst, uint8_t value, uint64_t n) {
  __asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(value) : "memory");
}

static const struct kiln_blob_header *header(const uint8_t *blob) {
  return (const struct kiln_blob_header *)blob;
}

static const uint8_t *str_at(const uint8_t *blob, uint32_t off, uint32_t *len) {
  *len = *(const uint32_t *)(blob + off);
  return blob + off + 4;
}

static bool str_eq(const uint8_t *blob, uint32_t off, const char *s, uint32_t s_len) {
  uint32_t len;
  const uint8_t *p = str_at(blob, off, &len);
  if (len != s_len) return false;
  for (uint32_t i = 0; i < len; i++)
    if (p[i] != (uint8_t)s[i]) return false;
  return true;
}

static uint32_t c_len(const char *s) {
  uint32_t n = 0;
  while (s[n]) n++;
  return n;
}

static bool c_eq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static const char *type_sig(const uint8_t *blob, uint32_t type) {
  const uint32_t *types = (const uint32_t *)(blob + header(blob)->types_off);
  return (const char *)(blob + types[type] + 4);
}

static void set_error(const struct kiln_embedder *e, const char *a, const uint8_t *b, uint32_t b_len,
                      const char *c) {
  if (!e->err_msg || e->err_size == 0) return;
  uint32_t n = 0, cap = e->err_size - 1;
  for (; *a && n < cap; a++) e->err_msg[n++] = *a;
  for (uint32_t i = 0; i < b_len && n < cap; i++) e->err_msg[n++] = (char)b[i];
  for (; c && *c && n < cap; c++) e->err_msg[n++] = *c;
  e->err_msg[n] = 0;
}

static void set_error_name(const struct kiln_embedder *e, const char *what, const uint8_t *blob,
                           uint32_t module, uint32_t name) {
  uint32_t ml, nl;
  const uint8_t *m = str_at(blob, module, &ml);
  const uint8_t *n = str_at(blob, name, &nl);
  set_error(e, what, m, ml, ".");
  if (e->err_msg && e->err_size) {
    uint32_t at = c_len(e->err_msg);
    for (uint32_t i = 0; i < nl && at + 1 < e->err_size; i++) e->err_msg[at++] = (char)n[i];
    e->err_msg[at] = 0;
  }
}

static bool blob_valid(const uint8_t *blob, uint64_t len) {
  if (len < sizeof(struct kiln_blob_header)) return false;
  const struct kiln_blob_header *h = header(blob);
  for (int i = 0; i < 8; i++)
    if (h->magic[i] != (uint8_t)KILN_BLOB_MAGIC[i]) return false;
  if (h->version != KILN_BLOB_VERSION) return false;
  if ((uint64_t)h->code_off + h->code_len > len) return false;
  if ((uint64_t)h->funcs_off + (uint64_t)h->n_funcs * sizeof(struct kiln_blob_func) > len) return false;
  if ((uint64_t)h->types_off + (uint64_t)h->n_types * 4 > len) return false;
  if ((uint64_t)h->imports_off + (uint64_t)h->n_imports * sizeof(struct kiln_blob_import) > len) return false;
  if ((uint64_t)h->globals_off + (uint64_t)h->n_globals * sizeof(struct kiln_blob_global) > len) return false;
  if ((uint64_t)h->exports_off + (uint64_t)h->n_exports * sizeof(struct kiln_blob_export) > len) return false;
  if ((uint64_t)h->elems_off + (uint64_t)h->n_elems * sizeof(struct kiln_blob_segment) > len) return false;
  if ((uint64_t)h->datas_off + (uint64_t)h->n_datas * sizeof(struct kiln_blob_segment) > len) return false;
  return true;
}

/* ---- Helpers called by compiled code (SysV ABI, instance first). ---- */

/* The size fields compiled code reads: pages, bytes and the per-access-width limits. */
static void set_mem_pages(kiln_instance *inst, uint64_t pages) {
  inst->mem_pages = pages;
  inst->mem_size = pages * PAGE_BYTES;
  for (int n = 2; n <= 8; n++) inst->mem_limit[n - 2] = (int64_t)inst->mem_size - n;
}

static uint32_t rt_grow(kiln_instance *inst, uint32_t delta) {
  struct kiln_memory *m = inst->memory;
  uint64_t old = m->pages;
  if (delta > m->max_pages - old) return KILN_NONE;
  if (!m->zeroed) fill_bytes(m->base + old * PAGE_BYTES, 0, (uint64_t)delta * PAGE_BYTES);
  m->pages = old + delta;
  for (kiln_instance *u = m->users; u; u = u->next_mem_user) set_mem_pages(u, m->pages);
  return (uint32_t)old;
}

static int rt_fill(kiln_instance *inst, uint32_t dst, uint32_t value, uint32_t n) {
  if ((uint64_t)dst + n > inst->mem_size) return KILN_TRAP_MEMORY_OOB;
  fill_bytes(inst->mem_base + dst, (uint8_t)value, n);
  return 0;
}

static int rt_copy(kiln_instance *inst, uint32_t dst, uint32_t src, uint32_t n) {
  if ((uint64_t)dst + n > inst->mem_size || (uint64_t)src + n > inst->mem_size) return KILN_TRAP_MEMORY_OOB;
  copy_bytes(inst->mem_base + dst, inst->mem_base + src, n);
  return 0;
}

static const struct kiln_blob_segment *data_segment(kiln_instance *inst, uint32_t seg) {
  return (const struct kiln_blob_segment *)(inst->blob + inst->hdr->datas_off) + seg;
}

static int rt_init(kiln_instance *inst, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n) {
  const struct kiln_blob_segment *s = data_segment(inst, seg);
  uint64_t seg_len = inst->data_dropped[seg] ? 0 : s->count;
  if ((uint64_t)src + n > seg_len || (uint64_t)dst + n > inst->mem_size) return KILN_TRAP_MEMORY_OOB;
  copy_bytes(inst->mem_base + dst, inst->blob + s->payload_off + src, n);
  return 0;
}

static void rt_drop(kiln_instance *inst, uint32_t seg) { inst->data_dropped[seg] = 1; }

static uint32_t sig_slots(const char *sig);

/* call_indirect of an entry whose function belongs to another instance (or a null entry): the
 * signature check compares signature strings, since canonical type indices are per blob. */
static int rt_call_foreign(kiln_instance *inst, uint64_t *slots, const struct kiln_table_entry *t, uint32_t type) {
  if (!t->code || !t->inst) return KILN_TRAP_INDIRECT_NULL;
  const char *want = type_sig(inst->blob, type);
  if (!c_eq(want, type_sig(t->inst->blob, t->type))) return KILN_TRAP_INDIRECT_TYPE_MISMATCH;
  kiln_rt_enter(t->inst, t->code, slots, sig_slots(want));
  return 0;
}

/* Host function of an import linked to another instance: the stub passes the import index. */
static void rt_call_linked(kiln_instance *inst, uint64_t *slots, uint64_t index) {
  const struct kiln_link *l = &inst->links[index];
  kiln_rt_enter(l->inst, l->code, slots, l->nslots);
}

/* Rounding of floats to integral values on raw bits (integer code only: the kernel base is
 * built without SSE in C, and SSE4.1's roundsd is missing on QEMU's default CPU model).
 * op: bit 2 set = f64 (else f32); low bits 0 ceil, 1 floor, 2 trunc, 3 nearest. */
uint64_t kiln_rt_fround(uint32_t op, uint64_t bits) {
  bool dbl = (op & 4) != 0;
  uint32_t kind = op & 3;
  int mant_bits = dbl ? 52 : 23, bias = dbl ? 1023 : 127;
  uint64_t sign = dbl ? 1ull << 63 : 1ull << 31;
  uint64_t exp_mask = dbl ? 0x7ffull : 0xffull;
  uint64_t one = (uint64_t)bias << mant_bits;
  bool neg = (bits & sign) != 0;
  uint64_t mag = bits & (sign - 1);
  int e = (int)((mag >> mant_bits) & exp_mask);
  if (e == (int)exp_mask) return mag > (exp_mask << mant_bits) ? bits | (1ull << (mant_bits - 1)) : bits;
  if (e - bias >= mant_bits) return bits; /* already integral */
  if (mag == 0) return bits;
  bool up; /* round the magnitude up (away from zero)? */
  if (e < bias) { /* |x| < 1 */
    if (kind == 0) up = !neg;
    else if (kind == 1) up = neg;
    else if (kind == 2) up = false;
    else up = e == bias - 1 && mag != ((uint64_t)(bias - 1) << mant_bits); /* > 0.5 */
    return (bits & sign) | (up ? one : 0);
  }
  uint64_t frac_mask = (1ull << (mant_bits - (e - bias))) - 1;
  uint64_t frac = mag & frac_mask;
  if (frac == 0) return bits;
  if (kind == 0) up = !neg;
  else if (kind == 1) up = neg;
  else if (kind == 2) up = false;
  else {
    uint64_t half = (frac_mask + 1) >> 1;
    up = frac > half || (frac == half && (mag & (frac_mask + 1)) != 0);
  }
  mag &= ~frac_mask;
  if (up) mag += frac_mask + 1;
  return (bits & sign) | mag;
}

/* ---- Instantiation ---- */

static uint64_t global_value(kiln_instance *inst, uint32_t kind, uint32_t value) {
  return kind == KILN_INIT_GLOBAL ? inst->globals[value] : value;
}

/* True when the embedder provides module.name as any kind of import: a lookup that fails for
 * the wanted kind is then an "incompatible import type", not an "unknown import". */
static bool embedder_has(const struct kiln_embedder *e, const uint8_t *blob, uint32_t module, uint32_t name) {
  for (uint32_t j = 0; j < e->n_imports; j++)
    if (str_eq(blob, module, e->imports[j].module, c_len(e->imports[j].module)) &&
        str_eq(blob, name, e->imports[j].name, c_len(e->imports[j].name)))
      return true;
  for (uint32_t j = 0; j < e->n_globals; j++)
    if (str_eq(blob, module, e->globals[j].module, c_len(e->globals[j].module)) &&
        str_eq(blob, name, e->globals[j].name, c_len(e->globals[j].name)))
      return true;
  if (e->memory_import_module && e->memory_import_name &&
      str_eq(blob, module, e->memory_import_module, c_len(e->memory_import_module)) &&
      str_eq(blob, name, e->memory_import_name, c_len(e->memory_import_name)))
    return true;
  if (e->table_import_module && e->table_import_name &&
      str_eq(blob, module, e->table_import_module, c_len(e->table_import_module)) &&
      str_eq(blob, name, e->table_import_name, c_len(e->table_import_name)))
    return true;
  return false;
}

static int missing_import(const struct kiln_embedder *e, const uint8_t *blob, uint32_t module, uint32_t name) {
  if (embedder_has(e, blob, module, name)) {
    set_error_name(e, "incompatible import type ", blob, module, name);
    return KILN_RT_IMPORT_MISMATCH;
  }
  set_error_name(e, "unknown import ", blob, module, name);
  return KILN_RT_UNKNOWN_IMPORT;
}

/* Asks the embedder's resolver for module.name: 1 found with the wanted kind, 0 not there,
 * or a negative result code (found with another kind: the error is set). */
static int resolve(const struct kiln_embedder *e, const uint8_t *blob, uint32_t module, uint32_t name,
                   uint32_t kind, struct kiln_extern *out) {
  if (!e->resolve) return 0;
  uint32_t ml, nl;
  const uint8_t *m = str_at(blob, module, &ml);
  const uint8_t *n = str_at(blob, name, &nl);
  if (!e->resolve(e, m, ml, n, nl, out)) return 0;
  if (out->kind != kind) {
    set_error_name(e, "incompatible import type ", blob, module, name);
    return KILN_RT_IMPORT_MISMATCH;
  }
  return 1;
}

static int mismatch(const struct kiln_embedder *e, const uint8_t *blob, uint32_t module, uint32_t name) {
  set_error_name(e, "incompatible import type ", blob, module, name);
  return KILN_RT_IMPORT_MISMATCH;
}

static int link_functions(kiln_instance *inst, const struct kiln_embedder *e) {
  const uint8_t *blob = inst->blob;
  const struct kiln_blob_import *imps = (const struct kiln_blob_import *)(blob + inst->hdr->imports_off);
  for (uint32_t i = 0; i < inst->hdr->n_imports; i++) {
    struct kiln_extern ext;
    int r = resolve(e, blob, imps[i].module, imps[i].name, KILN_EXPORT_FUNC, &ext);
    if (r < 0) return r;
    if (r > 0) {
      if (!c_eq(ext.sig, type_sig(blob, imps[i].type))) return mismatch(e, blob, imps[i].module, imps[i].name);
      if (!inst->links) inst->links = e->alloc(sizeof(struct kiln_link) * inst->hdr->n_imports, 8);
      if (!inst->links) return KILN_RT_NO_MEMORY;
      inst->links[i].inst = ext.inst;
      inst->links[i].code = ext.code;
      inst->links[i].nslots = sig_slots(ext.sig);
      inst->host_fns[i] = (kiln_host_fn)(void (*)(void))rt_call_linked;
      continue;
    }
    const struct kiln_host_import *found = NULL;
    for (uint32_t j = 0; j < e->n_imports && !found; j++) {
      const struct kiln_host_import *h = &e->imports[j];
      if (str_eq(blob, imps[i].module, h->module, c_len(h->module)) &&
          str_eq(blob, imps[i].name, h->name, c_len(h->name)))
        found = h;
    }
    if (!found) return missing_import(e, blob, imps[i].module, imps[i].name);
    if (found->sig && !c_eq(found->sig, type_sig(blob, imps[i].type))) {
      set_error_name(e, "incompatible import type ", blob, imps[i].module, imps[i].name);
      return KILN_RT_IMPORT_MISMATCH;
    }
    inst->host_fns[i] = found->fn;
  }
  return KILN_RT_OK;
}

static const char type_letters[4] = {'i', 'l', 'f', 'd'};

static int init_globals(kiln_instance *inst, const struct kiln_embedder *e) {
  const uint8_t *blob = inst->blob;
  const struct kiln_blob_global *gs = (const struct kiln_blob_global *)(blob + inst->hdr->globals_off);
  for (uint32_t i = 0; i < inst->hdr->n_globals; i++) {
    const struct kiln_blob_global *g = &gs[i];
    if (g->init_kind == KILN_INIT_CONST) {
      inst->globals[i] = g->value;
    } else if (g->init_kind == KILN_INIT_GLOBAL) {
      inst->globals[i] = inst->globals[g->init_global];
    } else {
      struct kiln_extern ext;
      int r = resolve(e, blob, g->import_module, g->import_name, KILN_EXPORT_GLOBAL, &ext);
      if (r < 0) return r;
      if (r > 0) {
        if (g->type > 3 || ext.global_type != type_letters[g->type] || ext.global_mutable != (g->mutable_ != 0))
          return mismatch(e, blob, g->import_module, g->import_name);
        /* A mutable global is shared: the slot holds the cell's address (codegen reads through it). */
        inst->globals[i] = g->mutable_ ? (uint64_t)(uintptr_t)ext.global : *ext.global;
        continue;
      }
      const struct kiln_global_import *found = NULL;
      for (uint32_t j = 0; j < e->n_globals && !found; j++) {
        const struct kiln_global_import *h = &e->globals[j];
        if (str_eq(blob, g->import_module, h->module, c_len(h->module)) &&
            str_eq(blob, g->import_name, h->name, c_len(h->name)))
          found = h;
      }
      if (!found) return missing_import(e, blob, g->import_module, g->import_name);
      if (g->type > 3 || found->type != type_letters[g->type] || g->mutable_) {
        set_error_name(e, "incompatible import type ", blob, g->import_module, g->import_name);
        return KILN_RT_IMPORT_MISMATCH;
      }
      inst->globals[i] = found->value;
    }
  }
  return KILN_RT_OK;
}

static bool import_named(const uint8_t *blob, uint32_t module, uint32_t name, const char *want_module,
                         const char *want_name) {
  return want_module && want_name && str_eq(blob, module, want_module, c_len(want_module)) &&
         str_eq(blob, name, want_name, c_len(want_name));
}

static void use_memory(kiln_instance *inst, struct kiln_memory *m) {
  inst->memory = m;
  inst->mem_base = m->base;
  set_mem_pages(inst, m->pages);
  inst->next_mem_user = m->users;
  m->users = inst;
}

static void use_table(kiln_instance *inst, struct kiln_table *t) {
  inst->tab = t;
  inst->table = t->entries;
  inst->table_size = t->size;
}

/* Does an export's actual limits (current size, declared max) fit the import's declared ones? */
static bool limits_fit(uint64_t size, uint32_t max, uint32_t want_min, bool want_has_max, uint32_t want_max) {
  return size >= want_min && (!want_has_max || (max != KILN_NONE && max <= want_max));
}

/* Memory and table imported from another instance (through the resolver): 1 done, 0 not
 * there, or a negative result code. */
static int link_memory_and_table(kiln_instance *inst, const struct kiln_embedder *e, bool *mem_done, bool *table_done) {
  const struct kiln_blob_header *h = inst->hdr;
  struct kiln_extern ext;
  if (h->mem_flags & KILN_LIMIT_IMPORTED) {
    int r = resolve(e, inst->blob, h->mem_import_module, h->mem_import_name, KILN_EXPORT_MEMORY, &ext);
    if (r < 0) return r;
    if (r > 0) {
      if (!limits_fit(ext.memory->pages, ext.memory->decl_max, h->mem_min, h->mem_flags & KILN_LIMIT_HAS_MAX, h->mem_max))
        return mismatch(e, inst->blob, h->mem_import_module, h->mem_import_name);
      use_memory(inst, ext.memory);
      *mem_done = true;
    }
  }
  if (h->table_flags & KILN_LIMIT_IMPORTED) {
    int r = resolve(e, inst->blob, h->table_import_module, h->table_import_name, KILN_EXPORT_TABLE, &ext);
    if (r < 0) return r;
    if (r > 0) {
      if (!limits_fit(ext.table->size, ext.table->decl_max, h->table_min, h->table_flags & KILN_LIMIT_HAS_MAX, h->table_max))
        return mismatch(e, inst->blob, h->table_import_module, h->table_import_name);
      use_table(inst, ext.table);
      *table_done = true;
    }
  }
  return KILN_RT_OK;
}

static int setup_memory_and_table(kiln_instance *inst, const struct kiln_embedder *e) {
  const struct kiln_blob_header *h = inst->hdr;
  bool mem_done = false, table_done = false;
  int rc = link_memory_and_table(inst, e, &mem_done, &table_done);
  if (rc != KILN_RT_OK) return rc;
  if ((h->mem_flags & KILN_LIMIT_IMPORTED) && !mem_done &&
      !import_named(inst->blob, h->mem_import_module, h->mem_import_name, e->memory_import_module,
                    e->memory_import_name))
    return missing_import(e, inst->blob, h->mem_import_module, h->mem_import_name);
  if ((h->table_flags & KILN_LIMIT_IMPORTED) && !table_done &&
      !import_named(inst->blob, h->table_import_module, h->table_import_name, e->table_import_module,
                    e->table_import_name))
    return missing_import(e, inst->blob, h->table_import_module, h->table_import_name);
  uint64_t mem_min = h->mem_min, mem_max = (h->mem_flags & KILN_LIMIT_HAS_MAX) ? h->mem_max : 65536;
  uint32_t mem_decl_max = (h->mem_flags & KILN_LIMIT_HAS_MAX) ? h->mem_max : KILN_NONE;
  uint64_t table_min = h->table_min;
  uint32_t table_decl_max = (h->table_flags & KILN_LIMIT_HAS_MAX) ? h->table_max : KILN_NONE;
  bool provided = e->memory_import_min | e->memory_import_max | e->table_import_min | e->table_import_max;
  if ((h->mem_flags & KILN_LIMIT_IMPORTED) && !mem_done && provided) {
    uint64_t got_max = e->memory_import_max == KILN_NONE ? 65536 : e->memory_import_max;
    if (!limits_fit(e->memory_import_min, e->memory_import_max, h->mem_min, h->mem_flags & KILN_LIMIT_HAS_MAX, h->mem_max))
      return mismatch(e, inst->blob, h->mem_import_module, h->mem_import_name);
    mem_min = e->memory_import_min;
    mem_max = got_max;
    mem_decl_max = e->memory_import_max;
  }
  if ((h->table_flags & KILN_LIMIT_IMPORTED) && !table_done && provided) {
    if (!limits_fit(e->table_import_min, e->table_import_max, h->table_min, h->table_flags & KILN_LIMIT_HAS_MAX, h->table_max))
      return mismatch(e, inst->blob, h->table_import_module, h->table_import_name);
    table_min = e->table_import_min;
    table_decl_max = e->table_import_max;
  }
  if ((h->mem_flags & KILN_LIMIT_PRESENT) && !mem_done) {
    uint64_t reserve_pages = e->mem_reserve / PAGE_BYTES;
    if (mem_min > reserve_pages) {
      set_error(e, "linear memory larger than the reserve", NULL, 0, NULL);
      return KILN_RT_NO_MEMORY;
    }
    struct kiln_memory *m = e->alloc(sizeof(struct kiln_memory), 8);
    if (!m) return KILN_RT_NO_MEMORY;
    m->base = e->mem_region;
    m->pages = mem_min;
    m->max_pages = mem_max < reserve_pages ? mem_max : reserve_pages;
    m->decl_max = mem_decl_max;
    m->zeroed = e->mem_zeroed;
    m->users = NULL;
    if (!e->mem_zeroed) fill_bytes(m->base, 0, mem_min * PAGE_BYTES);
    use_memory(inst, m);
  }
  if ((h->table_flags & KILN_LIMIT_PRESENT) && !table_done) {
    struct kiln_table *t = e->alloc(sizeof(struct kiln_table), 8);
    if (!t) return KILN_RT_NO_MEMORY;
    t->size = table_min;
    t->decl_max = table_decl_max;
    t->entries = e->alloc((t->size ? t->size : 1) * sizeof(struct kiln_table_entry), 16);
    if (!t->entries) return KILN_RT_NO_MEMORY;
    for (uint64_t i = 0; i < t->size; i++) {
      t->entries[i].code = NULL;
      t->entries[i].type = KILN_NONE;
      t->entries[i].inst = NULL;
    }
    use_table(inst, t);
  }
  return KILN_RT_OK;
}

static const uint8_t *code_base(kiln_instance *inst) { return inst->blob + inst->hdr->code_off; }

static void apply_segments(kiln_instance *inst) {
  const uint8_t *blob = inst->blob;
  const struct kiln_blob_func *funcs = (const struct kiln_blob_func *)(blob + inst->hdr->funcs_off);
  const struct kiln_blob_segment *elems = (const struct kiln_blob_segment *)(blob + inst->hdr->elems_off);
  for (uint32_t i = 0; i < inst->hdr->n_elems; i++) {
    const struct kiln_blob_segment *s = &elems[i];
    if (!s->active) continue;
    uint64_t at = (uint32_t)global_value(inst, s->offset_kind, s->offset_value);
    if (at + s->count > inst->table_size) inst->emb->trap(inst, KILN_TRAP_INDIRECT_NULL, KILN_NONE, 0);
    const uint32_t *idx = (const uint32_t *)(blob + s->payload_off);
    for (uint32_t k = 0; k < s->count; k++) {
      struct kiln_table_entry *t = &inst->table[at + k];
      if (idx[k] == KILN_NONE) {
        t->code = NULL;
        t->type = KILN_NONE;
        t->inst = NULL;
      } else {
        t->code = code_base(inst) + funcs[idx[k]].code_offset;
        t->type = funcs[idx[k]].type;
        t->inst = inst;
      }
    }
  }
  const struct kiln_blob_segment *datas = (const struct kiln_blob_segment *)(blob + inst->hdr->datas_off);
  for (uint32_t i = 0; i < inst->hdr->n_datas; i++) {
    const struct kiln_blob_segment *s = &datas[i];
    if (!s->active) continue;
    uint64_t at = (uint32_t)global_value(inst, s->offset_kind, s->offset_value);
    if (at + s->count > inst->mem_size) inst->emb->trap(inst, KILN_TRAP_MEMORY_OOB, KILN_NONE, 0);
    copy_bytes(inst->mem_base + at, blob + s->payload_off, s->count);
    inst->data_dropped[i] = 1;
  }
}

int kiln_rt_instantiate(const uint8_t *blob, uint64_t blob_len, const struct kiln_embedder *e,
                        kiln_instance **out) {
  *out = NULL;
  if (!blob_valid(blob, blob_len)) {
    set_error(e, "not a Kiln appliance blob (bad magic, version or offsets)", NULL, 0, NULL);
    return KILN_RT_BAD_BLOB;
  }
  const struct kiln_blob_header *h = header(blob);
  kiln_instance *inst = e->alloc(sizeof(struct kiln_instance) + 8ull * h->n_globals, 64);
  if (!inst) return KILN_RT_NO_MEMORY;
  inst->blob = blob;
  inst->hdr = h;
  inst->emb = e;
  inst->stack_limit = e->stack_limit;
  inst->trap_fn = (void *)e->trap;
  inst->grow_fn = (void *)rt_grow;
  inst->fill_fn = (void *)rt_fill;
  inst->copy_fn = (void *)rt_copy;
  inst->init_fn = (void *)rt_init;
  inst->drop_fn = (void *)rt_drop;
  inst->fround_fn = (void *)kiln_rt_fround;
  inst->call_foreign_fn = (void *)rt_call_foreign;
  inst->host_fns = e->alloc(8ull * (h->n_imports + 1), 8);
  inst->data_dropped = e->alloc(h->n_datas + 1, 1);
  if (!inst->host_fns || !inst->data_dropped) return KILN_RT_NO_MEMORY;
  int rc = link_functions(inst, e);
  if (rc == KILN_RT_OK) rc = init_globals(inst, e);
  if (rc == KILN_RT_OK) rc = setup_memory_and_table(inst, e);
  if (rc != KILN_RT_OK) return rc;
  *out = inst;
  apply_segments(inst);
  if (h->start_func != KILN_NONE) {
    const struct kiln_blob_func *funcs = (const struct kiln_blob_func *)(blob + h->funcs_off);
    uint64_t none = 0;
    kiln_rt_enter(inst, code_base(inst) + funcs[h->start_func].code_offset, &none, 0);
  }
  return KILN_RT_OK;
}

static const struct kiln_blob_export *find_export(kiln_instance *inst, const char *name, uint32_t len,
                                                  uint32_t kind) {
  const struct kiln_blob_export *ex = (const struct kiln_blob_export *)(inst->blob + inst->hdr->exports_off);
  for (uint32_t i = 0; i < inst->hdr->n_exports; i++)
    if (ex[i].kind == kind && str_eq(inst->blob, ex[i].name, name, len)) return &ex[i];
  return NULL;
}

static uint32_t sig_slots(const char *sig) {
  uint32_t params = 0, results = 0;
  while (*sig && *sig != ':') sig++, params++;
  if (*sig == ':') sig++;
  while (*sig) sig++, results++;
  return params > results ? params : results;
}

const char *kiln_rt_export_sig(kiln_instance *inst, const char *name, uint32_t name_len) {
  const struct kiln_blob_export *ex = find_export(inst, name, name_len, KILN_EXPORT_FUNC);
  if (!ex) return NULL;
  const struct kiln_blob_func *funcs = (const struct kiln_blob_func *)(inst->blob + inst->hdr->funcs_off);
  return type_sig(inst->blob, funcs[ex->index].type);
}

int kiln_rt_call_export_n(kiln_instance *inst, const char *name, uint32_t name_len, uint64_t *slots) {
  const struct kiln_blob_export *ex = find_export(inst, name, name_len, KILN_EXPORT_FUNC);
  if (!ex) return KILN_RT_NO_EXPORT;
  const struct kiln_blob_func *f = (const struct kiln_blob_func *)(inst->blob + inst->hdr->funcs_off) + ex->index;
  kiln_rt_enter(inst, code_base(inst) + f->code_offset, slots, sig_slots(type_sig(inst->blob, f->type)));
  return KILN_RT_OK;
}

int kiln_rt_call_export(kiln_instance *inst, const char *name, uint64_t *slots) {
  return kiln_rt_call_export_n(inst, name, c_len(name), slots);
}

/* Where global i lives: its slot, or for a mutable global imported from another instance the
 * cell the slot points at. */
static uint64_t *global_cell(kiln_instance *inst, uint32_t i) {
  const struct kiln_blob_global *g = (const struct kiln_blob_global *)(inst->blob + inst->hdr->globals_off) + i;
  if (g->init_kind == KILN_INIT_IMPORT && g->mutable_) return (uint64_t *)(uintptr_t)inst->globals[i];
  return &inst->globals[i];
}

bool kiln_rt_export_global(kiln_instance *inst, const char *name, uint32_t name_len, uint64_t *value,
                           char *type) {
  const struct kiln_blob_export *ex = find_export(inst, name, name_len, KILN_EXPORT_GLOBAL);
  if (!ex) return false;
  const struct kiln_blob_global *g = (const struct kiln_blob_global *)(inst->blob + inst->hdr->globals_off) + ex->index;
  *value = *global_cell(inst, ex->index);
  *type = g->type <= 3 ? type_letters[g->type] : '?';
  return true;
}

bool kiln_rt_export_extern(kiln_instance *inst, const uint8_t *name, uint32_t name_len, struct kiln_extern *out) {
  const struct kiln_blob_export *ex = (const struct kiln_blob_export *)(inst->blob + inst->hdr->exports_off);
  for (uint32_t i = 0; i < inst->hdr->n_exports; i++) {
    if (!str_eq(inst->blob, ex[i].name, (const char *)name, name_len)) continue;
    *out = (struct kiln_extern){.kind = ex[i].kind, .inst = inst};
    if (ex[i].kind == KILN_EXPORT_FUNC) {
      const struct kiln_blob_func *f = (const struct kiln_blob_func *)(inst->blob + inst->hdr->funcs_off) + ex[i].index;
      out->code = code_base(inst) + f->code_offset;
      out->sig = type_sig(inst->blob, f->type);
    } else if (ex[i].kind == KILN_EXPORT_MEMORY) {
      out->memory = inst->memory;
    } else if (ex[i].kind == KILN_EXPORT_TABLE) {
      out->table = inst->tab;
    } else {
      const struct kiln_blob_global *g = (const struct kiln_blob_global *)(inst->blob + inst->hdr->globals_off) + ex[i].index;
      out->global = global_cell(inst, ex[i].index);
      out->global_type = g->type <= 3 ? type_letters[g->type] : '?';
      out->global_mutable = g->mutable_ != 0;
    }
    return (ex[i].kind != KILN_EXPORT_MEMORY || out->memory) && (ex[i].kind != KILN_EXPORT_TABLE || out->table);
  }
  return false;
}

uint8_t *kiln_rt_mem(kiln_instance *inst, uint64_t offset, uint64_t len) {
  if (offset > inst->mem_size || len > inst->mem_size - offset) return NULL;
  return inst->mem_base + offset;
}

uint64_t kiln_rt_mem_size(kiln_instance *inst) { return inst->mem_size; }

void kiln_rt_code_range(const uint8_t *blob, uint64_t *start_off, uint64_t *len) {
  *start_off = header(blob)->code_off;
  *len = header(blob)->code_len;
}

void *kiln_rt_user(kiln_instance *inst) { return inst->emb->user; }

const char *kiln_rt_trap_name(uint32_t code) {
  switch (code) {
  case KILN_TRAP_UNREACHABLE: return "unreachable";
  case KILN_TRAP_MEMORY_OOB: return "out of bounds memory access";
  case KILN_TRAP_DIV_BY_ZERO: return "integer divide by zero";
  case KILN_TRAP_INT_OVERFLOW: return "integer overflow";
  case KILN_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
  case KILN_TRAP_INDIRECT_TYPE_MISMATCH: return "indirect call type mismatch";
  case KILN_TRAP_INDIRECT_NULL: return "uninitialized element";
  case KILN_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
  case KILN_TRAP_ABORT: return "abort";
  default: return "unknown trap";
  }
}
