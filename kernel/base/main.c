/* kmain: from the PVH start info to the appliance's main. */
#include "kbase.h"
#include "mm.h"
#include "hostcalls.h"
#include "xen/xen_platform.h"

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries, reserved;
};
#define HVM_START_MAGIC 0x336ec578

struct boot_info g_boot;
static char cmdline_copy[2048];

int appliance_run(void);
void devices_init(void);

static void detect_hypervisor(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 31))) return;	/* no hypervisor bit */
	/* Xen sits at 0x40000000, or at 0x40000100 when it also offers Viridian; CPUID is a VM exit,
	 * so only those two leaves are asked */
	for (uint32_t base = 0x40000000; base <= 0x40000100; base += 0x100) {
		char sig[13];
		cpuid(base, 0, &a, &b, &c, &d);
		memcpy(sig, &b, 4), memcpy(sig + 4, &c, 4), memcpy(sig + 8, &d, 4), sig[12] = 0;
		if (strcmp(sig, "XenVMMXenVMM") == 0) {
			g_boot.xen = true;
			g_boot.hv_base = base;
			return;
		}
		if (strcmp(sig, "KVMKVMKVM") == 0 && !g_boot.kvm) {
			g_boot.kvm = true;
			g_boot.hv_base = base;
		}
	}
}

void kmain(const struct hvm_start_info *si)
{
	trap_init();	/* first: any fault from here on gets a dump, never a triple fault */
	detect_hypervisor();
	if (g_boot.xen) xen_platform_init();
	console_init();
	if (!si || si->magic != HVM_START_MAGIC) panic("no PVH start info");

	g_boot.cmdline = "";
	if (si->cmdline_paddr) {
		const char *c = (const char *)si->cmdline_paddr;
		size_t n = 0;
		while (c[n] && n < sizeof cmdline_copy - 1) n++;
		memcpy(cmdline_copy, c, n);
		cmdline_copy[n] = 0;
		g_boot.cmdline = cmdline_copy;
		g_boot.cmdline_len = n;
	}
	g_boot.rsdp = si->rsdp_paddr;
	if (si->version >= 1 && si->memmap_paddr)
		mm_init((const struct mem_region *)si->memmap_paddr, si->memmap_entries);
	else
		panic("PVH start info has no memory map");

	devices_init();
	kiln_exit((uint32_t)appliance_run());
}
