/* Monotonic and wall clocks.
 * - pvclock (KVM's kvmclock MSRs, or the Xen shared-info time) when present: exact, no
 *   calibration;
 * - otherwise the TSC, calibrated lazily (on the first clock read) against PIT channel 0,
 *   latched reads, ~5 ms; wall time from the CMOS RTC read once at calibration. */
#include "kbase.h"
#include "devices.h"
#include "xen/xen_platform.h"

struct pvclock {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
} __attribute__((packed));

struct pvclock_wall { uint32_t version, sec, nsec; } __attribute__((packed));

static volatile struct pvclock kvm_clock __attribute__((aligned(64)));
static volatile struct pvclock_wall kvm_wall __attribute__((aligned(16)));
static volatile struct pvclock *pv;
static uint64_t wall_at_zero_ns;	/* wall time when monotonic time was 0 */
static bool ready;
static uint64_t tsc0, tsc_khz, tsc_mul, mono_offset;	/* ns = (ticks * tsc_mul) >> 32 */

static uint64_t pv_read(volatile struct pvclock *c)
{
	uint32_t v;
	uint64_t ns;
	do {
		v = c->version;
		barrier();
		uint64_t d = rdtsc() - c->tsc_timestamp;
		if (c->tsc_shift >= 0) d <<= c->tsc_shift;
		else d >>= -c->tsc_shift;
		ns = c->system_time + (uint64_t)(((unsigned __int128)d * c->tsc_to_system_mul) >> 32);
		barrier();
	} while ((v & 1) || v != c->version);
	return ns;
}

static uint16_t pit_read(void)
{
	outb(0x43, 0x00);	/* latch channel 0 */
	uint8_t lo = inb(0x40), hi = inb(0x40);
	return (uint16_t)(lo | hi << 8);
}

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static uint64_t rtc_unix_seconds(void)
{
	while (cmos(0x0a) & 0x80)	/* update in progress */
		;
	uint8_t s = cmos(0), mi = cmos(2), h = cmos(4), d = cmos(7), mo = cmos(8), y = cmos(9), b = cmos(0x0b);
	if (!(b & 4)) {
#define BCD(x) (((x) & 15) + ((x) >> 4) * 10)
		s = BCD(s), mi = BCD(mi), h = BCD(h & 0x7f) | (h & 0x80), d = BCD(d), mo = BCD(mo), y = BCD(y);
	}
	if (!(b & 2) && (h & 0x80)) h = ((h & 0x7f) + 12) % 24;
	uint64_t year = 2000 + y;
	/* days from 1970-01-01 (civil calendar) */
	static const uint16_t before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	uint64_t days = (year - 1970) * 365 + (year - 1969) / 4 - (year - 1901) / 100 + (year - 1601) / 400;
	days += before[(mo - 1) % 12] + d - 1;
	if (mo > 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) days++;
	return days * 86400 + h * 3600ULL + mi * 60ULL + s;
}

static void calibrate_tsc(void)
{
	outb(0x43, 0x34);	/* channel 0, lo/hi, mode 2, binary */
	outb(0x40, 0);
	outb(0x40, 0);		/* reload 65536 */
	const uint32_t target = 5966;	/* 5 ms of the 1.193182 MHz PIT */
	uint32_t elapsed = 0;
	uint16_t last = pit_read();
	uint64_t t0 = rdtsc();
	/* bounded: without a PIT the counter never moves, and we assume 1 GHz rather than hang */
	for (uint32_t spins = 0; elapsed < target && spins < 50000000; spins++) {
		uint16_t now = pit_read();
		elapsed += (uint16_t)(last - now);
		last = now;
	}
	uint64_t t1 = rdtsc();
	if (elapsed < target) {
		kprintf("kiln: no PIT to calibrate the TSC against; assuming 1 GHz\n");
		tsc_khz = 1000000;
	} else {
		tsc_khz = (t1 - t0) * 1193182ULL / elapsed / 1000;
	}
	if (!tsc_khz) tsc_khz = 1000000;
	tsc_mul = (1000000ULL << 32) / tsc_khz;
}

void clock_init(void)
{
	if (ready) return;
	if (g_boot.xen) {
		pv = (volatile struct pvclock *)xen_pvclock();
		wall_at_zero_ns = xen_wallclock_ns();
	} else if (g_boot.kvm) {
		uint32_t a, b, c, d;
		cpuid(g_boot.hv_base + 1, 0, &a, &b, &c, &d);
		if (a & (1u << 3)) {	/* KVM_FEATURE_CLOCKSOURCE2 */
			wrmsr(0x4b564d01, (uint64_t)&kvm_clock | 1);
			wrmsr(0x4b564d00, (uint64_t)&kvm_wall);
			pv = &kvm_clock;
			uint32_t v;
			do {
				v = kvm_wall.version;
				barrier();
				wall_at_zero_ns = kvm_wall.sec * 1000000000ULL + kvm_wall.nsec;
				barrier();
			} while ((v & 1) || v != kvm_wall.version);
		}
	}
	if (pv) {
		mono_offset = pv_read(pv);
		wall_at_zero_ns += mono_offset;	/* keep wall = wall_at_zero + mono */
	} else {
		calibrate_tsc();
		tsc0 = rdtsc();
		wall_at_zero_ns = rtc_unix_seconds() * 1000000000ULL;
	}
	ready = true;
}

uint64_t clock_mono_ns(void)
{
	if (!ready) clock_init();
	if (pv) return pv_read(pv) - mono_offset;
	uint64_t d = rdtsc() - tsc0;
	return (uint64_t)(((unsigned __int128)d * tsc_mul) >> 32);
}

uint64_t clock_wall_ns(void) { return wall_at_zero_ns + clock_mono_ns(); }
