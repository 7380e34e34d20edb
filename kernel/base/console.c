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

/* Waits for a line-status bit for at most ~1-2 s of real time (the TSC ticks with host time under
 * KVM and TCG alike). A bound in spins was not enough: on a loaded host QEMU's I/O thread can
 * leave the FIFO full for longer than 100,000 status reads take, and the next byte was lost.
 * A missing UART reads 0xff, which has every status bit set, so it never waits. */
#define UART_WAIT_TICKS 4000000000ULL
static void uart_wait(uint16_t base, uint8_t bit)
{
	uint64_t t0 = rdtsc();
	while (!(inb(base + 5) & bit) && rdtsc() - t0 < UART_WAIT_TICKS)
		;
}

/* With the FIFO on, THRE means the 16-byte FIFO is empty: one status read per 16 bytes instead
 * of one per byte (each port access is a VM exit). */
static void uart_write(uint16_t base, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i % 16 == 0) uart_wait(base, 0x20);
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
	uart_wait(COM1, 0x40);
	if (com2_ready) uart_wait(COM2, 0x40);
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
