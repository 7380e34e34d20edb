/* The C test appliance: linked into kiln-test.elf, it drives every call of ABI.md section 1
 * exactly as a compiled appliance would (offsets into a linear memory), and injects faults.
 * Its behaviour is chosen on the command line: test=<name> [more key=value]. */
#include "../kbase.h"
#include "../hostcalls.h"
#include "../devices.h"
#include "../mm.h"

#define MEM_SIZE (1024 * 1024)
static uint8_t mem[MEM_SIZE] __attribute__((aligned(4096)));

/* scratch offsets inside mem */
#define OFF_STR 0x1000
#define OFF_OUT 0x2000
#define OFF_FRAME 0x4000
#define OFF_LEN 0x3ff0
#define OFF_BLK 0x10000

static void say(const char *s)
{
	size_t n = strlen(s);
	memcpy(mem + OFF_STR, s, n);
	hc_console_write(OFF_STR, (uint32_t)n);
}

static uint64_t arg_u64(const char *key, uint64_t def)
{
	const char *v;
	int n = cmdline_get(key, &v);
	uint64_t out;
	return n > 0 && parse_u64(v, (size_t)n, &out) ? out : def;
}

static bool test_is(const char *name)
{
	const char *v;
	int n = cmdline_get("test", &v);
	return n == (int)strlen(name) && strncmp(v, name, (size_t)n) == 0;
}

static int t_args(void)
{
	int32_t full = hc_args_get(OFF_OUT, 4096);
	mem[OFF_OUT + (full < 4096 ? full : 4095)] = 0;
	kprintf("args: %d [%s]\n", full, (char *)mem + OFF_OUT);
	int32_t part = hc_args_get(OFF_OUT, 4);
	kprintf("args: truncated %d\n", part);
	kprintf("args: bad pointer %d\n", hc_args_get(MEM_SIZE - 2, 100));
	return 0;
}

static int t_clock(void)
{
	int64_t prev = hc_clock_monotonic(), backwards = 0;
	for (int i = 0; i < 200000; i++) {
		int64_t t = hc_clock_monotonic();
		if (t < prev) backwards++;
		prev = t;
	}
	int64_t wall = hc_clock_wall();
	kprintf("clock: backwards %ld\n", backwards);
	kprintf("clock: wall %ld\n", wall / 1000000000);
	uint64_t ms = arg_u64("sleep_ms", 100);
	int64_t t0 = hc_clock_monotonic();
	hc_yield(t0 + (int64_t)ms * 1000000);
	int64_t t1 = hc_clock_monotonic();
	kprintf("clock: slept %ld us for %lu ms\n", (t1 - t0) / 1000, ms);
	int64_t w1 = hc_clock_wall();
	kprintf("clock: wall advanced %ld us\n", (w1 - wall) / 1000);
	return 0;
}

