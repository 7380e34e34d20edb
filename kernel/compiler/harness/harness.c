/* kiln-harness: runs compiled appliance blobs on Linux with the same runtime as the kernel base.
 * Script mode (default) reads commands on stdin, one per line (README.md documents them);
 * `kiln-harness run BLOB EXPORT [hex args...]` instantiates once, calls one export and prints
 * its results (for benchmarks and the fuzzer). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../../runtime/kiln_runtime.h"

#define MEM_RESERVE (4ull << 30)
#define STACK_SIZE (64ull << 20)
#define STACK_MARGIN (256u << 10)

static sigjmp_buf trap_jump;
static volatile uint32_t trap_code;
static uint8_t *mem_region;
static uint8_t *blob_region;
static size_t blob_region_len;
static kiln_instance *inst; /* the current instance: invoke and get act on it */
static bool instantiated;   /* fuzz mode: the start function has run */

/* Every instance loaded in script mode stays alive until the process ends: another instance
 * may have imported its functions, memory, table or globals, or hold its functions in a table
 * (even one whose instantiation trapped, as the spec requires). */
#define MAX_INSTANCES 4096
static struct loaded {
  kiln_instance *inst;
  uint8_t *blob;
} loaded[MAX_INSTANCES];
static uint32_t n_loaded;

/* `register NAME`: NAME as an import module name resolves to that instance's exports. */
#define MAX_NAMES 256
static struct registration {
  char name[256];
  size_t len;
  kiln_instance *inst;
} names[MAX_NAMES];
static uint32_t n_names;

static bool resolve_import(const struct kiln_embedder *e, const uint8_t *module, uint32_t module_len,
                           const uint8_t *name, uint32_t name_len, struct kiln_extern *out) {
  (void)e;
  for (uint32_t k = 0; k < n_names; k++)
    if (names[k].len == module_len && !memcmp(names[k].name, module, module_len))
      return kiln_rt_export_extern(names[k].inst, name, name_len, out);
  return false;
}

static void register_current(const char *name, size_t len) {
  if (!inst || len >= sizeof names[0].name) { printf("error cannot register\n"); return; }
  uint32_t k = 0;
  while (k < n_names && !(names[k].len == len && !memcmp(names[k].name, name, len))) k++;
  if (k == MAX_NAMES) { printf("error too many names\n"); return; }
  if (k == n_names) n_names++;
  memcpy(names[k].name, name, len);
  names[k].len = len;
  names[k].inst = inst;
  printf("ok\n");
}
static char err_buf[512];
static struct kiln_embedder emb;

static void on_trap(kiln_instance *i, uint32_t code, uint32_t func, uint32_t offset) {
  (void)i;
  (void)func;
  (void)offset;
  trap_code = code;
  siglongjmp(trap_jump, 1);
}

static void on_signal(int sig) {
  trap_code = 1000 + (uint32_t)sig;
  siglongjmp(trap_jump, 1);
}

static void *rt_alloc(uint64_t size, uint64_t align) {
  void *p = NULL;
  if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1)) return NULL;
  memset(p, 0, size);
  return p;
}

/* ---- Host imports: spectest, env.abort, a few kiln.* ---- */

static void print_nothing(kiln_instance *i, uint64_t *s) { (void)i; (void)s; }
static void print_i32(kiln_instance *i, uint64_t *s) { (void)i; fprintf(stderr, "%d : i32\n", (int32_t)s[0]); }
static void print_i64(kiln_instance *i, uint64_t *s) { (void)i; fprintf(stderr, "%lld : i64\n", (long long)s[0]); }
static void print_any(kiln_instance *i, uint64_t *s) { (void)i; (void)s; }

/* AssemblyScript strings: length in bytes at ptr-4, UTF-16LE. Printed as ASCII (others as '?'). */
static void print_as_string(kiln_instance *i, uint32_t ptr) {
  uint8_t *len_p = ptr >= 4 ? kiln_rt_mem(i, ptr - 4, 4) : NULL;
  if (!len_p) { fputs("?", stdout); return; }
  uint32_t len;
  memcpy(&len, len_p, 4);
  uint8_t *p = kiln_rt_mem(i, ptr, len);
  if (!p) { fputs("?", stdout); return; }
  for (uint32_t k = 0; k + 1 < len; k += 2) {
    uint16_t c = (uint16_t)(p[k] | (p[k + 1] << 8));
    fputc(c < 128 ? c : '?', stdout);
  }
}

