/* Included by appliance.c (once) when the runtime (kernel/runtime) is built in: the kiln.* imports of
 * ABI.md section 1 as kiln_host_fn adapters, and the path that loads, seals and runs the blob. */

/* Every adapter binds the calling instance first: the module's start function calls imports
 * from inside kiln_rt_instantiate, before run_compiled_appliance learns the instance pointer. */
#define BIND(i) hc_set_instance(i)

static void im_console_write(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint32_t)hc_console_write((uint32_t)s[0], (uint32_t)s[1]); }
static void im_clock_monotonic(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint64_t)hc_clock_monotonic(); }
static void im_clock_wall(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint64_t)hc_clock_wall(); }
static void im_yield(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint64_t)hc_yield((int64_t)s[0]); }
static void im_net_count(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint32_t)hc_net_count(); }
static void im_net_info(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint32_t)hc_net_info((int32_t)s[0], (uint32_t)s[1]); }
static void im_net_read(kiln_instance *i, uint64_t *s)
{
	BIND(i);
	s[0] = (uint32_t)hc_net_read((int32_t)s[0], (uint32_t)s[1], (uint32_t)s[2], (uint32_t)s[3]);
}
static void im_net_write(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint32_t)hc_net_write((int32_t)s[0], (uint32_t)s[1], (uint32_t)s[2]); }
static void im_block_count(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint32_t)hc_block_count(); }
static void im_block_info(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint32_t)hc_block_info((int32_t)s[0], (uint32_t)s[1]); }
static void im_block_read(kiln_instance *i, uint64_t *s)
{
	BIND(i);
	s[0] = (uint32_t)hc_block_read((int32_t)s[0], (int64_t)s[1], (uint32_t)s[2], (uint32_t)s[3]);
}
static void im_block_write(kiln_instance *i, uint64_t *s)
{
	BIND(i);
	s[0] = (uint32_t)hc_block_write((int32_t)s[0], (int64_t)s[1], (uint32_t)s[2], (uint32_t)s[3]);
}
static void im_args_get(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint32_t)hc_args_get((uint32_t)s[0], (uint32_t)s[1]); }
static void im_config_get(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint32_t)hc_config_get((uint32_t)s[0], (uint32_t)s[1]); }
static void im_random_get(kiln_instance *i, uint64_t *s) { BIND(i); s[0] = (uint32_t)hc_random_get((uint32_t)s[0], (uint32_t)s[1]); }
static void im_exit(kiln_instance *i, uint64_t *s) { BIND(i); hc_exit((int32_t)s[0]); }
static void im_abort(kiln_instance *i, uint64_t *s) { BIND(i); hc_abort((uint32_t)s[0], (uint32_t)s[1], (uint32_t)s[2], (uint32_t)s[3]); }

static const struct kiln_host_import kiln_imports[] = {
	{ "kiln", "console_write", "ii:i", im_console_write },
	{ "kiln", "clock_monotonic", ":l", im_clock_monotonic },
	{ "kiln", "clock_wall", ":l", im_clock_wall },
	{ "kiln", "yield", "l:l", im_yield },
	{ "kiln", "net_count", ":i", im_net_count },
	{ "kiln", "net_info", "ii:i", im_net_info },
	{ "kiln", "net_read", "iiii:i", im_net_read },
	{ "kiln", "net_write", "iii:i", im_net_write },
	{ "kiln", "block_count", ":i", im_block_count },
	{ "kiln", "block_info", "ii:i", im_block_info },
	{ "kiln", "block_read", "ilii:i", im_block_read },
	{ "kiln", "block_write", "ilii:i", im_block_write },
	{ "kiln", "args_get", "ii:i", im_args_get },
	{ "kiln", "config_get", "ii:i", im_config_get },
	{ "kiln", "random_get", "ii:i", im_random_get },
	{ "kiln", "exit", "i:", im_exit },
	{ "env", "abort", "iiii:", im_abort },
};

static void on_trap(kiln_instance *inst, uint32_t code, uint32_t func_index, uint32_t code_offset)
{
	(void)inst;
	kprintf("kiln: trap %s func %u offset 0x%x\n", kiln_rt_trap_name(code), func_index, code_offset);
	kiln_exit(KSTATUS_TRAP_BASE + (code < 30 ? code : 29));
}

