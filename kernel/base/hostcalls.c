/* ABI.md section 1: every call validates handles, lengths and pointers and answers EINVAL
 * instead of crashing. */
#include "kbase.h"
#include "hostcalls.h"
#include "devices.h"
#include "mm.h"
#ifdef KILN_HAVE_RUNTIME
#include "kiln_runtime.h"
#endif

static uint8_t *native_base;
static uint64_t native_size;
static void *instance;
static const uint8_t *config_data;
static uint64_t config_len;

void hc_set_native_memory(uint8_t *base, uint64_t size) { native_base = base, native_size = size; }
void hc_set_instance(void *inst) { instance = inst; }
void hc_set_config(const uint8_t *data, uint64_t len) { config_data = data, config_len = len; }

uint8_t *mem_at(uint64_t off, uint64_t len)
{
#ifdef KILN_HAVE_RUNTIME
	if (instance) return kiln_rt_mem((kiln_instance *)instance, off, len);
#endif
	if (!native_base || off > native_size || len > native_size - off) return NULL;
	return native_base + off;
}

int32_t hc_console_write(uint32_t ptr, uint32_t len)
{
	const uint8_t *p = mem_at(ptr, len);
	if (!p) return KILN_EINVAL;
	console_write((const char *)p, len);
	return KILN_OK;
}

int64_t hc_clock_monotonic(void) { return (int64_t)clock_mono_ns(); }
int64_t hc_clock_wall(void) { return (int64_t)clock_wall_ns(); }

/* Frames sent since the last yield reach the device here (devices_flush); receive interrupts are
 * only on while this sleeps: a running appliance polls at every yield anyway. */
int64_t hc_yield(int64_t deadline)
{
	devices_flush();
	if (shutdown_requested()) shutdown_now();
	stats_maybe_report(false);
	uint64_t ready = devices_ready();
	if (ready) return (int64_t)ready;
	for (;;) {
		uint64_t now = clock_mono_ns();
		if (deadline <= 0 || (uint64_t)deadline <= now) return (int64_t)devices_ready();
		uint64_t until = (uint64_t)deadline, due = stats_next_due_ns();
		if (due && due < until) until = due;
		devices_irq_enable(true);
		/* a frame that arrived before the interrupt was on raised none: look once more */
		ready = devices_ready();
		if (!ready) timer_sleep_until(until);
		devices_irq_enable(false);
		if (shutdown_requested()) shutdown_now();
		stats_maybe_report(false);
		if (!ready) ready = devices_ready();
		if (ready) return (int64_t)ready;
	}
}

int32_t hc_net_count(void) { return g_n_nics; }

int32_t hc_net_info(int32_t h, uint32_t out)
{
	uint8_t *p = mem_at(out, 12);
	if (h < 0 || h >= g_n_nics || !p) return KILN_EINVAL;
	memcpy(p, g_nics[h].mac, 6);
	p[6] = p[7] = 0;
	uint32_t mtu = g_nics[h].mtu;
	memcpy(p + 8, &mtu, 4);
	return KILN_OK;
}

int32_t hc_net_read(int32_t h, uint32_t buf, uint32_t size, uint32_t len_out)
{
	if (h < 0 || h >= g_n_nics) return KILN_EINVAL;
	struct nic *n = &g_nics[h];
	uint8_t *b = mem_at(buf, size), *lo = mem_at(len_out, 4);
	if (!b || !lo || size < n->mtu + 14) return KILN_EINVAL;
	uint32_t len = 0;
	int r = n->recv(n->dev, b, size, &len);
	if (r != KILN_OK) return r;
	memcpy(lo, &len, 4);
	n->stats.rx_bytes += len;
	n->stats.rx_packets++;
	return KILN_OK;
}

int32_t hc_net_write(int32_t h, uint32_t buf, uint32_t len)
{
	if (h < 0 || h >= g_n_nics) return KILN_EINVAL;
	struct nic *n = &g_nics[h];
	const uint8_t *b = mem_at(buf, len);
	if (!b || len < 14 || len > n->mtu + 14) return KILN_EINVAL;
	int r = n->send(n->dev, b, len);
	if (r == KILN_OK) {
		n->stats.tx_bytes += len;
		n->stats.tx_packets++;
	} else {
		n->stats.tx_drops++;
	}
	return r;
}

int32_t hc_block_count(void) { return g_n_blks; }