static void env_abort(kiln_instance *i, uint64_t *s) {
  fputs("abort: ", stdout);
  print_as_string(i, (uint32_t)s[0]);
  fputs(" at ", stdout);
  print_as_string(i, (uint32_t)s[1]);
  printf(":%u:%u\n", (uint32_t)s[2], (uint32_t)s[3]);
  on_trap(i, KILN_TRAP_ABORT, KILN_NONE, 0);
}

static void kiln_console_write(kiln_instance *i, uint64_t *s) {
  uint8_t *p = kiln_rt_mem(i, (uint32_t)s[0], (uint32_t)s[1]);
  if (!p) { s[0] = 2; return; }
  fwrite(p, 1, (uint32_t)s[1], stdout);
  fflush(stdout);
  s[0] = 0;
}

static void kiln_exit(kiln_instance *i, uint64_t *s) {
  (void)i;
  fflush(stdout);
  exit((int)(uint32_t)s[0]);
}

static void kiln_clock(kiln_instance *i, uint64_t *s) {
  (void)i;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  s[0] = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* fuzzing-support.log-*: floats print as the bits of the value as a double ("nan" for any NaN),
 * which is what a JavaScript host sees, so both sides print the same. */
static void print_double(double d) {
  if (d != d) { printf("nan\n"); return; }
  uint64_t b;
  memcpy(&b, &d, 8);
  printf("%016llx\n", (unsigned long long)b);
}
static void log_i32(kiln_instance *i, uint64_t *s) { (void)i; printf("log i32 %08x\n", (uint32_t)s[0]); }
static void log_i64(kiln_instance *i, uint64_t *s) { (void)i; printf("log i64 %016llx\n", (unsigned long long)s[0]); }
static void log_f32(kiln_instance *i, uint64_t *s) {
  (void)i;
  float f;
  uint32_t b = (uint32_t)s[0];
  memcpy(&f, &b, 4);
  printf("log f ");
  print_double((double)f);
}
static void log_f64(kiln_instance *i, uint64_t *s) {
  (void)i;
  double d;
  memcpy(&d, &s[0], 8);
  printf("log f ");
  print_double(d);
}

/* fuzzing-support.call-export(index, flags) / call-export-catch(index): call the index-th
 * exported function with zero arguments (a trap propagates / answers 1); sleep(ms, id) -> id. */
static bool call_export_index(kiln_instance *i, uint32_t index) {
  const struct kiln_blob_header *h = (const struct kiln_blob_header *)blob_region;
  const struct kiln_blob_export *ex = (const struct kiln_blob_export *)(blob_region + h->exports_off);
  for (uint32_t k = 0; k < h->n_exports; k++) {
    if (ex[k].kind != KILN_EXPORT_FUNC) continue;
    if (index-- != 0) continue;
    uint32_t len;
    memcpy(&len, blob_region + ex[k].name, 4);
    uint64_t slots[64] = {0};
    kiln_rt_call_export_n(i, (const char *)blob_region + ex[k].name + 4, len, slots);
    return true;
  }
  return false;
}
static void fz_call_export(kiln_instance *i, uint64_t *s) {
  if (!instantiated || !call_export_index(i, (uint32_t)s[0])) on_trap(i, KILN_TRAP_UNREACHABLE, KILN_NONE, 0);
}
static void fz_call_export_catch(kiln_instance *i, uint64_t *s) {
  sigjmp_buf saved;
  memcpy(saved, trap_jump, sizeof saved);
  if (sigsetjmp(trap_jump, 1)) {
    memcpy(trap_jump, saved, sizeof saved);
    s[0] = 1;
    return;
  }
  bool ok = instantiated && call_export_index(i, (uint32_t)s[0]);
  memcpy(trap_jump, saved, sizeof saved);
  s[0] = ok ? 0 : 1;
}
static void fz_sleep(kiln_instance *i, uint64_t *s) { (void)i; s[0] = (uint32_t)s[1]; }

static const struct kiln_host_import host_imports[] = {
    {"fuzzing-support", "call-export", "ii:", fz_call_export},
    {"fuzzing-support", "call-export-catch", "i:i", fz_call_export_catch},
    {"fuzzing-support", "sleep", "ii:i", fz_sleep},
    {"fuzzing-support", "log-i32", "i:", log_i32},
    {"fuzzing-support", "log-i64", "l:", log_i64},
    {"fuzzing-support", "log-f32", "f:", log_f32},
    {"fuzzing-support", "log-f64", "d:", log_f64},
    {"spectest", "print", ":", print_nothing},
    {"spectest", "print_i32", "i:", print_i32},
    {"spectest", "print_i64", "l:", print_i64},
    {"spectest", "print_f32", "f:", print_any},
    {"spectest", "print_f64", "d:", print_any},
    {"spectest", "print_i32_f32", "if:", print_any},
    {"spectest", "print_f64_f64", "dd:", print_any},
    {"env", "abort", "iiii:", env_abort},
    {"kiln", "console_write", "ii:i", kiln_console_write},
    {"kiln", "exit", "i:", kiln_exit},
    {"kiln", "clock_monotonic", ":l", kiln_clock},
};

static const struct kiln_global_import global_imports[] = {
    {"spectest", "global_i32", 'i', 666},
    {"spectest", "global_i64", 'l', 666},
    {"spectest", "global_f32", 'f', 0x4426a666}, /* 666.6f */
    {"spectest", "global_f64", 'd', 0x4084d4cccccccccdull}, /* 666.6 */
};

/* ---- Loading ---- */

static int load_blob(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { snprintf(err_buf, sizeof err_buf, "cannot open %s", path); return -1; }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  blob_region_len = ((size_t)len + 4095) & ~(size_t)4095;
  if (blob_region_len == 0) blob_region_len = 4096;
  blob_region = mmap(NULL, blob_region_len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (blob_region == MAP_FAILED || fread(blob_region, 1, (size_t)len, f) != (size_t)len) {
    fclose(f);
    snprintf(err_buf, sizeof err_buf, "cannot read %s", path);
    return -1;
  }
  fclose(f);
  /* A fresh, zeroed linear-memory reserve for every module (earlier ones stay: see loaded). */
  mem_region = mmap(NULL, MEM_RESERVE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem_region == MAP_FAILED) { snprintf(err_buf, sizeof err_buf, "cannot reserve memory"); return -1; }
  emb.mem_region = mem_region;
  emb.mem_reserve = MEM_RESERVE;
  emb.mem_zeroed = true;
  err_buf[0] = 0;
  inst = NULL;
  if (n_loaded == MAX_INSTANCES) {
    snprintf(err_buf, sizeof err_buf, "too many instances in one harness process");
    return -1;
  }
  loaded[n_loaded].blob = blob_region;
  int rc = kiln_rt_instantiate(blob_region, (uint64_t)len, &emb, &loaded[n_loaded].inst);
  inst = loaded[n_loaded].inst;
  if (inst) n_loaded++;
  return rc;
}

static size_t hex_decode(const char *hex, char *out, size_t cap) {
  size_t n = 0;
  for (; hex[0] && hex[1] && n < cap; hex += 2) {
    unsigned v;
    if (sscanf(hex, "%2x", &v) != 1) break;
    out[n++] = (char)v;
  }
  return n;
}

static void print_results(const char *sig, uint64_t *slots) {
  const char *r = strchr(sig, ':');
  r = r ? r + 1 : "";
  printf("ok");
  for (int k = 0; r[k]; k++) {
    if (r[k] == 'i' || r[k] == 'f') printf(" %08x", (uint32_t)slots[k]);
    else printf(" %016llx", (unsigned long long)slots[k]);
  }
  printf("\n");
}

static void print_trap(void) {
  if (trap_code >= 1000) printf("crash signal %u\n", trap_code - 1000);
  else printf("trap %u %s\n", trap_code, kiln_rt_trap_name(trap_code));
}

/* Calls export `name` with args; prints the outcome. */
static void invoke(const char *name, size_t name_len, uint64_t *args, int nargs) {
  if (!inst) { printf("error no module\n"); return; }
  const char *sig = kiln_rt_export_sig(inst, name, (uint32_t)name_len);
  if (!sig) { printf("error no export\n"); return; }
  uint64_t slots[64] = {0};
  for (int k = 0; k < nargs && k < 64; k++) slots[k] = args[k];
  if (sigsetjmp(trap_jump, 1)) {
    print_trap();
    return;
  }
  kiln_rt_call_export_n(inst, name, (uint32_t)name_len, slots);
  print_results(sig, slots);
}

static void setup(void) {
  emb.imports = host_imports;
  emb.n_imports = sizeof host_imports / sizeof host_imports[0];
  emb.globals = global_imports;
  emb.n_globals = sizeof global_imports / sizeof global_imports[0];
  emb.memory_import_module = "spectest";
  emb.memory_import_name = "memory";
  emb.table_import_module = "spectest";
  emb.table_import_name = "table";
  emb.memory_import_min = 1;
  emb.memory_import_max = 2;
  emb.table_import_min = 10;
  emb.table_import_max = 20;
  emb.trap = on_trap;
  emb.alloc = rt_alloc;
  emb.err_msg = err_buf;
  emb.err_size = sizeof err_buf;
  emb.resolve = resolve_import;
  /* Faults in compiled code (a compiler bug) are reported, not fatal: on an alternate stack. */
  static uint8_t alt[64 << 10];
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_ONSTACK | SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL);
}

/* Script mode answers `ok <id>` (for `use`); the one-shot modes answer `ok`. */
static void do_load(const char *path, bool with_id) {
  if (sigsetjmp(trap_jump, 1)) {
    inst = NULL; /* a trap at instantiation: the instance stays loaded but is nobody's current */
    print_trap();
    return;
  }
  int rc = load_blob(path);
  if (rc != KILN_RT_OK) {
    inst = NULL;
    printf("error %d %s\n", rc, err_buf);
  } else if (with_id) printf("ok %x\n", n_loaded - 1);
  else printf("ok\n");
}

static int script(void) {
  char line[1 << 16];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = 0;
    char *save = NULL;
    char *cmd = strtok_r(line, " ", &save);
    if (!cmd) continue;
    if (!strcmp(cmd, "quit")) break;
    if (!strcmp(cmd, "load")) {
      char *path = strtok_r(NULL, " ", &save);
      do_load(path ? path : "", true);
    } else if (!strcmp(cmd, "use")) {
      char *id = strtok_r(NULL, " ", &save);
      unsigned long k = id ? strtoul(id, NULL, 16) : MAX_INSTANCES;
      if (k >= n_loaded) printf("error no instance\n");
      else {
        inst = loaded[k].inst;
        blob_region = loaded[k].blob;
        printf("ok\n");
      }
    } else if (!strcmp(cmd, "register")) {
      char *hex = strtok_r(NULL, " ", &save);
      char name[256];
      size_t n = hex ? hex_decode(hex, name, sizeof name) : 0;
      register_current(name, n);
    } else if (!strcmp(cmd, "invoke") || !strcmp(cmd, "get")) {
      char *hex = strtok_r(NULL, " ", &save);
      char name[4096];
      size_t n = hex ? hex_decode(hex, name, sizeof name) : 0;
      if (!strcmp(cmd, "get")) {
        uint64_t v;
        char t;
        if (inst && kiln_rt_export_global(inst, name, (uint32_t)n, &v, &t)) {
          if (t == 'i' || t == 'f') printf("ok %08x\n", (uint32_t)v);
          else printf("ok %016llx\n", (unsigned long long)v);
        } else printf("error no global\n");
      } else {
        uint64_t args[64];
        int nargs = 0;
        char *tok;
        while ((tok = strtok_r(NULL, " ", &save)) && nargs < 64) args[nargs++] = strtoull(tok, NULL, 16);
        invoke(name, n, args, nargs);
      }
    } else {
      printf("error unknown command\n");
    }
    fflush(stdout);
  }
  return 0;
}