/* every call with arguments that must be refused, and with good ones */
static int t_calls(void)
{
	int bad = 0;
#define EXPECT(expr, want)                                                        \
	do {                                                                      \
		int64_t got_ = (expr);                                            \
		if (got_ != (want)) kprintf("calls: FAIL %s = %ld, want %ld\n", #expr, got_, (int64_t)(want)), bad++; \
	} while (0)
	EXPECT(hc_console_write(MEM_SIZE - 1, 2), KILN_EINVAL);
	EXPECT(hc_console_write(0xfffffff0u, 0x20), KILN_EINVAL);
	EXPECT(hc_console_write(OFF_STR, 0), KILN_OK);
	EXPECT(hc_net_info(-1, OFF_OUT), KILN_EINVAL);
	EXPECT(hc_net_info(g_n_nics, OFF_OUT), KILN_EINVAL);
	EXPECT(hc_net_read(0, OFF_FRAME, 10, OFF_LEN), KILN_EINVAL);
	EXPECT(hc_net_read(99, OFF_FRAME, 2000, OFF_LEN), KILN_EINVAL);
	EXPECT(hc_net_write(99, OFF_FRAME, 60), KILN_EINVAL);
	EXPECT(hc_block_info(-5, OFF_OUT), KILN_EINVAL);
	EXPECT(hc_block_read(99, 0, OFF_BLK, 512), KILN_EINVAL);
	EXPECT(hc_block_write(99, 0, OFF_BLK, 512), KILN_EINVAL);
	EXPECT(hc_random_get(MEM_SIZE - 4, 8), KILN_EINVAL);
	EXPECT(hc_random_get(OFF_OUT, 32), KILN_OK);
	EXPECT(hc_args_get(MEM_SIZE + 10, 4), -KILN_EINVAL);
	EXPECT(hc_config_get(OFF_OUT, 16), 0);
	if (g_n_nics > 0) {
		EXPECT(hc_net_info(0, MEM_SIZE - 4), KILN_EINVAL);
		EXPECT(hc_net_read(0, MEM_SIZE - 100, 2000, OFF_LEN), KILN_EINVAL);
		EXPECT(hc_net_write(0, OFF_FRAME, 5), KILN_EINVAL);
		EXPECT(hc_net_write(0, OFF_FRAME, 70000), KILN_EINVAL);
	}
	if (g_n_blks > 0) {
		EXPECT(hc_block_read(0, 1, OFF_BLK, 512), KILN_EINVAL);
		EXPECT(hc_block_read(0, 0, OFF_BLK, 100), KILN_EINVAL);
		EXPECT(hc_block_read(0, -512, OFF_BLK, 512), KILN_EINVAL);
		EXPECT(hc_block_read(0, (int64_t)g_blks[0].capacity, OFF_BLK, 512), KILN_EINVAL);
		EXPECT(hc_block_read(0, 0, MEM_SIZE - 256, 512), KILN_EINVAL);
	}
	/* random bytes are not all zero */
	uint64_t r;
	memcpy(&r, mem + OFF_OUT, 8);
	if (!r) kprintf("calls: FAIL random is zero\n"), bad++;
	kprintf("calls: %s (%d failures)\n", bad ? "FAIL" : "ok", bad);
	return bad ? 1 : 0;
}

static void print_mac(int h)
{
	hc_net_info(h, OFF_OUT);
	uint8_t *m = mem + OFF_OUT;
	uint32_t mtu;
	memcpy(&mtu, m + 8, 4);
	kprintf("net: nic %d mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u\n", h, m[0], m[1], m[2], m[3], m[4], m[5], mtu);
}

/* Echoes every frame back on the NIC it came from (MACs swapped) until a frame of ethertype
 * 0x88b5 whose payload starts with "quit"; prints per-NIC counts. */
static int t_net_echo(bool echo)
{
	int n = hc_net_count();
	kprintf("net: %d nics\n", n);
	for (int h = 0; h < n; h++) print_mac(h);
	uint64_t got[MAX_NICS] = { 0 };
	kprintf("kiln: ready\n");
	for (;;) {
		int64_t ready = hc_yield(hc_clock_monotonic() + 5000000000LL);
		for (int h = 0; h < n; h++) {
			if (!(ready >> h & 1)) continue;
			for (;;) {
				int r = hc_net_read(h, OFF_FRAME, 2048, OFF_LEN);
				if (r == KILN_AGAIN) break;
				if (r != KILN_OK) return 3;
				uint32_t len;
				memcpy(&len, mem + OFF_LEN, 4);
				uint8_t *f = mem + OFF_FRAME;
				got[h]++;
				if (len >= 18 && f[12] == 0x88 && f[13] == 0xb5 && memcmp(f + 14, "quit", 4) == 0) {
					for (int k = 0; k < n; k++) kprintf("net: nic %d received %lu\n", k, got[k]);
					return 0;
				}
				if (!echo) continue;
				uint8_t tmp[6];
				memcpy(tmp, f, 6), memcpy(f, f + 6, 6), memcpy(f + 6, tmp, 6);
				while (hc_net_write(h, OFF_FRAME, len) == KILN_AGAIN) hc_yield(hc_clock_monotonic() + 1000000);
			}
		}
	}
}

static int t_blk(void)
{
	int n = hc_block_count();
	kprintf("blk: %d devices\n", n);
	if (n < 1) return 1;
	hc_block_info(0, OFF_OUT);
	uint64_t cap, bs;
	memcpy(&cap, mem + OFF_OUT, 8), memcpy(&bs, mem + OFF_OUT + 8, 8);
	kprintf("blk: capacity %lu block %lu\n", cap, bs);
	/* read what the host wrote at sector 0, then write a pattern at sector 8 and read it back */
	if (hc_block_read(0, 0, OFF_BLK, 512) != KILN_OK) return 2;
	mem[OFF_BLK + 32] = 0;
	kprintf("blk: sector0 [%s]\n", (char *)mem + OFF_BLK);
	const uint32_t len = 16384;
	for (uint32_t i = 0; i < len; i++) mem[OFF_BLK + i] = (uint8_t)(i * 7 + 3);
	if (hc_block_write(0, 4096, OFF_BLK, len) != KILN_OK) return 3;
	memset(mem + OFF_BLK, 0, len);
	if (hc_block_read(0, 4096, OFF_BLK, len) != KILN_OK) return 4;
	for (uint32_t i = 0; i < len; i++)
		if (mem[OFF_BLK + i] != (uint8_t)(i * 7 + 3)) return 5;
	memcpy(mem + OFF_BLK, "kiln wrote this", 16);
	if (hc_block_write(0, (int64_t)cap - 512, OFF_BLK, 512) != KILN_OK) return 6;
	kprintf("blk: ok\n");
	return 0;
}

static int t_mem(void)
{
	uint64_t used0 = mm_used_bytes();
	void *a = page_alloc(16), *b = page_alloc(1);
	if (!a || !b || a == b) return 1;
	memset(a, 0x5a, 16 * PAGE_SIZE);
	uint64_t used1 = mm_used_bytes();
	page_free(a, 16);
	void *c = page_alloc(16);
	kprintf("mem: total %lu used %lu after-alloc %lu reuse %s\n", mm_total_bytes(), used0, used1, c == a ? "yes" : "no");
	return used1 - used0 == 17 * PAGE_SIZE ? 0 : 2;
}

__attribute__((noinline)) static int recurse(int n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	if (n < 0) return 0;	/* never: keeps the compiler from calling it infinite */
	return recurse(n + 1) + pad[0];
}

/* an event loop with nothing to do: sleeps an hour at a time until the host asks it to end */
static int t_idle(void)
{
	say("kiln: ready\n");
	while (hc_yield(hc_clock_monotonic() + 3600LL * 1000000000LL) >= 0)
		;
	return 1;	/* yield never answers a negative set */
}

static uint8_t data_code[16] = { 0xc3 };	/* ret, in a writable (so non-executable) page */

int kiln_native_main(void)
{
	hc_set_native_memory(mem, MEM_SIZE);
	if (test_is("exit")) return (int)arg_u64("status", 0);
	if (test_is("args")) return t_args();
	if (test_is("clock")) return t_clock();
	if (test_is("idle")) return t_idle();
	if (test_is("calls")) return t_calls();
	if (test_is("mem")) return t_mem();
	if (test_is("net-echo")) return t_net_echo(true);
	if (test_is("net-sink")) return t_net_echo(false);
	if (test_is("blk")) return t_blk();
	if (test_is("fault-null")) {
		volatile uintptr_t null_ish = 8;	/* hidden from the compiler's bounds checks */
		return *(volatile int *)null_ish;
	}
	if (test_is("fault-div")) {
		volatile int zero = 0;
		return 10 / zero;
	}
	if (test_is("fault-ud")) __asm__ volatile("ud2");
	if (test_is("seal-write-code")) {
		kprintf("seal: writing to code at %p\n", (void *)kiln_native_main);
		*(volatile uint8_t *)(void *)kiln_native_main = 0xcc;
		return 0;
	}
	if (test_is("seal-exec-data")) {
		kprintf("seal: jumping into data at %p\n", (void *)data_code);
		((void (*)(void))(void *)data_code)();
		return 0;
	}
	if (test_is("seal-write-rodata")) {
		static const char ro[] = "constant";
		*(volatile char *)ro = 'X';
		return 0;
	}
	if (test_is("seal-write-pagetable")) {
		uint64_t cr3;
		__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
		kprintf("seal: writing to the page tables at %p\n", (void *)cr3);
		*(volatile uint64_t *)cr3 = 0;
		return 0;
	}
	if (test_is("stack-overflow")) return recurse(0);
	if (test_is("abort")) {
		/* AssemblyScript strings: u32 byte length, then UTF-16LE */
		const char *m = "boom";
		uint32_t l = 8;
		memcpy(mem + 0x5000 - 4, &l, 4);
		for (int i = 0; i < 4; i++) mem[0x5000 + 2 * i] = (uint8_t)m[i], mem[0x5000 + 2 * i + 1] = 0;
		hc_abort(0x5000, 0x5000, 12, 5);
	}
	say("hello from kiln\n");
	return 0;
}
