/* Shared declarations of the Kiln kernel base (freestanding). */
#ifndef KBASE_H
#define KBASE_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define KILN_OK 0
#define KILN_AGAIN 1
#define KILN_EINVAL 2
#define KILN_EUNSPEC 3

/* ABI.md section 3 */
#define KSTATUS_TRAP_BASE 64
#define KSTATUS_BAD_IMAGE 94
#define KSTATUS_PANIC 95
#define KSTATUS_EXCEPTION_BASE 96

#define PAGE_SIZE 4096ULL
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* lib.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
int strcmp(const char *a, const char *b);
/* tiny printf: %s %d %u %x %lx %lu %ld %llx %llu %c %p %016lx %%, width for x/u/d with '0' pad */
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool parse_u64(const char *s, size_t len, uint64_t *out);

/* console.c: COM1 under QEMU, the PV console ring under Xen */
void console_init(void);
void console_write(const char *s, size_t n);
void com2_write(const char *s, size_t n);
bool com2_open(void);
void com2_enable_rx_irq(void);
void console_flush(void);

/* exit.c */
_Noreturn void kiln_exit(uint32_t status);
_Noreturn void panic(const char *msg);

/* shutdown.c: the host's request for an orderly end (ABI.md section 4) */
bool shutdown_requested(void);
_Noreturn void shutdown_now(void);

/* trap.c */
void trap_init(void);

/* cpu.h helpers */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint64_t rdmsr(uint32_t msr) { uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return ((uint64_t)hi << 32) | lo; }
static inline void wrmsr(uint32_t msr, uint64_t v) { __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d) {
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline void mmio_w32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t mmio_r32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_w16(uint64_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline uint16_t mmio_r16(uint64_t a) { return *(volatile uint16_t *)a; }
static inline void mmio_w8(uint64_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline uint8_t mmio_r8(uint64_t a) { return *(volatile uint8_t *)a; }
#define barrier() __asm__ volatile("" ::: "memory")
#define mb() __asm__ volatile("mfence" ::: "memory")

/* platform.c: what we booted on */
struct boot_info {
	const char *cmdline;      /* NUL-terminated copy, "" when absent */
	size_t cmdline_len;
	uint64_t rsdp;
	bool xen;                 /* CPUID 0x40000000 says "XenVMMXenVMM" */
	bool kvm;                 /* "KVMKVMKVM" */
	uint32_t hv_base;         /* CPUID leaf of the hypervisor signature */
};
extern struct boot_info g_boot;

/* cmdline.c */
/* Finds key=value in the command line; returns the value's length or -1. */
int cmdline_get(const char *key, const char **value);

#endif
