/* Sleeping: the local APIC timer in one-shot mode wakes `hlt` at the deadline; device
 * interrupts arrive through the IOAPIC (virtio-mmio) or MSI-X (virtio-pci) and wake it too.
 * Interrupts are enabled only inside timer_sleep_until, so handlers never run in the middle of
 * the appliance or the base. */
#include "kbase.h"
#include "devices.h"
#include "mm.h"
#include "trap.h"

#define LAPIC 0xfee00000ULL
#define IOAPIC 0xfec00000ULL
#define VEC_TIMER 32
#define VEC_SPURIOUS 0xff

static bool lapic_on;
static uint64_t lapic_per_ms;	/* timer ticks per millisecond at divide-by-1 */
static struct { void (*fn)(void *); void *arg; } vec_fn[16];
static unsigned next_vec = 33;

static void lapic_w(uint32_t reg, uint32_t v) { mmio_w32(LAPIC + reg, v); }
static uint32_t lapic_r(uint32_t reg) { return mmio_r32(LAPIC + reg); }
void lapic_eoi(void) { lapic_w(0xb0, 0); }

static void on_vector(uint64_t vector)
{
	unsigned i = (unsigned)vector - 32;
	if (i < 16 && vec_fn[i].fn) vec_fn[i].fn(vec_fn[i].arg);
	lapic_eoi();
}

unsigned irq_alloc_vector(void (*fn)(void *), void *arg)
{
	if (next_vec >= 48) panic("out of interrupt vectors");
	unsigned v = next_vec++;
	vec_fn[v - 32].fn = fn, vec_fn[v - 32].arg = arg;
	irq_set_handler(v, on_vector);
	return v;
}

void ioapic_route_at(uint64_t ioapic, unsigned pin, unsigned vector, bool level)
{
	uint32_t lo = vector | (level ? (1u << 15) : 0);	/* fixed, physical, active high */
	mmio_w32(ioapic, 0x10 + 2 * pin + 1);
	mmio_w32(ioapic + 0x10, 0);	/* destination APIC 0 */
	mmio_w32(ioapic, 0x10 + 2 * pin);
	mmio_w32(ioapic + 0x10, lo);
}

void timer_init(void)
{
	if (lapic_on) return;
	uint64_t base = rdmsr(0x1b);
	wrmsr(0x1b, (base & ~0xfffULL & 0xfffff000ULL) | LAPIC | (1 << 11));	/* xAPIC enabled */
	mm_map_mmio(LAPIC, PAGE_SIZE);
	lapic_w(0xf0, 0x100 | VEC_SPURIOUS);	/* software enable */
	lapic_w(0x3e0, 0xb);			/* divide by 1 */
	irq_set_handler(VEC_TIMER, on_vector);
	/* calibrate the APIC timer against the monotonic clock (2 ms) */
	lapic_w(0x320, VEC_TIMER | (1 << 16));	/* masked, one-shot */
	lapic_w(0x380, 0xffffffff);
	uint64_t t0 = clock_mono_ns();
	while (clock_mono_ns() - t0 < 2000000)
		;
	uint32_t left = lapic_r(0x390);
	uint64_t t1 = clock_mono_ns();
	lapic_w(0x380, 0);
	lapic_per_ms = (uint64_t)(0xffffffffu - left) * 1000000ULL / (t1 - t0);
	if (!lapic_per_ms) lapic_per_ms = 1;
	lapic_on = true;
}

void timer_sleep_until(uint64_t deadline_ns)
{
	timer_init();
	uint64_t now = clock_mono_ns();
	if (deadline_ns <= now) return;
	uint64_t ticks = (deadline_ns - now) / 1000 * lapic_per_ms / 1000 + 1;
	if (ticks > 0xffffffffULL) ticks = 0xffffffffULL;	/* wake early; the caller loops */
	lapic_w(0x320, VEC_TIMER);	/* one-shot, unmasked */
	lapic_w(0x380, (uint32_t)ticks);
	/* sti's one-instruction shadow: no interrupt can slip in between sti and hlt */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	lapic_w(0x380, 0);
}
