/* The .kiln_appliance descriptor and running the appliance: the compiled Wasm blob through the
 * runtime when the Kiln linker filled the descriptor, else the native (C) appliance linked into
 * this image (the test appliance), else nothing. */
#include "kbase.h"
#include "appliance.h"
#include "hostcalls.h"
#include "mm.h"
#include "devices.h"
#ifdef KILN_HAVE_RUNTIME
#include "kiln_runtime.h"
#endif

__attribute__((section(".kiln_appliance"), used, aligned(8)))
volatile struct kiln_appliance_desc kiln_appliance = { 0, 0, 0, 0 };

uint64_t appliance_end(void)
{
	if (kiln_appliance.magic != KILN_APPLIANCE_MAGIC) return 0;
	return kiln_appliance.addr + kiln_appliance.size + kiln_appliance.reserved;	/* blob, then config */
}

/* A native appliance (C, linked into the image) defines this; the plain base has none. */
__attribute__((weak)) int kiln_native_main(void);

/* The first stats line (ABI.md section 4), once memory is final, so an idle guest has nothing
 * new to report later. */
static void seal_and_report(void)
{
	mm_seal();
	if (g_n_nics || g_n_blks) stats_maybe_report(true);
}

#ifdef KILN_HAVE_RUNTIME
#include "runtime_glue.h"	/* included once, here: the adapters are static */
#endif

#ifndef KILN_HAVE_RUNTIME
uint64_t appliance_mem_unused(void) { return 0; }
#endif

int appliance_run(void)
{
	if (kiln_appliance.magic == KILN_APPLIANCE_MAGIC) {
#ifdef KILN_HAVE_RUNTIME
		return run_compiled_appliance();
#else
		kprintf("kiln: panic: this base was built without the runtime\n");
		return KSTATUS_BAD_IMAGE;
#endif
	}
	if (kiln_appliance.magic != 0) {
		kprintf("kiln: panic: bad appliance descriptor magic\n");
		return KSTATUS_BAD_IMAGE;
	}
	seal_and_report();
	if (kiln_native_main) {
		int status = kiln_native_main();
		return status < 0 || status > 63 ? 63 : status;	/* ABI.md section 3 */
	}
	kprintf("kiln: no appliance in this image\n");
	return 0;
}