static int run(int argc, char **argv) {
  do_load(argv[2], false);
  fflush(stdout);
  if (!inst) return 2;
  uint64_t args[64];
  int nargs = 0;
  for (int k = 4; k < argc && nargs < 64; k++) args[nargs++] = strtoull(argv[k], NULL, 16);
  invoke(argv[3], strlen(argv[3]), args, nargs);
  return 0;
}

/* Fuzz mode: calls every exported function in export order with zero arguments, printing
 * results like the JavaScript side of the differential fuzzer (floats as doubles, NaN as "nan"),
 * and "trap" for any trap (then goes on with the next export). */
static int fuzz(const char *path) {
  if (sigsetjmp(trap_jump, 1)) {
    printf("instantiate trap\n");
    return 0;
  }
  int rc = load_blob(path);
  if (rc != KILN_RT_OK) {
    printf("error %d %s\n", rc, err_buf);
    return 2;
  }
  instantiated = true;
  const uint8_t *blob = blob_region;
  const struct kiln_blob_header *h = (const struct kiln_blob_header *)blob;
  const struct kiln_blob_export *ex = (const struct kiln_blob_export *)(blob + h->exports_off);
  for (volatile uint32_t k = 0; k < h->n_exports; k++) {
    if (ex[k].kind != KILN_EXPORT_FUNC) continue;
    uint32_t len;
    memcpy(&len, blob + ex[k].name, 4);
    const char *name = (const char *)blob + ex[k].name + 4;
    /* The differential fuzzer's budget reset (fuzz/fuel.ts): called before each export, not listed. */
    static const char reset[] = "kiln-fuzz-reset";
    if (len == sizeof reset - 1 && !memcmp(name, reset, len)) continue;
    if (kiln_rt_export_sig(inst, reset, sizeof reset - 1)) {
      uint64_t none[1] = {0};
      if (sigsetjmp(trap_jump, 1)) continue;
      kiln_rt_call_export_n(inst, reset, sizeof reset - 1, none);
    }
    printf("call %.*s\n", (int)len, name);
    const char *sig = kiln_rt_export_sig(inst, name, len);
    uint64_t slots[64] = {0};
    if (sigsetjmp(trap_jump, 1)) {
      printf(trap_code >= 1000 ? "crash\n" : "trap\n");
      continue;
    }
    kiln_rt_call_export_n(inst, name, len, slots);
    const char *r = strchr(sig, ':') + 1;
    for (int j = 0; r[j]; j++) {
      if (r[j] == 'i') printf("result i32 %08x\n", (uint32_t)slots[j]);
      else if (r[j] == 'l') printf("result i64 %016llx\n", (unsigned long long)slots[j]);
      else if (r[j] == 'f') {
        float f;
        uint32_t b = (uint32_t)slots[j];
        memcpy(&f, &b, 4);
        printf("result f ");
        print_double((double)f);
      } else {
        double d;
        memcpy(&d, &slots[j], 8);
        printf("result f ");
        print_double(d);
      }
    }
  }
  return 0;
}

