/* Console: 16550 UART COM1 (0x3f8) under QEMU, the Xen PV console ring under Xen.
 * COM2 (0x2f8) carries the stats channel (ABI.md section 4). */
#include "kbase.h"
#include "xen/xen_platform.h"

#define COM1 0x3f8
#define COM2 0x2f8

static bool com2_ready;

static void uart_init(uint16_t base)
{
	outb(base + 1, 0x00);	/* no interrupts */
	outb(base + 3, 0x80);	/* DLAB */
	outb(base + 0, 0x01);	/* 115200 baud */
	outb(base + 1, 0x00);
	outb(base + 3, 0x03);	/* 8N1 */
	outb(base + 2, 0xc7);	/* FIFO on, cleared */
}

/* With the FIFO on, THRE means the 16-byte FIFO is empty: one status read per 16 bytes instead
 * of one per byte (each port access is a VM exit). Bounded so a missing UART cannot hang us. */
static void uart_write(uint16_t base, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i % 16 == 0)
			for (int spin = 0; spin < 100000 && !(inb(base + 5) & 0x20); spin++)
				;
		outb(base, (uint8_t)s[i]);
	}
}

void console_init(void)
{
	if (!g_boot.xen) uart_init(COM1);
}

void console_write(const char *s, size_t n)
{
	if (g_boot.xen && xen_console_ready()) {
		xen_console_write(s, n);
		return;
	}
	uart_write(COM1, s, n);
}

/* Waits until both UARTs have sent everything (LSR.TEMT): QEMU drains the FIFO at its own
 * pace, and exiting through isa-debug-exit before that would lose the last line. */
void console_flush(void)
{
	if (g_boot.xen) return;
	for (int spin = 0; spin < 1000000 && !(inb(COM1 + 5) & 0x40); spin++)
		;
	if (com2_ready)
		for (int spin = 0; spin < 1000000 && !(inb(COM2 + 5) & 0x40); spin++)
			;
}

void com2_write(const char *s, size_t n)
{
	if (g_boot.xen) return;
	if (!com2_ready) {
		uart_init(COM2);
		com2_ready = true;
	}
	/* A missing COM2 reads 0xff on every port: LSR looks ready, writes go nowhere. */
	uart_write(COM2, s, n);
}

/* True when a UART answers at COM2 (its scratch register keeps what was written), set up. */
bool com2_open(void)
{
	if (g_boot.xen) return false;
	outb(COM2 + 7, 0x5a);
	if (inb(COM2 + 7) != 0x5a) return false;
	if (!com2_ready) {
		uart_init(COM2);
		com2_ready = true;
	}
	return true;
}

/* Interrupt on received data (IER bit 0); OUT2 gates the IRQ line on PC-compatible UARTs. */
void com2_enable_rx_irq(void)
{
	outb(COM2 + 4, 0x0b);	/* DTR, RTS, OUT2 */
	outb(COM2 + 1, 0x01);
}