#define APP_STACK_BYTES (1024 * 1024ULL)
#define APP_STACK_RESERVE (64 * 1024ULL)	/* below stack_limit: host calls, traps, dumps */

static kiln_instance *g_inst;
static uint64_t g_mem_reserve;

/* Linear memory is reserved whole, but only what the appliance has grown into is in use. */
uint64_t appliance_mem_unused(void)
{
	if (!g_inst) return 0;
	uint64_t size = kiln_rt_mem_size(g_inst);
	return size < g_mem_reserve ? g_mem_reserve - size : 0;
}
static uint64_t g_main_result;
static int g_call_rc;
static const uint8_t *g_blob;
static uint64_t g_blob_size;
static const struct kiln_embedder *g_embedder;

/* Instantiation runs the module's start function (asc emits one for nearly every program that
 * allocates), so it runs on the appliance stack, whose stack_limit the compiled code checks. */
static void call_instantiate(void)
{
	g_call_rc = kiln_rt_instantiate(g_blob, g_blob_size, g_embedder, &g_inst);
}

static void call_main(void)
{
	uint64_t slots[1] = { 0 };
	g_call_rc = kiln_rt_call_export(g_inst, "main", slots);
	g_main_result = slots[0];
}

/* runs fn on the stack that ends at top */
static void call_on_stack(void (*fn)(void), uint64_t top)
{
	__asm__ volatile("movq %%rsp, %%rbx\n\t"
			 "movq %1, %%rsp\n\t"
			 "call *%0\n\t"
			 "movq %%rbx, %%rsp"
			 :
			 : "r"(fn), "r"(top)
			 : "rbx", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

static int run_compiled_appliance(void)
{
	const uint8_t *blob = (const uint8_t *)kiln_appliance.addr;
	uint64_t size = kiln_appliance.size, code_off = 0, code_len = 0;
	if (size < sizeof(struct kiln_blob_header) || memcmp(blob, KILN_BLOB_MAGIC, 8) != 0) {
		kprintf("kiln: panic: the appliance blob has no %s header\n", KILN_BLOB_MAGIC);
		return KSTATUS_BAD_IMAGE;
	}
	kiln_rt_code_range(blob, &code_off, &code_len);
	if (code_off > size || code_len > size - code_off) {
		kprintf("kiln: panic: the appliance code range is outside the blob\n");
		return KSTATUS_BAD_IMAGE;
	}
	/* the configuration JSON follows the blob (descriptor field config_len) */
	hc_set_config(blob + size, kiln_appliance.reserved);
	mm_set_appliance(kiln_appliance.addr, size + kiln_appliance.reserved, code_off, code_len);

	uint8_t *stack = page_alloc(APP_STACK_BYTES / PAGE_SIZE);
	if (!stack) panic("no memory for the appliance stack");
	mm_guard((uint64_t)stack, PAGE_SIZE);
	uint64_t mem_base, mem_size;
	mm_take_rest(&mem_base, &mem_size);
	g_mem_reserve = mem_size;

	static char err[160];
	struct kiln_embedder e = {
		.mem_region = (uint8_t *)mem_base,
		.mem_reserve = mem_size,
		.stack_limit = (uintptr_t)stack + APP_STACK_RESERVE,
		.imports = kiln_imports,
		.n_imports = ARRAY_LEN(kiln_imports),
		.trap = on_trap,
		.alloc = kalloc,
		.err_msg = err,
		.err_size = sizeof err,
	};
	g_blob = blob, g_blob_size = size, g_embedder = &e;
	call_on_stack(call_instantiate, (uint64_t)stack + APP_STACK_BYTES);
	int r = g_call_rc;
	if (r != KILN_RT_OK) {
		kprintf("kiln: panic: cannot instantiate the appliance (%d): %s\n", r, err);
		return KSTATUS_BAD_IMAGE;
	}
	hc_set_instance(g_inst);
	seal_and_report();
	call_on_stack(call_main, (uint64_t)stack + APP_STACK_BYTES);
	if (g_call_rc == KILN_RT_NO_EXPORT) {
		kprintf("kiln: panic: the appliance exports no main\n");
		return KSTATUS_BAD_IMAGE;
	}
	uint32_t status = (uint32_t)g_main_result;
	return status > 63 ? 63 : (int)status;
}