/* Time mode: calls one export `reps` times and prints the best wall-clock time in ns. */
static int time_export(int argc, char **argv) {
  do_load(argv[2], false);
  fflush(stdout);
  if (!inst) return 2;
  int reps = atoi(argv[4]);
  uint64_t args[64] = {0};
  int nargs = 0;
  for (int k = 5; k < argc && nargs < 64; k++) args[nargs++] = strtoull(argv[k], NULL, 16);
  uint64_t best = UINT64_MAX;
  for (int r = 0; r < reps; r++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    invoke(argv[3], strlen(argv[3]), args, nargs);
    clock_gettime(CLOCK_MONOTONIC, &b);
    uint64_t ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ull + (uint64_t)(b.tv_nsec - a.tv_nsec);
    if (ns < best) best = ns;
  }
  printf("ns %llu\n", (unsigned long long)best);
  return 0;
}

int main(int argc, char **argv) {
  setup();
  /* Compiled code traps with "call stack exhausted" a margin above the end of our stack. */
  struct rlimit rl;
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  uint64_t size = STACK_SIZE;
  if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < size) size = rl.rlim_cur;
  emb.stack_limit = sp - size + STACK_MARGIN + (64u << 10);
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  if (argc == 3 && !strcmp(argv[1], "fuzz")) {
    int rc = fuzz(argv[2]);
    fflush(stdout);
    return rc;
  }
  if (argc >= 5 && !strcmp(argv[1], "time")) {
    int rc = time_export(argc, argv);
    fflush(stdout);
    return rc;
  }
  if (argc >= 4 && !strcmp(argv[1], "run")) {
    int rc = run(argc, argv);
    fflush(stdout);
    return rc;
  }
  if (argc >= 2) {
    fprintf(stderr, "usage: kiln-harness              (script on stdin)\n       kiln-harness run BLOB EXPORT [hex args]\n");
    return 2;
  }
  return script();
}