int32_t hc_block_info(int32_t h, uint32_t out)
{
	uint8_t *p = mem_at(out, 16);
	if (h < 0 || h >= g_n_blks || !p) return KILN_EINVAL;
	memcpy(p, &g_blks[h].capacity, 8);
	memcpy(p + 8, &g_blks[h].block_size, 8);
	return KILN_OK;
}

static int32_t block_io(int32_t h, bool write, int64_t offset, uint32_t buf, uint32_t len)
{
	if (h < 0 || h >= g_n_blks) return KILN_EINVAL;
	struct blk *b = &g_blks[h];
	uint8_t *p = mem_at(buf, len);
	if (!p || offset < 0 || (uint64_t)offset % b->block_size || len % b->block_size ||
	    (uint64_t)offset > b->capacity || len > b->capacity - (uint64_t)offset)
		return KILN_EINVAL;
	if (len == 0) return KILN_OK;
	int r = b->io(b->dev, write, (uint64_t)offset, p, len);
	if (r != KILN_OK) {
		b->stats.errors++;
		return r;
	}
	if (write) b->stats.wr_bytes += len, b->stats.wr_ops++;
	else b->stats.rd_bytes += len, b->stats.rd_ops++;
	return KILN_OK;
}

int32_t hc_block_read(int32_t h, int64_t offset, uint32_t buf, uint32_t len) { return block_io(h, false, offset, buf, len); }
int32_t hc_block_write(int32_t h, int64_t offset, uint32_t buf, uint32_t len) { return block_io(h, true, offset, buf, len); }

static int32_t copy_out(const uint8_t *src, uint64_t srclen, uint32_t buf, uint32_t size)
{
	uint64_t n = srclen < size ? srclen : size;
	uint8_t *p = mem_at(buf, n);
	if (!p) return -KILN_EINVAL;
	memcpy(p, src, n);
	return (int32_t)srclen;
}

int32_t hc_args_get(uint32_t buf, uint32_t size) { return copy_out((const uint8_t *)g_boot.cmdline, g_boot.cmdline_len, buf, size); }
int32_t hc_config_get(uint32_t buf, uint32_t size) { return copy_out(config_data, config_len, buf, size); }

static uint64_t rng_state;

static bool rdrand64(uint64_t *v)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 30))) return false;
	for (int i = 0; i < 10; i++) {
		uint8_t ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok) return true;
	}
	return false;
}

int32_t hc_random_get(uint32_t buf, uint32_t len)
{
	uint8_t *p = mem_at(buf, len);
	if (!p) return KILN_EINVAL;
	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t v;
		if (!rdrand64(&v)) {
			/* splitmix64 seeded from the TSC: not cryptographic, documented in ABI.md */
			if (!rng_state) rng_state = rdtsc() ^ 0x9e3779b97f4a7c15ULL;
			uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			v = z ^ (z >> 31);
		}
		uint32_t n = len - i < 8 ? len - i : 8;
		memcpy(p + i, &v, n);
	}
	return KILN_OK;
}

_Noreturn void hc_exit(int32_t status)
{
	devices_flush();
	kiln_exit(status < 0 || status > 63 ? 63 : (uint32_t)status);
}

/* prints an AssemblyScript string (UTF-16LE, byte length in the u32 before it), ASCII only */
static void print_as_string(uint32_t ptr)
{
	uint8_t *lenp = ptr >= 4 ? mem_at(ptr - 4, 4) : NULL;
	if (!ptr || !lenp) {
		console_write("?", 1);
		return;
	}
	uint32_t bytes;
	memcpy(&bytes, lenp, 4);
	if (bytes > 4096) bytes = 4096;
	uint8_t *s = mem_at(ptr, bytes);
	if (!s) {
		console_write("?", 1);
		return;
	}
	for (uint32_t i = 0; i + 1 < bytes; i += 2) {
		char c = s[i + 1] || s[i] >= 0x7f ? '?' : (char)s[i];
		console_write(&c, 1);
	}
}

_Noreturn void hc_abort(uint32_t msg, uint32_t file, uint32_t line, uint32_t col)
{
	console_write("abort: ", 7);
	print_as_string(msg);
	console_write(" at ", 4);
	print_as_string(file);
	kprintf(":%u:%u\n", line, col);
	/* abort is a trap (ABI.md section 3): 64 + the abort trap code of section 5 */
#ifdef KILN_TRAP_ABORT
	kiln_exit(KSTATUS_TRAP_BASE + KILN_TRAP_ABORT);
#else
	kiln_exit(KSTATUS_TRAP_BASE + 9);	/* KILN_TRAP_ABORT of ABI.md section 5 */
#endif
}
