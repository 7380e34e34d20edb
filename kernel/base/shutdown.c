/* Shutdown requests (ABI.md section 4): under QEMU the host writes the line `kiln-shutdown` on
 * the stats channel (COM2, received by interrupt, so an idle guest sleeps until it arrives);
 * under Xen `xl shutdown` writes control/shutdown in xenstore, which the base watches. The base
 * acts at the appliance's next `yield`, the point where the appliance is waiting anyway: it says
 * so on the console and ends with status 0. */
#include "kbase.h"
#include "devices.h"
#include "xen/xen_platform.h"

#define COM2 0x2f8
#define COM2_ISA_IRQ 3
#define REQUEST "kiln-shutdown"

static bool opened;
static volatile bool requested;
static char line[32];
static size_t line_len;
static bool line_too_long;

/* Bytes arrive one by one; a line is a request only if it is exactly REQUEST. */
static void take(char c)
{
	if (c == '\r') return;
	if (c != '\n') {
		if (line_len < sizeof line) line[line_len++] = c;
		else line_too_long = true;
		return;
	}
	if (!line_too_long && line_len == sizeof REQUEST - 1 && memcmp(line, REQUEST, line_len) == 0) requested = true;
	line_len = 0, line_too_long = false;
}

static void on_com2(void *arg)
{
	(void)arg;
	/* LSR.DR: a byte is waiting; reading RBR lowers the interrupt line. Bounded: a vanished
	 * UART reads all-ones. */
	for (int i = 0; i < 256 && (inb(COM2 + 5) & 1); i++) take((char)inb(COM2));
}

static void open_channel(void)
{
	opened = true;
	if (g_boot.xen) return;	/* xenstore's watch is set up with the Xen devices */
	if (!com2_open()) return;
	timer_init();	/* the local APIC must be on to take the interrupt */
	/* the legacy PIC would deliver IRQ 3 too (with whatever vector base the firmware left):
	 * mask it, the IOAPIC routes ISA IRQ 3 (edge, active high) on microvm, q35 and pc */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	unsigned vec = irq_alloc_vector(on_com2, NULL);
	ioapic_route_at(0xfec00000ULL, COM2_ISA_IRQ, vec, false);
	com2_enable_rx_irq();
	on_com2(NULL);	/* anything that arrived before the route existed */
}

bool shutdown_requested(void)
{
	if (!opened) open_channel();
	if (g_boot.xen) return xen_shutdown_requested();
	return requested;
}

_Noreturn void shutdown_now(void)
{
	kprintf("kiln: shutdown requested\n");
	kiln_exit(0);
}
