/* Ending the VM with a status the host can read (ABI.md section 3). */
#include "kbase.h"
#include "xen/xen_platform.h"

void stats_final(void);

_Noreturn void kiln_exit(uint32_t status)
{
	static bool exiting;
	if (!exiting) {
		exiting = true;
		stats_final();
	}
	kprintf("kiln: exit %u\n", status);
	console_flush();
	if (g_boot.xen) xen_shutdown(status == 0 ? 0 : 3);	/* SHUTDOWN_poweroff / SHUTDOWN_crash */
	/* QEMU isa-debug-exit: the process exits with (status << 1) | 1 */
	outl(0xf4, status);
	for (;;) __asm__ volatile("cli; hlt");
}

_Noreturn void panic(const char *msg)
{
	kprintf("kiln: panic: %s\n", msg);
	kiln_exit(KSTATUS_PANIC);
}
