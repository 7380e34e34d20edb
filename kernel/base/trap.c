/* GDT with a TSS (separate stacks for #DF, #PF and NMI so a blown stack still gets a dump),
 * the IDT, and the exception dump: every CPU exception prints the registers and the faulting
 * address, then exits with status 96 + vector (ABI.md section 3). */
#include "kbase.h"
#include "trap.h"
#include "appliance.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap;
} __attribute__((packed));

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

extern const uint64_t isr_table[48];
static uint64_t gdt[7] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static struct idt_entry idt[48] __attribute__((aligned(16)));
static uint8_t ist_stack[2][8192] __attribute__((aligned(16)));
static irq_handler irq_handlers[16];

static const char *const names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
	"#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor overrun",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection", "reserved", "reserved",
	"reserved", "reserved", "reserved", "reserved", "#HV", "#VC", "#SX security", "reserved",
};

void trap_init(void)
{
	gdt[1] = 0x00af9a000000ffffULL;
	gdt[2] = 0x00cf92000000ffffULL;
	tss.ist[0] = (uint64_t)&ist_stack[0][sizeof ist_stack[0]];
	tss.ist[1] = (uint64_t)&ist_stack[1][sizeof ist_stack[1]];
	tss.iomap = sizeof tss;
	uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) | ((limit >> 16 & 0xf) << 48) |
		 ((base >> 24 & 0xff) << 56);
	gdt[4] = base >> 32;
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gp = { sizeof gdt - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0" ::"m"(gp));
	__asm__ volatile("ltr %w0" ::"r"(0x18));

	for (int v = 0; v < 48; v++) {
		uint64_t h = isr_table[v];
		idt[v].off_lo = (uint16_t)h;
		idt[v].sel = 0x08;
		/* IST1 for #DF and NMI, IST2 for #PF (stack overflow faults land there) */
		idt[v].ist = (v == 8 || v == 2) ? 1 : (v == 14 ? 2 : 0);
		idt[v].type = 0x8e;
		idt[v].off_mid = (uint16_t)(h >> 16);
		idt[v].off_hi = (uint32_t)(h >> 32);
		idt[v].zero = 0;
	}
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) ip = { sizeof idt - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" ::"m"(ip));
}

void irq_set_handler(unsigned vector, irq_handler fn)
{
	if (vector >= 32 && vector < 48) irq_handlers[vector - 32] = fn;
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector >= 32) {
		irq_handler fn = irq_handlers[f->vector - 32];
		if (fn) fn(f->vector);
		return;
	}
	static int depth;
	if (depth++) {
		/* a fault while dumping: give up on the dump, keep the status */
		outl(0xf4, (uint32_t)(KSTATUS_EXCEPTION_BASE + f->vector));
		for (;;) __asm__ volatile("cli; hlt");
	}
	uint64_t cr2, cr3;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	kprintf("kiln: exception %lu %s error=0x%lx\n", f->vector, names[f->vector & 31], f->error);
	kprintf("  rip=%016lx cs=%04lx rflags=%016lx rsp=%016lx ss=%04lx\n", f->rip, f->cs, f->rflags, f->rsp, f->ss);
	kprintf("  fault address (cr2)=%016lx cr3=%016lx\n", cr2, cr3);
	uint64_t app = kiln_appliance.addr, app_size = kiln_appliance.size;
	if (kiln_appliance.magic == KILN_APPLIANCE_MAGIC && f->rip >= app && f->rip < app + app_size)
		kprintf("  in the appliance blob at offset 0x%lx\n", f->rip - app);
	kprintf("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	kprintf("  rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
	kprintf("  r9 =%016lx r10=%016lx r11=%016lx r12=%016lx\n", f->r9, f->r10, f->r11, f->r12);
	kprintf("  r13=%016lx r14=%016lx r15=%016lx\n", f->r13, f->r14, f->r15);
	if (f->vector == 14)
		kprintf("  page fault: %s %s%s\n", f->error & 1 ? "protection violation" : "page not present",
			f->error & 16 ? "on instruction fetch" : (f->error & 2 ? "on write" : "on read"),
			f->error & 8 ? " (reserved bit)" : "");
	kiln_exit((uint32_t)(KSTATUS_EXCEPTION_BASE + (f->vector & 31)));
}
